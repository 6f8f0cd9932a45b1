#!/bin/bash
# S2 (seed 002): two ENIs in one subnet (10.0.1.10 on eth0, 10.0.1.20 on eth1). Before eniroute
# every reply leaves through eth0 (first subnet route in main), so 10.0.1.20 is unreachable from
# the client and from the same-subnet peer; after `eniroute apply` both reach both addresses.
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

world_build same-subnet
imds_start
tcp_start

section "before eniroute"
check "client -> 10.0.1.10" can_ping client 10.0.1.10
check "peer -> 10.0.1.10" can_ping peer 10.0.1.10
drops=$(srccheck_drops r0 4)
check_not "client -> 10.0.1.20 fails" can_ping client 10.0.1.20
check_not "peer -> 10.0.1.20 fails" can_ping peer 10.0.1.20
check_gt "the router's source check on r0 dropped the replies" "$(srccheck_drops r0 4)" "$drops"

section "eniroute apply"
check_eniroute "eniroute apply exits 0" apply

section "after eniroute"
for a in 10.0.1.10 10.0.1.20; do
    check "client -> $a" can_ping client "$a"
    check "client -> $a TCP" can_tcp client "$a"
    check "peer -> $a" can_ping peer "$a"
    check "peer -> $a TCP" can_tcp peer "$a"
done
check_suppress_rules
check_eni_objects 0
check_eni_objects 1

world_finish
