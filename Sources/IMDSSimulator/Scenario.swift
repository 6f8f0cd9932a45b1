import ENIRouteCore
import Foundation

/// Token behaviour.
public struct TokenPolicy: Equatable, Sendable, Codable {
    /// Whether GETs without a token are refused with 401 (IMDSv2 required). Default: true.
    public var required: Bool
    /// Creates a policy.
    public init(required: Bool = true) { self.required = required }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? true
    }
}

/// A MAC whose keys are still propagating: until ready, its directory lists only `visibleKeys`
/// plus `device-number`, which reads `0`; other keys answer 404.
public struct Propagation: Equatable, Sendable, Codable {
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

    private enum CodingKeys: String, CodingKey {
        case afterRequests = "after_requests", afterSeconds = "after_seconds", visibleKeys = "visible_keys"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            afterRequests: try c.decodeIfPresent(Int.self, forKey: .afterRequests),
            afterSeconds: try c.decodeIfPresent(Double.self, forKey: .afterSeconds),
            visibleKeys: try c.decodeIfPresent([String].self, forKey: .visibleKeys) ?? Self.defaultVisibleKeys)
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
        for (mac, keys) in macs { m[MACAddress(mac)!] = .directory(keys: keys) }
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
        self = try decodeDocument(Scenario.self, from: data)
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
}

/// Decodes a JSON document; every failure is a `ScenarioError` with a sentence.
func decodeDocument<T: Decodable>(_ type: T.Type, from data: Data) throws(ScenarioError) -> T {
    do {
        return try JSONDecoder().decode(type, from: data)
    } catch let error as ScenarioError {
        throw error
    } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
        throw ScenarioError("not valid JSON: \(context.debugDescription)")
    } catch DecodingError.typeMismatch(let expected, let context), DecodingError.valueNotFound(let expected, let context) {
        let at = context.codingPath.map(\.stringValue).joined(separator: ".")
        throw ScenarioError("\(at.isEmpty ? "the document" : at): expected \(expected)")
    } catch {
        throw ScenarioError("cannot read the JSON: \(error)")
    }
}

/// Encodes a document as the control API and `GET /_sim/scenario` show it: sorted keys, indented.
func encodeDocument(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    let data = (try? encoder.encode(value)) ?? Data("null".utf8)
    return String(decoding: data, as: UTF8.self) + "\n"
}
