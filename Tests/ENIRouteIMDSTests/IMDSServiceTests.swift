import ENIRouteCore
import Foundation
import Synchronization
import Testing

@testable import IMDSSimulator

/// A clock the test moves by hand.
private final class ManualClock: Sendable {
    let seconds = Mutex(1000.0)
    func advance(_ s: Double) { seconds.withLock { $0 += s } }
    var read: @Sendable () -> Double { { [self] in seconds.withLock { $0 } } }
}

private let ttlHeader = "x-aws-ec2-metadata-token-ttl-seconds"

private func get(_ path: String, token: String? = nil) -> SimulatorRequest {
    SimulatorRequest(method: "GET", target: path, headers: token.map { ["x-aws-ec2-metadata-token": $0] } ?? [:])
}

private func tokenRequest(ttl: String = "60") -> SimulatorRequest {
    SimulatorRequest(method: "PUT", target: "/latest/api/token", headers: [ttlHeader: ttl])
}

private func control(_ method: String, _ path: String, _ body: String = "", _ service: inout IMDSService) -> SimulatorReply {
    ControlAPI.handle(SimulatorRequest(method: method, target: path, body: Array(body.utf8)), service: &service)
}

/// The simulator's IMDS semantics and control API as values: no sockets, no threads.
@Suite("IMDS service without sockets")
struct IMDSServiceTests {
    @Test("a token expires after its TTL on the service's clock; the query string is not part of the path")
    func tokenExpiry() {
        let clock = ManualClock()
        var service = IMDSService(scenario: twoENIScenario(), clock: clock.read)
        let token = service.handle(tokenRequest(ttl: "60")).text
        #expect(token.count == 56)
        #expect(service.handle(get("/latest/meta-data/mac?x=1", token: token)).text == mac0.description)
        clock.advance(59)
        #expect(service.handle(get("/latest/meta-data/mac", token: token)).status == 200)
        clock.advance(1)
        #expect(service.handle(get("/latest/meta-data/mac", token: token)).status == 401)
        #expect(service.stats.byPath["/latest/meta-data/mac"] == 3)
        #expect(service.stats.byStatus == [200: 3, 401: 1])
        #expect(service.stats.connections == 1)
    }

    @Test("propagation after seconds: device-number reads 0 and other keys 404 until the time has passed")
    func propagationAfterSeconds() {
        let clock = ManualClock()
        var scenario = twoENIScenario(token: false)
        scenario.propagation[mac1] = Propagation(afterSeconds: 5)
        var service = IMDSService(scenario: scenario, clock: clock.read)
        let dir = "/latest/meta-data/network/interfaces/macs/\(mac1)/"
        #expect(service.handle(get(dir + "device-number")).text == "0")
        #expect(service.handle(get(dir + "local-ipv4s")).status == 404)
        #expect(service.handle(get(dir)).text == "device-number\ninterface-id\nmac")
        clock.advance(5)
        #expect(service.handle(get(dir + "device-number")).text == "1")
    }

    @Test("faults: `after` lets requests through, `count` uses the fault up, the delay is left to the caller")
    func faults() {
        var service = IMDSService(scenario: twoENIScenario(token: false))
        service.addFault(Fault(path: "/latest/meta-data/*", delay: 2, status: 503, count: 2, after: 1))
        let mac = get("/latest/meta-data/mac")
        #expect(service.admit(mac, connection: 1) == nil)
        let fault = service.admit(mac, connection: 1)
        #expect(fault?.delay == 2)
        #expect(service.reply(to: mac, fault: fault).status == 503)
        #expect(service.handle(mac, connection: 2).status == 503)
        #expect(service.handle(mac, connection: 2).status == 200)
        #expect(service.scenario.faults.isEmpty)
        #expect(service.stats.faultsInjected == 2)
        #expect(service.stats.connections == 2)
    }

