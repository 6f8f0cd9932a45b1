import ENIRouteCore
import ENIRouteTestSupport

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

    /// The `ip` commands that take B's objects away after `afterApply()` (B detached, or its link
    /// removed), in no particular order.
    static let bRemoval: Set<String> = [
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
    ]

    /// `observed` after the interface with `index` went away with its addresses and routes (the
    /// kernel drops them with the link; only rules are left).
    static func linkGone(_ index: Int32, from observed: ObservedState) -> ObservedState {
        var gone = observed
        gone.links.removeAll { $0.index == index }
        gone.addresses.removeAll { $0.interfaceIndex == index }
        gone.routes.removeAll { $0.outputInterface == index }
        return gone
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
