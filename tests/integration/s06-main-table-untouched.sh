#!/bin/bash
# S6: eniroute never touches the main table: `ip route show table main` and `ip -6 route show
# table main` are identical before and after `eniroute apply`, in worlds where it adds routes,
# rules and addresses (two subnets, secondary IPv4s, dual stack).
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

for variant in two-subnets secondary-ipv4s dual-stack; do
    section "$variant"
    world_build "$variant"
    imds_start
    snapshot_main "$WORLD_TMP/main.before"
    check_eniroute "$variant: eniroute apply exits 0" apply
    snapshot_main "$WORLD_TMP/main.after"
    check_same_file "$variant: main table (IPv4 and IPv6) identical before and after" "$WORLD_TMP/main.before" "$WORLD_TMP/main.after"
    check "$variant: apply did configure the 2nd ENI (rule for 10.0.2.10)" rule_present 4 "from 10\.0\.2\.10 lookup "
    check "$variant: client -> 10.0.2.10" can_ping client 10.0.2.10
    world_destroy
done

world_finish
