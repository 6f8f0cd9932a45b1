/// A 48-bit Ethernet hardware address; ENIs are matched to interfaces by it, never by name.
public struct MACAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The six octets.
    public var octets: [UInt8]

    /// Creates an address from six octets; other lengths are rejected.
    public init?(octets: some Collection<UInt8>) {
        guard octets.count == 6 else { return nil }
        self.octets = Array(octets)
    }

    /// Parses `0e:49:61:0f:c3:11` (either case; `-` also accepted as separator).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 6 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard p.count == 2, p.allSatisfy({ $0.isASCII && $0.isHexDigit }), let b = UInt8(p, radix: 16) else {
                return nil
            }
            out.append(b)
        }
        octets = out
    }

    /// Lower-case colon form, as IMDS writes it.
    public var description: String {
        octets.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
    }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.octets.lexicographicallyPrecedes(rhs.octets) }
}

/// The tag eniroute writes into the protocol field of every rule, route and address it creates,
/// so that it can find exactly its own objects after a crash or reboot without a state file.
/// Registered as `eniroute` in `/etc/iproute2/rt_protos.d/eniroute.conf`.
public enum Ownership {
    /// Rule and route protocol number (`ip rule … proto eniroute`).
    public static let routeProtocol: UInt8 = 0xEE
    /// Address protocol number (`IFA_PROTO`, Linux ≥ 6.0; ignored by older kernels).
    public static let addressProtocol: UInt8 = 0xEE
}

/// A network interface as the kernel reports it (`ip link show`).
public struct Link: Hashable, Sendable {
    /// Interface index.
    public var index: Int32
    /// Interface name (`eth1`, `ens6`, …); only for display: ENIs are matched by `mac`.
    public var name: String
    /// Hardware address, absent for links without one (`lo` reports zeros, tunnels none).
    public var mac: MACAddress?
    /// Whether the interface is administratively up (`IFF_UP`).
    public var isUp: Bool
    /// Interface group (`IFLA_GROUP`); 0 is the kernel's default group.
    public var group: UInt32
    /// Link kind from `IFLA_INFO_KIND` (`veth`, `bridge`, …), if any.
    public var kind: String?
    /// The IPv4 `promote_secondaries` setting (from `IFLA_INET_CONF`), if the kernel reported it:
    /// when off, deleting a primary IPv4 address also deletes its secondaries.
    public var promoteSecondaries: Bool?
    /// The MTU (`IFLA_MTU`), if the kernel reported it.
    public var mtu: UInt32?

    /// Creates a link description.
    public init(
        index: Int32, name: String, mac: MACAddress?, isUp: Bool, group: UInt32 = 0, kind: String? = nil, mtu: UInt32? = nil
    ) {
        self.index = index
        self.name = name
        self.mac = mac
        self.isUp = isUp
        self.group = group
        self.kind = kind
        self.mtu = mtu
    }
}

/// An address on an interface (`ip address`).
public struct InterfaceAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address with its prefix length (`10.0.2.10/24`).
    public var prefix: IPPrefix
    /// The interface index it is on.
    public var interfaceIndex: Int32
    /// Whether the kernel should not add a prefix route (`noprefixroute`).
    public var noPrefixRoute: Bool
    /// Whether duplicate address detection is skipped (`nodad`, IPv6 only).
    public var noDAD: Bool
    /// Address protocol (`IFA_PROTO`); `Ownership.addressProtocol` for eniroute's own.
    public var proto: UInt8
    /// Whether the kernel holds this IPv4 address as a secondary of another in the same subnet
    /// (`IFA_F_SECONDARY`). Deleting a primary also deletes its secondaries unless
    /// `promote_secondaries` is on. Observed only; never sent.
    public var isSecondary = false

    /// Creates an address description. `prefix.address` is the host address, not the network.
    /// `proto` says whose it is, with no default: `Ownership.addressProtocol` for eniroute's own,
    /// the kernel's or another tool's number (0 when unspecified) otherwise.
    public init(prefix: IPPrefix, interfaceIndex: Int32, noPrefixRoute: Bool = false, noDAD: Bool = false, proto: UInt8) {
        self.prefix = prefix
        self.interfaceIndex = interfaceIndex
        self.noPrefixRoute = noPrefixRoute
        self.noDAD = noDAD
        self.proto = proto
    }

    /// The host address.
    public var address: IPAddress { prefix.address }
    /// The family.
    public var family: AddressFamily { prefix.family }
    /// Whether eniroute created it.
    public var isOwned: Bool { proto == Ownership.addressProtocol }

    /// `10.0.2.10/24 dev #3`.
    public var description: String { "\(address)/\(prefix.length) dev #\(interfaceIndex)" }

    public static func < (lhs: InterfaceAddress, rhs: InterfaceAddress) -> Bool {
        (lhs.interfaceIndex, lhs.address, lhs.prefix.length) < (rhs.interfaceIndex, rhs.address, rhs.prefix.length)
    }
}

