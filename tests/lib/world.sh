# shellcheck shell=bash
# The emulated VPC test world for eniroute's integration scenarios.
#
# Source this file from a scenario (bash). It builds, inside network namespaces it creates and
# always deletes (EXIT trap), an EC2 instance (`inst`), a VPC router (`vpc`) that enforces the
# source/destination check with an nftables netdev ingress chain per ENI port, a client on another
# network (`client`), a peer host in the primary subnet (`peer`) and a container (`ctr`) on a
# docker0-like bridge inside the instance. Addressing plan: the constants below.
#
# NETWORK SAFETY: nothing here touches the namespace the script was started in (or PID 1's).
# Every configuring function calls `assert_not_root_ns` on each namespace it touches, and every
# command runs as `ip -n NS …` or `ip netns exec NS …`.
#
# Environment: ENIROUTE (default .build/testing/release/eniroute, `make testing`: a build that accepts
# veth links as ENIs), ENIROUTE_IMDS_SIM (default .build/testing/release/eniroute-imds-sim),
# WORLD_KEEP_TMP=1 keeps the temporary directory, WORLD_VERBOSE=1 traces commands,
# WORLD_RP_FILTER=1 gives the instances strict reverse-path filtering (CIS-hardened images)
# instead of Debian's loose default 2.

[[ -n ${_ER_WORLD_LOADED:-} ]] && return 0
_ER_WORLD_LOADED=1

set -u
set -o pipefail

