#!/bin/bash
# S18 (issue 12, item 2): the VPC's MTU on ENIs eniroute brings up itself. EC2's DHCP gave the
# primary ENI (eth0) MTU 9001. eth1 was hot-attached and nothing configured it: it is down, without
# addresses, at the driver's 1500. eth2 was configured by someone else (up, addressed) at its own
# MTU. After `eniroute apply`: with the default `mtu = auto` eth1 has 9001 and eth2 keeps its MTU;
# with `mtu = keep` eth1 stays at 1500; with `mtu = 1500` eth1 gets 1500 (and eth2 still keeps
# 9001). `eniroute status` shows each ENI's MTU.
# Also run with strict reverse-path filtering on the instance (CIS-hardened images):
# also-with: WORLD_RP_FILTER=1
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

# link_mtu DEV → the MTU of an interface of inst.
link_mtu() { nsx inst cat "/sys/class/net/$1/mtu"; }

# set_mtu ROLE DEV MTU: what DHCP (or a hand) set.
set_mtu() {
    local n; n=$(ns "$1")
    assert_not_root_ns "$n"
    ip -n "$n" link set dev "$2" mtu "$3" || world_abort "mtu $3 on $2 in $n"
}

# mtu_world ETH2-MTU: the three ENIs as described above; the router's ports take the same MTUs.
mtu_world() {
    world_create
    world_eni 0 A 10.0.1.10
    world_eni 1 B 10.0.2.10
    world_eni 2 C 10.0.3.10
    inst_distro 0 10.0.1.10 default
    inst_distro 2 10.0.3.10
    set_mtu inst eth0 9001
    set_mtu vpc r0 9001
    set_mtu vpc r1 9001
    set_mtu inst eth2 "$1"
    set_mtu vpc r2 "$1"
    local INST; INST=$(ns inst)
    assert_not_root_ns "$INST"
    ip -n "$INST" link set dev eth1 down || world_abort "eth1 down"
    imds_start "$(scenario_file three-enis)"
    check_eq "before: eth0 9001 (DHCP), eth1 1500 (down, no address), eth2 $1" "9001 1500 $1" \
        "$(link_mtu eth0) $(link_mtu eth1) $(link_mtu eth2)"
}

section "mtu = auto (the default)"
mtu_world 1500
check_eniroute "eniroute apply exits 0" apply
check_eq "eth1 (brought up by eniroute) has the primary's MTU" 9001 "$(link_mtu eth1)"
check_eq "eth2 (configured by someone else) keeps its MTU" 1500 "$(link_mtu eth2)"
check_eq "eth0 (the primary) keeps its MTU" 9001 "$(link_mtu eth0)"
check "the change is logged as its ip command" grep -F "ip link set dev eth1 mtu 9001" "$ENIROUTE_OUT"
check "client -> 10.0.2.10" can_ping client 10.0.2.10
check "client -> 10.0.3.10" can_ping client 10.0.3.10
check "eth1 -> its router with 8000-byte unfragmented packets (jumbo frames)" \
    nsx inst ping -4 -c 1 -W 1 -M do -s 8000 -I 10.0.2.10 -n "${GW4[B]}"
check_eniroute "eniroute status exits 0" status
check "status shows eth1's MTU" grep -E "^  eth1[[:space:]].*mtu 9001$" "$ENIROUTE_OUT"
check "status shows eth2's MTU" grep -E "^  eth2[[:space:]].*mtu 1500$" "$ENIROUTE_OUT"
check_eniroute "a second apply exits 0" apply
check "it logs 'no change'" grep -Ei "no change" "$ENIROUTE_OUT"
world_destroy

section "mtu = keep"
WORLD_ENIROUTE_CONF='mtu = keep'
mtu_world 1500
check_eniroute "eniroute apply exits 0" apply
check_eq "eth1 stays at 1500" 1500 "$(link_mtu eth1)"
check "client -> 10.0.2.10" can_ping client 10.0.2.10
world_destroy

section "mtu = 1500"
WORLD_ENIROUTE_CONF='mtu = 1500'
mtu_world 9001
check_eniroute "eniroute apply exits 0" apply
check_eq "eth1 has 1500, not the primary's 9001" 1500 "$(link_mtu eth1)"
check_eq "eth2 (configured by someone else) keeps 9001" 9001 "$(link_mtu eth2)"
check "client -> 10.0.2.10" can_ping client 10.0.2.10
world_destroy
WORLD_ENIROUTE_CONF=''

world_finish
