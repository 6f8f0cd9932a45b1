/// Per-MAC IMDS keys eniroute reads (`/latest/meta-data/network/interfaces/macs/<mac>/<key>`).
public enum IMDSKey {
    /// Device index on its network card; `0` also on a fresh non-primary ENI until IMDS catches up.
    public static let deviceNumber = "device-number"
    /// Network card index; HTTP 404 on single-card instance types.
    public static let networkCard = "network-card"
    /// The AWS documentation's name for the same value.
    public static let networkCardIndex = "network-card-index"
    /// `eni-…` id.
    public static let interfaceID = "interface-id"
    /// The subnet's IPv4 CIDR.
    public static let subnetIPv4 = "subnet-ipv4-cidr-block"
    /// The subnet's IPv6 CIDRs, one per line.
    public static let subnetIPv6 = "subnet-ipv6-cidr-blocks"
    /// Private IPv4 addresses, primary first.
    public static let localIPv4s = "local-ipv4s"
    /// IPv6 addresses.
    public static let ipv6s = "ipv6s"
    /// Delegated IPv4 prefixes.
    public static let ipv4Prefix = "ipv4-prefix"
    /// Delegated IPv6 prefixes.
    public static let ipv6Prefix = "ipv6-prefix"

    /// The keys eniroute fetches when the MAC's directory listing names them, in fetch order.
    public static let all = [
        deviceNumber, networkCard, networkCardIndex, subnetIPv4, subnetIPv6, localIPv4s, ipv6s, ipv4Prefix, ipv6Prefix,
    ]
}

/// Helpers for IMDS's text bodies.
public enum IMDSText {
    /// Splits a list body into its non-empty lines, trimming whitespace and `\r`; works with or without
    /// a trailing newline.
    public static func lines(_ body: some StringProtocol) -> [Substring] {
        // Splits at "\n" over UTF-8 (a "\r" before it is trimmed); slices keep scalar-aligned indices.
        let s = Substring(body)
        let u = s.utf8
        var out: [Substring] = []
        var start = u.startIndex
        var i = start
        while i < u.endIndex {
            if u[i] == 0x0A {
                let t = trim(s[start..<i])
                if !t.isEmpty { out.append(t) }
                start = u.index(after: i)
            }
            i = u.index(after: i)
        }
        let t = trim(s[start..<u.endIndex])
        if !t.isEmpty { out.append(t) }
        return out
    }

    /// Parses a directory listing (`device-number`, `ipv4-associations/`): entry names without the
    /// trailing slash.
    public static func listing(_ body: some StringProtocol) -> [String] {
        lines(body).map { $0.hasSuffix("/") ? String($0.dropLast()) : String($0) }
    }

    /// Removes leading and trailing ASCII white space.
    public static func trim(_ s: Substring) -> Substring {
        func space(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }
        let u = s.utf8
        var start = u.startIndex
        var end = u.endIndex
        while start < end, space(u[start]) { start = u.index(after: start) }
        while end > start, space(u[u.index(before: end)]) { end = u.index(before: end) }
        return s[start..<end]
    }
}

/// Why IMDS data was refused. Nothing is applied when planning meets one of these.
public enum FactsError: Error, Equatable, CustomStringConvertible {
    /// A value that does not parse (`key` of `mac`).
    case malformed(mac: MACAddress, key: String, value: String)
    /// An address that is not inside the ENI's subnet.
    case addressOutsideSubnet(mac: MACAddress, address: String, subnet: String)
    /// Device or card numbers that give a table outside the allowed range.
    case tableOutOfRange(mac: MACAddress, table: UInt64)
    /// Two ENIs that would share one table.
    case tableCollision(table: UInt32, macs: [MACAddress])
    /// The same MAC twice, or one address on two ENIs.
    case duplicate(what: String)

    public var description: String {
        switch self {
        case .malformed(let mac, let key, let value):
            return "IMDS returned a malformed \(key) for \(mac): \(value.debugDescription)"
        case .addressOutsideSubnet(let mac, let address, let subnet):
            return "IMDS lists \(address) on \(mac), outside its subnet \(subnet)"
        case .tableOutOfRange(let mac, let table):
            return "device/card numbers of \(mac) give table \(table), outside 256…4294967295 minus reserved tables"
        case .tableCollision(let table, let macs):
            return "ENIs \(macs.map(\.description).joined(separator: ", ")) would share table \(table)"
        case .duplicate(let what):
            return "IMDS data is inconsistent: \(what)"
        }
    }
}

