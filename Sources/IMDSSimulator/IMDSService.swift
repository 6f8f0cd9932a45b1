import ENIRouteCore
import ENIRouteSystem
import Foundation

/// The instance metadata service's semantics as a value: a request in, a reply out. IMDSv2
/// tokens, the metadata tree with propagation, faults and the counters; no sockets, threads or
/// locks (`IMDSSimulator` serialises access and does the waiting a fault's delay asks for).
public struct IMDSService: Sendable {
    /// The scenario being served (faults are used up as they apply).
    public internal(set) var scenario: Scenario
    /// The counters so far.
    public internal(set) var stats = SimulatorStats()
    var startTimes: [MACAddress: Double] = [:]
    var macRequests: [MACAddress: Int] = [:]
    var tokens: [String: Double] = [:]
    var countedConnections: Set<Int> = []
    let clock: @Sendable () -> Double

    /// Seconds on the monotonic clock (the default clock).
    public static func uptime() -> Double { MonotonicInstant.now().seconds }

    /// A service for `scenario`; `clock` gives seconds (token expiry, propagation after seconds).
    public init(scenario: Scenario, clock: @escaping @Sendable () -> Double = IMDSService.uptime) {
        self.scenario = scenario
        self.clock = clock
        resetClocks()
    }

    private static let macsPrefix = "/latest/meta-data/network/interfaces/macs/"

    /// Counts an IMDS request from connection `connection` and picks the fault that applies to
    /// it, if any; the caller waits for the fault's `delay` and then asks for `reply(to:fault:)`.
    public mutating func admit(_ request: SimulatorRequest, connection: Int) -> Fault? {
        stats.requests += 1
        stats.byPath[request.path, default: 0] += 1
        if countedConnections.insert(connection).inserted { stats.connections += 1 }
        if request.method == "PUT" && request.path.hasSuffix("/api/token") { stats.tokenRequests += 1 }
        if request.path.hasPrefix(Self.macsPrefix) {
            let rest = request.path.dropFirst(Self.macsPrefix.count)
            if let mac = MACAddress(rest.prefix(while: { $0 != "/" })) { macRequests[mac, default: 0] += 1 }
        }
        var candidate: Int?
        for (i, f) in scenario.faults.enumerated() where f.count != 0 && f.matches(method: request.method, path: request.path) {
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
        stats.faultsInjected += 1
        return f
    }

    /// The reply to an admitted request, shaped by its fault.
    public mutating func reply(to request: SimulatorRequest, fault: Fault?) -> SimulatorReply {
        var reply: SimulatorReply
        if let fault, fault.hang || fault.drop {
            reply = SimulatorReply(0, "")
            (reply.hang, reply.drop) = (fault.hang, fault.drop)
            return reply
        } else if let status = fault?.status {
            reply = SimulatorReply(status, fault?.body ?? "\(status) \(SimulatorReply.reason(status)) (simulated fault)\n")
        } else {
            reply = respond(request)
        }
        if let fault {
            if let bytes = fault.bodyBytes { reply.body = bytes }
            reply.chunked = fault.chunked
            reply.reset = fault.reset
            reply.contentLengthExtra = fault.contentLengthExtra
            reply.bytesPerSecond = fault.bytesPerSecond
            if let size = fault.bodySize {
                let unit = reply.body.isEmpty ? Array("x".utf8) : reply.body
                var body: [UInt8] = []
                body.reserveCapacity(size)
                while body.count < size { body += unit.prefix(size - body.count) }
                reply.body = body
            }
        }
        stats.byStatus[reply.status, default: 0] += 1
        return reply
    }

    /// `admit` and `reply` in one step (a fault's delay is not waited for).
    public mutating func handle(_ request: SimulatorRequest, connection: Int = 0) -> SimulatorReply {
        let fault = admit(request, connection: connection)
        return reply(to: request, fault: fault)
    }

    /// Forgets a closed connection (its next use would be a new connection).
    public mutating func connectionClosed(_ connection: Int) { countedConnections.remove(connection) }

    /// The normal answer: the token service, token checks, then the tree.
    private mutating func respond(_ request: SimulatorRequest) -> SimulatorReply {
        let parts = request.path.split(separator: "/").map(String.init)
        if parts.count == 3, parts[1] == "api", parts[2] == "token" { return issueToken(request, version: parts[0]) }
        guard request.method == "GET" || request.method == "HEAD" else {
            return SimulatorReply(405, "method not allowed\n", headers: [("Allow", "GET, HEAD")])
        }
        if let token = request.headers["x-aws-ec2-metadata-token"] {
            guard let expiry = tokens[token], expiry > clock() else {
                tokens[token] = nil
                return SimulatorReply(401, "token invalid or expired\n")
            }
        } else if scenario.token.required {
            return SimulatorReply(401, "IMDSv2 token required\n")
        }
        guard let version = parts.first else { return SimulatorReply(200, "latest") }
        guard version == "latest" || Self.isVersion(version) else { return SimulatorReply(404, "Not Found\n") }
        guard let node = view().lookup(parts.dropFirst()) else { return SimulatorReply(404, "Not Found\n") }
        return SimulatorReply(200, node.body)
    }

    private mutating func issueToken(_ request: SimulatorRequest, version: String) -> SimulatorReply {
        guard request.method == "PUT" else { return SimulatorReply(405, "use PUT for the token\n", headers: [("Allow", "PUT")]) }
        guard version == "latest" else { return SimulatorReply(403, "the token API exists only under /latest/\n") }
        guard request.headers["x-forwarded-for"] == nil else {
            return SimulatorReply(403, "forwarded token requests are refused\n")
        }
        guard let ttlText = request.headers["x-aws-ec2-metadata-token-ttl-seconds"] else {
            return SimulatorReply(400, "missing X-aws-ec2-metadata-token-ttl-seconds\n")
        }
        guard let ttl = Int(ttlText), (1...21600).contains(ttl) else {
            return SimulatorReply(400, "X-aws-ec2-metadata-token-ttl-seconds must be 1..21600\n")
        }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        let token = String((0..<56).map { _ in alphabet.randomElement()! })
        tokens[token] = clock() + Double(ttl)
        return SimulatorReply(200, token, headers: [("X-aws-ec2-metadata-token-ttl-seconds", String(ttl))])
    }

    private static func isVersion(_ s: String) -> Bool {
        s.count == 10 && s.enumerated().allSatisfy { i, c in (i == 4 || i == 7) ? c == "-" : c.isASCII && c.isNumber }
    }

    /// The tree under `/latest/` as it looks now: the scenario's top level, `mac`, and every MAC
    /// directory with propagation applied.
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
        if let t = p.afterSeconds, clock() - (startTimes[mac] ?? 0) >= t { return true }
        return false
    }

    mutating func resetClocks() {
        let now = clock()
        startTimes = Dictionary(uniqueKeysWithValues: scenario.macs.keys.map { ($0, now) })
        macRequests = [:]
    }
}