WORLD_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${ENIROUTE:=$WORLD_REPO/.build/testing/release/eniroute}"
: "${ENIROUTE_IMDS_SIM:=$WORLD_REPO/.build/testing/release/eniroute-imds-sim}"
[[ $ENIROUTE == /* ]] || ENIROUTE=$PWD/$ENIROUTE
[[ $ENIROUTE_IMDS_SIM == /* ]] || ENIROUTE_IMDS_SIM=$PWD/$ENIROUTE_IMDS_SIM
SCENARIO_DIR=${SCENARIO_DIR:-$WORLD_REPO/tests/scenarios}
WORLD_RP_FILTER=${WORLD_RP_FILTER:-2}
[[ $WORLD_RP_FILTER =~ ^[012]$ ]] || { echo "world: WORLD_RP_FILTER must be 0, 1 or 2" >&2; exit 2; }

# ---------------------------------------------------------------------------------------------
# Addressing plan (the IMDS documents in tests/scenarios/ use the same addresses)
# ---------------------------------------------------------------------------------------------
ENI_MAC=(02:00:00:00:01:0a 02:00:00:00:02:0a 02:00:00:00:03:0a)
RPORT_MAC=(02:00:00:00:01:01 02:00:00:00:02:01 02:00:00:00:03:01)
declare -A SUBNET4=([A]=10.0.1.0/24 [B]=10.0.2.0/24 [C]=10.0.3.0/24)
declare -A GW4=([A]=10.0.1.1 [B]=10.0.2.1 [C]=10.0.3.1)
declare -A SUBNET6=([A]=2001:db8:1::/64 [B]=2001:db8:2::/64 [C]=2001:db8:3::/64)
GW6=fe80:ec2::1
CLIENT4=198.51.100.10 CLIENT_GW4=198.51.100.1 CLIENT6=2001:db8:100::10 CLIENT_GW6=2001:db8:100::1
PEER4=10.0.1.50 PEER6=2001:db8:1::50 PEER_MAC=02:00:00:00:00:51
BRIDGE4=172.17.0.1 CTR4=172.17.0.2
IMDS4=169.254.169.254
TABLE_BASE=10000 ENI_GROUP=10000
TCP_PORT=7
# iproute2 prints eniroute's protocol as 0xee, or by name once rt_protos.d knows it.
PROTO_RE='proto (0xee|eniroute|238)( |$)'

# World state.
WORLD_SEQ=0
WORLD_PREFIX=''
WORLD_NAMESPACES=()
WORLD_PIDS=()
WORLD_ENIS=()
WORLD_VARIANT=''
declare -A ENI_SUBNET=() ENI_ADDRS=()
CHECKS_OK=0 CHECKS_FAILED=0 WORLD_FAILED_CHECKS=() WORLD_FAILS_AT_CREATE=0
ENIROUTE_RUNS=0 ENIROUTE_RC='' ENIROUTE_OUT=''
WORLD_TMP=''

# The namespaces we must never configure: the one this script started in, and PID 1's if visible
# (in some sandboxes /proc/1/ns is not readable; then the starting namespace is the reference).
WORLD_SELF_NETNS=$(stat -L -c %i /proc/$$/ns/net)
WORLD_INIT_NETNS=$(stat -L -c %i /proc/1/ns/net 2>/dev/null || true)

if [[ ${WORLD_VERBOSE:-0} == 1 ]]; then set -x; fi

# ---------------------------------------------------------------------------------------------
# Output and checks
# ---------------------------------------------------------------------------------------------

# section TITLE: a header for humans.
section() { printf '\n== %s ==\n' "$*"; }

# info TEXT: an indented note.
info() { printf '   %s\n' "$*"; }

# world_abort MESSAGE: fatal error in the world itself (not a check); cleans up via the trap.
world_abort() {
    printf 'FAIL - world: %s\n' "$*" >&2
    exit 1
}

# _check_result OK|FAIL NAME [DETAIL-FILE]
_check_result() {
    if [[ $1 == ok ]]; then
        CHECKS_OK=$((CHECKS_OK + 1))
        printf 'ok   - %s\n' "$2"
    else
        CHECKS_FAILED=$((CHECKS_FAILED + 1))
        WORLD_FAILED_CHECKS+=("$2")
        printf 'FAIL - %s\n' "$2"
        if [[ -n ${3:-} && -s $3 ]]; then tail -n 15 "$3" | sed 's/^/       | /'; fi
    fi
}

# check NAME COMMAND…: the command must succeed.
check() {
    local name=$1 out; shift
    out=$WORLD_TMP/check.out
    if "$@" >"$out" 2>&1; then _check_result ok "$name"; else _check_result FAIL "$name" "$out"; fi
}

# check_not NAME COMMAND…: the command must fail.
check_not() {
    local name=$1 out; shift
    out=$WORLD_TMP/check.out
    if "$@" >"$out" 2>&1; then _check_result FAIL "$name (unexpectedly succeeded)" "$out"; else _check_result ok "$name"; fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
    if [[ $2 == "$3" ]]; then _check_result ok "$1"; else
        printf 'expected: %s\nactual:   %s\n' "$2" "$3" >"$WORLD_TMP/check.out"
        _check_result FAIL "$1" "$WORLD_TMP/check.out"
    fi
}

# check_gt NAME A B: A > B (numbers).
check_gt() {
    if (($2 > $3)); then _check_result ok "$1 ($2 > $3)"; else _check_result FAIL "$1 ($2 is not > $3)"; fi
}

# check_same_file NAME BEFORE AFTER: files identical (prints the diff otherwise).
check_same_file() {
    if diff -u "$2" "$3" >"$WORLD_TMP/check.out" 2>&1; then _check_result ok "$1"; else _check_result FAIL "$1" "$WORLD_TMP/check.out"; fi
}

# world_finish: prints the scenario's summary and exits 0 (all ok) or 1; the trap cleans up.
world_finish() {
    local name
    name=$(basename "$0" .sh)
    if ((CHECKS_FAILED > 0)); then
        if ((${#WORLD_NAMESPACES[@]} > 0 && CHECKS_FAILED > ${WORLD_FAILS_AT_CREATE:-0})); then
            section "state at the end (for diagnosis)"
            world_dump
        fi
        local c
        for c in "${WORLD_FAILED_CHECKS[@]}"; do printf '%s: failed check: %s\n' "$name" "$c"; done
        printf '%s: FAIL (%d ok, %d failed)\n' "$name" "$CHECKS_OK" "$CHECKS_FAILED"
        exit 1
    fi
    if ((CHECKS_OK == 0)); then
        printf '%s: FAIL (no checks ran)\n' "$name"
        exit 1
    fi
    printf '%s: ok (%d checks)\n' "$name" "$CHECKS_OK"
    exit 0
}

# ---------------------------------------------------------------------------------------------
# Namespace safety
# ---------------------------------------------------------------------------------------------

# ns NAME → the full namespace name of a role (inst, vpc, client, peer, ctr).
ns() { printf '%s-%s' "$WORLD_PREFIX" "$1"; }

# assert_not_root_ns FULL-NS-NAME: aborts unless NS exists and is not the starting/root namespace.
assert_not_root_ns() {
    local ino
    [[ -n ${1:-} ]] || world_abort "assert_not_root_ns: no namespace given"
    ino=$(ip netns exec "$1" stat -L -c %i /proc/self/ns/net 2>/dev/null) || world_abort "SAFETY: cannot enter namespace '$1'"
    [[ $ino =~ ^[0-9]+$ ]] || world_abort "SAFETY: no namespace inode for '$1'"
    if [[ $ino == "$WORLD_SELF_NETNS" || $ino == "${WORLD_INIT_NETNS:-none}" ]]; then
        world_abort "SAFETY: namespace '$1' is the root (or starting) network namespace; refusing to configure it"
    fi
}

# nsx ROLE COMMAND…: run a command inside the role's namespace.
nsx() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }

# ns_sysctl ROLE KEY=VALUE…: set sysctls inside a namespace (after the safety assertion).
ns_sysctl() {
    local n; n=$(ns "$1"); shift
    assert_not_root_ns "$n"
    ip netns exec "$n" sysctl -q -w "$@" >/dev/null || world_abort "sysctl $* in $n"
}

# ns_add ROLE: create a namespace for a role, assert it, set its base sysctls, bring lo up.
ns_add() {
    local n; n=$(ns "$1")
    ip netns add "$n" || world_abort "ip netns add $n"
    WORLD_NAMESPACES+=("$n")
    assert_not_root_ns "$n"
    ns_sysctl "$1" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
    ip -n "$n" link set lo up || world_abort "lo up in $n"
}

# ---------------------------------------------------------------------------------------------
# Life cycle
# ---------------------------------------------------------------------------------------------

# world_cleanup: kill our processes, delete our namespaces and temp dir. Idempotent.
world_cleanup() {
    local pid n p
    for pid in "${WORLD_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${WORLD_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    WORLD_PIDS=()
    for n in "${WORLD_NAMESPACES[@]}"; do
        # Anything still running inside a namespace we created is ours (e.g. an eniroute that
        # outlived its timeout): end it by PID before deleting the namespace.
        for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
        ip netns del "$n" 2>/dev/null
    done
    WORLD_NAMESPACES=() WORLD_ENIS=() ENI_SUBNET=() ENI_ADDRS=()
    if [[ -n $WORLD_TMP && ${WORLD_KEEP_TMP:-0} != 1 ]]; then rm -rf "$WORLD_TMP"; fi
}

_world_exit_trap() {
    local rc=$?
    world_cleanup
    if [[ -n ${WORLD_BASE_TMP:-} && ${WORLD_KEEP_TMP:-0} != 1 ]]; then rm -rf "$WORLD_BASE_TMP"; fi
    exit "$rc"
}

# world_init: one-time setup of traps and the temporary directory (called by world_create).
world_init() {
    [[ -n ${WORLD_BASE_TMP:-} ]] && return 0
    [[ $(id -u) == 0 ]] || { echo "FAIL - world: must run as root" >&2; exit 1; }
    local t
    for t in ip nft ping socat timeout stat; do
        command -v "$t" >/dev/null || { echo "FAIL - world: missing tool '$t' (scripts/install-deps.sh)" >&2; exit 1; }
    done
    WORLD_BASE_TMP=$(mktemp -d /tmp/eniroute-world.XXXXXX)
    trap _world_exit_trap EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# world_create: the base world (namespaces, router, client, peer, container bridge, source
# check table). ENIs are added with world_eni. Can be called again after world_destroy.
world_create() {
    world_init
    WORLD_SEQ=$((WORLD_SEQ + 1))
    WORLD_PREFIX="er$$x$WORLD_SEQ"
    WORLD_TMP=$WORLD_BASE_TMP/$WORLD_SEQ
    WORLD_FAILS_AT_CREATE=$CHECKS_FAILED
    mkdir -p "$WORLD_TMP"
    local r
    for r in inst vpc client peer ctr; do ns_add "$r"; done
    local INST VPC CLIENT PEER CTR
    INST=$(ns inst) VPC=$(ns vpc) CLIENT=$(ns client) PEER=$(ns peer) CTR=$(ns ctr)

    # Instance: Debian-like loose reverse-path filter (or WORLD_RP_FILTER); systemd's sysctl.d
    # promotes secondary addresses on new links (only "default", so a scenario can still turn it
    # off per link).
    [[ $WORLD_RP_FILTER == 2 ]] || info "instance rp_filter=$WORLD_RP_FILTER"
    ns_sysctl inst "net.ipv4.conf.all.rp_filter=$WORLD_RP_FILTER" "net.ipv4.conf.default.rp_filter=$WORLD_RP_FILTER" \
        net.ipv4.conf.default.promote_secondaries=1
    # Router: forwarding, no rp_filter (the source check is nftables), immediate proxy ARP.
    ns_sysctl vpc net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
        net.ipv4.conf.default.proxy_arp=0 net.ipv6.conf.all.proxy_ndp=1 net.ipv6.conf.default.proxy_ndp=1

    # Client network.
    assert_not_root_ns "$VPC"; assert_not_root_ns "$CLIENT"
    ip -n "$VPC" link add rc type veth peer name eth0 netns "$CLIENT" || world_abort "veth rc"
    ip -n "$VPC" addr add "$CLIENT_GW4/24" dev rc
    ip -n "$VPC" addr add "$CLIENT_GW6/64" dev rc nodad
    ip -n "$VPC" link set rc up
    ip -n "$CLIENT" addr add "$CLIENT4/24" dev eth0
    ip -n "$CLIENT" addr add "$CLIENT6/64" dev eth0 nodad
    ip -n "$CLIENT" link set eth0 up
    ip -n "$CLIENT" route add default via "$CLIENT_GW4"
    ip -n "$CLIENT" -6 route add default via "$CLIENT_GW6"

    # Source check table (netdev family, one chain per port, added by _srccheck_port).
    assert_not_root_ns "$VPC"
    ip netns exec "$VPC" nft add table netdev srccheck || world_abort "nft table"

    # Peer host in subnet A behind router port rp (proxy ARP / proxy NDP answer for the subnet).
    assert_not_root_ns "$PEER"
    ip -n "$VPC" link add rp type veth peer name eth0 address "$PEER_MAC" netns "$PEER" || world_abort "veth rp"
    _router_port_common rp A
    ip -n "$PEER" addr add "$PEER4/24" dev eth0
    ip -n "$PEER" addr add "$PEER6/64" dev eth0 nodad
    ip -n "$PEER" link set eth0 up
    ip -n "$PEER" route add default via "${GW4[A]}"
    ip -n "$PEER" -6 route add default via "$GW6" dev eth0
    ENI_SUBNET[p]=A
    ENI_ADDRS[p]=
    vpc_allow p "$PEER4"
    vpc_allow p "$PEER6"

    # docker0-like bridge in the instance with a container.
    assert_not_root_ns "$INST"; assert_not_root_ns "$CTR"
    ip -n "$INST" link add br0 type bridge || world_abort "bridge"
    ip -n "$INST" addr add "$BRIDGE4/16" dev br0
    ip -n "$INST" link set br0 up
    ip -n "$INST" link add vctr type veth peer name eth0 netns "$CTR" || world_abort "veth vctr"
    ip -n "$INST" link set vctr master br0
    ip -n "$INST" link set vctr up
    ip -n "$CTR" addr add "$CTR4/16" dev eth0
    ip -n "$CTR" link set eth0 up
    ip -n "$CTR" route add default via "$BRIDGE4"
}

# world_destroy: tear the current world down (a scenario may then world_create another); shows
# the world's state first if a check failed in it.
world_destroy() {
    if ((CHECKS_FAILED > ${WORLD_FAILS_AT_CREATE:-0})); then
        section "state of this world (a check failed)"
        world_dump
    fi
    world_cleanup
}

# _router_port_common PORT SUBNET: gateway addresses, proxy ARP, source check chain.
_router_port_common() {
    local port=$1 subnet=$2 VPC; VPC=$(ns vpc)
    assert_not_root_ns "$VPC"
    ip -n "$VPC" addr add "${GW4[$subnet]}/32" dev "$port" || world_abort "gateway on $port"
    ip -n "$VPC" addr add "$GW6/64" dev "$port" nodad || world_abort "fe80:ec2::1 on $port"
    # ARP/NDP retransmits every 100 ms instead of 1 s: the VPC knows at once where an address is,
    # and with 1 s a resolution that began before eniroute added the address would add up to 1 s
    # of the router's own to what the scenarios measure (S13 saw 2.04 s for a 1.9 s change).
    ns_sysctl vpc "net.ipv4.conf.$port.proxy_arp=1" "net.ipv4.neigh.$port.proxy_delay=0" \
        "net.ipv4.conf.$port.rp_filter=0" "net.ipv6.conf.$port.proxy_ndp=1" "net.ipv6.neigh.$port.proxy_delay=0" \
        "net.ipv4.neigh.$port.retrans_time_ms=100" "net.ipv6.neigh.$port.retrans_time_ms=100"
    _srccheck_port "$port"
    ip -n "$VPC" link set "$port" up || world_abort "$port up"
}

# _srccheck_port PORT: the VPC source/destination check on one router port: packets entering
# from the ENI whose source is not one of its addresses (set PORT_v4 / PORT_v6) are counted and
# dropped. Link-local and unspecified IPv6 sources (neighbour discovery) and ARP pass.
_srccheck_port() {
    local p=$1 VPC; VPC=$(ns vpc)
    assert_not_root_ns "$VPC"
    ip netns exec "$VPC" nft -f - <<EOF || world_abort "nft source check for $p"
add set netdev srccheck ${p}_v4 { type ipv4_addr; flags interval; }
add set netdev srccheck ${p}_v6 { type ipv6_addr; flags interval; }
add counter netdev srccheck ${p}_drop4
add counter netdev srccheck ${p}_drop6
add chain netdev srccheck in_${p} { type filter hook ingress device "${p}" priority 0; policy accept; }
add rule netdev srccheck in_${p} meta protocol ip ip saddr != @${p}_v4 counter name "${p}_drop4" drop
add rule netdev srccheck in_${p} meta protocol ip6 ip6 saddr != @${p}_v6 ip6 saddr != { fe80::/10, :: } counter name "${p}_drop6" drop
EOF
}

# _port IDX → router port name (r0, r1, …; "p" → rp).
_port() { if [[ $1 == p ]]; then echo rp; else echo "r$1"; fi; }

# vpc_allow IDX ADDR: the VPC assigns ADDR to ENI IDX: source check allows it, the router routes
# it (/32, /128) to the ENI's port, and same-subnet IPv6 neighbours get proxy NDP entries.
vpc_allow() {
    local idx=$1 addr=$2 port VPC i; VPC=$(ns vpc); port=$(_port "$idx")
    assert_not_root_ns "$VPC"
    if [[ $addr == *:* ]]; then
        ip netns exec "$VPC" nft add element netdev srccheck "${port}_v6" "{ $addr }" || world_abort "allow $addr on $port"
        ip -n "$VPC" -6 route replace "$addr/128" dev "$port" || world_abort "route $addr"
        # Proxy NDP: answer for ADDR on every other port of the same subnet, and for their
        # addresses on this port.
        for i in "${!ENI_SUBNET[@]}"; do
            [[ $i == "$idx" || ${ENI_SUBNET[$i]} != "${ENI_SUBNET[$idx]}" ]] && continue
            ip -n "$VPC" -6 neigh replace proxy "$addr" dev "$(_port "$i")"
            local a
            for a in ${ENI_ADDRS[$i]}; do
                [[ $a == *:* ]] && ip -n "$VPC" -6 neigh replace proxy "$a" dev "$port"
            done
        done
    else
        ip netns exec "$VPC" nft add element netdev srccheck "${port}_v4" "{ $addr }" || world_abort "allow $addr on $port"
        ip -n "$VPC" route replace "$addr/32" dev "$port" || world_abort "route $addr"
    fi
    ENI_ADDRS[$idx]="${ENI_ADDRS[$idx]:-} $addr"
}

# vpc_disallow IDX ADDR: the VPC unassigns ADDR from ENI IDX (source check and route).
vpc_disallow() {
    local idx=$1 addr=$2 port VPC; VPC=$(ns vpc); port=$(_port "$idx")
    assert_not_root_ns "$VPC"
    if [[ $addr == *:* ]]; then
        ip netns exec "$VPC" nft delete element netdev srccheck "${port}_v6" "{ $addr }"
        ip -n "$VPC" -6 route del "$addr/128" dev "$port"
    else
        ip netns exec "$VPC" nft delete element netdev srccheck "${port}_v4" "{ $addr }"
        ip -n "$VPC" route del "$addr/32" dev "$port"
    fi
    local a kept=
    for a in ${ENI_ADDRS[$idx]}; do [[ $a == "$addr" ]] || kept+=" $a"; done
    ENI_ADDRS[$idx]=$kept
}

# world_eni IDX SUBNET ADDR…: attach ENI IDX (ethIDX in inst ↔ rIDX in vpc) in SUBNET (A, B, C)
# with the addresses the VPC assigned to it (IPv4 and IPv6; the first IPv4 is the primary).
# The instance side is only created and set up: no addresses (see inst_distro_*).
world_eni() {
    local idx=$1 subnet=$2; shift 2
    local INST VPC port=r$idx dev=eth$idx a
    INST=$(ns inst) VPC=$(ns vpc)
    assert_not_root_ns "$INST"; assert_not_root_ns "$VPC"
    ip -n "$INST" link add "$dev" address "${ENI_MAC[$idx]}" type veth \
        peer name "$port" address "${RPORT_MAC[$idx]}" netns "$VPC" || world_abort "veth $dev/$port"
    WORLD_ENIS+=("$idx")
    ENI_SUBNET[$idx]=$subnet
    ENI_ADDRS[$idx]=
    _router_port_common "$port" "$subnet"
    for a in "$@"; do vpc_allow "$idx" "$a"; done
    # Proxy NDP for the peer when this ENI is in the peer's subnet.
    if [[ $subnet == "${ENI_SUBNET[p]}" ]]; then
        ip -n "$VPC" -6 neigh replace proxy "$PEER6" dev "$port"
        for a in "$@"; do [[ $a == *:* ]] && ip -n "$VPC" -6 neigh replace proxy "$a" dev rp; done
    fi
    ns_sysctl inst "net.ipv4.conf.$dev.rp_filter=$WORLD_RP_FILTER"
    ip -n "$INST" link set "$dev" up || world_abort "$dev up"
}

# world_eni_detach IDX: the ENI is detached (the link disappears from the instance).
world_eni_detach() {
    local INST; INST=$(ns inst)
    assert_not_root_ns "$INST"
    ip -n "$INST" link del "eth$1" || world_abort "detach eth$1"
}

# inst_distro IDX ADDR [default]: what DHCP/RA would configure: the address with its subnet's
# prefix length (kernel prefix route in main), and with "default" the default route in main.
inst_distro() {
    local idx=$1 addr=$2 INST subnet; INST=$(ns inst); subnet=${ENI_SUBNET[$idx]}
    assert_not_root_ns "$INST"
    if [[ $addr == *:* ]]; then
        ip -n "$INST" addr add "$addr/${SUBNET6[$subnet]#*/}" dev "eth$idx" nodad || world_abort "addr $addr"
        [[ ${3:-} == default ]] && { ip -n "$INST" -6 route add default via "$GW6" dev "eth$idx" || world_abort "default6"; }
    else
        ip -n "$INST" addr add "$addr/${SUBNET4[$subnet]#*/}" dev "eth$idx" || world_abort "addr $addr"
        [[ ${3:-} == default ]] && { ip -n "$INST" route add default via "${GW4[$subnet]}" dev "eth$idx" || world_abort "default4"; }
    fi
    return 0
}

