import ENIRouteCore
import Foundation
import IMDSSimulator
import Testing

@testable import ENIRouteIMDS

private let macPath = "/latest/meta-data/mac"
private let ips1 = "/latest/meta-data/network/interfaces/macs/02:00:00:00:02:0a/local-ipv4s"

/// Records every response (to learn the tokens the simulator issued) around a real transport.
private final class RecordingTransport: IMDSTransport {
    let base = TCPTransport()
    var tokens: [String] = []
    var requestsSent: Int { base.requestsSent }
    var connectionsOpened: Int { base.connectionsOpened }
    func close() { base.close() }
    func send(_ request: HTTPRequest, to endpoint: IMDSEndpoint, timeout: Double) throws(TransportError) -> HTTPResponse {
        let r = try base.send(request, to: endpoint, timeout: timeout)
        if request.method == "PUT" && r.status == 200 { tokens.append(r.text) }
        return r
    }
}

/// The simulator's faults for the fault matrix (tests/faults), and what the client makes of them.
@Suite("simulator faults and the client (security: token, size limits)")
struct FaultSimulatorTests {
    @Test("after N requests the tokens expire mid-run: one refresh; the token is never logged nor in an error")
    func tokenExpiresMidRunAndIsNeverLogged() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        sim.addFault(Fault(path: "/latest/meta-data/*", method: "GET", count: 1, after: 2, expireTokens: true))
        sim.addFault(Fault(path: ips1, status: 500, count: 1))
        let transport = RecordingTransport()
        let client = IMDSClient(
            endpoints: [endpoint(sim)], version: "9.9.9-test", requestTimeout: 5, deadline: .after(seconds: 20),
            retryPolicy: fastRetries, transport: transport)
        var lines: [String] = []
        client.log = { lines.append($0) }
        for _ in 0..<4 { #expect(try client.get(macPath) == mac0.description) }
        #expect(try client.get(ips1) != nil)
        sim.addFault(Fault(path: macPath, status: 401))
        var errorText = ""
        do { _ = try client.get(macPath) } catch { errorText = error.description }
        #expect(!errorText.isEmpty)
        #expect(sim.stats().byStatus[401, default: 0] >= 2)
        #expect(transport.tokens.count >= 3, "first token, refresh after expiry, refresh after the 401 fault")
        #expect(lines.contains { $0.contains("401") })
        for token in transport.tokens {
            #expect(token.count == 56)
            #expect(!lines.contains { $0.contains(token) })
            #expect(!errorText.contains(token))
        }
    }

    @Test("a server that never answers: a timeout error, never an empty value")
    func hang() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        sim.addFault(Fault(path: macPath, hang: true))
        let client = makeClient(sim, deadline: 1.5, requestTimeout: 0.3)
        #expect(throws: IMDSError.self) { try client.get(macPath) }
        #expect(sim.stats().requests(for: macPath) >= 1)
    }

    @Test("one byte per second: a timeout error")
    func trickle() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        sim.addFault(Fault(path: macPath, bytesPerSecond: 1))
        let client = makeClient(sim, deadline: 1.5, requestTimeout: 0.3)
        do {
            _ = try client.get(macPath)
            Issue.record("a trickling answer must not complete")
        } catch {
            #expect(error.isTemporary, "\(error)")
        }
    }

    @Test("a 2 MiB body (and a chunked one) is refused as too large, not retried")
    func bodyTooLarge() throws {
        for chunked in [false, true] {
            let sim = try startSimulator()
            defer { sim.stop() }
            sim.addFault(Fault(path: ips1, status: 200, body: "10.0.2.10\n", chunked: chunked, bodySize: 2 * 1024 * 1024))
            let client = makeClient(sim)
            do {
                _ = try client.get(ips1)
                Issue.record("a 2 MiB body must be refused")
            } catch {
                #expect(error.description.contains("too large"), "\(error)")
                #expect(!error.isTemporary)
            }
            #expect(sim.stats().requests(for: ips1) == 1, "not retried")
        }
    }

    @Test("bytes that are not UTF-8 reach the parser as U+FFFD and are refused there")
    func nonUTF8() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        sim.addFault(Fault(path: ips1, bodyBytes: Array("10.0.2.10\n10.0.2.".utf8) + [0xFF, 0xFE]))
        let client = makeClient(sim)
        let body = try #require(try client.get(ips1))
        #expect(body.contains("\u{FFFD}"))
        #expect(throws: FactsError.self) {
            try ENIFacts.parse(
                mac: mac1, isPrimary: false,
                values: ["device-number": "1", "subnet-ipv4-cidr-block": "10.0.2.0/24", "local-ipv4s": body])
        }
    }

    @Test("faults in JSON: the new fields parse and round-trip")
    func faultJSON() throws {
        let json: [String: Any] = [
            "path": "/latest/*", "after": 3, "count": 1, "expire_tokens": true, "hang": true, "bytes_per_second": 2,
            "body_base64": Data([0xFF, 0x00, 0x41]).base64EncodedString(), "body_size": 10,
        ]
        let data = try JSONSerialization.data(withJSONObject: [
            "mac": mac0.description, "macs": [mac0.description: ["device-number": "0"]], "faults": [json],
        ])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fault-\(UUID().uuidString).json")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let f = try #require(try Scenario.load(path: url.path).faults.first)
        #expect(f.after == 3 && f.count == 1 && f.expireTokens && f.hang && f.bytesPerSecond == 2)
        #expect(f.bodyBytes == [0xFF, 0x00, 0x41] && f.bodySize == 10)
    }
}
