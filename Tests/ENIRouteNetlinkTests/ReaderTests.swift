import ENIRouteCore
import ENIRouteNetlink
import ENIRouteSystem
import ENIRouteTestSupport
import Testing

// Hand-written kernel replies for a socket whose port id is 4242 (0x1092).

let doneSeq1 = """
    14 00 00 00  // nlmsg_len 20
    03 00        // NLMSG_DONE
    02 00        // NLM_F_MULTI
    01 00 00 00  // seq 1
    92 10 00 00  // pid 4242
    00 00 00 00  // error 0
    """
let doneSeq2 = """
    14 00 00 00 03 00 02 00  // len 20, NLMSG_DONE, NLM_F_MULTI
    02 00 00 00              // seq 2
    92 10 00 00              // pid 4242
    00 00 00 00              // error 0
    """

let loLinkSeq1 = """
    3c 00 00 00  // nlmsg_len 60
    10 00        // RTM_NEWLINK
    02 00        // NLM_F_MULTI
    01 00 00 00  // seq 1
    92 10 00 00  // pid 4242
    00 00        // ifi_family, pad
    04 03        // ifi_type ARPHRD_LOOPBACK (772)
    01 00 00 00  // ifi_index 1
    08 00 00 00  // ifi_flags IFF_LOOPBACK (down)
    00 00 00 00  // ifi_change
    07 00 03 00 6c 6f 00 00              // IFLA_IFNAME "lo\\0" + 1 pad
    0a 00 01 00 00 00 00 00 00 00 00 00  // IFLA_ADDRESS 00:00:00:00:00:00 + 2 pad
    08 00 1b 00 00 00 00 00              // IFLA_GROUP 0
    """

func eth1Link(seq: UInt8, flags: UInt8 = 0x02) -> String {
    """
    58 00 00 00  // nlmsg_len 88
    10 00        // RTM_NEWLINK
    \(String(flags, radix: 16, uppercase: false).count == 1 ? "0" : "")\(String(flags, radix: 16)) 00  // flags
    \(seq < 16 ? "0" : "")\(String(seq, radix: 16)) 00 00 00  // seq
    92 10 00 00  // pid 4242
    00 00        // ifi_family, pad
    01 00        // ifi_type ARPHRD_ETHER
    03 00 00 00  // ifi_index 3
    03 10 01 00  // ifi_flags IFF_UP|IFF_BROADCAST|IFF_MULTICAST|IFF_LOWER_UP
    00 00 00 00  // ifi_change
    09 00 03 00 65 74 68 31 00 00 00 00  // IFLA_IFNAME "eth1\\0" + 3 pad
    08 00 04 00 dc 05 00 00              // IFLA_MTU 1500
    0a 00 01 00 0e 49 61 0f c3 11 00 00  // IFLA_ADDRESS 0e:49:61:0f:c3:11 + 2 pad
    08 00 1b 00 07 00 00 00              // IFLA_GROUP 7
    10 00 12 00                          // IFLA_LINKINFO, len 16
    09 00 01 00 76 65 74 68 00 00 00 00  //   IFLA_INFO_KIND "veth\\0" + 3 pad
    """
}

let eth1 = Link(index: 3, name: "eth1", mac: MACAddress("0e:49:61:0f:c3:11"), isUp: true, group: 7, kind: "veth", mtu: 1500)
let lo = Link(index: 1, name: "lo", mac: MACAddress("00:00:00:00:00:00"), isUp: false)

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
        hex(doneSeq2), hex(doneSeq2.replacingFirst("02 00 00 00", with: "03 00 00 00")),
        hex(doneSeq2.replacingFirst("02 00 00 00", with: "04 00 00 00")),
        hex(doneSeq2.replacingFirst("02 00 00 00", with: "05 00 00 00")),
        hex(doneSeq2.replacingFirst("02 00 00 00", with: "06 00 00 00")),
        hex(doneSeq2.replacingFirst("02 00 00 00", with: "07 00 00 00")),
    ])
    let state = try NetlinkRouteClient(socket: socket).observe()
    #expect(state == ObservedState(links: [lo]))
    #expect(socket.sent.count == 7)
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        replacing(target, with: replacement, maxReplacements: 1)
    }
}

// MARK: Errors

