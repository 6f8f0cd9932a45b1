#!/bin/bash
# S10: hot attach. A third ENI (eth2, device 2, subnet C) appears while the instance runs; IMDS
# shows its directory before its keys (device-number reads 0 until the keys propagate). After
# `eniroute apply eth2` it gets table 10002 (never the primary's 10000) and the client reaches
# 10.0.3.10; eth0 and eth1 keep their tables untouched.
# Also run with strict reverse-path filtering on the instance (CIS-hardened images):
# also-with: WORLD_RP_FILTER=1
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

world_build two-subnets
imds_start

section "boot: eniroute apply (two ENIs)"
check_eniroute "eniroute apply exits 0" apply
check "client -> 10.0.2.10" can_ping client 10.0.2.10
{ nsx inst ip -4 route show table 10000; nsx inst ip -4 route show table 10001; } >"$WORLD_TMP/tables.before"

section "hot attach of eth2 (IMDS keys propagate after 4 requests)"
check "IMDS: attach 02:00:00:00:03:0a with delayed keys" imds_control POST "/_sim/mac/${ENI_MAC[2]}" \
    '{"keys": {"device-number": "2", "interface-id": "eni-0aaaaaaaaaaaaaa03", "mac": "02:00:00:00:03:0a", "local-ipv4s": "10.0.3.10", "subnet-ipv4-cidr-block": "10.0.3.0/24"}, "propagation": {"after_requests": 4}}'
world_eni 2 C 10.0.3.10
inst_distro 2 10.0.3.10
drops=$(misroute_drops r0)
check_not "client -> 10.0.3.10 fails before eniroute" can_ping client 10.0.3.10
check_gt "dropped: by r0's source check (the reply), or with strict rp_filter by the instance (the request)" "$(misroute_drops r0)" "$drops"

section "eniroute apply eth2"
check_eniroute "eniroute apply eth2 exits 0" apply eth2
check "rule from 10.0.3.10 lookup 10002" rule_present 4 "^10003:[[:space:]]+from 10\.0\.3\.10 lookup 10002 .*$PROTO_RE"
check_not "no rule sends 10.0.3.10 to the primary's table" rule_present 4 "from 10\.0\.3\.10 lookup 10000( |$)"
check_eni_objects 2
check "client -> 10.0.3.10" can_ping client 10.0.3.10
check "client -> 10.0.2.10" can_ping client 10.0.2.10
check "client -> 10.0.1.10" can_ping client 10.0.1.10
{ nsx inst ip -4 route show table 10000; nsx inst ip -4 route show table 10001; } >"$WORLD_TMP/tables.after"
check_same_file "tables 10000 and 10001 unchanged by the hot attach" "$WORLD_TMP/tables.before" "$WORLD_TMP/tables.after"

section "a full apply afterwards changes nothing"
check_eniroute "eniroute apply exits 0" apply
check "it logs 'no change'" grep -Ei "no change" "$ENIROUTE_OUT"

world_finish
