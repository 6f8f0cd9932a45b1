/// `eniroute remove`: eniroute's own objects of one interface and of orphaned tables, or of
/// everything (`--all`). Needs no IMDS.
extension Planner {
    /// Plans `remove`: eniroute's own objects of one interface (present or gone), and of every table
    /// left orphaned (its rules still there, its interface gone). Needs no IMDS.
    public static func removal(link: Link?, observed: ObservedState, configuration c: Configuration) -> Plan {
        var tables: Set<UInt32> = []
        if let link {
            for r in observed.routes where r.isOwned && r.table >= 256 && r.outputInterface == link.index {
                tables.insert(r.table)
            }
            // A link that is down has no routes left: its table is the one its addresses' rules point to.
            let onLink = Set(observed.addresses.filter { $0.interfaceIndex == link.index }.map(\.address))
            for r in observed.rules where r.isOwned && r.table >= 256 && r.suppressInterfaceGroup == nil {
                if let f = r.from, f.isHost, onLink.contains(f.address) { tables.insert(r.table) }
            }
        }
        tables.formUnion(orphanedTables(observed: observed))
        let (changes, warnings) = removalChanges(links: link.map { [$0] } ?? [], tables: tables, observed: observed, c)
        let enis =
            link.map { l in
                [
                    ENIPlan(
                        mac: l.mac ?? MACAddress(octets: [0, 0, 0, 0, 0, 0])!, interfaceName: l.name,
                        table: tables.filter { $0 >= 256 }.min(), isPrimary: false, state: .removed)
                ]
            } ?? []
        return Plan(changes: order(changes), enis: enis, warnings: warnings, names: interfaceNames(observed))
    }

    /// Plans `remove --all`: every object eniroute owns, of every interface and every table of
    /// its (rules, routes, addresses, the interface group), as when the package is removed.
    /// Foreign objects stay, also inside eniroute's tables. Needs no IMDS.
    public static func removalOfEverything(observed: ObservedState, configuration c: Configuration) -> Plan {
        var tables = Set(observed.rules.filter(\.isOwned).map(\.table))
        tables.formUnion(observed.routes.filter(\.isOwned).map(\.table))
        let (changes, warnings) = removalChanges(links: observed.links, tables: tables, observed: observed, c)
        return Plan(changes: order(changes), enis: [], warnings: warnings, names: interfaceNames(observed))
    }

    /// The changes that remove eniroute's addresses and interface group of `links`, and its routes
    /// and rules of `tables` (only those from 256 up: eniroute never has the kernel's); the shared
    /// suppress rules too when no rule of another table is left.
    private static func removalChanges(
        links: [Link], tables all: Set<UInt32>, observed: ObservedState, _ c: Configuration
    ) -> (changes: [Change], warnings: [String]) {
        var changes: [Change] = []
        var warnings: [String] = []
        for link in links {
            for a in observed.addresses where a.isOwned && a.interfaceIndex == link.index {
                if let keep = deletionWouldTakeForeignAddresses(a, observed: observed) {
                    warnings.append(keep)
                } else {
                    changes.append(.addressDelete(a))
                }
            }
            if link.group == c.interfaceGroup { changes.append(.linkSetGroup(link, group: 0)) }
        }
        let tables = all.filter { $0 >= 256 }
        for r in observed.routes where r.isOwned && tables.contains(r.table) { changes.append(.routeDelete(r)) }
        let ownedRules = observed.rules.filter(\.isOwned)
        for r in ownedRules where r.suppressInterfaceGroup == nil && tables.contains(r.table) { changes.append(.ruleDelete(r)) }
        // The shared suppress rules go when no per-ENI rule is left.
        let remaining = ownedRules.filter { $0.suppressInterfaceGroup == nil && !tables.contains($0.table) }
        if remaining.isEmpty {
            for r in ownedRules where r.suppressInterfaceGroup != nil { changes.append(.ruleDelete(r)) }
        }
        return (changes, warnings)
    }

    /// Why one of eniroute's IPv4 addresses must stay: it is the kernel's primary address of its
    /// subnet on that link and addresses eniroute did not create are its secondaries, which the
    /// kernel deletes with it when `promote_secondaries` is off (or not reported). nil when deleting
    /// it is safe.
    static func deletionWouldTakeForeignAddresses(_ a: InterfaceAddress, observed: ObservedState) -> String? {
        guard a.family == .inet, !a.isSecondary,
            observed.links.first(where: { $0.index == a.interfaceIndex })?.promoteSecondaries != true
        else { return nil }
        let subnet = IPPrefix(address: a.address.masked(to: a.prefix.length), length: a.prefix.length)
        let foreign = observed.addresses.filter { o in
            o.interfaceIndex == a.interfaceIndex && !o.isOwned && o.isSecondary && o.prefix.length == a.prefix.length
                && subnet.contains(o.address)
        }
        guard !foreign.isEmpty else { return nil }
        let dev = observed.links.first { $0.index == a.interfaceIndex }?.name ?? "#\(a.interfaceIndex)"
        return "\(a.address)/\(a.prefix.length) on \(dev) is kept: deleting it would also delete "
            + foreign.map { "\($0.address)/\($0.prefix.length)" }.joined(separator: ", ") + ", not made by eniroute"
    }

    /// Tables that eniroute's rules point to but whose interface is gone: no route left in them and
    /// none of their rules' host addresses on any interface.
    public static func orphanedTables(observed: ObservedState) -> Set<UInt32> {
        let local = Set(observed.addresses.map(\.address))
        let tablesWithRoutes = Set(observed.routes.map(\.table))
        var byTable: [UInt32: [RoutingPolicyRule]] = [:]
        for r in observed.rules where r.isOwned && r.suppressInterfaceGroup == nil && r.table >= 256 {
            byTable[r.table, default: []].append(r)
        }
        var out: Set<UInt32> = []
        for (t, rules) in byTable where !tablesWithRoutes.contains(t) {
            let hostsPresent = rules.contains { r in r.from.map { $0.isHost && local.contains($0.address) } ?? false }
            if !hostsPresent { out.insert(t) }
        }
        return out
    }
}
