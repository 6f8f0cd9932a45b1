import ENIRouteCore
import ENIRouteNetlink
import ENIRouteTestSupport
import Testing

/// The route and rule requests (`ip route add|replace|del`, `ip rule add|del`).
let routeAndRuleFixtures: [Fixture] = [
    Fixture(
        name: "route add inet default", built: NetlinkRouteMessage.routeAdd(defaultRouteV4, sequence: 13),
        expected: messageHeader(length: 60, .newRoute, .create, sequence: 13) + """
            02           // rtm_family AF_INET
            00           // rtm_dst_len 0 (default)
            00           // rtm_src_len
            00           // rtm_tos
            00           // rtm_table RT_TABLE_UNSPEC (10001 does not fit)
            ee           // rtm_protocol 0xee
            00           // rtm_scope RT_SCOPE_UNIVERSE
            01           // rtm_type RTN_UNICAST
            00 00 00 00  // rtm_flags
            08 00 0f 00  // rtattr: rta_len 8, rta_type RTA_TABLE (15)
            11 27 00 00  // 10001
            08 00 06 00 00 00 00 00  // RTA_PRIORITY (6) 0
            08 00 04 00 03 00 00 00  // RTA_OIF (4) 3
            08 00 05 00 0a 00 02 01  // RTA_GATEWAY (5) 10.0.2.1
            """),
    Fixture(
        name: "route add inet subnet", built: NetlinkRouteMessage.routeAdd(subnetRouteV4, sequence: 14),
        expected: messageHeader(length: 68, .newRoute, .create, sequence: 14) + """
            02 18 00 00 00 ee fd 01 00 00 00 00  // rtmsg: AF_INET, dst_len 24, proto 0xee, RT_SCOPE_LINK (253), RTN_UNICAST
            08 00 0f 00 11 27 00 00  // RTA_TABLE 10001
            08 00 01 00 0a 00 02 00  // RTA_DST (1) 10.0.2.0
            08 00 06 00 00 00 00 00  // RTA_PRIORITY 0
            08 00 04 00 03 00 00 00  // RTA_OIF 3
            08 00 07 00 0a 00 02 0a  // RTA_PREFSRC (7) 10.0.2.10
            """),
    Fixture(
        name: "route replace inet6 default", built: NetlinkRouteMessage.routeReplace(defaultRouteV6, sequence: 15),
        expected: messageHeader(length: 72, .newRoute, .replace, sequence: 15) + """
            0a 00 00 00 00 ee 00 01 00 00 00 00  // rtmsg: AF_INET6, proto 0xee, RTN_UNICAST
            08 00 0f 00 11 27 00 00  // RTA_TABLE 10001
            08 00 06 00 00 04 00 00  // RTA_PRIORITY 1024
            08 00 04 00 03 00 00 00  // RTA_OIF 3
            14 00 05 00 fe 80 0e c2 00 00 00 00 00 00 00 00 00 00 00 01  // RTA_GATEWAY (len 20) fe80:ec2::1
            """),
    Fixture(
        name: "route add inet6 on-link, table < 256", built: NetlinkRouteMessage.routeAdd(onLinkRouteV6, sequence: 16),
        expected: messageHeader(length: 72, .newRoute, .create, sequence: 16) + """
            0a 40 00 00 c8 ee 00 01 00 00 00 00  // rtmsg: AF_INET6, dst_len 64, table 200 (fits here), proto 0xee, RTN_UNICAST
            08 00 0f 00 c8 00 00 00  // RTA_TABLE 200
            14 00 01 00 26 00 1f 16 06 7f f2 01 00 00 00 00 00 00 00 00  // RTA_DST (len 20) 2600:1f16:67f:f201::
            08 00 06 00 00 04 00 00  // RTA_PRIORITY 1024
            08 00 04 00 03 00 00 00  // RTA_OIF 3
            """),
    Fixture(
        name: "route delete inet", built: NetlinkRouteMessage.routeDelete(defaultRouteV4, sequence: 17),
        expected: messageHeader(length: 60, .deleteRoute, .ack, sequence: 17) + """
            02 00 00 00 00 ee ff 01 00 00 00 00  // rtmsg: AF_INET, proto 0xee (ours only), RT_SCOPE_NOWHERE (any), RTN_UNICAST
            08 00 0f 00 11 27 00 00  // RTA_TABLE 10001
            08 00 06 00 00 00 00 00  // RTA_PRIORITY 0
            08 00 04 00 03 00 00 00  // RTA_OIF 3
            08 00 05 00 0a 00 02 01  // RTA_GATEWAY 10.0.2.1
            """),
    Fixture(
        name: "route delete inet6", built: NetlinkRouteMessage.routeDelete(defaultRouteV6, sequence: 22),
        expected: messageHeader(length: 72, .deleteRoute, .ack, sequence: 22) + """
            0a 00 00 00 00 ee ff 01 00 00 00 00  // rtmsg: AF_INET6, proto 0xee, RT_SCOPE_NOWHERE, RTN_UNICAST
            08 00 0f 00 11 27 00 00  // RTA_TABLE 10001
            08 00 06 00 00 04 00 00  // RTA_PRIORITY 1024
            08 00 04 00 03 00 00 00  // RTA_OIF 3
            14 00 05 00 fe 80 0e c2 00 00 00 00 00 00 00 00 00 00 00 01  // RTA_GATEWAY fe80:ec2::1
            """),
    Fixture(
        name: "rule add inet", built: NetlinkRouteMessage.ruleAdd(ruleV4, sequence: 18),
        expected: messageHeader(length: 60, .newRule, .create, sequence: 18) + """
            02           // family AF_INET
            00           // dst_len
            20           // src_len 32
            00           // tos
            00           // table RT_TABLE_UNSPEC (10001 is in FRA_TABLE)
            00 00        // res1, res2
            01           // action FR_ACT_TO_TBL
            00 00 00 00  // flags
            08 00 06 00 11 27 00 00  // FRA_PRIORITY (6) 10001
            08 00 02 00 0a 00 02 0a  // FRA_SRC (2) 10.0.2.10
            08 00 0f 00 11 27 00 00  // FRA_TABLE (15) 10001
            05 00 15 00 ee 00 00 00  // FRA_PROTOCOL (21), rta_len 5: 0xee + 3 bytes padding
            """),
    Fixture(
        name: "rule add inet6 suppress_ifgroup", built: NetlinkRouteMessage.ruleAdd(ruleSuppressV6, sequence: 19),
        expected: messageHeader(length: 60, .newRule, .create, sequence: 19) + """
            0a 00 00 00 fe 00 00 01 00 00 00 00  // fib_rule_hdr: AF_INET6, from all, table 254 (main: fits), FR_ACT_TO_TBL
            08 00 06 00 e8 03 00 00  // FRA_PRIORITY 1000
            08 00 0f 00 fe 00 00 00  // FRA_TABLE 254
            08 00 0d 00 07 00 00 00  // FRA_SUPPRESS_IFGROUP (13) 7
            05 00 15 00 ee 00 00 00  // FRA_PROTOCOL 0xee + 3 bytes padding
            """),
    Fixture(
        name: "rule delete inet6", built: NetlinkRouteMessage.ruleDelete(ruleV6, sequence: 20),
        expected: messageHeader(length: 72, .deleteRule, .ack, sequence: 20) + """
            0a 00 80 00 00 00 00 01 00 00 00 00  // fib_rule_hdr: AF_INET6, src_len 128, FR_ACT_TO_TBL
            08 00 06 00 11 27 00 00  // FRA_PRIORITY 10001
            14 00 02 00 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 05  // FRA_SRC (len 20) 2001:db8::5
            08 00 0f 00 11 27 00 00  // FRA_TABLE 10001
            05 00 15 00 ee 00 00 00  // FRA_PROTOCOL 0xee + 3 bytes padding
            """),
    Fixture(
        name: "rule delete inet with to", built: NetlinkRouteMessage.ruleDelete(ruleWithTo, sequence: 21),
        expected: messageHeader(length: 68, .deleteRule, .ack, sequence: 21) + """
            02 10 08 00 64 00 00 01 00 00 00 00  // fib_rule_hdr: AF_INET, dst_len 16, src_len 8, table 100, FR_ACT_TO_TBL
            08 00 06 00 f4 01 00 00  // FRA_PRIORITY 500
            08 00 02 00 0a 00 00 00  // FRA_SRC 10.0.0.0
            08 00 01 00 c0 a8 00 00  // FRA_DST (1) 192.168.0.0
            08 00 0f 00 64 00 00 00  // FRA_TABLE 100
            05 00 15 00 00 00 00 00  // FRA_PROTOCOL 0 (not ours) + 3 bytes padding
            """),
]
