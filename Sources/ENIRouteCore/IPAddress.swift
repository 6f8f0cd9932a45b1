/// An address family as the kernel numbers it (`AF_INET`, `AF_INET6`).
public enum AddressFamily: UInt8, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// IPv4 (`AF_INET`).
    case inet = 2
    /// IPv6 (`AF_INET6`).
    case inet6 = 10

    /// Width of an address of this family, in bits.
    public var bitWidth: UInt8 { self == .inet ? 32 : 128 }

    /// `inet` or `inet6`, as iproute2 writes it.
    public var description: String { self == .inet ? "inet" : "inet6" }

    public static func < (lhs: AddressFamily, rhs: AddressFamily) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An IPv4 address, held as a number in host byte order so that comparison is numeric.
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address as a 32-bit number (`10.0.0.1` is `0x0A000001`).
    public var value: UInt32

    /// Creates an address from its numeric value.
    public init(_ value: UInt32) { self.value = value }

    /// Creates an address from four octets, most significant first.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad text (`10.0.1.5`); rejects leading zeros, missing or extra parts.
    public init?(_ text: some StringProtocol) {
        // Byte-wise over UTF-8: no allocation, no Character (grapheme) processing.
        var result: UInt32 = 0
        var part: UInt32 = 0
        var digits = 0
        var dots = 0
        for c in text.utf8 {
            if c >= 0x30 && c <= 0x39 {
                if digits == 1 && part == 0 { return nil }  // no leading zeros
                part = part * 10 + UInt32(c - 0x30)
                digits += 1
                guard digits <= 3, part <= 255 else { return nil }
            } else if c == 0x2E {
                guard digits > 0, dots < 3 else { return nil }
                result = result << 8 | part
                part = 0
                digits = 0
                dots += 1
            } else {
                return nil
            }
        }
        guard digits > 0, dots == 3 else { return nil }
        value = result << 8 | part
    }

    /// The four octets in network byte order.
    public var bytes: [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }
}

/// An IPv6 address, held as two 64-bit halves so that `2600::0:0/64` and `2600::/64` compare equal.
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The most significant 64 bits.
    public var high: UInt64
    /// The least significant 64 bits.
    public var low: UInt64

    /// Creates an address from its two halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Creates an address from 16 bytes in network order.
    @inlinable
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var h: UInt64 = 0
        var l: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
        }
        high = h
        low = l
    }

    /// Parses RFC 4291 text, compressed (`2600:1f16::1`) or not (`2600:1f16:0:0:0:0:0:1`),
    /// including a trailing dotted quad (`::ffff:10.0.0.1`). Zone indices are rejected.
    public init?(_ text: some StringProtocol) {
        let s = Substring(text)
        guard !s.isEmpty, s.count <= 45 else { return nil }
        var groups: [UInt16] = []
        var tailGroups: [UInt16] = []
        var sawDoubleColon = false
        var head = s
        var tail: Substring = ""
        if let range = IPv6Address.rangeOfDoubleColon(in: s) {
            sawDoubleColon = true
            head = s[s.startIndex..<range.lowerBound]
            tail = s[range.upperBound...]
            if IPv6Address.rangeOfDoubleColon(in: tail) != nil { return nil }
        }
        func parseGroups(_ part: Substring, allowV4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, piece) in pieces.enumerated() {
                if i == pieces.count - 1, allowV4Tail, piece.contains(".") {
                    guard let v4 = IPv4Address(piece) else { return nil }
                    result.append(UInt16(v4.value >> 16))
                    result.append(UInt16(v4.value & 0xFFFF))
                    continue
                }
                guard !piece.isEmpty, piece.count <= 4, piece.allSatisfy({ $0.isHexDigit && $0.isASCII }),
                    let g = UInt16(piece, radix: 16)
                else { return nil }
                result.append(g)
            }
            return result
        }
        if sawDoubleColon {
            guard let h = parseGroups(head, allowV4Tail: false), let t = parseGroups(tail, allowV4Tail: true),
                h.count + t.count <= 7
            else { return nil }
            groups = h
            tailGroups = t
            groups += Array(repeating: 0, count: 8 - h.count - t.count) + tailGroups
        } else {
            guard let g = parseGroups(head, allowV4Tail: true), g.count == 8 else { return nil }
            groups = g
        }
        var h: UInt64 = 0
        var l: UInt64 = 0
        for i in 0..<4 { h = h << 16 | UInt64(groups[i]) }
        for i in 4..<8 { l = l << 16 | UInt64(groups[i]) }
        high = h
        low = l
    }

    private static func rangeOfDoubleColon(in s: Substring) -> Range<Substring.Index>? {
        var i = s.startIndex
        while i < s.endIndex {
            let next = s.index(after: i)
            if s[i] == ":", next < s.endIndex, s[next] == ":" { return i..<s.index(after: next) }
            i = next
        }
        return nil
    }

    /// The 16 bytes in network order.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(high >> UInt64(shift) & 0xFF)) }
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(low >> UInt64(shift) & 0xFF)) }
        return out
    }

    /// The eight 16-bit groups, most significant first.
    /// (Plain loops: Debian's swiftlang 6.0 and 6.2 give up type-checking the one-expression form.)
    public var groups: [UInt16] {
        var out: [UInt16] = []
        out.reserveCapacity(8)
        for shift in stride(from: 48, through: 0, by: -16) { out.append(UInt16(high >> UInt64(shift) & 0xFFFF)) }
        for shift in stride(from: 48, through: 0, by: -16) { out.append(UInt16(low >> UInt64(shift) & 0xFFFF)) }
        return out
    }

    /// Whether this is a link-local unicast address (`fe80::/10`).
    public var isLinkLocal: Bool { high >> 54 == 0x3FA }

    /// RFC 5952 text: lower case, the longest run (≥ 2) of zero groups compressed to `::`.
    public var description: String {
        let g = groups
        var bestStart = -1
        var bestLength = 0
        var i = 0
        while i < 8 {
            if g[i] == 0 {
                var j = i
                while j < 8, g[j] == 0 { j += 1 }
                if j - i > bestLength {
                    bestStart = i
                    bestLength = j - i
                }
                i = j
            } else {
                i += 1
            }
        }
        func hex(_ range: Range<Int>) -> String { range.map { String(g[$0], radix: 16) }.joined(separator: ":") }
        if bestLength < 2 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

/// An IPv4 or IPv6 address.
public enum IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// An IPv4 address.
    case v4(IPv4Address)
    /// An IPv6 address.
    case v6(IPv6Address)

    /// Parses either family's text form.
    public init?(_ text: some StringProtocol) {
        if text.utf8.contains(0x3A) {
            guard let a = IPv6Address(text) else { return nil }
            self = .v6(a)
        } else {
            guard let a = IPv4Address(text) else { return nil }
            self = .v4(a)
        }
    }

    /// Creates an address from 4 or 16 bytes in network order.
    @inlinable
    public init?(family: AddressFamily, bytes: some Collection<UInt8>) {
        switch family {
        case .inet:
            guard bytes.count == 4 else { return nil }
            let b = Array(bytes)
            self = .v4(IPv4Address(b[0], b[1], b[2], b[3]))
        case .inet6:
            guard let a = IPv6Address(bytes: bytes) else { return nil }
            self = .v6(a)
        }
    }

    /// The family of this address.
    public var family: AddressFamily {
        if case .v4 = self { return .inet }
        return .inet6
    }

    /// The address bytes in network order (4 or 16).
    public var bytes: [UInt8] {
        switch self {
        case .v4(let a): return a.bytes
        case .v6(let a): return a.bytes
        }
    }

    public var description: String {
        switch self {
        case .v4(let a): return a.description
        case .v6(let a): return a.description
        }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): return a < b
        case (.v6(let a), .v6(let b)): return a < b
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        }
    }

    /// This address with every bit past `length` cleared.
    public func masked(to length: UInt8) -> IPAddress {
        switch self {
        case .v4(let a):
            let mask: UInt32 = length == 0 ? 0 : length >= 32 ? .max : ~(UInt32.max >> UInt32(length))
            return .v4(IPv4Address(a.value & mask))
        case .v6(let a):
            let hiMask: UInt64 = length == 0 ? 0 : length >= 64 ? .max : ~(UInt64.max >> UInt64(length))
            let loMask: UInt64 = length <= 64 ? 0 : length >= 128 ? .max : ~(UInt64.max >> UInt64(length - 64))
            return .v6(IPv6Address(high: a.high & hiMask, low: a.low & loMask))
        }
    }
}

