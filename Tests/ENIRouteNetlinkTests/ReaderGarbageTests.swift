import ENIRouteCore
import ENIRouteNetlink
import ENIRouteSystem
import ENIRouteTestSupport
import Testing

// Garbage in, errors out: malformed lengths, random bytes, errno on every error.

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
