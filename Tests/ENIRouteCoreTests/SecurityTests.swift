import ENIRouteCore
import Testing

/// The last check before the kernel (`ChangeGuard`) and the validation of hostile IMDS data.
@Suite struct SecurityChangeGuardTests {
    let main = ObservedState(
        links: World.fresh.links,
        rules: [
            RoutingPolicyRule(family: .inet, priority: 0, table: 255, proto: 2),
            RoutingPolicyRule(family: .inet, priority: 32766, table: 254, proto: 2),
            RoutingPolicyRule(family: .inet, priority: 32767, table: 253, proto: 2),
        ],
        routes: [Route(destination: .any(.inet), table: 254, outputInterface: 2, gateway: ip("10.0.0.1"), proto: 4)])

    /// Every plan the planner makes (apply from scratch, apply over a changed state, removal of
    /// a present and of a vanished ENI) passes the guard against the state it was made from.
    @Test func plansThePlannerMakesAreAllowed() throws {
        let fresh = ObservedState(
            links: World.fresh.links, addresses: [], rules: main.rules, routes: main.routes)
        let c = Configuration()
        let first = try Planner.plan(
            facts: instance([World.a, World.b, World.c]), observed: fresh, configuration: c, scope: .all(pending: []))
        #expect(!first.changes.isEmpty)
        #expect(ChangeGuard.refusals(first.changes, observed: fresh).allSatisfy { $0 == nil })

        let after = try applied(instance([World.a, World.b, World.c]), on: fresh)
        var b2 = World.b
        b2.ipv4Addresses = [ip("10.0.1.20"), ip("10.0.1.22")]
        let moved = try Planner.plan(facts: instance([World.a, b2]), observed: after, configuration: c, scope: .all(pending: []))
        #expect(moved.changes.contains { if case .ruleDelete = $0 { true } else { false } })
        #expect(ChangeGuard.refusals(moved.changes, observed: after).allSatisfy { $0 == nil })

        let removal = Planner.removal(link: World.eth1, observed: after, configuration: c)
        #expect(!removal.changes.isEmpty)
        #expect(ChangeGuard.refusals(removal.changes, observed: after).allSatisfy { $0 == nil })
        var gone = after
        gone.links.removeAll { $0.index == World.eth2.index }
        gone.routes.removeAll { $0.outputInterface == World.eth2.index }
        gone.addresses.removeAll { $0.interfaceIndex == World.eth2.index }
        let orphan = Planner.removal(link: nil, observed: gone, configuration: c)
        #expect(ChangeGuard.refusals(orphan.changes, observed: gone).allSatisfy { $0 == nil })
    }

    func refused(_ change: Change, _ observed: ObservedState? = nil, with batch: [Change] = []) -> String? {
        ChangeGuard.refusals(batch + [change], observed: observed ?? main).last!
    }

    @Test(arguments: [UInt32(0), 100, 253, 254, 255])
    func routesInReservedOrLowTablesAreRefused(table: UInt32) {
        let r = Route(
            destination: .any(.inet), table: table, outputInterface: 2, gateway: ip("10.0.0.1"), proto: Ownership.routeProtocol)
        #expect(refused(.routeAdd(r)) != nil)
        #expect(refused(.routeReplace(r)) != nil)
        #expect(refused(.routeDelete(main.routes[0])) != nil, "main's default route")
    }

    @Test func untaggedObjectsAreRefused() {
        let r = Route(destination: .any(.inet), table: 10001, outputInterface: 3, gateway: ip("10.0.1.1"), proto: 4)
        #expect(refused(.routeAdd(r)) != nil)
        let rule = RoutingPolicyRule(family: .inet, priority: 10002, from: prefix("10.0.1.20/32"), table: 10001, proto: 0)
        #expect(refused(.ruleAdd(rule)) != nil)
        let a = InterfaceAddress(prefix: IPPrefix(address: ip("10.0.1.20"), length: 24), interfaceIndex: 3, proto: 0)
        #expect(refused(.addressAdd(a)) != nil)
        var withForeign = main
        withForeign.addresses = [a]
        withForeign.rules.append(rule)
        withForeign.routes.append(r)
        #expect(refused(.addressDelete(a), withForeign) != nil)
        #expect(refused(.ruleDelete(rule), withForeign) != nil)
        #expect(refused(.routeDelete(r), withForeign) != nil)
    }

