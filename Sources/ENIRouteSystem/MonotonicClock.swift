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

    /// Seconds since the clock's origin (for durations: subtract two of them).
    public var seconds: Double { Double(nanoseconds) / 1e9 }

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

/// Sleeps for `seconds` (an interrupted sleep resumes for the rest of the time).
public func sleepFor(seconds: Double) {
    guard seconds.isFinite, seconds > 0 else { return }
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var rest = timespec()
    while nanosleep(&request, &rest) == -1 && errno == EINTR { request = rest }
}
