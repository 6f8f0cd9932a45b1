import ENIRouteSystem

/// Serialises eniroute runs (a udev storm at boot starts one per ENI) with `flock(2)` on a file
/// under `/run/eniroute/`. The kernel drops the lock when its holder dies, so a stale lock file
/// never blocks; the wait is bounded by `SIGALRM`.
public final class RunLock {
    private let file: LockFile

    /// Takes the lock at `path`, waiting at most `timeout` seconds. `onWait` is called once if
    /// another run holds it.
    public init(path: String, timeout: UInt32, onWait: () -> Void) throws(RunLockError) {
        do {
            file = try LockFile(path: path)
            if try !file.tryLock() {
                onWait()
                try file.lock(timeout: timeout)
            }
        } catch {
            throw RunLockError(path: path, failure: error)
        }
    }
}

/// The lock could not be taken.
public struct RunLockError: Error, ErrnoCarrying, CustomStringConvertible {
    /// The file.
    public var path: String
    /// The system call that failed.
    public var failure: SystemCallError
    public var description: String { "cannot lock \(path): \(failure)" }
    public var errno: Errno? { failure.code }
}

/// Monotonic time in seconds, for durations.
public func monotonicSeconds() -> Double { MonotonicInstant.now().seconds }
