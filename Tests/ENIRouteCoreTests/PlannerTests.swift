import ENIRouteCore
import ENIRouteTestSupport
import Testing

/// A small instance: A (primary, dual-stack, two IPv4), B (device 1, secondary IPs and delegated
/// prefixes, dual-stack), C (device 2, one IPv4), D (device 3, in B's subnet). Links: lo, eth0…eth3
/// (only eth0 up) and a docker bridge.
enum World {
    static let a = eni(
        "02:00:00:00:00:0a", primary: true, device: 0, id: "eni-0a", subnet: "10.0.0.0/24", v4: ["10.0.0.10", "10.0.0.11"],
        subnet6: ["2600:1::/64"], v6: ["2600:1::a"])
    static let b = eni(
        "02:00:00:00:00:0b", device: 1, id: "eni-0b", subnet: "10.0.1.0/24", v4: ["10.0.1.20", "10.0.1.21"],
        subnet6: ["2600:1:0:1::/64"], v6: ["2600:1:0:1::b"], v4Prefixes: ["10.0.1.32/28"], v6Prefixes: ["2600:1:0:1:1::/80"])
    static let c = eni("02:00:00:00:00:0c", device: 2, id: "eni-0c", subnet: "10.0.2.0/24", v4: ["10.0.2.30"])
    static let d = eni("02:00:00:00:00:0d", device: 3, id: "eni-0d", subnet: "10.0.1.0/24", v4: ["10.0.1.40"])

    static let lo = Link(index: 1, name: "lo", mac: MACAddress(octets: [0, 0, 0, 0, 0, 0]), isUp: true)
    static let eth0 = Link(index: 2, name: "eth0", mac: a.mac, isUp: true)
    static let eth1 = Link(index: 3, name: "eth1", mac: b.mac, isUp: false)
    static let eth2 = Link(index: 4, name: "eth2", mac: c.mac, isUp: false)
    static let eth3 = Link(index: 5, name: "eth3", mac: d.mac, isUp: false)
    static let docker0 = Link(index: 9, name: "docker0", mac: mac("02:42:ac:11:00:01"), isUp: true, kind: "bridge")

    /// The kernel before eniroute ran: the primary ENI has its primary IPv4 from DHCP (untagged).
    static let fresh = ObservedState(
        links: [lo, eth0, eth1, eth2, eth3, docker0],
        addresses: [InterfaceAddress(prefix: IPPrefix(address: ip("10.0.0.10"), length: 24), interfaceIndex: 2, proto: 0)])

    /// The kernel after `apply` of A, B and C.
    static func afterApply(_ enis: [ENIFacts] = [a, b, c], configuration: Configuration = Configuration()) throws -> ObservedState
    {
        try applied(instance(enis), on: fresh, configuration: configuration)
    }
}

func plan(
    _ enis: [ENIFacts], _ observed: ObservedState, _ c: Configuration = Configuration(), scope: PlanScope = .all(pending: [])
) throws(FactsError) -> Plan {
    try Planner.plan(facts: instance(enis), observed: observed, configuration: c, scope: scope)
}

/// The rule eniroute makes for `from` in `table` (default configuration).
func ownRule(_ from: String, table: UInt32) -> RoutingPolicyRule {
    let p = prefix(from)
    return RoutingPolicyRule(family: p.family, priority: table + 1, from: p, table: table, proto: Ownership.routeProtocol)
}

/// Whether a change touches an interface index or a table.
func touches(_ change: Change, link: Int32? = nil, table: UInt32? = nil) -> Bool {
    switch change {
    case .linkSetUp(let l), .linkSetGroup(let l, _), .linkSetMTU(let l, _): return l.index == link
    case .addressAdd(let a), .addressDelete(let a): return a.interfaceIndex == link
    case .routeAdd(let r), .routeReplace(let r), .routeDelete(let r):
        return r.table == table || (link != nil && r.outputInterface == link)
    case .ruleAdd(let r), .ruleDelete(let r): return r.table == table
    }
}

func isDeletion(_ change: Change) -> Bool {
    switch change {
    case .addressDelete, .routeDelete, .ruleDelete: return true
    default: return false
    }
}

