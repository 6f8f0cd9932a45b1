/// What the simulator has served. Control requests (`/_sim/…`) are not counted.
public struct SimulatorStats: Equatable, Sendable, Codable {
    /// IMDS requests answered (or dropped by a fault).
    public var requests = 0
    /// Connections that carried at least one IMDS request (since the last reset).
    public var connections = 0
    /// `PUT …/api/token` requests.
    public var tokenRequests = 0
    /// Requests per path (query string removed).
    public var byPath: [String: Int] = [:]
    /// Responses per status code.
    public var byStatus: [Int: Int] = [:]
    /// Requests a fault applied to.
    public var faultsInjected = 0
    /// Connections open now (IMDS or control).
    public var openConnections = 0

    /// Creates empty counters.
    public init() {}

    /// Requests for one path.
    public func requests(for path: String) -> Int { byPath[path] ?? 0 }

    /// The `GET /_sim/stats` field names.
    private enum CodingKeys: String, CodingKey {
        case requests, connections
        case tokenRequests = "token_requests", byPath = "by_path", byStatus = "by_status"
        case faultsInjected = "faults_injected", openConnections = "open_connections"
    }
}
