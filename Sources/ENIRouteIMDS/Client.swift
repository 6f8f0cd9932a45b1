import ENIRouteCore
import ENIRouteSystem

/// An IMDSv2 client: fetches a session token once (`PUT /latest/api/token`), sends it with every
/// `GET`, and refreshes it once when IMDS answers 401. IMDSv1 (no token) is used only when
/// `allowV1` is set and the token request is refused with 403, 404 or 405.
///
/// Every request is bounded by the per-request timeout and by one overall deadline for the run.
/// Timeouts, connection failures and resets, 5xx and 429 are retried with exponential backoff and
/// full jitter; a connection failure first falls over to the next endpoint. A 404 is an answer
/// (`nil`); every other failure is a thrown `IMDSError`, never an empty value.
///
/// The token is never logged or included in an error.
public final class IMDSClient {
    /// The endpoints, tried in order.
    public let endpoints: [IMDSEndpoint]
    /// The connection.
    public let transport: any IMDSTransport
    /// The `User-Agent` header value (`eniroute/<version>`).
    public let userAgent: String
    /// Whether IMDSv1 may be used when the token request is refused.
    public let allowV1: Bool
    /// Timeout of one request, in seconds (capped by the deadline).
    public var requestTimeout: Double
    /// The one overall deadline; settable so a long-lived caller (the watcher) can start a new run.
    public var deadline: Deadline
    /// Retries of one request.
    public var retryPolicy: RetryPolicy
    /// Token lifetime asked for, in seconds (IMDS allows 1…21600).
    public var tokenTTL: Int = 21600
    /// Receives one line per retry, fallover and token event (never the token itself).
    public var log: ((String) -> Void)?

    private var token: String?
    private var usingV1 = false
    private var endpointIndex = 0

    /// Creates a client. Nothing is sent until the first `get`.
    /// - Parameters:
    ///   - endpoints: IMDS base URLs in order (default 169.254.169.254, then fd00:ec2::254).
    ///   - version: eniroute's version, sent as `User-Agent: eniroute/<version>`.
    ///   - allowV1: allow token-less requests when the token request is refused.
    ///   - requestTimeout: seconds for one request.
    ///   - deadline: the run's overall deadline.
    ///   - retryPolicy: attempts and backoff for one request.
    ///   - transport: the connection (default: a new `TCPTransport`).
    public init(
        endpoints: [IMDSEndpoint] = IMDSEndpoint.defaults, version: String, allowV1: Bool = false, requestTimeout: Double = 2,
        deadline: Deadline, retryPolicy: RetryPolicy = RetryPolicy(), transport: any IMDSTransport = TCPTransport()
    ) {
        self.endpoints = endpoints.isEmpty ? IMDSEndpoint.defaults : endpoints
        self.userAgent = "eniroute/\(version)"
        self.allowV1 = allowV1
        self.requestTimeout = requestTimeout
        self.deadline = deadline
        self.retryPolicy = retryPolicy
        self.transport = transport
    }

    /// Creates a client from `Configuration` values (`imds-endpoints`, `imds-deadline`,
    /// `imds-request-timeout`, `imds-v1`). Throws `invalidEndpoint` for a URL that does not parse.
    public convenience init(
        configuration: Configuration, version: String, transport: any IMDSTransport = TCPTransport()
    ) throws(IMDSError) {
        var parsed: [IMDSEndpoint] = []
        for url in configuration.imdsEndpoints { parsed.append(try IMDSEndpoint(parsing: url)) }
        self.init(
            endpoints: parsed, version: version, allowV1: configuration.imdsV1, requestTimeout: configuration.imdsRequestTimeout,
            deadline: .after(seconds: configuration.imdsDeadline), transport: transport)
    }

    /// The endpoint requests currently go to.
    public var currentEndpoint: IMDSEndpoint { endpoints[endpointIndex] }

    /// Whether the client fell back to IMDSv1 (token-less requests).
    public var isUsingV1: Bool { usingV1 }

    /// Requests sent and connections opened so far.
    public var statistics: (requests: Int, connections: Int) { (transport.requestsSent, transport.connectionsOpened) }

    /// Fetches `path` (e.g. `/latest/meta-data/mac`): the body on 200, nil on 404. Anything else,
    /// after retries, is a thrown error.
    public func get(_ path: String) throws(IMDSError) -> String? {
        var refreshed = false
        while true {
            let token = try sessionToken()
            var headers: [(name: String, value: String)] = [("User-Agent", userAgent), ("Accept", "*/*")]
            if let token { headers.append(("X-aws-ec2-metadata-token", token)) }
            let (response, attempts) = try perform(HTTPRequest(method: "GET", path: path, headers: headers))
            switch response.status {
            case 200:
                return response.text
            case 404:
                return nil
            case 401 where !refreshed && !usingV1:
                log?("\(currentEndpoint.url(path)): HTTP 401, fetching a new token")
                self.token = nil
                refreshed = true
            default:
                throw .unexpectedStatus(url: currentEndpoint.url(path), status: response.status, attempts: attempts)
            }
        }
    }

