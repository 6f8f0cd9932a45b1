import ENIRouteCore

/// The kernel as the commands see it: observe state, apply a batch of changes. The real one speaks
/// rtnetlink; tests pass a fake.
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
    /// Fakes report no traffic.
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
    public var errno: Int32?
    /// One-line explanation.
    public var message: String
    /// Creates a failure.
    public init(errno: Int32?, message: String) {
        self.errno = errno
        self.message = message
    }
    public var description: String { message }
}

/// What IMDS said, for the ENIs asked about.
public struct MetadataSnapshot: Sendable {
    /// The ready ENIs.
    public var facts: InstanceFacts
    /// ENIs whose data was not ready by the deadline, with the reason.
    public var pending: [MACAddress: String]
    /// Creates a snapshot.
    public init(facts: InstanceFacts, pending: [MACAddress: String]) {
        self.facts = facts
        self.pending = pending
    }
}

/// An IMDS failure as the commands report it.
public struct MetadataFailure: Error, CustomStringConvertible {
    /// The sentence to log.
    public var message: String
    /// Whether a later retry may succeed (exit 75) rather than a permanent error (exit 1).
    public var temporary: Bool
    /// Creates a failure.
    public init(message: String, temporary: Bool) {
        self.message = message
        self.temporary = temporary
    }
    public var description: String { message }
}

/// IMDS as the commands see it.
public protocol MetadataPort: AnyObject {
    /// Fetches the ENIs with these MACs (nil: every ENI IMDS lists), waiting for propagation
    /// within the deadline. Throws `MetadataFailure` or `FactsError`.
    func fetch(macs: [MACAddress]?) throws -> MetadataSnapshot
    /// Requests sent and connections opened so far.
    var statistics: (requests: Int, connections: Int) { get }
}

/// What the commands need from the outside world; `ENIRoute.main` builds the real one.
public struct Environment {
    /// Environment variables.
    public var variables: [String: String]
    /// Log destination.
    public var sink: any LogSink
    /// Output destination for `plan`/`status` (stdout).
    public var output: any LogSink
    /// Opens the kernel connection.
    public var makeKernel: () throws -> any KernelPort
    /// Opens the IMDS connection for a configuration.
    public var makeMetadata: (Configuration) throws -> any MetadataPort
    /// Reads a file; nil if it does not exist.
    public var readFile: (String) throws -> String?
    /// Path of the run lock; nil disables locking.
    public var lockPath: String?

    /// Creates an environment.
    public init(
        variables: [String: String], sink: any LogSink, output: any LogSink, makeKernel: @escaping () throws -> any KernelPort,
        makeMetadata: @escaping (Configuration) throws -> any MetadataPort, readFile: @escaping (String) throws -> String?,
        lockPath: String?
    ) {
        self.variables = variables
        self.sink = sink
        self.output = output
        self.makeKernel = makeKernel
        self.makeMetadata = makeMetadata
        self.readFile = readFile
        self.lockPath = lockPath
    }
}

/// Process exit codes (sysexits where one fits).
public enum ExitCode: Int32, Sendable {
    /// Done, or nothing to do.
    case success = 0
    /// An error; see the log.
    case failure = 1
    /// Bad command line.
    case usage = 2
    /// IMDS not ready in time (`EX_TEMPFAIL`); systemd may retry.
    case temporary = 75
}
