import ENIRouteCore
import ENIRouteIMDS
import ENIRouteNetlink

/// What the watcher needs from the outside; the real loop passes rtnetlink, IMDS, `flock(2)` and
/// the monotonic clock, tests pass fakes.
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

/// The decision logic of `eniroute watch`: what to do on each timer, kernel event, IMDS answer,
/// failure and signal. The event loop (`WatchLoop`) is a thin shell around it; every decision is
/// here, so it is tested with a fake clock, kernel and IMDS.
///
/// Rules it keeps:
/// - IMDS facts are replaced only by successful answers. A failed or partial read keeps the last
///   good facts of every ENI it could not read; only a successful listing that no longer names a
///   MAC, or a successful read that no longer lists an address, removes it.
/// - One warning per IMDS failure streak, one notice when IMDS answers again.
/// - Kernel drift is reconciled `WatchSchedule.debounceQuiet` after the last relevant event and
///   at most `WatchSchedule.debounceLimit` after the first; its own changes are not events for it.
final class Watcher {
    private(set) var configuration: Configuration
    /// `--interval`, which wins over the configuration's `watch-interval`.
    let intervalOverride: Double?
    private(set) var schedule: WatchSchedule
    private var ports: WatchPorts
    let log: Logger

    // IMDS knowledge.
    private(set) var primaryMAC: MACAddress?
    private(set) var listed: [MACAddress] = []
    private(set) var ready: [MACAddress: ENIFacts] = [:]
    private(set) var pending: [MACAddress: String] = [:]
    /// Whether a listing ever succeeded (before that, nothing is reconciled).
    private(set) var hasListing = false
    private var fullReadNextPoll = false
    private var pendingSince: Double?

    // IMDS failures.
    private(set) var failureStreak = 0
    private var failureStreakStart = 0.0
    private var lastFailureTemporary = true

    // Links.
    private var linkNames: [MACAddress: String] = [:]
    /// The interface index of each MAC at the last reconcile (nil before the first).
    private var linkIndexes: [MACAddress: Int32]?
    private var unknownLinks: [MACAddress: Int] = [:]
    /// Ready ENIs whose interface left the kernel or came back with a new index: detached and
    /// perhaps re-attached, maybe with another device number. Their next IMDS read is a full one.
    private(set) var reattachedMACs: Set<MACAddress> = []

    // Reconcile.
    private var lastWarnings: Set<String> = []
    private var lastReconcileError: String?
    private var reconcileFailures = 0
    private var lockBusyLogged = false
    /// Passes run and changes applied (for tests and the `--once` summary).
    private(set) var reconcileCount = 0
    private(set) var changesApplied = 0
    /// Polls of IMDS (full polls, pending re-reads).
    private(set) var pollCount = 0
    private(set) var pendingRetryCount = 0

    init(configuration: Configuration, intervalOverride: Double?, ports: WatchPorts, logger: Logger) {
        self.configuration = configuration
        self.intervalOverride = intervalOverride
        self.ports = ports
        self.log = logger
        schedule = WatchSchedule(interval: intervalOverride ?? configuration.watchInterval, now: ports.clock())
    }

    var interval: Double { schedule.interval }

    /// Deadline of one poll's IMDS requests: a few request timeouts, never more than the run deadline.
    var pollDeadline: Double {
        min(configuration.imdsDeadline, max(3, 2 * configuration.imdsRequestTimeout))
    }

    /// The facts to plan with, once IMDS answered.
    var facts: InstanceFacts? {
        guard hasListing, let primaryMAC else { return nil }
        return InstanceFacts(primaryMAC: primaryMAC, enis: listed.compactMap { ready[$0] })
    }

    // MARK: Events

    /// Runs whatever is due at the clock's current time.
    func tick() {
        var now = ports.clock()
        if now >= schedule.nextPoll || (schedule.probeDue.map { now >= $0 } ?? false) {
            poll()
            now = ports.clock()
        } else if let due = schedule.pendingRetryDue, now >= due {
            retryPending()
            now = ports.clock()
        }
        if let due = schedule.reconcileDue, now >= due { reconcile() }
    }

