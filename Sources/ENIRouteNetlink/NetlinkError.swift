import Glibc

/// An errno value as the kernel reports it in a netlink error message or a failed system call,
/// with its symbolic name (`EEXIST`) and message (`File exists`).
public struct KernelErrno: Hashable, Sendable, CustomStringConvertible {
    /// The positive errno number (`17` for `EEXIST`).
    public var code: Int32

    /// Creates a value from a positive errno number (a negative one, as netlink carries it, is negated).
    public init(_ code: Int32) { self.code = code == Int32.min ? Int32.max : abs(code) }

    /// The symbolic name, `EEXIST`; `errno 123` for numbers not in the table.
    public var name: String { KernelErrno.table[code]?.name ?? "errno \(code)" }

    /// The C library's message, `File exists`.
    public var message: String {
        if let m = KernelErrno.table[code]?.message { return m }
        guard let s = strerror(code) else { return "Unknown error \(code)" }
        return String(cString: s)
    }

    /// `File exists (EEXIST)`.
    public var description: String { "\(message) (\(name))" }

    /// `EPERM`: not permitted (no `CAP_NET_ADMIN`).
    public static let EPERM = KernelErrno(Glibc.EPERM)
    /// `ENOENT`: no such object (address, route or rule to delete).
    public static let ENOENT = KernelErrno(Glibc.ENOENT)
    /// `ESRCH`: no such process; the kernel's answer for a missing route in some paths.
    public static let ESRCH = KernelErrno(Glibc.ESRCH)
    /// `EBUSY`: device or resource busy.
    public static let EBUSY = KernelErrno(Glibc.EBUSY)
    /// `EEXIST`: the object exists already.
    public static let EEXIST = KernelErrno(Glibc.EEXIST)
    /// `ENODEV`: no such interface.
    public static let ENODEV = KernelErrno(Glibc.ENODEV)
    /// `EINVAL`: invalid argument.
    public static let EINVAL = KernelErrno(Glibc.EINVAL)
    /// `ERANGE`: a value out of range.
    public static let ERANGE = KernelErrno(Glibc.ERANGE)
    /// `ENOBUFS`: the socket's receive buffer overflowed (messages were lost).
    public static let ENOBUFS = KernelErrno(Glibc.ENOBUFS)
    /// `ENETUNREACH`: the gateway is not reachable on any route.
    public static let ENETUNREACH = KernelErrno(Glibc.ENETUNREACH)
    /// `EADDRNOTAVAIL`: the address is not on the interface.
    public static let EADDRNOTAVAIL = KernelErrno(Glibc.EADDRNOTAVAIL)
    /// `EAFNOSUPPORT`: address family not supported (IPv6 disabled).
    public static let EAFNOSUPPORT = KernelErrno(Glibc.EAFNOSUPPORT)
    /// `EOPNOTSUPP`: operation not supported.
    public static let EOPNOTSUPP = KernelErrno(Glibc.EOPNOTSUPP)

    private static let table: [Int32: (name: String, message: String)] = [
        Glibc.EPERM: ("EPERM", "Operation not permitted"),
        Glibc.ENOENT: ("ENOENT", "No such file or directory"),
        Glibc.ESRCH: ("ESRCH", "No such process"),
        Glibc.EINTR: ("EINTR", "Interrupted system call"),
        Glibc.EIO: ("EIO", "Input/output error"),
        Glibc.EBADF: ("EBADF", "Bad file descriptor"),
        Glibc.EAGAIN: ("EAGAIN", "Resource temporarily unavailable"),
        Glibc.ENOMEM: ("ENOMEM", "Cannot allocate memory"),
        Glibc.EACCES: ("EACCES", "Permission denied"),
        Glibc.EBUSY: ("EBUSY", "Device or resource busy"),
        Glibc.EEXIST: ("EEXIST", "File exists"),
        Glibc.ENODEV: ("ENODEV", "No such device"),
        Glibc.EINVAL: ("EINVAL", "Invalid argument"),
        Glibc.ENOSPC: ("ENOSPC", "No space left on device"),
        Glibc.ERANGE: ("ERANGE", "Numerical result out of range"),
        Glibc.EMSGSIZE: ("EMSGSIZE", "Message too long"),
        Glibc.EPROTONOSUPPORT: ("EPROTONOSUPPORT", "Protocol not supported"),
        Glibc.EOPNOTSUPP: ("EOPNOTSUPP", "Operation not supported"),
        Glibc.EAFNOSUPPORT: ("EAFNOSUPPORT", "Address family not supported by protocol"),
        Glibc.EADDRINUSE: ("EADDRINUSE", "Address already in use"),
        Glibc.EADDRNOTAVAIL: ("EADDRNOTAVAIL", "Cannot assign requested address"),
        Glibc.ENETDOWN: ("ENETDOWN", "Network is down"),
        Glibc.ENETUNREACH: ("ENETUNREACH", "Network is unreachable"),
        Glibc.ENOBUFS: ("ENOBUFS", "No buffer space available"),
        Glibc.ETIMEDOUT: ("ETIMEDOUT", "Connection timed out"),
        Glibc.EHOSTUNREACH: ("EHOSTUNREACH", "No route to host"),
    ]
}

