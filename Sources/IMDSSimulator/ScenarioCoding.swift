import ENIRouteCore
import Foundation

/// The scenario file of docs/simulator.md: `mac`, `macs` (required), `top_level` (crawler form
/// with relative keys, or AWS's mock form with absolute `/latest/…` keys), `token`, `faults` (a
/// list or one object) and `propagation`. Other fields (`description`, `source`, …) are ignored.
extension Scenario: Codable {
    private enum Key: String, CodingKey {
        case mac, macs, token, faults, propagation
        case topLevel = "top_level"
    }

    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue).sorted()
        let c = try decoder.container(keyedBy: Key.self)
        guard c.contains(.macs) else {
            throw ScenarioError("no \"macs\" object (this file has: \(fields.joined(separator: ", ")))")
        }
        self.init()
        for (text, node) in try c.decode([String: MetadataNode].self, forKey: .macs) {
            guard let mac = MACAddress(text) else { throw ScenarioError("macs: \(text.debugDescription) is not a MAC address") }
            guard case .directory(let entries) = node else { throw ScenarioError("macs.\(text) must be an object of keys") }
            macs[mac] = Scenario.normalised(entries)
        }
        for (key, node) in try c.decodeIfPresent([String: MetadataNode?].self, forKey: .topLevel) ?? [:] {
            guard let node else { continue }
            var parts = key.split(separator: "/").map(String.init)
            if key.hasPrefix("/") {
                guard parts.first == "latest" else { continue }
                parts.removeFirst()
            } else {
                parts.insert("meta-data", at: 0)
            }
            if !parts.isEmpty { root.insert(node, at: parts[...]) }
        }
        primaryMAC = try Self.primary(c.decodeIfPresent(String.self, forKey: .mac), root: root, macs: macs)
        token = try c.decodeIfPresent(TokenPolicy.self, forKey: .token) ?? TokenPolicy()
        if c.contains(.faults) {
            let isList = (try? c.nestedUnkeyedContainer(forKey: .faults)) != nil
            faults = isList ? try c.decode([Fault].self, forKey: .faults) : [try c.decode(Fault.self, forKey: .faults)]
        }
        for (text, value) in try c.decodeIfPresent([String: Propagation].self, forKey: .propagation) ?? [:] {
            guard let mac = MACAddress(text) else { throw ScenarioError("propagation: \(text.debugDescription) is not a MAC") }
            propagation[mac] = value
        }
    }

    /// The primary MAC: `mac`, else the tree's `meta-data/mac`, else the inferred one.
    private static func primary(_ text: String?, root: MetadataNode, macs: [MACAddress: MetadataNode]) throws -> MACAddress? {
        if let text {
            guard let mac = MACAddress(text) else { throw ScenarioError("mac: \(text.debugDescription) is not a MAC address") }
            return mac
        }
        if case .value(let v)? = root.lookup(["meta-data", "mac"]),
            let mac = MACAddress(v.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            return mac
        }
        return inferPrimary(macs)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encodeIfPresent(primaryMAC?.description, forKey: .mac)
        try c.encode(Dictionary(uniqueKeysWithValues: macs.map { ($0.key.description, $0.value) }), forKey: .macs)
        if case .directory(let entries) = root, !entries.isEmpty {
            try c.encode(root.flattened(prefix: "/latest"), forKey: .topLevel)
        }
        try c.encode(token, forKey: .token)
        if !faults.isEmpty { try c.encode(faults, forKey: .faults) }
        if !propagation.isEmpty {
            try c.encode(
                Dictionary(uniqueKeysWithValues: propagation.map { ($0.key.description, $0.value) }), forKey: .propagation)
        }
    }
}
