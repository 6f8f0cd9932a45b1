/// The watcher's timers, in seconds of the monotonic clock. Pure: the loop asks `nextWakeup` for
/// its `poll(2)` timeout and tells what happened; nothing here reads a clock.
struct WatchSchedule: Equatable {
    /// Quiet time after the last relevant kernel event before reconciling.
    static let debounceQuiet = 0.1
    /// Longest delay between the first unhandled kernel event and the reconcile.
    static let debounceLimit = 1.0
    /// Relative jitter of the IMDS poll interval (±).
    static let jitter = 0.1
    /// Re-reads of an ENI whose IMDS data is still propagating: a random delay in this range…
    static let pendingRetry = 0.2...0.5
    /// …for this long after it was first seen pending; then at most every `pendingSlowRetry`.
    static let pendingFastWindow = 15.0
    /// Re-read interval of a pending ENI after the fast window (capped by the poll interval).
    static let pendingSlowRetry = 5.0
    /// Longest wait between polls until IMDS answered once.
    static let startupRetry = 2.0
    /// Delays of the IMDS re-reads after a link with an unknown MAC appears (IMDS may list it late).
    static let probeDelays = [0.25, 0.5, 1.0, 2.0, 4.0]

    /// Seconds between IMDS polls (before jitter).
    var interval: Double
    /// When the next IMDS poll is due.
    var nextPoll: Double
    /// When the next re-read of pending ENIs is due.
    var pendingRetryDue: Double?
    /// When the next IMDS re-read for unknown links is due.
    var probeDue: Double?
    /// First kernel event not yet followed by a reconcile.
    private(set) var firstUnhandledEvent: Double?
    /// Reconcile time set by kernel events (debounced).
    private(set) var eventReconcileDue: Double?
    /// Reconcile time set by everything else (IMDS changes, retries, a reload): not debounced.
    private(set) var requestedReconcileDue: Double?
    /// Since when ENIs have been pending (nil: none is).
    private(set) var pendingSince: Double?

    /// Starts with an IMDS poll due at once.
    init(interval: Double, now: Double) {
        self.interval = interval
        nextPoll = now
    }

    /// When the next reconcile is due, if one is.
    var reconcileDue: Double? { [eventReconcileDue, requestedReconcileDue].compactMap { $0 }.min() }

    /// The earliest timer: how long the loop may sleep.
    var nextWakeup: Double { ([nextPoll] + [reconcileDue, pendingRetryDue, probeDue].compactMap { $0 }).min()! }

    /// A relevant kernel event arrived: reconcile `debounceQuiet` after the last one, but never
    /// later than `debounceLimit` after the first.
    mutating func noteKernelEvent(at now: Double) {
        let first = firstUnhandledEvent ?? now
        firstUnhandledEvent = first
        eventReconcileDue = min(now + Self.debounceQuiet, first + Self.debounceLimit)
    }

    /// Asks for a reconcile at `time` (the earliest request wins).
    mutating func requestReconcile(at time: Double) {
        requestedReconcileDue = min(requestedReconcileDue ?? time, time)
    }

    /// A reconcile ran: every event and request before it is handled.
    mutating func reconciled() {
        firstUnhandledEvent = nil
        eventReconcileDue = nil
        requestedReconcileDue = nil
    }

    /// An IMDS poll finished at `now`: the next one is `interval` ± jitter later. `random` is
    /// uniform in 0…1.
    mutating func polled(at now: Double, random: Double) {
        nextPoll = now + interval * (1 + Self.jitter * (2 * min(max(random, 0), 1) - 1))
    }

    /// After a read at `now`: while ENIs are pending, re-read them after `pendingDelay`; not while
    /// IMDS fails (`failed`: they wait for the next poll instead of hammering it).
    mutating func pendingUpdated(anyPending: Bool, now: Double, failed: Bool, random: Double) {
        guard anyPending else {
            pendingSince = nil
            pendingRetryDue = nil
            return
        }
        let since = pendingSince ?? now
        pendingSince = since
        pendingRetryDue = failed ? nil : now + pendingDelay(now: now, since: since, random: random)
    }

    /// `0.4 s` below 10 s, `12 s` from there: durations in log lines.
    static func seconds(_ s: Double) -> String {
        s < 10 ? "\(Double(Int(s * 10)) / 10) s" : "\(Int(s.rounded())) s"
    }

    /// The delay before re-reading ENIs that have been pending since `since`.
    func pendingDelay(now: Double, since: Double, random: Double) -> Double {
        if now - since < Self.pendingFastWindow {
            let r = Self.pendingRetry
            return r.lowerBound + (r.upperBound - r.lowerBound) * min(max(random, 0), 1)
        }
        return min(interval, Self.pendingSlowRetry)
    }
}