@Test func nackWithEEXISTEchoingTheRequest() {
    let reply = """
        50 00 00 00  // nlmsg_len 80 = 16 + 4 + the 60-byte request
        02 00        // NLMSG_ERROR
        00 00        // flags: not capped, no TLVs
        01 00 00 00  // seq 1
        92 10 00 00  // pid 4242
        ef ff ff ff  // error -17 (EEXIST)
        3c 00 00 00 20 00 05 06 01 00 00 00 00 00 00 00  // the request's header
        02 00 20 00 00 00 00 01 00 00 00 00              // its fib_rule_hdr
        08 00 06 00 11 27 00 00 08 00 02 00 0a 00 02 0a  // its attributes
        08 00 0f 00 11 27 00 00 05 00 15 00 ee 00 00 00
        """
    let socket = FakeSocket(replies: [hex(reply)])
    let netlink = NetlinkRouteClient(socket: socket)
    #expect(
        throws: NetlinkError.kernel(
            operation: "rule add from 10.0.2.10 lookup 10001 priority 10001 proto eniroute", errno: .fileExists, message: nil)
    ) {
        try netlink.ruleAdd(ruleV4)
    }
    #expect(socket.sent == [NetlinkRouteMessage.ruleAdd(ruleV4, sequence: 1)])
    let error = NetlinkError.kernel(operation: "rule add from 10.0.2.10 lookup 10001", errno: .fileExists, message: nil)
    #expect(error.description == "rule add from 10.0.2.10 lookup 10001: File exists (EEXIST)")
}

@Test func nackWithExtendedAckMessage() {
    let reply = """
        44 00 00 00  // nlmsg_len 68
        02 00        // NLMSG_ERROR
        00 03        // NLM_F_CAPPED|NLM_F_ACK_TLVS (0x300)
        01 00 00 00  // seq 1
        92 10 00 00  // pid
        9b ff ff ff  // error -101 (ENETUNREACH)
        3c 00 00 00 18 00 05 06 01 00 00 00 00 00 00 00  // the request's header only (capped)
        20 00 01 00  // NLMSGERR_ATTR_MSG, len 32
        4e 65 78 74 68 6f 70 20 68 61 73 20 69 6e 76 61  // "Nexthop has inva"
        6c 69 64 20 67 61 74 65 77 61 79 00              // "lid gateway\\0"
        """
    let netlink = NetlinkRouteClient(socket: FakeSocket(replies: [hex(reply)]))
    do {
        try netlink.routeAdd(defaultRouteV4)
        Issue.record("expected a NACK")
    } catch {
        #expect(error.errno == .networkUnreachable)
        #expect(
            error.description
                == "route add default via 10.0.2.1 dev #3 table 10001 proto eniroute: Network is unreachable (ENETUNREACH); kernel: Nexthop has invalid gateway"
        )
    }
}

@Test func truncatedReplies() {
    let cut = """
        24 00 00 00  // nlmsg_len 36, but only 22 bytes follow
        02 00 00 01 01 00 00 00 92 10 00 00
        ef ff ff ff 3c 00
        """
    let noOriginal = """
        14 00 00 00  // nlmsg_len 20: an NLMSG_ERROR without the request's header
        02 00 00 01 01 00 00 00 92 10 00 00
        ef ff ff ff
        """
    for reply in [cut, noOriginal] {
        let netlink = NetlinkRouteClient(socket: FakeSocket(replies: [hex(reply)]))
        do {
            try netlink.ruleAdd(ruleV4)
            Issue.record("expected an error")
        } catch {
            guard case .truncated(let op, _) = error else {
                Issue.record("expected .truncated, got \(error)")
                continue
            }
            #expect(op == "rule add from 10.0.2.10 lookup 10001 priority 10001 proto eniroute")
        }
    }
}

let ackSeq2 = """
    24 00 00 00  // nlmsg_len 36
    02 00 00 01  // NLMSG_ERROR, NLM_F_CAPPED
    02 00 00 00  // seq 2
    92 10 00 00  // pid 4242
    00 00 00 00  // error 0: ACK
    3c 00 00 00 20 00 05 06 02 00 00 00 00 00 00 00  // the request's header
    """

