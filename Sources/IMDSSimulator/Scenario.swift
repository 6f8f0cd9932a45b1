import ENIRouteCore
import Foundation

/// A value in the simulated metadata tree: a leaf body or a directory.
public indirect enum MetadataNode: Equatable, Sendable {
    /// A key and its body.
    case value(String)
    /// A directory: entry name → node. Listed with a trailing `/` for sub-directories.
    case directory([String: MetadataNode])

    /// Inserts `node` at `path` (components) below this directory, creating directories on the
    /// way. When a leaf and a directory claim the same name, the directory wins (fixtures from
    /// AWS's mock contain both `x` and `x/y`).
    mutating func insert(_ node: MetadataNode, at path: ArraySlice<String>) {
        guard case .directory(var entries) = self else {
            self = .directory([:])
            insert(node, at: path)
            return
        }
        guard let first = path.first else { return }
        if path.count == 1 {
            switch (entries[first], node) {
            case (.directory(let old)?, .directory(let new)):
                entries[first] = .directory(old.merging(new, uniquingKeysWith: { _, n in n }))
            case (.directory?, .value):
                break  // directory wins
            default:
                entries[first] = node
            }
        } else {
            var child = entries[first] ?? .directory([:])
            if case .value = child { child = .directory([:]) }
            child.insert(node, at: path.dropFirst())
            entries[first] = child
        }
        self = .directory(entries)
    }

    /// Removes the node at `path`; returns whether something was removed.
    @discardableResult
    mutating func remove(at path: ArraySlice<String>) -> Bool {
        guard case .directory(var entries) = self, let first = path.first else { return false }
        var removed = false
        if path.count == 1 {
            removed = entries.removeValue(forKey: first) != nil
        } else if var child = entries[first] {
            removed = child.remove(at: path.dropFirst())
            entries[first] = child
        }
        self = .directory(entries)
        return removed
    }

    /// The node at `path`, if any.
    func lookup(_ path: ArraySlice<String>) -> MetadataNode? {
        guard let first = path.first else { return self }
        guard case .directory(let entries) = self, let child = entries[first] else { return nil }
        return child.lookup(path.dropFirst())
    }

    /// The leaf body at a single-component key, if it is a leaf.
    func value(_ key: String) -> String? {
        if case .directory(let entries) = self, case .value(let v)? = entries[key] { return v }
        return nil
    }

    /// The body IMDS sends for this node: the value, or the sorted listing (directories with `/`).
    var body: String {
        switch self {
        case .value(let v): return v
        case .directory(let entries):
            return entries.keys.sorted().map { name in
                if case .directory = entries[name]! { return name + "/" }
                return name
            }.joined(separator: "\n")
        }
    }

    /// Parses a JSON value in the cloud-init crawler form: string → body, list → lines,
    /// object → sub-directory (keys may contain `/`), number/bool → its text.
    static func from(json: Any) -> MetadataNode? {
        switch json {
        case let s as String: return .value(s)
        case let list as [Any]: return .value(list.map { textOf($0) }.joined(separator: "\n"))
        case let object as [String: Any]:
            var dir = MetadataNode.directory([:])
            for (k, v) in object {
                let parts = k.split(separator: "/").map(String.init)
                guard !parts.isEmpty, let child = from(json: v) else { continue }
                dir.insert(child, at: parts[...])
            }
            return dir
        case is NSNull: return nil
        default: return .value(textOf(json))
        }
    }

    /// The node as JSON (crawler form).
    var json: Any {
        switch self {
        case .value(let v): return v
        case .directory(let entries): return entries.mapValues { $0.json }
        }
    }
}

private func textOf(_ any: Any) -> String {
    if let s = any as? String { return s }
    if let n = any as? NSNumber {
        if String(describing: type(of: any)).contains("Boolean") { return n.boolValue ? "true" : "false" }
        return n.stringValue
    }
    return "\(any)"
}

