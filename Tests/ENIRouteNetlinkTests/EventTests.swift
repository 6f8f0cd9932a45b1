import CRTNetlink
import ENIRouteCore
import ENIRouteNetlink
import ENIRouteSystem
import ENIRouteTestSupport
import Foundation
import Testing

// Notifications as the kernel multicasts them (`ip monitor`): pid and sequence 0 unless a
// request caused them. Bytes are little-endian (x86_64, aarch64).

/// `ip rule del from 10.0.2.11 lookup 10001 priority 10002 proto 0xee`, as RTM_DELRULE.
private let delRule = hex(
    """
    3c 00 00 00  21 00  00 00  00 00 00 00  00 00 00 00   // nlmsghdr: len 60, RTM_DELRULE, flags 0, seq 0, pid 0
    02 00 20 00  00 00 00 01  00 00 00 00                 // fib_rule_hdr: inet, dst_len 0, src_len 32, tos 0, table 0 (>255), action 1, flags 0
    08 00 06 00  12 27 00 00                              // FRA_PRIORITY 10002
    08 00 02 00  0a 00 02 0b                              // FRA_SRC 10.0.2.11
    08 00 0f 00  11 27 00 00                              // FRA_TABLE 10001
    05 00 15 00  ee 00 00 00                              // FRA_PROTOCOL 0xee (+3 pad)
    """)

/// `ip link del eth1` seen by a listener: RTM_DELLINK for index 5, up, MAC 02:00:00:00:02:0a.
private let delLink = hex(
    """
    38 00 00 00  11 00  00 00  00 00 00 00  00 00 00 00   // nlmsghdr: len 56, RTM_DELLINK
    00 00 01 00  05 00 00 00  03 10 00 00  00 00 00 00    // ifinfomsg: AF_UNSPEC, ARPHRD_ETHER, index 5, flags UP|BROADCAST|LOWER_UP, change 0
    09 00 03 00  65 74 68 31  00 00 00 00                 // IFLA_IFNAME "eth1\\0" (+3 pad)
    0a 00 01 00  02 00 00 00  02 0a 00 00                 // IFLA_ADDRESS 02:00:00:00:02:0a (+2 pad)
    """)

/// `ip address del 10.0.2.12/24 dev eth1` (an address eniroute added): RTM_DELADDR.
private let delAddress = hex(
    """
    38 00 00 00  15 00  00 00  00 00 00 00  00 00 00 00   // nlmsghdr: len 56, RTM_DELADDR
    02 18 80 00  03 00 00 00                              // ifaddrmsg: inet, /24, IFA_F_PERMANENT, scope 0, index 3
    08 00 01 00  0a 00 02 0c                              // IFA_ADDRESS 10.0.2.12
    08 00 02 00  0a 00 02 0c                              // IFA_LOCAL 10.0.2.12
    08 00 08 00  80 02 00 00                              // IFA_FLAGS PERMANENT|NOPREFIXROUTE
    05 00 0b 00  ee 00 00 00                              // IFA_PROTO 0xee (+3 pad)
    """)

/// `ip route del default via 10.0.2.1 dev eth1 table 10001`: RTM_DELROUTE.
private let delRoute = hex(
    """
    34 00 00 00  19 00  00 00  00 00 00 00  00 00 00 00   // nlmsghdr: len 52, RTM_DELROUTE
    02 00 00 00  00 ee 00 01  00 00 00 00                 // rtmsg: inet, dst 0, src 0, tos 0, table 0, proto 0xee, scope universe, unicast, flags 0
    08 00 0f 00  11 27 00 00                              // RTA_TABLE 10001
    08 00 05 00  0a 00 02 01                              // RTA_GATEWAY 10.0.2.1
    08 00 04 00  03 00 00 00                              // RTA_OIF 3
    """)

/// A neighbour notification (RTM_NEWNEIGH): not an object eniroute models.
private let newNeighbour = hex(
    """
    1c 00 00 00  1c 00  00 00  00 00 00 00  00 00 00 00   // nlmsghdr: len 28, RTM_NEWNEIGH
    02 00 00 00  03 00 00 00  02 00 00 01                 // ndmsg: inet, index 3, state REACHABLE, flags 0, type 1
    """)

private func message(_ bytes: [UInt8]) throws -> NetlinkMessage {
    let messages = try NetlinkMessageReader.messages(in: bytes)
    try #require(messages.count == 1)
    return messages[0]
}

