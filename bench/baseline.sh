#!/usr/bin/env bash
# bench/baseline.sh [IFACE…]: the B4 baseline of `make bench`: eniroute's job done the way the
# seed articles and the usual shell tools do it: one `curl` per IMDS key (IMDSv2 token first),
# one `ip` process per address, rule and route. It installs the same objects as eniroute
# (table 10000 + 100·card + device, `from <addr> lookup <table>` rules at priority 10001+device,
# subnet and default routes, addresses, the interface group and the suppress_ifgroup rule),
# tagged with protocol 0xee where iproute2 can tag them.
#
# Without arguments it configures every ENI IMDS lists; with IFACE… only those interfaces.
# Like those scripts it does not diff against the kernel: a re-run runs every command again and
# `ip` reports "File exists" (ignored), so its no-op run costs as much as its cold run.
#
# bench/run.sh runs it inside the benchmark's private instance namespace only (ip netns exec),
# where the IMDS simulator answers on 169.254.169.254:80. Never run it in a real namespace.
set -u
IMDS=${IMDS:-http://169.254.169.254}
TABLE_BASE=10000 GROUP=10000
md=$IMDS/latest/meta-data

TOKEN=$(curl -s -f -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" "$IMDS/latest/api/token") || {
    echo "baseline: no IMDS token" >&2
    exit 1
}
get() { curl -s -f -H "X-aws-ec2-metadata-token: $TOKEN" "$md/$1"; }

# shellcheck disable=SC2034  # read like the scripts do (primary ENI), not needed further
primary=$(get mac)
if (($# > 0)); then
    macs=()
    for ifc in "$@"; do macs+=("$(cat "/sys/class/net/$ifc/address")"); done
else
    mapfile -t macs < <(get network/interfaces/macs/ | tr -d /)
fi

# MAC → interface name, the way the scripts do it: scan /sys/class/net.
iface_of() {
    local f
    for f in /sys/class/net/*/address; do
        if [[ $(cat "$f") == "$1" ]]; then
            f=${f%/address}
            echo "${f##*/}"
            return 0
        fi
    done
    return 1
}

ip -4 rule add priority $TABLE_BASE lookup main suppress_ifgroup $GROUP protocol 0xee 2>/dev/null
ip -6 rule add priority $TABLE_BASE lookup main suppress_ifgroup $GROUP protocol 0xee 2>/dev/null

for mac in "${macs[@]}"; do
    ifc=$(iface_of "$mac") || { echo "baseline: no interface with MAC $mac" >&2; continue; }
    p=network/interfaces/macs/$mac
    dev=$(get "$p/device-number")
    card=$(get "$p/network-card" || echo 0)
    table=$((TABLE_BASE + 100 * card + dev))
    prio=$((TABLE_BASE + 1 + 100 * card + dev))
    v4s=$(get "$p/local-ipv4s")
    cidr=$(get "$p/subnet-ipv4-cidr-block")
    v6s=$(get "$p/ipv6s" || true)
    cidr6=$(get "$p/subnet-ipv6-cidr-blocks" || true)
    # shellcheck disable=SC2034
    pfx4=$(get "$p/ipv4-prefix" || true)
    # shellcheck disable=SC2034
    pfx6=$(get "$p/ipv6-prefix" || true)

    plen=${cidr#*/} base=${cidr%/*}
    IFS=. read -r a b c d <<<"$base"
    gw="$a.$b.$c.$((d + 1))"
    first=
    ip link set dev "$ifc" group $GROUP
    for addr in $v4s; do
        [[ -n $first ]] || first=$addr
        ip addr add "$addr/$plen" dev "$ifc" noprefixroute 2>/dev/null
        ip -4 rule add from "$addr" lookup "$table" priority "$prio" protocol 0xee 2>/dev/null
    done
    ip -4 route add "$cidr" dev "$ifc" src "$first" table "$table" proto 0xee 2>/dev/null
    ip -4 route add default via "$gw" dev "$ifc" table "$table" proto 0xee 2>/dev/null
    for addr in $v6s; do
        ip -6 addr add "$addr/128" dev "$ifc" nodad noprefixroute 2>/dev/null
        ip -6 rule add from "$addr" lookup "$table" priority "$prio" protocol 0xee 2>/dev/null
    done
    if [[ -n $cidr6 ]]; then
        for c6 in $cidr6; do ip -6 route add "$c6" dev "$ifc" table "$table" proto 0xee 2>/dev/null; done
        ip -6 route add default via fe80:ec2::1 dev "$ifc" table "$table" proto 0xee 2>/dev/null
    fi
done
exit 0
