import ENIRouteCore
import ENIRouteNetlink
import ENIRouteSystem
import ENIRouteTestSupport
import Testing

// Batches: acknowledgements matched by sequence, and datagrams of bounded size.

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
