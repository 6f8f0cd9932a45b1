import ENIRouteCore
import Testing

/// The VPC's MTU on ENIs eniroute brings up itself (issue 12, item 2): a secondary ENI that only
/// eniroute configures gets the primary's MTU (DHCP set it: 9001); one someone else configured
/// keeps its MTU.
@Suite("Planner: MTU")
struct PlannerMTUTests {
    /// World.fresh with the primary at 9001 (DHCP) and B's interface as given.
    static func observed(eth1 up: Bool, mtu: UInt32 = 1500, addressed: Bool = false) -> ObservedState {
        var o = World.fresh
        for i in o.links.indices {
            if o.links[i].index == 2 { o.links[i].mtu = 9001 }
            if o.links[i].index == 3 {
                o.links[i].isUp = up
                o.links[i].mtu = mtu
            }
        }
        if addressed {
            // What a DHCP client on eth1 would have configured (untagged).
            o.addresses.append(
                InterfaceAddress(prefix: IPPrefix(address: ip("10.0.1.20"), length: 24), interfaceIndex: 3, proto: 0))
        }
        return o
    }

    static func mtuCommands(_ p: Plan) -> [String] { commands(p).filter { $0.contains(" mtu ") } }

    static func plan(_ observed: ObservedState, _ c: Configuration = Configuration()) throws -> Plan {
        try Planner.plan(facts: instance([World.a, World.b]), observed: observed, configuration: c, scope: .all(pending: []))
    }

    @Test func aDownENIGetsThePrimarysMTUBeforeItGoesUp() throws {
        let p = try Self.plan(Self.observed(eth1: false))
        let cmds = commands(p)
        #expect(Self.mtuCommands(p) == ["ip link set dev eth1 mtu 9001"])
        let mtuAt = try #require(cmds.firstIndex(of: "ip link set dev eth1 mtu 9001"))
        let upAt = try #require(cmds.firstIndex(of: "ip link set dev eth1 up"))
        #expect(mtuAt < upAt)
    }

    @Test func anUpENIWithNoneOfItsAddressesGetsThePrimarysMTU() throws {
        #expect(Self.mtuCommands(try Self.plan(Self.observed(eth1: true))) == ["ip link set dev eth1 mtu 9001"])
    }

    @Test func anENISomeoneElseConfiguredKeepsItsMTU() throws {
        #expect(Self.mtuCommands(try Self.plan(Self.observed(eth1: true, addressed: true))).isEmpty)
    }

    @Test func thePrimaryIsNeverChanged() throws {
        var o = Self.observed(eth1: true, addressed: true)
        o.links[1].isUp = false  // eth0 down: eniroute brings it up, but its MTU is DHCP's
        o.links[1].mtu = 1500
        var c = Configuration()
        c.mtu = .value(9001)
        #expect(Self.mtuCommands(try Self.plan(o, c)).isEmpty)
    }

    @Test func keepNeverChangesAnMTU() throws {
        var c = Configuration()
        c.mtu = .keep
        #expect(Self.mtuCommands(try Self.plan(Self.observed(eth1: false), c)).isEmpty)
    }

    @Test func aNumberIsSetInsteadOfThePrimarys() throws {
        var c = Configuration()
        c.mtu = .value(1500)
        #expect(Self.mtuCommands(try Self.plan(Self.observed(eth1: false), c)).isEmpty, "already 1500")
        #expect(Self.mtuCommands(try Self.plan(Self.observed(eth1: false, mtu: 9001), c)) == ["ip link set dev eth1 mtu 1500"])
        c.mtu = .value(8500)
        #expect(Self.mtuCommands(try Self.plan(Self.observed(eth1: false), c)) == ["ip link set dev eth1 mtu 8500"])
    }

    /// `auto` without a usable primary MTU (not reported, or outside 1280…9216) changes nothing.
    @Test func autoNeedsAUsablePrimaryMTU() throws {
        var o = Self.observed(eth1: false)
        o.links[1].mtu = nil
        #expect(Self.mtuCommands(try Self.plan(o)).isEmpty)
        o.links[1].mtu = 65536
        #expect(Self.mtuCommands(try Self.plan(o)).isEmpty)
    }

    /// After the apply eth1 is up and addressed: the next plan is empty, and the MTU stays.
    @Test func applyThenNothingLeft() throws {
        let after = try applied(instance([World.a, World.b]), on: Self.observed(eth1: false))
        #expect(after.links.first { $0.index == 3 }?.mtu == 9001)
        #expect(try Self.plan(after).isEmpty)
    }

    @Test func theGuardAllowsThePlannedMTUAndRefusesOthers() throws {
        let o = Self.observed(eth1: false)
        let p = try Self.plan(o)
        #expect(ChangeGuard.refusals(p.changes, observed: o).allSatisfy { $0 == nil })
        let eth1 = o.links.first { $0.index == 3 }!
        #expect(ChangeGuard.refusals([.linkSetMTU(eth1, mtu: 1279)], observed: o) == ["MTU 1279 outside 1280...9216"])
        #expect(ChangeGuard.refusals([.linkSetMTU(eth1, mtu: 65536)], observed: o)[0] != nil)
        #expect(ChangeGuard.refusals([.linkSetMTU(World.docker0, mtu: 9001)], observed: o)[0] != nil, "a bridge is not an ENI")
    }
}