/// Token behaviour.
public struct TokenPolicy: Equatable, Sendable {
    /// Whether GETs without a token are refused with 401 (IMDSv2 required). Default: true.
    public var required: Bool
    /// Creates a policy.
    public init(required: Bool = true) { self.required = required }
}

/// A fault injected into the responses of matching requests.
public struct Fault: Equatable, Sendable {
    /// The request path it applies to: exact, or a prefix when it ends with `*`.
    public var path: String
    /// The method it applies to (`GET`, `PUT`); nil for any.
    public var method: String?
    /// Seconds to wait before answering (then the normal or faulted answer follows).
    public var delay: Double?
    /// Answer with this status instead.
    public var status: Int?
    /// The body for `status` (default: a short text).
    public var body: String?
    /// Send the head and half the body, then reset the connection.
    public var reset: Bool
    /// Close the connection without sending anything.
    public var drop: Bool
    /// Send the body with `Transfer-Encoding: chunked`.
    public var chunked: Bool
    /// Claim this many more bytes in `Content-Length` than are sent, then close the connection.
    public var contentLengthExtra: Int?
    /// How many matching requests it still applies to; nil for all.
    public var count: Int?
    /// How many matching requests still pass through untouched before it applies (a token that
    /// expires mid-run, a key that starts answering 404 mid-run); nil or 0: from the first one.
    public var after: Int?
    /// Send the whole reply (head and body) at this many bytes per second (a trickling server).
    public var bytesPerSecond: Double?
    /// Read the request and never answer; the connection stays open until the client closes it
    /// or the simulator stops.
    public var hang: Bool
    /// The body as raw bytes (wins over `body`; JSON `body_base64`), e.g. bytes that are not UTF-8.
    public var bodyBytes: [UInt8]?
    /// Repeat the body (the fault's or the normal one) until it is exactly this many bytes.
    public var bodySize: Int?
    /// Expire every issued token before answering (IMDS token expiry in the middle of a run).
    public var expireTokens: Bool

    /// Creates a fault.
    public init(
        path: String, method: String? = nil, delay: Double? = nil, status: Int? = nil, body: String? = nil, reset: Bool = false,
        drop: Bool = false, chunked: Bool = false, contentLengthExtra: Int? = nil, count: Int? = nil, after: Int? = nil,
        bytesPerSecond: Double? = nil, hang: Bool = false, bodyBytes: [UInt8]? = nil, bodySize: Int? = nil,
        expireTokens: Bool = false
    ) {
        self.path = path
        self.method = method
        self.delay = delay
        self.status = status
        self.body = body
        self.reset = reset
        self.drop = drop
        self.chunked = chunked
        self.contentLengthExtra = contentLengthExtra
        self.count = count
        self.after = after
        self.bytesPerSecond = bytesPerSecond
        self.hang = hang
        self.bodyBytes = bodyBytes
        self.bodySize = bodySize
        self.expireTokens = expireTokens
    }

    /// Whether it applies to a request.
    func matches(method m: String, path p: String) -> Bool {
        if let method, method.uppercased() != m { return false }
        if path.hasSuffix("*") { return p.hasPrefix(path.dropLast()) }
        return p == path
    }

