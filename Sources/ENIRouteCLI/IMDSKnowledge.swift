import ENIRouteCore
import ENIRouteIMDS

/// A line the watcher's pure parts ask it to log.
struct LogLine: Equatable {
    var level: LogLevel
    var message: String
}

/// What the watcher knows from IMDS. Pure: the watcher reads IMDS and hands the answers over;
/// only successful answers change what is known. A failed or partial read keeps the last good
/// facts of every ENI it could not read; only a successful listing that no longer names a MAC,
/// or a successful read that no longer lists an address, removes it.
struct IMDSKnowledge: Equatable {
    /// The primary ENI's MAC, once read (it does not change while the instance runs).
    var primaryMAC: MACAddress?
    /// The ENIs of the last successful listing, in IMDS's order.
    private(set) var listed: [MACAddress] = []
    /// Listed ENIs whose data is complete.
    private(set) var ready: [MACAddress: ENIFacts] = [:]
    /// Listed ENIs whose data is still propagating, with the reason.
    private(set) var pending: [MACAddress: String] = [:]
    /// Whether a listing ever succeeded (before that, nothing is reconciled).
    private(set) var hasListing = false
    /// Set when a reload changed what is read (`unmanaged`): the next poll reads every ENI in full.
    var fullReadNextPoll = false
    /// Ready ENIs whose interface left the kernel or came back with a new index: detached and
    /// perhaps re-attached, maybe with another device number. Their next read is a full one.
    var reattached: Set<MACAddress> = []

    /// The facts to plan with, once IMDS answered.
    var facts: InstanceFacts? {
        guard hasListing, let primaryMAC else { return nil }
        return InstanceFacts(primaryMAC: primaryMAC, enis: listed.compactMap { ready[$0] })
    }

    /// The facts a cheap re-read of `mac`'s addresses starts from; nil when it must be read in
    /// full (seen for the first time, re-attached, or a full poll was asked for).
    func addressReadBase(_ mac: MACAddress) -> ENIFacts? {
        guard !fullReadNextPoll, !reattached.contains(mac) else { return nil }
        return ready[mac]
    }

    /// Takes a poll's answers after a successful listing `macs`.
    mutating func takePoll(
        listed macs: [MACAddress], answers: IMDSAnswers, name: (MACAddress) -> String
    ) -> KnowledgeUpdate {
        var newReady = answers.ready
        // A successful listing is the one thing that can say an ENI is gone.
        for mac in ready.keys where !macs.contains(mac) { newReady[mac] = nil }
        reattached.subtract(answers.readInFull)
        reattached.formIntersection(macs)
        if fullReadNextPoll && answers.failure == nil { fullReadNextPoll = false }
        hasListing = true
        return take(listed: macs, ready: newReady, pending: answers.pending, name: name)
    }

    /// Takes the answers of a re-read of the pending ENIs only.
    mutating func takePendingRetry(_ answers: IMDSAnswers, name: (MACAddress) -> String) -> KnowledgeUpdate {
        take(listed: listed, ready: answers.ready, pending: answers.pending, name: name)
    }

    /// Takes new knowledge: the lines that say what changed, and whether anything did (then a
    /// reconcile is due).
    private mutating func take(
        listed newListed: [MACAddress], ready newReady: [MACAddress: ENIFacts], pending newPending: [MACAddress: String],
        name: (MACAddress) -> String
    ) -> KnowledgeUpdate {
        var update = KnowledgeUpdate()
        for mac in newListed {
            if let line = Self.change(of: name(mac), from: ready[mac], to: newReady[mac]) {
                update.lines.append(LogLine(level: .notice, message: line))
                update.changed = true
            }
            if let reason = newPending[mac], pending[mac] == nil {
                update.lines.append(
                    LogLine(level: .info, message: "IMDS: ENI \(name(mac)) is listed but its data is not ready yet (\(reason))"))
            }
        }
        for mac in ready.keys.sorted() where newReady[mac] == nil {
            update.lines.append(
                LogLine(
                    level: .notice, message: "IMDS: ENI \(name(mac)) is no longer attached; removing eniroute's objects for it"))
            update.changed = true
        }
        if Set(newPending.keys) != Set(pending.keys) { update.changed = true }
        if newListed != listed && !update.changed {
            update.lines.append(LogLine(level: .debug, message: "IMDS: listing order changed"))
        }
        listed = newListed
        ready = newReady.filter { newListed.contains($0.key) }
        pending = newPending.filter { newListed.contains($0.key) }
        return update
    }

