#!/bin/bash
# S11: the watcher heals drift. `eniroute watch` configures the secondary-IPv4s instance; then an
# administrator (or a DHCP client, or `networkctl reload`) deletes one of eniroute's rules, one of
# its routes and one of its addresses, and flushes its table: each is restored within 1 s, driven
# by kernel notifications (the IMDS poll interval is 30 s, so the poll cannot be what repairs it).
# A rule and a route eniroute did not create are never touched. Idle cost is measured.
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

world_up secondary-ipv4s

section "before eniroute: the secondary addresses are not even on eth1"
check_not "client -> 10.0.2.11 fails" can_ping client 10.0.2.11

section "eniroute watch --interval 30"
watch_start inst --interval 30
check_within "eth1's rules installed by the watcher" 5 rule_present 4 "^10002:[[:space:]]+from 10\.0\.2\.13 lookup 10001 .*$PROTO_RE"
check_eni_objects 0
check_eni_objects 1
check "client -> 10.0.2.11 (ping)" can_ping client 10.0.2.11
check "client -> 10.0.2.12 (TCP, answered from 10.0.2.12)" can_tcp client 10.0.2.12

section "drift: one of eniroute's rules deleted"
nsx inst ip rule del from 10.0.2.11 lookup 10001 priority 10002
check_within "rule from 10.0.2.11 lookup 10001 restored" 1 \
    rule_present 4 "^10002:[[:space:]]+from 10\.0\.2\.11 lookup 10001 .*$PROTO_RE"

section "drift: the default route of table 10001 deleted"
nsx inst ip route del default table 10001
check_within "default via 10.0.2.1 in table 10001 restored" 1 \
    route_present 4 10001 "^default via 10\.0\.2\.1 dev eth1 .*$PROTO_RE"

section "drift: an address eniroute added (10.0.2.12) deleted"
nsx inst ip addr del 10.0.2.12/24 dev eth1
check_within "10.0.2.12/24 on eth1 restored" 1 addr_present eth1 "inet 10\.0\.2\.12/24 "
check "client -> 10.0.2.12 (TCP)" can_tcp client 10.0.2.12

section "drift: table 10001 flushed"
nsx inst ip route flush table 10001
table_complete() {
    route_present 4 10001 "^10\.0\.2\.0/24 dev eth1 .*$PROTO_RE.*src 10\.0\.2\.10" && route_present 4 10001 "^default via 10\.0\.2\.1 dev eth1 "
}
check_within "table 10001 restored (subnet and default routes)" 1 table_complete
check "client -> 10.0.2.13 (ping)" can_ping client 10.0.2.13

section "objects eniroute did not create are never touched"
nsx inst ip rule add from 10.0.2.99 lookup 10001 priority 10002
nsx inst ip route add 192.0.2.0/24 via 10.0.2.1 dev eth1 table 10001
nsx inst ip route add 198.18.0.0/15 via 10.0.1.1 dev eth0 table 300
nsx inst ip rule del from 10.0.2.13 lookup 10001 priority 10002
check_within "rule from 10.0.2.13 restored" 1 rule_present 4 "^10002:[[:space:]]+from 10\.0\.2\.13 lookup 10001 .*$PROTO_RE"
check "foreign rule from 10.0.2.99 lookup 10001 still there" rule_present 4 "from 10\.0\.2\.99 lookup 10001"
check "foreign route 192.0.2.0/24 in table 10001 still there" route_present 4 10001 "^192\.0\.2\.0/24 via 10\.0\.2\.1 dev eth1"
check "foreign route in table 300 still there" route_present 4 300 "^198\.18\.0\.0/15 via 10\.0\.1\.1"
check_not "the watcher never deleted a foreign object" grep -E "(rule|route) del .*(10\.0\.2\.99|192\.0\.2\.0|198\.18\.)" "$(watch_log inst)"

section "idle: no further passes, CPU and memory"
pid=${WATCH_PID[inst]}
# The pass that restored the rule logs its summary after re-reading the kernel, which can be after
# the check above saw the rule (a slow build under load): count once that summary is written.
last_line_is_summary() { tail -n 1 "$(watch_log inst)" | grep -q "^watch: "; }
check_within "the restoring pass has logged its summary" 2 last_line_is_summary
changes_before=$(grep -c "^watch: " "$(watch_log inst)")
ticks0=$(proc_cpu_ticks "$pid")
t0=$(now_s)
sleep 3 # a measurement window, not a synchronisation: nothing is expected to happen in it
ticks1=$(proc_cpu_ticks "$pid")
secs=$(elapsed_since "$t0")
rss=$(proc_rss_kib "$pid")
hz=$(getconf CLK_TCK)
info "idle: $((ticks1 - ticks0)) CPU ticks (1/$hz s) in $secs s; VmRSS $rss KiB ($ENIROUTE)"
check_eq "no reconcile pass while idle (own changes do not loop)" "$changes_before" "$(grep -c "^watch: " "$(watch_log inst)")"
check "idle CPU: at most 1 tick in 3 s" test $((ticks1 - ticks0)) -le 1
check "RSS below 16 MiB (debug build; release measured for the report)" test "$rss" -lt 16384

section "SIGTERM: clean exit, nothing removed"
snapshot "$WORLD_TMP/before-stop"
watch_stop inst TERM
check_eq "watch exits 0 on SIGTERM" 0 "$WATCH_RC"
snapshot "$WORLD_TMP/after-stop"
check_same_file "rules, routes and addresses unchanged by the stop" "$WORLD_TMP/before-stop" "$WORLD_TMP/after-stop"
check "the stop is logged" grep -E "stopping on SIGTERM" "$(watch_log inst)"

world_finish
