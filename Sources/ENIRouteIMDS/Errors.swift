import ENIRouteCore
import ENIRouteSystem

/// A failure of one HTTP exchange, as the transport reports it.
public enum TransportError: Error, ErrnoCarrying, Equatable, Sendable, CustomStringConvertible {
    /// No connection could be made (refused, unreachable, connect timeout): the call that failed
    /// (or what happened) and its errno. The client falls over to the next endpoint.
    case connectFailed(String, errno: Errno? = nil)
    /// The request was sent but no complete response arrived within the timeout.
    case timedOut
    /// The server closed or reset the connection before the response was complete: when, and
    /// the errno of the failed call if one failed.
    case connectionClosed(String, errno: Errno? = nil)
    /// The bytes received are not a valid HTTP/1.x response.
    case malformedResponse(String)
    /// The response's headers or body exceed the client's limits.
    case tooLarge(String)
    /// The kernel refused to send to the endpoint at all: a `prohibit`, `unreachable` or
    /// `blackhole` route, or a cgroup connect policy (what, and the errno of `connect`).
    /// Retrying does not help until the administrator changes that.
    case refusedByKernel(String, errno: Errno)

    public var description: String {
        switch self {
        case .connectFailed(let why, let e?): return "cannot connect: \(why): \(e)"
        case .connectFailed(let why, nil): return "cannot connect: \(why)"
        case .timedOut: return "no response within the request timeout"
        case .connectionClosed(let why, let e?): return "connection closed by the server \(why) (\(e))"
        case .connectionClosed(let why, nil): return "connection closed by the server \(why)"
        case .malformedResponse(let why): return "malformed HTTP response: \(why)"
        case .tooLarge(let why): return "response too large: \(why)"
        case .refusedByKernel(let what, let e):
            return "the kernel refuses to send to \(what): \(e): a prohibit or unreachable route (or a connect policy) on "
                + "this instance blocks IMDS (systemd ≥ 261 installs one with systemd.imds.network=locked); not retrying"
        }
    }

    /// The errno of the failed system call, if one failed.
    public var errno: Errno? {
        switch self {
        case .connectFailed(_, let e), .connectionClosed(_, let e): return e
        case .refusedByKernel(_, let e): return e
        case .timedOut, .malformedResponse, .tooLarge: return nil
        }
    }

    /// Whether sending the request again may succeed.
    public var isRetryable: Bool {
        switch self {
        case .tooLarge, .refusedByKernel: return false
        case .connectFailed, .timedOut, .connectionClosed, .malformedResponse: return true
        }
    }
}

/// Why an IMDS request failed. Every case names the URL; `isTemporary` tells a failure that a
/// later run may not see (the CLI exits 75) from a permanent one (exit 1).
public enum IMDSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The endpoint URL does not parse.
    case invalidEndpoint(url: String, reason: String)
    /// The run's overall deadline passed before the request succeeded.
    case deadlineExceeded(url: String, attempts: Int, last: String)
    /// Every attempt failed with a temporary error (timeouts, resets, 5xx, 429).
    case retriesExhausted(url: String, attempts: Int, last: String)
    /// The server answered with a status that is not an answer (neither 200 nor 404).
    case unexpectedStatus(url: String, status: Int, attempts: Int)
    /// The token request was refused and IMDSv1 is not allowed.
    case tokenRefused(url: String, status: Int)
    /// A response eniroute will not read (too large) or a body that does not make sense.
    case badResponse(url: String, reason: String)
    /// The kernel refuses to reach IMDS (a `prohibit`/`unreachable` route, a firewall rule).
    case blocked(url: String, reason: String)
    /// A key every instance has answered 404.
    case missing(url: String)
    /// The per-ENI data does not parse or is inconsistent.
    case invalidFacts(FactsError)

    /// Whether a later retry may succeed: timeouts, connection failures, 5xx/429 and the deadline.
    public var isTemporary: Bool {
        switch self {
        case .deadlineExceeded, .retriesExhausted, .missing: return true
        case .unexpectedStatus(_, let status, _): return status >= 500 || status == 429
        case .invalidEndpoint, .tokenRefused, .badResponse, .blocked, .invalidFacts: return false
        }
    }

    public var description: String {
        func tries(_ n: Int) -> String { n == 1 ? "1 attempt" : "\(n) attempts" }
        switch self {
        case .invalidEndpoint(let url, let reason):
            return "invalid IMDS endpoint \(url.debugDescription): \(reason)"
        case .deadlineExceeded(let url, let attempts, let last):
            return "\(url): IMDS deadline exceeded after \(tries(attempts)) (last: \(last))"
        case .retriesExhausted(let url, let attempts, let last):
            return "\(url): failed after \(tries(attempts)) (last: \(last))"
        case .unexpectedStatus(let url, let status, let attempts):
            return "\(url): unexpected HTTP status \(status) after \(tries(attempts))"
        case .tokenRefused(let url, let status):
            return "\(url): IMDSv2 token request refused with HTTP \(status) and IMDSv1 is not allowed (imds-v1 = no)"
        case .badResponse(let url, let reason), .blocked(let url, let reason):
            return "\(url): \(reason)"
        case .missing(let url):
            return "\(url): not found (HTTP 404), though every instance has it"
        case .invalidFacts(let e):
            return e.description
        }
    }
}
