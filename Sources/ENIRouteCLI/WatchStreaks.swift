import ENIRouteIMDS

/// One failed or partial IMDS read, as the watcher logs it.
struct IMDSFailure: Equatable {
    /// The sentence to log.
    var message: String
    /// `error` for data IMDS answered but eniroute refuses, `warning` for no answer.
    var level: LogLevel
    /// Whether a later read may succeed (`watch --once` exits 75 rather than 1).
    var temporary: Bool

    init(message: String, level: LogLevel, temporary: Bool) {
        self.message = message
        self.level = level
        self.temporary = temporary
    }

    /// The failure of one read; `context` (a MAC) prefixes the message.
    init(_ error: IMDSError, context: String? = nil) {
        let prefix = context.map { "\($0): " } ?? ""
        if case .invalidFacts(let e) = error {
            self.init(message: prefix + "refusing IMDS data: \(e)", level: .error, temporary: false)
        } else {
            self.init(message: prefix + error.description, level: .warning, temporary: error.isTemporary)
        }
    }
}

/// The current run of failed IMDS polls: one line when it starts (at the failure's level), debug
/// lines while it lasts, one notice when IMDS answers again.
struct IMDSFailureStreak: Equatable {
    /// Failed polls in a row (0: IMDS answers).
    private(set) var count = 0
    /// When the streak began.
    private(set) var start = 0.0
    /// Whether the last failure may pass.
    private(set) var lastTemporary = true

    /// Records one poll's outcome at `now`; `hasListing` says whether IMDS ever answered (the
    /// first line says what is kept meanwhile). Returns the line to log, if any.
    mutating func record(_ failure: IMDSFailure?, at now: Double, hasListing: Bool) -> LogLine? {
        guard let failure else {
            guard count > 0 else { return nil }
            defer { count = 0 }
            return LogLine(
                level: .notice,
                message: "IMDS: answering again after \(count) failed read\(count == 1 ? "" : "s") over "
                    + WatchSchedule.seconds(now - start))
        }
        count += 1
        lastTemporary = failure.temporary
        guard count == 1 else {
            return LogLine(level: .debug, message: "IMDS still failing (\(count) reads): \(failure.message)")
        }
        start = now
        let keeping =
            hasListing
            ? "keeping the last known state; nothing is removed until IMDS answers"
            : "nothing is configured until IMDS answers"
        return LogLine(level: failure.level, message: "IMDS: \(failure.message); \(keeping)")
    }
}

/// Retries of failed reconcile passes: 0.5 s, doubling, at most the poll interval; an error
/// message is logged at error level once, at debug while the same one repeats.
struct ReconcileBackoff: Equatable {
    /// Failed passes in a row.
    private(set) var failures = 0
    /// The message of the last failure that had one.
    private(set) var lastError: String?

    /// A failed pass: the level for its message (nil: no message) and the delay before the next.
    mutating func failed(_ message: String?, interval: Double) -> (level: LogLevel, delay: Double) {
        var level = LogLevel.error
        if let message {
            if message == lastError { level = .debug }
            lastError = message
        }
        failures += 1
        return (level, min(interval, 0.5 * Double(1 << min(failures - 1, 10))))
    }

    /// A pass that applied everything.
    mutating func succeeded() {
        failures = 0
        lastError = nil
    }
}