/// What IMDS says about one ENI, parsed into typed values.
public struct ENIFacts: Hashable, Sendable {
    /// Hardware address; the key to its interface.
    public var mac: MACAddress
    /// Whether this is the instance's primary ENI (the top-level `mac`, never "device 0").
    public var isPrimary: Bool
    /// `device-number`.
    public var deviceNumber: UInt32
    /// `network-card` (0 when IMDS answers 404, as on single-card types).
    public var networkCard: UInt32
    /// `interface-id`, when fetched.
    public var interfaceID: String?
    /// `subnet-ipv4-cidr-block`.
    public var subnetIPv4: IPPrefix?
    /// `subnet-ipv6-cidr-blocks`.
    public var subnetIPv6: [IPPrefix]
    /// `local-ipv4s`, primary first.
    public var ipv4Addresses: [IPAddress]
    /// `ipv6s`.
    public var ipv6Addresses: [IPAddress]
    /// `ipv4-prefix`.
    public var ipv4Prefixes: [IPPrefix]
    /// `ipv6-prefix`.
    public var ipv6Prefixes: [IPPrefix]

    /// Creates facts directly (tests, simulators).
    public init(
        mac: MACAddress, isPrimary: Bool, deviceNumber: UInt32, networkCard: UInt32 = 0, interfaceID: String? = nil,
        subnetIPv4: IPPrefix? = nil, subnetIPv6: [IPPrefix] = [], ipv4Addresses: [IPAddress] = [],
        ipv6Addresses: [IPAddress] = [], ipv4Prefixes: [IPPrefix] = [], ipv6Prefixes: [IPPrefix] = []
    ) {
        self.mac = mac
        self.isPrimary = isPrimary
        self.deviceNumber = deviceNumber
        self.networkCard = networkCard
        self.interfaceID = interfaceID
        self.subnetIPv4 = subnetIPv4
        self.subnetIPv6 = subnetIPv6
        self.ipv4Addresses = ipv4Addresses
        self.ipv6Addresses = ipv6Addresses
        self.ipv4Prefixes = ipv4Prefixes
        self.ipv6Prefixes = ipv6Prefixes
    }

    /// Parses the bodies of one MAC's keys. `values` holds each key IMDS answered with 200; a key
    /// that is absent was not listed or answered 404. Every address and prefix is validated here.
    public static func parse(mac: MACAddress, isPrimary: Bool, values: [String: String]) throws(FactsError) -> ENIFacts {
        func number(_ key: String) throws(FactsError) -> UInt32? {
            guard let body = values[key] else { return nil }
            let t = IMDSText.trim(Substring(body))
            guard !t.isEmpty, t.count <= 6, t.allSatisfy({ $0.isASCII && $0.isNumber }), let n = UInt32(t) else {
                throw .malformed(mac: mac, key: key, value: body)
            }
            return n
        }
        func prefixes(_ key: String, family: AddressFamily) throws(FactsError) -> [IPPrefix] {
            guard let body = values[key] else { return [] }
            var out: [IPPrefix] = []
            for line in IMDSText.lines(body) {
                guard let p = IPPrefix(line), p.family == family else {
                    throw .malformed(mac: mac, key: key, value: String(line))
                }
                if !out.contains(p) { out.append(p) }
            }
            return out
        }
        func addresses(_ key: String, family: AddressFamily) throws(FactsError) -> [IPAddress] {
            guard let body = values[key] else { return [] }
            var out: [IPAddress] = []
            for line in IMDSText.lines(body) {
                guard let a = IPAddress(line), a.family == family else {
                    throw .malformed(mac: mac, key: key, value: String(line))
                }
                if !out.contains(a) { out.append(a) }
            }
            return out
        }
        let device = try number(IMDSKey.deviceNumber) ?? 0
        let cardKey = values[IMDSKey.networkCard] != nil ? IMDSKey.networkCard : IMDSKey.networkCardIndex
        let card = try number(cardKey) ?? 0
        let subnet4 = try prefixes(IMDSKey.subnetIPv4, family: .inet)
        guard subnet4.count <= 1 else {
            throw .malformed(mac: mac, key: IMDSKey.subnetIPv4, value: values[IMDSKey.subnetIPv4] ?? "")
        }
        let facts = ENIFacts(
            mac: mac, isPrimary: isPrimary, deviceNumber: device, networkCard: card,
            interfaceID: values[IMDSKey.interfaceID].map { String(IMDSText.trim(Substring($0))) },
            subnetIPv4: subnet4.first,
            subnetIPv6: try prefixes(IMDSKey.subnetIPv6, family: .inet6),
            ipv4Addresses: try addresses(IMDSKey.localIPv4s, family: .inet),
            ipv6Addresses: try addresses(IMDSKey.ipv6s, family: .inet6),
            ipv4Prefixes: try prefixes(IMDSKey.ipv4Prefix, family: .inet),
            ipv6Prefixes: try prefixes(IMDSKey.ipv6Prefix, family: .inet6))
        try facts.validate()
        return facts
    }

