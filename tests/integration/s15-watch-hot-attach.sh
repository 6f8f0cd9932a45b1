#!/bin/bash
# S15: hot attach with no udev at all. While `eniroute watch` runs (IMDS poll every 30 s, so the
# poll is not what finds it), IMDS starts listing a third ENI whose keys propagate only 2 s later
# (device-number reads 0 until then), and its veth appears. The watcher notices the new link,
# re-reads the pending ENI every 200-500 ms, and configures it (table 10002, never the primary's
# 10000) within 1 s after its keys appear. eth0 and eth1 are untouched.
# Then the ENI is detached and re-attached as device 3 while IMDS keeps listing it: the watcher
# reads it in full when its interface comes back and moves it to table 10003 within 1 s.
# Also run with strict reverse-path filtering on the instance (CIS-hardened images):
# also-with: WORLD_RP_FILTER=1
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

PROPAGATION=2
world_build two-subnets
imds_start

section "eniroute watch --interval 30"
watch_start inst --interval 30 --log-level debug
check_within "eth1 configured" 5 rule_present 4 "^10002:[[:space:]]+from 10\.0\.2\.10 lookup 10001 .*$PROTO_RE"
{ nsx inst ip -4 route show table 10000; nsx inst ip -4 route show table 10001; } >"$WORLD_TMP/tables.before"

section "hot attach of eth2: IMDS lists it at once, its keys $PROPAGATION s later"
# The reference time is taken before the request: the simulator starts the propagation clock when
# the request arrives, so "configured at least PROPAGATION s after this" holds only if eniroute
# waited for the keys (taken after the reply, it raced the simulator by the request's duration).
attached=$(now_s)
check "IMDS: attach ${ENI_MAC[2]} (keys after $PROPAGATION s)" imds_control POST "/_sim/mac/${ENI_MAC[2]}" \
    "{\"keys\": $(imds_eni_json 2 2 C 10.0.3.10), \"propagation\": {\"after_seconds\": $PROPAGATION}}"
world_eni 2 C 10.0.3.10
configured() { rule_present 4 "^10003:[[:space:]]+from 10\.0\.3\.10 lookup 10002 .*$PROTO_RE"; }
check_within "eth2 configured within $PROPAGATION s + 1 s of the attach" $((PROPAGATION + 1)) configured
since=$(elapsed_since "$attached")
info "configured $since s after the IMDS attach, i.e. $(awk -v s="$since" -v p="$PROPAGATION" 'BEGIN { printf "%.3f", s - p }') s after its keys appeared"
check "not before its keys appeared" awk -v s="$since" -v p="$PROPAGATION" 'BEGIN { exit !(s >= p) }'
check "the watcher saw it pending first" grep -E "IMDS: ENI .*02:00:00:00:03:0a.* not ready" "$(watch_log inst)"
check_not "no rule ever sent 10.0.3.10 to the primary's table" grep -E "rule add from 10\.0\.3\.10 lookup 10000" "$(watch_log inst)"
check_eni_objects 2
check "10.0.3.10/24 added on eth2" addr_present eth2 "inet 10\.0\.3\.10/24 .*noprefixroute"
check "client -> 10.0.3.10" can_ping client 10.0.3.10
check "client -> 10.0.2.10" can_ping client 10.0.2.10
check "client -> 10.0.1.10" can_ping client 10.0.1.10
{ nsx inst ip -4 route show table 10000; nsx inst ip -4 route show table 10001; } >"$WORLD_TMP/tables.after"
check_same_file "tables 10000 and 10001 unchanged" "$WORLD_TMP/tables.before" "$WORLD_TMP/tables.after"

section "detached and re-attached as device 3 between two IMDS polls"
# IMDS lists the MAC throughout, so no poll sees it leave: only the re-created interface says
# that its device number (and so its table) may have changed.
world_eni_detach 2
check_within "eth2's rules removed within 1 s of the link going" 1 no_rule_matches 4 "from 10\.0\.3\.10 |lookup 10002 "
check "IMDS: ${ENI_MAC[2]} is now device 3" imds_control POST "/_sim/mac/${ENI_MAC[2]}" "{\"keys\": $(imds_eni_json 2 3 C 10.0.3.10)}"
reattached=$(now_s)
world_eni 2 C 10.0.3.10
check_within "eth2 in table 10003 within 1 s of the new link" 1 rule_present 4 "from 10\.0\.3\.10 lookup 10003 .*$PROTO_RE"
info "configured $(elapsed_since "$reattached") s after the re-attach (the next IMDS poll was up to 30 s away)"
check "the watcher logged the move" grep -E "ENI eth2 .* re-attached: device 2, card 0 → device 3, card 0" "$(watch_log inst)"
check "nothing left for table 10002" no_rule_matches 4 "lookup 10002 "
check "table 10002 is empty" table_has_no_eniroute_routes 10002
check "default via the router in table 10003" route_present 4 10003 "^default via 10\.0\.3\.1 dev eth2 .*$PROTO_RE"
check "client -> 10.0.3.10" can_ping client 10.0.3.10

section "hot detach: the link goes, then IMDS stops listing it"
world_eni_detach 2
check_within "eth2's rules removed within 1 s of the link going" 1 no_rule_matches 4 "from 10\.0\.3\.10 |lookup 10003 "
check "IMDS: detach" imds_control DELETE "/_sim/mac/${ENI_MAC[2]}"
check "client -> 10.0.2.10" can_ping client 10.0.2.10

world_finish
