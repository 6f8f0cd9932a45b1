import ENIRouteCore
import ENIRouteNetlink
import ENIRouteSystem
import ENIRouteTestSupport
import Testing

// Dumps: links, addresses, rules, routes and a whole observation read from scripted replies.

@Test func linkDumpSpanningTwoDatagrams() throws {
    let socket = FakeSocket(replies: [hex(loLinkSeq1 + "\n" + eth1Link(seq: 1)), hex(doneSeq1)])
    let links = try NetlinkRouteClient(socket: socket).linkList()
    #expect(links == [lo, eth1])
    #expect(socket.sent == [hex(fixtures[0].expected)])  // exactly the link dump request, seq 1
    #expect(socket.replies.isEmpty)
}

@Test func addressDumpOfBothFamilies() throws {
    let v4 = """
        58 00 00 00  // nlmsg_len 88
        14 00 02 00  // RTM_NEWADDR, NLM_F_MULTI
        01 00 00 00  // seq 1
        92 10 00 00  // pid
        02 18 80 00  // AF_INET, /24, ifa_flags IFA_F_PERMANENT, scope universe
        03 00 00 00  // ifa_index 3
        08 00 01 00 0a 00 02 63              // IFA_ADDRESS 10.0.2.99 (a peer: IPv4 uses IFA_LOCAL)
        08 00 02 00 0a 00 02 0a              // IFA_LOCAL 10.0.2.10
        09 00 03 00 65 74 68 31 00 00 00 00  // IFA_LABEL "eth1"
        08 00 08 00 80 02 00 00              // IFA_FLAGS PERMANENT|NOPREFIXROUTE
        05 00 0b 00 ee 00 00 00              // IFA_PROTO 0xee
        14 00 06 00 ff ff ff ff ff ff ff ff 10 00 00 00 10 00 00 00  // IFA_CACHEINFO (not modelled)
        """
    let v6 = """
        2c 00 00 00  // nlmsg_len 44
        14 00 02 00  // RTM_NEWADDR, NLM_F_MULTI
        02 00 00 00  // seq 2
        92 10 00 00  // pid
        0a 80 82 00  // AF_INET6, /128, ifa_flags PERMANENT|NODAD (no IFA_FLAGS attribute), scope
        01 00 00 00  // ifa_index 1
        14 00 01 00 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 05  // IFA_ADDRESS 2001:db8::5
        """
    let socket = FakeSocket(replies: [hex(v4 + "\n" + doneSeq1), hex(v6 + "\n" + doneSeq2)])
    let addresses = try NetlinkRouteClient(socket: socket).addressList()
    #expect(
        addresses == [
            InterfaceAddress(
                prefix: IPPrefix(address: ip("10.0.2.10"), length: 24), interfaceIndex: 3, noPrefixRoute: true, proto: 0xEE),
            InterfaceAddress(prefix: prefix("2001:db8::5/128"), interfaceIndex: 1, noDAD: true, proto: 0),
        ])
    #expect(
        socket.sent == [
            NetlinkRouteMessage.addressDump(family: .inet, sequence: 1),
            NetlinkRouteMessage.addressDump(family: .inet6, sequence: 2),
        ])
}