@Test func sequenceMismatchIsAnError() {
    let netlink = NetlinkRouteClient(socket: FakeSocket(replies: [hex(ackSeq2)]))  // the request has seq 1
    #expect(
        throws: NetlinkError.sequenceMismatch(
            operation: "rule add from 10.0.2.10 lookup 10001 priority 10001 proto eniroute", expected: 1, received: 2)
    ) {
        try netlink.ruleAdd(ruleV4)
    }
}

@Test func portMismatchIsAnError() {
    let foreign = """
        24 00 00 00 02 00 00 01  // NLMSG_ERROR, NLM_F_CAPPED
        01 00 00 00              // seq 1
        2a 00 00 00              // pid 42: not this socket
        00 00 00 00
        3c 00 00 00 20 00 05 06 01 00 00 00 00 00 00 00
        """
    let netlink = NetlinkRouteClient(socket: FakeSocket(replies: [hex(foreign)]))
    #expect(
        throws: NetlinkError.portMismatch(
            operation: "rule add from 10.0.2.10 lookup 10001 priority 10001 proto eniroute", expected: 4242, received: 42)
    ) {
        try netlink.ruleAdd(ruleV4)
    }
}

@Test func missingReplyTimesOutWithTheOperationNamed() {
    let netlink = NetlinkRouteClient(socket: FakeSocket(), timeoutMilliseconds: 250)
    #expect(throws: NetlinkError.timeout(operation: "-4 rule show", milliseconds: 250)) { try netlink.ruleList() }
}

@Test func dumpInterruptedIsRetried() throws {
    let interrupted = eth1Link(seq: 1, flags: 0x12) + "\n" + doneSeq1.replacingFirst("02 00  ", with: "12 00  ")
    let socket = FakeSocket(replies: [
        hex(interrupted), hex(loLinkSeq1.replacingFirst("01 00 00 00  // seq 1", with: "02 00 00 00") + "\n" + doneSeq2),
    ])
    let links = try NetlinkRouteClient(socket: socket).linkList()
    #expect(links == [lo])
    #expect(socket.sent == [NetlinkRouteMessage.linkDump(sequence: 1), NetlinkRouteMessage.linkDump(sequence: 2)])
}

@Test func dumpInterruptedEveryTimeFails() {
    let socket = FakeSocket(replies: [
        hex(eth1Link(seq: 1, flags: 0x12) + "\n" + doneSeq1), hex(eth1Link(seq: 2, flags: 0x12) + "\n" + doneSeq2),
    ])
    let netlink = NetlinkRouteClient(socket: socket, dumpRetries: 1)
    #expect(throws: NetlinkError.dumpInterrupted(operation: "link show", attempts: 2)) { try netlink.linkList() }
}

@Test func dumpRefusedByTheKernel() {
    let refused = """
        24 00 00 00  // nlmsg_len 36
        02 00 00 01  // NLMSG_ERROR, NLM_F_CAPPED
        02 00 00 00  // seq 2 (the IPv6 dump)
        92 10 00 00
        9f ff ff ff  // -97 EAFNOSUPPORT
        1c 00 00 00 1a 00 01 03 02 00 00 00 00 00 00 00  // the request's header
        """
    let netlink = NetlinkRouteClient(socket: FakeSocket(replies: [hex(doneSeq1), hex(refused)]))
    #expect(throws: NetlinkError.kernel(operation: "-6 route show table all", errno: .addressFamilyNotSupported, message: nil)) {
        try netlink.routeList()
    }
}

// MARK: Batches

@Test func batchMatchesEveryAckBySequence() {
    let nackSeq2 = """
        24 00 00 00 02 00 00 01  // NLMSG_ERROR, NLM_F_CAPPED
        02 00 00 00 92 10 00 00  // seq 2, pid
        ef ff ff ff              // -17 EEXIST
        3c 00 00 00 20 00 05 06 02 00 00 00 00 00 00 00
        """
    let ackSeq3 = ackSeq2.replacingFirst("02 00 00 00  // seq 2", with: "03 00 00 00")
    let ackSeq1 = ackSeq2.replacingFirst("02 00 00 00  // seq 2", with: "01 00 00 00")
    // Replies out of order and spread over two datagrams still land on the right change.
    let socket = FakeSocket(replies: [hex(ackSeq3 + "\n" + ackSeq1), hex(nackSeq2)])
    let changes: [Change] = [.ruleAdd(ruleV4), .ruleAdd(ruleSuppressV6), .routeAdd(defaultRouteV4)]
    let results = NetlinkRouteClient(socket: socket).apply(changes)
    #expect(results.count == 3)
    #expect((try? results[0].get()) != nil)
    #expect(
        results[1].errorValue
            == .kernel(operation: NetlinkRouteMessage.operationName(for: changes[1]), errno: .fileExists, message: nil)
    )
    #expect((try? results[2].get()) != nil)
    // One datagram with all three requests.
    #expect(
        socket.sent == [
            NetlinkRouteMessage.ruleAdd(ruleV4, sequence: 1) + NetlinkRouteMessage.ruleAdd(ruleSuppressV6, sequence: 2)
                + NetlinkRouteMessage.routeAdd(defaultRouteV4, sequence: 3)
        ])
}