# world_build VARIANT: a complete world. Variants (world.md): two-subnets, same-subnet,
# secondary-ipv4s, dual-stack, three-enis.
world_build() {
    world_create
    WORLD_VARIANT=$1
    case $1 in
    two-subnets | three-enis)
        world_eni 0 A 10.0.1.10
        world_eni 1 B 10.0.2.10
        inst_distro 0 10.0.1.10 default
        inst_distro 1 10.0.2.10
        if [[ $1 == three-enis ]]; then
            world_eni 2 C 10.0.3.10
            inst_distro 2 10.0.3.10
        fi
        ;;
    same-subnet)
        world_eni 0 A 10.0.1.10
        world_eni 1 A 10.0.1.20
        inst_distro 0 10.0.1.10 default
        inst_distro 1 10.0.1.20
        ;;
    secondary-ipv4s)
        world_eni 0 A 10.0.1.10
        world_eni 1 B 10.0.2.10 10.0.2.11 10.0.2.12 10.0.2.13
        inst_distro 0 10.0.1.10 default
        inst_distro 1 10.0.2.10
        ;;
    dual-stack)
        world_eni 0 A 10.0.1.10 2001:db8:1::10
        world_eni 1 B 10.0.2.10 2001:db8:2::10 2001:db8:2::11
        inst_distro 0 10.0.1.10 default
        inst_distro 0 2001:db8:1::10 default
        inst_distro 1 10.0.2.10
        inst_distro 1 2001:db8:2::10
        ;;
    *) world_abort "unknown world variant '$1'" ;;
    esac
}