/// Route scope (`rtm_scope`).
public enum RouteScope: UInt8, Sendable, Hashable {
    /// `RT_SCOPE_UNIVERSE`: reached through a gateway.
    case universe = 0
    /// `RT_SCOPE_LINK`: directly on the link.
    case link = 253
    /// `RT_SCOPE_HOST`: a local address.
    case host = 254
}

/// A route (`ip route … table N`); systemd-networkd's `[Route]`.
public struct Route: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Destination prefix; length 0 is `default`.
    public var destination: IPPrefix
    /// Routing table (`RTA_TABLE`).
    public var table: UInt32
    /// Output interface index (`RTA_OIF`), if any.
    public var outputInterface: Int32?
    /// Next hop (`RTA_GATEWAY`), if any.
    public var gateway: IPAddress?
    /// Preferred source address (`RTA_PREFSRC`, `src`), if any.
    public var preferredSource: IPAddress?
    /// Scope.
    public var scope: RouteScope
    /// Route protocol (`rtm_protocol`); `Ownership.routeProtocol` for eniroute's own.
    public var proto: UInt8
    /// Metric (`RTA_PRIORITY`); the kernel stores 1024 for IPv6 routes given 0.
    public var metric: UInt32
    /// Route type (`rtm_type`); 1 is `RTN_UNICAST`.
    public var type: UInt8

    /// Creates a route description. `proto` says whose it is, with no default:
    /// `Ownership.routeProtocol` for eniroute's own, the kernel's or another tool's number otherwise.
    public init(
        destination: IPPrefix, table: UInt32, outputInterface: Int32? = nil, gateway: IPAddress? = nil,
        preferredSource: IPAddress? = nil, scope: RouteScope = .universe, proto: UInt8,
        metric: UInt32? = nil, type: UInt8 = 1
    ) {
        self.destination = destination
        self.table = table
        self.outputInterface = outputInterface
        self.gateway = gateway
        self.preferredSource = preferredSource
        self.scope = scope
        self.proto = proto
        self.metric = metric ?? (destination.family == .inet6 ? 1024 : 0)
        self.type = type
    }

    /// The family.
    public var family: AddressFamily { destination.family }
    /// Whether eniroute created it.
    public var isOwned: Bool { proto == Ownership.routeProtocol }

    /// What the kernel uses to tell routes apart in one table: a route with the same key is replaced, not added.
    public var key: RouteKey { RouteKey(table: table, destination: destination, metric: metric) }

    /// `default via 10.0.2.1 dev #3 table 10001`.
    public var description: String { description(names: [:]) }

    /// `default via 10.0.2.1 dev eth1 table 10001`: as `description`, with the output interface
    /// named from `names` (interface index → name) where it is known.
    public func description(names: [Int32: String]) -> String {
        var s = destination.description
        if let g = gateway { s += " via \(g)" }
        if let o = outputInterface { s += " dev \(names[o] ?? "#\(o)")" }
        if let p = preferredSource { s += " src \(p)" }
        if scope == .link { s += " scope link" }
        s += " table \(table)"
        return s
    }

    public static func < (lhs: Route, rhs: Route) -> Bool {
        (lhs.table, lhs.family, lhs.destination.length, lhs.destination) < (
            rhs.table, rhs.family, rhs.destination.length, rhs.destination
        )
    }
}