@Test func batchStopsTrustingRepliesAfterAnUnknownSequence() {
    let ackSeq1 = ackSeq2.replacingFirst("02 00 00 00  // seq 2", with: "01 00 00 00")
    let ackSeq99 = ackSeq2.replacingFirst("02 00 00 00  // seq 2", with: "63 00 00 00")
    let socket = FakeSocket(replies: [hex(ackSeq1 + "\n" + ackSeq99)])
    let results = NetlinkRouteClient(socket: socket).apply([.ruleAdd(ruleV4), .ruleAdd(ruleV6), .routeAdd(defaultRouteV4)])
    #expect((try? results[0].get()) != nil)
    #expect(
        results[1].errorValue
            == .sequenceMismatch(operation: NetlinkRouteMessage.operationName(for: .ruleAdd(ruleV6)), expected: 2, received: 99))
    #expect(
        results[2].errorValue
            == .sequenceMismatch(
                operation: NetlinkRouteMessage.operationName(for: .routeAdd(defaultRouteV4)), expected: 2, received: 99))
}

@Test func largeBatchIsSplitIntoBoundedDatagrams() throws {
    let socket = FakeSocket()
    socket.autoAck = true
    let changes = (0..<1000).map { i in
        Change.ruleAdd(
            RoutingPolicyRule(
                family: .inet6, priority: UInt32(20000 + i), from: prefix("2001:db8::\(String(i, radix: 16))/128"), table: 10001,
                proto: Ownership.routeProtocol))
    }
    let results = NetlinkRouteClient(socket: socket, firstSequence: 77).apply(changes)
    #expect(results.count == 1000)
    #expect(results.allSatisfy { (try? $0.get()) != nil })
    #expect(socket.sent.count > 1)
    var sequences: [UInt32] = []
    for datagram in socket.sent {
        #expect(datagram.count <= NetlinkRouteMessage.maximumBatchBytes)
        let messages = try NetlinkMessageReader.messages(in: datagram)
        #expect(messages.count <= 128)
        sequences += messages.map(\.sequence)
    }
    #expect(sequences == Array(77..<1077))
}

extension Result {
    var errorValue: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}

// MARK: Garbage in, errors out

@Test func garbageLengthsAreErrorsNotCrashes() {
    let bad: [[UInt8]] = [
        hex("00 00 00 00 02 00 00 00 01 00 00 00 92 10 00 00"),  // nlmsg_len 0
        hex("ff ff ff ff 02 00 00 00 01 00 00 00 92 10 00 00"),  // nlmsg_len 4 GiB
        hex("0f 00 00 00 02 00 00 00 01 00 00 00 92 10 00"),  // 15 bytes: shorter than a header
        hex("10 00 00 00 03 00 02 00 01 00 00 00 92 10 00 00 00 00"),  // a message, then 2 stray bytes
    ]
    for datagram in bad {
        #expect(throws: NetlinkError.self) { try NetlinkMessageReader.messages(in: datagram) }
    }
    let badAttributes: [[UInt8]] = [
        hex("02 00 03 00"),  // rta_len 2 < header
        hex("ff ff 03 00 6c 6f 00 00"),  // rta_len 65535 past the end
        hex("08 00 1b 00 07 00 00 00 01 00"),  // an attribute, then 2 stray bytes
    ]
    for bytes in badAttributes {
        #expect(throws: NetlinkError.self) { try NetlinkMessageReader.attributes(in: bytes) }
    }
    func message(_ type: UInt16, _ payload: String) -> NetlinkMessage {
        NetlinkMessage(type: type, flags: 0, sequence: 1, pid: 4242, payload: hex(payload))
    }
    #expect(throws: NetlinkError.self) { try NetlinkRouteMessage.parseLink(message(16, "00 00 01 00 03 00")) }  // short ifinfomsg
    #expect(throws: NetlinkError.self) {
        try NetlinkRouteMessage.parseAddress(message(20, "02 18 00 00 03 00 00 00 07 00 02 00 0a 00 02 00"))  // 3-byte IFA_LOCAL
    }
    #expect(throws: NetlinkError.self) {
        try NetlinkRouteMessage.parseAddress(message(20, "02 c8 00 00 03 00 00 00 08 00 02 00 0a 00 02 0a"))  // prefix length 200
    }
    #expect(throws: NetlinkError.self) {
        // A 2-byte RTA_OIF.
        try NetlinkRouteMessage.parseRoute(message(24, "02 00 00 00 fe 02 00 01 00 00 00 00 06 00 04 00 03 00 00 00"))
    }
    #expect(throws: NetlinkError.self) {
        // A 4-byte FRA_SRC in an IPv6 rule.
        try NetlinkRouteMessage.parseRule(message(32, "0a 00 80 00 00 00 00 01 00 00 00 00 08 00 02 00 0a 00 02 0a"))
    }
}