    @Test func deletionsOnlyOfWhatTheKernelReported() {
        let own = Route(
            destination: .any(.inet), table: 10001, outputInterface: 3, gateway: ip("10.0.1.1"), proto: Ownership.routeProtocol)
        #expect(refused(.routeDelete(own)) != nil)
        let rule = RoutingPolicyRule(
            family: .inet, priority: 10002, from: prefix("10.0.1.20/32"), table: 10001, proto: Ownership.routeProtocol)
        #expect(refused(.ruleDelete(rule)) != nil)
        let a = InterfaceAddress(
            prefix: IPPrefix(address: ip("10.0.1.21"), length: 24), interfaceIndex: 3, noPrefixRoute: true, proto: 0xEE)
        #expect(refused(.addressDelete(a)) != nil)
        var observed = main
        observed.routes.append(own)
        observed.rules.append(rule)
        observed.addresses.append(a)
        #expect(refused(.routeDelete(own), observed) == nil)
        #expect(refused(.ruleDelete(rule), observed) == nil)
        #expect(refused(.addressDelete(a), observed) == nil)
    }

    @Test func replacingAForeignRouteIsRefused() {
        let foreign = Route(destination: .any(.inet), table: 10001, outputInterface: 3, gateway: ip("10.0.1.1"), proto: 3)
        var observed = main
        observed.routes.append(foreign)
        let own = Route(
            destination: .any(.inet), table: 10001, outputInterface: 3, gateway: ip("10.0.1.1"), proto: Ownership.routeProtocol)
        #expect(refused(.routeReplace(own), observed) != nil)
        #expect(refused(.routeReplace(own)) == nil)
    }

    @Test(arguments: [UInt32(0), 32766, 32767])
    func rulesAtTheKernelsPrioritiesAreRefused(priority: UInt32) {
        let rule = RoutingPolicyRule(
            family: .inet, priority: priority, from: prefix("10.0.1.20/32"), table: 10001, proto: Ownership.routeProtocol)
        #expect(refused(.ruleAdd(rule)) != nil)
    }

    @Test func rulesIntoMainOnlyAsTheSuppressRule() {
        let suppress = RoutingPolicyRule(
            family: .inet, priority: 10000, table: 254, suppressInterfaceGroup: 10000, proto: Ownership.routeProtocol)
        #expect(refused(.ruleAdd(suppress)) == nil)
        let intoMain = RoutingPolicyRule(
            family: .inet, priority: 10000, from: prefix("10.0.1.20/32"), table: 254, proto: Ownership.routeProtocol)
        #expect(refused(.ruleAdd(intoMain)) != nil)
        let intoLocal = RoutingPolicyRule(
            family: .inet, priority: 10000, table: 255, suppressInterfaceGroup: 10000, proto: Ownership.routeProtocol)
        #expect(refused(.ruleAdd(intoLocal)) != nil)
        let notLookup = RoutingPolicyRule(
            family: .inet, priority: 10002, from: prefix("10.0.1.20/32"), table: 10001, proto: Ownership.routeProtocol, action: 2)
        #expect(refused(.ruleAdd(notLookup)) != nil)
    }