    /// Kernel notifications arrived.
    func kernelEvents(_ batch: RouteNetlinkEventBatch) {
        let now = ports.clock()
        if batch.overflowed {
            log.warning("netlink: change notifications were lost (ENOBUFS); reading the whole state again")
            schedule.requestReconcile(at: now)
        }
        let relevant = batch.events.filter(Self.isRelevant)
        if !relevant.isEmpty {
            log.debug("kernel: \(relevant.count) relevant change notification\(relevant.count == 1 ? "" : "s")")
            schedule.noteKernelEvent(at: now)
        }
    }

    /// Whether a notification can mean that eniroute has something to do: any link or address
    /// change, eniroute's own rules, and routes in eniroute's or other per-ENI tables (≥ 256,
    /// not local/main/default).
    static func isRelevant(_ event: RouteNetlinkEvent) -> Bool {
        switch event {
        case .linkNew, .linkDeleted, .addressNew, .addressDeleted: return true
        case .ruleNew(let r), .ruleDeleted(let r): return r.isOwned
        case .routeNew(let r), .routeDeleted(let r): return r.isOwned || r.table >= 256
        }
    }

    /// SIGHUP: read the configuration again; an invalid one is logged and the old one kept.
    func reload() {
        let now = ports.clock()
        let new: Configuration
        do {
            new = try ports.reloadConfiguration()
        } catch {
            log.error("SIGHUP: configuration not reloaded: \(error); keeping the previous configuration")
            return
        }
        let old = configuration
        if new == old {
            log.notice("SIGHUP: configuration reloaded, unchanged")
            return
        }
        if new.imdsEndpoints != old.imdsEndpoints || new.imdsV1 != old.imdsV1 || new.imdsRequestTimeout != old.imdsRequestTimeout
            || new.unmanaged != old.unmanaged
        {
            do {
                ports.metadata = try ports.makeMetadata(new)
            } catch {
                log.error("SIGHUP: configuration not reloaded: \(error); keeping the previous configuration")
                return
            }
            schedule.nextPoll = now
        }
        if new.unmanaged != old.unmanaged { fullReadNextPoll = true }
        configuration = new
        let newInterval = intervalOverride ?? new.watchInterval
        if newInterval != schedule.interval {
            schedule.interval = newInterval
            schedule.nextPoll = min(schedule.nextPoll, now + newInterval)
        }
        log.notice("SIGHUP: configuration reloaded (IMDS poll every \(Self.seconds(schedule.interval)))")
        schedule.requestReconcile(at: now)
    }

    // MARK: IMDS

    /// One failed or partial read, as logged.
    private struct Failure {
        var message: String
        var level: LogLevel
        var temporary: Bool
    }

    private static func failure(_ error: IMDSError, context: String? = nil) -> Failure {
        let prefix = context.map { "\($0): " } ?? ""
        if case .invalidFacts(let e) = error {
            return Failure(message: prefix + "refusing IMDS data: \(e)", level: .error, temporary: false)
        }
        return Failure(message: prefix + error.description, level: .warning, temporary: error.isTemporary)
    }

    /// A full poll: the listing, then per ENI the changeable keys (or everything, for an ENI
    /// seen for the first time). Only successful answers change the facts.
    func poll() {
        pollCount += 1
        ports.metadata.begin(deadline: pollDeadline)
        var failure: Failure?
        do throws(IMDSError) {
            if primaryMAC == nil { primaryMAC = try ports.metadata.primaryMAC() }
            let primary = primaryMAC!
            let macs = try ports.metadata.macs()
            var newReady = ready
            var newPending: [MACAddress: String] = [:]
            let full = fullReadNextPoll
            for mac in macs {
                if let known = ready[mac], !full, !reattachedMACs.contains(mac) {
                    do throws(IMDSError) {
                        switch try ports.metadata.addressFacts(of: known) {
                        case .ready(let updated): newReady[mac] = updated
                        case .notReady(let reason):
                            failure = failure ?? Failure(message: "\(mac): \(reason)", level: .warning, temporary: true)
                        }
                    } catch {
                        failure = failure ?? Self.failure(error, context: "\(mac)")
                    }
                } else {
                    do throws(IMDSError) {
                        switch try ports.metadata.eniFacts(mac: mac, isPrimary: mac == primary) {
                        case .ready(let f):
                            newReady[mac] = f
                            reattachedMACs.remove(mac)
                        case .notReady(let reason): if ready[mac] == nil { newPending[mac] = reason }
                        }
                    } catch {
                        let f = Self.failure(error, context: "\(mac)")
                        failure = failure ?? f
                        if ready[mac] == nil { newPending[mac] = "IMDS read failed (\(f.message))" }
                    }
                }
            }
            // A successful listing is the one thing that can say an ENI is gone.
            for mac in ready.keys where !macs.contains(mac) { newReady[mac] = nil }
            reattachedMACs.formIntersection(macs)
            if full && failure == nil { fullReadNextPoll = false }
            hasListing = true
            commit(listed: macs, ready: newReady, pending: newPending)
        } catch {
            failure = Self.failure(error)
        }
        noteOutcome(failure)
        let now = ports.clock()
        schedule.polled(at: now, random: ports.random())
        // Before IMDS ever answered (a boot where IMDS comes up late), retry every 2 s at most:
        // nothing is configured until then.
        if !hasListing { schedule.nextPoll = min(schedule.nextPoll, now + WatchSchedule.startupRetry) }
        updateProbes(now: now)
        updatePendingRetry(now: now, failed: failure != nil)
    }

