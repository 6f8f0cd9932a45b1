/// Objects eniroute wants in the kernel.
struct ENIObjects {
    /// Addresses on the ENIs' interfaces.
    var addresses: [InterfaceAddress] = []
    /// Routes in the ENIs' tables.
    var routes: [Route] = []
    /// Rules: one per address or delegated prefix, and the suppress rules.
    var rules: [RoutingPolicyRule] = []

    /// Adds `other`'s objects after these.
    mutating func append(_ other: ENIObjects) {
        addresses += other.addresses
        routes += other.routes
        rules += other.rules
    }
}

/// Step 3's result: the desired objects and the link changes that make the managed ENIs usable.
struct DesiredState {
    /// What the managed ENIs should have.
    var objects = ENIObjects()
    /// The primary ENI's primary IPv4 (DHCP's): never added or deleted.
    var dhcpAddresses: Set<AddressKey> = []
    /// Tables whose IPv4 routes wait for the primary's DHCP address (networkd removes and re-adds
    /// it while it reconfigures the link): eniroute's IPv4 routes there are left as they are, not
    /// deleted. The kernel flushes the one that uses the address as source; the default route
    /// stays, and with it the secondary IPs' replies.
    var waitingIPv4Tables: Set<UInt32> = []
    /// Links brought up, put into eniroute's interface group, or taken out of it.
    var linkChanges: [Change] = []
    /// Warnings (an interface in another group).
    var warnings: [String] = []
}

extension Planner {
    /// Step 3: the objects of every managed ENI, the suppress rules once any ENI has a table, the
    /// managed ENIs brought up, and the interface group.
    static func desiredState(
        _ s: Selection, primaryMAC: MACAddress, links: ENILinks, observed: ObservedState, configuration c: Configuration
    ) -> DesiredState {
        var d = DesiredState()
        let primary = links[primaryMAC].first
        let mainRoutes = Dictionary(grouping: observed.routes.filter(isMirrored), by: { $0.outputInterface! })
        for e in s.managed {
            var objects = desiredObjects(
                eni: e.facts, link: e.link, table: e.table, configuration: c, dhcpAddressPresent: e.dhcpAddressPresent)
            if let t = e.table { objects.routes += mirrored(mainRoutes[e.link.index] ?? [], into: t, besides: objects.routes) }
            d.objects.append(objects)
            if e.facts.isPrimary, let p = e.facts.primaryIPv4 {
                d.dhcpAddresses.insert(AddressKey(interfaceIndex: e.link.index, address: p))
                if !e.dhcpAddressPresent, let t = e.table { d.waitingIPv4Tables.insert(t) }
            }
            if let mtu = mtu(for: e, primary: primary, configuration: c), e.link.mtu != mtu {
                d.linkChanges.append(.linkSetMTU(e.link, mtu: mtu))
            }
            if !e.link.isUp { d.linkChanges.append(.linkSetUp(e.link)) }
        }
        groupLinks(&d, s, primaryMAC: primaryMAC, links: links, observed: observed, configuration: c)
        if s.hasTable {
            for family in c.ipv6 ? [AddressFamily.inet, .inet6] : [.inet] {
                d.objects.rules.append(
                    RoutingPolicyRule(
                        family: family, priority: c.rulePriority, table: mainTable, suppressInterfaceGroup: c.interfaceGroup,
                        proto: Ownership.routeProtocol))
            }
        }
        return d
    }

    /// Whether a route of the main table is one eniroute mirrors into the table of the ENI it goes
    /// through: an administrator's deliberate route (`ip route add 203.0.113.0/24 via 10.0.1.50
    /// dev eth0`), unicast through a next hop on one interface; not the default route (each ENI's
    /// table has its own), not on-link routes without a next hop (the ENI's table has its own
    /// subnet route; DHCP clients such as dhcpcd leave such routes, with their own metric, and
    /// come and go with them), not the kernel's or router advertisements' prefix routes, not
    /// eniroute's own.
    public static func isMirrored(_ r: Route) -> Bool {
        r.table == mainTable && !r.isOwned && r.destination.length > 0 && r.type == 1 && r.outputInterface != nil
            && r.gateway != nil && r.proto != routeProtocolKernel && r.proto != routeProtocolRA
    }

