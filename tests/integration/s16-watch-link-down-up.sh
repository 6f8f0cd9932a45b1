#!/bin/bash
# S16: link down/up. An administrator takes eth1 down: the kernel drops the routes of table
# 10001; the watcher leaves the ENI as the administrator wants it (down, its rules kept) instead
# of bringing it back up. When eth1 comes up again, the watcher restores table 10001 within 1 s.
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

world_build two-subnets
imds_start
table_complete() {
    route_present 4 10001 "^10\.0\.2\.0/24 dev eth1 .*$PROTO_RE.*src 10\.0\.2\.10" && route_present 4 10001 "^default via 10\.0\.2\.1 dev eth1 "
}

section "eniroute watch --interval 30 (debug log: one line per pass)"
watch_start inst --interval 30 --log-level debug
check_within "eth1 configured" 5 table_complete
check "client -> 10.0.2.10" can_ping client 10.0.2.10

section "ip link set eth1 down"
passes() { log_count "$(watch_log inst)" "^watch: (no change|[0-9]+ changes?)"; }
before=$(passes)
nsx inst ip link set eth1 down
one_more_pass() { (($(passes) > before)); }
check_within "the watcher reconciled after the link change" 1 one_more_pass
check "eth1 is still down (the watcher respects it)" sh -c "ip netns exec $(ns inst) ip link show eth1 | grep -q 'state DOWN'"
check "rule from 10.0.2.10 lookup 10001 kept while down" rule_present 4 "^10002:[[:space:]]+from 10\.0\.2\.10 lookup 10001 .*$PROTO_RE"
check "eth1 still in group $ENI_GROUP" link_group_is eth1 "$ENI_GROUP"
check_not "the kernel emptied table 10001" table_complete
check_not "no link set up by the watcher" grep -E "^ip link set dev eth1 up" "$(watch_log inst)"

section "ip link set eth1 up"
nsx inst ip link set eth1 up
check_within "table 10001 restored within 1 s" 1 table_complete
check "client -> 10.0.2.10" can_ping client 10.0.2.10
check "client -> 10.0.1.10" can_ping client 10.0.1.10

world_finish
