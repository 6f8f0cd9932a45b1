import ENIRouteCore
import ENIRouteTestSupport
import Testing

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
        #expect(Set(commands(p)) == World.bRemoval)
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
        let observed = World.linkGone(3, from: try World.afterApply())
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

        observed = World.linkGone(3, from: observed)
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

    /// `remove --all` (the package's removal): nothing of eniroute's is left, on links that are
    /// there and of a table whose link is gone, and what others made stays, also in its tables.
    @Test func everythingGoesButForeignObjects() throws {
        var observed = World.linkGone(4, from: try World.afterApply())
        let foreignRule = RoutingPolicyRule(family: .inet, priority: 9, from: prefix("10.0.1.20"), table: 10001, proto: 0)
        let foreignRoute = Route(destination: prefix("192.0.2.0/24"), table: 10001, outputInterface: 3, proto: 4)
        let dhcp = InterfaceAddress(prefix: IPPrefix(address: ip("10.0.1.99"), length: 24), interfaceIndex: 3, proto: 0)
        observed.rules.append(foreignRule)
        observed.routes.append(foreignRoute)
        observed.addresses.append(dhcp)
        let p = Planner.removalOfEverything(observed: observed, configuration: Configuration())
        #expect(p.changes.map(\.phase) == p.changes.map(\.phase).sorted())
        #expect(p.enis.isEmpty && p.warnings.isEmpty)
        let kernel = InMemoryKernel(observed)
        try kernel.applyAll(p.changes)
        let s = kernel.state
        #expect(!s.rules.contains { $0.isOwned } && !s.routes.contains { $0.isOwned })
        #expect(!s.addresses.contains { $0.isOwned })
        #expect(s.links.allSatisfy { $0.group == 0 })
        #expect(s.rules.contains(foreignRule) && s.routes.contains(foreignRoute) && s.addresses.contains(dhcp))
        #expect(Planner.removalOfEverything(observed: s, configuration: Configuration()).isEmpty)
    }
}
