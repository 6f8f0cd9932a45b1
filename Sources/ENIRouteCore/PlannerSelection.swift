/// An ENI the plan configures: its facts, its interface and its table (nil: addresses only, as the
/// primary with `primary-rules = no`).
struct SelectedENI {
    /// What IMDS says about it.
    var facts: ENIFacts
    /// Its interface.
    var link: Link
    /// Its table, if it gets one.
    var table: UInt32?
    /// Whether its primary private IPv4 (DHCP's) is on the interface; the primary ENI's IPv4 routes
    /// wait for it.
    var dhcpAddressPresent: Bool
    /// Whether eniroute brings it up itself: it was down, or had none of its addresses (so no one
    /// else configured it, and its MTU is eniroute's to set).
    var bringsUp: Bool
}

/// Step 2's result: what the plan does with each ENI, and which kernel objects are in its scope.
struct Selection {
    /// One entry per ENI in scope, in (card, device, MAC) order.
    var enis: [ENIPlan] = []
    /// The ENIs to configure, in the same order.
    var managed: [SelectedENI] = []
    /// Warnings, in ENI order.
    var warnings: [String] = []
    /// Whether the plan covers every ENI IMDS lists (`PlanScope.all`): then eniroute's objects
    /// outside the managed ENIs are deleted unless protected.
    var coversAll: Bool
    /// Interfaces whose objects stay as they are (pending, not ready, ambiguous, unmanaged, down).
    var protectedLinks: Set<Int32> = []
    /// Tables of ENIs the watcher leaves down.
    var downTables: Set<UInt32> = []
    /// Interfaces of the managed ENIs (a scoped plan deletes only on these).
    var scopedLinks: Set<Int32> = []
    /// Tables of the managed ENIs (a scoped plan deletes only in these).
    var scopedTables: Set<UInt32> = []

    /// Whether any managed ENI has a table (then the suppress rules and the interface group exist).
    var hasTable: Bool { managed.contains { $0.table != nil } }

    /// Records an ENI left as it is, protecting its interfaces.
    mutating func skip(_ eni: ENIFacts, _ state: ENIState, _ links: [Link], warning: String? = nil) {
        if let warning { warnings.append(warning) }
        enis.append(ENIPlan(mac: eni.mac, interfaceName: links.first?.name, table: nil, isPrimary: eni.isPrimary, state: state))
        for l in links { protectedLinks.insert(l.index) }
    }

    /// Records an ENI to configure.
    mutating func manage(_ eni: SelectedENI) {
        if let t = eni.table { scopedTables.insert(t) }
        scopedLinks.insert(eni.link.index)
        enis.append(
            ENIPlan(
                mac: eni.facts.mac, interfaceName: eni.link.name, table: eni.table, isPrimary: eni.facts.isPrimary,
                state: .managed)
        )
        if eni.facts.isPrimary, let p = eni.facts.primaryIPv4, !eni.dhcpAddressPresent, let t = eni.table {
            warnings.append(
                "\(eni.link.name): its primary address \(p) is not configured (DHCP's); IPv4 routes of table \(t) wait for it")
        }
        managed.append(eni)
    }
}