/// Replays scripted datagrams (or errors) to a reader, then reports "nothing queued".
private final class ScriptedSocket: NetlinkSocket {
    var queue: [Result<[UInt8], NetlinkError>]
    init(_ queue: [Result<[UInt8], NetlinkError>]) { self.queue = queue }
    var localPortID: UInt32 { 99 }
    func send(_ datagram: [UInt8]) throws(NetlinkError) {}
    func receive(timeoutMilliseconds: Int32) throws(NetlinkError) -> [UInt8] {
        guard !queue.isEmpty else { throw .timeout(operation: "", milliseconds: timeoutMilliseconds) }
        return try queue.removeFirst().get()
    }
}

@Suite("Change notifications")
struct EventParsingTests {
    @Test func deletedRule() throws {
        let event = try NetlinkRouteEvent.parse(try message(delRule))
        let rule = RoutingPolicyRule(
            family: .inet, priority: 10002, from: prefix("10.0.2.11/32"), table: 10001, proto: Ownership.routeProtocol)
        #expect(event == .ruleDeleted(rule))
    }

    @Test func deletedLink() throws {
        let event = try NetlinkRouteEvent.parse(try message(delLink))
        #expect(event == .linkDeleted(Link(index: 5, name: "eth1", mac: MACAddress("02:00:00:00:02:0a"), isUp: true)))
    }

    @Test func deletedAddress() throws {
        let event = try NetlinkRouteEvent.parse(try message(delAddress))
        let a = InterfaceAddress(
            prefix: IPPrefix(address: ip("10.0.2.12"), length: 24), interfaceIndex: 3, noPrefixRoute: true, proto: 0xEE)
        #expect(event == .addressDeleted(a))
    }

    @Test func deletedRoute() throws {
        let event = try NetlinkRouteEvent.parse(try message(delRoute))
        let r = Route(
            destination: .any(.inet), table: 10001, outputInterface: 3, gateway: ip("10.0.2.1"), proto: Ownership.routeProtocol,
            metric: 0)
        #expect(event == .routeDeleted(r))
    }

    @Test func newObjectsUseTheSameParsers() throws {
        var m = try message(delRule)
        m.type = UInt16(RTM_NEWRULE)
        guard case .ruleNew(let r) = try NetlinkRouteEvent.parse(m) else {
            Issue.record("not a new rule")
            return
        }
        #expect(r.table == 10001 && r.isOwned)
        m = try message(delLink)
        m.type = UInt16(RTM_NEWLINK)
        guard case .linkNew(let l) = try NetlinkRouteEvent.parse(m) else {
            Issue.record("not a new link")
            return
        }
        #expect(l.name == "eth1")
    }

    @Test func otherMessagesAreSkipped() throws {
        #expect(try NetlinkRouteEvent.parse(try message(newNeighbour)) == nil)
    }

    @Test func truncatedObjectThrows() throws {
        var m = try message(delAddress)
        m.payload = Array(m.payload.prefix(5))
        #expect(throws: NetlinkError.self) { try NetlinkRouteEvent.parse(m) }
    }

    @Test func readerCollectsEventsSkipsGarbageAndReportsOverflow() throws {
        let socket = ScriptedSocket([
            .success(delRule + delLink),
            .failure(.systemCall(call: "recvmsg", errno: .noBufferSpace)),
            .success([0x01, 0x02, 0x03]),  // not even a header
            .success(newNeighbour + delRoute),
        ])
        let batch = try NetlinkRouteEventReader(socket: socket).readAvailable()
        #expect(batch.overflowed)
        #expect(batch.unparsed == 1)
        #expect(batch.datagrams == 3)
        #expect(!batch.truncated)
        #expect(batch.events.count == 3)
        guard case .ruleDeleted = batch.events[0], case .linkDeleted = batch.events[1], case .routeDeleted = batch.events[2]
        else {
            Issue.record("\(batch.events)")
            return
        }
    }

    @Test func readerStopsAtItsLimitAndRethrowsOtherErrors() throws {
        let many = ScriptedSocket(Array(repeating: .success(delRule), count: 5))
        let batch = try NetlinkRouteEventReader(socket: many).readAvailable(maximumDatagrams: 3)
        #expect(batch.truncated && batch.events.count == 3)
        let broken = ScriptedSocket([.failure(.systemCall(call: "recvmsg", errno: .invalidArgument))])
        #expect(throws: NetlinkError.self) { try NetlinkRouteEventReader(socket: broken).readAvailable() }
    }
}

