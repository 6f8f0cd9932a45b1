/// A failed system call: which call (with its object, `open /run/eniroute/lock`) and its errno.
public struct SystemCallError: Error, ErrnoCarrying, Equatable, CustomStringConvertible {
    /// The call, with what it was called on.
    public var call: String
    /// Its errno.
    public var code: Errno
    /// Creates an error.
    public init(_ call: String, _ code: Errno) {
        self.call = call
        self.code = code
    }
    /// `open /run/eniroute/lock: Permission denied (EACCES)`.
    public var description: String { "\(call): \(code)" }
    public var errno: Errno? { code }
}
