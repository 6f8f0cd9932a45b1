/// One change to the kernel's state. Cases are named noun-first, like the netlink operations that
/// carry them out.
///
/// `indirect` (each payload boxed) works around a Swift 6.3.1 optimiser bug: with inline payloads,
/// `-O` builds read `.linkSetGroup`'s group back as garbage after later appends to the same array
/// once `Link` gained an optional field (debug builds were right). The integration scenarios run
/// the release binary so that such a bug cannot hide behind a debug build again.
public indirect enum Change: Hashable, Sendable {
    /// `ip link set dev <if> mtu <mtu>` (before the link goes up).
    case linkSetMTU(Link, mtu: UInt32)
    /// `ip link set dev <if> up`.
    case linkSetUp(Link)
    /// `ip link set dev <if> group <group>`.
    case linkSetGroup(Link, group: UInt32)
    /// `ip address add <addr>/<len> dev <if> noprefixroute proto eniroute`.
    case addressAdd(InterfaceAddress)
    /// `ip address del <addr>/<len> dev <if>`.
    case addressDelete(InterfaceAddress)
    /// `ip route add <route> proto eniroute` (fails if the route exists).
    case routeAdd(Route)
    /// `ip route replace <route> proto eniroute` (for a route of eniroute's whose attributes changed).
    case routeReplace(Route)
    /// `ip route del <route>`.
    case routeDelete(Route)
    /// `ip rule add … proto eniroute`.
    case ruleAdd(RoutingPolicyRule)
    /// `ip rule del …`.
    case ruleDelete(RoutingPolicyRule)

    /// The order in which a batch is applied: make before break.
    public var phase: Int {
        switch self {
        case .linkSetMTU, .linkSetUp: return 0
        case .linkSetGroup: return 1
        case .addressAdd: return 2
        case .routeAdd, .routeReplace: return 3
        case .ruleAdd(let r): return r.suppressInterfaceGroup != nil ? 4 : 5
        case .ruleDelete: return 6
        case .routeDelete: return 7
        case .addressDelete(let a): return a.isSecondary ? 8 : 9
        }
    }

    /// The `ip` command that does the same, with interface names filled in from `names`.
    public func ipCommand(names: [Int32: String]) -> String {
        func dev(_ i: Int32?) -> String { i.map { names[$0] ?? "#\($0)" } ?? "?" }
        func fam(_ f: AddressFamily) -> String { f == .inet6 ? "ip -6" : "ip" }
        func route(_ r: Route) -> String {
            var s = r.description(names: names)
            if r.family == .inet6 && r.metric != 1024 || r.family == .inet && r.metric != 0 { s += " metric \(r.metric)" }
            return s
        }
        func rule(_ r: RoutingPolicyRule) -> String {
            var s = "from \(r.from.map { $0.isDefault ? "all" : $0.description } ?? "all")"
            s += " lookup \(r.table == 254 ? "main" : String(r.table))"
            if let g = r.suppressInterfaceGroup { s += " suppress_ifgroup \(g)" }
            s += " priority \(r.priority)"
            return s
        }
        switch self {
        case .linkSetMTU(let l, let mtu): return "ip link set dev \(l.name) mtu \(mtu)"
        case .linkSetUp(let l): return "ip link set dev \(l.name) up"
        case .linkSetGroup(let l, let g): return "ip link set dev \(l.name) group \(g)"
        case .addressAdd(let a):
            var s = "\(fam(a.family)) address add \(a.address)/\(a.prefix.length) dev \(dev(a.interfaceIndex))"
            if a.noPrefixRoute { s += " noprefixroute" }
            if a.noDAD { s += " nodad" }
            return s + " proto eniroute"
        case .addressDelete(let a):
            return "\(fam(a.family)) address del \(a.address)/\(a.prefix.length) dev \(dev(a.interfaceIndex))"
        case .routeAdd(let r): return "\(fam(r.family)) route add \(route(r)) proto eniroute"
        case .routeReplace(let r): return "\(fam(r.family)) route replace \(route(r)) proto eniroute"
        case .routeDelete(let r): return "\(fam(r.family)) route del \(route(r))"
        case .ruleAdd(let r): return "\(fam(r.family)) rule add \(rule(r)) proto eniroute"
        case .ruleDelete(let r): return "\(fam(r.family)) rule del \(rule(r))"
        }
    }
}