# eni_addrs IDX [4|6]: the VPC-assigned addresses of an ENI (optionally one family).
eni_addrs() {
    local a
    for a in ${ENI_ADDRS[$1]}; do
        case ${2:-} in
        4) [[ $a == *:* ]] || echo "$a" ;;
        6) [[ $a == *:* ]] && echo "$a" ;;
        *) echo "$a" ;;
        esac
    done
    return 0
}

# ---------------------------------------------------------------------------------------------
# Background processes with a ready line
# ---------------------------------------------------------------------------------------------

# bg_start NAME PATTERN TIMEOUT COMMAND…: start COMMAND in the background with stdout+stderr into
# a FIFO, read lines (bounded by TIMEOUT seconds in total) until one contains PATTERN, then keep
# draining the rest into $WORLD_TMP/NAME.log. Sets BG_PID. Returns 1 if the line never came.
bg_start() {
    local name=$1 pattern=$2 timeout=$3; shift 3
    local fifo=$WORLD_TMP/$name.fifo log=$WORLD_TMP/$name.log fd line ready=0 deadline left
    rm -f "$fifo"; mkfifo "$fifo"
    "$@" >"$fifo" 2>&1 &
    BG_PID=$!
    WORLD_PIDS+=("$BG_PID")
    exec {fd}<"$fifo"
    deadline=$((SECONDS + timeout))
    while left=$((deadline - SECONDS)); ((left > 0)); do
        IFS= read -r -t "$left" -u "$fd" line || break
        printf '%s\n' "$line" >>"$log"
        if [[ $line == *"$pattern"* ]]; then ready=1; break; fi
    done
    cat <&"$fd" >>"$log" &
    WORLD_PIDS+=("$!")
    exec {fd}<&-
    ((ready == 1))
}

# ---------------------------------------------------------------------------------------------
# IMDS simulator, eniroute
# ---------------------------------------------------------------------------------------------

# scenario_file VARIANT → path of the scenario JSON (tests/scenarios/VARIANT.json, or one generated
# from the world's state in the assumed format if the IMDS helper has not written it).
scenario_file() {
    local f=$SCENARIO_DIR/$1.json
    if [[ -f $f ]]; then echo "$f"; return 0; fi
    f=$WORLD_TMP/$1.json
    _scenario_json >"$f"
    echo "$f"
}

# _scenario_json: the world's ENIs as scenario JSON (fallback format).
_scenario_json() {
    local idx first=1 a v4 v6 s
    printf '{\n  "mac": "%s",\n  "macs": {\n' "${ENI_MAC[0]}"
    for idx in "${WORLD_ENIS[@]}"; do
        s=${ENI_SUBNET[$idx]}
        v4=$(eni_addrs "$idx" 4 | sed 's/.*/"&"/' | paste -sd, -)
        v6=$(eni_addrs "$idx" 6 | sed 's/.*/"&"/' | paste -sd, -)
        ((first)) || printf ',\n'
        first=0
        printf '    "%s": {"device-number": "%s", "interface-id": "eni-%017d", "mac": "%s",\n' \
            "${ENI_MAC[$idx]}" "$idx" "$idx" "${ENI_MAC[$idx]}"
        printf '      "local-ipv4s": [%s], "subnet-ipv4-cidr-block": "%s"' "$v4" "${SUBNET4[$s]}"
        [[ -n $v6 ]] && printf ',\n      "ipv6s": [%s], "subnet-ipv6-cidr-blocks": ["%s"]' "$v6" "${SUBNET6[$s]}"
        printf '}'
    done
    printf '\n  }\n}\n'
}

