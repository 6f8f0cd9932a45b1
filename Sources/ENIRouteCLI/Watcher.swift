import ENIRouteCore
import ENIRouteIMDS
import ENIRouteNetlink

/// The decision logic of `eniroute watch`: what to do on each timer, kernel event, IMDS answer,
/// failure and signal. The event loop (`WatchLoop`) is a thin shell around it. It coordinates
/// small pure values, each tested on its own: the timers (`WatchSchedule`), what it knows from
/// IMDS (`IMDSKnowledge`), the links it tracks (`LinkTracker`), the IMDS failure streak
/// (`IMDSFailureStreak`) and the reconcile retries (`ReconcileBackoff`).
///
/// Rules it keeps:
/// - IMDS facts are replaced only by successful answers (`IMDSKnowledge`).
/// - One warning per IMDS failure streak, one notice when IMDS answers again.
/// - Kernel drift is reconciled `WatchSchedule.debounceQuiet` after the last relevant event and
///   at most `WatchSchedule.debounceLimit` after the first; its own changes are not events for it.
final class Watcher {
    private(set) var configuration: Configuration
    /// `--interval`, which wins over the configuration's `watch-interval`.
    let intervalOverride: Double?
    private(set) var schedule: WatchSchedule
    private(set) var knowledge = IMDSKnowledge()
    private(set) var links = LinkTracker()
    private(set) var imdsFailures = IMDSFailureStreak()
    private var backoff = ReconcileBackoff()
    private var ports: WatchPorts
    let log: JournalLog
    /// Plan warnings of the last pass: each is logged once while it lasts.
    private var lastWarnings: Set<String> = []
    private var lockBusyLogged = false
    /// Changes applied (for the `--once` summary).
    private(set) var changesApplied = 0

