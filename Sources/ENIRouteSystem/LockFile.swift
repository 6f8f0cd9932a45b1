#if canImport(Glibc)
    import Glibc
#endif

/// A lock file taken with `flock(2)` (exclusive). The kernel drops the lock when its holder dies,
/// so a stale file never blocks; `unlock` or dropping the value releases it.
public final class LockFile {
    /// The file.
    public let path: String
    private let fd: Int32

    /// Opens (creates) the file, and its directory when missing; does not lock yet.
    public init(path: String) throws(SystemCallError) {
        self.path = path
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            let dir = String(path[..<slash])
            if mkdir(dir, 0o755) != 0 && errno != EEXIST { throw SystemCallError("mkdir \(dir)", .current) }
        }
        do {
            fd = try retryOnInterrupt { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        } catch {
            throw SystemCallError("open \(path)", error)
        }
    }

    deinit { close(fd) }

    /// Takes the lock if nobody holds it; false when another process does.
    public func tryLock() throws(SystemCallError) -> Bool {
        do {
            _ = try retryOnInterrupt { flock(fd, LOCK_EX | LOCK_NB) }
            return true
        } catch .wouldBlock {
            return false
        } catch {
            throw SystemCallError("flock \(path)", error)
        }
    }

    /// Takes the lock, waiting at most `timeout` seconds (at least 1) for its holder; the wait is
    /// bounded by `SIGALRM`.
    public func lock(timeout: UInt32) throws(SystemCallError) {
        if try tryLock() { return }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0  // no SA_RESTART: flock returns EINTR when the alarm fires
        var old = sigaction()
        sigaction(SIGALRM, &action, &old)
        alarm(max(timeout, 1))
        let r = flock(fd, LOCK_EX)
        let e = Errno.current
        alarm(0)
        sigaction(SIGALRM, &old, nil)
        guard r == 0 else {
            throw SystemCallError(e == .interrupted ? "flock \(path) (timed out after \(timeout) s)" : "flock \(path)", e)
        }
    }

    /// Releases the lock.
    public func unlock() { flock(fd, LOCK_UN) }
}