    /// A `from all lookup <ENI table>` rule would send every packet of the host through one ENI.
    @Test func ruleFromAllIntoAnENITableIsRefused() {
        #expect(
            refused(.ruleAdd(RoutingPolicyRule(family: .inet, priority: 10002, table: 10001, proto: Ownership.routeProtocol)))
                != nil)
        #expect(
            refused(
                .ruleAdd(
                    RoutingPolicyRule(
                        family: .inet6, priority: 10002, from: .any(.inet6), table: 10001, proto: Ownership.routeProtocol)))
                != nil)
    }

    @Test func linksOnlyENIsAndOnlyEnirouteGroups() {
        let suppress = RoutingPolicyRule(
            family: .inet, priority: 10000, table: 254, suppressInterfaceGroup: 10000, proto: Ownership.routeProtocol)
        #expect(refused(.linkSetUp(World.docker0)) != nil, "a bridge is not an ENI")
        #expect(refused(.linkSetUp(World.lo)) != nil, "no hardware address")
        #expect(refused(.linkSetUp(Link(index: 77, name: "eth7", mac: World.b.mac, isUp: false))) != nil, "not observed")
        #expect(refused(.linkSetUp(World.eth1)) == nil)
        #expect(refused(.linkSetGroup(World.eth1, group: 10000)) != nil, "no suppress rule for that group")
        #expect(refused(.linkSetGroup(World.eth1, group: 10000), with: [.ruleAdd(suppress)]) == nil)
        var observed = main
        observed.rules.append(suppress)
        var other = World.eth1
        other.group = 42
        observed.links[observed.links.firstIndex { $0.index == other.index }!] = other
        #expect(refused(.linkSetGroup(other, group: 0), observed) != nil, "group 42 is not eniroute's")
        #expect(refused(.linkSetGroup(other, group: 10000), observed) != nil, "from another group")
        other.group = 10000
        observed.links[observed.links.firstIndex { $0.index == other.index }!] = other
        #expect(refused(.linkSetGroup(other, group: 0), observed) == nil)
    }

    /// One refused change stops the batch: the adapter sends nothing of it (tested in the CLI).
    @Test func oneRefusalPerChange() {
        let ok = Change.routeAdd(
            Route(
                destination: .any(.inet), table: 10001, outputInterface: 3, gateway: ip("10.0.1.1"),
                proto: Ownership.routeProtocol))
        let bad = Change.routeAdd(
            Route(
                destination: .any(.inet), table: 254, outputInterface: 3, gateway: ip("10.0.1.1"), proto: Ownership.routeProtocol)
        )
        let r = ChangeGuard.refusals([ok, bad, ok], observed: main)
        #expect(r.count == 3 && r[0] == nil && r[1] != nil && r[2] == nil)
    }
}

/// Hostile IMDS values are refused before planning.
@Suite struct SecurityFactsTests {
    let m = mac("02:00:00:00:00:02")

    /// Regression: `ipv4-prefix` 0.0.0.0/0 used to become a `from all lookup 10001` rule that
    /// captured every packet of the host.
    @Test(arguments: [
        ("ipv4-prefix", "0.0.0.0/0"), ("ipv4-prefix", "0.0.0.0/1"), ("ipv4-prefix", "10.0.0.0/8"),
        ("ipv6-prefix", "::/0"), ("ipv6-prefix", "2600:1::/48"),
    ])
    func delegatedPrefixBroaderThanTheSubnetIsRefused(key: String, value: String) {
        var values = [
            "device-number": "1", "subnet-ipv4-cidr-block": "10.0.1.0/24", "local-ipv4s": "10.0.1.20",
            "subnet-ipv6-cidr-blocks": "2600:1:0:1::/64", "ipv6s": "2600:1:0:1::b",
        ]
        values[key] = value
        #expect(throws: FactsError.self) { try ENIFacts.parse(mac: m, isPrimary: false, values: values) }
    }

    @Test func delegatedPrefixesAsAWSHandsThemOutAreAccepted() throws {
        let f = try ENIFacts.parse(
            mac: m, isPrimary: false,
            values: [
                "device-number": "1", "subnet-ipv4-cidr-block": "10.0.1.0/24", "local-ipv4s": "10.0.1.20",
                "ipv4-prefix": "10.0.1.32/28", "subnet-ipv6-cidr-blocks": "2600:1:0:1::/64", "ipv6-prefix": "2600:1:0:1:1::/80",
            ])
        #expect(f.ipv4Prefixes == [prefix("10.0.1.32/28")] && f.ipv6Prefixes == [prefix("2600:1:0:1:1::/80")])
    }

    /// Every address and prefix is a typed value by the time the planner sees it: text that is not
    /// one is refused, whatever it looks like.
    @Test(arguments: [
        "10.0.1.256", "10.0.1.20 ", "10.0.1.20/32", "010.000.001.020", "10.0.1", "0x0a.0.1.20", "10.0.1.20\u{0}",
        "10.0.1.\u{FFFD}", "::ffff:10.0.1.20", "10.0.1.20; rm -rf /",
    ])
    func hostileAddressTextIsRefused(text: String) {
        let values = ["device-number": "1", "subnet-ipv4-cidr-block": "10.0.1.0/24", "local-ipv4s": "10.0.1.21\n" + text]
        if text == "10.0.1.20 " {
            // Surrounding white space is trimmed (IMDS lines end with it): still the same typed value.
            #expect((try? ENIFacts.parse(mac: m, isPrimary: false, values: values))?.ipv4Addresses.count == 2)
        } else {
            #expect(throws: FactsError.self) { try ENIFacts.parse(mac: m, isPrimary: false, values: values) }
        }
    }
}