    /// Re-reads only the ENIs whose data is still propagating.
    func retryPending() {
        pendingRetryCount += 1
        ports.metadata.begin(deadline: pollDeadline)
        var failure: Failure?
        var newReady = ready
        var newPending = pending
        for mac in pending.keys.sorted() {
            do throws(IMDSError) {
                switch try ports.metadata.eniFacts(mac: mac, isPrimary: mac == primaryMAC) {
                case .ready(let f):
                    newReady[mac] = f
                    newPending[mac] = nil
                case .notReady(let reason): newPending[mac] = reason
                }
            } catch {
                failure = failure ?? Self.failure(error, context: "\(mac)")
            }
        }
        commit(listed: listed, ready: newReady, pending: newPending)
        noteOutcome(failure)
        updatePendingRetry(now: ports.clock(), failed: failure != nil)
    }

    private func updatePendingRetry(now: Double, failed: Bool) {
        guard !pending.isEmpty else {
            pendingSince = nil
            schedule.pendingRetryDue = nil
            return
        }
        let since = pendingSince ?? now
        pendingSince = since
        // While IMDS fails, pending ENIs wait for the next poll instead of hammering it.
        schedule.pendingRetryDue =
            failed ? nil : now + schedule.pendingDelay(now: now, since: since, random: ports.random())
    }

    /// Links with a MAC IMDS did not list: re-read IMDS a few times with backoff.
    private func updateProbes(now: Double) {
        for (mac, step) in unknownLinks {
            if ready[mac] != nil || pending[mac] != nil {
                unknownLinks[mac] = nil
            } else if step >= WatchSchedule.probeDelays.count {
                log.debug("\(linkNames[mac] ?? mac.description): \(mac) is not an ENI IMDS lists")
                unknownLinks[mac] = nil
            } else {
                unknownLinks[mac] = step + 1
            }
        }
        let next = unknownLinks.values.min().map { now + WatchSchedule.probeDelays[$0 - 1] }
        schedule.probeDue = next
    }

    private func noteOutcome(_ failure: Failure?) {
        let now = ports.clock()
        if let failure {
            failureStreak += 1
            lastFailureTemporary = failure.temporary
            if failureStreak == 1 {
                failureStreakStart = now
                let keeping =
                    hasListing
                    ? "keeping the last known state; nothing is removed until IMDS answers"
                    : "nothing is configured until IMDS answers"
                log.log(failure.level, "IMDS: \(failure.message); \(keeping)")
            } else {
                log.debug("IMDS still failing (\(failureStreak) reads): \(failure.message)")
            }
        } else if failureStreak > 0 {
            log.notice(
                "IMDS: answering again after \(failureStreak) failed read\(failureStreak == 1 ? "" : "s") over "
                    + Self.seconds(now - failureStreakStart))
            failureStreak = 0
        }
    }

