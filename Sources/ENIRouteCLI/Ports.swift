import ENIRouteCore
import ENIRouteIMDS
import ENIRouteSystem

/// The kernel as the commands see it: observe state, apply a batch of changes. The real one speaks
/// rtnetlink (`NetlinkKernel`); tests pass an in-memory kernel. Commands get it wrapped in
/// `GuardedKernel`.
public protocol KernelPort: AnyObject {
    /// Links, addresses, rules and routes (`ip link; ip addr; ip rule; ip route show table all`).
    func observe() throws -> ObservedState
    /// Links only (`ip link`): enough to turn interface names into MACs before IMDS is asked.
    func links() throws -> [Link]
    /// Applies changes in order; one outcome per change (nil = done, else the error's sentence).
    func apply(_ changes: [Change]) -> [ChangeFailure?]
    /// Netlink traffic so far.
    var statistics: KernelStatistics { get }
}

extension KernelPort {
    /// By default, no traffic is counted.
    public var statistics: KernelStatistics { KernelStatistics() }
    /// By default, the links of a full observation.
    public func links() throws -> [Link] { try observe().links }
}

/// Netlink traffic of a run: requests (dumps and changes) and the datagrams that carried them.
public struct KernelStatistics: Sendable, Equatable {
    /// Netlink messages sent.
    public var messagesSent = 0
    /// Datagrams sent.
    public var datagramsSent = 0
    /// Datagrams received (replies, dump parts, ACKs).
    public var datagramsReceived = 0
    /// Creates statistics.
    public init(messagesSent: Int = 0, datagramsSent: Int = 0, datagramsReceived: Int = 0) {
        self.messagesSent = messagesSent
        self.datagramsSent = datagramsSent
        self.datagramsReceived = datagramsReceived
    }
}

/// Why one change failed.
public struct ChangeFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// The kernel's errno, when the kernel refused it.
    public var errno: Errno?
    /// One-line explanation.
    public var message: String
    /// Creates a failure.
    public init(errno: Errno?, message: String) {
        self.errno = errno
        self.message = message
    }
    public var description: String { message }
}

/// How a command wants its IMDS port: the composition root passes these to
/// `CommandEnvironment.makeMetadata`, so the port logs and retries as the command needs.
public struct MetadataOptions {
    /// Receives one line per retry, token refresh and endpoint switch (never the token).
    public var log: (String) -> Void
    /// Retries of one request; nil keeps the client's default.
    public var retryPolicy: RetryPolicy?
    /// Creates options.
    public init(log: @escaping (String) -> Void, retryPolicy: RetryPolicy? = nil) {
        self.log = log
        self.retryPolicy = retryPolicy
    }
}

/// What the commands need from the outside world; `ENIRoute.main` builds the real one, tests
/// build one of doubles. Every command reaches the kernel through `ChangeGuard`
/// (`CommandContext.openKernel`), whatever `makeKernel` returns.
public struct CommandEnvironment {
    /// Environment variables.
    public var variables: [String: String]
    /// Log destination.
    public var sink: any LogSink
    /// Output destination for `plan`/`status` (stdout).
    public var output: any LogSink
    /// Opens the kernel connection (requests and dumps).
    public var makeKernel: () throws -> any KernelPort
    /// Opens IMDS for a configuration.
    public var makeMetadata: (Configuration, MetadataOptions) throws(IMDSError) -> any MetadataPort
    /// Subscribes to the kernel's change notifications and takes the watcher's signals; called by
    /// `watch` before its first read of the kernel, so that no change falls between.
    public var makeWatchEvents: () throws -> any WatchEventSource
    /// Monotonic seconds.
    public var clock: () -> Double
    /// networkd's and udev's run-time state and `networkctl` (`networkd-keep`).
    public var networkd: any NetworkdHost
    /// Reads a file; nil if it does not exist.
    public var readFile: (String) throws(SystemCallError) -> String?
    /// Path of the run lock; nil disables locking.
    public var lockPath: String?

    /// Creates an environment.
    public init(
        variables: [String: String], sink: any LogSink, output: any LogSink, makeKernel: @escaping () throws -> any KernelPort,
        makeMetadata: @escaping (Configuration, MetadataOptions) throws(IMDSError) -> any MetadataPort,
        makeWatchEvents: @escaping () throws -> any WatchEventSource, clock: @escaping () -> Double,
        networkd: any NetworkdHost,
        readFile: @escaping (String) throws(SystemCallError) -> String?, lockPath: String?
    ) {
        self.variables = variables
        self.sink = sink
        self.output = output
        self.makeKernel = makeKernel
        self.makeMetadata = makeMetadata
        self.makeWatchEvents = makeWatchEvents
        self.clock = clock
        self.networkd = networkd
        self.readFile = readFile
        self.lockPath = lockPath
    }
}

/// Process exit codes (sysexits where one fits).
public enum ExitStatus: Int32, Sendable {
    /// Done, or nothing to do.
    case success = 0
    /// An error; see the log.
    case failure = 1
    /// Bad command line.
    case usage = 2
    /// IMDS not ready in time (`EX_TEMPFAIL`); systemd may retry.
    case temporary = 75
}