# imds_start [SCENARIO-FILE]: the simulator inside inst on 169.254.169.254:80 (on inst's lo),
# waiting for its "listening on" line. Default scenario: the world's variant.
imds_start() {
    local file=${1:-} INST; INST=$(ns inst)
    [[ -n $file ]] || file=$(scenario_file "$WORLD_VARIANT")
    if [[ ${WORLD_FAKE_ENIROUTE:-0} == 1 ]]; then info "(fake mode: no IMDS simulator)"; return 0; fi
    [[ -x $ENIROUTE_IMDS_SIM ]] || world_abort "IMDS simulator not built: $ENIROUTE_IMDS_SIM (set ENIROUTE_IMDS_SIM)"
    assert_not_root_ns "$INST"
    ip -n "$INST" addr add "$IMDS4/32" dev lo 2>/dev/null
    info "IMDS simulator: scenario $file"
    if ! bg_start imds "listening on" 10 ip netns exec "$INST" "$ENIROUTE_IMDS_SIM" \
        --scenario "$file" --listen "$IMDS4:80" --ready-file "$WORLD_TMP/imds.ready" --verbose; then
        sed 's/^/       | /' "$WORLD_TMP/imds.log" >&2
        world_abort "IMDS simulator did not report 'listening on' within 10 s"
    fi
    IMDS_PID=$BG_PID
}

# imds_control METHOD PATH [BODY]: a control request to the simulator (/_sim/…), from inside inst
# over bash's /dev/tcp (bounded by 5 s). Prints the body; fails unless the answer is 200.
imds_control() { imds_control_on inst "$@"; }

# imds_stop: stop the simulator.
imds_stop() {
    [[ -n ${IMDS_PID:-} ]] || return 0
    kill "$IMDS_PID" 2>/dev/null; wait "$IMDS_PID" 2>/dev/null
    IMDS_PID=
}

# eniroute ARGS…: run eniroute inside inst against the simulator (bounded by 60 s), with the
# configuration file's text in $WORLD_ENIROUTE_CONF (default: empty, every default). Its output
# is shown indented and kept in $ENIROUTE_OUT; the exit code in $ENIROUTE_RC (also returned).
eniroute() {
    local INST; INST=$(ns inst)
    assert_not_root_ns "$INST"
    ENIROUTE_RUNS=$((ENIROUTE_RUNS + 1))
    ENIROUTE_OUT=$WORLD_TMP/eniroute.$ENIROUTE_RUNS.log
    if [[ ${WORLD_FAKE_ENIROUTE:-0} == 1 ]]; then
        # World development only: the hand-written reference instead of eniroute ("apply" only).
        printf '   $ [FAKE: manual_policy_routing] eniroute %s\n' "$*"
        ENIROUTE_RC=0
        if [[ $1 == apply ]]; then
            if rule_present 4 "^$TABLE_BASE:" >/dev/null; then echo "apply: no change (fake)" >"$ENIROUTE_OUT"
            else manual_policy_routing "" >"$ENIROUTE_OUT" 2>&1 || ENIROUTE_RC=1; fi
        else
            echo "fake eniroute: '$1' not emulated" >"$ENIROUTE_OUT"; ENIROUTE_RC=1
        fi
        return "$ENIROUTE_RC"
    fi
    [[ -x $ENIROUTE ]] || world_abort "eniroute not built: $ENIROUTE (set ENIROUTE)"
    printf '%s\n' "${WORLD_ENIROUTE_CONF:-}" >"$WORLD_TMP/eniroute.conf"
    printf '   $ eniroute %s\n' "$*"
    ip netns exec "$INST" env ENIROUTE_LOCK="$WORLD_TMP/eniroute.lock" timeout 60 "$ENIROUTE" "$@" --imds-endpoint "http://$IMDS4" \
        --config "$WORLD_TMP/eniroute.conf" >"$ENIROUTE_OUT" 2>&1
    ENIROUTE_RC=$?
    sed 's/^/   | /' "$ENIROUTE_OUT"
    info "(exit $ENIROUTE_RC)"
    return "$ENIROUTE_RC"
}

# check_eniroute NAME ARGS…: run eniroute and check it exits 0.
check_eniroute() {
    local name=$1; shift
    eniroute "$@"
    if [[ $ENIROUTE_RC == 0 ]]; then _check_result ok "$name"; else
        printf 'exit code %s\n' "$ENIROUTE_RC" >"$WORLD_TMP/check.out"
        _check_result FAIL "$name (exit $ENIROUTE_RC)"
    fi
}

# ---------------------------------------------------------------------------------------------
# Probes (used with check / check_not)
# ---------------------------------------------------------------------------------------------

# can_ping ROLE ADDR [SRC]: one echo request, one second to answer.
can_ping() {
    local fam=-4 src=()
    [[ $2 == *:* ]] && fam=-6
    [[ -n ${3:-} ]] && src=(-I "$3")
    nsx "$1" ping "$fam" -c 1 -W 1 -n "${src[@]}" "$2"
}

