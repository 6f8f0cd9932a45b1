import ENIRouteCore
import ENIRouteSystem
import ENIRouteTestSupport
import Foundation
import IMDSSimulator

@testable import ENIRouteIMDS

let mac0 = MACAddress("02:00:00:00:01:0a")!
let mac1 = MACAddress("02:00:00:00:02:0a")!
let mac2 = MACAddress("02:00:00:00:03:0a")!

/// The IMDS keys of a third ENI (`mac2`, device 2, one IPv4 in 10.0.3.0/24) that tests attach.
let eni2Keys = ["device-number": "2", "local-ipv4s": "10.0.3.10", "subnet-ipv4-cidr-block": "10.0.3.0/24"]
/// `eni2Keys` with its interface-id listed.
let eni2KeysWithID = eni2Keys.merging(["interface-id": "eni-03"]) { _, new in new }

/// Retries without noticeable waits: tests wait on events, not on time.
let fastRetries = RetryPolicy(maxAttempts: 4, baseDelay: 0.001, maximumDelay: 0.005)

/// The two-ENI instance of tests/scenarios/two-eni.json, in code.
func twoENIScenario(token required: Bool = true) -> Scenario {
    Scenario(
        primaryMAC: mac0.description,
        macs: [
            mac0.description: [
                "device-number": "0", "interface-id": "eni-01", "local-ipv4s": "10.0.1.10",
                "subnet-ipv4-cidr-block": "10.0.1.0/24", "security-group-ids": "sg-1", "vpc-id": "vpc-1",
            ],
            mac1.description: [
                "device-number": "1", "interface-id": "eni-02", "local-ipv4s": "10.0.2.10\n10.0.2.11\n",
                "subnet-ipv4-cidr-block": "10.0.2.0/24", "ipv6s": "2001:db8:2::10",
                "subnet-ipv6-cidr-blocks": "2001:db8:2:0:0:0:0:0/64",
            ],
        ],
        token: TokenPolicy(required: required))
}

/// A started simulator on 127.0.0.1 with an ephemeral port.
func startSimulator(_ scenario: Scenario = twoENIScenario()) throws -> IMDSSimulator {
    let sim = IMDSSimulator(scenario: scenario)
    try sim.start(host: "127.0.0.1", port: 0)
    return sim
}

func endpoint(_ sim: IMDSSimulator) -> IMDSEndpoint {
    IMDSEndpoint(address: IPAddress("127.0.0.1")!, port: sim.port)
}

/// A client for the simulator with fast retries.
func makeClient(
    _ sim: IMDSSimulator, deadline: Double = 20, requestTimeout: Double = 5, allowV1: Bool = false,
    retries: RetryPolicy = fastRetries, endpoints: [IMDSEndpoint]? = nil
) -> IMDSClient {
    IMDSClient(
        endpoints: endpoints ?? [endpoint(sim)], version: "9.9.9-test", allowV1: allowV1, requestTimeout: requestTimeout,
        deadline: .after(seconds: deadline), retryPolicy: retries)
}

func makeFetcher(_ client: IMDSClient) -> InstanceMetadataFetcher {
    InstanceMetadataFetcher(client: client, readyPolicy: RetryPolicy(maxAttempts: Int.max, baseDelay: 0.002, maximumDelay: 0.02))
}

/// A port on 127.0.0.1 that refuses connections: bound (so nobody else gets it) but not listening.
final class ClosedPort {
    let fd: Int32
    let port: UInt16

    init() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        _ = SocketAddress(IPAddress("127.0.0.1")!, port: 0).withSockaddr { bind(fd, $0, $1) }
        port = (try? SocketAddress.local(of: fd).port) ?? 0
    }

    deinit { close(fd) }
}

/// Sends one control request to the simulator over the client's own transport.
func control(_ sim: IMDSSimulator, _ method: String, _ path: String, body: String = "") throws -> HTTPResponse {
    let t = TCPTransport()
    defer { t.close() }
    return try t.send(HTTPRequest(method: method, path: path, body: Array(body.utf8)), to: endpoint(sim), timeout: 5)
}

/// A scripted transport: answers from a list and records the requests.
final class FakeTransport: IMDSTransport {
    var script: [(HTTPRequest, IMDSEndpoint) -> Result<HTTPResponse, TransportError>]
    var sent: [(request: HTTPRequest, endpoint: IMDSEndpoint)] = []
    var requestsSent: Int { sent.count }
    var connectionsOpened = 1

    init(_ script: [(HTTPRequest, IMDSEndpoint) -> Result<HTTPResponse, TransportError>]) { self.script = script }

    func send(_ request: HTTPRequest, to endpoint: IMDSEndpoint, timeout: Double) throws(TransportError) -> HTTPResponse {
        sent.append((request, endpoint))
        guard !script.isEmpty else { return HTTPResponse(status: 500, text: "script exhausted") }
        return try script.removeFirst()(request, endpoint).get()
    }

    func close() {}
}

/// The repository root.
let repositoryRoot = Fixtures.repository
