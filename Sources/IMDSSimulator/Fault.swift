import ENIRouteCore
import Foundation

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
}

/// The JSON form of docs/simulator.md: snake_case fields, `delay_ms` (or `delay` in seconds),
/// `mac` and `key` instead of `path`, `body_base64`; an unknown field is refused.
extension Fault: Codable {
    private enum Key: String, CodingKey, CaseIterable {
        case path, mac, key, method, delay, status, body, reset, drop, chunked, count, after, hang
        case delayMS = "delay_ms", contentLengthExtra = "content_length_extra", bytesPerSecond = "bytes_per_second"
        case bodyBase64 = "body_base64", bodySize = "body_size", expireTokens = "expire_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let unknown = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
            .first { Key(rawValue: $0) == nil }
        let c = try decoder.container(keyedBy: Key.self)
        var path = try c.decodeIfPresent(String.self, forKey: .path)
        if path == nil, let text = try c.decodeIfPresent(String.self, forKey: .mac) {
            guard let mac = MACAddress(text) else { throw ScenarioError("fault: bad mac \(text.debugDescription)") }
            path = "/latest/meta-data/network/interfaces/macs/\(mac)/" + (try c.decodeIfPresent(String.self, forKey: .key) ?? "")
        }
        guard let path else { throw ScenarioError("fault: needs \"path\" (or \"mac\" and \"key\")") }
        if let unknown { throw ScenarioError("fault \(path): unknown field \(unknown.debugDescription)") }
        func int(_ k: Key) throws -> Int? {
            guard c.contains(k) else { return nil }
            guard let n = try? c.decode(Int.self, forKey: k) else {
                throw ScenarioError("fault \(path): \(k.rawValue) must be a whole number")
            }
            return n
        }
        func flag(_ k: Key) throws -> Bool { try c.decodeIfPresent(Bool.self, forKey: k) ?? false }
        self.init(path: path, method: try c.decodeIfPresent(String.self, forKey: .method))
        delay = try c.decodeIfPresent(Double.self, forKey: .delay)
        if let ms = try c.decodeIfPresent(Double.self, forKey: .delayMS) { delay = ms / 1000 }
        if let text = try c.decodeIfPresent(String.self, forKey: .bodyBase64) {
            guard let data = Data(base64Encoded: text) else { throw ScenarioError("fault \(path): body_base64 is not base64") }
            bodyBytes = Array(data)
        }
        bytesPerSecond = try c.decodeIfPresent(Double.self, forKey: .bytesPerSecond)
        if let rate = bytesPerSecond, !(rate > 0) { throw ScenarioError("fault \(path): bytes_per_second must be > 0") }
        bodySize = try int(.bodySize)
        if let size = bodySize, size < 0 || size > 256 * 1024 * 1024 {
            throw ScenarioError("fault \(path): body_size out of range")
        }
        (status, count, after, contentLengthExtra) = (
            try int(.status), try int(.count), try int(.after), try int(.contentLengthExtra)
        )
        body = try c.decodeIfPresent(String.self, forKey: .body)
        (reset, drop, chunked, hang) = (try flag(.reset), try flag(.drop), try flag(.chunked), try flag(.hang))
        expireTokens = try flag(.expireTokens)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(path, forKey: .path)
        try c.encodeIfPresent(method, forKey: .method)
        try c.encodeIfPresent(delay.map { Int($0 * 1000) }, forKey: .delayMS)
        try c.encodeIfPresent(status, forKey: .status)
        try c.encodeIfPresent(body, forKey: .body)
        for (on, k) in [(reset, Key.reset), (drop, .drop), (chunked, .chunked), (hang, .hang), (expireTokens, .expireTokens)]
        where on {
            try c.encode(true, forKey: k)
        }
        try c.encodeIfPresent(contentLengthExtra, forKey: .contentLengthExtra)
        try c.encodeIfPresent(count, forKey: .count)
        try c.encodeIfPresent(after, forKey: .after)
        try c.encodeIfPresent(bytesPerSecond, forKey: .bytesPerSecond)
        try c.encodeIfPresent(bodyBytes.map { Data($0).base64EncodedString() }, forKey: .bodyBase64)
        try c.encodeIfPresent(bodySize, forKey: .bodySize)
    }
}

/// Any JSON object key (to list the fields a document has).
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