    /// Parses the JSON form (see docs/simulator.md).
    static func from(json: Any) throws(ScenarioError) -> Fault {
        guard let o = json as? [String: Any] else { throw ScenarioError("a fault must be a JSON object") }
        var path = o["path"] as? String
        if path == nil, let mac = o["mac"] as? String {
            guard let m = MACAddress(mac) else { throw ScenarioError("fault: bad mac \(mac.debugDescription)") }
            path = "/latest/meta-data/network/interfaces/macs/\(m)/" + ((o["key"] as? String) ?? "")
        }
        guard let path else { throw ScenarioError("fault: needs \"path\" (or \"mac\" and \"key\")") }
        func number(_ k: String) -> Double? { (o[k] as? NSNumber)?.doubleValue }
        func int(_ k: String) throws(ScenarioError) -> Int? {
            guard let v = o[k] else { return nil }
            guard let n = v as? NSNumber, n.doubleValue == n.doubleValue.rounded() else {
                throw ScenarioError("fault \(path): \(k) must be a whole number")
            }
            return n.intValue
        }
        let known: Set<String> = [
            "path", "mac", "key", "method", "delay_ms", "delay", "status", "body", "reset", "drop", "chunked",
            "content_length_extra", "count", "after", "bytes_per_second", "hang", "body_base64", "body_size", "expire_tokens",
        ]
        if let unknown = o.keys.first(where: { !known.contains($0) }) {
            throw ScenarioError("fault \(path): unknown field \(unknown.debugDescription)")
        }
        var delay = number("delay")
        if let ms = number("delay_ms") { delay = ms / 1000 }
        var bodyBytes: [UInt8]?
        if let b64 = o["body_base64"] {
            guard let text = b64 as? String, let data = Data(base64Encoded: text) else {
                throw ScenarioError("fault \(path): body_base64 is not base64")
            }
            bodyBytes = Array(data)
        }
        let rate = number("bytes_per_second")
        if let rate, !(rate > 0) { throw ScenarioError("fault \(path): bytes_per_second must be > 0") }
        let size = try int("body_size")
        if let size, size < 0 || size > 256 * 1024 * 1024 { throw ScenarioError("fault \(path): body_size out of range") }
        return Fault(
            path: path, method: o["method"] as? String, delay: delay, status: try int("status"), body: o["body"] as? String,
            reset: (o["reset"] as? Bool) ?? false, drop: (o["drop"] as? Bool) ?? false, chunked: (o["chunked"] as? Bool) ?? false,
            contentLengthExtra: try int("content_length_extra"), count: try int("count"), after: try int("after"),
            bytesPerSecond: rate, hang: (o["hang"] as? Bool) ?? false, bodyBytes: bodyBytes, bodySize: size,
            expireTokens: (o["expire_tokens"] as? Bool) ?? false)
    }

    var json: [String: Any] {
        var o: [String: Any] = ["path": path]
        if let method { o["method"] = method }
        if let delay { o["delay_ms"] = Int(delay * 1000) }
        if let status { o["status"] = status }
        if let body { o["body"] = body }
        if reset { o["reset"] = true }
        if drop { o["drop"] = true }
        if chunked { o["chunked"] = true }
        if let contentLengthExtra { o["content_length_extra"] = contentLengthExtra }
        if let count { o["count"] = count }
        if let after { o["after"] = after }
        if let bytesPerSecond { o["bytes_per_second"] = bytesPerSecond }
        if hang { o["hang"] = true }
        if let bodyBytes { o["body_base64"] = Data(bodyBytes).base64EncodedString() }
        if let bodySize { o["body_size"] = bodySize }
        if expireTokens { o["expire_tokens"] = true }
        return o
    }
}

/// A MAC whose keys are still propagating: until ready, its directory lists only `visibleKeys`
/// plus `device-number`, which reads `0`; other keys answer 404.
public struct Propagation: Equatable, Sendable {
    /// Ready once this many requests under the MAC's directory have been answered.
    public var afterRequests: Int?
    /// Ready this many seconds after the scenario was loaded or the MAC attached.
    public var afterSeconds: Double?
    /// Keys visible before ready (besides `device-number`).
    public var visibleKeys: [String]

    /// Keys visible by default before ready.
    public static let defaultVisibleKeys = ["mac", "interface-id"]

    /// Creates a propagation delay; with neither condition the MAC never becomes ready.
    public init(afterRequests: Int? = nil, afterSeconds: Double? = nil, visibleKeys: [String] = defaultVisibleKeys) {
        self.afterRequests = afterRequests
        self.afterSeconds = afterSeconds
        self.visibleKeys = visibleKeys
    }

