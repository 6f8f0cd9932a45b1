import ENIRouteCore
import ENIRouteTestSupport
import Testing

// The planner's scopes and the ENIs' lifecycle: detached, pending, changed, moved, unmanaged.
extension PlannerTests {
    @Test func detachedENIIsCleanedUpOnlyInFullScope() throws {
        let before = try World.afterApply()
        // B is detached: IMDS no longer lists it; its interface is still there for now.
        let all = try plan([World.a, World.c], before)
        #expect(Set(commands(all)) == World.bRemoval)
        let kernel = InMemoryKernel(before)
        try kernel.applyAll(all.changes)
        #expect(try plan([World.a, World.c], kernel.state).isEmpty)
        // Only the listed ENIs are in scope: B's objects stay.
        let scoped = try plan([World.a, World.c], before, scope: .enis([World.a.mac, World.c.mac]))
        #expect(scoped.isEmpty, "\(commands(scoped))")

        // The usual case: the interface is gone with its addresses and routes; only rules remain.
        let gone = World.linkGone(3, from: before)
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

}
