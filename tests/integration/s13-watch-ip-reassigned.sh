#!/bin/bash
# S13 (seed 004): a secondary IP is reassigned from ENI X on instance A to ENI Y on instance B,
# then unassigned. The VPC moves its source check and /32 route with it. Within the interval + 1 s
# it is reachable at the new place and gone at the old one; after the unassignment it is gone.
# A: inst, eth0 (10.0.1.10) + eth1 = X (10.0.2.10, secondary 10.0.2.11). B: instb, eth3 (primary,
# 10.0.1.30) + eth4 = Y (10.0.2.20), both ENIs of B in subnets A and B like A's.
# Also run with strict reverse-path filtering on the instance (CIS-hardened images):
# also-with: WORLD_RP_FILTER=1
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

INTERVAL=2
X=${ENI_MAC[1]} Y=${ENI_MAC[4]}
world_build two-subnets
vpc_allow 1 10.0.2.11
printf '{"mac": "%s", "macs": {"%s": %s, "%s": %s}}\n' "${ENI_MAC[0]}" "${ENI_MAC[0]}" "$(imds_eni_json 0 0 A 10.0.1.10)" \
    "$X" "$(imds_eni_json 1 1 B 10.0.2.10 10.0.2.11)" >"$WORLD_TMP/insta.json"
imds_start "$WORLD_TMP/insta.json"
world_add_instance instb
world_eni_on instb 3 A 10.0.1.30
world_eni_on instb 4 B 10.0.2.20
inst_distro_on instb 3 10.0.1.30 default
inst_distro_on instb 4 10.0.2.20
printf '{"mac": "%s", "macs": {"%s": %s, "%s": %s}}\n' "${ENI_MAC[3]}" "${ENI_MAC[3]}" "$(imds_eni_json 3 0 A 10.0.1.30)" \
    "$Y" "$(imds_eni_json 4 1 B 10.0.2.20)" >"$WORLD_TMP/instb.json"
imds_start_on instb "$WORLD_TMP/instb.json"

section "both instances watched; 10.0.2.11 on A's eth1"
watch_start inst --interval "$INTERVAL"
watch_start instb --interval "$INTERVAL"
check_within "A: rule from 10.0.2.11 lookup 10001" 5 rule_present 4 "^10002:[[:space:]]+from 10\.0\.2\.11 lookup 10001 .*$PROTO_RE"
check_within "B: rule from 10.0.2.20 lookup 10001" 5 rule_present_on instb 4 "^10002:[[:space:]]+from 10\.0\.2\.20 lookup 10001 .*$PROTO_RE"
check "A: 10.0.2.11 on eth1" addr_present eth1 "inet 10\.0\.2\.11/24 "
check "client -> 10.0.2.11 (A)" can_ping client 10.0.2.11
check "client -> 10.0.2.20 (B)" can_ping client 10.0.2.20

section "10.0.2.11 reassigned from X (A's eth1) to Y (B's eth4)"
check "A's IMDS: X lists only 10.0.2.10" imds_control PUT "/_sim/mac/$X/local-ipv4s" "10.0.2.10"
check "B's IMDS: Y lists 10.0.2.20 and 10.0.2.11" imds_control_on instb PUT "/_sim/mac/$Y/local-ipv4s" $'10.0.2.20\n10.0.2.11'
vpc_disallow 1 10.0.2.11
vpc_allow 4 10.0.2.11
check_within "client -> 10.0.2.11 (now on B) within interval + 1 s" $((INTERVAL + 1)) can_ping_quick client 10.0.2.11
check "B: 10.0.2.11/24 on eth4" addr_present_on instb eth4 "inet 10\.0\.2\.11/24 "
check "B: rule from 10.0.2.11 lookup 10001" rule_present_on instb 4 "^10002:[[:space:]]+from 10\.0\.2\.11 lookup 10001 .*$PROTO_RE"
gone_from_a() { ! addr_present eth1 "inet 10\.0\.2\.11/" && no_rule_matches 4 "from 10\.0\.2\.11 "; }
check_within "A: 10.0.2.11 gone (address and rule) within interval + 1 s" $((INTERVAL + 1)) gone_from_a
check "A: 10.0.2.10 and its rule kept" rule_present 4 "^10002:[[:space:]]+from 10\.0\.2\.10 lookup 10001 .*$PROTO_RE"
check "client -> 10.0.2.10 (A)" can_ping client 10.0.2.10
check_within "A's watcher logged the unassignment (within 2 s)" 2 grep -E "IMDS: ENI eth1 .*unassigned 10\.0\.2\.11" "$(watch_log inst)"
check_within "B's watcher logged the assignment (within 2 s)" 2 grep -E "IMDS: ENI eth4 .*assigned 10\.0\.2\.11" "$(watch_log instb)"
check "no source check drop on r4 for the replies" test "$(srccheck_drops r4 4)" = 0

section "10.0.2.11 unassigned from Y"
check "B's IMDS: Y lists only 10.0.2.20" imds_control_on instb PUT "/_sim/mac/$Y/local-ipv4s" "10.0.2.20"
vpc_disallow 4 10.0.2.11
gone_from_b() { ! addr_present_on instb eth4 "inet 10\.0\.2\.11/" && ! rule_present_on instb 4 "from 10\.0\.2\.11 "; }
check_within "B: 10.0.2.11 gone (address and rule) within interval + 1 s" $((INTERVAL + 1)) gone_from_b
check_not "client -> 10.0.2.11 fails (unassigned everywhere)" can_ping client 10.0.2.11
check "client -> 10.0.2.20 (B)" can_ping client 10.0.2.20
check "client -> 10.0.2.10 (A)" can_ping client 10.0.2.10
check "B: 10.0.2.20's rule kept" rule_present_on instb 4 "^10002:[[:space:]]+from 10\.0\.2\.20 lookup 10001 .*$PROTO_RE"

world_finish