    init(configuration: Configuration, intervalOverride: Double?, ports: WatchPorts, logger: JournalLog) {
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

    private func log(_ line: LogLine?) {
        if let line { log.log(line.level, line.message) }
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
    func kernelEvents(_ batch: NetlinkRouteEventBatch) {
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
    /// change, eniroute's own rules, routes in eniroute's or other per-ENI tables (≥ 256,
    /// not local/main/default), and main's routes that eniroute mirrors into an ENI's table.
    static func isRelevant(_ event: NetlinkRouteEvent) -> Bool {
        switch event {
        case .linkNew, .linkDeleted, .addressNew, .addressDeleted: return true
        case .ruleNew(let r), .ruleDeleted(let r): return r.isOwned
        case .routeNew(let r), .routeDeleted(let r): return r.isOwned || r.table >= 256 || Planner.isMirrored(r)
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
        if new.unmanaged != old.unmanaged { knowledge.fullReadNextPoll = true }
        configuration = new
        let newInterval = intervalOverride ?? new.watchInterval
        if newInterval != schedule.interval {
            schedule.interval = newInterval
            schedule.nextPoll = min(schedule.nextPoll, now + newInterval)
        }
        log.notice("SIGHUP: configuration reloaded (IMDS poll every \(WatchSchedule.seconds(schedule.interval)))")
        schedule.requestReconcile(at: now)
    }

    // MARK: IMDS

    /// A full poll: the listing, then per ENI the changeable keys (or everything, for an ENI
    /// seen for the first time or re-attached). Only successful answers change the facts.
    func poll() {
        ports.metadata.begin(deadline: pollDeadline)
        let metadata = ports.metadata
        var failure: IMDSFailure?
        do throws(IMDSError) {
            if knowledge.primaryMAC == nil { knowledge.primaryMAC = try metadata.primaryMAC() }
            let macs = try metadata.macs()
            var answers = IMDSAnswers(from: knowledge, keepingPending: false)
            for mac in macs {
                if let known = knowledge.addressReadBase(mac) {
                    answers.addressRead(mac, Result { () throws(IMDSError) in try metadata.addressFacts(of: known) })
                } else {
                    let isPrimary = mac == knowledge.primaryMAC
                    let result = Result { () throws(IMDSError) in try metadata.eniFacts(mac: mac, isPrimary: isPrimary) }
                    answers.fullRead(mac, result, wasReady: knowledge.ready[mac] != nil)
                }
            }
            failure = answers.failure
            took(knowledge.takePoll(listed: macs, answers: answers, name: links.name))
        } catch {
            failure = IMDSFailure(error)
        }
        log(imdsFailures.record(failure, at: ports.clock(), hasListing: knowledge.hasListing))
        let now = ports.clock()
        schedule.polled(at: now, random: ports.random())
        // Before IMDS ever answered (a boot where IMDS comes up late), retry every 2 s at most:
        // nothing is configured until then.
        if !knowledge.hasListing { schedule.nextPoll = min(schedule.nextPoll, now + WatchSchedule.startupRetry) }
        let probes = links.probed { knowledge.ready[$0] != nil || knowledge.pending[$0] != nil }
        for mac in probes.givenUp { log.debug("\(links.names[mac] ?? mac.description): \(mac) is not an ENI IMDS lists") }
        schedule.probeDue = probes.nextDelay.map { now + $0 }
        schedule.pendingUpdated(anyPending: !knowledge.pending.isEmpty, now: now, failed: failure != nil, random: ports.random())
    }

    /// Re-reads only the ENIs whose data is still propagating.
    func retryPending() {
        ports.metadata.begin(deadline: pollDeadline)
        let metadata = ports.metadata
        var answers = IMDSAnswers(from: knowledge, keepingPending: true)
        for mac in knowledge.pending.keys.sorted() {
            let isPrimary = mac == knowledge.primaryMAC
            answers.fullRead(
                mac, Result { () throws(IMDSError) in try metadata.eniFacts(mac: mac, isPrimary: isPrimary) }, wasReady: false)
        }
        took(knowledge.takePendingRetry(answers, name: links.name))
        log(imdsFailures.record(answers.failure, at: ports.clock(), hasListing: knowledge.hasListing))
        let now = ports.clock()
        schedule.pendingUpdated(
            anyPending: !knowledge.pending.isEmpty, now: now, failed: answers.failure != nil, random: ports.random())
    }

    /// Logs what new IMDS knowledge changed and asks for a reconcile if anything did.
    private func took(_ update: KnowledgeUpdate) {
        for line in update.lines { log(line) }
        if update.changed { schedule.requestReconcile(at: ports.clock()) }
    }

    // MARK: Reconcile

    /// One pass under the run lock: read the kernel, plan against the last good IMDS facts, apply,
    /// read again to confirm (up to three rounds), one log line per change.
    @discardableResult
    func reconcile() -> ReconcileOutcome {
        let now = ports.clock()
        schedule.reconciled()
        guard let facts = knowledge.facts else {
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
            return failed("\(error)")
        }
        lockBusyLogged = false
        return withExtendedLifetime(hold) { pass(facts: facts) }
    }

    /// A failed pass (its message logged, if it has one): retried after the backoff.
    private func failed(_ message: String?) -> ReconcileOutcome {
        let (level, delay) = backoff.failed(message, interval: schedule.interval)
        if let message { log.log(level, message) }
        schedule.requestReconcile(at: ports.clock() + delay)
        return .failed
    }

    private func pass(facts: InstanceFacts) -> ReconcileOutcome {
        let scope = PlanScope.all(pending: Set(knowledge.pending.keys))
        let options = PlanOptions(leaveDownENIsAlone: true)
        let kernel = ports.kernel
        let replan = { [self] () throws -> Plan in
            // Our own changes are in the queue now: the state read next covers them.
            ports.discardEvents()
            let observed = try kernel.observe()
            noteLinks(observed.links)
            return try Planner.plan(
                facts: facts, observed: observed, configuration: configuration, scope: scope, options: options)
        }
        let plan: Plan
        do {
            plan = try replan()
        } catch let e as FactsError {
            return failed("refusing IMDS data: \(e); nothing changed")
        } catch {
            return failed("cannot read the kernel's state: \(error)")
        }
        for w in plan.warnings where !lastWarnings.contains(w) { log.warning(w) }
        lastWarnings = Set(plan.warnings)

        let outcome = Convergence.run(plan, kernel: kernel, log: log, replan: replan)
        changesApplied += outcome.applied
        if outcome.applied > 0 || !outcome.failures.isEmpty {
            log.log(outcome.failures.isEmpty ? .notice : .error, outcome.summary(verb: "watch"))
        } else {
            log.debug("watch: no change")
        }
        if !outcome.failures.isEmpty { return failed(nil) }
        backoff.succeeded()
        return .done(changes: outcome.applied)
    }

    /// Hands the kernel's links to the tracker; a re-attached ENI that is back, or a link with
    /// an unknown MAC, makes IMDS be asked at once.
    private func noteLinks(_ observed: [Link]) {
        let k = knowledge
        let changes = links.observe(
            observed, isReady: { k.ready[$0] != nil }, isKnown: { k.ready[$0] != nil || k.pending[$0] != nil },
            reattached: k.reattached)
        knowledge.reattached.formUnion(changes.reattached)
        if changes.reattachedIsBack {
            log.info("an ENI's interface was re-created: asking IMDS")
            schedule.probeDue = ports.clock()
        }
        if changes.unknownAppeared {
            log.info("new link with an unknown MAC: asking IMDS")
            schedule.probeDue = ports.clock()
        }
    }

    // MARK: --once

    /// `eniroute watch --once`: one IMDS read and one reconcile pass. 0 when everything is
    /// configured, 75 when IMDS failed or an ENI is not ready, 1 on an error.
    func runOnce() -> ExitStatus {
        poll()
        guard knowledge.hasListing else {
            return imdsFailures.lastTemporary ? .temporary : .failure
        }
        let outcome = reconcile()
        let stats = ports.metadata.statistics
        log.info("watch --once: \(changesApplied) changes; \(stats.requests) IMDS requests on \(stats.connections) connections")
        switch outcome {
        case .failed: return .failure
        case .busy: return .temporary
        case .skipped, .done: break
        }
        if imdsFailures.count > 0 { return imdsFailures.lastTemporary ? .temporary : .failure }
        return knowledge.pending.isEmpty ? .success : .temporary
    }
}
