import ENIRouteCore
import ENIRouteSystem

#if canImport(Glibc)
    import Glibc
#endif

/// Sends one HTTP request and returns its response. The real implementation is `TCPTransport`;
/// tests inject fakes.
public protocol IMDSTransport: AnyObject {
    /// Sends `request` to `endpoint` and waits at most `timeout` seconds for the whole response.
    /// Status codes are not interpreted here: any complete response is returned.
    func send(_ request: HTTPRequest, to endpoint: IMDSEndpoint, timeout: Double) throws(TransportError) -> HTTPResponse
    /// Requests written to the wire so far (a transparent resend counts twice).
    var requestsSent: Int { get }
    /// TCP connections opened so far.
    var connectionsOpened: Int { get }
    /// Closes any open connection.
    func close()
}

/// HTTP/1.1 over a plain TCP socket with keep-alive: one connection serves every request of a
/// run. Connects without blocking (`poll` for the timeout), bounds every read and write by the
/// request's timeout, and resends a request once on a fresh connection when a reused idle
/// connection turns out to have been closed by the server before any byte of the response.
public final class TCPTransport: IMDSTransport {
    /// Requests written to the wire so far.
    public private(set) var requestsSent = 0
    /// TCP connections opened so far.
    public private(set) var connectionsOpened = 0
    /// Largest accepted response head.
    public let maxHeaderBytes: Int
    /// Largest accepted response body.
    public let maxBodyBytes: Int

    private var fd: Int32 = -1
    private var connectedEndpoint: IMDSEndpoint?

    /// Creates a transport; nothing is opened until the first request.
    public init(
        maxHeaderBytes: Int = HTTPResponseParser.defaultMaxHeaderBytes, maxBodyBytes: Int = HTTPResponseParser.defaultMaxBodyBytes
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }

    deinit { close() }

