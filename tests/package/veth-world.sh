#!/bin/bash
# The shipped binary against veth links (run by check-veth.sh with ENIROUTE = the .deb's
# /usr/sbin/eniroute): the namespace world's ENIs are veth pairs with the MACs the IMDS simulator
# lists. Only the test variant (built with -DENIROUTE_ACCEPT_VETH) may take a veth for an ENI; the
# binary users install must leave them alone: no rule, route, address or group change, and
# `apply eth1` refused by name.
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

world_build two-subnets
imds_start
snapshot "$WORLD_TMP/before"

section "eniroute apply (shipped binary, every ENI a veth)"
check_eniroute "eniroute apply exits 0 (nothing it may configure)" apply
snapshot "$WORLD_TMP/after"
check_same_file "rules, routes, addresses and link groups unchanged" "$WORLD_TMP/before" "$WORLD_TMP/after"
check "no rule of eniroute's" no_rule_matches 4 "$PROTO_RE"
check_not "eth1 (veth) stays out of interface group $ENI_GROUP" link_group_is eth1 "$ENI_GROUP"
check_not "client -> 10.0.2.10 still fails (eth1 not configured)" can_ping client 10.0.2.10

section "eniroute apply eth1 (named)"
eniroute apply eth1
check_eq "apply eth1 exits 1" 1 "$ENIROUTE_RC"
check "it says why" grep -F "link eth1 is a veth, not an ENI" "$ENIROUTE_OUT"
snapshot "$WORLD_TMP/after-named"
check_same_file "still unchanged" "$WORLD_TMP/before" "$WORLD_TMP/after-named"

world_finish