    static func from(json: Any) throws(ScenarioError) -> Propagation {
        guard let o = json as? [String: Any] else { throw ScenarioError("propagation entries must be JSON objects") }
        return Propagation(
            afterRequests: (o["after_requests"] as? NSNumber)?.intValue,
            afterSeconds: (o["after_seconds"] as? NSNumber)?.doubleValue,
            visibleKeys: (o["visible_keys"] as? [String]) ?? defaultVisibleKeys)
    }

    var json: [String: Any] {
        var o: [String: Any] = ["visible_keys": visibleKeys]
        if let afterRequests { o["after_requests"] = afterRequests }
        if let afterSeconds { o["after_seconds"] = afterSeconds }
        return o
    }
}

/// A scenario error, with a sentence saying what is wrong.
public struct ScenarioError: Error, CustomStringConvertible, Equatable {
    /// What is wrong.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What the simulator serves: the instance's metadata, token policy, faults and propagation.
public struct Scenario: Equatable, Sendable {
    /// The primary ENI's MAC (served as `/latest/meta-data/mac`).
    public var primaryMAC: MACAddress?
    /// Per-MAC directories (`…/network/interfaces/macs/<mac>/`), in the crawler form.
    public var macs: [MACAddress: MetadataNode]
    /// Everything else, rooted at `/latest/` (`meta-data/instance-id`, `dynamic/…`).
    public var root: MetadataNode
    /// Token behaviour.
    public var token: TokenPolicy
    /// Faults, applied in order (the first matching one wins).
    public var faults: [Fault]
    /// MACs whose keys are still propagating.
    public var propagation: [MACAddress: Propagation]

    /// Creates a scenario.
    public init(
        primaryMAC: MACAddress? = nil, macs: [MACAddress: MetadataNode] = [:], root: MetadataNode = .directory([:]),
        token: TokenPolicy = TokenPolicy(), faults: [Fault] = [], propagation: [MACAddress: Propagation] = [:]
    ) {
        self.primaryMAC = primaryMAC
        self.macs = macs
        self.root = root
        self.token = token
        self.faults = faults
        self.propagation = propagation
    }

    /// Creates a scenario from per-MAC key values (test convenience): `[mac: [key: body]]`.
    public init(primaryMAC: String, macs: [String: [String: String]], token: TokenPolicy = TokenPolicy()) {
        var m: [MACAddress: MetadataNode] = [:]
        for (mac, keys) in macs {
            var dir = MetadataNode.directory([:])
            for (k, v) in keys { dir.insert(.value(v), at: k.split(separator: "/").map(String.init)[...]) }
            m[MACAddress(mac)!] = dir
        }
        self.init(primaryMAC: MACAddress(primaryMAC), macs: m, token: token)
        self.primaryMAC = self.primaryMAC ?? Scenario.inferPrimary(m)
    }

    /// Loads a scenario file (see docs/simulator.md); also reads the fixtures in
    /// `Tests/Fixtures/imds/` that have a `macs` object.
    public static func load(path: String) throws(ScenarioError) -> Scenario {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ScenarioError("\(path): cannot read: \(error.localizedDescription)")
        }
        do {
            return try Scenario(json: data)
        } catch {
            throw ScenarioError("\(path): \(error.message)")
        }
    }

    /// Parses a scenario from JSON.
    public init(json data: Data) throws(ScenarioError) {
        let any: Any
        do {
            any = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ScenarioError("not valid JSON: \(error.localizedDescription)")
        }
        guard let o = any as? [String: Any] else { throw ScenarioError("the scenario must be a JSON object") }
        try self.init(object: o)
    }