    /// The token to send, fetching one if needed; nil in IMDSv1 mode.
    private func sessionToken() throws(IMDSError) -> String? {
        if usingV1 { return nil }
        if let token { return token }
        let path = "/latest/api/token"
        let request = HTTPRequest(
            method: "PUT", path: path,
            headers: [("User-Agent", userAgent), ("X-aws-ec2-metadata-token-ttl-seconds", String(tokenTTL))])
        let (response, _) = try perform(request)
        switch response.status {
        case 200:
            let value = String(IMDSText.trim(Substring(response.text)))
            guard !value.isEmpty, value.utf8.count <= 4096, value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw .badResponse(url: currentEndpoint.url(path), reason: "the token response is empty or not a printable token")
            }
            token = value
            return value
        case 403, 404, 405:
            guard allowV1 else { throw .tokenRefused(url: currentEndpoint.url(path), status: response.status) }
            log?("\(currentEndpoint.url(path)): token request refused with HTTP \(response.status); using IMDSv1")
            usingV1 = true
            return nil
        default:
            throw .tokenRefused(url: currentEndpoint.url(path), status: response.status)
        }
    }

    /// Sends a request with endpoint fallover and retries; returns any response that is not a
    /// temporary failure (5xx, 429), with the number of attempts it took.
    private func perform(_ request: HTTPRequest) throws(IMDSError) -> (HTTPResponse, Int) {
        var last = "no attempt made"
        var attempt = 0
        while true {
            attempt += 1
            let remaining = deadline.remaining
            guard remaining > 0 else {
                throw .deadlineExceeded(url: currentEndpoint.url(request.path), attempts: attempt - 1, last: last)
            }
            switch sendWithFallover(request, timeout: min(requestTimeout, remaining)) {
            case .success(let response):
                if response.status >= 500 || response.status == 429 {
                    last = "HTTP \(response.status)"
                } else {
                    return (response, attempt)
                }
            case .failure(let error):
                guard error.isRetryable else {
                    let url = currentEndpoint.url(request.path)
                    if case .refusedByKernel = error { throw .blocked(url: url, reason: error.description) }
                    throw .badResponse(url: url, reason: error.description)
                }
                last = error.description
            }
            let url = currentEndpoint.url(request.path)
            if deadline.hasPassed { throw .deadlineExceeded(url: url, attempts: attempt, last: last) }
            guard attempt < retryPolicy.maxAttempts else {
                throw .retriesExhausted(url: url, attempts: attempt, last: last)
            }
            let wait = retryPolicy.delay(retry: attempt)
            guard wait < deadline.remaining else { throw .deadlineExceeded(url: url, attempts: attempt, last: last) }
            log?("\(request.method) \(url): \(last); retry \(attempt)/\(retryPolicy.maxAttempts - 1) in \(Int(wait * 1000)) ms")
            sleepFor(seconds: wait)
        }
    }

    /// One attempt: the current endpoint first, then each other endpoint in order while the
    /// connection cannot be made. The first endpoint that connects becomes the current one.
    /// An endpoint the kernel refuses to reach wins over the others' connection failures: the
    /// request then fails at once instead of being retried until the deadline.
    private func sendWithFallover(_ request: HTTPRequest, timeout: Double) -> Result<HTTPResponse, TransportError> {
        var firstError: TransportError?
        var refused: TransportError?
        for step in 0..<endpoints.count {
            let index = (endpointIndex + step) % endpoints.count
            let budget = step == 0 ? timeout : min(timeout, deadline.remaining)
            guard budget > 0 else { break }
            do {
                let response = try transport.send(request, to: endpoints[index], timeout: budget)
                if index != endpointIndex {
                    log?("IMDS: using \(endpoints[index]) (\(endpoints[endpointIndex]) unreachable)")
                    endpointIndex = index
                }
                return .success(response)
            } catch {
                switch error {
                case .connectFailed(let why, let e):
                    if firstError == nil { firstError = .connectFailed("\(endpoints[index]): \(why)", errno: e) }
                case .refusedByKernel(_, let e):
                    if refused == nil { refused = .refusedByKernel("\(endpoints[index])", errno: e) }
                default:
                    return .failure(error)
                }
                log?("IMDS: \(endpoints[index]): \(error)")
            }
        }
        return .failure(refused ?? firstError ?? .timedOut)
    }
}