    /// Closes the connection, if open.
    public func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
        connectedEndpoint = nil
    }

    public func send(_ request: HTTPRequest, to endpoint: IMDSEndpoint, timeout: Double) throws(TransportError) -> HTTPResponse {
        let deadline = MonotonicInstant.now().adding(seconds: timeout)
        if fd >= 0, connectedEndpoint != endpoint || !idleConnectionLooksAlive() { close() }
        let reused = fd >= 0
        if !reused { try connect(to: endpoint, deadline: deadline) }
        switch exchange(request, endpoint: endpoint, deadline: deadline) {
        case .response(let r):
            return r
        case .failed(let e, let receivedNothing):
            close()
            // A keep-alive connection the server closed while idle: resend once on a new one.
            guard reused, receivedNothing, case .connectionClosed = e else { throw e }
            try connect(to: endpoint, deadline: deadline)
            switch exchange(request, endpoint: endpoint, deadline: deadline) {
            case .response(let r):
                return r
            case .failed(let e, _):
                close()
                throw e
            }
        }
    }

    private enum Outcome {
        case response(HTTPResponse)
        case failed(TransportError, receivedNothing: Bool)
    }

    /// An idle keep-alive connection must have nothing to read: readable means the server closed
    /// it (EOF) or sent something unsolicited. Either way it is not reused.
    private func idleConnectionLooksAlive() -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let n = poll(&p, 1, 0)
        return n == 0
    }

    private func connect(to endpoint: IMDSEndpoint, deadline: MonotonicInstant) throws(TransportError) {
        let address = SocketAddress(endpoint.address, port: endpoint.port)
        let s = socket(
            address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw .connectFailed("socket()", errno: .current) }
        var one: Int32 = 1
        _ = setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if address.withSockaddr({ Glibc.connect(s, $0, $1) }) != 0 {
            let e = Errno.current
            guard e == .inProgress || e == .interrupted else {
                _ = Glibc.close(s)
                // Refused before any packet left: the route's type or a local firewall rule.
                if Self.kernelRefusals.contains(e) { throw .refusedByKernel("\(endpoint)", errno: e) }
                throw .connectFailed("connect()", errno: e)
            }
            switch waitFor(s, events: Int16(POLLOUT), until: deadline) {
            case .ready:
                var err: Int32 = 0
                var len = socklen_t(MemoryLayout<Int32>.size)
                if getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0 { err = Glibc.errno }
                if err != 0 {
                    _ = Glibc.close(s)
                    throw .connectFailed("connect()", errno: Errno(err))
                }
            case .timedOut:
                _ = Glibc.close(s)
                throw .connectFailed("no answer within the timeout")
            case .failed(let e):
                _ = Glibc.close(s)
                throw .connectFailed("poll()", errno: e)
            }
        }
        fd = s
        connectedEndpoint = endpoint
        connectionsOpened += 1
    }

    /// Leaves delayed-ACK mode (`TCP_QUICKACK`), before and after every read. Once this side has
    /// sent a request the kernel treats the connection as interactive and holds the ACK of the
    /// reply's first segment for up to 40 ms; a server that writes its header block and its body
    /// in two `send()` calls with Nagle's algorithm on (Python's `http.server`, many small ones)
    /// holds the body until that ACK: every reply would stall. The flag is not sticky, hence
    /// "every read"; with an ACK already due, setting it sends that ACK at once.
    private func acknowledgeAtOnce() {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_QUICKACK, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// What `connect(2)` answers at once when the kernel will not send to the address: `prohibit`
    /// (EACCES), `unreachable` (EHOSTUNREACH), `blackhole` (EINVAL), a cgroup connect policy
    /// (EPERM). No route at all (ENETUNREACH) is not among them: at boot it is a network not up
    /// yet. A firewall's drop or reject is not seen here (the SYN leaves; the answer, if any, comes
    /// later like a router's), so it stays a retried connection failure.
    static let kernelRefusals: Set<Errno> = [.permissionDenied, .hostUnreachable, .invalidArgument, .notPermitted]

    private enum Wait {
        case ready
        case timedOut
        case failed(Errno)
    }

    private func waitFor(_ s: Int32, events: Int16, until deadline: MonotonicInstant) -> Wait {
        while true {
            let left = deadline.seconds(since: .now())
            if left <= 0 { return .timedOut }
            var p = pollfd(fd: s, events: events, revents: 0)
            let ms = Int32(min(left * 1000 + 1, 3_600_000))
            do {
                // Errors and hang-ups show up in the call that follows a ready descriptor.
                if try retryOnInterrupt({ poll(&p, 1, ms) }) > 0 { return .ready }
            } catch {
                return .failed(error)
            }
        }
    }

    private func exchange(_ request: HTTPRequest, endpoint: IMDSEndpoint, deadline: MonotonicInstant) -> Outcome {
        let bytes = request.serialized(host: endpoint.hostHeader)
        requestsSent += 1
        var sent = 0
        while sent < bytes.count {
            do {
                sent += try retryOnInterrupt {
                    bytes.withUnsafeBytes { raw in Glibc.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                    }
                }
            } catch .wouldBlock {
                switch waitFor(fd, events: Int16(POLLOUT), until: deadline) {
                case .ready: continue
                case .timedOut: return .failed(.timedOut, receivedNothing: true)
                case .failed(let e):
                    return .failed(.connectionClosed("while waiting to send (poll)", errno: e), receivedNothing: true)
                }
            } catch {
                return .failed(.connectionClosed("while sending the request", errno: error), receivedNothing: true)
            }
        }
        var parser = HTTPResponseParser(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n: Int
            acknowledgeAtOnce()
            do {
                n = try retryOnInterrupt { chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) } }
                acknowledgeAtOnce()
            } catch .wouldBlock {
                switch waitFor(fd, events: Int16(POLLIN), until: deadline) {
                case .ready: continue
                case .timedOut: return .failed(.timedOut, receivedNothing: !parser.hasReceivedBytes)
                case .failed(let e):
                    return .failed(
                        .connectionClosed("while waiting for the response (poll)", errno: e),
                        receivedNothing: !parser.hasReceivedBytes)
                }
            } catch {
                let when = parser.hasReceivedBytes ? "in the middle of the response" : "before sending a response"
                return .failed(.connectionClosed(when, errno: error), receivedNothing: !parser.hasReceivedBytes)
            }
            if n == 0 {
                do {
                    let response = try parser.finish()
                    close()
                    return .response(response)
                } catch {
                    return .failed(error, receivedNothing: !parser.hasReceivedBytes)
                }
            }
            do {
                if let response = try parser.feed(chunk[0..<n]) {
                    if !response.keepAlive || parser.leftoverCount > 0 { close() }
                    return .response(response)
                }
            } catch {
                return .failed(error, receivedNothing: false)
            }
        }
    }
}