/// `ip link del dev INDEX`.
private func linkDelete(_ index: Int32) -> NetlinkRouteClient.Request {
    NetlinkRouteClient.Request(operation: "link del #\(index)") { sequence in
        var w = NetlinkMessageWriter(type: UInt16(RTM_DELLINK), flags: 0x5, sequence: sequence)
        var h = ifinfomsg()
        h.ifi_index = index
        w.appendHeader(h)
        return w.finish()
    }
}

@Suite("Change notifications from the kernel, private network namespace")
struct EventKernelTests {
    @Test func subscribedSocketSeesLinkAddressRouteAndRuleChanges() throws {
        let sockets = try PrivateNamespace.sockets(count: 2)
        let nl = NetlinkRouteClient(socket: sockets[0])
        try sockets[1].subscribe(groups: NetlinkRouteEventReader.allGroups)
        let reader = NetlinkRouteEventReader(socket: sockets[1])

        try nl.perform([vethPairCreate()])[0].get()
        let veth0 = try #require(try nl.linkList().first { $0.name == "veth0" })
        try nl.linkSetUp(veth0)
        let address = InterfaceAddress(
            prefix: IPPrefix(address: ip("10.0.2.12"), length: 24), interfaceIndex: veth0.index, noPrefixRoute: true,
            proto: Ownership.addressProtocol)
        let route = Route(
            destination: prefix("10.0.2.0/24"), table: 10001, outputInterface: veth0.index, scope: .link,
            proto: Ownership.routeProtocol)
        let rule = RoutingPolicyRule(
            family: .inet, priority: 10002, from: prefix("10.0.2.12/32"), table: 10001, proto: Ownership.routeProtocol)
        try nl.addressAdd(address)
        try nl.routeAdd(route)
        try nl.ruleAdd(rule)
        // Every notification of a change is queued before its ACK: reading now waits for nothing.
        let added = try reader.readAvailable()
        #expect(!added.overflowed)
        #expect(added.events.contains { if case .linkNew(let l) = $0 { l.name == "veth0" && l.isUp } else { false } })
        #expect(added.events.contains { if case .linkNew(let l) = $0 { l.name == "veth1" } else { false } })
        #expect(added.events.contains(.addressNew(address)))
        #expect(
            added.events.contains {
                if case .routeNew(let r) = $0 { r.table == 10001 && r.destination == route.destination } else { false }
            })
        #expect(added.events.contains(.ruleNew(rule)))

        try nl.ruleDelete(rule)
        try nl.routeDelete(route)
        try nl.addressDelete(address)
        try nl.perform([linkDelete(veth0.index)])[0].get()
        let removed = try reader.readAvailable()
        #expect(removed.events.contains(.ruleDeleted(rule)))
        #expect(
            removed.events.contains {
                if case .routeDeleted(let r) = $0 { r.table == 10001 && r.destination == route.destination } else { false }
            })
        #expect(removed.events.contains { if case .addressDeleted(let a) = $0 { a.address == address.address } else { false } })
        #expect(removed.events.contains { if case .linkDeleted(let l) = $0 { l.name == "veth0" } else { false } })
        #expect(try reader.readAvailable().events.isEmpty)
    }

    @Test func aFullReceiveBufferIsReportedAsOverflowAndReadingGoesOn() throws {
        let sockets = try PrivateNamespace.sockets(count: 2)
        let nl = NetlinkRouteClient(socket: sockets[0])
        let listener = sockets[1]
        try listener.subscribe(groups: [.ipv4Rule])
        var small: Int32 = 4096
        _ = setsockopt(listener.fileDescriptor, SOL_SOCKET, SO_RCVBUFFORCE, &small, socklen_t(MemoryLayout<Int32>.size))
        let rules = (0..<400).map { i in
            RoutingPolicyRule(
                family: .inet, priority: 20000, from: prefix("10.77.\(i / 250).\(i % 250 + 1)/32"), table: 10001,
                proto: Ownership.routeProtocol)
        }
        let results = nl.apply(rules.map { .ruleAdd($0) })
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        let reader = NetlinkRouteEventReader(socket: listener)
        let batch = try reader.readAvailable()
        #expect(batch.overflowed, "400 notifications cannot fit in a 4 KiB buffer")
        #expect(batch.events.count < rules.count)
        let extra = RoutingPolicyRule(
            family: .inet, priority: 20001, from: prefix("10.78.0.1/32"), table: 10001, proto: Ownership.routeProtocol)
        try nl.ruleAdd(extra)
        let after = try reader.readAvailable()
        #expect(!after.overflowed)
        #expect(after.events == [.ruleNew(extra)])
    }
}
