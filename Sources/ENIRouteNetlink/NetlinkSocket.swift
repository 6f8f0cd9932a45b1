import CRTNetlink
import ENIRouteSystem
import Glibc

/// A netlink socket as `NetlinkRouteClient` needs it; a protocol so that tests can replay scripted replies.
public protocol NetlinkSocket: AnyObject {
    /// The port id the kernel assigned to this socket (`nl_pid` after bind); replies carry it.
    var localPortID: UInt32 { get }
    /// Sends one datagram (one or more complete messages) to the kernel.
    func send(_ datagram: [UInt8]) throws(NetlinkError)
    /// Receives one whole datagram, waiting at most `timeoutMilliseconds`; throws `.timeout` when none came.
    func receive(timeoutMilliseconds: Int32) throws(NetlinkError) -> [UInt8]
}

/// rtnetlink multicast groups (`RTNLGRP_*`) for a socket that watches changes.
public enum NetlinkRouteGroup: UInt32, Sendable, CaseIterable {
    /// Link changes (`RTNLGRP_LINK`).
    case link = 1
    /// IPv4 address changes (`RTNLGRP_IPV4_IFADDR`).
    case ipv4Address = 5
    /// IPv4 route changes (`RTNLGRP_IPV4_ROUTE`).
    case ipv4Route = 7
    /// IPv4 rule changes (`RTNLGRP_IPV4_RULE`).
    case ipv4Rule = 8
    /// IPv6 address changes (`RTNLGRP_IPV6_IFADDR`).
    case ipv6Address = 9
    /// IPv6 route changes (`RTNLGRP_IPV6_ROUTE`).
    case ipv6Route = 11
    /// IPv6 rule changes (`RTNLGRP_IPV6_RULE`).
    case ipv6Rule = 19
}

/// A `NETLINK_ROUTE` socket: `socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE)`, bound to a
/// kernel-chosen port id, with extended acks and capped acks enabled and a large receive buffer.
/// The socket stays in the network namespace of the thread that created it.
public final class NetlinkRouteSocket: NetlinkSocket {
    /// The file descriptor (owned; closed on deinit).
    public let fileDescriptor: Int32
    /// The port id the kernel assigned.
    public let localPortID: UInt32
    private var buffer: [UInt8]

