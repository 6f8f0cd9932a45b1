/// One change to the kernel's state. Cases are named noun-first, like the netlink operations that
/// carry them out.
///
/// `indirect` (each payload boxed) works around a Swift 6.3.1 optimiser bug: with inline payloads,
/// `-O` builds read `.linkSetGroup`'s group back as garbage after later appends to the same array
/// once `Link` gained an optional field (debug builds were right). The integration scenarios run
/// the release binary so that such a bug cannot hide behind a debug build again.
public indirect enum Change: Hashable, Sendable {
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
        case .linkSetUp: return 0
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

/// What one ENI came to in a plan (for logs, `status` and `plan --json`).
public struct ENIPlan: Hashable, Sendable {
    /// The ENI's MAC.
    public var mac: MACAddress
    /// Its interface, if present.
    public var interfaceName: String?
    /// Its table, if it gets one.
    public var table: UInt32?
    /// Whether it is the primary ENI.
    public var isPrimary: Bool
    /// `managed`, `unmanaged`, `absent` (no interface with that MAC) or `not ready`.
    public var state: String
}

/// The result of planning: the changes, in the order to apply them, and what was noticed.
public struct Plan: Sendable, Equatable {
    /// Changes in application order.
    public var changes: [Change]
    /// One entry per ENI considered.
    public var enis: [ENIPlan]
    /// Things worth a warning (foreign objects in the way, an interface in another group).
    public var warnings: [String]
    /// Interface names by index, for messages.
    public var names: [Int32: String]

    /// Whether there is nothing to do.
    public var isEmpty: Bool { changes.isEmpty }
}

/// Which ENIs a plan covers; eniroute's objects outside the scope are never deleted.
public enum PlanScope: Sendable, Equatable {
    /// Every ENI IMDS lists. `pending` are listed ENIs whose data is not ready: their objects are kept
    /// as they are. Objects of ENIs no longer listed (detached) are removed.
    case all(pending: Set<MACAddress>)
    /// Only these ENIs (`eniroute apply eth1`).
    case enis(Set<MACAddress>)
}

/// How a plan treats links; `apply` and the watcher differ.
public struct PlanOptions: Sendable, Equatable {
    /// Whether an ENI eniroute already manages (it is in eniroute's interface group) that is down is
    /// left as it is, rules included, until it is up again: the watcher respects an administrator's
    /// `ip link set eth1 down`. `apply` (false) brings every ENI up. A newly attached ENI (not yet in
    /// the group) is brought up either way.
    public var leaveDownENIsAlone: Bool
    /// Which links can be ENIs (`ENILinkPolicy.build` except in tests of the policy itself).
    public var linkPolicy: ENILinkPolicy

    /// Creates options.
    public init(leaveDownENIsAlone: Bool = false, linkPolicy: ENILinkPolicy = .build) {
        self.leaveDownENIsAlone = leaveDownENIsAlone
        self.linkPolicy = linkPolicy
    }
}

/// Turns facts and observed state into changes. Pure: no I/O.
public enum Planner {
    /// IPv6 gateway of every VPC subnet.
    public static let ipv6Gateway = IPAddress.v6(IPv6Address(high: 0xfe80_0ec2_0000_0000, low: 1))
    /// The main table.
    public static let mainTable: UInt32 = 254
    /// Priority of the kernel's `from all lookup main` rule; every eniroute rule comes before it.
    public static let mainRulePriority: UInt32 = 32766

    /// The desired objects of one ENI.
    struct Desired {
        var addresses: [InterfaceAddress] = []
        var routes: [Route] = []
        var rules: [RoutingPolicyRule] = []
    }

    /// Plans `apply`: desired state from IMDS facts, minus what the kernel already has.
    /// Throws on data that must not be applied (table collision, out-of-range table).
    public static func plan(
        facts: InstanceFacts, observed: ObservedState, configuration c: Configuration, scope: PlanScope,
        options: PlanOptions = PlanOptions()
    ) throws(FactsError) -> Plan {
        var names: [Int32: String] = [:]
        for l in observed.links { names[l.index] = l.name }
        var linksByMAC: [MACAddress: [Link]] = [:]
        for l in observed.links where options.linkPolicy.canBeENI(l) {
            linksByMAC[l.mac!, default: []].append(l)
        }
        var warnings: [String] = []
        var enis: [ENIPlan] = []
        var changes: [Change] = []
        var desired = Desired()
        var tableOwner: [UInt32: MACAddress] = [:]
        var scopedTables: Set<UInt32> = []
        var scopedLinks: Set<Int32> = []
        var protectedLinks: Set<Int32> = []
        var anyTable = false
        var managedLinks: [Link] = []
        var downTables: Set<UInt32> = []
        let observedAddressKeys = Set(observed.addresses.map(AddressKey.init))
        var dhcpAddresses: Set<AddressKey> = []  // the primary ENI's primary IPv4: never added or deleted

        var seenMACs: Set<MACAddress> = []
        var addressOwner: [IPPrefix: MACAddress] = [:]
        for eni in facts.enis {
            guard seenMACs.insert(eni.mac).inserted else { throw .duplicate(what: "MAC \(eni.mac) listed twice") }
            let own = (eni.ipv4Addresses + eni.ipv6Addresses).map { IPPrefix(host: $0) } + eni.ipv4Prefixes + eni.ipv6Prefixes
            for a in own {
                if let other = addressOwner[a], other != eni.mac {
                    throw .duplicate(what: "\(a) is listed on both \(other) and \(eni.mac)")
                }
                addressOwner[a] = eni.mac
            }
        }
        // Out-of-scope ENIs in the facts still take part in the table-collision check.
        var scopeMACs: Set<MACAddress>?
        if case .enis(let macs) = scope { scopeMACs = macs }

        // ENIs listed but not ready keep whatever they have.
        if case .all(let pending) = scope {
            for mac in pending {
                for l in linksByMAC[mac] ?? [] { protectedLinks.insert(l.index) }
            }
        }

        for eni in facts.enis.sorted(by: { ($0.networkCard, $0.deviceNumber, $0.mac) < ($1.networkCard, $1.deviceNumber, $1.mac) }
        ) {
            let isInScope = scopeMACs?.contains(eni.mac) ?? true
            func skip(_ state: String, _ links: [Link], warning: String? = nil) {
                guard isInScope else { return }
                if let warning { warnings.append(warning) }
                enis.append(
                    ENIPlan(mac: eni.mac, interfaceName: links.first?.name, table: nil, isPrimary: eni.isPrimary, state: state))
                for l in links { protectedLinks.insert(l.index) }
            }
            let candidates = linksByMAC[eni.mac] ?? []
            guard candidates.count <= 1 else {
                skip(
                    "ambiguous", candidates,
                    warning:
                        "\(eni.mac) matches several interfaces (\(candidates.map(\.name).joined(separator: ", "))); left alone")
                continue
            }
            // Never derive a table from data IMDS has not finished writing (device 0 on a fresh ENI).
            if let reason = eni.notReadyReason {
                skip("not ready", candidates, warning: "\(eni.mac): IMDS data not ready (\(reason)); left alone")
                continue
            }
            guard let link = candidates.first else {
                skip("absent", [])
                continue
            }
            if c.isUnmanaged(mac: eni.mac, interfaceID: eni.interfaceID, name: link.name) {
                skip("unmanaged", [link])
                continue
            }
            var table: UInt32?
            if !eni.isPrimary || c.primaryRules {
                let t64 = c.table(networkCard: eni.networkCard, deviceNumber: eni.deviceNumber)
                guard t64 >= 256, t64 <= UInt64(UInt32.max), eni.deviceNumber < 100 else {
                    throw .tableOutOfRange(mac: eni.mac, table: t64)
                }
                let t = UInt32(t64)
                guard UInt64(c.rulePriority) + 1 + (t64 - UInt64(c.tableBase)) < UInt64(mainRulePriority) else {
                    throw .tableOutOfRange(mac: eni.mac, table: t64)
                }
                if let other = tableOwner[t] { throw .tableCollision(table: t, macs: [other, eni.mac]) }
                tableOwner[t] = eni.mac
                table = t
            }
            guard isInScope else { continue }
            if options.leaveDownENIsAlone && !link.isUp && link.group == c.interfaceGroup {
                skip("down", [link])
                if let t = table { downTables.insert(t) }
                continue
            }
            if let t = table {
                // Scoped runs see only some ENIs: the kernel tells whether another interface holds the table.
                if scopeMACs != nil,
                    let other = observed.routes.first(where: { r in
                        r.isOwned && r.table == t && r.outputInterface != link.index
                            && observed.links.contains(where: { $0.index == r.outputInterface && $0.mac != eni.mac })
                    }),
                    let otherMAC = observed.links.first(where: { $0.index == other.outputInterface })?.mac
                {
                    throw .tableCollision(table: t, macs: [otherMAC, eni.mac])
                }
                scopedTables.insert(t)
                anyTable = true
            }
            scopedLinks.insert(link.index)
            enis.append(ENIPlan(mac: eni.mac, interfaceName: link.name, table: table, isPrimary: eni.isPrimary, state: "managed"))
            let dhcpAddressPresent =
                eni.primaryIPv4.map { observedAddressKeys.contains(AddressKey(interfaceIndex: link.index, address: $0)) } ?? true
            if eni.isPrimary, let p = eni.primaryIPv4 {
                dhcpAddresses.insert(AddressKey(interfaceIndex: link.index, address: p))
                if !dhcpAddressPresent && table != nil {
                    warnings.append(
                        "\(link.name): its primary address \(p) is not configured (DHCP's); IPv4 routes of table \(table!) wait for it"
                    )
                }
            }
            let d = desiredObjects(eni: eni, link: link, table: table, configuration: c, dhcpAddressPresent: dhcpAddressPresent)
            desired.addresses += d.addresses
            desired.routes += d.routes
            desired.rules += d.rules

            if !link.isUp { changes.append(.linkSetUp(link)) }
            managedLinks.append(link)
        }
        // Every managed ENI joins the group once any ENI has a table, and so does the primary ENI in
        // every scope: the suppress rule keeps main's answer unless it goes through a group member, so
        // a primary outside the group (scoped `apply eth1` before the boot run, primary-rules = no)
        // would send the other ENIs' replies out through main's default route on eth0.
        var groupLinks = managedLinks
        if anyTable, let primary = linksByMAC[facts.primaryMAC]?.first,
            !groupLinks.contains(where: { $0.index == primary.index })
        {
            groupLinks.append(primary)
        }
        for link in groupLinks where anyTable && link.group != c.interfaceGroup {
            if link.group == 0 {
                changes.append(.linkSetGroup(link, group: c.interfaceGroup))
            } else {
                warnings.append("\(link.name) is in interface group \(link.group), not \(c.interfaceGroup): left as is")
            }
        }
        if case .all = scope {
            // Links that left eniroute's care (detached ENI still present, now unmanaged) leave its group.
            let managed = Set(groupLinks.map(\.index))
            for l in observed.links
            where l.group == c.interfaceGroup && !managed.contains(l.index) && !protectedLinks.contains(l.index) {
                changes.append(.linkSetGroup(l, group: 0))
            }
        }
        if anyTable {
            for family in c.ipv6 ? [AddressFamily.inet, .inet6] : [.inet] {
                desired.rules.append(
                    RoutingPolicyRule(
                        family: family, priority: c.rulePriority, table: mainTable, suppressInterfaceGroup: c.interfaceGroup,
                        proto: Ownership.routeProtocol))
            }
        }

        // Tables of ENIs that keep their state (pending or unmanaged): the tables their routes are in.
        var protectedTables = downTables
        for r in observed.routes where r.isOwned {
            if let o = r.outputInterface, protectedLinks.contains(o) { protectedTables.insert(r.table) }
        }
        let isAll: Bool
        if case .all = scope { isAll = true } else { isAll = false }

        // Addresses.
        // Lookups are by hashed keys: a boot with 15 ENIs × 50 addresses plans 750 addresses and rules.
        let observedOwnedAddresses = observed.addresses.filter(\.isOwned)
        let presentAddresses = Set(observed.addresses.map(AddressKey.init))
        for a in desired.addresses where !presentAddresses.contains(AddressKey(a)) {
            changes.append(.addressAdd(a))
        }
        let desiredAddresses = Set(desired.addresses.map(\.address))
        let desiredAddressKeys = Set(desired.addresses.map(AddressKey.init))
        for a in observedOwnedAddresses
        where !desiredAddressKeys.contains(AddressKey(a)) && !dhcpAddresses.contains(AddressKey(a)) {
            let inScope =
                isAll
                ? !protectedLinks.contains(a.interfaceIndex)
                : scopedLinks.contains(a.interfaceIndex) || desiredAddresses.contains(a.address)
            if inScope, let keep = deletionWouldTakeForeignAddresses(a, observed: observed) {
                warnings.append(keep)
            } else if inScope {
                changes.append(.addressDelete(a))
            }
        }

        // Routes.
        var observedByKey: [RouteKey: [Route]] = [:]
        for r in observed.routes { observedByKey[r.key, default: []].append(r) }
        for r in desired.routes {
            let existing = observedByKey[r.key] ?? []
            if existing.contains(where: { sameRoute($0, r) }) { continue }
            if let foreign = existing.first(where: { !$0.isOwned }) {
                let described = foreign.description(names: Link.names(observed.links))
                warnings.append("table \(r.table) already has a route not made by eniroute: \(described); left as is")
                continue
            }
            changes.append(existing.isEmpty ? .routeAdd(r) : .routeReplace(r))
        }
        let desiredKeys = Set(desired.routes.map(\.key))
        for r in observed.routes where r.isOwned && r.table >= 256 && !desiredKeys.contains(r.key) {
            let inScope = isAll ? !protectedTables.contains(r.table) : scopedTables.contains(r.table)
            if inScope { changes.append(.routeDelete(r)) }
        }

        // Rules.
        let ownedRules = observed.rules.filter(\.isOwned)
        let ownedRuleKeys = Set(ownedRules.compactMap(RuleKey.init))
        let foreignRuleKeys = Set(observed.rules.filter { !$0.isOwned }.compactMap(RuleKey.init))
        for r in desired.rules {
            guard let key = RuleKey(r), !ownedRuleKeys.contains(key) else { continue }
            if foreignRuleKeys.contains(key) {
                warnings.append("an identical rule not made by eniroute exists (\(r)); adding eniroute's own beside it")
            }
            changes.append(.ruleAdd(r))
        }
        let desiredFroms = Set(desired.rules.compactMap(\.from))
        let desiredRuleKeys = Set(desired.rules.compactMap(RuleKey.init))
        for r in ownedRules where !(RuleKey(r).map { desiredRuleKeys.contains($0) } ?? false) {
            let inScope: Bool
            if isAll {
                inScope = !protectedTables.contains(r.table)
            } else {
                // Only this ENI's table, and rules for its addresses that still point elsewhere (moved).
                inScope = scopedTables.contains(r.table) || (r.from.map { desiredFroms.contains($0) } ?? false)
            }
            if inScope && (r.suppressInterfaceGroup == nil || isAll) { changes.append(.ruleDelete(r)) }
        }

        changes = stableSortedByPhase(changes)
        return Plan(changes: changes, enis: enis, warnings: warnings, names: names)
    }

    /// Plans `remove`: eniroute's own objects of one interface (present or gone), and of every table
    /// left orphaned (its rules still there, its interface gone). Needs no IMDS.
    public static func removal(link: Link?, observed: ObservedState, configuration c: Configuration) -> Plan {
        var names: [Int32: String] = [:]
        for l in observed.links { names[l.index] = l.name }
        var changes: [Change] = []
        var warnings: [String] = []
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
            for a in observed.addresses where a.isOwned && a.interfaceIndex == link.index {
                if let keep = deletionWouldTakeForeignAddresses(a, observed: observed) {
                    warnings.append(keep)
                } else {
                    changes.append(.addressDelete(a))
                }
            }
            if link.group == c.interfaceGroup { changes.append(.linkSetGroup(link, group: 0)) }
        }
        tables.formUnion(orphanedTables(observed: observed))
        tables = tables.filter { $0 >= 256 }
        for r in observed.routes where r.isOwned && tables.contains(r.table) { changes.append(.routeDelete(r)) }
        let ownedRules = observed.rules.filter(\.isOwned)
        for r in ownedRules where r.suppressInterfaceGroup == nil && tables.contains(r.table) { changes.append(.ruleDelete(r)) }
        // The shared suppress rules go when no per-ENI rule is left.
        let remaining = ownedRules.filter { $0.suppressInterfaceGroup == nil && !tables.contains($0.table) }
        if remaining.isEmpty {
            for r in ownedRules where r.suppressInterfaceGroup != nil { changes.append(.ruleDelete(r)) }
        }
        let enis =
            link.map { l in
                [
                    ENIPlan(
                        mac: l.mac ?? MACAddress(octets: [0, 0, 0, 0, 0, 0])!, interfaceName: l.name, table: tables.min(),
                        isPrimary: false, state: "removed")
                ]
            } ?? []
        return Plan(changes: stableSortedByPhase(changes), enis: enis, warnings: warnings, names: names)
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

    /// The objects one ENI should have.
    ///
    /// The primary ENI's primary private IPv4 belongs to DHCP: eniroute never adds it (re-adding it
    /// while networkd restarts would make it a permanent, tagged address racing the lease), and the
    /// table's IPv4 routes, which use it as source, are planned only while it is on the interface
    /// (`dhcpAddressPresent`); the watcher plans again when DHCP puts it back.
    static func desiredObjects(
        eni: ENIFacts, link: Link, table: UInt32?, configuration c: Configuration, dhcpAddressPresent: Bool = true
    ) -> Desired {
        var d = Desired()
        let v6 = c.ipv6
        if c.manageAddresses {
            if let subnet = eni.subnetIPv4 {
                for a in eni.ipv4Addresses where !(eni.isPrimary && a == eni.primaryIPv4) {
                    d.addresses.append(
                        InterfaceAddress(
                            prefix: IPPrefix(address: a, length: subnet.length), interfaceIndex: link.index, noPrefixRoute: true,
                            proto: Ownership.addressProtocol))
                }
            }
            if v6 {
                for a in eni.ipv6Addresses {
                    d.addresses.append(
                        InterfaceAddress(
                            prefix: IPPrefix(host: a), interfaceIndex: link.index, noPrefixRoute: true, noDAD: true,
                            proto: Ownership.addressProtocol))
                }
            }
        }
        guard let table else { return d }
        if let subnet = eni.subnetIPv4, let primary = eni.primaryIPv4, case .v4(let net) = subnet.address,
            !eni.isPrimary || dhcpAddressPresent
        {
            d.routes.append(
                Route(
                    destination: subnet, table: table, outputInterface: link.index, preferredSource: primary, scope: .link,
                    proto: Ownership.routeProtocol))
            d.routes.append(
                Route(
                    destination: .any(.inet), table: table, outputInterface: link.index,
                    gateway: .v4(IPv4Address(net.value &+ 1)), proto: Ownership.routeProtocol))
        }
        let hasV6 = !eni.ipv6Addresses.isEmpty || !eni.ipv6Prefixes.isEmpty
        if v6 && hasV6 && !eni.subnetIPv6.isEmpty {
            for s in eni.subnetIPv6 {
                d.routes.append(Route(destination: s, table: table, outputInterface: link.index, proto: Ownership.routeProtocol))
            }
            d.routes.append(
                Route(
                    destination: .any(.inet6), table: table, outputInterface: link.index, gateway: ipv6Gateway,
                    proto: Ownership.routeProtocol))
        }
        let priority = c.rulePriority + 1 + (table &- c.tableBase)
        var froms: [IPPrefix] = eni.ipv4Addresses.map { IPPrefix(host: $0) } + eni.ipv4Prefixes
        if v6 { froms += eni.ipv6Addresses.map { IPPrefix(host: $0) } + eni.ipv6Prefixes }
        for f in froms {
            d.rules.append(
                RoutingPolicyRule(family: f.family, priority: priority, from: f, table: table, proto: Ownership.routeProtocol))
        }
        return d
    }

    /// Whether an observed route is the desired one (ignoring attributes eniroute does not set).
    static func sameRoute(_ a: Route, _ b: Route) -> Bool {
        a.key == b.key && a.outputInterface == b.outputInterface && a.gateway == b.gateway
            && a.preferredSource == b.preferredSource && a.proto == b.proto && a.type == b.type
            && (a.family == .inet6 || a.scope == b.scope)
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

    private static func stableSortedByPhase(_ changes: [Change]) -> [Change] {
        changes.enumerated().sorted { ($0.element.phase, $0.offset) < ($1.element.phase, $1.offset) }.map(\.element)
    }
}