# ipv6_expand ADDR → 8 groups of 4 hex digits (to compare IPv6 addresses as numbers).
ipv6_expand() {
    local a=${1%%/*} head tail i n g out=()
    local -a h=() t=()
    if [[ $a == *::* ]]; then head=${a%%::*} tail=${a#*::}; else head=$a tail=; fi
    [[ -n $head ]] && IFS=: read -ra h <<<"$head"
    [[ -n $tail ]] && IFS=: read -ra t <<<"$tail"
    n=$((8 - ${#h[@]} - ${#t[@]}))
    for g in "${h[@]}"; do out+=("$(printf '%04x' "0x$g")"); done
    for ((i = 0; i < n; i++)); do out+=(0000); done
    for g in "${t[@]}"; do out+=("$(printf '%04x' "0x$g")"); done
    (IFS=:; echo "${out[*]}")
}

# tcp_start: TCP listeners in inst on port 7 (IPv4 and IPv6, all addresses) that answer each
# connection with the local address it arrived at.
tcp_start() {
    local INST; INST=$(ns inst)
    assert_not_root_ns "$INST"
    # shellcheck disable=SC2016
    bg_start tcp4 "listening on" 5 ip netns exec "$INST" socat -d -d "TCP4-LISTEN:$TCP_PORT,reuseaddr,fork" \
        SYSTEM:'echo "$SOCAT_SOCKADDR"' || world_abort "TCP4 listener did not start"
    # shellcheck disable=SC2016
    bg_start tcp6 "listening on" 5 ip netns exec "$INST" socat -d -d "TCP6-LISTEN:$TCP_PORT,ipv6only=1,reuseaddr,fork" \
        SYSTEM:'echo "$SOCAT_SOCKADDR"' || world_abort "TCP6 listener did not start"
}

# world_up VARIANT: the world VARIANT (world_build) with its IMDS simulator and the TCP listeners
# running: where a reachability scenario starts.
world_up() {
    world_build "$1"
    imds_start
    tcp_start
}

# can_tcp ROLE ADDR: connect to ADDR:7 from ROLE; the listener must answer with ADDR.
can_tcp() {
    local got want target
    if [[ $2 == *:* ]]; then target="TCP6:[$2]:$TCP_PORT"; want="[$(ipv6_expand "$2")]"; else target="TCP4:$2:$TCP_PORT"; want=$2; fi
    got=$(nsx "$1" timeout 3 socat -T 2 - "$target,connect-timeout=2" </dev/null) || { echo "connect to $2 failed"; return 1; }
    [[ $got == "$want" ]] || { echo "answered '$got', wanted '$want'"; return 1; }
}

# neigh_is ROLE DEV ADDR MAC: ROLE has a resolved neighbour entry ADDR → MAC on DEV.
neigh_is() { nsx "$1" ip neigh show dev "$2" to "$3" | grep -Ei -- "lladdr $4 .*(REACHABLE|STALE|DELAY|PROBE)"; }

# neigh_failed ROLE DEV ADDR: ROLE's neighbour entry for ADDR on DEV is FAILED (nobody answered).
neigh_failed() { nsx "$1" ip neigh show dev "$2" to "$3" | grep -q -- ' FAILED'; }

# srccheck_drops PORT 4|6 → packets dropped so far by the router's source check on PORT.
srccheck_drops() {
    nsx vpc nft list counter netdev srccheck "${1}_drop$2" | awk '$1 == "packets" { print $2; exit }'
}

# rpfilter_drops [ROLE] → IPv4 packets the instance (default inst) dropped so far by its
# reverse-path filter (TcpExt IPReversePathFilter in the namespace's /proc/net/netstat).
rpfilter_drops() {
    nsx "${1:-inst}" cat /proc/net/netstat | awk '
        $1 == "TcpExt:" && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
        $1 == "TcpExt:" && h { print $col["IPReversePathFilter"]; exit }'
}

# misroute_drops PORT → packets lost so far because the instance answers a request to an ENI
# address through the wrong ENI: the router's IPv4 source check on PORT (Debian's loose
# rp_filter), or, with WORLD_RP_FILTER=1, the instance itself, whose strict reverse-path filter
# drops the request before any reply.
misroute_drops() {
    if [[ $WORLD_RP_FILTER == 1 ]]; then rpfilter_drops inst; else srccheck_drops "$1" 4; fi
}

# rule_present 4|6 REGEX: an `ip rule` line in inst matches REGEX (extended).
rule_present() { nsx inst ip "-$1" rule show | grep -E -- "$2"; }

# route_present 4|6 TABLE REGEX: a route in inst's TABLE matches REGEX.
route_present() { nsx inst ip "-$1" route show table "$2" | grep -E -- "$3"; }

# addr_present DEV REGEX: an address line of DEV in inst matches REGEX.
addr_present() { nsx inst ip addr show dev "$1" | grep -E -- "$2"; }

# link_group_is DEV GROUP: DEV in inst is in interface group GROUP.
link_group_is() { nsx inst ip link show dev "$1" | grep -E -- " group $2( |$)"; }

# no_rule_matches 4|6 REGEX: no rule line in inst matches REGEX.
no_rule_matches() { ! rule_present "$1" "$2"; }

# table_has_no_eniroute_routes TABLE: no eniroute-owned route (either family) in TABLE.
table_has_no_eniroute_routes() {
    ! { nsx inst ip -4 route show table "$1"; nsx inst ip -6 route show table "$1"; } 2>/dev/null | grep -E -- "$PROTO_RE"
}

# check_suppress_rules: the `lookup main suppress_ifgroup 10000` rule at priority 10000, both families.
check_suppress_rules() {
    local f
    for f in 4 6; do
        check "IPv$f rule $TABLE_BASE: from all lookup main suppress_ifgroup $ENI_GROUP" \
            rule_present "$f" "^$TABLE_BASE:[[:space:]]+from all lookup main suppress_ifgroup $ENI_GROUP .*$PROTO_RE"
    done
}

# check_eni_objects IDX: eniroute's rules, routes and interface group for ENI IDX, as designed:
# table 10000+IDX, rules `from <addr> lookup <table>` at priority 10001+IDX for every address,
# subnet route with src = primary address, default via the subnet's .1 (IPv6: on-link subnet and
# default via fe80:ec2::1), device in interface group 10000.
check_eni_objects() {
    local idx=$1 t p dev s p4 a f
    t=$((TABLE_BASE + idx)) p=$((TABLE_BASE + 1 + idx)) dev=eth$idx s=${ENI_SUBNET[$idx]}
    p4=$(eni_addrs "$idx" 4 | head -n 1)
    for a in $(eni_addrs "$idx"); do
        f=4; [[ $a == *:* ]] && f=6
        check "rule $p: from $a lookup $t" rule_present "$f" "^$p:[[:space:]]+from $a lookup $t .*$PROTO_RE"
    done
    check "table $t: ${SUBNET4[$s]} dev $dev scope link src $p4" \
        route_present 4 "$t" "^${SUBNET4[$s]} dev $dev .*$PROTO_RE.*scope link .*src $p4( |$)"
    check "table $t: default via ${GW4[$s]} dev $dev" route_present 4 "$t" "^default via ${GW4[$s]} dev $dev .*$PROTO_RE"
    if [[ -n $(eni_addrs "$idx" 6) ]]; then
        check "table $t: ${SUBNET6[$s]} dev $dev (IPv6)" route_present 6 "$t" "^${SUBNET6[$s]} dev $dev .*$PROTO_RE"
        check "table $t: default via $GW6 dev $dev (IPv6)" route_present 6 "$t" "^default via $GW6 dev $dev .*$PROTO_RE"
    fi
    check "$dev in interface group $ENI_GROUP" link_group_is "$dev" "$ENI_GROUP"
}

# snapshot FILE: rules, routes (all tables) and addresses of inst, for before/after comparison.
snapshot() {
    {
        echo "# ip -4 rule"; nsx inst ip -4 rule show
        echo "# ip -6 rule"; nsx inst ip -6 rule show
        echo "# ip -4 route table all"; nsx inst ip -4 route show table all
        echo "# ip -6 route table all"; nsx inst ip -6 route show table all
        echo "# ip addr"; nsx inst ip addr show | grep -v 'valid_lft'
        echo "# ip link groups"; nsx inst ip -d link show | grep -oE '^[0-9]+: [^:]+|group [^ ]+' | paste -sd' ' -
    } >"$1"
}

# snapshot_main FILE: the main table of inst, both families.
snapshot_main() {
    { nsx inst ip -4 route show table main; nsx inst ip -6 route show table main; } >"$1"
}

# world_dump: the instance's routing state and the router's drop counters.
world_dump() {
    [[ -n $WORLD_PREFIX ]] && ip netns exec "$(ns inst)" true 2>/dev/null || return 0
    echo "--- inst: ip -br addr"; nsx inst ip -br addr show | sed 's/^/    /'
    echo "--- inst: ip rule / ip -6 rule"; { nsx inst ip -4 rule show; nsx inst ip -6 rule show; } | sed 's/^/    /'
    echo "--- inst: routes (all tables but local)"
    { nsx inst ip -4 route show table all; nsx inst ip -6 route show table all; } | grep -v '^local \|table local\|^multicast\|^anycast' | sed 's/^/    /'
    echo "--- vpc: source check drops"
    local p
    for p in rp $(for i in "${WORLD_ENIS[@]}"; do echo "r$i"; done); do
        printf '    %s: v4 %s, v6 %s\n' "$p" "$(srccheck_drops "$p" 4)" "$(srccheck_drops "$p" 6)"
    done
    if [[ -s $WORLD_TMP/imds.log ]]; then echo "--- IMDS simulator log (tail)"; tail -n 5 "$WORLD_TMP/imds.log" | sed 's/^/    /'; fi
}

# ---------------------------------------------------------------------------------------------
# Hand-written policy routing equal to what eniroute should install (world self-test only)
# ---------------------------------------------------------------------------------------------

# manual_policy_routing [--no-suppress] [--no-primary]: for every ENI of the world: table
# 10000+idx with the subnet route (src = primary) and default route, rules from each address at
# priority 10001+idx, missing addresses (noprefixroute, /128 nodad), ENIs in group 10000, and
# (unless --no-suppress) `from all lookup main suppress_ifgroup 10000` at priority 10000.
manual_policy_routing() {
    local suppress=1 primary=1 INST idx t prio dev s p4 a
    for a in "$@"; do
        case $a in --no-suppress) suppress=0 ;; --no-primary) primary=0 ;; esac
    done
    INST=$(ns inst)
    assert_not_root_ns "$INST"
    if ((suppress)); then
        ip -n "$INST" -4 rule add priority "$TABLE_BASE" lookup main suppress_ifgroup "$ENI_GROUP" protocol 0xee
        ip -n "$INST" -6 rule add priority "$TABLE_BASE" lookup main suppress_ifgroup "$ENI_GROUP" protocol 0xee
    fi
    for idx in "${WORLD_ENIS[@]}"; do
        ((primary == 0 && idx == 0)) && continue
        t=$((TABLE_BASE + idx)) prio=$((TABLE_BASE + 1 + idx)) dev=eth$idx s=${ENI_SUBNET[$idx]}
        p4=$(eni_addrs "$idx" 4 | head -n 1)
        ip -n "$INST" link set "$dev" group "$ENI_GROUP"
        for a in $(eni_addrs "$idx"); do
            if [[ $a == *:* ]]; then
                addr_present "$dev" " $a/" >/dev/null || ip -n "$INST" -6 addr add "$a/128" dev "$dev" nodad noprefixroute
                ip -n "$INST" -6 rule add priority "$prio" from "$a" lookup "$t" protocol 0xee
            else
                addr_present "$dev" " $a/" >/dev/null || ip -n "$INST" addr add "$a/${SUBNET4[$s]#*/}" dev "$dev" noprefixroute
                ip -n "$INST" -4 rule add priority "$prio" from "$a" lookup "$t" protocol 0xee
            fi
        done
        ip -n "$INST" -4 route add "${SUBNET4[$s]}" dev "$dev" scope link src "$p4" table "$t" proto 0xee
        ip -n "$INST" -4 route add default via "${GW4[$s]}" dev "$dev" table "$t" proto 0xee
        if [[ -n $(eni_addrs "$idx" 6) ]]; then
            ip -n "$INST" -6 route add "${SUBNET6[$s]}" dev "$dev" table "$t" proto 0xee
            ip -n "$INST" -6 route add default via "$GW6" dev "$dev" table "$t" proto 0xee
        fi
    done
}