@Test func ruleDumpReadsTablesAndFlagsForeignSelectors() throws {
    let v4 = """
        4c 00 00 00  // nlmsg_len 76: eniroute's rule
        20 00 02 00  // RTM_NEWRULE, NLM_F_MULTI
        01 00 00 00 92 10 00 00  // seq 1, pid
        02 00 20 00  // AF_INET, dst_len 0, src_len 32, tos 0
        fc 00 00 01  // table RT_TABLE_COMPAT (252), res1, res2, FR_ACT_TO_TBL
        00 00 00 00  // flags
        08 00 0f 00 11 27 00 00  // FRA_TABLE 10001 (wins over the header)
        08 00 06 00 11 27 00 00  // FRA_PRIORITY 10001
        08 00 02 00 0a 00 02 0a  // FRA_SRC 10.0.2.10
        05 00 15 00 ee 00 00 00  // FRA_PROTOCOL 0xee
        08 00 10 00 00 00 00 00  // FRA_FWMASK 0: no fwmark selector
        08 00 0e 00 ff ff ff ff  // FRA_SUPPRESS_PREFIXLEN -1: unset (dumps always carry it)

        38 00 00 00  // nlmsg_len 56: 100: iif eth0 lookup 100 proto static
        20 00 02 00 01 00 00 00 92 10 00 00
        02 00 00 00 64 00 00 01 00 00 00 00  // AF_INET, table 100 in the header only
        08 00 06 00 64 00 00 00              // FRA_PRIORITY 100
        09 00 03 00 65 74 68 30 00 00 00 00  // FRA_IIFNAME "eth0"
        05 00 15 00 04 00 00 00              // FRA_PROTOCOL static

        34 00 00 00  // nlmsg_len 52: 200: fwmark 0x1 lookup 200 proto boot
        20 00 02 00 01 00 00 00 92 10 00 00
        02 00 00 00 c8 00 00 01 00 00 00 00
        08 00 06 00 c8 00 00 00  // FRA_PRIORITY 200
        08 00 0a 00 01 00 00 00  // FRA_FWMARK 1 (mask all ones)
        05 00 15 00 03 00 00 00  // FRA_PROTOCOL boot

        2c 00 00 00  // nlmsg_len 44: 0: from all lookup local (no FRA_PRIORITY means 0)
        20 00 02 00 01 00 00 00 92 10 00 00
        02 00 00 00 ff 00 00 01 00 00 00 00
        08 00 0f 00 ff 00 00 00  // FRA_TABLE 255
        05 00 15 00 02 00 00 00  // FRA_PROTOCOL kernel

        2c 00 00 00  // nlmsg_len 44: 300: tos 0x10 lookup 300
        20 00 02 00 01 00 00 00 92 10 00 00
        02 00 00 10 00 00 00 01 00 00 00 00  // tos 0x10
        08 00 06 00 2c 01 00 00  // FRA_PRIORITY 300
        08 00 0f 00 2c 01 00 00  // FRA_TABLE 300

        2c 00 00 00  // nlmsg_len 44: 400: lookup 400 suppress_prefixlength 0
        20 00 02 00 01 00 00 00 92 10 00 00
        02 00 00 00 00 00 00 01 00 00 00 00
        08 00 06 00 90 01 00 00  // FRA_PRIORITY 400
        08 00 0e 00 00 00 00 00  // FRA_SUPPRESS_PREFIXLEN 0
        """
    let v6 = """
        3c 00 00 00  // nlmsg_len 60: 1000: from all lookup main suppress_ifgroup 7 proto 0xee
        20 00 02 00 02 00 00 00 92 10 00 00
        0a 00 00 00 fe 00 00 01 00 00 00 00
        08 00 0f 00 fe 00 00 00  // FRA_TABLE 254
        08 00 06 00 e8 03 00 00  // FRA_PRIORITY 1000
        08 00 0d 00 07 00 00 00  // FRA_SUPPRESS_IFGROUP 7
        05 00 15 00 ee 00 00 00  // FRA_PROTOCOL 0xee
        """
    let socket = FakeSocket(replies: [hex(v4 + "\n" + doneSeq1), hex(v6 + "\n" + doneSeq2)])
    let rules = try NetlinkRouteClient(socket: socket).ruleList()
    #expect(
        rules == [
            ruleV4,
            RoutingPolicyRule(family: .inet, priority: 100, table: 100, proto: 4, hasOtherSelectors: true),
            RoutingPolicyRule(family: .inet, priority: 200, table: 200, proto: 3, hasOtherSelectors: true),
            RoutingPolicyRule(family: .inet, priority: 0, table: 255, proto: 2),
            RoutingPolicyRule(family: .inet, priority: 300, table: 300, proto: 0, hasOtherSelectors: true),
            RoutingPolicyRule(family: .inet, priority: 400, table: 0, proto: 0, hasOtherSelectors: true),
            ruleSuppressV6,
        ])
}