/// Why a netlink operation failed. Every case names the operation (`rule add from 10.0.2.10
/// lookup 10001`, `route show`) or, for socket failures, the system call.
public enum NetlinkError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kernel refused the request (`NLMSG_ERROR` with a negative errno), with its extended-ack
    /// message if it sent one (`NETLINK_EXT_ACK`).
    case kernel(operation: String, errno: KernelErrno, message: String?)
    /// A message or datagram ended before the length its header claims, or was cut by the socket.
    case truncated(operation: String, detail: String)
    /// A reply carried a sequence number that belongs to no outstanding request.
    case sequenceMismatch(operation: String, expected: UInt32, received: UInt32)
    /// A reply was addressed to another port id than this socket's, or came from a sender other than the kernel.
    case portMismatch(operation: String, expected: UInt32, received: UInt32)
    /// No reply arrived within the receive timeout.
    case timeout(operation: String, milliseconds: Int32)
    /// The kernel kept flagging the dump as inconsistent (`NLM_F_DUMP_INTR`) after every retry.
    case dumpInterrupted(operation: String, attempts: Int)
    /// A system call on the socket failed.
    case systemCall(call: String, errno: KernelErrno)
    /// An attribute has a length or value that does not fit its type.
    case malformedAttribute(operation: String, type: UInt16, detail: String)
    /// A reply of a type that the operation does not expect (`NLMSG_OVERRUN`, an ACK for a dump, …).
    case unexpectedMessage(operation: String, type: UInt16)

    /// The kernel's errno for `.kernel` and `.systemCall`, else nil.
    public var errno: KernelErrno? {
        switch self {
        case .kernel(_, let e, _), .systemCall(_, let e): return e
        default: return nil
        }
    }

    /// The operation (or system call) that failed.
    public var operation: String {
        switch self {
        case .kernel(let o, _, _), .truncated(let o, _), .sequenceMismatch(let o, _, _), .portMismatch(let o, _, _),
            .timeout(let o, _), .dumpInterrupted(let o, _), .systemCall(let o, _), .malformedAttribute(let o, _, _),
            .unexpectedMessage(let o, _):
            return o
        }
    }

    /// One line: `rule add from 10.0.2.10 lookup 10001: File exists (EEXIST)`, with `; kernel: …`
    /// appended when the kernel sent an extended-ack message.
    public var description: String {
        switch self {
        case .kernel(let op, let e, let m):
            return "\(op): \(e)" + (m.map { "; kernel: \($0)" } ?? "")
        case .truncated(let op, let d):
            return "\(op): truncated netlink reply: \(d)"
        case .sequenceMismatch(let op, let expected, let received):
            return "\(op): netlink reply with unknown sequence number \(received) (expected \(expected))"
        case .portMismatch(let op, let expected, let received):
            return "\(op): netlink reply for port id \(received), not this socket's \(expected)"
        case .timeout(let op, let ms):
            return "\(op): no netlink reply within \(ms) ms"
        case .dumpInterrupted(let op, let n):
            return "\(op): dump interrupted by concurrent changes \(n) times (NLM_F_DUMP_INTR)"
        case .systemCall(let call, let e):
            return "\(call): \(e)"
        case .malformedAttribute(let op, let t, let d):
            return "\(op): malformed netlink attribute type \(t): \(d)"
        case .unexpectedMessage(let op, let t):
            return "\(op): unexpected netlink message type \(t)"
        }
    }

    /// This error with `operation` filled in where the socket layer left it empty.
    func named(_ operation: String) -> NetlinkError {
        switch self {
        case .truncated("", let d): return .truncated(operation: operation, detail: d)
        case .timeout("", let ms): return .timeout(operation: operation, milliseconds: ms)
        case .portMismatch("", let e, let r): return .portMismatch(operation: operation, expected: e, received: r)
        case .sequenceMismatch("", let e, let r): return .sequenceMismatch(operation: operation, expected: e, received: r)
        case .unexpectedMessage("", let t): return .unexpectedMessage(operation: operation, type: t)
        case .malformedAttribute("", let t, let d): return .malformedAttribute(operation: operation, type: t, detail: d)
        case .systemCall(let call, let e): return .systemCall(call: "\(operation): \(call)", errno: e)
        default: return self
        }
    }
}
