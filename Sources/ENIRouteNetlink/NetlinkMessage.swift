import ENIRouteCore

/// Rounds a length up to netlink's 4-byte alignment (`NLMSG_ALIGN`, `RTA_ALIGN`).
@inline(__always) func netlinkAlign(_ n: Int) -> Int { (n + 3) & ~3 }

/// Size of `struct nlmsghdr`.
let netlinkHeaderSize = 16

/// Builds one netlink message: a `nlmsghdr`, a fixed family header (`ifinfomsg`, `ifaddrmsg`,
/// `rtmsg`, `fib_rule_hdr`) and attributes, each padded to 4 bytes. Integers are in host byte
/// order, as netlink wants them; addresses are in network order.
public struct NetlinkMessageWriter: Sendable {
    /// The message so far; `nlmsg_len` is filled in by `finish()`.
    public private(set) var bytes: [UInt8]

    /// Starts a message with its header. `pid` is 0 for messages to the kernel.
    public init(type: UInt16, flags: UInt16, sequence: UInt32, pid: UInt32 = 0) {
        bytes = []
        bytes.reserveCapacity(128)
        appendInteger(UInt32(0))  // nlmsg_len, patched by finish()
        appendInteger(type)
        appendInteger(flags)
        appendInteger(sequence)
        appendInteger(pid)
    }

    /// Appends a fixed family header (a C struct such as `rtmsg`) byte for byte, then pads to 4 bytes.
    public mutating func appendHeader<T: BitwiseCopyable>(_ header: T) {
        withUnsafeBytes(of: header) { bytes.append(contentsOf: $0) }
        pad()
    }

    /// Appends an attribute (`struct rtattr` + value + padding).
    public mutating func appendAttribute(type: UInt16, value: some Collection<UInt8>) {
        appendInteger(UInt16(4 + value.count))
        appendInteger(type)
        bytes.append(contentsOf: value)
        pad()
    }

    /// Appends an 8-bit attribute (padded to 8 bytes in all).
    public mutating func appendAttribute(type: UInt16, uint8 value: UInt8) {
        appendAttribute(type: type, value: [value])
    }

    /// Appends a 32-bit attribute in host byte order.
    public mutating func appendAttribute(type: UInt16, uint32 value: UInt32) {
        appendAttribute(type: type, value: withUnsafeBytes(of: value) { Array($0) })
    }

    /// Appends a NUL-terminated string attribute (`IFLA_IFNAME`, `IFLA_INFO_KIND`).
    public mutating func appendAttribute(type: UInt16, string: String) {
        appendAttribute(type: type, value: Array(string.utf8) + [0])
    }

    /// Appends a nested attribute whose payload `body` writes; its length is filled in afterwards.
    public mutating func appendNested(type: UInt16, _ body: (inout NetlinkMessageWriter) -> Void) {
        let start = bytes.count
        appendInteger(UInt16(0))
        appendInteger(type | UAPI.nlaFNested)
        body(&self)
        let length = UInt16(bytes.count - start)
        bytes[start] = UInt8(truncatingIfNeeded: length)
        bytes[start + 1] = UInt8(truncatingIfNeeded: length >> 8)
    }

    /// The finished message with `nlmsg_len` set.
    public func finish() -> [UInt8] {
        var out = bytes
        withUnsafeBytes(of: UInt32(out.count)) { for i in 0..<4 { out[i] = $0[i] } }
        return out
    }

    private mutating func appendInteger<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }

    private mutating func pad() {
        while bytes.count % 4 != 0 { bytes.append(0) }
    }
}

/// One received netlink message.
public struct NetlinkMessage: Hashable, Sendable {
    /// `nlmsg_type`.
    public var type: UInt16
    /// `nlmsg_flags`.
    public var flags: UInt16
    /// `nlmsg_seq`.
    public var sequence: UInt32
    /// `nlmsg_pid`: the port id the kernel addressed it to.
    public var pid: UInt32
    /// Everything after the 16-byte header, up to `nlmsg_len`.
    public var payload: [UInt8]

    /// Creates a message (for tests and readers).
    public init(type: UInt16, flags: UInt16, sequence: UInt32, pid: UInt32, payload: [UInt8]) {
        self.type = type
        self.flags = flags
        self.sequence = sequence
        self.pid = pid
        self.payload = payload
    }
}

