/// Step 4's result.
struct PlanDiff {
    /// Additions, replacements and deletions (not yet in order).
    var changes: [Change] = []
    /// Warnings (objects in the way, eniroute's addresses kept for others' sake).
    var warnings: [String] = []
}

extension Planner {
    /// Step 4: desired minus observed. Adds what is missing; deletes eniroute's own objects that
    /// are not desired, within the plan's scope: in full scope everything but the protected
    /// interfaces and tables, in a scoped plan only the managed ENIs' interfaces and tables.
    static func diff(_ d: DesiredState, selection s: Selection, observed: ObservedState) -> PlanDiff {
        // Tables of ENIs that keep their state (pending, unmanaged, down): the tables their routes are in.
        var protectedTables = s.downTables
        for r in observed.routes where r.isOwned {
            if let o = r.outputInterface, s.protectedLinks.contains(o) { protectedTables.insert(r.table) }
        }
        var out = PlanDiff()
        diffAddresses(d, s, observed: observed, into: &out)
        diffRoutes(
            d.objects.routes, s, protectedTables: protectedTables, waitingIPv4Tables: d.waitingIPv4Tables, observed: observed,
            into: &out)
        diffRules(d.objects.rules, s, protectedTables: protectedTables, observed: observed, into: &out)
        return out
    }

    /// Addresses: lookups are by hashed keys (a boot with 15 ENIs × 50 addresses plans 750
    /// addresses and rules). DHCP's address is never deleted, nor one of eniroute's whose deletion
    /// would take someone else's secondaries with it.
    static func diffAddresses(_ d: DesiredState, _ s: Selection, observed: ObservedState, into out: inout PlanDiff) {
        let present = Set(observed.addresses.map(AddressKey.init))
        for a in d.objects.addresses where !present.contains(AddressKey(a)) {
            out.changes.append(.addressAdd(a))
        }
        let desiredAddresses = Set(d.objects.addresses.map(\.address))
        let desiredKeys = Set(d.objects.addresses.map(AddressKey.init))
        for a in observed.addresses
        where a.isOwned && !desiredKeys.contains(AddressKey(a)) && !d.dhcpAddresses.contains(AddressKey(a)) {
            let inScope =
                s.coversAll
                ? !s.protectedLinks.contains(a.interfaceIndex)
                : s.scopedLinks.contains(a.interfaceIndex) || desiredAddresses.contains(a.address)
            guard inScope else { continue }
            if let keep = deletionWouldTakeForeignAddresses(a, observed: observed) {
                out.warnings.append(keep)
            } else {
                out.changes.append(.addressDelete(a))
            }
        }
    }

    /// Routes: added, or replaced when one of eniroute's with the same key differs; a foreign
    /// route with the key is left in place (with a warning). eniroute's IPv4 routes in a table
    /// that waits for the primary's DHCP address are not deleted.
    static func diffRoutes(
        _ desired: [Route], _ s: Selection, protectedTables: Set<UInt32>, waitingIPv4Tables: Set<UInt32> = [],
        observed: ObservedState, into out: inout PlanDiff
    ) {
        var observedByKey: [RouteKey: [Route]] = [:]
        for r in observed.routes { observedByKey[r.key, default: []].append(r) }
        for r in desired {
            let existing = observedByKey[r.key] ?? []
            if existing.contains(where: { sameRoute($0, r) }) { continue }
            if let foreign = existing.first(where: { !$0.isOwned }) {
                let described = foreign.description(names: Link.names(observed.links))
                out.warnings.append("table \(r.table) already has a route not made by eniroute: \(described); left as is")
                continue
            }
            out.changes.append(existing.isEmpty ? .routeAdd(r) : .routeReplace(r))
        }
        let desiredKeys = Set(desired.map(\.key))
        for r in observed.routes where r.isOwned && r.table >= 256 && !desiredKeys.contains(r.key) {
            if r.family == .inet && waitingIPv4Tables.contains(r.table) { continue }
            let inScope = s.coversAll ? !protectedTables.contains(r.table) : s.scopedTables.contains(r.table)
            if inScope { out.changes.append(.routeDelete(r)) }
        }
    }

    /// Rules: eniroute's own beside an identical foreign one (with a warning); in a scoped plan
    /// only the ENI's table's rules and rules for its addresses that still point elsewhere (moved)
    /// are deleted, never the shared suppress rules.
    static func diffRules(
        _ desired: [RoutingPolicyRule], _ s: Selection, protectedTables: Set<UInt32>, observed: ObservedState,
        into out: inout PlanDiff
    ) {
        let ownedRules = observed.rules.filter(\.isOwned)
        let ownedRuleKeys = Set(ownedRules.compactMap(RuleKey.init))
        let foreignRuleKeys = Set(observed.rules.filter { !$0.isOwned }.compactMap(RuleKey.init))
        for r in desired {
            guard let key = RuleKey(r), !ownedRuleKeys.contains(key) else { continue }
            if foreignRuleKeys.contains(key) {
                out.warnings.append("an identical rule not made by eniroute exists (\(r)); adding eniroute's own beside it")
            }
            out.changes.append(.ruleAdd(r))
        }
        let desiredFroms = Set(desired.compactMap(\.from))
        let desiredRuleKeys = Set(desired.compactMap(RuleKey.init))
        for r in ownedRules where !(RuleKey(r).map { desiredRuleKeys.contains($0) } ?? false) {
            let inScope =
                s.coversAll
                ? !protectedTables.contains(r.table)
                : s.scopedTables.contains(r.table) || (r.from.map { desiredFroms.contains($0) } ?? false)
            if inScope && (r.suppressInterfaceGroup == nil || s.coversAll) { out.changes.append(.ruleDelete(r)) }
        }
    }

    /// Whether an observed route is the desired one (ignoring attributes eniroute does not set).
    static func sameRoute(_ a: Route, _ b: Route) -> Bool {
        a.key == b.key && a.outputInterface == b.outputInterface && a.gateway == b.gateway
            && a.preferredSource == b.preferredSource && a.proto == b.proto && a.type == b.type
            && (a.family == .inet6 || a.scope == b.scope)
    }
}

/// What makes two rules select and act the same; nil for rules with selectors eniroute does not
/// model (those never match one of eniroute's).
struct RuleKey: Hashable {
    var family: AddressFamily
    var priority: UInt32
    var table: UInt32
    var action: UInt8
    var from: IPPrefix?
    var to: IPPrefix?
    var suppressInterfaceGroup: UInt32?

    init?(_ r: RoutingPolicyRule) {
        guard !r.hasOtherSelectors else { return nil }
        family = r.family
        priority = r.priority
        table = r.table
        action = r.action
        from = r.from.flatMap { $0.isDefault ? nil : $0 }
        to = r.to.flatMap { $0.isDefault ? nil : $0 }
        suppressInterfaceGroup = r.suppressInterfaceGroup
    }
}

/// An address on one interface, whatever its prefix length or flags.
struct AddressKey: Hashable {
    var interfaceIndex: Int32
    var address: IPAddress
    init(_ a: InterfaceAddress) {
        interfaceIndex = a.interfaceIndex
        address = a.address
    }
    init(interfaceIndex: Int32, address: IPAddress) {
        self.interfaceIndex = interfaceIndex
        self.address = address
    }
}
