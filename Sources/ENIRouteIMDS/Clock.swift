import ENIRouteSystem

#if canImport(Glibc)
    import Glibc
#endif

/// The one overall deadline of a run's IMDS work: every wait, request timeout and retry is capped by it.
public struct Deadline: Sendable, Equatable {
    /// When the time is up.
    public var instant: MonotonicInstant

    /// A deadline at a given instant.
    public init(instant: MonotonicInstant) { self.instant = instant }

    /// A deadline `seconds` from now.
    public static func after(seconds: Double) -> Deadline {
        Deadline(instant: MonotonicInstant.now().adding(seconds: seconds))
    }

    /// Seconds left (0 once passed).
    public var remaining: Double { max(0, instant.seconds(since: .now())) }

    /// Whether the deadline has passed.
    public var hasPassed: Bool { MonotonicInstant.now() >= instant }
}

/// Exponential backoff with full jitter: before retry `n` (1-based) wait a uniformly random time in
/// `0 … min(maximumDelay, baseDelay · 2^(n−1))`.
public struct RetryPolicy: Sendable, Equatable {
    /// How many times one request is sent at most (first try included).
    public var maxAttempts: Int
    /// Upper bound of the first backoff, in seconds.
    public var baseDelay: Double
    /// Upper bound of any backoff, in seconds.
    public var maximumDelay: Double

    /// Creates a policy.
    public init(maxAttempts: Int = 5, baseDelay: Double = 0.1, maximumDelay: Double = 2) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = max(0, baseDelay)
        self.maximumDelay = max(0, maximumDelay)
    }

    /// The upper bound of the wait before retry `n` (1-based).
    public func ceiling(retry n: Int) -> Double {
        let exponent = Double(min(max(n - 1, 0), 30))
        return min(maximumDelay, baseDelay * pow(2, exponent))
    }

    /// A random wait before retry `n` (full jitter).
    public func delay(retry n: Int) -> Double {
        let c = ceiling(retry: n)
        return c > 0 ? Double.random(in: 0...c) : 0
    }
}
