import CRTNetlink
import ENIRouteCore
import ENIRouteNetlink
import ENIRouteSystem
import ENIRouteTestSupport
import Foundation
import Testing

private let tag = Ownership.routeProtocol

private func loopback(_ nl: NetlinkRouteClient) throws -> Link {
    let lo = try #require(try nl.linkList().first { $0.name == "lo" })
    try nl.linkSetUp(lo)
    return lo
}

private func expectKernelError(_ errno: Errno, message: String? = nil, _ body: () throws(NetlinkError) -> Void) {
    do {
        try body()
        Issue.record("expected \(errno.name)")
    } catch {
        guard case .kernel(_, let e, let m) = error else {
            Issue.record("expected a kernel error \(errno.name), got \(error)")
            return
        }
        #expect(e == errno, "\(error)")
        if let message { #expect(m == message, "\(error)") }
    }
}

@Suite("Real kernel, private network namespace")
struct KernelTests {
    @Test func linksSetUpAndGroup() throws {
        let nl = try PrivateNamespace.netlink()
        let links = try nl.linkList()
        var lo = Link(index: 1, name: "lo", mac: MACAddress("00:00:00:00:00:00"), isUp: false)
        lo.promoteSecondaries = false  // IFLA_INET_CONF of a new namespace
        lo.mtu = 65536
        #expect(links == [lo])
        try nl.linkSetUp(links[0])
        try nl.linkSetGroup(links[0], group: 7)
        lo.isUp = true
        lo.group = 7
        #expect(try nl.linkList() == [lo])
        expectKernelError(.noSuchDevice) { () throws(NetlinkError) in
            try nl.linkSetUp(Link(index: 999, name: "ghost", mac: nil, isUp: false))
        }
    }

    @Test func addressesAddListDelete() throws {
        let nl = try PrivateNamespace.netlink()
        let lo = try loopback(nl)
        let a4 = InterfaceAddress(
            prefix: IPPrefix(address: ip("10.99.0.5"), length: 24), interfaceIndex: lo.index, noPrefixRoute: true, proto: tag)
        let a6 = InterfaceAddress(prefix: prefix("2001:db8::5/128"), interfaceIndex: lo.index, noDAD: true, proto: tag)
        try nl.addressAdd(a4)
        try nl.addressAdd(a6)
        let all = try nl.addressList()
        #expect(all.filter(\.isOwned).sorted() == [a4, a6].sorted())
        #expect(all.contains { $0.address == ip("127.0.0.1") && $0.proto != tag })  // lo's own, untagged
        // noprefixroute: no 10.99.0.0/24 route in main.
        #expect(!(try nl.routeList()).contains { $0.destination == prefix("10.99.0.0/24") && $0.table == 254 })

        expectKernelError(.fileExists) { () throws(NetlinkError) in try nl.addressAdd(a4) }
        do {
            try nl.addressAdd(a4)
        } catch {
            #expect(
                error.description.hasPrefix("address add 10.99.0.5/24 dev #1 noprefixroute proto eniroute: File exists (EEXIST)"))
        }
        var ghost = a4
        ghost.interfaceIndex = 999
        expectKernelError(.noSuchDevice) { () throws(NetlinkError) in try nl.addressAdd(ghost) }

        // A second address in the same subnet is the kernel's secondary of the first (IFA_F_SECONDARY).
        let second = InterfaceAddress(prefix: IPPrefix(address: ip("10.99.0.6"), length: 24), interfaceIndex: lo.index, proto: 0)
        try nl.addressAdd(second)
        let listed = try nl.addressList().filter { $0.family == .inet && $0.interfaceIndex == lo.index }
        #expect(listed.first { $0.address == ip("10.99.0.5") }?.isSecondary == false)
        #expect(listed.first { $0.address == ip("10.99.0.6") }?.isSecondary == true)
        // The kernel reports promote_secondaries per link; a new namespace starts with it off.
        #expect(try nl.linkList().first { $0.index == lo.index }?.promoteSecondaries == false)
        try nl.addressDelete(second)

        try nl.addressDelete(a4)
        try nl.addressDelete(a6)
        #expect(try nl.addressList().filter(\.isOwned).isEmpty)
        expectKernelError(.addressNotAvailable) { () throws(NetlinkError) in try nl.addressDelete(a4) }
    }

    @Test func routesAddReplaceDelete() throws {
        let nl = try PrivateNamespace.netlink()
        let lo = try loopback(nl)
        try nl.addressAdd(
            InterfaceAddress(
                prefix: IPPrefix(address: ip("10.99.0.5"), length: 24), interfaceIndex: lo.index, noPrefixRoute: true, proto: tag)
        )
        let subnet = Route(
            destination: prefix("10.99.0.0/24"), table: 10001, outputInterface: lo.index, preferredSource: ip("10.99.0.5"),
            scope: .link, proto: tag)
        let gateway = Route(
            destination: .any(.inet), table: 10001, outputInterface: lo.index, gateway: ip("10.99.0.1"),
            proto: tag)
        let v6 = Route(
            destination: prefix("2001:db8:1::/64"), table: 10001, outputInterface: lo.index, proto: tag)
        let small = Route(
            destination: prefix("10.98.0.0/16"), table: 200, outputInterface: lo.index, scope: .link,
            proto: tag)
        try nl.routeAdd(subnet)
        try nl.routeAdd(gateway)  // the gateway resolves through table 10001's subnet route
        try nl.routeAdd(v6)
        try nl.routeAdd(small)
        func owned() throws -> [Route] { try nl.routeList().filter(\.isOwned).sorted() }
        #expect(try owned() == [small, subnet, gateway, v6].sorted())

        expectKernelError(.fileExists) { () throws(NetlinkError) in try nl.routeAdd(gateway) }
        var moved = gateway
        moved.gateway = ip("10.99.0.2")
        try nl.routeReplace(moved)
        #expect(try owned() == [small, subnet, moved, v6].sorted())

        // A delete carries eniroute's protocol: a route with another protocol is not touched.
        var foreign = moved
        foreign.proto = 0xEF
        expectKernelError(.noSuchProcess) { () throws(NetlinkError) in try nl.routeDelete(foreign) }
        #expect(try owned().contains(moved))

        var ghost = subnet
        ghost.outputInterface = 999
        expectKernelError(.noSuchDevice) { () throws(NetlinkError) in try nl.routeAdd(ghost) }
        let unreachable = Route(
            destination: .any(.inet), table: 10002, outputInterface: lo.index, gateway: ip("192.0.2.1"),
            proto: tag)
        expectKernelError(.networkUnreachable, message: "Nexthop has invalid gateway") { () throws(NetlinkError) in
            try nl.routeAdd(unreachable)
        }
        let viaLoopback6 = Route(
            destination: .any(.inet6), table: 10001, outputInterface: lo.index, gateway: ip("fe80::1"),
            proto: tag)
        expectKernelError(.invalidArgument, message: "Egress device can not be loopback device for this route") {
            () throws(NetlinkError) in
            try nl.routeAdd(viaLoopback6)
        }

        for r in [moved, subnet, v6, small] { try nl.routeDelete(r) }
        #expect(try owned().isEmpty)
        expectKernelError(.noSuchProcess) { () throws(NetlinkError) in try nl.routeDelete(small) }
    }

    @Test func rulesAddListDelete() throws {
        let nl = try PrivateNamespace.netlink()
        // A fresh namespace has only the kernel's rules, none with selectors eniroute does not model.
        let defaults = try nl.ruleList()
        #expect(
            defaults == [
                RoutingPolicyRule(family: .inet, priority: 0, table: 255, proto: 2),
                RoutingPolicyRule(family: .inet, priority: 32766, table: 254, proto: 2),
                RoutingPolicyRule(family: .inet, priority: 32767, table: 253, proto: 2),
                RoutingPolicyRule(family: .inet6, priority: 0, table: 255, proto: 2),
                RoutingPolicyRule(family: .inet6, priority: 32766, table: 254, proto: 2),
            ])
        let ours = [
            RoutingPolicyRule(
                family: .inet, priority: 1000, table: 254, suppressInterfaceGroup: 7, proto: tag),
            RoutingPolicyRule(
                family: .inet6, priority: 1000, table: 254, suppressInterfaceGroup: 7, proto: tag),
            RoutingPolicyRule(
                family: .inet, priority: 10001, from: prefix("10.99.0.5/32"), table: 10001, proto: tag),
            RoutingPolicyRule(
                family: .inet6, priority: 10001, from: prefix("2001:db8::5/128"), table: 10001, proto: tag),
            RoutingPolicyRule(
                family: .inet, priority: 10002, from: prefix("10.99.0.0/24"), to: prefix("192.0.2.0/24"), table: 100,
                proto: tag),
        ]
        for r in ours { try nl.ruleAdd(r) }
        #expect(try nl.ruleList().filter(\.isOwned).sorted() == ours.sorted())
        #expect(try nl.ruleList().filter { !$0.isOwned } == defaults)

        expectKernelError(.fileExists) { () throws(NetlinkError) in try nl.ruleAdd(ours[2]) }
        for r in ours { try nl.ruleDelete(r) }
        #expect(try nl.ruleList() == defaults)
        expectKernelError(.noSuchFileOrDirectory) { () throws(NetlinkError) in try nl.ruleDelete(ours[2]) }
    }

    @Test func batchWithFailuresInTheMiddle() throws {
        let nl = try PrivateNamespace.netlink()
        let lo = try loopback(nl)
        let existing = RoutingPolicyRule(
            family: .inet, priority: 10001, from: prefix("10.99.0.5/32"), table: 10001, proto: tag)
        try nl.ruleAdd(existing)
        let route = Route(
            destination: prefix("10.99.0.0/24"), table: 10001, outputInterface: lo.index, scope: .link,
            proto: tag)
        let rule = RoutingPolicyRule(
            family: .inet6, priority: 10001, from: prefix("2001:db8::5/128"), table: 10001, proto: tag)
        let route6 = Route(
            destination: prefix("2001:db8:1::/64"), table: 10001, outputInterface: lo.index, proto: tag)
        let ghost = InterfaceAddress(prefix: prefix("10.99.0.6/32"), interfaceIndex: 999, proto: tag)
        let results = nl.apply([.routeAdd(route), .ruleAdd(existing), .ruleAdd(rule), .addressAdd(ghost), .routeAdd(route6)])
        #expect(results.count == 5)
        #expect((try? results[0].get()) != nil)
        #expect(results[1].errorValue?.errno == .fileExists)
        #expect(results[1].errorValue?.operation == "rule add from 10.99.0.5 lookup 10001 priority 10001 proto eniroute")
        #expect((try? results[2].get()) != nil)
        #expect(results[3].errorValue?.errno == .noSuchDevice)
        #expect((try? results[4].get()) != nil)
        #expect(try nl.routeList().filter(\.isOwned).sorted() == [route, route6].sorted())
        #expect(try nl.ruleList().filter(\.isOwned).sorted() == [existing, rule].sorted())
    }

    @Test func vethPairAndLinkLocalGateway() throws {
        let nl = try PrivateNamespace.netlink()
        try nl.perform([vethPairCreate()])[0].get()
        let links = try nl.linkList()
        let veth0 = try #require(links.first { $0.name == "veth0" })
        let veth1 = try #require(links.first { $0.name == "veth1" })
        #expect(veth0.kind == "veth" && veth1.kind == "veth")
        #expect(veth0.mac != nil && veth0.mac != veth1.mac && !veth0.isUp)
        let results = nl.apply([.linkSetUp(veth0), .linkSetUp(veth1), .linkSetGroup(veth0, group: 3)])
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        let up = try #require(try nl.linkList().first { $0.index == veth0.index })
        #expect(up.isUp && up.group == 3)

        let address = InterfaceAddress(
            prefix: prefix("2001:db8::7/128"), interfaceIndex: veth0.index, noPrefixRoute: true, noDAD: true, proto: tag)
        let gateway = Route(
            destination: .any(.inet6), table: 10001, outputInterface: veth0.index, gateway: ip("fe80:ec2::1"),
            proto: tag)
        let results2 = nl.apply([.addressAdd(address), .routeReplace(gateway)])
        #expect(results2.allSatisfy { (try? $0.get()) != nil }, "\(results2)")
        #expect(try nl.addressList().filter(\.isOwned) == [address])
        #expect(try nl.routeList().filter(\.isOwned) == [gateway])
    }

    /// `ip link set dev veth0 mtu 9001`, and the kernel's answers to a value above the device's
    /// maximum (EINVAL, with its extended ACK message) and to a link that does not exist (ENODEV).
    @Test func linkSetMTUAndItsErrors() throws {
        let nl = try PrivateNamespace.netlink()
        try nl.perform([vethPairCreate()])[0].get()
        let veth0 = try #require(try nl.linkList().first { $0.name == "veth0" })
        #expect(veth0.mtu == 1500)
        try nl.linkSetMTU(veth0, mtu: 9001)
        #expect(try nl.linkList().first { $0.index == veth0.index }?.mtu == 9001)
        expectKernelError(.invalidArgument) { () throws(NetlinkError) in try nl.linkSetMTU(veth0, mtu: 70000) }
        #expect(try nl.linkList().first { $0.index == veth0.index }?.mtu == 9001)
        expectKernelError(.noSuchDevice) { () throws(NetlinkError) in
            try nl.linkSetMTU(Link(index: 999, name: "ghost", mac: nil, isUp: false), mtu: 9001)
        }
    }

    @Test func datagramLargerThanTheBufferIsReadWhole() throws {
        // 64 bytes cannot hold lo's RTM_NEWLINK (over 1 KiB): the socket must grow, not truncate.
        let nl = NetlinkRouteClient(socket: try PrivateNamespace.sockets(datagramBufferSize: 64)[0])
        #expect(try nl.linkList().map(\.name) == ["lo"])
    }

    @Test func subscribedSocketSeesChanges() throws {
        let sockets = try PrivateNamespace.sockets(count: 2)
        let nl = NetlinkRouteClient(socket: sockets[0])
        let watcher = sockets[1]
        try watcher.subscribe(groups: [.link, .ipv4Rule])
        let rule = RoutingPolicyRule(
            family: .inet, priority: 10001, from: prefix("10.99.0.5/32"), table: 10001, proto: tag)
        try nl.ruleAdd(rule)
        // The notification is already queued when the ACK arrives; the wait is on the socket, not a sleep.
        let messages = try NetlinkMessageReader.messages(in: try watcher.receive(timeoutMilliseconds: 5000))
        #expect(try messages.compactMap { m throws(NetlinkError) in try NetlinkRouteMessage.parseRule(m) } == [rule])
        #expect(messages.allSatisfy { $0.sequence != 0 || $0.pid == 0 })
    }
}
