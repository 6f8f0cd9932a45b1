#!/bin/bash
# S4: IPv6 dual-stack ENIs. eth0 2001:db8:1::10, eth1 2001:db8:2::10 (configured as a distro
# would) and 2001:db8:2::11 (only in IMDS). The router answers at fe80:ec2::1 on every port.
# Before eniroute the IPv6 reply from eth1's address leaves through eth0 and is dropped; after
# `eniroute apply` the client reaches every IPv6 (and IPv4) address.
# Also run with strict reverse-path filtering on the instance (CIS-hardened images):
# also-with: WORLD_RP_FILTER=1
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

world_up dual-stack

section "before eniroute"
check "router answers at fe80:ec2::1 (eth0's default gateway)" can_ping inst fe80:ec2::1%eth0
check "client -> 2001:db8:1::10" can_ping client 2001:db8:1::10
drops=$(srccheck_drops r0 6)
check_not "client -> 2001:db8:2::10 fails (reply leaves through eth0)" can_ping client 2001:db8:2::10
check_gt "the router's source check on r0 dropped the IPv6 reply" "$(srccheck_drops r0 6)" "$drops"
check_not "client -> 2001:db8:2::11 fails (address missing)" can_ping client 2001:db8:2::11

section "eniroute apply"
check_eniroute "eniroute apply exits 0" apply

section "after eniroute"
check "eth1 has 2001:db8:2::11/128" addr_present eth1 "inet6 2001:db8:2::11/128 "
for a in 2001:db8:2::10 2001:db8:2::11 2001:db8:1::10 10.0.2.10 10.0.1.10; do
    check "client -> $a" can_ping client "$a"
    check "client -> $a TCP" can_tcp client "$a"
done
check "eth1 resolved its gateway fe80:ec2::1 to the router (r1)" neigh_is inst eth1 fe80:ec2::1 "${RPORT_MAC[1]}"
check "peer -> 2001:db8:1::10" can_ping peer 2001:db8:1::10
check_suppress_rules
check_eni_objects 0
check_eni_objects 1

world_finish