/// The identity of a route within the kernel's FIB.
public struct RouteKey: Hashable, Sendable {
    /// Table.
    public var table: UInt32
    /// Destination.
    public var destination: IPPrefix
    /// Metric.
    public var metric: UInt32
}

/// A policy routing rule (`ip rule`); systemd-networkd's `[RoutingPolicyRule]`.
public struct RoutingPolicyRule: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Family of the rule (a rule with no selector still belongs to one family).
    public var family: AddressFamily
    /// Priority (`FRA_PRIORITY`, `pref`).
    public var priority: UInt32
    /// Source selector (`from`); nil is `from all`.
    public var from: IPPrefix?
    /// Destination selector (`to`); eniroute never sets it but reads it on foreign rules.
    public var to: IPPrefix?
    /// Table looked up (`lookup`).
    public var table: UInt32
    /// `suppress_ifgroup`: ignore the lookup's result if its device is in this group.
    public var suppressInterfaceGroup: UInt32?
    /// Rule protocol (`FRA_PROTOCOL`); `Ownership.routeProtocol` for eniroute's own.
    public var proto: UInt8
    /// Rule action (`FR_ACT_TO_TBL` = 1 is `lookup`).
    public var action: UInt8
    /// Whether the rule has selectors eniroute does not model (iif, oif, fwmark, tos, …).
    public var hasOtherSelectors: Bool

    /// Creates a rule description. `proto` says whose it is, with no default:
    /// `Ownership.routeProtocol` for eniroute's own, the kernel's or another tool's number otherwise.
    public init(
        family: AddressFamily, priority: UInt32, from: IPPrefix? = nil, to: IPPrefix? = nil, table: UInt32,
        suppressInterfaceGroup: UInt32? = nil, proto: UInt8, action: UInt8 = 1,
        hasOtherSelectors: Bool = false
    ) {
        self.family = family
        self.priority = priority
        self.from = from
        self.to = to
        self.table = table
        self.suppressInterfaceGroup = suppressInterfaceGroup
        self.proto = proto
        self.action = action
        self.hasOtherSelectors = hasOtherSelectors
    }

    /// Whether eniroute created it.
    public var isOwned: Bool { proto == Ownership.routeProtocol }

    /// `10001: from 10.0.2.10 lookup 10001` (iproute2's `ip rule` form).
    public var description: String {
        var s = "\(priority): from \(from.map { $0.isDefault ? "all" : $0.description } ?? "all")"
        if let t = to { s += " to \(t)" }
        s += " lookup \(table == 254 ? "main" : String(table))"
        if let g = suppressInterfaceGroup { s += " suppress_ifgroup \(g)" }
        return s
    }

    public static func < (lhs: RoutingPolicyRule, rhs: RoutingPolicyRule) -> Bool {
        (lhs.family, lhs.priority, lhs.from ?? .any(lhs.family), lhs.table)
            < (rhs.family, rhs.priority, rhs.from ?? .any(rhs.family), rhs.table)
    }
}

extension Link {
    /// Interface index → name of `links`, for messages (`dev eth1` rather than `dev #3`).
    public static func names(_ links: [Link]) -> [Int32: String] {
        Dictionary(links.map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a })
    }
}

/// Everything eniroute reads from the kernel before planning.
public struct ObservedState: Sendable, Equatable {
    /// All links.
    public var links: [Link]
    /// All IPv4 and IPv6 addresses.
    public var addresses: [InterfaceAddress]
    /// All IPv4 and IPv6 rules.
    public var rules: [RoutingPolicyRule]
    /// Routes of the tables eniroute may manage (all tables ≥ 256 are fine to pass; others are ignored).
    public var routes: [Route]

    /// Creates an observation.
    public init(links: [Link] = [], addresses: [InterfaceAddress] = [], rules: [RoutingPolicyRule] = [], routes: [Route] = []) {
        self.links = links
        self.addresses = addresses
        self.rules = rules
        self.routes = routes
    }
}
