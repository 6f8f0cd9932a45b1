#!/bin/bash
# S0: the test world itself, without eniroute. Proves that the emulated VPC reproduces the
# failures eniroute must fix, and that hand-written policy routing equal to eniroute's design
# (manual_policy_routing) fixes them:
#  - a reply from the 2nd ENI's address leaving through eth0 is dropped by the router's source
#    check (nft counter), and passes with per-ENI tables and rules;
#  - rules for the primary ENI break the container on br0 unless `suppress_ifgroup` comes first;
#  - two ENIs in one subnet: client and same-subnet peer reach both only with policy routing;
#  - IPv6: the router answers at fe80:ec2::1; the 2nd ENI's IPv6 needs policy routing too.
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

section "safety"
world_create
check "namespace guard refuses the starting namespace" \
    bash -c '. "$1"; ip netns attach "$2" $$ || { ip netns del "$2"; exit 1; }; (assert_not_root_ns "$2") >/dev/null 2>&1; r=$?; ip netns del "$2"; [ $r != 0 ]' \
    _ "$WORLD_REPO/tests/lib/world.sh" "$WORLD_PREFIX-self"
check "namespace guard accepts a world namespace" assert_not_root_ns "$(ns inst)"

section "stale namespaces of a killed run (tests/lib/runner.sh)"
# A run killed with SIGKILL leaves its namespaces; the runners delete them at start, every role
# the world creates (instb: S12, S13) included, and never those of a live run (this one).
bash -c 'exit 0' &
dead=$!
wait "$dead"
stale=("er${dead}x1-inst" "er${dead}x1-instb" "er${dead}x1-vpc")
live="er$$x99-instb"
for n in "${stale[@]}" "$live"; do ip netns add "$n"; done
(. "$WORLD_REPO/tests/lib/runner.sh" && runner_delete_stale_namespaces) >/dev/null
for n in "${stale[@]}"; do
    check_not "stale $n deleted" ip netns exec "$n" true
done
check "a live run's $live kept" ip netns exec "$live" true
for n in "${stale[@]}" "$live"; do ip netns del "$n" 2>/dev/null; done
world_destroy

section "two subnets: before policy routing"
world_build two-subnets
tcp_start
check "client -> 10.0.1.10 (primary)" can_ping client 10.0.1.10
check "peer -> 10.0.1.10 (same subnet, proxy ARP)" can_ping peer 10.0.1.10
check "client -> 10.0.1.10 TCP" can_tcp client 10.0.1.10
before=$(misroute_drops r0)
check_not "client -> 10.0.2.10 fails (reply leaves via eth0)" can_ping client 10.0.2.10
check_gt "dropped: by r0's source check (the reply), or with strict rp_filter by the instance (the request)" "$(misroute_drops r0)" "$before"
check "container -> 10.0.1.10" can_ping ctr 10.0.1.10
check "container -> 10.0.2.10" can_ping ctr 10.0.2.10

section "two subnets: per-ENI rules without suppress_ifgroup"
manual_policy_routing --no-suppress
check "client -> 10.0.2.10" can_ping client 10.0.2.10
check "client -> 10.0.2.10 TCP" can_tcp client 10.0.2.10
check "client -> 10.0.1.10" can_ping client 10.0.1.10
check_not "container -> 10.0.1.10 breaks (reply leaves via eth0)" can_ping ctr 10.0.1.10
check_not "container -> 10.0.2.10 breaks (reply leaves via eth1)" can_ping ctr 10.0.2.10

section "two subnets: with suppress_ifgroup first"
nsx inst ip -4 rule add priority 10000 lookup main suppress_ifgroup 10000 protocol 0xee
nsx inst ip -6 rule add priority 10000 lookup main suppress_ifgroup 10000 protocol 0xee
check "container -> 10.0.1.10" can_ping ctr 10.0.1.10
check "container -> 10.0.2.10" can_ping ctr 10.0.2.10
check "container -> 10.0.2.10 TCP" can_tcp ctr 10.0.2.10
check "inst (from 10.0.2.10) -> container" can_ping inst 172.17.0.2 10.0.2.10
check "client -> 10.0.2.10" can_ping client 10.0.2.10
check "client -> 10.0.1.10" can_ping client 10.0.1.10
check "peer -> 10.0.2.10" can_ping peer 10.0.2.10
check "inst -> client (unbound source)" can_ping inst 198.51.100.10
world_destroy

section "same subnet (seed 002)"
world_build same-subnet
check "peer -> 10.0.1.10" can_ping peer 10.0.1.10
check_not "peer -> 10.0.1.20 fails before" can_ping peer 10.0.1.20
manual_policy_routing
check "peer -> 10.0.1.20 after" can_ping peer 10.0.1.20
check "client -> 10.0.1.20 after" can_ping client 10.0.1.20
check "peer -> 10.0.1.10 after" can_ping peer 10.0.1.10
check "client -> 10.0.1.10 after" can_ping client 10.0.1.10
check "container -> 10.0.1.20 after" can_ping ctr 10.0.1.20
world_destroy

section "secondary IPv4s"
world_build secondary-ipv4s
manual_policy_routing
tcp_start
for a in 10.0.2.10 10.0.2.11 10.0.2.12 10.0.2.13; do
    check "client -> $a" can_ping client "$a"
    check "client -> $a TCP" can_tcp client "$a"
done
world_destroy

section "IPv6 dual stack"
world_build dual-stack
tcp_start
check "router answers at fe80:ec2::1 on eth0 (default gateway)" can_ping inst fe80:ec2::1%eth0
check "client -> 2001:db8:1::10" can_ping client 2001:db8:1::10
check "peer -> 2001:db8:1::10 (same subnet, proxy NDP)" can_ping peer 2001:db8:1::10
before=$(srccheck_drops r0 6)
check_not "client -> 2001:db8:2::10 fails before" can_ping client 2001:db8:2::10
check_gt "router source check on r0 dropped the IPv6 reply" "$(srccheck_drops r0 6)" "$before"
manual_policy_routing
for a in 2001:db8:2::10 2001:db8:2::11 2001:db8:1::10; do
    check "client -> $a" can_ping client "$a"
    check "client -> $a TCP" can_tcp client "$a"
done
check "client -> 10.0.2.10" can_ping client 10.0.2.10
check "eth1 resolved its gateway fe80:ec2::1 to r1" neigh_is inst eth1 fe80:ec2::1 "${RPORT_MAC[1]}"
world_destroy

world_finish
