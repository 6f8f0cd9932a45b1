#!/bin/bash
# S1 (seed 000): a second ENI in another subnet. Before eniroute, the reply from 10.0.2.10 leaves
# through eth0 (main's default route) and the VPC's source check on r0 drops it; after
# `eniroute apply` it leaves through eth1 and the client gets its answer.
# Also run with strict reverse-path filtering on the instance (CIS-hardened images):
# also-with: WORLD_RP_FILTER=1
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

world_up two-subnets

section "before eniroute"
check "client -> 10.0.1.10 (primary ENI)" can_ping client 10.0.1.10
drops=$(misroute_drops r0)
check_not "client -> 10.0.2.10 fails (reply leaves through eth0)" can_ping client 10.0.2.10
check_gt "dropped: by r0's source check (the reply), or with strict rp_filter by the instance (the request)" "$(misroute_drops r0)" "$drops"

section "eniroute apply"
check_eniroute "eniroute apply exits 0" apply

section "after eniroute"
check "client -> 10.0.2.10" can_ping client 10.0.2.10
check "client -> 10.0.2.10 TCP" can_tcp client 10.0.2.10
check "client -> 10.0.1.10" can_ping client 10.0.1.10
check "client -> 10.0.1.10 TCP" can_tcp client 10.0.1.10
check "peer -> 10.0.2.10" can_ping peer 10.0.2.10
drops=$(srccheck_drops r0 4)
check "client -> 10.0.2.10 again" can_ping client 10.0.2.10
check_eq "no more drops on r0" "$drops" "$(srccheck_drops r0 4)"
check_suppress_rules
check_eni_objects 0
check_eni_objects 1

world_finish
