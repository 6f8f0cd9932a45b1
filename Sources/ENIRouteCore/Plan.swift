/// What a plan does with one ENI. The raw value is the word logs and `plan --json` show.
public enum ENIState: String, Hashable, Sendable, CustomStringConvertible {
    /// Configured: its interface is found, and its addresses (and, with a table, its routes and
    /// rules) are planned.
    case managed
    /// Listed under `unmanaged` in the configuration: left as it is.
    case unmanaged
    /// No interface has its MAC (detached, or not yet attached): nothing of it is planned here.
    case absent
    /// IMDS has not finished writing its data (a fresh hot attach): left as it is.
    case notReady = "not ready"
    /// Its MAC is on several interfaces that could be ENIs: left as it is, with a warning.
    case ambiguous
    /// Already eniroute's (in its interface group) and taken down by an administrator: the watcher
    /// leaves it, rules and all, until it is up again.
    case down
    /// `eniroute remove`: its objects are deleted.
    case removed

    /// The raw value (`not ready` with its space).
    public var description: String { rawValue }
}

/// What one ENI came to in a plan (for logs, `status` and `plan --json`).
public struct ENIPlan: Hashable, Sendable {
    /// The ENI's MAC.
    public var mac: MACAddress
    /// Its interface, if present.
    public var interfaceName: String?
    /// Its table, if it gets one.
    public var table: UInt32?
    /// Whether it is the primary ENI.
    public var isPrimary: Bool
    /// What the plan does with it.
    public var state: ENIState
}

/// The result of planning: the changes, in the order to apply them, and what was noticed.
public struct Plan: Sendable, Equatable {
    /// Changes in application order.
    public var changes: [Change]
    /// One entry per ENI considered.
    public var enis: [ENIPlan]
    /// Things worth a warning (foreign objects in the way, an interface in another group).
    public var warnings: [String]
    /// Interface names by index, for messages.
    public var names: [Int32: String]

    /// Whether there is nothing to do.
    public var isEmpty: Bool { changes.isEmpty }
}

/// Which ENIs a plan covers; eniroute's objects outside the scope are never deleted.
public enum PlanScope: Sendable, Equatable {
    /// Every ENI IMDS lists. `pending` are listed ENIs whose data is not ready: their objects are kept
    /// as they are. Objects of ENIs no longer listed (detached) are removed.
    case all(pending: Set<MACAddress>)
    /// Only these ENIs (`eniroute apply eth1`).
    case enis(Set<MACAddress>)
}

/// How a plan treats links; `apply` and the watcher differ.
public struct PlanOptions: Sendable, Equatable {
    /// Whether an ENI eniroute already manages (it is in eniroute's interface group) that is down is
    /// left as it is, rules included, until it is up again: the watcher respects an administrator's
    /// `ip link set eth1 down`. `apply` (false) brings every ENI up. A newly attached ENI (not yet in
    /// the group) is brought up either way.
    public var leaveDownENIsAlone: Bool
    /// Which links can be ENIs (`ENILinkPolicy.build` except in tests of the policy itself).
    public var linkPolicy: ENILinkPolicy

    /// Creates options.
    public init(leaveDownENIsAlone: Bool = false, linkPolicy: ENILinkPolicy = .build) {
        self.leaveDownENIsAlone = leaveDownENIsAlone
        self.linkPolicy = linkPolicy
    }
}