    /// Takes new IMDS knowledge, logs what changed and asks for a reconcile if anything did.
    private func commit(
        listed newListed: [MACAddress], ready newReady: [MACAddress: ENIFacts], pending newPending: [MACAddress: String]
    ) {
        func name(_ mac: MACAddress) -> String { linkNames[mac].map { "\($0) (\(mac))" } ?? mac.description }
        var changed = false
        for mac in newListed {
            let old = ready[mac]
            let new = newReady[mac]
            if let new, old == nil {
                log.notice(
                    "IMDS: ENI \(name(mac)) is ready: device \(new.deviceNumber), card \(new.networkCard), "
                        + Self.addressList(new))
                changed = true
            } else if let new, let old, new.deviceNumber != old.deviceNumber || new.networkCard != old.networkCard {
                log.notice(
                    "IMDS: ENI \(name(mac)) was re-attached: device \(old.deviceNumber), card \(old.networkCard) "
                        + "→ device \(new.deviceNumber), card \(new.networkCard); moving it to its new table")
                changed = true
            } else if let new, let old, new != old {
                let before = Set(Self.addresses(old))
                let after = Set(Self.addresses(new))
                let added = Self.addresses(new).filter { !before.contains($0) }
                let removed = Self.addresses(old).filter { !after.contains($0) }
                var parts: [String] = []
                if !added.isEmpty { parts.append("assigned " + added.joined(separator: ", ")) }
                if !removed.isEmpty { parts.append("unassigned " + removed.joined(separator: ", ")) }
                log.notice("IMDS: ENI \(name(mac)): " + (parts.isEmpty ? "data changed" : parts.joined(separator: "; ")))
                changed = true
            }
            if let reason = newPending[mac], pending[mac] == nil {
                log.info("IMDS: ENI \(name(mac)) is listed but its data is not ready yet (\(reason))")
            }
        }
        for mac in ready.keys.sorted() where newReady[mac] == nil {
            log.notice("IMDS: ENI \(name(mac)) is no longer attached; removing eniroute's objects for it")
            changed = true
        }
        if Set(newPending.keys) != Set(pending.keys) { changed = true }
        if newListed != listed && !changed { log.debug("IMDS: listing order changed") }
        listed = newListed
        ready = newReady.filter { newListed.contains($0.key) }
        pending = newPending.filter { newListed.contains($0.key) }
        if changed { schedule.requestReconcile(at: ports.clock()) }
    }

    static func addresses(_ f: ENIFacts) -> [String] {
        f.ipv4Addresses.map(\.description) + f.ipv6Addresses.map(\.description) + f.ipv4Prefixes.map(\.description)
            + f.ipv6Prefixes.map(\.description)
    }

    static func addressList(_ f: ENIFacts) -> String {
        let a = addresses(f)
        return a.isEmpty ? "no addresses" : a.joined(separator: ", ")
    }

    static func seconds(_ s: Double) -> String {
        s < 10 ? "\(Double(Int(s * 10)) / 10) s" : "\(Int(s.rounded())) s"
    }

    // MARK: Reconcile

    /// One pass under the run lock: read the kernel, plan against the last good IMDS facts, apply,
    /// read again to confirm (up to three rounds), one log line per change.
    @discardableResult
    func reconcile() -> ReconcileOutcome {
        let now = ports.clock()
        schedule.reconciled()
        guard let facts else {
            log.debug("no IMDS data yet; nothing to reconcile")
            return .skipped
        }
        let hold: AnyObject?
        do {
            hold = try ports.lock()
        } catch is WatchLockBusy {
            if !lockBusyLogged { log.info("another eniroute run holds the lock; retrying shortly") }
            lockBusyLogged = true
            schedule.requestReconcile(at: now + 0.25)
            return .busy
        } catch {
            reportReconcileError("\(error)")
            return .failed
        }
        lockBusyLogged = false
        return withExtendedLifetime(hold) { pass(facts: facts) }
    }

    private func reportReconcileError(_ message: String) {
        if message != lastReconcileError { log.error(message) } else { log.debug(message) }
        lastReconcileError = message
        reconcileFailures += 1
        let delay = min(schedule.interval, 0.5 * Double(1 << min(reconcileFailures - 1, 10)))
        schedule.requestReconcile(at: ports.clock() + delay)
    }

