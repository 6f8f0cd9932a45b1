import ENIRouteCore
import Testing

/// An administrator's routes in the main table through an ENI (issue 12, item 1: service
/// chaining) are mirrored into that ENI's table, tagged as eniroute's, so that traffic from the
/// ENI's own addresses honours them; traffic from another ENI's addresses keeps its own table.
@Suite("Planner: main-table routes through an ENI")
struct PlannerMainRoutesTests {
    /// `ip route add 203.0.113.0/24 via 10.0.0.50 dev eth0` (proto boot).
    static let appliance = Route(
        destination: prefix("203.0.113.0/24"), table: 254, outputInterface: 2, gateway: ip("10.0.0.50"), proto: 3)

    static func mirror(_ r: Route, table: UInt32) -> Route {
        var m = r
        m.table = table
        m.proto = Ownership.routeProtocol
        return m
    }

    static func withMain(_ routes: [Route], on observed: ObservedState = World.fresh) -> ObservedState {
        var o = observed
        o.routes += routes
        return o
    }

    @Test func aRouteThroughAnENIIsMirroredIntoItsTable() throws {
        let p = try plan([World.a, World.b], Self.withMain([Self.appliance]))
        #expect(p.changes.contains(.routeAdd(Self.mirror(Self.appliance, table: 10000))))
        #expect(commands(p).contains("ip route add 203.0.113.0/24 via 10.0.0.50 dev eth0 table 10000 proto eniroute"))
        #expect(!commands(p).contains { $0.contains("203.0.113.0/24") && $0.contains("table 10001") })
        let throughB = Route(
            destination: prefix("198.18.0.0/15"), table: 254, outputInterface: 3, gateway: ip("10.0.1.1"), proto: 4)
        let q = try plan([World.a, World.b], Self.withMain([throughB]))
        #expect(q.changes.contains(.routeAdd(Self.mirror(throughB, table: 10001))))
        #expect(!q.changes.contains(.routeAdd(Self.mirror(throughB, table: 10000))))
    }

    @Test func defaultKernelRAAndNonENIRoutesAreNotMirrored() throws {
        let main = [
            Route(destination: .any(.inet), table: 254, outputInterface: 2, gateway: ip("10.0.0.1"), proto: 16),
            Route(destination: prefix("10.0.0.0/24"), table: 254, outputInterface: 2, scope: .link, proto: 2),
            Route(destination: prefix("2600:1::/64"), table: 254, outputInterface: 2, proto: 9),
            Route(destination: prefix("172.17.0.0/16"), table: 254, outputInterface: 9, scope: .link, proto: 3),
            Route(destination: prefix("192.0.2.0/24"), table: 254, proto: 3, type: 6),  // prohibit
        ]
        let before = try plan([World.a, World.b], World.fresh)
        let after = try plan([World.a, World.b], Self.withMain(main))
        #expect(commands(after) == commands(before))
    }

    /// Debian 13's cloud-init runs dhcpcd on the primary, which leaves on-link routes with metric
    /// 1002 in main (found by `make vm-test VM_IMAGE=debian-13`): no next hop, nothing to honour
    /// (the ENI's table has its own subnet route), and copying them made the copies come and go
    /// with every networkd event.
    @Test func onLinkRoutesWithoutANextHopAreNotMirrored() throws {
        let main = [
            Route(
                destination: prefix("10.0.0.0/24"), table: 254, outputInterface: 2, preferredSource: ip("10.0.0.10"),
                scope: .link, proto: 16, metric: 1002),
            Route(destination: prefix("10.0.0.1/32"), table: 254, outputInterface: 2, scope: .link, proto: 16, metric: 1002),
            Route(destination: prefix("192.0.2.0/24"), table: 254, outputInterface: 2, scope: .link, proto: 3),
        ]
        let before = try plan([World.a, World.b], World.fresh)
        let after = try plan([World.a, World.b], Self.withMain(main))
        #expect(commands(after) == commands(before))
    }

    @Test func appliedThenNothingLeftAndTheMirrorFollowsMain() throws {
        let observed = Self.withMain([Self.appliance])
        let after = try applied(instance([World.a, World.b]), on: observed)
        #expect(after.routes.contains(Self.mirror(Self.appliance, table: 10000)))
        #expect(try plan([World.a, World.b], after).isEmpty)
        // The administrator deletes the route: eniroute's copy goes too.
        var deleted = after
        deleted.routes.removeAll { $0 == Self.appliance }
        #expect(
            commands(try plan([World.a, World.b], deleted)) == ["ip route del 203.0.113.0/24 via 10.0.0.50 dev eth0 table 10000"])
    }

    /// While DHCP's address is missing the primary's table has no IPv4 routes, and no mirrors.
    @Test func noMirrorIntoAFamilyTheTableHasNoRoutesOf() throws {
        var observed = Self.withMain([Self.appliance])
        observed.addresses.removeAll { $0.interfaceIndex == 2 }
        let p = try plan([World.a, World.b], observed)
        #expect(!commands(p).contains { $0.contains("203.0.113.0/24") })
    }

    /// A main route with the same key as one of the table's own (the subnet route) is not copied.
    @Test func neverInPlaceOfTheTablesOwnRoute() throws {
        let subnet = Route(destination: prefix("10.0.0.0/24"), table: 254, outputInterface: 2, gateway: ip("10.0.0.9"), proto: 4)
        let p = try plan([World.a, World.b], Self.withMain([subnet]))
        #expect(!p.changes.contains(.routeAdd(Self.mirror(subnet, table: 10000))))
        #expect(commands(p).contains("ip route add 10.0.0.0/24 dev eth0 src 10.0.0.10 scope link table 10000 proto eniroute"))
    }

    @Test func theGuardAllowsTheMirrors() throws {
        let observed = Self.withMain([Self.appliance])
        let p = try plan([World.a, World.b], observed)
        #expect(ChangeGuard.refusals(p.changes, observed: observed).allSatisfy { $0 == nil })
    }
}
