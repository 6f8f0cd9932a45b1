#!/bin/bash
# S2 (seed 002): two ENIs in one subnet (10.0.1.10 on eth0, 10.0.1.20 on eth1). Before eniroute
# every reply leaves through eth0 (first subnet route in main), so 10.0.1.20 is unreachable from
# the client and from the same-subnet peer; after `eniroute apply` both reach both addresses.
# Also run with strict reverse-path filtering on the instance (CIS-hardened images):
# also-with: WORLD_RP_FILTER=1
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

world_up same-subnet

section "before eniroute"
check "client -> 10.0.1.10" can_ping client 10.0.1.10
check "peer -> 10.0.1.10" can_ping peer 10.0.1.10
drops=$(misroute_drops r0)
check_not "client -> 10.0.1.20 fails" can_ping client 10.0.1.20
check_not "peer -> 10.0.1.20 fails" can_ping peer 10.0.1.20
if [[ $WORLD_RP_FILTER == 1 ]]; then
    # Strict rp_filter drops already the router's ARP request for 10.0.1.20 on eth1 (the way back
    # to the router is eth0 by main), so no IP packet arrives to be counted.
    check "strict rp_filter: the router cannot resolve 10.0.1.20 on r1" neigh_failed vpc r1 10.0.1.20
else
    check_gt "the router's source check on r0 dropped the replies" "$(misroute_drops r0)" "$drops"
fi

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