    @Test("control API: a scenario read back with GET /_sim/scenario loads again as the same scenario")
    func scenarioRoundTrip() throws {
        var scenario = twoENIScenario()
        scenario.root.insert(.value("i-0123"), at: ["meta-data", "instance-id"])
        scenario.faults = [Fault(path: "/latest/meta-data/mac", delay: 0.25, status: 503, count: 2, bodyBytes: [0xff, 0])]
        scenario.propagation[mac1] = Propagation(afterRequests: 3)
        var service = IMDSService(scenario: scenario)
        let shown = control("GET", "/_sim/scenario", "", &service)
        #expect(shown.headers.first?.value == "application/json")
        #expect(try Scenario(json: Data(shown.body)) == scenario)
        var other = IMDSService(scenario: Scenario())
        #expect(control("PUT", "/_sim/scenario", shown.text, &other).status == 200)
        #expect(other.scenario == scenario)
    }

    @Test("control API: faults (one or a list), attach with propagation, token setting, refusals with a sentence")
    func controlRequests() throws {
        var service = IMDSService(scenario: twoENIScenario())
        #expect(
            control("PUT", "/_sim/fault", #"[{"path": "/a", "status": 500}, {"mac": "\#(mac1)", "key": "x"}]"#, &service).status
                == 200)
        #expect(service.scenario.faults.map(\.path) == ["/a", "/latest/meta-data/network/interfaces/macs/\(mac1)/x"])
        let refused = control("PUT", "/_sim/fault", #"{"path": "/a", "status": 1.5}"#, &service)
        #expect(refused.status == 400)
        #expect(refused.text.contains("status must be a whole number"))
        #expect(
            control(
                "POST", "/_sim/mac/\(mac2)", #"{"keys": {"device_number": 2}, "propagation": {"after_requests": 1}}"#, &service
            ).status == 200)
        #expect(service.scenario.macs[mac2] == .directory(["device-number": .value("2")]))
        #expect(service.scenario.propagation[mac2] == Propagation(afterRequests: 1))
        #expect(control("PUT", "/_sim/token", #"{"required": false}"#, &service).status == 200)
        #expect(service.scenario.token.required == false)
        #expect(control("PUT", "/_sim/token", #"{"required": "no"}"#, &service).status == 400)
        let stats = try JSONDecoder().decode(SimulatorStats.self, from: Data(control("GET", "/_sim/stats", "", &service).body))
        #expect(stats == service.stats)
    }

    @Test("request parser: a request in pieces, two pipelined requests, a bad request line")
    func parser() {
        var buffer = Array("PUT /_sim/x HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nab".utf8)
        #expect(RequestParser.take(from: &buffer) == .incomplete)
        buffer += Array("cGET /y HTTP/1.0\r\n\r\n".utf8)
        guard case .request(let first) = RequestParser.take(from: &buffer) else { return #expect(Bool(false)) }
        #expect(first.body == Array("abc".utf8))
        #expect(!first.keepAlive)
        guard case .request(let second) = RequestParser.take(from: &buffer) else { return #expect(Bool(false)) }
        #expect(second.path == "/y" && !second.keepAlive && buffer.isEmpty)
        var bad = Array("GET /\r\n\r\n".utf8)
        #expect(RequestParser.take(from: &bad) == .bad(400, "bad request line"))
    }

    @Test("reply on the wire: head and payload apart; chunked and Connection: close")
    func wire() {
        var reply = SimulatorReply(200, "hello")
        let (head, payload) = reply.wire(keepAlive: true)
        #expect(String(decoding: head, as: UTF8.self).hasSuffix("Content-Length: 5\r\n\r\n"))
        #expect(payload == Array("hello".utf8))
        reply.chunked = true
        let chunked = reply.wire(keepAlive: false)
        #expect(String(decoding: chunked.head, as: UTF8.self).contains("Transfer-Encoding: chunked\r\nConnection: close\r\n"))
        #expect(String(decoding: chunked.payload, as: UTF8.self) == "3;sim=1\r\nhel\r\n2\r\nlo\r\n0\r\nX-Sim-Trailer: 1\r\n\r\n")
    }
}
