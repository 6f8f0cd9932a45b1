import ENIRouteSystem

/// Why a netlink operation failed. Every case names the operation (`rule add from 10.0.2.10
/// lookup 10001`, `route show`) or, for socket failures, the system call.
public enum NetlinkError: Error, ErrnoCarrying, Hashable, Sendable, CustomStringConvertible {
    /// The kernel refused the request (`NLMSG_ERROR` with a negative errno), with its extended-ack
    /// message if it sent one (`NETLINK_EXT_ACK`).
    case kernel(operation: String, errno: Errno, message: String?)
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
    case systemCall(call: String, errno: Errno)
    /// An attribute has a length or value that does not fit its type.
    case malformedAttribute(operation: String, type: UInt16, detail: String)
    /// A reply of a type that the operation does not expect (`NLMSG_OVERRUN`, an ACK for a dump, …).
    case unexpectedMessage(operation: String, type: UInt16)

    /// The kernel's errno for `.kernel` and `.systemCall`, else nil.
    public var errno: Errno? {
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
