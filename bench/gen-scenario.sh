#!/usr/bin/env bash
# bench/gen-scenario.sh SPEC…: prints an IMDS simulator scenario (docs/simulator.md) for the
# benchmark's instance, one ENI per SPEC "V4:V6" (number of IPv4 and IPv6 addresses).
# ENI i (0-based; i = 0 is the primary):
#   MAC 02:00:00:00:XX:0a with XX = i+1 in hex, device-number i, interface-id eni-bench…i,
#   subnet 10.0.(i+1).0/24, IPv4 addresses 10.0.(i+1).10, .11, … (the first is the primary),
#   IPv6 subnet 2001:db8:(i+1)::/64, IPv6 addresses 2001:db8:(i+1)::10, ::11, …
# bench/run.sh creates links with the same MACs and primary addresses (eni_mac / eni_v4 below).
# Example: gen-scenario.sh 1:0 10:2 (B1), gen-scenario.sh $(printf '50:0 %.0s' {1..15}) (B2).
set -euo pipefail

eni_mac() { printf '02:00:00:00:%02x:0a' $(($1 + 1)); }
eni_v4() { printf '10.0.%d.%d' $(($1 + 1)) $((10 + $2)); }
eni_v6() { printf '2001:db8:%d::%d' $(($1 + 1)) $((10 + $2)); }

# Sourced by run.sh for the helpers only.
[[ ${BASH_SOURCE[0]} == "$0" ]] || return 0

(($# > 0)) || { echo "usage: $0 V4:V6 …" >&2; exit 2; }
printf '{\n  "description": "bench/gen-scenario.sh %s",\n' "$*"
printf '  "mac": "%s",\n  "token": {"required": true},\n  "macs": {\n' "$(eni_mac 0)"
i=0
for spec in "$@"; do
    v4=${spec%%:*} v6=${spec#*:}
    ((i == 0)) || printf ',\n'
    printf '    "%s": {\n      "device-number": "%d",\n      "interface-id": "eni-bench%012d",\n' \
        "$(eni_mac "$i")" "$i" "$i"
    printf '      "subnet-ipv4-cidr-block": "10.0.%d.0/24",\n      "local-ipv4s": [' $((i + 1))
    for ((k = 0; k < v4; k++)); do ((k == 0)) || printf ', '; printf '"%s"' "$(eni_v4 "$i" "$k")"; done
    printf ']'
    if ((v6 > 0)); then
        printf ',\n      "subnet-ipv6-cidr-blocks": "2001:db8:%d::/64",\n      "ipv6s": [' $((i + 1))
        for ((k = 0; k < v6; k++)); do ((k == 0)) || printf ', '; printf '"%s"' "$(eni_v6 "$i" "$k")"; done
        printf ']'
    fi
    printf '\n    }'
    i=$((i + 1))
done
printf '\n  }\n}\n'
