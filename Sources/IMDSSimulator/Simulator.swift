import ENIRouteCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An in-process EC2 instance metadata service for tests: serves a `Scenario` over HTTP/1.1
/// (keep-alive, one thread per connection) with IMDSv2 token semantics, fault injection,
/// propagation delays, request/connection counters, and a control API under `/_sim/` on the
/// same listener (see docs/simulator.md).
public final class IMDSSimulator: @unchecked Sendable {
    // Everything mutable below is guarded by `lock`; its condition also wakes delayed answers on stop.
    private let lock = NSCondition()
    private var scenario: Scenario
    private var startTimes: [MACAddress: TimeInterval] = [:]
    private var macRequests: [MACAddress: Int] = [:]
    private var tokens: [String: TimeInterval] = [:]
    private var counters = SimulatorStats()
    private var epoch = 0
    private var connections: [Int32: Connection] = [:]
    private var listenFD: Int32 = -1
    private var acceptLoopRunning = false
    private var stopping = false
    private var boundHost = ""
    private var boundPort: UInt16 = 0

    /// Receives one line per request (for `eniroute-imds-sim --verbose`).
    public var log: (@Sendable (String) -> Void)?

    // Mutated only with `lock` held.
    private final class Connection: @unchecked Sendable {
        var idle = true
        var countedInEpoch = -1
    }

    /// Creates a simulator serving `scenario`; call `start` to listen.
    public init(scenario: Scenario) {
        self.scenario = scenario
        resetClocks()
    }

    deinit { stop() }

    private static func uptime() -> TimeInterval { ProcessInfo.processInfo.systemUptime }

    private func resetClocks() {
        let now = Self.uptime()
        startTimes = Dictionary(uniqueKeysWithValues: scenario.macs.keys.map { ($0, now) })
        macRequests = [:]
    }

    // MARK: Listening

