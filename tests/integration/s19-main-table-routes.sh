#!/bin/bash
# S19 (issue 12, item 1): an administrator's route in the main table through an ENI (service
# chaining: 203.0.113.0/24 via the appliance 10.0.1.50, the peer, on eth0). eniroute mirrors it
# into eth0's table, tagged as its own, so traffic from eth0's own addresses goes through the
# appliance too (without the copy, eth0's rule sends it to table 10000 and the subnet router);
# traffic from eth1's address still leaves through eth1 (through eth0 the VPC's source check would
# drop it); unbound traffic follows main as before; main itself is unchanged. The watcher follows
# a route added and one deleted later (measured). S2 and S5 cover two ENIs in one subnet and a
# bridge, unchanged.
# Also run with strict reverse-path filtering on the instance (CIS-hardened images):
# also-with: WORLD_RP_FILTER=1
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

APPLIANCE=$PEER4 TARGET=203.0.113.7

# route_get ARGS… → the first line of `ip route get ARGS…` in inst.
route_get() { nsx inst ip -4 route get "$@" | head -n 1; }

# via_appliance ARGS…: `ip route get ARGS…` goes through the appliance on eth0.
via_appliance() { route_get "$@" | grep -E "via $APPLIANCE dev eth0( |$)"; }

world_build two-subnets
INST=$(ns inst)
assert_not_root_ns "$INST"
# The appliance answers for the target (on its lo); the VPC routes the prefix to it.
assert_not_root_ns "$(ns peer)"
ip -n "$(ns peer)" addr add "$TARGET/32" dev lo || world_abort "target on the peer"
vpc_allow p "$TARGET"
imds_start

section "the administrator's route (before eniroute)"
ip -n "$INST" route add 203.0.113.0/24 via "$APPLIANCE" dev eth0 || world_abort "route via the appliance"
check "from 10.0.1.10: via the appliance" via_appliance "$TARGET" from 10.0.1.10
snapshot_main "$WORLD_TMP/main.before"

section "eniroute apply (picks up what main has)"
check_eniroute "eniroute apply exits 0" apply
check "table 10000 has eniroute's copy" route_present 4 10000 "^203\.0\.113\.0/24 via 10\.0\.1\.50 dev eth0 .*$PROTO_RE"
check "table 10001 has no copy (the route is not through eth1)" eval "! route_present 4 10001 '^203\.0\.113\.0/24'"
info "ip route get $TARGET from 10.0.1.10: $(route_get "$TARGET" from 10.0.1.10)"
check "from 10.0.1.10 (eth0's own address): via the appliance" via_appliance "$TARGET" from 10.0.1.10
check "unbound: via the appliance" via_appliance "$TARGET"
info "ip route get $TARGET from 10.0.2.10: $(route_get "$TARGET" from 10.0.2.10)"
check "from 10.0.2.10 (eth1's address): through eth1, table 10001" \
    eval "route_get $TARGET from 10.0.2.10 | grep -E 'via 10\.0\.2\.1 dev eth1 table 10001'"
snapshot_main "$WORLD_TMP/main.after"
check_same_file "main table unchanged" "$WORLD_TMP/main.before" "$WORLD_TMP/main.after"

section "packets"
ip -n "$INST" neigh flush dev eth0
check "10.0.1.10 -> $TARGET" can_ping inst "$TARGET" 10.0.1.10
check "eth0 resolved the appliance (the packets went to it, not to the subnet router)" \
    eval "nsx inst ip neigh show dev eth0 to $APPLIANCE | grep -E 'lladdr'"
check "10.0.2.10 -> $TARGET (leaves through eth1; through eth0 r0's source check drops it)" can_ping inst "$TARGET" 10.0.2.10
check "client -> 10.0.2.10" can_ping client 10.0.2.10
check "client -> 10.0.1.10" can_ping client 10.0.1.10
check_eniroute "a second apply exits 0" apply
check "it logs 'no change'" grep -Ei "no change" "$ENIROUTE_OUT"

section "the watcher follows main"
watch_start inst
ip -n "$INST" route add 192.0.2.0/24 via "$APPLIANCE" dev eth0 || world_abort "second route"
check_within "a route added later is mirrored" 1 route_present 4 10000 "^192\.0\.2\.0/24 via 10\.0\.1\.50 dev eth0 .*$PROTO_RE"
info "added: mirrored after $WAITED s"
check "from 10.0.1.10 to 192.0.2.1: via the appliance" via_appliance 192.0.2.1 from 10.0.1.10
ip -n "$INST" route del 203.0.113.0/24 via "$APPLIANCE" dev eth0 || world_abort "route del"
check_within "a route deleted later loses its copy" 1 eval "! route_present 4 10000 '^203\.0\.113\.0/24'"
info "deleted: copy gone after $WAITED s"
check "from 10.0.1.10: back to the subnet router" \
    eval "route_get $TARGET from 10.0.1.10 | grep -E 'via 10\.0\.1\.1 dev eth0 table 10000'"
check "the watcher is still running" watch_running inst
watch_stop inst
check_eq "the watcher exits 0 on SIGTERM" 0 "$WATCH_RC"

world_finish
