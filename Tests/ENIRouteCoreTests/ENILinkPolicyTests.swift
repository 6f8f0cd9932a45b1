import ENIRouteCore
import Testing

/// "Can this link be an ENI", written once (`ENILinkPolicy`), with veth accepted only by test
/// builds. Both meanings of the compile-time flag are passed in explicitly so both are tested in
/// any build; the shipped binary's behaviour is checked from the .deb by tests/package.
@Suite("ENI link policy")
struct ENILinkPolicyTests {
    static let shipped = ENILinkPolicy(acceptsVeth: false)
    static let harness = ENILinkPolicy(acceptsVeth: true)
    static let veth = Link(index: 3, name: "veth-b", mac: World.b.mac, isUp: false, kind: "veth")

    @Test func plainLinkWithAHardwareAddressIsAnENIUnderBoth() {
        for policy in [Self.shipped, Self.harness] {
            #expect(policy.canBeENI(World.eth1))
            #expect(policy.refusal(World.eth1) == nil)
        }
    }

    @Test func vethOnlyUnderTheHarnessPolicy() {
        #expect(!Self.shipped.canBeENI(Self.veth))
        #expect(Self.shipped.refusal(Self.veth) == "link veth-b is a veth, not an ENI")
        #expect(Self.harness.canBeENI(Self.veth))
    }

    @Test func otherKindsAndMissingAddressesNeverAreENIs() {
        let vlan = Link(index: 11, name: "eth1.5", mac: World.b.mac, isUp: true, kind: "vlan")
        let tunnel = Link(index: 12, name: "wg0", mac: nil, isUp: true)
        for policy in [Self.shipped, Self.harness] {
            #expect(policy.refusal(World.docker0) == "link docker0 is a bridge, not an ENI")
            #expect(!policy.canBeENI(vlan))
            #expect(policy.refusal(World.lo) == "link lo has no hardware address: not an ENI")
            #expect(!policy.canBeENI(tunnel))
        }
    }

    /// `swift test` builds without the flag: the compiled-in policy is the shipped one.
    @Test func testBuildsOfTheUnitTestsUseTheShippedPolicy() {
        #if !ENIROUTE_ACCEPT_VETH
            #expect(ENILinkPolicy.build == Self.shipped)
            #expect(!Self.veth.canBeENI)
        #endif
        #expect(World.eth1.canBeENI)
    }

    /// The planner: an ENI whose only interface is a veth is "absent" for the shipped binary and
    /// configured by the test variant.
    @Test func plannerSkipsAVethENIUnlessTheHarnessPolicyIsGiven() throws {
        var observed = World.fresh
        observed.links.removeAll { $0.index == 3 }
        observed.links.append(Self.veth)
        func plan(_ policy: ENILinkPolicy) throws -> Plan {
            try Planner.plan(
                facts: instance([World.a, World.b]), observed: observed, configuration: Configuration(),
                scope: .all(pending: []), options: PlanOptions(linkPolicy: policy))
        }
        let shipped = try plan(Self.shipped)
        #expect(shipped.enis.map(\.state.rawValue) == ["managed", "absent"])
        #expect(!shipped.changes.contains { touches($0, link: 3, table: 10001) })
        let harness = try plan(Self.harness)
        #expect(harness.enis.map(\.state.rawValue) == ["managed", "managed"])
        #expect(harness.changes.contains(.linkSetUp(Self.veth)))
    }

    /// The guard: bringing up or grouping a veth is refused by the shipped policy.
    @Test func changeGuardRefusesVethLinksUnderTheShippedPolicy() {
        var observed = World.fresh
        observed.links.removeAll { $0.index == 3 }
        observed.links.append(Self.veth)
        let changes: [Change] = [.linkSetUp(Self.veth)]
        #expect(
            ChangeGuard.refusals(changes, observed: observed, linkPolicy: Self.shipped) == ["link veth-b is a veth, not an ENI"])
        #expect(ChangeGuard.refusals(changes, observed: observed, linkPolicy: Self.harness) == [nil])
    }
}