    /// The notice for one listed ENI whose facts changed, if they did.
    static func change(of name: String, from old: ENIFacts?, to new: ENIFacts?) -> String? {
        guard let new, new != old else { return nil }
        guard let old else {
            return "IMDS: ENI \(name) is ready: device \(new.deviceNumber), card \(new.networkCard), " + addressList(new)
        }
        if new.deviceNumber != old.deviceNumber || new.networkCard != old.networkCard {
            return "IMDS: ENI \(name) was re-attached: device \(old.deviceNumber), card \(old.networkCard) "
                + "→ device \(new.deviceNumber), card \(new.networkCard); moving it to its new table"
        }
        let before = Set(addresses(old))
        let after = Set(addresses(new))
        let added = addresses(new).filter { !before.contains($0) }
        let removed = addresses(old).filter { !after.contains($0) }
        var parts: [String] = []
        if !added.isEmpty { parts.append("assigned " + added.joined(separator: ", ")) }
        if !removed.isEmpty { parts.append("unassigned " + removed.joined(separator: ", ")) }
        return "IMDS: ENI \(name): " + (parts.isEmpty ? "data changed" : parts.joined(separator: "; "))
    }

    static func addresses(_ f: ENIFacts) -> [String] {
        f.ipv4Addresses.map(\.description) + f.ipv6Addresses.map(\.description) + f.ipv4Prefixes.map(\.description)
            + f.ipv6Prefixes.map(\.description)
    }

    static func addressList(_ f: ENIFacts) -> String {
        let a = addresses(f)
        return a.isEmpty ? "no addresses" : a.joined(separator: ", ")
    }
}

/// What `IMDSKnowledge.takePoll` and `takePendingRetry` report.
struct KnowledgeUpdate: Equatable {
    /// What changed, to log.
    var lines: [LogLine] = []
    /// Whether the facts to plan with (or the pending set) changed.
    var changed = false
}

/// One poll's answers, gathered ENI by ENI on top of what was known before it.
struct IMDSAnswers: Equatable {
    /// Ready ENIs: the known ones, replaced by each successful read.
    var ready: [MACAddress: ENIFacts]
    /// ENIs not ready yet (only ENIs never ready before).
    var pending: [MACAddress: String]
    /// ENIs read in full successfully.
    var readInFull: Set<MACAddress> = []
    /// The first failure of the poll.
    var failure: IMDSFailure?

    /// Answers of a full poll start with nothing pending; a pending re-read starts from the
    /// pending ENIs.
    init(from known: IMDSKnowledge, keepingPending: Bool) {
        ready = known.ready
        pending = keepingPending ? known.pending : [:]
    }

    /// The answer to re-reading a ready ENI's addresses: not ready counts as a failure that
    /// keeps its last good facts.
    mutating func addressRead(_ mac: MACAddress, _ result: Result<ENIReading, IMDSError>) {
        switch result {
        case .success(.ready(let f)): ready[mac] = f
        case .success(.notReady(let reason)):
            failure = failure ?? IMDSFailure(message: "\(mac): \(reason)", level: .warning, temporary: true)
        case .failure(let e): failure = failure ?? IMDSFailure(e, context: "\(mac)")
        }
    }

    /// The answer to a full read of an ENI; `wasReady` ENIs keep their last good facts.
    mutating func fullRead(_ mac: MACAddress, _ result: Result<ENIReading, IMDSError>, wasReady: Bool) {
        switch result {
        case .success(.ready(let f)):
            ready[mac] = f
            pending[mac] = nil
            readInFull.insert(mac)
        case .success(.notReady(let reason)): if !wasReady { pending[mac] = reason }
        case .failure(let e):
            let f = IMDSFailure(e, context: "\(mac)")
            failure = failure ?? f
            if !wasReady && pending[mac] == nil { pending[mac] = "IMDS read failed (\(f.message))" }
        }
    }
}