@Suite("Planner")
struct PlannerTests {
    @Test func fullPlanForAFreshInstance() throws {
        let p = try plan([World.a, World.b, World.c], World.fresh)
        #expect(p.warnings.isEmpty)
        #expect(p.enis.map(\.state.rawValue) == ["managed", "managed", "managed"])
        #expect(p.enis.map(\.table) == [10000, 10001, 10002])
        #expect(p.enis.map(\.interfaceName) == ["eth0", "eth1", "eth2"])
        #expect(
            commands(p) == [
                "ip link set dev eth1 up",
                "ip link set dev eth2 up",
                "ip link set dev eth0 group 10000",
                "ip link set dev eth1 group 10000",
                "ip link set dev eth2 group 10000",
                "ip address add 10.0.0.11/24 dev eth0 noprefixroute proto eniroute",
                "ip -6 address add 2600:1::a/128 dev eth0 noprefixroute nodad proto eniroute",
                "ip address add 10.0.1.20/24 dev eth1 noprefixroute proto eniroute",
                "ip address add 10.0.1.21/24 dev eth1 noprefixroute proto eniroute",
                "ip -6 address add 2600:1:0:1::b/128 dev eth1 noprefixroute nodad proto eniroute",
                "ip address add 10.0.2.30/24 dev eth2 noprefixroute proto eniroute",
                "ip route add 10.0.0.0/24 dev eth0 src 10.0.0.10 scope link table 10000 proto eniroute",
                "ip route add default via 10.0.0.1 dev eth0 table 10000 proto eniroute",
                "ip -6 route add 2600:1::/64 dev eth0 table 10000 proto eniroute",
                "ip -6 route add default via fe80:ec2::1 dev eth0 table 10000 proto eniroute",
                "ip route add 10.0.1.0/24 dev eth1 src 10.0.1.20 scope link table 10001 proto eniroute",
                "ip route add default via 10.0.1.1 dev eth1 table 10001 proto eniroute",
                "ip -6 route add 2600:1:0:1::/64 dev eth1 table 10001 proto eniroute",
                "ip -6 route add default via fe80:ec2::1 dev eth1 table 10001 proto eniroute",
                "ip route add 10.0.2.0/24 dev eth2 src 10.0.2.30 scope link table 10002 proto eniroute",
                "ip route add default via 10.0.2.1 dev eth2 table 10002 proto eniroute",
                "ip rule add from all lookup main suppress_ifgroup 10000 priority 10000 proto eniroute",
                "ip -6 rule add from all lookup main suppress_ifgroup 10000 priority 10000 proto eniroute",
                "ip rule add from 10.0.0.10 lookup 10000 priority 10001 proto eniroute",
                "ip rule add from 10.0.0.11 lookup 10000 priority 10001 proto eniroute",
                "ip -6 rule add from 2600:1::a lookup 10000 priority 10001 proto eniroute",
                "ip rule add from 10.0.1.20 lookup 10001 priority 10002 proto eniroute",
                "ip rule add from 10.0.1.21 lookup 10001 priority 10002 proto eniroute",
                "ip rule add from 10.0.1.32/28 lookup 10001 priority 10002 proto eniroute",
                "ip -6 rule add from 2600:1:0:1::b lookup 10001 priority 10002 proto eniroute",
                "ip -6 rule add from 2600:1:0:1:1::/80 lookup 10001 priority 10002 proto eniroute",
                "ip rule add from 10.0.2.30 lookup 10002 priority 10003 proto eniroute",
            ])
        // Everything eniroute creates carries its tag.
        for change in p.changes {
            switch change {
            case .addressAdd(let a): #expect(a.isOwned && a.noPrefixRoute && (a.family == .inet || a.noDAD))
            case .routeAdd(let r): #expect(r.isOwned)
            case .ruleAdd(let r): #expect(r.isOwned && r.action == 1 && !r.hasOtherSelectors && r.to == nil)
            default: break
            }
        }
        // Links are matched by MAC, never by name: renaming the interfaces changes nothing but names.
        var renamed = World.fresh
        for i in renamed.links.indices where renamed.links[i].name.hasPrefix("eth") { renamed.links[i].name = "enX\(i)" }
        let again = try plan([World.a, World.b, World.c], renamed)
        #expect(again.changes.count == p.changes.count)
        #expect(commands(again).allSatisfy { !$0.contains("eth") })
    }

    @Test func changesAreOrderedMakeBeforeBreak() throws {
        // A run that adds and deletes at once: B loses an IP, C is new, A's link went down.
        var observed = try World.afterApply([World.a, World.b])
        observed.links[1].isUp = false
        var b = World.b
        b.ipv4Addresses.removeLast()
        let p = try plan([World.a, b, World.c], observed)
        let phases = p.changes.map(\.phase)
        #expect(phases == phases.sorted())
        #expect(p.changes.contains(where: isDeletion) && p.changes.contains(where: { !isDeletion($0) }))
    }

    @Test func secondApplyChangesNothing() throws {
        for enis in [[World.a], [World.a, World.b], [World.a, World.b, World.c], [World.b, World.c]] {
            for config in [
                Configuration(),
                {
                    var c = Configuration(); c.ipv6 = false; return c
                }(),
                {
                    var c = Configuration(); c.primaryRules = false; return c
                }(),
            ] {
                let after = try World.afterApply(enis, configuration: config)
                let again = try plan(enis, after, config)
                #expect(again.isEmpty, "\(commands(again))")
                #expect(again.warnings.isEmpty)
                // Also in the per-ENI scope.
                #expect(try plan(enis, after, config, scope: .enis(Set(enis.map(\.mac)))).isEmpty)
            }
        }
    }

    @Test func uncompressedIPv6FromIMDSIsNotAChange() throws {
        // ec2-net-utils #68: IMDS lists fd0a:ffff:9999:8888:0:0:0:0/80, the kernel shows fd0a:ffff:9999:8888::/80.
        let values = [
            "device-number": "1", "subnet-ipv4-cidr-block": "10.0.1.0/24", "local-ipv4s": "10.0.1.20",
            "subnet-ipv6-cidr-blocks": "2600:1:0:1:0:0:0:0/64", "ipv6s": "2600:1:0:1:0:0:0:b",
            "ipv6-prefix": "fd0a:ffff:9999:8888:0:0:0:0/80",
        ]
        let uncompressed = try ENIFacts.parse(mac: World.b.mac, isPrimary: false, values: values)
        var compressedValues = values
        compressedValues["subnet-ipv6-cidr-blocks"] = "2600:1:0:1::/64"
        compressedValues["ipv6s"] = "2600:1:0:1::b"
        compressedValues["ipv6-prefix"] = "fd0a:ffff:9999:8888::/80"
        let compressed = try ENIFacts.parse(mac: World.b.mac, isPrimary: false, values: compressedValues)
        let after = try World.afterApply([World.a, compressed])
        #expect(try plan([World.a, uncompressed], after).isEmpty)
    }

    @Test func dhcpAddressesAreNeitherReaddedNorDeleted() throws {
        var observed = World.fresh
        observed.addresses = [
            InterfaceAddress(prefix: IPPrefix(address: ip("10.0.0.10"), length: 24), interfaceIndex: 2, proto: 0),  // DHCP
            InterfaceAddress(prefix: IPPrefix(address: ip("10.0.0.99"), length: 24), interfaceIndex: 2, proto: 0),  // not in IMDS
            InterfaceAddress(prefix: IPPrefix(address: ip("2600:1::a"), length: 128), interfaceIndex: 2, proto: 0),  // DHCPv6
            InterfaceAddress(prefix: IPPrefix(address: ip("fe80::1"), length: 64), interfaceIndex: 2, proto: 0),
            // Another tool's (address protocol 3).
            InterfaceAddress(prefix: IPPrefix(address: ip("10.0.1.20"), length: 24), interfaceIndex: 3, proto: 3),
            InterfaceAddress(prefix: IPPrefix(address: ip("127.0.0.1"), length: 8), interfaceIndex: 1, proto: 0),
        ]
        let p = try plan([World.a, World.b], observed)
        let added = p.changes.compactMap { c -> String? in
            if case .addressAdd(let a) = c { return "\(a.address)" }
            return nil
        }
        #expect(added == ["10.0.0.11", "10.0.1.21", "2600:1:0:1::b"])
        #expect(!p.changes.contains(where: isDeletion))
        let after = try applied(instance([World.a, World.b]), on: observed)
        #expect(after.addresses.filter { !$0.isOwned }.count == 6)
        #expect(try plan([World.a, World.b], after).isEmpty)
        // Even with IMDS no longer listing them, addresses eniroute did not create stay.
        var aLess = World.a
        aLess.ipv4Addresses = [ip("10.0.0.11")]
        let later = try plan([aLess, World.b], after)
        #expect(!later.changes.contains { if case .addressDelete = $0 { return true } else { return false } })
    }

    @Test(arguments: [PlanScope.all(pending: []), .enis([World.a.mac])])
    func foreignRulesAndRoutesAreNeverDeleted(scope: PlanScope) throws {
        var observed = try World.afterApply()
        let foreignRules = [
            RoutingPolicyRule(family: .inet, priority: 500, from: prefix("10.0.0.10"), table: 100, proto: 0),
            RoutingPolicyRule(family: .inet, priority: 20000, table: 10001, proto: 3),
            RoutingPolicyRule(family: .inet, priority: 10002, from: prefix("10.0.9.9"), table: 10001, proto: 4),
            RoutingPolicyRule(family: .inet6, priority: 10001, from: prefix("2600:1::99"), table: 10000, proto: 0),
            RoutingPolicyRule(family: .inet, priority: 32766, table: 254, proto: 2),
        ]
        let foreignRoutes = [
            Route(destination: prefix("192.168.0.0/16"), table: 10001, outputInterface: 3, gateway: ip("10.0.1.1"), proto: 4),
            Route(destination: prefix("10.0.0.0/8"), table: 10000, outputInterface: 2, gateway: ip("10.0.0.1"), proto: 3),
            Route(destination: .any(.inet), table: 20000, outputInterface: 9, proto: 4),
            Route(destination: prefix("2600:9::/64"), table: 10002, outputInterface: 4, proto: 0),
        ]
        observed.rules += foreignRules
        observed.routes += foreignRoutes
        // Whatever IMDS says, including that B and C are gone.
        for enis in [[World.a, World.b, World.c], [World.a]] {
            let p = try plan(enis, observed, scope: scope)
            for change in p.changes {
                switch change {
                case .ruleDelete(let r): #expect(r.isOwned && !foreignRules.contains(r))
                case .routeDelete(let r): #expect(r.isOwned && !foreignRoutes.contains(r))
                case .routeReplace(let r): #expect(!foreignRoutes.contains { $0.key == r.key })
                default: break
                }
            }
            let kernel = InMemoryKernel(observed)
            try kernel.applyAll(p.changes)
            #expect(foreignRules.allSatisfy { kernel.state.rules.contains($0) })
            #expect(foreignRoutes.allSatisfy { kernel.state.routes.contains($0) })
        }
    }

    @Test func foreignRouteWithTheSameKeyIsAWarningNotAChange() throws {
        var observed = World.fresh
        let foreign = Route(destination: .any(.inet), table: 10001, outputInterface: 3, gateway: ip("10.0.1.254"), proto: 4)
        observed.routes = [foreign]
        let p = try plan([World.a, World.b], observed)
        #expect(p.warnings.count == 1)
        let expected = "not made by eniroute: default via 10.0.1.254 dev eth1 table 10001; left as is"
        #expect(p.warnings.first?.hasSuffix(expected) == true)
        #expect(
            !p.changes.contains { c in
                switch c {
                case .routeAdd(let r), .routeReplace(let r), .routeDelete(let r): return r.key == foreign.key
                default: return false
                }
            })
        // The rest of B's table is still made.
        #expect(commands(p).contains("ip route add 10.0.1.0/24 dev eth1 src 10.0.1.20 scope link table 10001 proto eniroute"))
        // A foreign route identical to eniroute's own, but untagged, is left as well.
        var same = World.fresh
        same.routes = [Route(destination: .any(.inet), table: 10001, outputInterface: 3, gateway: ip("10.0.1.1"), proto: 4)]
        let q = try plan([World.a, World.b], same)
        #expect(q.warnings.count == 1)
        #expect(!commands(q).contains { $0.contains("default via 10.0.1.1") })
    }

    @Test func ownRouteWithOtherAttributesIsReplaced() throws {
        var observed = try World.afterApply([World.a, World.b])
        let i = try #require(observed.routes.firstIndex { $0.table == 10001 && $0.destination.isDefault && $0.family == .inet })
        observed.routes[i].gateway = ip("10.0.1.254")
        let i2 = try #require(observed.routes.firstIndex { $0.table == 10001 && $0.destination == prefix("10.0.1.0/24") })
        observed.routes[i2].preferredSource = ip("10.0.1.21")
        let p = try plan([World.a, World.b], observed)
        #expect(
            commands(p) == [
                "ip route replace 10.0.1.0/24 dev eth1 src 10.0.1.20 scope link table 10001 proto eniroute",
                "ip route replace default via 10.0.1.1 dev eth1 table 10001 proto eniroute",
            ])
        let kernel = InMemoryKernel(observed)
        try kernel.applyAll(p.changes)
        #expect(try plan([World.a, World.b], kernel.state).isEmpty)
    }

    @Test func identicalForeignRuleGetsEniroutesOwnBesideIt() throws {
        var observed = World.fresh
        observed.rules = [RoutingPolicyRule(family: .inet, priority: 10003, from: prefix("10.0.2.30"), table: 10002, proto: 0)]
        let p = try plan([World.a, World.c], observed)
        #expect(p.warnings.contains { $0.contains("identical rule not made by eniroute") })
        #expect(commands(p).contains("ip rule add from 10.0.2.30 lookup 10002 priority 10003 proto eniroute"))
    }

    @Test func detachedENIIsCleanedUpOnlyInFullScope() throws {
        let before = try World.afterApply()
        // B is detached: IMDS no longer lists it; its interface is still there for now.
        let all = try plan([World.a, World.c], before)
        #expect(
            Set(commands(all)) == [
                "ip link set dev eth1 group 0",
                "ip rule del from 10.0.1.20 lookup 10001 priority 10002",
                "ip rule del from 10.0.1.21 lookup 10001 priority 10002",
                "ip rule del from 10.0.1.32/28 lookup 10001 priority 10002",
                "ip -6 rule del from 2600:1:0:1::b lookup 10001 priority 10002",
                "ip -6 rule del from 2600:1:0:1:1::/80 lookup 10001 priority 10002",
                "ip route del 10.0.1.0/24 dev eth1 src 10.0.1.20 scope link table 10001",
                "ip route del default via 10.0.1.1 dev eth1 table 10001",
                "ip -6 route del 2600:1:0:1::/64 dev eth1 table 10001",
                "ip -6 route del default via fe80:ec2::1 dev eth1 table 10001",
                "ip address del 10.0.1.20/24 dev eth1",
                "ip address del 10.0.1.21/24 dev eth1",
                "ip -6 address del 2600:1:0:1::b/128 dev eth1",
            ])
        let kernel = InMemoryKernel(before)
        try kernel.applyAll(all.changes)
        #expect(try plan([World.a, World.c], kernel.state).isEmpty)
        // Only the listed ENIs are in scope: B's objects stay.
        let scoped = try plan([World.a, World.c], before, scope: .enis([World.a.mac, World.c.mac]))
        #expect(scoped.isEmpty, "\(commands(scoped))")

        // The usual case: the interface is gone with its addresses and routes; only rules remain.
        var gone = before
        gone.links.removeAll { $0.index == 3 }
        gone.addresses.removeAll { $0.interfaceIndex == 3 }
        gone.routes.removeAll { $0.outputInterface == 3 }
        let p = try plan([World.a, World.c], gone)
        #expect(
            p.changes.count == 5 && p.changes.allSatisfy { if case .ruleDelete(let r) = $0 { r.table == 10001 } else { false } })
        #expect(try plan([World.a, World.c], gone, scope: .enis([World.a.mac, World.c.mac])).isEmpty)
    }

    @Test func pendingENIsKeepTheirObjects() throws {
        let before = try World.afterApply()
        // B is listed but its data is not ready: the caller leaves it out of the facts and names it pending.
        let p = try plan([World.a, World.c], before, scope: .all(pending: [World.b.mac]))
        #expect(p.isEmpty, "\(commands(p))")
        // Pending does not shield others: C detached at the same time is still cleaned up.
        let q = try plan([World.a], before, scope: .all(pending: [World.b.mac]))
        #expect(!q.changes.isEmpty)
        #expect(q.changes.allSatisfy { touches($0, link: 4, table: 10002) })
    }

    @Test func removedSecondaryIPLosesItsAddressAndRule() throws {
        let before = try World.afterApply()
        var b = World.b
        b.ipv4Addresses = [ip("10.0.1.20")]
        b.ipv6Addresses = []
        b.ipv6Prefixes = []
        for scope in [PlanScope.all(pending: []), .enis([b.mac])] {
            let p = try plan(scope == .enis([b.mac]) ? [b] : [World.a, b, World.c], before, scope: scope)
            #expect(
                commands(p) == [
                    "ip rule del from 10.0.1.21 lookup 10001 priority 10002",
                    "ip -6 rule del from 2600:1:0:1::b lookup 10001 priority 10002",
                    "ip -6 rule del from 2600:1:0:1:1::/80 lookup 10001 priority 10002",
                    "ip -6 route del 2600:1:0:1::/64 dev eth1 table 10001",
                    "ip -6 route del default via fe80:ec2::1 dev eth1 table 10001",
                    "ip address del 10.0.1.21/24 dev eth1",
                    "ip -6 address del 2600:1:0:1::b/128 dev eth1",
                ])
        }
    }

    @Test func movedIPGetsANewRuleAndLosesTheOldOneInAnyScope() throws {
        // 10.0.1.21 moves from B (eth1, table 10001) to D (eth3, table 10003), same subnet.
        let before = try World.afterApply([World.a, World.b, World.d])
        var b = World.b
        b.ipv4Addresses = [ip("10.0.1.20")]
        var d = World.d
        d.ipv4Addresses.append(ip("10.0.1.21"))
        let all = try plan([World.a, b, d], before)
        #expect(
            commands(all) == [
                "ip address add 10.0.1.21/24 dev eth3 noprefixroute proto eniroute",
                "ip rule add from 10.0.1.21 lookup 10003 priority 10004 proto eniroute",
                "ip rule del from 10.0.1.21 lookup 10001 priority 10002",
                "ip address del 10.0.1.21/24 dev eth1",
            ])
        // `eniroute apply eth3`: only D is fetched and in scope. The stale rule would send D's new
        // address out through B, so it goes too; B's interface itself is out of scope.
        let scoped = try plan([d], before, scope: .enis([d.mac]))
        #expect(
            commands(scoped) == [
                "ip address add 10.0.1.21/24 dev eth3 noprefixroute proto eniroute",
                "ip rule add from 10.0.1.21 lookup 10003 priority 10004 proto eniroute",
                "ip rule del from 10.0.1.21 lookup 10001 priority 10002",
                "ip address del 10.0.1.21/24 dev eth1",
            ])
        // Rules are never left pointing both ways.
        let kernel = InMemoryKernel(before)
        try kernel.applyAll(scoped.changes)
        #expect(kernel.state.rules.filter { $0.from == prefix("10.0.1.21") }.map(\.table) == [10003])
    }

    @Test(arguments: ["02:00:00:00:00:0b", "02-00-00-00-00-0B", "eni-0b", "eth1", "e?h1", "*1"])
    func unmanagedENIsAreUntouched(entry: String) throws {
        var config = Configuration()
        config.unmanaged = [entry]
        // On a fresh kernel: B's link stays down and gets nothing.
        let p = try plan([World.a, World.b, World.c], World.fresh, config)
        #expect(p.enis.first { $0.mac == World.b.mac }?.state.rawValue == "unmanaged")
        #expect(p.enis.first { $0.mac == World.b.mac }?.table == nil)
        #expect(!p.changes.contains { touches($0, link: 3, table: 10001) })
        #expect(p.changes.contains { touches($0, link: 4, table: 10002) })
        // With eniroute's objects from an earlier run: kept, in every scope.
        let before = try World.afterApply()
        #expect(try plan([World.a, World.b, World.c], before, config).isEmpty)
        #expect(try plan([World.b], before, config, scope: .enis([World.b.mac])).isEmpty)
    }

    @Test func primaryRulesOff() throws {
        var config = Configuration()
        config.primaryRules = false
        let p = try plan([World.a, World.b], World.fresh, config)
        #expect(p.enis.map(\.table) == [nil, 10001])
        #expect(!p.changes.contains { touches($0, table: 10000) })
        #expect(!p.changes.contains { if case .routeAdd(let r) = $0 { r.outputInterface == 2 } else { false } })
        // The primary's addresses are still managed.
        #expect(commands(p).contains("ip address add 10.0.0.11/24 dev eth0 noprefixroute proto eniroute"))
        // A primary table from an earlier run with primary-rules on is removed.
        let before = try World.afterApply([World.a, World.b])
        let q = try plan([World.a, World.b], before, config)
        #expect(!q.changes.isEmpty)
        #expect(q.changes.allSatisfy { isDeletion($0) && touches($0, table: 10000) })
    }

    @Test func ipv6Off() throws {
        var config = Configuration()
        config.ipv6 = false
        let p = try plan([World.a, World.b], World.fresh, config)
        func family(_ c: Change) -> AddressFamily? {
            switch c {
            case .addressAdd(let a), .addressDelete(let a): return a.family
            case .routeAdd(let r), .routeReplace(let r), .routeDelete(let r): return r.family
            case .ruleAdd(let r), .ruleDelete(let r): return r.family
            default: return nil
            }
        }
        #expect(!p.changes.isEmpty)
        #expect(!p.changes.contains { family($0) == .inet6 })
        // IPv6 objects of an earlier run are removed, IPv4 ones kept.
        let before = try World.afterApply([World.a, World.b])
        let q = try plan([World.a, World.b], before, config)
        #expect(!q.changes.isEmpty)
        #expect(q.changes.allSatisfy { isDeletion($0) && family($0) == .inet6 })
    }

    @Test func manageAddressesOff() throws {
        var config = Configuration()
        config.manageAddresses = false
        let p = try plan([World.a, World.b], World.fresh, config)
        #expect(!p.changes.contains { if case .addressAdd = $0 { true } else { false } })
        #expect(p.changes.contains { if case .ruleAdd = $0 { true } else { false } })
    }

    @Test func linkInAnotherGroupIsAWarning() throws {
        var observed = World.fresh
        observed.links[2].group = 5
        let p = try plan([World.a, World.b], observed)
        #expect(p.warnings == ["eth1 is in interface group 5, not 10000: left as is"])
        #expect(commands(p).filter { $0.contains("group") && !$0.contains("suppress") } == ["ip link set dev eth0 group 10000"])
        // Already in eniroute's group: nothing to do.
        observed.links[2].group = 10000
        #expect(!commands(try plan([World.a, World.b], observed)).contains("ip link set dev eth1 group 10000"))
    }

    @Test func duplicateMACIsAnError() {
        #expect(throws: FactsError.duplicate(what: "MAC 02:00:00:00:00:0b listed twice")) {
            try plan([World.a, World.b, World.b], World.fresh)
        }
        var again = World.c
        again.mac = World.b.mac
        #expect(throws: FactsError.duplicate(what: "MAC 02:00:00:00:00:0b listed twice")) {
            try plan([World.b, again], World.fresh)
        }
    }

    @Test func absentAndForeignKindLinks() throws {
        // B's MAC is also on a bridge (a bridge takes its first port's MAC) and a VLAN: only eth1 is the ENI.
        var observed = World.fresh
        observed.links.append(Link(index: 10, name: "br0", mac: World.b.mac, isUp: true, kind: "bridge"))
        observed.links.append(Link(index: 11, name: "eth1.5", mac: World.b.mac, isUp: true, kind: "vlan"))
        observed.links.removeAll { $0.index == 4 }  // C has no interface (yet)
        let p = try plan([World.a, World.b, World.c], observed)
        #expect(p.enis.map(\.state.rawValue) == ["managed", "managed", "absent"])
        #expect(p.enis.map(\.interfaceName) == ["eth0", "eth1", nil])
        #expect(!p.changes.contains { touches($0, link: 10) || touches($0, link: 11) || touches($0, table: 10002) })
        #expect(p.warnings.isEmpty)
    }

    @Test func ambiguousMACIsLeftAloneOnAFreshKernel() throws {
        var observed = World.fresh
        observed.links.append(Link(index: 12, name: "eth9", mac: World.b.mac, isUp: false))
        let p = try plan([World.a, World.b], observed)
        #expect(p.enis.map(\.state.rawValue) == ["managed", "ambiguous"])
        #expect(p.warnings.count == 1 && p.warnings[0].contains("several interfaces"))
        #expect(!p.changes.contains { touches($0, link: 3, table: 10001) || touches($0, link: 12) })
    }

    @Test func suppressRules() throws {
        let before = try World.afterApply([World.a, World.b])
        let suppress = before.rules.filter { $0.suppressInterfaceGroup != nil }
        #expect(
            suppress.map(\.description).sorted() == [
                "10000: from all lookup main suppress_ifgroup 10000", "10000: from all lookup main suppress_ifgroup 10000",
            ])
        #expect(Set(suppress.map(\.family)) == [.inet, .inet6])
        // No ENI with a table left (all absent): the shared rules go in full scope, never in ENI scope.
        var empty = before
        empty.links.removeAll { $0.index == 2 || $0.index == 3 }
        let all = try plan([World.a, World.b], empty)
        #expect(suppress.allSatisfy { s in all.changes.contains(.ruleDelete(s)) })
        let scoped = try plan([World.b], empty, scope: .enis([World.b.mac]))
        #expect(!scoped.changes.contains { if case .ruleDelete(let r) = $0 { r.suppressInterfaceGroup != nil } else { false } })
        // A changed rule-priority moves them (new first, old after).
        var config = Configuration()
        config.rulePriority = 9000
        let moved = try plan([World.a, World.b], before, config)
        let cmds = commands(moved)
        let addAt = try #require(
            cmds.firstIndex(of: "ip rule add from all lookup main suppress_ifgroup 10000 priority 9000 proto eniroute"))
        let delAt = try #require(cmds.firstIndex(of: "ip rule del from all lookup main suppress_ifgroup 10000 priority 10000"))
        #expect(addAt < delAt)
        #expect(cmds.contains("ip rule add from 10.0.1.20 lookup 10001 priority 9002 proto eniroute"))
    }

    @Test func mainAndLowTablesAreNeverTouchedByDeletions() throws {
        var observed = try World.afterApply([World.a, World.b])
        let low = [
            Route(
                destination: prefix("10.9.0.0/16"), table: 254, outputInterface: 2, gateway: ip("10.0.0.1"),
                proto: Ownership.routeProtocol),
            Route(
                destination: prefix("10.8.0.0/16"), table: 254, outputInterface: 3, gateway: ip("10.0.1.1"),
                proto: Ownership.routeProtocol),
            Route(
                destination: .any(.inet), table: 100, outputInterface: 3, gateway: ip("10.0.1.1"), proto: Ownership.routeProtocol),
            Route(
                destination: prefix("10.7.0.0/16"), table: 255, outputInterface: 3, scope: .host, proto: Ownership.routeProtocol),
            Route(destination: prefix("10.6.0.0/16"), table: 253, outputInterface: 2, proto: Ownership.routeProtocol),
        ]
        #expect(low.allSatisfy { $0.isOwned }, "tagged, e.g. by hand or an old version: still never deleted")
        observed.routes += low
        for (enis, scope) in [
            ([World.a, World.b], PlanScope.all(pending: [])), ([World.a], .all(pending: [])), ([World.b], .enis([World.b.mac])),
        ] {
            let p = try plan(enis, observed, scope: scope)
            #expect(!p.changes.contains { if case .routeDelete(let r) = $0 { r.table < 256 } else { false } })
            #expect(!p.changes.contains { if case .routeReplace(let r) = $0 { r.table < 256 } else { false } })
        }
        // Removal of an interface that is gone: nothing in low tables either.
        var gone = observed
        gone.links.removeAll { $0.index == 3 }
        gone.routes.removeAll { $0.outputInterface == 3 && $0.table >= 256 }
        gone.addresses.removeAll { $0.interfaceIndex == 3 }
        let r = Planner.removal(link: nil, observed: gone, configuration: Configuration())
        #expect(!r.changes.contains { if case .routeDelete(let x) = $0 { x.table < 256 } else { false } })
    }

    @Test func ipCommandRendering() {
        let names: [Int32: String] = [3: "eth1"]
        let r = Route(
            destination: prefix("10.0.1.0/24"), table: 10001, outputInterface: 9, proto: Ownership.routeProtocol, metric: 100)
        #expect(
            Change.routeAdd(r).ipCommand(names: names) == "ip route add 10.0.1.0/24 dev #9 table 10001 metric 100 proto eniroute")
        let r6 = Route(
            destination: .any(.inet6), table: 10001, outputInterface: 3, gateway: Planner.ipv6Gateway,
            proto: Ownership.routeProtocol, metric: 1)
        #expect(
            Change.routeDelete(r6).ipCommand(names: names)
                == "ip -6 route del default via fe80:ec2::1 dev eth1 table 10001 metric 1")
        #expect(
            r6.metric == 1 && Route(destination: .any(.inet6), table: 1, proto: Ownership.routeProtocol).metric == 1024
                && Route(destination: .any(.inet), table: 1, proto: Ownership.routeProtocol).metric == 0)
        let rule = RoutingPolicyRule(
            family: .inet6, priority: 10000, from: .any(.inet6), table: 254, suppressInterfaceGroup: 7,
            proto: Ownership.routeProtocol)
        #expect(
            Change.ruleDelete(rule).ipCommand(names: names)
                == "ip -6 rule del from all lookup main suppress_ifgroup 7 priority 10000")
        #expect(rule.description == "10000: from all lookup main suppress_ifgroup 7")
        let link = Link(index: 3, name: "eth1", mac: nil, isUp: false)
        #expect(Change.linkSetGroup(link, group: 0).ipCommand(names: names) == "ip link set dev eth1 group 0")
        #expect(Change.linkSetUp(link).ipCommand(names: names) == "ip link set dev eth1 up")
        let a = InterfaceAddress(prefix: IPPrefix(address: ip("10.0.1.5"), length: 24), interfaceIndex: 3, proto: 0)
        #expect(Change.addressAdd(a).ipCommand(names: names) == "ip address add 10.0.1.5/24 dev eth1 proto eniroute")
        #expect(a.description == "10.0.1.5/24 dev #3" && !a.isOwned)
        #expect(
            Route(
                destination: .any(.inet), table: 10001, outputInterface: 3, gateway: ip("10.0.1.1"),
                proto: Ownership.routeProtocol
            ).description
                == "default via 10.0.1.1 dev #3 table 10001")
    }
}