    private func pass(facts: InstanceFacts) -> ReconcileOutcome {
        reconcileCount += 1
        let scope = PlanScope.all(pending: Set(pending.keys))
        let options = PlanOptions(leaveDownENIsAlone: true)
        let kernel = ports.kernel
        let plan: Plan
        do {
            ports.discardEvents()
            let observed = try kernel.observe()
            noteLinks(observed)
            plan = try Planner.plan(
                facts: facts, observed: observed, configuration: configuration, scope: scope, options: options)
        } catch let e as FactsError {
            reportReconcileError("refusing IMDS data: \(e); nothing changed")
            return .failed
        } catch {
            reportReconcileError("cannot read the kernel's state: \(error)")
            return .failed
        }
        let warnings = Set(plan.warnings)
        for w in plan.warnings where !lastWarnings.contains(w) { log.warning(w) }
        lastWarnings = warnings

        let outcome = Convergence.run(plan, kernel: kernel, log: log) {
            // Our own changes are in the queue now: the state read next covers them.
            ports.discardEvents()
            let observed = try kernel.observe()
            noteLinks(observed)
            return try Planner.plan(
                facts: facts, observed: observed, configuration: configuration, scope: scope, options: options)
        }
        let applied = outcome.applied
        let failures = outcome.failures.count
        changesApplied += applied
        if applied > 0 || failures > 0 {
            let managed = outcome.remaining.enis.filter { $0.state == "managed" }
            let enis = outcome.managedSummary
            var summary =
                "watch: \(applied) change\(applied == 1 ? "" : "s") on \(managed.count) ENI\(managed.count == 1 ? "" : "s")"
            if !enis.isEmpty { summary += " (\(enis.joined(separator: ", ")))" }
            if failures > 0 { summary += ", \(failures) failed" }
            log.log(failures > 0 ? .error : .notice, summary)
        } else {
            log.debug("watch: no change")
        }
        if failures > 0 {
            reconcileFailures += 1
            let delay = min(schedule.interval, 0.5 * Double(1 << min(reconcileFailures - 1, 10)))
            schedule.requestReconcile(at: ports.clock() + delay)
            return .failed
        }
        reconcileFailures = 0
        lastReconcileError = nil
        return .done(changes: applied)
    }

    /// Remembers interface names and notices links with a MAC that IMDS has not listed (a hot
    /// attach whose IMDS entry may come late): those trigger IMDS re-reads.
    private func noteLinks(_ observed: ObservedState) {
        var indexes: [MACAddress: Int32] = [:]
        for l in observed.links where l.canBeENI {
            let m = l.mac!
            indexes[m] = l.index
            linkNames[m] = l.name
        }
        for m in linkNames.keys where indexes[m] == nil { linkNames[m] = nil }
        // A known ENI's interface that vanished or came back as a new interface was detached
        // (and maybe re-attached, possibly as another device number): read it in full again,
        // at once if it is back.
        let previous = linkIndexes
        for (m, index) in previous ?? [:] where ready[m] != nil && indexes[m] != index { reattachedMACs.insert(m) }
        let back = reattachedMACs.contains { indexes[$0] != nil && indexes[$0] != previous?[$0] }
        linkIndexes = indexes
        if back {
            log.info("an ENI's interface was re-created: asking IMDS")
            schedule.probeDue = ports.clock()
        }
        if let previous {
            var appeared = false
            for m in indexes.keys where previous[m] == nil && ready[m] == nil && pending[m] == nil {
                unknownLinks[m] = 0
                appeared = true
            }
            if appeared {
                log.info("new link with an unknown MAC: asking IMDS")
                schedule.probeDue = ports.clock()
            }
        }
        for m in unknownLinks.keys where indexes[m] == nil { unknownLinks[m] = nil }
    }

    // MARK: --once

    /// `eniroute watch --once`: one IMDS read and one reconcile pass. 0 when everything is
    /// configured, 75 when IMDS failed or an ENI is not ready, 1 on an error.
    func runOnce() -> ExitCode {
        poll()
        guard hasListing else {
            return lastFailureTemporary ? .temporary : .failure
        }
        let outcome = reconcile()
        let stats = ports.metadata.statistics
        log.info("watch --once: \(changesApplied) changes; \(stats.requests) IMDS requests on \(stats.connections) connections")
        switch outcome {
        case .failed: return .failure
        case .busy: return .temporary
        case .skipped, .done: break
        }
        if failureStreak > 0 { return lastFailureTemporary ? .temporary : .failure }
        return pending.isEmpty ? .success : .temporary
    }
}