    /// Parses a scenario from a decoded JSON object.
    init(object o: [String: Any]) throws(ScenarioError) {
        self.init()
        guard let macsObject = o["macs"] as? [String: Any] else {
            throw ScenarioError("no \"macs\" object (this file has: \(o.keys.sorted().joined(separator: ", ")))")
        }
        for (text, value) in macsObject {
            guard let mac = MACAddress(text) else { throw ScenarioError("macs: \(text.debugDescription) is not a MAC address") }
            guard let node = MetadataNode.from(json: value), case .directory(let entries) = node else {
                throw ScenarioError("macs.\(text) must be an object of keys")
            }
            macs[mac] = Scenario.normalised(entries)
        }
        // Top-level metadata: crawler form (keys relative to /latest/meta-data/) or AWS's mock
        // form (absolute keys like "/latest/meta-data/mac").
        if let top = o["top_level"] as? [String: Any] {
            for (key, value) in top {
                guard let node = MetadataNode.from(json: value) else { continue }
                var parts = key.split(separator: "/").map(String.init)
                if key.hasPrefix("/") {
                    guard parts.first == "latest" else { continue }
                    parts.removeFirst()
                } else {
                    parts.insert("meta-data", at: 0)
                }
                guard !parts.isEmpty else { continue }
                root.insert(node, at: parts[...])
            }
        }
        if let text = o["mac"] as? String {
            guard let mac = MACAddress(text) else { throw ScenarioError("mac: \(text.debugDescription) is not a MAC address") }
            primaryMAC = mac
        } else if let text = root.lookup(["meta-data", "mac"]).flatMap({ n -> String? in
            if case .value(let v) = n { return v }
            return nil
        }), let mac = MACAddress(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            primaryMAC = mac
        } else {
            primaryMAC = Scenario.inferPrimary(macs)
        }
        if let t = o["token"] {
            guard let t = t as? [String: Any] else { throw ScenarioError("token must be an object") }
            token.required = (t["required"] as? Bool) ?? true
        }
        if let f = o["faults"] {
            let list = (f as? [Any]) ?? [f]
            for item in list { faults.append(try Fault.from(json: item)) }
        }
        if let p = o["propagation"] {
            guard let p = p as? [String: Any] else { throw ScenarioError("propagation must be an object keyed by MAC") }
            for (text, value) in p {
                guard let mac = MACAddress(text) else {
                    throw ScenarioError("propagation: \(text.debugDescription) is not a MAC")
                }
                propagation[mac] = try Propagation.from(json: value)
            }
        }
    }

    /// Real IMDS keys use hyphens; some fixtures spell per-MAC keys with underscores.
    static func normalised(_ entries: [String: MetadataNode]) -> MetadataNode {
        var out: [String: MetadataNode] = [:]
        for (k, v) in entries {
            let key = k.replacingOccurrences(of: "_", with: "-")
            if out[key] == nil || k == key { out[key] = v }
        }
        return .directory(out)
    }

    /// The MAC with device-number 0 on network card 0, when the file does not name the primary.
    static func inferPrimary(_ macs: [MACAddress: MetadataNode]) -> MACAddress? {
        macs.keys.sorted().first { mac in
            let dir = macs[mac]!
            let device = dir.value("device-number").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            let card = (dir.value("network-card") ?? dir.value("network-card-index"))
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            return device == "0" && (card == nil || card == "0")
        }
    }

    /// The scenario as JSON (the documented form).
    public var jsonObject: [String: Any] {
        var o: [String: Any] = [:]
        if let primaryMAC { o["mac"] = primaryMAC.description }
        o["macs"] = Dictionary(uniqueKeysWithValues: macs.map { ($0.key.description, $0.value.json) })
        if case .directory(let entries) = root, !entries.isEmpty {
            var top: [String: Any] = [:]
            func flatten(_ node: MetadataNode, _ prefix: String) {
                switch node {
                case .value(let v): top[prefix] = v
                case .directory(let e): for (k, n) in e { flatten(n, prefix + "/" + k) }
                }
            }
            flatten(root, "/latest")
            o["top_level"] = top
        }
        o["token"] = ["required": token.required]
        if !faults.isEmpty { o["faults"] = faults.map(\.json) }
        if !propagation.isEmpty {
            o["propagation"] = Dictionary(uniqueKeysWithValues: propagation.map { ($0.key.description, $0.value.json) })
        }
        return o
    }
}
