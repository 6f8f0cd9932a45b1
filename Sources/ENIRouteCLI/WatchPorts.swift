import ENIRouteCore
import ENIRouteIMDS

/// What the watcher needs from the outside; `WatchCommand` passes the guarded kernel, IMDS,
/// `flock(2)` and the monotonic clock, tests pass doubles.
struct WatchPorts {
    /// Observes and changes the kernel (the request socket, never the subscribed one).
    var kernel: any KernelPort
    /// IMDS.
    var metadata: any MetadataPort
    /// Makes a new IMDS port after a reload changed the IMDS settings.
    var makeMetadata: (Configuration) throws -> any MetadataPort
    /// Monotonic seconds.
    var clock: () -> Double
    /// Uniform in 0…1 (jitter).
    var random: () -> Double
    /// Takes the run lock for one pass: the held lock (released when dropped), nil when locking
    /// is off; throws `WatchLockBusy` when another run holds it.
    var lock: () throws -> AnyObject?
    /// Throws away the kernel notifications queued so far (the watcher calls it right before it
    /// reads the kernel's state, which then covers them).
    var discardEvents: () -> Void
    /// Reads the configuration again (SIGHUP).
    var reloadConfiguration: () throws -> Configuration
}

/// Another eniroute run holds the lock.
struct WatchLockBusy: Error {}

/// The result of one reconcile pass.
enum ReconcileOutcome: Equatable {
    /// Nothing to do, or every change applied.
    case done(changes: Int)
    /// No IMDS data yet: nothing was planned.
    case skipped
    /// The lock was busy; retried shortly.
    case busy
    /// An error (logged); retried later.
    case failed
}
