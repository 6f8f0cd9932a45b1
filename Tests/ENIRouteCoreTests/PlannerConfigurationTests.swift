import ENIRouteCore
import ENIRouteTestSupport
import Testing

// The planner's configuration switches, the links it refuses or skips, the suppress rules and the
// `ip` rendering.
extension PlannerTests {
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
