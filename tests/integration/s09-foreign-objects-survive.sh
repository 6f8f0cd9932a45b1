#!/bin/bash
# S9: rules, routes and addresses eniroute did not create survive `apply` and `remove`, even in
# its own tables and at its own priorities.
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

world_build two-subnets
imds_start
INST=$(ns inst)
assert_not_root_ns "$INST"

section "objects eniroute did not create"
ip -n "$INST" -4 rule add from 10.0.2.99 lookup 300 priority 20000
ip -n "$INST" -6 rule add from 2001:db8:2::99 lookup 300 priority 20000
ip -n "$INST" -4 rule add from 10.0.2.98 lookup 10001 priority 10002
ip -n "$INST" -4 route add 10.99.0.0/16 dev eth1 table 10001 proto static
ip -n "$INST" -4 route add 10.98.0.0/16 via 10.0.1.1 dev eth0 table 10000 proto static
ip -n "$INST" -4 route add 192.0.2.0/24 via 10.0.1.1 dev eth0
ip -n "$INST" addr add 10.0.2.77/24 dev eth1
foreign() {
    {
        nsx inst ip -4 rule show | grep -E "10\.0\.2\.99|10\.0\.2\.98"
        nsx inst ip -6 rule show | grep -E "2001:db8:2::99"
        nsx inst ip -4 route show table 10001 | grep "10.99.0.0/16"
        nsx inst ip -4 route show table 10000 | grep "10.98.0.0/16"
        nsx inst ip -4 route show table main | grep "192.0.2.0/24"
        nsx inst ip -4 addr show dev eth1 | grep "10.0.2.77/"
    } >"$1"
}
foreign "$WORLD_TMP/foreign.before"
sed 's/^/   | /' "$WORLD_TMP/foreign.before"
check_eq "seven foreign objects in place" 7 "$(wc -l <"$WORLD_TMP/foreign.before")"

section "eniroute apply"
check_eniroute "eniroute apply exits 0" apply
foreign "$WORLD_TMP/foreign.apply"
check_same_file "foreign objects unchanged by apply" "$WORLD_TMP/foreign.before" "$WORLD_TMP/foreign.apply"
check "eniroute's own rule for 10.0.2.10 is there too" rule_present 4 "from 10\.0\.2\.10 lookup 10001 .*$PROTO_RE"
check "client -> 10.0.2.10" can_ping client 10.0.2.10

section "eniroute apply again"
check_eniroute "second apply exits 0" apply
foreign "$WORLD_TMP/foreign.apply2"
check_same_file "foreign objects unchanged by a second apply" "$WORLD_TMP/foreign.before" "$WORLD_TMP/foreign.apply2"

section "eniroute remove eth1"
check_eniroute "eniroute remove eth1 exits 0" remove eth1
foreign "$WORLD_TMP/foreign.remove"
check_same_file "foreign objects unchanged by remove" "$WORLD_TMP/foreign.before" "$WORLD_TMP/foreign.remove"
check "table 10001 has no eniroute routes" table_has_no_eniroute_routes 10001
check "eniroute's rule for 10.0.2.10 is gone" no_rule_matches 4 "from 10\.0\.2\.10 lookup 10001"
check "client -> 10.0.1.10" can_ping client 10.0.1.10

section "eniroute apply, then eniroute remove --all (the package's removal)"
check_eniroute "apply exits 0" apply
check_eniroute "eniroute remove --all exits 0" remove --all
foreign "$WORLD_TMP/foreign.remove-all"
check_same_file "foreign objects unchanged by remove --all" "$WORLD_TMP/foreign.before" "$WORLD_TMP/foreign.remove-all"
check "no IPv4 rule of eniroute's left" no_rule_matches 4 "$PROTO_RE"
check "no IPv6 rule of eniroute's left" no_rule_matches 6 "$PROTO_RE"
for t in 10000 10001; do check "table $t has no eniroute routes" table_has_no_eniroute_routes "$t"; done
check_eq "no address of eniroute's left" 0 "$(ip -n "$INST" -o address show | grep -cE "$PROTO_RE" || true)"
check "client -> 10.0.1.10 (main table alone)" can_ping client 10.0.1.10
world_destroy

# An address eniroute added can be the interface's primary one (no DHCP on eth1); an address the
# admin adds later in the same subnet is then its kernel "secondary". Without
# promote_secondaries (kernel default; systemd's sysctl.d sets it to 1) deleting the primary
# flushes the secondaries too: eniroute then keeps its own address and says why.
for promote in 1 0; do
    section "foreign address next to an eniroute-added primary (promote_secondaries=$promote)"
    world_build two-subnets
    imds_start
    INST=$(ns inst)
    assert_not_root_ns "$INST"
    ns_sysctl inst "net.ipv4.conf.eth1.promote_secondaries=$promote"
    ip -n "$INST" addr del 10.0.2.10/24 dev eth1
    check_eniroute "eniroute apply exits 0" apply
    check "eniroute added 10.0.2.10/24 to eth1" addr_present eth1 "inet 10\.0\.2\.10/24 .*noprefixroute"
    ip -n "$INST" addr add 10.0.2.77/24 dev eth1
    check_eniroute "eniroute remove eth1 exits 0" remove eth1
    check "foreign 10.0.2.77/24 survives remove (promote_secondaries=$promote)" addr_present eth1 "inet 10\.0\.2\.77/24 "
    if [[ $promote == 1 ]]; then
        check_not "eniroute's 10.0.2.10 is gone (the kernel promotes 10.0.2.77)" addr_present eth1 "inet 10\.0\.2\.10/"
    else
        check "eniroute's 10.0.2.10 is kept (deleting it would take 10.0.2.77)" addr_present eth1 "inet 10\.0\.2\.10/"
        check "remove says why it kept 10.0.2.10" grep -q "10.0.2.10/24 on eth1 is kept: deleting it would also delete 10.0.2.77/24" "$ENIROUTE_OUT"
    fi
    world_destroy
done

world_finish