@Test func randomAndMutatedBytesNeverCrash() {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 33
    }
    let seeds = [hex(loLinkSeq1), hex(eth1Link(seq: 1)), hex(ackSeq2), hex(doneSeq1)] + fixtures.map { hex($0.expected) }
    var parsed = 0
    for round in 0..<3000 {
        var bytes = seeds[round % seeds.count]
        if round % 3 == 0 {
            bytes = (0..<Int(next() % 96)).map { _ in UInt8(truncatingIfNeeded: next()) }
        } else {
            for _ in 0..<(1 + Int(next() % 4)) where !bytes.isEmpty {
                bytes[Int(next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: next())
            }
            if next() % 4 == 0 { bytes = Array(bytes.prefix(Int(next() % UInt64(bytes.count + 1)))) }
        }
        guard let messages = try? NetlinkMessageReader.messages(in: bytes) else { continue }
        for var m in messages {
            for type: UInt16 in [16, 20, 24, 32] {
                m.type = type
                _ = try? NetlinkRouteMessage.parseLink(m)
                _ = try? NetlinkRouteMessage.parseAddress(m)
                _ = try? NetlinkRouteMessage.parseRoute(m)
                _ = try? NetlinkRouteMessage.parseRule(m)
            }
            parsed += 1
        }
        let netlink = NetlinkRouteClient(socket: FakeSocket(replies: [bytes]))
        _ = netlink.apply([.ruleAdd(ruleV4)])
        _ = try? NetlinkRouteClient(socket: FakeSocket(replies: [bytes])).linkList()
    }
    #expect(parsed > 100)  // the mutations left enough valid framing to reach the parsers
}

@Test func netlinkErrorsCarryTheirErrno() {
    do {
        throw NetlinkError.kernel(operation: "rule add", errno: .fileExists, message: nil)
    } catch Errno.fileExists {
        // matched through ErrnoCarrying
    } catch {
        Issue.record("not matched by catch Errno.fileExists: \(error)")
    }
    #expect(
        NetlinkError.systemCall(call: "bind(AF_NETLINK)", errno: .notPermitted).description
            == "bind(AF_NETLINK): Operation not permitted (EPERM)")
}

@Test func malformedObjectFailsTheDumpAfterDrainingIt() throws {
    let badLink = """
        1c 00 00 00  // nlmsg_len 28
        10 00 02 00  // RTM_NEWLINK, NLM_F_MULTI
        01 00 00 00 92 10 00 00  // seq 1, pid
        00 00 01 00 03 00 00 00 03 00 00 00  // an ifinfomsg cut to 12 bytes
        """
    let socket = FakeSocket(replies: [hex(badLink), hex(loLinkSeq1 + "\n" + doneSeq1), hex(ackSeq2)])
    let netlink = NetlinkRouteClient(socket: socket)
    #expect(throws: NetlinkError.self) { try netlink.linkList() }
    #expect(socket.replies.count == 1)  // the dump was read up to NLMSG_DONE, nothing more
    try netlink.ruleAdd(ruleV4)  // so the next request (seq 2) matches its ACK
}
