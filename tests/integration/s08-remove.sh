#!/bin/bash
# S8: `eniroute remove eth1` removes eth1's rules and routes and leaves the other ENIs working;
# after a hot detach (`ip link del eth2`), `eniroute remove eth2` cleans up what the departed
# ENI left behind (its rules), again leaving the others working.
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

world_build three-enis
imds_start

section "eniroute apply (three ENIs)"
check_eniroute "eniroute apply exits 0" apply
for a in 10.0.1.10 10.0.2.10 10.0.3.10; do check "client -> $a" can_ping client "$a"; done
check_eni_objects 2

section "eniroute remove eth1 (interface present)"
check_eniroute "eniroute remove eth1 exits 0" remove eth1
check "no rule looks up table 10001 any more" no_rule_matches 4 "lookup 10001( |$)"
check "no IPv6 rule looks up table 10001" no_rule_matches 6 "lookup 10001( |$)"
check "table 10001 has no eniroute routes" table_has_no_eniroute_routes 10001
check "eth0's rule is still there" rule_present 4 "from 10\.0\.1\.10 lookup 10000 "
check "eth2's rule is still there" rule_present 4 "from 10\.0\.3\.10 lookup 10002 "
check "client -> 10.0.1.10" can_ping client 10.0.1.10
check "client -> 10.0.3.10" can_ping client 10.0.3.10
check_not "client -> 10.0.2.10 fails again (eth1 unmanaged)" can_ping client 10.0.2.10

section "ip link del eth2, then eniroute remove eth2"
world_eni_detach 2
check_eniroute "eniroute remove eth2 (gone) exits 0" remove eth2
check "no rule from 10.0.3.10 any more" no_rule_matches 4 "from 10\.0\.3\.10 "
check "no rule looks up table 10002 any more" no_rule_matches 4 "lookup 10002( |$)"
check "table 10002 has no eniroute routes" table_has_no_eniroute_routes 10002
check "eth0's rule is still there" rule_present 4 "from 10\.0\.1\.10 lookup 10000 "
check "table 10000 still has its default route" route_present 4 10000 "^default via 10\.0\.1\.1 dev eth0 "
check "client -> 10.0.1.10" can_ping client 10.0.1.10
check "peer -> 10.0.1.10" can_ping peer 10.0.1.10
check_eniroute "eniroute remove --mac (again) exits 0" remove --mac "${ENI_MAC[2]}"

section "eniroute apply eth1 (re-adopt)"
check_eniroute "eniroute apply eth1 exits 0" apply eth1
check "client -> 10.0.2.10 again" can_ping client 10.0.2.10
check "client -> 10.0.1.10" can_ping client 10.0.1.10

section "remove every ENI: nothing of eniroute's is left"
check_eniroute "eniroute remove eth1 exits 0" remove eth1
check_eniroute "eniroute remove eth0 exits 0" remove eth0
check "no IPv4 rule of eniroute's left (suppress_ifgroup included)" no_rule_matches 4 "$PROTO_RE"
check "no IPv6 rule of eniroute's left (suppress_ifgroup included)" no_rule_matches 6 "$PROTO_RE"
check "table 10000 has no eniroute routes" table_has_no_eniroute_routes 10000
check "client -> 10.0.1.10 (main table alone)" can_ping client 10.0.1.10
world_destroy

section "remove deletes the addresses eniroute added, keeps the others"
world_build secondary-ipv4s
imds_start
check_eniroute "eniroute apply exits 0" apply
check "eth1 has 10.0.2.12 (added by eniroute)" addr_present eth1 "inet 10\.0\.2\.12/24 "
check_eniroute "eniroute remove eth1 exits 0" remove eth1
for a in 10.0.2.11 10.0.2.12 10.0.2.13; do
    check_not "eth1 no longer has $a" addr_present eth1 "inet ${a//./\\.}/"
done
check "eth1 keeps 10.0.2.10 (not eniroute's)" addr_present eth1 "inet 10\.0\.2\.10/24 "
check "client -> 10.0.1.10" can_ping client 10.0.1.10

world_finish