@Suite("Planner.removal")
struct RemovalTests {
    @Test func presentLink() throws {
        var observed = try World.afterApply()
        // From DHCP: not eniroute's.
        observed.addresses.append(
            InterfaceAddress(prefix: IPPrefix(address: ip("10.0.1.99"), length: 24), interfaceIndex: 3, proto: 0))
        let foreign = RoutingPolicyRule(family: .inet, priority: 9, from: prefix("10.0.1.20"), table: 10001, proto: 0)
        observed.rules.append(foreign)
        let eth1 = try #require(observed.links.first { $0.index == 3 })
        #expect(eth1.group == 10000)
        let p = Planner.removal(link: eth1, observed: observed, configuration: Configuration())
        #expect(
            Set(commands(p)) == [
                "ip link set dev eth1 group 0",
                "ip rule del from 10.0.1.20 lookup 10001 priority 10002",
                "ip rule del from 10.0.1.21 lookup 10001 priority 10002",
                "ip rule del from 10.0.1.32/28 lookup 10001 priority 10002",
                "ip -6 rule del from 2600:1:0:1::b lookup 10001 priority 10002",
                "ip -6 rule del from 2600:1:0:1:1::/80 lookup 10001 priority 10002",
                "ip route del 10.0.1.0/24 dev eth1 src 10.0.1.20 scope link table 10001",
                "ip route del default via 10.0.1.1 dev eth1 table 10001",
                "ip -6 route del 2600:1:0:1::/64 dev eth1 table 10001",
                "ip -6 route del default via fe80:ec2::1 dev eth1 table 10001",
                "ip address del 10.0.1.20/24 dev eth1",
                "ip address del 10.0.1.21/24 dev eth1",
                "ip -6 address del 2600:1:0:1::b/128 dev eth1",
            ])
        #expect(p.changes.map(\.phase) == p.changes.map(\.phase).sorted())
        #expect(p.enis.map(\.state.rawValue) == ["removed"] && p.enis.first?.table == 10001)
        let kernel = InMemoryKernel(observed)
        try kernel.applyAll(p.changes)
        #expect(kernel.state.rules.contains(foreign))
        // The other ENIs are exactly as apply left them.
        #expect(try plan([World.a, World.c], kernel.state, scope: .enis([World.a.mac, World.c.mac])).isEmpty)
        // Removing again finds nothing.
        let eth1After = try #require(kernel.state.links.first { $0.index == 3 })
        #expect(Planner.removal(link: eth1After, observed: kernel.state, configuration: Configuration()).isEmpty)
    }

    @Test func goneLinkLeavesOrphanedTables() throws {
        var observed = try World.afterApply()
        observed.links.removeAll { $0.index == 3 }
        observed.addresses.removeAll { $0.interfaceIndex == 3 }
        observed.routes.removeAll { $0.outputInterface == 3 }
        #expect(Planner.orphanedTables(observed: observed) == [10001])
        let p = Planner.removal(link: nil, observed: observed, configuration: Configuration())
        #expect(p.changes.count == 5)
        #expect(p.changes.allSatisfy { if case .ruleDelete(let r) = $0 { r.table == 10001 && r.isOwned } else { false } })
        #expect(p.enis.isEmpty)
    }

    @Test func tableWhoseAddressIsStillLocalIsNotOrphaned() throws {
        // Routes gone (e.g. the link went down) but the addresses are still on an interface: not orphaned.
        var observed = try World.afterApply()
        observed.routes.removeAll { $0.table == 10002 }
        #expect(Planner.orphanedTables(observed: observed).isEmpty)
    }

    @Test func lastENIRemovesTheSuppressRules() throws {
        var observed = try World.afterApply([World.b])
        let eth1 = try #require(observed.links.first { $0.index == 3 })
        let present = Planner.removal(link: eth1, observed: observed, configuration: Configuration())
        #expect(commands(present).contains("ip rule del from all lookup main suppress_ifgroup 10000 priority 10000"))
        #expect(commands(present).contains("ip -6 rule del from all lookup main suppress_ifgroup 10000 priority 10000"))
        let kernel = InMemoryKernel(observed)
        try kernel.applyAll(present.changes)
        // Only the primary's DHCP address (never eniroute's) is left.
        #expect(kernel.state.rules.isEmpty && kernel.state.routes.isEmpty && kernel.state.addresses.allSatisfy { !$0.isOwned })

        observed.links.removeAll { $0.index == 3 }
        observed.addresses.removeAll { $0.interfaceIndex == 3 }
        observed.routes.removeAll { $0.outputInterface == 3 }
        let gone = Planner.removal(link: nil, observed: observed, configuration: Configuration())
        #expect(gone.changes.count == 7)
        let after = InMemoryKernel(observed)
        try after.applyAll(gone.changes)
        #expect(after.state.rules.isEmpty)
    }

    @Test func suppressRulesStayWhileOtherENIsHaveRules() throws {
        let observed = try World.afterApply()
        let eth2 = try #require(observed.links.first { $0.index == 4 })
        let p = Planner.removal(link: eth2, observed: observed, configuration: Configuration())
        #expect(!p.changes.contains { if case .ruleDelete(let r) = $0 { r.suppressInterfaceGroup != nil } else { false } })
        #expect(!p.changes.contains { touches($0, link: 2, table: 10000) || touches($0, link: 3, table: 10001) })
    }

    @Test func linkOutsideTheGroupKeepsItsGroup() {
        let link = Link(index: 3, name: "eth1", mac: World.b.mac, isUp: true, group: 5)
        let p = Planner.removal(link: link, observed: ObservedState(links: [link]), configuration: Configuration())
        #expect(p.isEmpty)
    }
}