extension Planner {
    /// Step 2: each ENI's state, interface and table. ENIs outside a scoped plan are not reported,
    /// but those with an interface still take part in the table-collision check.
    static func select(
        facts: InstanceFacts, links: ENILinks, observed: ObservedState, configuration c: Configuration, scope: PlanScope,
        options: PlanOptions
    ) throws(FactsError) -> Selection {
        var s = Selection(coversAll: true)
        var scopeMACs: Set<MACAddress>?
        switch scope {
        case .enis(let macs):
            scopeMACs = macs
            s.coversAll = false
        case .all(let pending):
            // ENIs listed but not ready keep whatever they have.
            for mac in pending { for l in links[mac] { s.protectedLinks.insert(l.index) } }
        }
        let observedAddresses = Set(observed.addresses.map(AddressKey.init))
        var tableOwner: [UInt32: MACAddress] = [:]
        let sorted = facts.enis.sorted { ($0.networkCard, $0.deviceNumber, $0.mac) < ($1.networkCard, $1.deviceNumber, $1.mac) }
        for eni in sorted {
            let isInScope = scopeMACs?.contains(eni.mac) ?? true
            let candidates = links[eni.mac]
            if let (state, skipped, warning) = unconfigurable(eni, candidates, configuration: c) {
                if isInScope { s.skip(eni, state, skipped, warning: warning) }
                continue
            }
            let link = candidates[0]
            let table = try assignTable(eni, configuration: c, owners: &tableOwner)
            guard isInScope else { continue }
            if options.leaveDownENIsAlone && !link.isUp && link.group == c.interfaceGroup {
                s.skip(eni, .down, [link])
                if let t = table { s.downTables.insert(t) }
                continue
            }
            if let t = table, scopeMACs != nil { try checkTableFree(t, for: eni.mac, on: link, observed: observed) }
            let dhcpAddressPresent =
                eni.primaryIPv4.map { observedAddresses.contains(AddressKey(interfaceIndex: link.index, address: $0)) } ?? true
            let own = eni.ipv4Addresses + (c.ipv6 ? eni.ipv6Addresses : [])
            let addressed = own.contains { observedAddresses.contains(AddressKey(interfaceIndex: link.index, address: $0)) }
            s.manage(
                SelectedENI(
                    facts: eni, link: link, table: table, dhcpAddressPresent: dhcpAddressPresent,
                    bringsUp: !link.isUp || (c.manageAddresses && !addressed)))
        }
        return s
    }

    /// Why an ENI cannot be configured (its state, the links to protect, a warning), or nil when
    /// it has exactly one interface, complete IMDS data and is not listed as unmanaged.
    static func unconfigurable(
        _ eni: ENIFacts, _ candidates: [Link], configuration c: Configuration
    ) -> (ENIState, [Link], String?)? {
        guard candidates.count <= 1 else {
            let names = candidates.map(\.name).joined(separator: ", ")
            return (.ambiguous, candidates, "\(eni.mac) matches several interfaces (\(names)); left alone")
        }
        // Never derive a table from data IMDS has not finished writing (device 0 on a fresh ENI).
        if let reason = eni.notReadyReason {
            return (.notReady, candidates, "\(eni.mac): IMDS data not ready (\(reason)); left alone")
        }
        guard let link = candidates.first else { return (.absent, [], nil) }
        if c.isUnmanaged(mac: eni.mac, interfaceID: eni.interfaceID, name: link.name) { return (.unmanaged, [link], nil) }
        return nil
    }

    /// The ENI's table (nil for the primary with `primary-rules = no`); throws when it is out of
    /// range, its rules' priority would reach the kernel's main rule, or another ENI has it.
    static func assignTable(
        _ eni: ENIFacts, configuration c: Configuration, owners: inout [UInt32: MACAddress]
    ) throws(FactsError) -> UInt32? {
        guard !eni.isPrimary || c.primaryRules else { return nil }
        let t64 = c.table(networkCard: eni.networkCard, deviceNumber: eni.deviceNumber)
        guard t64 >= 256, t64 <= UInt64(UInt32.max), eni.deviceNumber < 100 else {
            throw .tableOutOfRange(mac: eni.mac, table: t64)
        }
        let t = UInt32(t64)
        guard UInt64(c.rulePriority) + 1 + (t64 - UInt64(c.tableBase)) < UInt64(mainRulePriority) else {
            throw .tableOutOfRange(mac: eni.mac, table: t64)
        }
        if let other = owners[t] { throw .tableCollision(table: t, macs: [other, eni.mac]) }
        owners[t] = eni.mac
        return t
    }

    /// Scoped runs see only some ENIs: the kernel tells whether another interface holds the table.
    static func checkTableFree(_ t: UInt32, for mac: MACAddress, on link: Link, observed: ObservedState) throws(FactsError) {
        if let other = observed.routes.first(where: { r in
            r.isOwned && r.table == t && r.outputInterface != link.index
                && observed.links.contains(where: { $0.index == r.outputInterface && $0.mac != mac })
        }),
            let otherMAC = observed.links.first(where: { $0.index == other.outputInterface })?.mac
        {
            throw .tableCollision(table: t, macs: [otherMAC, mac])
        }
    }
}
