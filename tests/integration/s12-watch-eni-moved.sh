#!/bin/bash
# S12 (seed 003): an ENI moves to a standby instance. Instances A (inst: eth0 + eth1) and B
# (instb: its own primary eth3), each with its own IMDS simulator and `eniroute watch --interval 2`.
# eth1 (02:00:00:00:02:0a, 10.0.2.10) is deleted in A and created in B with the same MAC, and the
# simulators move the MAC from A's IMDS to B's. A's watcher removes eth1's rules; B's configures
# it; the client reaches 10.0.2.10 on B within the interval + 1 s; A keeps working on eth0.
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

INTERVAL=2
world_build two-subnets
imds_start
world_add_instance instb
world_eni_on instb 3 A 10.0.1.30
inst_distro_on instb 3 10.0.1.30 default
printf '{"mac": "%s", "macs": {"%s": %s}}\n' "${ENI_MAC[3]}" "${ENI_MAC[3]}" "$(imds_eni_json 3 0 A 10.0.1.30)" >"$WORLD_TMP/instb.json"
imds_start_on instb "$WORLD_TMP/instb.json"

section "both instances watched"
watch_start inst --interval "$INTERVAL"
watch_start instb --interval "$INTERVAL"
check_within "A: rule from 10.0.2.10 lookup 10001" 5 rule_present 4 "^10002:[[:space:]]+from 10\.0\.2\.10 lookup 10001 .*$PROTO_RE"
check_within "B: rule from 10.0.1.30 lookup 10000" 5 rule_present_on instb 4 "^10001:[[:space:]]+from 10\.0\.1\.30 lookup 10000 .*$PROTO_RE"
check "client -> 10.0.2.10 (on A)" can_ping client 10.0.2.10
check "client -> 10.0.1.10 (A's primary)" can_ping client 10.0.1.10
check "client -> 10.0.1.30 (B's primary)" can_ping client 10.0.1.30

section "eth1 moves from A to B (link deleted in A, created in B; IMDS moves the MAC)"
world_eni_detach_from inst 1
check "A's IMDS detaches $(printf %s "${ENI_MAC[1]}")" imds_control DELETE "/_sim/mac/${ENI_MAC[1]}"
world_eni_on instb 1 B 10.0.2.10
check "B's IMDS attaches it as device 1" imds_control_on instb POST "/_sim/mac/${ENI_MAC[1]}" "{\"keys\": $(imds_eni_json 1 1 B 10.0.2.10)}"
check_within "client -> 10.0.2.10 (now on B) within interval + 1 s" $((INTERVAL + 1)) can_ping_quick client 10.0.2.10
check "B: 10.0.2.10/24 added on eth1" addr_present_on instb eth1 "inet 10\.0\.2\.10/24 "
check "B: rule from 10.0.2.10 lookup 10001" rule_present_on instb 4 "^10002:[[:space:]]+from 10\.0\.2\.10 lookup 10001 .*$PROTO_RE"
check "B: table 10001 default via 10.0.2.1 dev eth1" route_present_on instb 4 10001 "^default via 10\.0\.2\.1 dev eth1 .*$PROTO_RE"
check "B: table 10001 subnet route src 10.0.2.10" route_present_on instb 4 10001 "^10\.0\.2\.0/24 dev eth1 .*src 10\.0\.2\.10"
check_within "A: no rule for 10.0.2.10 or table 10001 left" 1 no_rule_matches 4 "from 10\.0\.2\.10 |lookup 10001 "
check "A: table 10001 empty" table_has_no_eniroute_routes 10001
check "A's watcher logged the removal" grep -E "^ip rule del from 10\.0\.2\.10 lookup 10001" "$(watch_log inst)"
check_within "A's watcher saw IMDS drop the ENI" $((INTERVAL + 1)) grep -E "is no longer attached" "$(watch_log inst)"
check "B's watcher logged the new ENI" grep -E "IMDS: ENI eth1 .*is ready: device 1" "$(watch_log instb)"

section "A keeps working on its other ENIs"
check "A: rule from 10.0.1.10 lookup 10000" rule_present 4 "^10001:[[:space:]]+from 10\.0\.1\.10 lookup 10000 .*$PROTO_RE"
check "A: table 10000 default via 10.0.1.1" route_present 4 10000 "^default via 10\.0\.1\.1 dev eth0 .*$PROTO_RE"
check "client -> 10.0.1.10 (A)" can_ping client 10.0.1.10
check "peer -> 10.0.1.10 (A)" can_ping peer 10.0.1.10
check "client -> 10.0.1.30 (B's primary)" can_ping client 10.0.1.30
check "both watchers still running" watch_running inst
check "B's watcher still running" watch_running instb

world_finish