# ---------------------------------------------------------------------------------------------
# eniroute watch, a second instance, timing (issue 3: the watcher scenarios s11–s17)
# ---------------------------------------------------------------------------------------------
# A second instance namespace (role `instb`, or any name) has its own IMDS simulator on
# 169.254.169.254:80 and its own ENIs; ENI indexes are global (3 and 4 are free for it), so an
# ENI can move between instances keeping its MAC and its router port rIDX.

ENI_MAC+=(02:00:00:00:04:0a 02:00:00:00:05:0a)
RPORT_MAC+=(02:00:00:00:04:01 02:00:00:00:05:01)
declare -A WATCH_PID=() IMDS_PID_ON=()
WAITED=''

# world_add_instance ROLE: another EC2 instance namespace, set up like inst (loose rp_filter,
# promote_secondaries, IMDS address on lo). ENIs: world_eni_on ROLE ….
world_add_instance() {
    local role=$1
    ns_add "$role"
    ns_sysctl "$role" "net.ipv4.conf.all.rp_filter=$WORLD_RP_FILTER" "net.ipv4.conf.default.rp_filter=$WORLD_RP_FILTER" \
        net.ipv4.conf.default.promote_secondaries=1
    ip -n "$(ns "$role")" addr add "$IMDS4/32" dev lo || world_abort "IMDS address in $role"
}

# _inst_ns ROLE → the namespace of an instance role (inst for "" or inst).
_inst_ns() { ns "${1:-inst}"; }

# world_eni_on ROLE IDX SUBNET ADDR…: like world_eni, in instance ROLE. Also re-attaches an ENI
# that was detached elsewhere (same MAC, same router port; the port's source check and /32
# routes are set up again for exactly ADDR…).
world_eni_on() {
    local role=$1 idx=$2 subnet=$3; shift 3
    local N VPC port=r$idx dev=eth$idx a i known=0
    N=$(ns "$role") VPC=$(ns vpc)
    assert_not_root_ns "$N"; assert_not_root_ns "$VPC"
    ip -n "$N" link add "$dev" address "${ENI_MAC[$idx]}" type veth \
        peer name "$port" address "${RPORT_MAC[$idx]}" netns "$VPC" || world_abort "veth $dev/$port in $role"
    for i in "${WORLD_ENIS[@]}"; do [[ $i == "$idx" ]] && known=1; done
    ((known)) || WORLD_ENIS+=("$idx")
    ENI_SUBNET[$idx]=$subnet ENI_ADDRS[$idx]=''
    # A port that existed before: start its source check from scratch.
    ip netns exec "$VPC" nft delete chain netdev srccheck "in_$port" 2>/dev/null
    ip netns exec "$VPC" nft flush set netdev srccheck "${port}_v4" 2>/dev/null
    ip netns exec "$VPC" nft flush set netdev srccheck "${port}_v6" 2>/dev/null
    _router_port_common "$port" "$subnet"
    for a in "$@"; do vpc_allow "$idx" "$a"; done
    ns_sysctl "$role" "net.ipv4.conf.$dev.rp_filter=$WORLD_RP_FILTER"
    ip -n "$N" link set "$dev" up || world_abort "$dev up in $role"
}

# world_eni_detach_from ROLE IDX: ENI IDX's link disappears from instance ROLE (and its router
# port with it: the VPC stops delivering to it).
world_eni_detach_from() {
    local N; N=$(ns "$1")
    assert_not_root_ns "$N"
    ip -n "$N" link del "eth$2" || world_abort "detach eth$2 from $1"
}

# inst_distro_on ROLE IDX ADDR [default]: inst_distro for instance ROLE.
inst_distro_on() {
    local role=$1 idx=$2 addr=$3 N subnet; N=$(ns "$role"); subnet=${ENI_SUBNET[$idx]}
    assert_not_root_ns "$N"
    ip -n "$N" addr add "$addr/${SUBNET4[$subnet]#*/}" dev "eth$idx" || world_abort "addr $addr in $role"
    [[ ${4:-} == default ]] && { ip -n "$N" route add default via "${GW4[$subnet]}" dev "eth$idx" || world_abort "default in $role"; }
    return 0
}

# imds_start_on ROLE FILE: the simulator in instance ROLE (see imds_start).
imds_start_on() {
    local role=$1 file=$2 N; N=$(ns "$role")
    [[ -x $ENIROUTE_IMDS_SIM ]] || world_abort "IMDS simulator not built: $ENIROUTE_IMDS_SIM"
    assert_not_root_ns "$N"
    ip -n "$N" addr add "$IMDS4/32" dev lo 2>/dev/null
    info "IMDS simulator in $role: scenario $file"
    if ! bg_start "imds-$role" "listening on" 10 ip netns exec "$N" "$ENIROUTE_IMDS_SIM" \
        --scenario "$file" --listen "$IMDS4:80" --verbose; then
        sed 's/^/       | /' "$WORLD_TMP/imds-$role.log" >&2
        world_abort "IMDS simulator in $role did not report 'listening on' within 10 s"
    fi
    IMDS_PID_ON[$role]=$BG_PID
}