/// One attribute (`struct rtattr` / `nlattr`) of a message.
public struct NetlinkAttribute: Hashable, Sendable {
    /// The type, without the `NLA_F_NESTED`/`NLA_F_NET_BYTEORDER` bits.
    public var type: UInt16
    /// The value, without header or padding (a slice of the received message: no copy).
    public var value: ArraySlice<UInt8>
}

/// Splits received bytes into messages and attributes. Every length is checked against what is
/// actually there: a length that is too small or runs past the end is an error, never a crash.
/// Loads are unaligned-safe, so any byte buffer can be parsed.
public enum NetlinkMessageReader {
    /// The messages of one datagram, in order.
    public static func messages(in datagram: [UInt8]) throws(NetlinkError) -> [NetlinkMessage] {
        var result: [NetlinkMessage] = []
        var offset = 0
        while offset < datagram.count {
            let remaining = datagram.count - offset
            guard remaining >= netlinkHeaderSize else {
                throw .truncated(operation: "", detail: "\(remaining) bytes left, less than a netlink header")
            }
            let length = Int(load(UInt32.self, datagram, offset))
            guard length >= netlinkHeaderSize else {
                throw .truncated(operation: "", detail: "nlmsg_len \(length) is smaller than the header")
            }
            guard length <= remaining else {
                throw .truncated(operation: "", detail: "nlmsg_len \(length) exceeds the \(remaining) bytes received")
            }
            result.append(
                NetlinkMessage(
                    type: load(UInt16.self, datagram, offset + 4), flags: load(UInt16.self, datagram, offset + 6),
                    sequence: load(UInt32.self, datagram, offset + 8), pid: load(UInt32.self, datagram, offset + 12),
                    payload: Array(datagram[(offset + netlinkHeaderSize)..<(offset + length)])))
            offset += min(netlinkAlign(length), remaining)
        }
        return result
    }

    /// The attributes in `bytes` (a message payload after its family header, or a nested attribute's value).
    public static func attributes(in bytes: some Collection<UInt8>) throws(NetlinkError) -> [NetlinkAttribute] {
        let buffer = Array(bytes)
        var result: [NetlinkAttribute] = []
        result.reserveCapacity(16)
        var offset = 0
        while offset < buffer.count {
            let remaining = buffer.count - offset
            guard remaining >= 4 else {
                throw .malformedAttribute(
                    operation: "", type: 0, detail: "\(remaining) trailing bytes, less than an attribute header")
            }
            let length = Int(buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt16.self) })
            let type = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self) } & UAPI.nlaTypeMask
            guard length >= 4, length <= remaining else {
                throw .malformedAttribute(operation: "", type: type, detail: "length \(length) with \(remaining) bytes left")
            }
            result.append(NetlinkAttribute(type: type, value: buffer[(offset + 4)..<(offset + length)]))
            offset += min(netlinkAlign(length), remaining)
        }
        return result
    }

    /// Reads an integer in host byte order at `offset` (which must be in bounds) without alignment requirements.
    static func load<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], _ offset: Int) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }
}

extension NetlinkAttribute {
    /// The value as a `u8`, or an error if it is not exactly one byte.
    public func uint8() throws(NetlinkError) -> UInt8 {
        guard value.count == 1 else { throw wrongSize("u8") }
        return value[value.startIndex]
    }

    /// The value as a `u32` in host byte order, or an error if it is not exactly four bytes.
    public func uint32() throws(NetlinkError) -> UInt32 {
        guard value.count == 4 else { throw wrongSize("u32") }
        return value.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
    }

    /// The value as a string, up to the first NUL.
    public func string() -> String {
        String(decoding: value.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The value as an address of `family` (4 or 16 bytes), or an error if its size does not match.
    public func address(_ family: AddressFamily) throws(NetlinkError) -> IPAddress {
        guard let a = IPAddress(family: family, bytes: value) else { throw wrongSize("\(family) address") }
        return a
    }

    private func wrongSize(_ what: String) -> NetlinkError {
        .malformedAttribute(operation: "", type: type, detail: "\(value.count) bytes, expected a \(what)")
    }
}
