import ENIRouteCore

#if canImport(Glibc)
    import Glibc
#endif

/// An IPv4 or IPv6 socket address (`struct sockaddr_in` / `sockaddr_in6`) for `bind`, `connect`
/// and `getsockname`.
public struct SocketAddress: Sendable {
    // Large enough for both families; sin_port and sin6_port share their offset.
    private var storage = sockaddr_in6()
    /// The length of the family's structure.
    public private(set) var length: socklen_t

    /// `address` and `port`.
    public init(_ address: IPAddress, port: UInt16) {
        switch address {
        case .v4(let a):
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.withMemoryRebound(to: sockaddr_in.self) { sin in
                    sin[0].sin_family = sa_family_t(AF_INET)
                    sin[0].sin_port = port.bigEndian
                    sin[0].sin_addr = in_addr(s_addr: a.value.bigEndian)
                }
            }
        case .v6(let a):
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            storage.sin6_family = sa_family_t(AF_INET6)
            storage.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &storage.sin6_addr) { raw in
                for (i, b) in a.bytes.enumerated() { raw[i] = b }
            }
        }
    }

    /// The address a socket is bound to (`getsockname(2)`).
    public static func local(of fd: Int32) throws(Errno) -> SocketAddress {
        var address = SocketAddress(.v4(IPv4Address(0)), port: 0)
        address.length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        let rc = withUnsafeMutablePointer(to: &address.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &address.length) }
        }
        guard rc == 0 else { throw Errno.current }
        return address
    }

    /// The address family, `AF_INET` or `AF_INET6`.
    public var family: Int32 { Int32(storage.sin6_family) }

    /// The port.
    public var port: UInt16 { UInt16(bigEndian: storage.sin6_port) }

    /// Calls `body` with a `struct sockaddr` pointer and the length, as `bind` and `connect` take them.
    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafePointer(to: storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
    }
}