# imds_stop_on ROLE: stop the simulator started by imds_start_on.
imds_stop_on() {
    local pid=${IMDS_PID_ON[$1]:-}
    [[ -n $pid ]] || return 0
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    IMDS_PID_ON[$1]=
}

# imds_control_on ROLE METHOD PATH [BODY]: imds_control against instance ROLE's simulator.
imds_control_on() {
    local N; N=$(ns "$1"); shift
    assert_not_root_ns "$N"
    # shellcheck disable=SC2016
    ip netns exec "$N" timeout 5 bash -c '
        exec 3<>"/dev/tcp/$1/80" || exit 1
        printf "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" \
            "$2" "$3" "$1" "${#4}" "$4" >&3
        IFS=" " read -r _ status _ <&3
        body=$(sed "1,/^\r\{0,1\}$/d" <&3)
        printf "%s\n" "$body"
        [ "$status" = 200 ]' _ "$IMDS4" "$1" "$2" "${3:-}"
}

# imds_eni_json IDX DEVICE-NUMBER SUBNET ADDR…: the per-MAC keys of ENI IDX in SUBNET (A, B, C,
# or a CIDR) as scenario JSON (IPv4).
imds_eni_json() {
    local idx=$1 dev=$2 subnet=$3; shift 3
    local v4
    v4=$(printf '"%s",' "$@")
    [[ $subnet == */* ]] || subnet=${SUBNET4[$subnet]}
    printf '{"device-number": "%s", "interface-id": "eni-%017d", "mac": "%s", "local-ipv4s": [%s], "subnet-ipv4-cidr-block": "%s"}' \
        "$dev" "$idx" "${ENI_MAC[$idx]}" "${v4%,}" "$subnet"
}

# watch_start ROLE [ARGS…]: `eniroute watch ARGS…` in instance ROLE against its simulator, in
# the background, logging at info level into $WORLD_TMP/watch-ROLE.log; waits (10 s at most) for
# its start line. The run lock is the one `eniroute` uses in inst.
watch_start() {
    local role=$1 N lock; shift
    N=$(ns "$role")
    assert_not_root_ns "$N"
    [[ -x $ENIROUTE ]] || world_abort "eniroute not built: $ENIROUTE (set ENIROUTE)"
    lock=$WORLD_TMP/eniroute.lock
    [[ $role == inst ]] || lock=$WORLD_TMP/eniroute-$role.lock
    : >"$WORLD_TMP/eniroute-$role.conf"
    info "$role: eniroute watch $*"
    if ! bg_start "watch-$role" "watch: following" 10 ip netns exec "$N" env ENIROUTE_LOCK="$lock" \
        "$ENIROUTE" watch --imds-endpoint "http://$IMDS4" --config "$WORLD_TMP/eniroute-$role.conf" --log-level info "$@"; then
        sed 's/^/       | /' "$WORLD_TMP/watch-$role.log" >&2
        world_abort "eniroute watch in $role did not start within 10 s"
    fi
    WATCH_PID[$role]=$BG_PID
}

# watch_log ROLE → the watcher's log file.
watch_log() { echo "$WORLD_TMP/watch-$1.log"; }

# watch_running ROLE: the watcher of ROLE is alive.
watch_running() { [[ -n ${WATCH_PID[$1]:-} ]] && kill -0 "${WATCH_PID[$1]}" 2>/dev/null; }

# watch_signal ROLE SIGNAL: send a signal to the watcher of ROLE.
watch_signal() { kill "-$2" "${WATCH_PID[$1]}"; }

# watch_stop ROLE [SIGNAL]: stop the watcher (default TERM) and wait at most 10 s; sets
# WATCH_RC to its exit code (or "timeout"); returns 0 if it exited.
# shellcheck disable=SC2034 # WATCH_RC is read by the scenarios
watch_stop() {
    local role=$1 sig=${2:-TERM} pid=${WATCH_PID[$1]:-} i
    WATCH_RC=none
    [[ -n $pid ]] || return 1
    kill "-$sig" "$pid" 2>/dev/null
    for ((i = 0; i < 200; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then WATCH_RC=timeout; return 1; fi
    wait "$pid"; WATCH_RC=$?
    WATCH_PID[$role]=
    return 0
}

# now_s → seconds since the epoch with microseconds.
now_s() { echo "$EPOCHREALTIME"; }

# elapsed_since T0 → seconds since T0 (3 decimals).
elapsed_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }

# wait_until SECONDS COMMAND…: run COMMAND every 20 ms until it succeeds, for at most SECONDS.
# Sets WAITED to the time it took (seconds, 3 decimals). Bounded: never waits longer.
wait_until() {
    # (Local names with a prefix: COMMAND may be a scenario function that reads its own globals.)
    local _wu_limit=$1 _wu_t0; shift
    _wu_t0=$EPOCHREALTIME
    while true; do
        if "$@" >/dev/null 2>&1; then WAITED=$(elapsed_since "$_wu_t0"); return 0; fi
        if awk -v a="$_wu_t0" -v b="$EPOCHREALTIME" -v l="$_wu_limit" 'BEGIN { exit !(b - a > l) }'; then
            WAITED=$(elapsed_since "$_wu_t0"); return 1
        fi
        sleep 0.02
    done
}

# check_within NAME SECONDS COMMAND…: COMMAND succeeds within SECONDS (polled); prints the time.
check_within() {
    local _cw_name=$1 _cw_limit=$2; shift 2
    if wait_until "$_cw_limit" "$@"; then
        _check_result ok "$_cw_name (after $WAITED s, limit $_cw_limit s)"
    else
        "$@" >"$WORLD_TMP/check.out" 2>&1
        _check_result FAIL "$_cw_name (not within $_cw_limit s)" "$WORLD_TMP/check.out"
    fi
}

# rule_present_on ROLE 4|6 REGEX, route_present_on ROLE 4|6 TABLE REGEX, addr_present_on ROLE DEV REGEX:
# the inst probes for another instance.
rule_present_on() { nsx "$1" ip "-$2" rule show | grep -E -- "$3"; }
route_present_on() { nsx "$1" ip "-$2" route show table "$3" | grep -E -- "$4"; }
addr_present_on() { nsx "$1" ip addr show dev "$2" | grep -E -- "$3"; }

# proc_cpu_ticks PID → utime+stime of a process (clock ticks).
proc_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# proc_rss_kib PID → VmRSS of a process in KiB.
proc_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# can_ping_quick ROLE ADDR: one echo request with 0.3 s to answer (for timed waits).
can_ping_quick() { nsx "$1" ping -4 -c 1 -W 0.3 -n "$2"; }

# imds_requests_with ROLE STATUS → how many requests the simulator of ROLE (inst: the one from
# imds_start) answered with STATUS so far, from its --verbose log.
imds_requests_with() {
    local log=$WORLD_TMP/imds.log
    [[ $1 == inst ]] || log=$WORLD_TMP/imds-$1.log
    grep -c -- "-> $2\$" "$log"
}

# log_count FILE REGEX → lines of FILE matching REGEX (0 if none).
log_count() { grep -cE -- "$2" "$1"; true; }
