#if canImport(Glibc)
    import Glibc
#endif

/// An errno value, as a failed system call sets it or a netlink error message carries it, with
/// its symbolic name (`EEXIST`) and the C library's message (`File exists`). Named values are
/// pattern-matchable in `catch`, also against errors that carry an errno (`ErrnoCarrying`):
///
///     do { try kernel.addressAdd(a) } catch Errno.fileExists { … }
public struct Errno: Error, RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The positive errno number (`17` for `EEXIST`).
    public var rawValue: Int32

    /// Creates a value from an errno number; a negative one, as netlink carries it, is negated.
    public init(rawValue: Int32) { self.rawValue = rawValue == Int32.min ? Int32.max : abs(rawValue) }

    /// Creates a value from an errno number (see `init(rawValue:)`).
    public init(_ rawValue: Int32) { self.init(rawValue: rawValue) }

    /// The calling thread's `errno` now.
    public static var current: Errno { Errno(rawValue: Glibc.errno) }

    /// The symbolic name, `EEXIST`; `errno 123` for numbers without a name here.
    public var name: String { Errno.names[rawValue] ?? "errno \(rawValue)" }

    /// The C library's message, `File exists`.
    public var message: String {
        guard let s = strerror(rawValue) else { return "Unknown error \(rawValue)" }
        return String(cString: s)
    }

    /// `File exists (EEXIST)`.
    public var description: String { "\(message) (\(name))" }

    /// Matches an error that is this errno or carries it (`catch Errno.fileExists`).
    public static func ~= (pattern: Errno, error: any Error) -> Bool {
        if let e = error as? Errno { return e == pattern }
        return (error as? any ErrnoCarrying)?.errno == pattern
    }
}

/// An error that may carry the errno it came from (a kernel's refusal, a failed system call).
public protocol ErrnoCarrying: Error {
    /// The errno, if this error has one.
    var errno: Errno? { get }
}

extension Errno {
    /// `EPERM`: operation not permitted (no `CAP_NET_ADMIN`).
    public static let notPermitted = Errno(EPERM)
    /// `ENOENT`: no such file or directory; no such object (a route or rule to delete).
    public static let noSuchFileOrDirectory = Errno(ENOENT)
    /// `ESRCH`: no such process; the kernel's answer for a missing route in some paths.
    public static let noSuchProcess = Errno(ESRCH)
    /// `EINTR`: a signal interrupted the call.
    public static let interrupted = Errno(EINTR)
    /// `EBADF`: bad file descriptor.
    public static let badFileDescriptor = Errno(EBADF)
    /// `EAGAIN` (= `EWOULDBLOCK`): the call would block.
    public static let wouldBlock = Errno(EAGAIN)
    /// `ENOMEM`: out of memory.
    public static let noMemory = Errno(ENOMEM)
    /// `EACCES`: permission denied.
    public static let permissionDenied = Errno(EACCES)
    /// `EISDIR`: is a directory (a file was expected).
    public static let isADirectory = Errno(EISDIR)
    /// `EFBIG`: file too large.
    public static let fileTooLarge = Errno(EFBIG)
    /// `EBUSY`: device or resource busy.
    public static let resourceBusy = Errno(EBUSY)
    /// `EEXIST`: the object exists already.
    public static let fileExists = Errno(EEXIST)
    /// `ENODEV`: no such device (interface).
    public static let noSuchDevice = Errno(ENODEV)
    /// `EINVAL`: invalid argument.
    public static let invalidArgument = Errno(EINVAL)
    /// `EMFILE`: too many open files in this process.
    public static let tooManyOpenFiles = Errno(EMFILE)
    /// `ENFILE`: too many open files in the system.
    public static let tooManyOpenFilesInSystem = Errno(ENFILE)
    /// `ERANGE`: a value out of range.
    public static let outOfRange = Errno(ERANGE)
    /// `EOPNOTSUPP`: operation not supported.
    public static let notSupported = Errno(EOPNOTSUPP)
    /// `EAFNOSUPPORT`: address family not supported (IPv6 disabled).
    public static let addressFamilyNotSupported = Errno(EAFNOSUPPORT)
    /// `EADDRNOTAVAIL`: the address is not on the interface (cannot assign requested address).
    public static let addressNotAvailable = Errno(EADDRNOTAVAIL)
    /// `ENETUNREACH`: network is unreachable (no route; or an `unreachable` route).
    public static let networkUnreachable = Errno(ENETUNREACH)
    /// `EHOSTUNREACH`: no route to host (also a `prohibit` route or an ICMP host-unreachable).
    public static let hostUnreachable = Errno(EHOSTUNREACH)
    /// `ENOBUFS`: no buffer space; a netlink socket's receive buffer overflowed.
    public static let noBufferSpace = Errno(ENOBUFS)
    /// `ECONNREFUSED`: connection refused.
    public static let connectionRefused = Errno(ECONNREFUSED)
    /// `ECONNRESET`: connection reset by peer.
    public static let connectionReset = Errno(ECONNRESET)
    /// `ECONNABORTED`: connection aborted.
    public static let connectionAborted = Errno(ECONNABORTED)
    /// `EINPROGRESS`: a non-blocking connect is under way.
    public static let inProgress = Errno(EINPROGRESS)
    /// `ETIMEDOUT`: connection timed out.
    public static let timedOut = Errno(ETIMEDOUT)

    private static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO", EBADF: "EBADF", EAGAIN: "EAGAIN",
        ENOMEM: "ENOMEM", EACCES: "EACCES", EBUSY: "EBUSY", EEXIST: "EEXIST", EISDIR: "EISDIR", EFBIG: "EFBIG", ENODEV: "ENODEV",
        EINVAL: "EINVAL",
        ENFILE: "ENFILE", EMFILE: "EMFILE", ENOSPC: "ENOSPC", EPIPE: "EPIPE", ERANGE: "ERANGE", EMSGSIZE: "EMSGSIZE",
        EPROTONOSUPPORT: "EPROTONOSUPPORT", EOPNOTSUPP: "EOPNOTSUPP", EAFNOSUPPORT: "EAFNOSUPPORT", EADDRINUSE: "EADDRINUSE",
        EADDRNOTAVAIL: "EADDRNOTAVAIL", ENETDOWN: "ENETDOWN", ENETUNREACH: "ENETUNREACH", ECONNABORTED: "ECONNABORTED",
        ECONNRESET: "ECONNRESET", ENOBUFS: "ENOBUFS", ETIMEDOUT: "ETIMEDOUT", ECONNREFUSED: "ECONNREFUSED",
        EHOSTUNREACH: "EHOSTUNREACH", EINPROGRESS: "EINPROGRESS",
    ]
}
