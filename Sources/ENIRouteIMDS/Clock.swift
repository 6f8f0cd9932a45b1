#if canImport(Glibc)
    import Glibc
#endif

/// A point on the monotonic clock (`CLOCK_MONOTONIC`), immune to wall-clock changes.
public struct MonotonicInstant: Hashable, Comparable, Sendable {
    /// Nanoseconds since an arbitrary, fixed origin (boot).
    public var nanoseconds: UInt64

    /// Creates an instant from raw nanoseconds.
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// The current instant.
    public static func now() -> MonotonicInstant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return MonotonicInstant(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }

    /// This instant moved forward by `seconds` (negative and non-finite values count as 0).
    public func adding(seconds: Double) -> MonotonicInstant {
        guard seconds.isFinite, seconds > 0 else { return self }
        let ns = min(seconds, 1e9) * 1e9
        return MonotonicInstant(nanoseconds: nanoseconds &+ UInt64(ns))
    }

    /// Seconds from `other` to `self` (negative when `other` is later).
    public func seconds(since other: MonotonicInstant) -> Double {
        if nanoseconds >= other.nanoseconds { return Double(nanoseconds - other.nanoseconds) / 1e9 }
        return -Double(other.nanoseconds - nanoseconds) / 1e9
    }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}

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

/// Sleeps for `seconds` (interrupted sleeps resume for the rest of the time).
func sleepFor(seconds: Double) {
    guard seconds.isFinite, seconds > 0 else { return }
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var rest = timespec()
    while nanosleep(&request, &rest) == -1 && errno == EINTR { request = rest }
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