    /// Parses `ADDR:PORT` (`127.0.0.1:0`, `169.254.169.254:80`, `[::1]:8080`).
    public static func parseListenAddress(_ text: String) -> (host: String, port: UInt16)? {
        var host: Substring
        var port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            if host.contains(":") { return nil }
        }
        guard IPAddress(host) != nil, let p = UInt16(port) else { return nil }
        return (String(host), p)
    }

    /// Starts listening on `host` (an IPv4 or IPv6 literal) and `port` (0: an ephemeral port) and
    /// returns the bound port. Connections are accepted as soon as this returns.
    @discardableResult
    public func start(host: String = "127.0.0.1", port: UInt16 = 0) throws(ScenarioError) -> UInt16 {
        guard let address = IPAddress(host) else { throw ScenarioError("\(host.debugDescription) is not an IP address") }
        let family = address.family == .inet ? AF_INET : AF_INET6
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ScenarioError("socket(): \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var rc: Int32
        switch address {
        case .v4(let a):
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            sin.sin_addr = in_addr(s_addr: a.value.bigEndian)
            rc = withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6(let a):
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { raw in
                for (i, b) in a.bytes.enumerated() { raw[i] = b }
            }
            rc = withUnsafePointer(to: &sin6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        guard rc == 0, listen(fd, 128) == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw ScenarioError("cannot listen on \(host):\(port): \(why)")
        }
        var storage = sockaddr_in6()
        var len = socklen_t(MemoryLayout<sockaddr_in6>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        let bound = UInt16(bigEndian: storage.sin6_port)  // sin_port and sin6_port share the offset
        lock.lock()
        listenFD = fd
        boundHost = address.description
        boundPort = bound
        acceptLoopRunning = true
        stopping = false
        lock.unlock()
        let thread = Thread { [self] in acceptLoop(fd) }
        thread.name = "imds-sim-accept"
        thread.start()
        return bound
    }

    /// The bound port (0 before `start`).
    public var port: UInt16 { lock.withLock { boundPort } }

    /// `ADDR:PORT` as bound (`127.0.0.1:41234`, `[::1]:8080`).
    public var listenAddress: String {
        lock.withLock { boundHost.contains(":") ? "[\(boundHost)]:\(boundPort)" : "\(boundHost):\(boundPort)" }
    }

    /// `http://ADDR:PORT`, the base URL for a client.
    public var endpointURL: String { "http://" + listenAddress }

    /// Stops listening, closes every connection and wakes delayed answers. Returns once the
    /// listening socket is closed.
    public func stop() {
        lock.lock()
        stopping = true
        if listenFD >= 0 { shutdown(listenFD, Int32(SHUT_RDWR)) }
        for fd in connections.keys { shutdown(fd, Int32(SHUT_RDWR)) }
        lock.broadcast()
        while acceptLoopRunning { lock.wait() }
        lock.unlock()
    }

    private func acceptLoop(_ fd: Int32) {
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if lock.withLock({ stopping }) { break }
                if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM {
                    // Out of descriptors: wait for a connection to end rather than spin.
                    lock.withLock { _ = lock.wait(until: Date(timeIntervalSinceNow: 0.05)) }
                    continue
                }
                break
            }
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
            let connection = Connection()
            let accepted: Bool = lock.withLock {
                if stopping { return false }
                connections[c] = connection
                counters.openConnections += 1
                return true
            }
            guard accepted else {
                close(c)
                break
            }
            let thread = Thread { [self] in serve(c, connection) }
            thread.name = "imds-sim-conn"
            thread.start()
        }
        lock.lock()
        close(fd)
        listenFD = -1
        acceptLoopRunning = false
        lock.broadcast()
        lock.unlock()
    }

    // MARK: Runtime control (also reachable over HTTP under /_sim/)

    /// The counters so far.
    public func stats() -> SimulatorStats { lock.withLock { counters } }

    /// Zeroes the counters (open connections stay counted as open).
    public func resetStats() {
        lock.withLock {
            let open = counters.openConnections
            counters = SimulatorStats()
            counters.openConnections = open
            epoch += 1
        }
    }

    /// The scenario being served.
    public var currentScenario: Scenario { lock.withLock { scenario } }

    /// Replaces the whole scenario (tokens stay valid; propagation clocks restart).
    public func replaceScenario(_ new: Scenario) {
        lock.withLock {
            scenario = new
            resetClocks()
        }
    }

    /// Attaches an ENI (or replaces its keys), optionally still propagating.
    public func attach(mac: MACAddress, keys: [String: String], propagation: Propagation? = nil) {
        var dir = MetadataNode.directory([:])
        for (k, v) in keys { dir.insert(.value(v), at: k.split(separator: "/").map(String.init)[...]) }
        attach(mac: mac, directory: dir, propagation: propagation)
    }

    private func attach(mac: MACAddress, directory: MetadataNode, propagation: Propagation?) {
        lock.withLock {
            scenario.macs[mac] = directory
            scenario.propagation[mac] = propagation
            startTimes[mac] = Self.uptime()
            macRequests[mac] = 0
        }
    }

    /// Detaches an ENI; returns whether it was attached.
    @discardableResult
    public func detach(mac: MACAddress) -> Bool {
        lock.withLock {
            scenario.propagation[mac] = nil
            return scenario.macs.removeValue(forKey: mac) != nil
        }
    }

    /// Sets one key of an attached ENI (`key` may contain `/` for sub-directories); returns
    /// false when the MAC is not attached.
    @discardableResult
    public func setKey(mac: MACAddress, key: String, value: String) -> Bool {
        lock.withLock {
            guard var dir = scenario.macs[mac] else { return false }
            dir.insert(.value(value), at: key.split(separator: "/").map(String.init)[...])
            scenario.macs[mac] = dir
            return true
        }
    }

    /// Removes one key of an attached ENI; returns whether it existed.
    @discardableResult
    public func deleteKey(mac: MACAddress, key: String) -> Bool {
        lock.withLock {
            guard var dir = scenario.macs[mac] else { return false }
            let removed = dir.remove(at: key.split(separator: "/").map(String.init)[...])
            scenario.macs[mac] = dir
            return removed
        }
    }

    /// Sets the primary MAC (`/latest/meta-data/mac`).
    public func setPrimary(mac: MACAddress?) { lock.withLock { scenario.primaryMAC = mac } }

    /// Adds a fault after the existing ones.
    public func addFault(_ fault: Fault) { lock.withLock { scenario.faults.append(fault) } }

    /// Removes every fault.
    public func clearFaults() { lock.withLock { scenario.faults.removeAll() } }

    /// Sets whether GETs need a token.
    public func setTokenRequired(_ required: Bool) { lock.withLock { scenario.token.required = required } }

    /// Makes every issued token expired (the next request carrying one gets 401).
    public func expireTokens() { lock.withLock { tokens.removeAll() } }

    /// Closes connections that are waiting for their next request, i.e. whose last reply has
    /// been written (a server ending idle keep-alive connections).
    public func closeIdleConnections() {
        lock.withLock {
            for (fd, c) in connections where c.idle { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    // MARK: Serving

    private struct Request {
        var method: String
        var target: String
        var path: String
        var headers: [String: String]  // lower-case names
        var body: [UInt8]
        var keepAlive: Bool
    }

    private struct Reply {
        var status: Int
        var body: [UInt8]
        var headers: [(String, String)] = []
        var chunked = false
        var reset = false
        var contentLengthExtra: Int?
        var drop = false
        var hang = false
        var bytesPerSecond: Double?

        init(_ status: Int, _ text: String, headers: [(String, String)] = []) {
            self.status = status
            self.body = Array(text.utf8)
            self.headers = headers
        }
    }

    private func serve(_ fd: Int32, _ connection: Connection) {
        var buffer: [UInt8] = []
        serving: while true {
            lock.withLock { connection.idle = true }
            let request: Request
            switch readRequest(fd, &buffer) {
            case .request(let r):
                request = r
            case .closed:
                break serving
            case .bad(let status, let why):
                _ = write(fd, Reply(status, why + "\n"), keepAlive: false)
                break serving
            }
            lock.withLock { connection.idle = false }
            let reply: Reply
            if request.path.hasPrefix("/_sim/") || request.path == "/_sim" {
                reply = control(request)
            } else {
                reply = answer(request, connection)
            }
            let outcome = reply.drop ? "dropped" : reply.hang ? "hanging" : String(reply.status)
            log?("\(request.method) \(request.target) -> \(outcome)")
            if reply.drop { break }
            if reply.hang {
                hangUntilClosed(fd)
                break
            }
            // Idle from here: once the reply is handed to the kernel, nothing is in progress
            // (so `closeIdleConnections` right after a client got its answer sees this one).
            lock.withLock { connection.idle = request.keepAlive && !reply.reset && reply.contentLengthExtra == nil }
            let keep = write(fd, reply, keepAlive: request.keepAlive)
            if reply.reset {
                // Abortive close: the peer sees a reset in the middle of the response.
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                break
            }
            if !keep { break }
        }
        lock.withLock {
            connections[fd] = nil
            counters.openConnections -= 1
        }
        close(fd)
    }

    private enum ReadResult {
        case request(Request)
        case closed
        case bad(Int, String)
    }

    /// Reads one request (head and `Content-Length` body); bytes past it stay in `buffer`.
    private func readRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> ReadResult {
        let maxHead = 64 * 1024
        let maxBody = 16 * 1024 * 1024
        var headEnd: Int?
        var scanned = 0
        while true {
            if headEnd == nil {
                var i = max(0, scanned - 3)
                while i + 3 < buffer.count {
                    if buffer[i] == 13, buffer[i + 1] == 10, buffer[i + 2] == 13, buffer[i + 3] == 10 {
                        headEnd = i + 4
                        break
                    }
                    i += 1
                }
                scanned = buffer.count
                if headEnd == nil && buffer.count > maxHead { return .bad(431, "request head too large") }
            }
            if let end = headEnd {
                let headText = String(decoding: buffer[..<(end - 4)], as: UTF8.self)
                var lines = headText.components(separatedBy: "\r\n")
                let requestLine = lines.removeFirst().split(separator: " ")
                guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else {
                    return .bad(400, "bad request line")
                }
                var headers: [String: String] = [:]
                for line in lines where !line.isEmpty {
                    guard let colon = line.firstIndex(of: ":") else { return .bad(400, "bad header line") }
                    let name = line[..<colon].lowercased()
                    let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    headers[name] = headers[name].map { $0 + "," + value } ?? value
                }
                if headers["transfer-encoding"] != nil { return .bad(501, "chunked request bodies are not supported") }
                let length = Int(headers["content-length"] ?? "0") ?? -1
                guard length >= 0, length <= maxBody else { return .bad(400, "bad Content-Length") }
                if buffer.count >= end + length {
                    let body = Array(buffer[end..<(end + length)])
                    buffer.removeFirst(end + length)
                    let target = String(requestLine[1])
                    let path =
                        target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
                    let connectionTokens = (headers["connection"] ?? "").lowercased()
                    let keepAlive =
                        requestLine[2] == "HTTP/1.1"
                        ? !connectionTokens.contains("close") : connectionTokens.contains("keep-alive")
                    return .request(
                        Request(
                            method: String(requestLine[0]), target: target, path: path, headers: headers, body: body,
                            keepAlive: keepAlive))
                }
            }
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 {
                buffer.append(contentsOf: chunk[..<n])
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return .closed
            }
        }
    }

    /// Writes a reply; returns whether the connection may carry another request.
    private func write(_ fd: Int32, _ reply: Reply, keepAlive: Bool) -> Bool {
        let keep = keepAlive && !reply.reset && reply.contentLengthExtra == nil
        var head = "HTTP/1.1 \(reply.status) \(Self.reason(reply.status))\r\nServer: EC2ws\r\nContent-Type: text/plain\r\n"
        for (name, value) in reply.headers { head += "\(name): \(value)\r\n" }
        var payload: [UInt8]
        if reply.chunked {
            head += "Transfer-Encoding: chunked\r\n"
            // Small chunks, an extension and a trailer: exercise every part of a client's parser.
            payload = []
            var rest = reply.body[...]
            var first = true
            // Large bodies (a 10 MB fault) in larger chunks, so that building them stays quick.
            let size = max(7, reply.body.count / 1024)
            while !rest.isEmpty {
                let piece = rest.prefix(first ? 3 : size)
                rest = rest.dropFirst(piece.count)
                payload +=
                    Array((String(piece.count, radix: 16) + (first ? ";sim=1" : "") + "\r\n").utf8) + piece + Array("\r\n".utf8)
                first = false
            }
            payload += Array("0\r\nX-Sim-Trailer: 1\r\n\r\n".utf8)
        } else if reply.reset {
            head += "Content-Length: \(reply.body.count)\r\n"
            payload = Array(reply.body.prefix(reply.body.count / 2))
        } else {
            head += "Content-Length: \(reply.body.count + (reply.contentLengthExtra ?? 0))\r\n"
            payload = reply.body
        }
        if !keep && !reply.reset { head += "Connection: close\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8) + payload
        if let rate = reply.bytesPerSecond {
            // A trickling server: one byte at a time, at `rate` bytes per second, until done, the
            // client goes away or the simulator stops.
            for b in bytes {
                var one = b
                guard Glibc.send(fd, &one, 1, Int32(MSG_NOSIGNAL)) == 1 else { return false }
                let until = Date(timeIntervalSinceNow: 1 / rate)
                lock.lock()
                while !stopping && Date() < until { _ = lock.wait(until: until) }
                let stop = stopping
                lock.unlock()
                if stop { return false }
            }
            return keep
        }
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                sent += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return keep
    }

    /// Never answers: reads and discards whatever the client sends until it closes the
    /// connection or the simulator stops.
    private func hangUntilClosed(_ fd: Int32) {
        var scratch = [UInt8](repeating: 0, count: 4096)
        while !lock.withLock({ stopping }) {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let n = poll(&p, 1, 100)
            if n < 0 && errno != EINTR { return }
            if n > 0 {
                let got = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
                if got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN) { return }
            }
        }
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 204: return "No Content"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }

    // MARK: IMDS semantics

    private static let macsPrefix = "/latest/meta-data/network/interfaces/macs/"

    /// Counts the request, applies a matching fault, then answers it.
    private func answer(_ request: Request, _ connection: Connection) -> Reply {
        let fault: Fault? = lock.withLock {
            counters.requests += 1
            counters.byPath[request.path, default: 0] += 1
            if connection.countedInEpoch != epoch {
                connection.countedInEpoch = epoch
                counters.connections += 1
            }
            if request.method == "PUT" && request.path.hasSuffix("/api/token") { counters.tokenRequests += 1 }
            if request.path.hasPrefix(Self.macsPrefix) {
                let rest = request.path.dropFirst(Self.macsPrefix.count)
                if let mac = MACAddress(rest.prefix(while: { $0 != "/" })) { macRequests[mac, default: 0] += 1 }
            }
            var candidate: Int?
            for (i, f) in scenario.faults.enumerated()
            where f.count != 0 && f.matches(method: request.method, path: request.path) {
                // A fault still in its `after` phase lets this request through (later faults may apply).
                if let a = f.after, a > 0 {
                    scenario.faults[i].after = a - 1
                    continue
                }
                candidate = i
                break
            }
            guard let index = candidate else { return nil }
            let f = scenario.faults[index]
            if f.expireTokens { tokens.removeAll() }
            if let c = f.count {
                if c <= 1 { scenario.faults.remove(at: index) } else { scenario.faults[index].count = c - 1 }
            }
            counters.faultsInjected += 1
            return f
        }
        if let delay = fault?.delay, delay > 0 {
            let until = Date(timeIntervalSinceNow: delay)
            lock.lock()
            while !stopping && Date() < until { _ = lock.wait(until: until) }
            lock.unlock()
        }
        var reply: Reply
        if let fault, fault.hang {
            reply = Reply(0, "")
            reply.hang = true
        } else if let fault, fault.drop {
            reply = Reply(0, "")
            reply.drop = true
        } else if let status = fault?.status {
            reply = Reply(status, fault?.body ?? "\(status) \(Self.reason(status)) (simulated fault)\n")
            if let bytes = fault?.bodyBytes { reply.body = bytes }
        } else {
            reply = lock.withLock { respond(request) }
            if let bytes = fault?.bodyBytes { reply.body = bytes }
        }
        if let fault {
            reply.chunked = fault.chunked
            reply.reset = fault.reset
            reply.contentLengthExtra = fault.contentLengthExtra
            reply.bytesPerSecond = fault.bytesPerSecond
            if let size = fault.bodySize, !reply.drop, !reply.hang {
                let unit = reply.body.isEmpty ? Array("x".utf8) : reply.body
                var body: [UInt8] = []
                body.reserveCapacity(size)
                while body.count < size { body += unit.prefix(size - body.count) }
                reply.body = body
            }
        }
        if !reply.drop { lock.withLock { counters.byStatus[reply.status, default: 0] += 1 } }
        return reply
    }

    /// The normal answer (lock held).
    private func respond(_ request: Request) -> Reply {
        let parts = request.path.split(separator: "/").map(String.init)
        // Token service.
        if parts.count == 3, parts[1] == "api", parts[2] == "token" {
            guard request.method == "PUT" else { return Reply(405, "use PUT for the token\n", headers: [("Allow", "PUT")]) }
            guard parts[0] == "latest" else { return Reply(403, "the token API exists only under /latest/\n") }
            guard request.headers["x-forwarded-for"] == nil else { return Reply(403, "forwarded token requests are refused\n") }
            guard let ttlText = request.headers["x-aws-ec2-metadata-token-ttl-seconds"] else {
                return Reply(400, "missing X-aws-ec2-metadata-token-ttl-seconds\n")
            }
            guard let ttl = Int(ttlText), (1...21600).contains(ttl) else {
                return Reply(400, "X-aws-ec2-metadata-token-ttl-seconds must be 1..21600\n")
            }
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
            let token = String((0..<56).map { _ in alphabet.randomElement()! })
            tokens[token] = Self.uptime() + Double(ttl)
            return Reply(200, token, headers: [("X-aws-ec2-metadata-token-ttl-seconds", String(ttl))])
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            return Reply(405, "method not allowed\n", headers: [("Allow", "GET, HEAD")])
        }
        if let token = request.headers["x-aws-ec2-metadata-token"] {
            guard let expiry = tokens[token], expiry > Self.uptime() else {
                tokens[token] = nil
                return Reply(401, "token invalid or expired\n")
            }
        } else if scenario.token.required {
            return Reply(401, "IMDSv2 token required\n")
        }
        guard let version = parts.first else { return Reply(200, "latest") }
        guard version == "latest" || Self.isVersion(version) else { return Reply(404, "Not Found\n") }
        guard let node = view().lookup(parts.dropFirst()) else { return Reply(404, "Not Found\n") }
        return Reply(200, node.body)
    }

    private static func isVersion(_ s: String) -> Bool {
        s.count == 10 && s.enumerated().allSatisfy { i, c in (i == 4 || i == 7) ? c == "-" : c.isASCII && c.isNumber }
    }

    /// The tree under `/latest/` as it looks now (lock held): the scenario's top level, `mac`,
    /// and every MAC directory with propagation applied.
    private func view() -> MetadataNode {
        var root = scenario.root
        if let primary = scenario.primaryMAC, root.lookup(["meta-data", "mac"]) == nil {
            root.insert(.value(primary.description), at: ["meta-data", "mac"])
        }
        var macs: [String: MetadataNode] = [:]
        for (mac, dir) in scenario.macs { macs[mac.description] = macView(mac, dir) }
        root.remove(at: ["meta-data", "network", "interfaces", "macs"])
        root.insert(.directory(macs), at: ["meta-data", "network", "interfaces", "macs"])
        return root
    }

    private func macView(_ mac: MACAddress, _ dir: MetadataNode) -> MetadataNode {
        guard case .directory(var entries) = dir else { return dir }
        if entries["mac"] == nil { entries["mac"] = .value(mac.description) }
        guard let p = scenario.propagation[mac], !isPropagated(mac, p) else { return .directory(entries) }
        var partial: [String: MetadataNode] = [:]
        for key in p.visibleKeys { partial[key] = entries[key] }
        partial["device-number"] = .value("0")
        return .directory(partial)
    }

    /// Whether a propagating MAC's keys have appeared: after `afterRequests` requests under its
    /// directory (the first N see the partial view) or `afterSeconds` since it was attached.
    private func isPropagated(_ mac: MACAddress, _ p: Propagation) -> Bool {
        if let n = p.afterRequests, macRequests[mac, default: 0] > n { return true }
        if let t = p.afterSeconds, Self.uptime() - (startTimes[mac] ?? 0) >= t { return true }
        return false
    }

    // MARK: Control API

    private func control(_ request: Request) -> Reply {
        let parts = request.path.split(separator: "/").map(String.init).dropFirst()  // drop "_sim"
        let method = request.method
        func json(_ object: Any) -> Reply {
            let data =
                (try? JSONSerialization.data(
                    withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
            return Reply(200, String(decoding: data, as: UTF8.self) + "\n", headers: [("Content-Type", "application/json")])
        }
        func bodyJSON() -> Any? {
            request.body.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(request.body), options: [.fragmentsAllowed])
        }
        let ok = Reply(200, "ok\n")
        switch (method, Array(parts)) {
        case ("GET", ["stats"]):
            return json(stats().jsonObject)
        case ("POST", ["stats", "reset"]):
            resetStats()
            return ok
        case ("GET", ["scenario"]):
            return json(currentScenario.jsonObject)
        case ("PUT", ["scenario"]):
            do {
                replaceScenario(try Scenario(json: Data(request.body)))
                return ok
            } catch {
                return Reply(400, "scenario refused: \(error)\n")
            }
        case ("POST", ["token", "expire"]):
            expireTokens()
            return ok
        case ("PUT", ["fault"]), ("POST", ["fault"]):
            guard let any = bodyJSON() else { return Reply(400, "expected a JSON fault object or list\n") }
            do {
                var added: [Fault] = []
                for item in (any as? [Any]) ?? [any] { added.append(try Fault.from(json: item)) }
                for f in added { addFault(f) }
                return ok
            } catch {
                return Reply(400, "fault refused: \(error)\n")
            }
        case ("DELETE", ["fault"]):
            clearFaults()
            return ok
        case ("GET", ["fault"]):
            return json(currentScenario.faults.map(\.json))
        case (_, let p) where p.count >= 2 && p[0] == "mac":
            guard let mac = MACAddress(p[1]) else { return Reply(400, "bad MAC \(p[1].debugDescription)\n") }
            let key = p.dropFirst(2).joined(separator: "/")
            switch (method, key.isEmpty) {
            case ("POST", true), ("PUT", true):
                var directory = MetadataNode.directory([:])
                var propagation: Propagation?
                if let any = bodyJSON() {
                    guard let o = any as? [String: Any] else { return Reply(400, "expected a JSON object\n") }
                    let keys = (o["keys"] as? [String: Any]) ?? (o["propagation"] == nil ? o : [:])
                    if case .directory(let e)? = MetadataNode.from(json: keys) { directory = Scenario.normalised(e) }
                    if let p = o["propagation"] {
                        do { propagation = try Propagation.from(json: p) } catch { return Reply(400, "\(error)\n") }
                    }
                }
                attach(mac: mac, directory: directory, propagation: propagation)
                return ok
            case ("DELETE", true):
                return detach(mac: mac) ? ok : Reply(404, "\(mac) is not attached\n")
            case ("PUT", false):
                return setKey(mac: mac, key: key, value: String(decoding: request.body, as: UTF8.self))
                    ? ok : Reply(404, "\(mac) is not attached\n")
            case ("DELETE", false):
                return deleteKey(mac: mac, key: key) ? ok : Reply(404, "no key \(key) on \(mac)\n")
            default:
                return Reply(405, "method not allowed\n")
            }
        case ("PUT", let p) where p.count == 2 && p[0] == "primary":
            guard let mac = MACAddress(p[1]) else { return Reply(400, "bad MAC\n") }
            setPrimary(mac: mac)
            return ok
        case ("PUT", ["token"]):
            guard let o = bodyJSON() as? [String: Any], let required = o["required"] as? Bool else {
                return Reply(400, "expected {\"required\": true|false}\n")
            }
            setTokenRequired(required)
            return ok
        default:
            return Reply(404, "unknown control request \(method) \(request.path); see docs/simulator.md\n")
        }
    }
}
