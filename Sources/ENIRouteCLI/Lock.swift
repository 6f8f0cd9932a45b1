#if canImport(Glibc)
    import Glibc
#endif

/// Serialises eniroute runs (a udev storm at boot starts one per ENI) with `flock(2)` on a file
/// under `/run/eniroute/`. The kernel drops the lock when its holder dies, so a stale lock file
/// never blocks; the wait is bounded by `SIGALRM`.
public final class RunLock {
    private let fd: Int32

    /// Takes the lock at `path`, waiting at most `timeout` seconds. `onWait` is called once if
    /// another run holds it.
    public init(path: String, timeout: UInt32, onWait: () -> Void) throws(RunLockError) {
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            let dir = String(path[..<slash])
            if mkdir(dir, 0o755) != 0 && errno != EEXIST { throw RunLockError(path: dir, call: "mkdir", code: errno) }
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RunLockError(path: path, call: "open", code: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            guard e == EWOULDBLOCK else {
                close(fd)
                throw RunLockError(path: path, call: "flock", code: e)
            }
            onWait()
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0  // no SA_RESTART: flock returns EINTR when the alarm fires
            var old = sigaction()
            sigaction(SIGALRM, &action, &old)
            alarm(max(timeout, 1))
            let r = flock(fd, LOCK_EX)
            let e2 = errno
            alarm(0)
            sigaction(SIGALRM, &old, nil)
            if r != 0 {
                close(fd)
                throw RunLockError(path: path, call: e2 == EINTR ? "flock (timed out after \(timeout) s)" : "flock", code: e2)
            }
        }
        self.fd = fd
    }

    deinit { close(fd) }
}

/// The lock could not be taken.
public struct RunLockError: Error, CustomStringConvertible {
    /// The file.
    public var path: String
    /// The failing call.
    public var call: String
    /// errno.
    public var code: Int32
    public var description: String { "cannot lock \(path): \(call): \(String(cString: strerror(code)))" }
}

/// Monotonic time in seconds, for durations.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
