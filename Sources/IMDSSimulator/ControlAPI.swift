import ENIRouteCore
import Foundation

/// The control API under `/_sim/` (docs/simulator.md): requests that change or show what an
/// `IMDSService` serves. Bodies and answers are the Codable documents below.
public enum ControlAPI {
    /// `PUT /_sim/token`: `{"required": true|false}`.
    public struct TokenSetting: Codable, Equatable, Sendable {
        /// Whether GETs need a token.
        public var required: Bool
    }

    /// `POST /_sim/mac/<mac>`: `{"keys": {…}, "propagation": {…}}`, or just the keys object.
    public struct Attachment: Decodable, Equatable, Sendable {
        /// The ENI's keys (crawler form).
        public var keys: MetadataNode = .directory([:])
        /// Whether its keys are still propagating.
        public var propagation: Propagation?

        private enum Key: String, CodingKey { case keys, propagation }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            propagation = try c.decodeIfPresent(Propagation.self, forKey: .propagation)
            if let keys = try c.decodeIfPresent(MetadataNode.self, forKey: .keys) {
                self.keys = keys
            } else if propagation == nil {
                keys = try MetadataNode(from: decoder)
            }
        }
    }

    /// Whether a request path belongs to the control API.
    public static func claims(_ path: String) -> Bool { path == "/_sim" || path.hasPrefix("/_sim/") }

    /// Answers one control request, changing `service`.
    public static func handle(_ request: SimulatorRequest, service: inout IMDSService) -> SimulatorReply {
        let parts = Array(request.path.split(separator: "/").map(String.init).dropFirst())  // drop "_sim"
        switch (request.method, parts) {
        case ("GET", ["stats"]):
            return json(service.stats)
        case ("POST", ["stats", "reset"]):
            service.resetStats()
        case ("GET", ["scenario"]):
            return json(service.scenario)
        case ("PUT", ["scenario"]):
            do {
                service.replaceScenario(try Scenario(json: Data(request.body)))
            } catch {
                return SimulatorReply(400, "scenario refused: \(error)\n")
            }
        case ("POST", ["token", "expire"]):
            service.expireTokens()
        case ("PUT", ["fault"]), ("POST", ["fault"]):
            do {
                for f in try faults(request.body) { service.addFault(f) }
            } catch {
                return SimulatorReply(400, "fault refused: \(error)\n")
            }
        case ("DELETE", ["fault"]):
            service.clearFaults()
        case ("GET", ["fault"]):
            return json(service.scenario.faults)
        case (_, let p) where p.count >= 2 && p[0] == "mac":
            return mac(request, p[1], key: p.dropFirst(2).joined(separator: "/"), service: &service)
        case ("PUT", let p) where p.count == 2 && p[0] == "primary":
            guard let mac = MACAddress(p[1]) else { return SimulatorReply(400, "bad MAC\n") }
            service.setPrimary(mac: mac)
        case ("PUT", ["token"]):
            guard let setting = try? decodeDocument(TokenSetting.self, from: Data(request.body)) else {
                return SimulatorReply(400, "expected {\"required\": true|false}\n")
            }
            service.setTokenRequired(setting.required)
        default:
            return SimulatorReply(404, "unknown control request \(request.method) \(request.path); see docs/simulator.md\n")
        }
        return ok
    }

    private static let ok = SimulatorReply(200, "ok\n")

    private static func json(_ value: some Encodable) -> SimulatorReply {
        SimulatorReply(200, encodeDocument(value), headers: [("Content-Type", "application/json")])
    }

    /// One fault object or a list of them.
    private static func faults(_ body: [UInt8]) throws(ScenarioError) -> [Fault] {
        guard !body.isEmpty else { throw ScenarioError("expected a JSON fault object or list") }
        if body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "[") {
            return try decodeDocument([Fault].self, from: Data(body))
        }
        return [try decodeDocument(Fault.self, from: Data(body))]
    }

    /// `/_sim/mac/<mac>[/<key>]`: attach, detach, set or delete a key.
    private static func mac(_ request: SimulatorRequest, _ text: String, key: String, service: inout IMDSService)
        -> SimulatorReply
    {
        guard let mac = MACAddress(text) else { return SimulatorReply(400, "bad MAC \(text.debugDescription)\n") }
        switch (request.method, key.isEmpty) {
        case ("POST", true), ("PUT", true):
            var attachment = Attachment()
            if !request.body.isEmpty {
                do {
                    attachment = try decodeDocument(Attachment.self, from: Data(request.body))
                } catch {
                    return SimulatorReply(400, "\(error)\n")
                }
            }
            guard case .directory(let entries) = attachment.keys else { return SimulatorReply(400, "expected a JSON object\n") }
            service.attach(mac: mac, directory: Scenario.normalised(entries), propagation: attachment.propagation)
            return ok
        case ("DELETE", true):
            return service.detach(mac: mac) ? ok : SimulatorReply(404, "\(mac) is not attached\n")
        case ("PUT", false):
            let value = String(decoding: request.body, as: UTF8.self)
            return service.setKey(mac: mac, key: key, value: value) ? ok : SimulatorReply(404, "\(mac) is not attached\n")
        case ("DELETE", false):
            return service.deleteKey(mac: mac, key: key) ? ok : SimulatorReply(404, "no key \(key) on \(mac)\n")
        default:
            return SimulatorReply(405, "method not allowed\n")
        }
    }
}

extension ControlAPI.Attachment {
    /// No keys, not propagating.
    init() {}
}