@Test func routeDumpSkipsClonesAndFallsBackToHeaderTable() throws {
    let v4 = """
        34 00 00 00  // nlmsg_len 52: default via 10.0.2.1 dev 3 table 10001 proto 0xee
        18 00 02 00 01 00 00 00 92 10 00 00  // RTM_NEWROUTE, NLM_F_MULTI, seq 1, pid
        02 00 00 00  // AF_INET, dst_len 0, src_len 0, tos 0
        fc ee 00 01  // table RT_TABLE_COMPAT, protocol 0xee, scope universe, RTN_UNICAST
        00 00 00 00  // rtm_flags
        08 00 0f 00 11 27 00 00  // RTA_TABLE 10001
        08 00 05 00 0a 00 02 01  // RTA_GATEWAY 10.0.2.1
        08 00 04 00 03 00 00 00  // RTA_OIF 3

        2c 00 00 00  // nlmsg_len 44: a cached clone, skipped
        18 00 02 00 01 00 00 00 92 10 00 00
        02 20 00 00 fe 02 00 01  // AF_INET, /32, table main, proto kernel, unicast
        00 02 00 00              // rtm_flags RTM_F_CLONED (0x200)
        08 00 0f 00 fe 00 00 00  // RTA_TABLE 254
        08 00 01 00 0a 00 02 05  // RTA_DST 10.0.2.5

        44 00 00 00  // nlmsg_len 68: 10.0.2.0/24 dev 3 src 10.0.2.10 scope link metric 100
        18 00 02 00 01 00 00 00 92 10 00 00
        02 18 00 00 fc ee fd 01  // /24, table COMPAT, proto 0xee, scope link, unicast
        00 00 00 00
        08 00 0f 00 11 27 00 00  // RTA_TABLE 10001
        08 00 01 00 0a 00 02 00  // RTA_DST 10.0.2.0
        08 00 06 00 64 00 00 00  // RTA_PRIORITY 100
        08 00 07 00 0a 00 02 0a  // RTA_PREFSRC 10.0.2.10
        08 00 04 00 03 00 00 00  // RTA_OIF 3
        """
    let v6 = """
        40 00 00 00  // nlmsg_len 64: 2600:1f16:67f:f201::/64 dev 3 proto kernel metric 256, no RTA_TABLE
        18 00 02 00 02 00 00 00 92 10 00 00
        0a 40 00 00 fe 02 00 01  // AF_INET6, /64, table main (254) in the header only, proto kernel
        00 00 00 00
        14 00 01 00 26 00 1f 16 06 7f f2 01 00 00 00 00 00 00 00 00  // RTA_DST
        08 00 06 00 00 01 00 00  // RTA_PRIORITY 256
        08 00 04 00 03 00 00 00  // RTA_OIF 3
        """
    let socket = FakeSocket(replies: [hex(v4 + "\n" + doneSeq1), hex(v6 + "\n" + doneSeq2)])
    let routes = try NetlinkRouteClient(socket: socket).routeList()
    #expect(
        routes == [
            defaultRouteV4,
            Route(
                destination: prefix("10.0.2.0/24"), table: 10001, outputInterface: 3, preferredSource: ip("10.0.2.10"),
                scope: .link, proto: Ownership.routeProtocol, metric: 100),
            Route(destination: prefix("2600:1f16:67f:f201::/64"), table: 254, outputInterface: 3, proto: 2, metric: 256),
        ])
}

@Test func observeReadsEverything() throws {
    let socket = FakeSocket(replies: [
        hex(loLinkSeq1 + "\n" + doneSeq1),
        hex(done(sequence: 2)), hex(done(sequence: 3)), hex(done(sequence: 4)), hex(done(sequence: 5)),
        hex(done(sequence: 6)), hex(done(sequence: 7)),
    ])
    let state = try NetlinkRouteClient(socket: socket).observe()
    #expect(state == ObservedState(links: [lo]))
    #expect(socket.sent.count == 7)
}
