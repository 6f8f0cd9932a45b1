#!/bin/bash
# S5: a container on a docker0-like bridge (br0 172.17.0.1/16, container 172.17.0.2) reaches every
# host address, and the host reaches it, after `eniroute apply` installed rules for every ENI
# address, the primary included (the suppress_ifgroup rule keeps bridge replies in main).
# Also run with strict reverse-path filtering on the instance (CIS-hardened images):
# also-with: WORLD_RP_FILTER=1
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

world_up two-subnets
hosts=(10.0.1.10 10.0.2.10 172.17.0.1)

section "before eniroute"
for a in "${hosts[@]}"; do check "container -> $a" can_ping ctr "$a"; done

section "eniroute apply"
check_eniroute "eniroute apply exits 0" apply
check "rules exist for the primary ENI (the case that broke Docker)" \
    rule_present 4 "from 10\.0\.1\.10 lookup $TABLE_BASE "

section "after eniroute"
for a in "${hosts[@]}"; do
    check "container -> $a" can_ping ctr "$a"
    check "container -> $a TCP" can_tcp ctr "$a"
done
check "host -> container" can_ping inst "$CTR4"
for a in 10.0.1.10 10.0.2.10; do check "host (from $a) -> container" can_ping inst "$CTR4" "$a"; done
check "client -> 10.0.2.10 (ENIs still right)" can_ping client 10.0.2.10
check "client -> 10.0.1.10" can_ping client 10.0.1.10
check "br0 is not in the ENI group" bash -c "! ip -n $(ns inst) link show dev br0 | grep -q ' group $ENI_GROUP '"

world_finish