    /// `RTPROT_KERNEL`: prefix routes the kernel adds for an address.
    static let routeProtocolKernel: UInt8 = 2
    /// `RTPROT_RA`: routes from IPv6 router advertisements.
    static let routeProtocolRA: UInt8 = 9

    /// Copies of main's routes through an ENI, tagged as eniroute's, for its table: traffic from
    /// the ENI's own addresses (which the per-ENI rule sends to that table) honours them too. Only
    /// for families the table has routes of (the primary's IPv4 routes wait for DHCP's address),
    /// and never in place of one of the table's own routes (same key).
    static func mirrored(_ main: [Route], into table: UInt32, besides own: [Route]) -> [Route] {
        let families = Set(own.map(\.family))
        let keys = Set(own.map(\.key))
        return main.compactMap { r in
            let copy = Route(
                destination: r.destination, table: table, outputInterface: r.outputInterface, gateway: r.gateway,
                preferredSource: r.preferredSource, scope: r.scope, proto: Ownership.routeProtocol, metric: r.metric, type: r.type
            )
            return families.contains(r.family) && !keys.contains(copy.key) ? copy : nil
        }
    }

    /// The MTU an ENI should get: only one that eniroute brings up itself, never the primary
    /// (DHCP's); `auto` takes the primary ENI's MTU (which DHCP set), `keep` none.
    static func mtu(for e: SelectedENI, primary: Link?, configuration c: Configuration) -> UInt32? {
        guard e.bringsUp, !e.facts.isPrimary else { return nil }
        switch c.mtu {
        case .keep: return nil
        case .value(let n): return n
        case .auto:
            guard let p = primary, p.index != e.link.index, let m = p.mtu, Configuration.mtuRange.contains(m) else { return nil }
            return m
        }
    }

    /// Every managed ENI joins the group once any ENI has a table, and so does the primary ENI in
    /// every scope: the suppress rule keeps main's answer unless it goes through a group member, so
    /// a primary outside the group (scoped `apply eth1` before the boot run, primary-rules = no)
    /// would send the other ENIs' replies out through main's default route on eth0. In full scope,
    /// links that left eniroute's care (a detached ENI's interface still present, now unmanaged)
    /// leave the group.
    static func groupLinks(
        _ d: inout DesiredState, _ s: Selection, primaryMAC: MACAddress, links: ENILinks, observed: ObservedState,
        configuration c: Configuration
    ) {
        var members = s.managed.map(\.link)
        if s.hasTable, let primary = links[primaryMAC].first, !members.contains(where: { $0.index == primary.index }) {
            members.append(primary)
        }
        for link in members where s.hasTable && link.group != c.interfaceGroup {
            if link.group == 0 {
                d.linkChanges.append(.linkSetGroup(link, group: c.interfaceGroup))
            } else {
                d.warnings.append("\(link.name) is in interface group \(link.group), not \(c.interfaceGroup): left as is")
            }
        }
        guard s.coversAll else { return }
        let kept = Set(members.map(\.index))
        for l in observed.links
        where l.group == c.interfaceGroup && !kept.contains(l.index) && !s.protectedLinks.contains(l.index) {
            d.linkChanges.append(.linkSetGroup(l, group: 0))
        }
    }

    /// The objects one ENI should have.
    ///
    /// The primary ENI's primary private IPv4 belongs to DHCP: eniroute never adds it (re-adding it
    /// while networkd restarts would make it a permanent, tagged address racing the lease), and the
    /// table's IPv4 routes, which use it as source, are planned only while it is on the interface
    /// (`dhcpAddressPresent`); the watcher plans again when DHCP puts it back.
    static func desiredObjects(
        eni: ENIFacts, link: Link, table: UInt32?, configuration c: Configuration, dhcpAddressPresent: Bool = true
    ) -> ENIObjects {
        var d = ENIObjects()
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
}
