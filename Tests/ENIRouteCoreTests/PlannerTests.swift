import ENIRouteCore
import ENIRouteTestSupport
import Testing

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

}
