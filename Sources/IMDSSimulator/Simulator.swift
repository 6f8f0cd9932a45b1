import ENIRouteCore
import ENIRouteSystem
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An in-process EC2 instance metadata service for tests: serves an `IMDSService` over HTTP/1.1
/// (keep-alive, one thread per connection), with the control API under `/_sim/` on the same
/// listener (see docs/simulator.md). This class owns the sockets and threads; what a request
/// gets is decided by the service and the control API.
public final class IMDSSimulator: @unchecked Sendable {
    // Everything mutable below is guarded by `lock`; its condition also wakes delayed answers on stop.
    let lock = NSCondition()
    var service: IMDSService
    private var connections: [Int32: Connection] = [:]
    private var nextConnection = 0
    private var listenFD: Int32 = -1
    private var acceptLoopRunning = false
    var stopping = false
    private var boundHost = ""
    private var boundPort: UInt16 = 0

    /// Receives one line per request (for `eniroute-imds-sim --verbose`).
    public var log: (@Sendable (String) -> Void)?

    /// How replies are written; set before `start`.
    public var writeMode = WriteMode.whole

    /// How a reply goes onto the connection.
    public enum WriteMode: String, Sendable, CaseIterable {
        /// One `send` for the head and the body.
        case whole
        /// Two `send` calls, the head block then the body, as Python's `http.server` and many
        /// small servers write (with Nagle's algorithm on, as there).
        case split
    }

    // Mutated only with `lock` held.
    private final class Connection: @unchecked Sendable {
        let id: Int
        var idle = true
        init(id: Int) { self.id = id }
    }

    /// Creates a simulator serving `scenario`; call `start` to listen.
    public init(scenario: Scenario) {
        service = IMDSService(scenario: scenario)
    }

    deinit { stop() }

    // MARK: Listening

    /// Starts listening on `host` (an IPv4 or IPv6 literal) and `port` (0: an ephemeral port) and
    /// returns the bound port. Connections are accepted as soon as this returns.
    @discardableResult
    public func start(host: String = "127.0.0.1", port: UInt16 = 0) throws(ScenarioError) -> UInt16 {
        guard let address = IPAddress(host) else { throw ScenarioError("\(host.debugDescription) is not an IP address") }
        let (fd, bound) = try Listener.open(address, port: port)
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

    /// Closes connections that are waiting for their next request, i.e. whose last reply has
    /// been written (a server ending idle keep-alive connections).
    public func closeIdleConnections() {
        lock.withLock {
            for (fd, c) in connections where c.idle { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    private func acceptLoop(_ fd: Int32) {
        while true {
            let c: Int32
            do {
                c = try retryOnInterrupt { accept(fd, nil, nil) }
            } catch .connectionAborted {
                continue
            } catch {
                if lock.withLock({ stopping }) { break }
                guard [.tooManyOpenFiles, .tooManyOpenFilesInSystem, .noBufferSpace, .noMemory].contains(error) else { break }
                // Out of descriptors: wait for a connection to end rather than spin.
                lock.withLock { _ = lock.wait(until: Date(timeIntervalSinceNow: 0.05)) }
                continue
            }
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
            let connection: Connection? = lock.withLock {
                if stopping { return nil }
                nextConnection += 1
                let connection = Connection(id: nextConnection)
                connections[c] = connection
                service.countOpenConnections(1)
                return connection
            }
            guard let connection else {
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

    // MARK: Serving

    private func serve(_ fd: Int32, _ connection: Connection) {
        var buffer: [UInt8] = []
        serving: while true {
            lock.withLock { connection.idle = true }
            let request: SimulatorRequest
            switch Wire.readRequest(fd, &buffer) {
            case .request(let r):
                request = r
            case .incomplete:
                break serving
            case .bad(let status, let why):
                _ = Wire.write(SimulatorReply(status, why + "\n"), to: fd, keepAlive: false, mode: writeMode, simulator: self)
                break serving
            }
            lock.withLock { connection.idle = false }
            let reply = answer(request, connection)
            log?(
                "\(request.method) \(request.target) -> \(reply.drop ? "dropped" : reply.hang ? "hanging" : String(reply.status))"
            )
            if reply.drop { break }
            if reply.hang {
                Wire.discardUntilClosed(fd, simulator: self)
                break
            }
            // Idle from here: once the reply is handed to the kernel, nothing is in progress
            // (so `closeIdleConnections` right after a client got its answer sees this one).
            lock.withLock { connection.idle = reply.keepsConnection(requested: request.keepAlive) }
            let keep = Wire.write(reply, to: fd, keepAlive: request.keepAlive, mode: writeMode, simulator: self)
            if reply.reset {
                Wire.abortOnClose(fd)
                break
            }
            if !keep { break }
        }
        lock.withLock {
            connections[fd] = nil
            service.countOpenConnections(-1)
            service.connectionClosed(connection.id)
        }
        close(fd)
    }

    /// The control API's answer, or the service's (after the delay a fault asks for).
    private func answer(_ request: SimulatorRequest, _ connection: Connection) -> SimulatorReply {
        if ControlAPI.claims(request.path) { return lock.withLock { ControlAPI.handle(request, service: &service) } }
        let fault = lock.withLock { service.admit(request, connection: connection.id) }
        if let delay = fault?.delay, delay > 0 { _ = wait(seconds: delay) }
        return lock.withLock { service.reply(to: request, fault: fault) }
    }

    /// Waits `seconds` unless the simulator stops first; returns false when it stopped.
    func wait(seconds: Double) -> Bool {
        let until = Date(timeIntervalSinceNow: seconds)
        lock.lock()
        defer { lock.unlock() }
        while !stopping && Date() < until { _ = lock.wait(until: until) }
        return !stopping
    }
}
