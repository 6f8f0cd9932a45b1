import ENIRouteCore
import ENIRouteNetlink
import ENIRouteSystem
import ENIRouteTestSupport
import Testing

// Errors: NACKs, truncated replies, wrong sequence or port, timeouts, interrupted and refused dumps.

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
    let interrupted = eth1Link(seq: 1, flags: .dumpInterrupted) + "\n" + done(sequence: 1, .dumpInterrupted)
    let socket = FakeSocket(replies: [
        hex(interrupted), hex(loLink(sequence: 2) + "\n" + doneSeq2),
    ])
    let links = try NetlinkRouteClient(socket: socket).linkList()
    #expect(links == [lo])
    #expect(socket.sent == [NetlinkRouteMessage.linkDump(sequence: 1), NetlinkRouteMessage.linkDump(sequence: 2)])
}

@Test func dumpInterruptedEveryTimeFails() {
    let socket = FakeSocket(replies: [
        hex(eth1Link(seq: 1, flags: .dumpInterrupted) + "\n" + doneSeq1),
        hex(eth1Link(seq: 2, flags: .dumpInterrupted) + "\n" + doneSeq2),
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