/// An address prefix (`10.0.2.0/24`, `2600:1f16::/64`); also used for a single host (`/32`, `/128`).
public struct IPPrefix: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The network address; bits past `length` are zero for prefixes made by `init?(_:)`.
    public var address: IPAddress
    /// The prefix length in bits.
    public var length: UInt8

    /// Creates a prefix; `length` must not exceed the family's width.
    public init(address: IPAddress, length: UInt8) {
        self.address = address
        self.length = min(length, address.family.bitWidth)
    }

    /// A host prefix (`/32` or `/128`) for one address.
    public init(host: IPAddress) {
        self.init(address: host, length: host.family.bitWidth)
    }

    /// Parses `address/length` (or a bare address as a host prefix). With `strict` (the default),
    /// host bits set past the length are an error (`10.0.2.5/24`); IMDS never sends them.
    public init?(_ text: some StringProtocol, strict: Bool = true) {
        let trimmed = Substring(text)
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let addr = IPAddress(parts[0]) else { return nil }
        var len = addr.family.bitWidth
        if parts.count == 2 {
            let l = parts[1]
            guard !l.isEmpty, l.count <= 3, l.allSatisfy({ $0.isASCII && $0.isNumber }), let n = UInt8(l),
                n <= addr.family.bitWidth
            else { return nil }
            len = n
        }
        if strict, addr.masked(to: len) != addr { return nil }
        self.address = addr.masked(to: len)
        self.length = len
    }

    /// The family of this prefix.
    public var family: AddressFamily { address.family }

    /// Whether this prefix covers every address (`0.0.0.0/0`, `::/0`).
    public var isDefault: Bool { length == 0 }

    /// Whether this is a single-address prefix.
    public var isHost: Bool { length == family.bitWidth }

    /// Whether `other` lies inside this prefix.
    public func contains(_ other: IPAddress) -> Bool {
        other.family == family && other.masked(to: length) == address.masked(to: length)
    }

    /// Whether `other` lies entirely inside this prefix.
    public func contains(_ other: IPPrefix) -> Bool {
        other.family == family && other.length >= length && contains(other.address)
    }

    /// The default prefix of a family.
    public static func any(_ family: AddressFamily) -> IPPrefix {
        family == .inet
            ? IPPrefix(address: .v4(IPv4Address(0)), length: 0)
            : IPPrefix(address: .v6(IPv6Address(high: 0, low: 0)), length: 0)
    }

    /// iproute2's text: `default` for length 0, the bare address for host prefixes, else `addr/len`.
    public var description: String {
        if isDefault { return "default" }
        if isHost { return address.description }
        return "\(address)/\(length)"
    }

    public static func < (lhs: IPPrefix, rhs: IPPrefix) -> Bool {
        (lhs.address, lhs.length) < (rhs.address, rhs.length)
    }
}
