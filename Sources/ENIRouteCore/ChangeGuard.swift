/// The last check before a batch of changes goes to the kernel, independent of the planner: even
/// a planner bug or hostile IMDS data that slipped through cannot make eniroute touch what is not
/// its own. A batch with one refused change is refused whole (nothing is sent).
///
/// Rules:
/// - Routes only in tables ≥ 256 (never `unspec` 0, `default` 253, `main` 254, `local` 255), and
///   only with eniroute's protocol tag.
/// - Rules only with eniroute's tag, at priorities 1…32765 (never the kernel's 0, 32766, 32767),
///   looking up a table ≥ 256; the one exception is the `from all lookup main suppress_ifgroup G`
///   rule (no selector, table 254, `suppress_ifgroup` set). A rule added into a table ≥ 256 must
///   select a source (`from` not `all`).
/// - Addresses added only with eniroute's tag.
/// - Deletions only of objects the kernel reported, carrying eniroute's tag (the very object
///   observed, not one that merely resembles it); a route replaced only where no foreign route
///   has the same key (`ip route replace` would overwrite it).
/// - MTUs only in `Configuration.mtuRange` (1280…9216).
/// - Links: only interfaces the kernel reported that can be ENIs (`ENILinkPolicy`: a hardware
///   address and no kind; `veth` only in test builds); into a non-zero interface group only from group 0 and only into the group of one of
///   eniroute's `suppress_ifgroup` rules (observed or added in the same batch); back to group 0
///   only from such a group.
public enum ChangeGuard {
    /// The kernel's reserved tables: `unspec`, `default`, `main`, `local` (all below 256).
    public static let reservedTables: Set<UInt32> = [0, 253, 254, 255]

    /// One refusal per change (nil: allowed), judged against the state the plan was made from.
    /// `linkPolicy` says which links can be ENIs (the compiled-in policy unless a test says otherwise).
    public static func refusals(
        _ changes: [Change], observed: ObservedState, linkPolicy: ENILinkPolicy = .build
    ) -> [String?] {
        var groups = Set(
            observed.rules.filter { $0.isOwned && $0.suppressInterfaceGroup != nil }.compactMap(\.suppressInterfaceGroup))
        for case .ruleAdd(let r) in changes where r.isOwned {
            if let g = r.suppressInterfaceGroup { groups.insert(g) }
        }
        let links = Dictionary(observed.links.map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
        let routes = Set(observed.routes)
        let rules = Set(observed.rules)
        let addresses = Set(observed.addresses)
        var foreignRouteKeys: Set<RouteKey> = []
        for r in observed.routes where !r.isOwned { foreignRouteKeys.insert(r.key) }

        func linkRefusal(_ l: Link) -> String? {
            guard let seen = links[l.index], seen.name == l.name else { return "link \(l.name) (#\(l.index)) was not observed" }
            return linkPolicy.refusal(seen)
        }
        func routeRefusal(_ r: Route) -> String? {
            if r.table < 256 || reservedTables.contains(r.table) { return "route in table \(r.table) (< 256)" }
            if !r.isOwned { return "route without eniroute's tag (protocol \(r.proto))" }
            return nil
        }
        func ruleRefusal(_ r: RoutingPolicyRule) -> String? {
            if !r.isOwned { return "rule without eniroute's tag (protocol \(r.proto))" }
            if r.priority == 0 || r.priority >= 32766 { return "rule at the kernel's priority \(r.priority)" }
            if r.action != 1 { return "rule with action \(r.action), not lookup" }
            if r.table >= 256 && !reservedTables.contains(r.table) { return nil }
            let isSuppress =
                r.table == 254 && r.suppressInterfaceGroup != nil && (r.from?.isDefault ?? true) && (r.to?.isDefault ?? true)
                && !r.hasOtherSelectors
            return isSuppress ? nil : "rule looking up table \(r.table) (< 256)"
        }

        return changes.map { change -> String? in
            switch change {
            case .linkSetUp(let l):
                return linkRefusal(l)
            case .linkSetMTU(let l, let mtu):
                if let why = linkRefusal(l) { return why }
                return Configuration.mtuRange.contains(mtu) ? nil : "MTU \(mtu) outside \(Configuration.mtuRange)"
            case .linkSetGroup(let l, let g):
                if let why = linkRefusal(l) { return why }
                let current = links[l.index]!.group
                if g == 0 {
                    return groups.contains(current) ? nil : "link \(l.name) would leave group \(current), which is not eniroute's"
                }
                guard groups.contains(g) else { return "group \(g) is not the group of an eniroute suppress_ifgroup rule" }
                return current == 0 || current == g ? nil : "link \(l.name) is in another group (\(current))"
            case .addressAdd(let a):
                return a.isOwned ? nil : "address without eniroute's tag (protocol \(a.proto))"
            case .addressDelete(let a):
                if !a.isOwned { return "deleting an address without eniroute's tag" }
                return addresses.contains(a) ? nil : "deleting an address the kernel did not report"
            case .routeAdd(let r):
                return routeRefusal(r)
            case .routeReplace(let r):
                if let why = routeRefusal(r) { return why }
                return foreignRouteKeys.contains(r.key) ? "replacing a route not made by eniroute" : nil
            case .routeDelete(let r):
                if let why = routeRefusal(r) { return "deleting a " + why }
                return routes.contains(r) ? nil : "deleting a route the kernel did not report"
            case .ruleAdd(let r):
                if let why = ruleRefusal(r) { return why }
                if r.table >= 256, r.from.map({ $0.isDefault }) ?? true {
                    return "rule from all into table \(r.table) (would capture every source)"
                }
                return nil
            case .ruleDelete(let r):
                if let why = ruleRefusal(r) { return "deleting a " + why }
                return rules.contains(r) ? nil : "deleting a rule the kernel did not report"
            }
        }
    }
}