    /// Checks that every address lies in its subnet, and that no delegated prefix is broader than
    /// the ENI's subnet (a hostile `ipv4-prefix` of `0.0.0.0/0` would otherwise become a
    /// `from all` rule that captures every packet the host sends).
    public func validate() throws(FactsError) {
        if let s = subnetIPv4 {
            for a in ipv4Addresses where !s.contains(a) {
                throw .addressOutsideSubnet(mac: mac, address: a.description, subnet: s.description)
            }
            for p in ipv4Prefixes where p.length < s.length {
                throw .addressOutsideSubnet(mac: mac, address: "\(p.address)/\(p.length)", subnet: s.description)
            }
        }
        if let widest = subnetIPv6.map(\.length).min() {
            for p in ipv6Prefixes where p.length < widest {
                throw .addressOutsideSubnet(
                    mac: mac, address: "\(p.address)/\(p.length)", subnet: subnetIPv6.map(\.description).joined(separator: ","))
            }
        }
        if !subnetIPv6.isEmpty {
            for a in ipv6Addresses where !subnetIPv6.contains(where: { $0.contains(a) }) {
                throw .addressOutsideSubnet(
                    mac: mac, address: a.description, subnet: subnetIPv6.map(\.description).joined(separator: ","))
            }
        }
    }

    /// The primary private IPv4 address (first of `local-ipv4s`).
    public var primaryIPv4: IPAddress? { ipv4Addresses.first }

    /// Whether IMDS has caught up with this ENI. After a hot attach the MAC directory can exist
    /// before its keys, and `device-number` reads 0 for a non-primary ENI until it propagates.
    /// Returns nil when ready, else the reason to wait.
    public var notReadyReason: String? {
        if !isPrimary && deviceNumber == 0 && networkCard == 0 {
            return "device-number 0 on card 0 for a non-primary ENI (IMDS has not caught up)"
        }
        if ipv4Addresses.isEmpty && ipv6Addresses.isEmpty && ipv4Prefixes.isEmpty && ipv6Prefixes.isEmpty {
            return "no addresses listed yet"
        }
        if (!ipv4Addresses.isEmpty || !ipv4Prefixes.isEmpty) && subnetIPv4 == nil {
            return "\(IMDSKey.subnetIPv4) not listed yet"
        }
        if (!ipv6Addresses.isEmpty || !ipv6Prefixes.isEmpty) && subnetIPv6.isEmpty {
            return "\(IMDSKey.subnetIPv6) not listed yet"
        }
        return nil
    }
}

/// What IMDS says about the whole instance.
public struct InstanceFacts: Hashable, Sendable {
    /// The primary ENI's MAC (top-level `mac`).
    public var primaryMAC: MACAddress
    /// The ENIs that were fetched (all, or the ones asked for).
    public var enis: [ENIFacts]

    /// Creates instance facts.
    public init(primaryMAC: MACAddress, enis: [ENIFacts]) {
        self.primaryMAC = primaryMAC
        self.enis = enis
    }
}
