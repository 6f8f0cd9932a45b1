#!/bin/bash
# S7: a second `eniroute apply` changes nothing: rules, routes (all tables), addresses and
# interface groups are identical, and eniroute says so ("no change").
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

for variant in dual-stack secondary-ipv4s; do
    section "$variant"
    world_build "$variant"
    imds_start
    check_eniroute "$variant: first apply exits 0" apply
    snapshot "$WORLD_TMP/state.1"
    check_eniroute "$variant: second apply exits 0" apply
    snapshot "$WORLD_TMP/state.2"
    check_same_file "$variant: kernel state identical after the second apply" "$WORLD_TMP/state.1" "$WORLD_TMP/state.2"
    check "$variant: second apply logs 'no change'" grep -Ei "no change|nothing to (do|change)" "$ENIROUTE_OUT"
    check_not "$variant: second apply logs no change line (ip …)" grep -E "^(<[0-9]>)?ip " "$ENIROUTE_OUT"
    eniroute plan
    check "$variant: plan after apply says 'no change'" grep -Ei "no change" "$ENIROUTE_OUT"
    check "$variant: client -> 10.0.2.10" can_ping client 10.0.2.10
    world_destroy
done

world_finish