    /// Opens and binds the socket. `receiveBufferSize` is forced with `SO_RCVBUFFORCE` when the
    /// process has `CAP_NET_ADMIN`, else requested with `SO_RCVBUF` (capped by `net.core.rmem_max`).
    /// `datagramBufferSize` is the initial size of the buffer one datagram is read into; it grows
    /// when a larger datagram arrives.
    public init(receiveBufferSize: Int32 = 4 * 1024 * 1024, datagramBufferSize: Int = 64 * 1024) throws(NetlinkError) {
        buffer = Array(repeating: 0, count: max(datagramBufferSize, netlinkHeaderSize))
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_ROUTE)
        guard fd >= 0 else { throw .systemCall(call: "socket(AF_NETLINK)", errno: .current) }
        func fail(_ call: String) -> NetlinkError {
            let e = Errno.current
            close(fd)
            return .systemCall(call: call, errno: e)
        }
        var size = receiveBufferSize
        let sizeLength = socklen_t(MemoryLayout<Int32>.size)
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeLength) != 0,
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeLength) != 0
        {
            throw fail("setsockopt(SO_RCVBUF)")
        }
        var one: Int32 = 1
        // Extended acks give the kernel's reason in text; capped acks keep NACKs small.
        guard setsockopt(fd, UAPI.solNetlink, UAPI.optExtAck, &one, sizeLength) == 0 else {
            throw fail("setsockopt(NETLINK_EXT_ACK)")
        }
        guard setsockopt(fd, UAPI.solNetlink, UAPI.optCapAck, &one, sizeLength) == 0 else {
            throw fail("setsockopt(NETLINK_CAP_ACK)")
        }
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        var addressLength = socklen_t(MemoryLayout<sockaddr_nl>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, addressLength) }
        }
        guard bound == 0 else { throw fail("bind(AF_NETLINK)") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &addressLength) }
        }
        guard named == 0 else { throw fail("getsockname(AF_NETLINK)") }
        fileDescriptor = fd
        localPortID = address.nl_pid
    }

    deinit { close(fileDescriptor) }

    /// Joins multicast groups so that the kernel sends change notifications to this socket
    /// (`ip monitor`). Use a separate socket for requests: `NetlinkRouteClient` treats unsolicited messages as errors.
    public func subscribe(groups: [NetlinkRouteGroup]) throws(NetlinkError) {
        for g in groups {
            var group = Int32(g.rawValue)
            guard
                setsockopt(fileDescriptor, UAPI.solNetlink, UAPI.optAddMembership, &group, socklen_t(MemoryLayout<Int32>.size))
                    == 0
            else {
                throw .systemCall(call: "setsockopt(NETLINK_ADD_MEMBERSHIP \(g.rawValue))", errno: .current)
            }
        }
    }

    /// Sends one datagram to the kernel (port 0).
    public func send(_ datagram: [UInt8]) throws(NetlinkError) {
        var kernel = sockaddr_nl()
        kernel.nl_family = sa_family_t(AF_NETLINK)
        let sent: Int
        do {
            sent = try retryOnInterrupt {
                datagram.withUnsafeBytes { data in
                    withUnsafePointer(to: &kernel) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(fileDescriptor, data.baseAddress, data.count, 0, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                        }
                    }
                }
            }
        } catch {
            throw .systemCall(call: "sendto", errno: error)
        }
        guard sent == datagram.count else {
            throw .truncated(operation: "", detail: "sendto sent \(sent) of \(datagram.count) bytes")
        }
    }

    /// Receives one whole datagram from the kernel. The datagram's size is peeked first
    /// (`MSG_PEEK|MSG_TRUNC`), so one larger than the current buffer grows it instead of being cut.
    /// A datagram from a sender other than the kernel is an error (`.portMismatch`).
    public func receive(timeoutMilliseconds: Int32) throws(NetlinkError) -> [UInt8] {
        var poller = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        let ready: Int32
        do {
            ready = try retryOnInterrupt { poll(&poller, 1, timeoutMilliseconds) }
        } catch {
            throw .systemCall(call: "poll", errno: error)
        }
        guard ready > 0 else { throw .timeout(operation: "", milliseconds: timeoutMilliseconds) }
        let size = try receive(flags: Int32(MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT)).size
        if size > buffer.count { buffer = Array(repeating: 0, count: netlinkAlign(size)) }
        let (received, sender, flags) = try receive(flags: Int32(MSG_DONTWAIT))
        guard flags & Int32(MSG_TRUNC) == 0 else {
            throw .truncated(operation: "", detail: "datagram larger than the \(buffer.count)-byte buffer")
        }
        guard sender == 0 else { throw .portMismatch(operation: "", expected: 0, received: sender) }
        return Array(buffer[0..<received])
    }

    private func receive(flags: Int32) throws(NetlinkError) -> (size: Int, sender: UInt32, flags: Int32) {
        var from = sockaddr_nl()
        var messageFlags: Int32 = 0
        do {
            let n = try retryOnInterrupt {
                buffer.withUnsafeMutableBytes { data in
                    withUnsafeMutablePointer(to: &from) { fromPointer in
                        var iov = iovec(iov_base: data.baseAddress, iov_len: data.count)
                        return withUnsafeMutablePointer(to: &iov) { iovPointer in
                            var header = msghdr()
                            header.msg_name = UnsafeMutableRawPointer(fromPointer)
                            header.msg_namelen = socklen_t(MemoryLayout<sockaddr_nl>.size)
                            header.msg_iov = iovPointer
                            header.msg_iovlen = 1
                            let n = recvmsg(fileDescriptor, &header, flags)
                            messageFlags = header.msg_flags
                            return n
                        }
                    }
                }
            }
            return (n, from.nl_pid, messageFlags)
        } catch {
            throw .systemCall(call: "recvmsg", errno: error)
        }
    }
}
