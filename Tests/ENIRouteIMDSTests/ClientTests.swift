import ENIRouteCore
import Foundation
import IMDSSimulator
import Testing

@testable import ENIRouteIMDS

private let macPath = "/latest/meta-data/mac"
private let tokenPath = "/latest/api/token"

@Suite("IMDS client against the simulator")
struct ClientTests {
    @Test("token flow: one PUT, then every GET carries the token (the simulator requires it)")
    func tokenFlow() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        let client = makeClient(sim)
        #expect(try client.get(macPath) == mac0.description)
        #expect(try client.get(macPath) == mac0.description)
        #expect(try client.get("/latest/meta-data/network/interfaces/macs/") == "\(mac0)/\n\(mac1)/")
        let s = sim.stats()
        #expect(s.tokenRequests == 1)
        #expect(s.requests(for: tokenPath) == 1)
        #expect(s.requests(for: macPath) == 2)
        #expect(s.byStatus[401] == nil)
        #expect(s.requests == 4)
        #expect(client.statistics.requests == 4)
        #expect(!client.isUsingV1)
    }

    @Test("an expired token is refreshed once and the request retried")
    func tokenRefresh() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        let client = makeClient(sim)
        #expect(try client.get(macPath) == mac0.description)
        sim.expireTokens()
        #expect(try client.get(macPath) == mac0.description)
        let s = sim.stats()
        #expect(s.tokenRequests == 2)
        #expect(s.byStatus[401] == 1)
        #expect(s.requests(for: macPath) == 3)
    }

    @Test("a second 401 after refreshing is an error, not a loop")
    func tokenRefreshOnlyOnce() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        sim.addFault(Fault(path: macPath, status: 401))
        let client = makeClient(sim)
        #expect(throws: IMDSError.unexpectedStatus(url: "\(sim.endpointURL)\(macPath)", status: 401, attempts: 1)) {
            try client.get(macPath)
        }
        #expect(sim.stats().tokenRequests == 2)
        #expect(sim.stats().requests(for: macPath) == 2)
    }

    @Test("404 is an answer (nil); a delayed key is a timeout error, never nil")
    func notFoundVersusTimeout() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        let client = makeClient(
            sim, requestTimeout: 0.2, retries: RetryPolicy(maxAttempts: 2, baseDelay: 0.001, maximumDelay: 0.001))
        #expect(try client.get("/latest/meta-data/network/interfaces/macs/\(mac0)/ipv6s") == nil)
        let slow = "/latest/meta-data/network/interfaces/macs/\(mac0)/local-ipv4s"
        sim.addFault(Fault(path: slow, delay: 30))
        do {
            let value = try client.get(slow)
            Issue.record("a timed-out key must throw, got \(String(describing: value))")
        } catch {
            guard case .retriesExhausted(_, let attempts, let last) = error else {
                Issue.record("expected retriesExhausted, got \(error)")
                return
            }
            #expect(attempts == 2)
            #expect(last.contains("timeout"))
            #expect(error.isTemporary)
        }
        #expect(sim.stats().requests(for: slow) == 2)
    }

    @Test("5xx and 429 are retried, then the value is returned", arguments: [500, 503, 429])
    func serverErrorsRetried(status: Int) throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        sim.addFault(Fault(path: macPath, status: status, count: 2))
        let client = makeClient(sim)
        #expect(try client.get(macPath) == mac0.description)
        let s = sim.stats()
        #expect(s.requests(for: macPath) == 3)
        #expect(s.byStatus[status] == 2)
    }

    @Test("retries are bounded: a persistent 500 fails after maxAttempts")
    func retriesExhausted() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        sim.addFault(Fault(path: macPath, status: 500))
        let client = makeClient(sim, retries: RetryPolicy(maxAttempts: 3, baseDelay: 0.001, maximumDelay: 0.001))
        #expect(throws: IMDSError.retriesExhausted(url: "\(sim.endpointURL)\(macPath)", attempts: 3, last: "HTTP 500")) {
            try client.get(macPath)
        }
        #expect(sim.stats().requests(for: macPath) == 3)
    }

    @Test("the deadline caps retries: deadline exceeded is temporary")
    func deadlineCapsRetries() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        sim.addFault(Fault(path: macPath, status: 503))
        let client = makeClient(
            sim, deadline: 0.3, retries: RetryPolicy(maxAttempts: 1_000_000, baseDelay: 0.01, maximumDelay: 0.02))
        do {
            _ = try client.get(macPath)
            Issue.record("expected an error")
        } catch {
            guard case .deadlineExceeded(_, _, let last) = error else {
                Issue.record("expected deadlineExceeded, got \(error)")
                return
            }
            // The last attempt either got its 503 or was itself cut short by the deadline (a loaded
            // machine): both are the deadline at work. The server did answer 503s.
            #expect(last == "HTTP 503" || last == "no response within the request timeout", "\(last)")
            #expect(sim.stats().requests(for: macPath) >= 1)
            #expect(error.isTemporary)
            #expect(error.description.contains("deadline"))
        }
    }

    @Test("a reset in the middle of the body is retried; a persistent one is an error")
    func resetMidBody() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        let key = "/latest/meta-data/network/interfaces/macs/\(mac1)/local-ipv4s"
        sim.addFault(Fault(path: key, reset: true, count: 1))
        let client = makeClient(sim)
        #expect(try client.get(key) == "10.0.2.10\n10.0.2.11\n")
        #expect(sim.stats().requests(for: key) == 2)
        sim.addFault(Fault(path: key, reset: true))
        do {
            _ = try client.get(key)
            Issue.record("expected an error")
        } catch {
            guard case .retriesExhausted(_, 4, let last) = error else {
                Issue.record("expected retriesExhausted after 4, got \(error)")
                return
            }
            #expect(last.contains("connection"))
        }
    }

    @Test("chunked bodies are reassembled")
    func chunkedBody() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        let key = "/latest/meta-data/network/interfaces/macs/\(mac1)/local-ipv4s"
        sim.addFault(Fault(path: key, chunked: true))
        let client = makeClient(sim)
        #expect(try client.get(key) == "10.0.2.10\n10.0.2.11\n")
        #expect(try client.get(macPath) == mac0.description)  // the connection is still usable
        #expect(sim.stats().connections == 1)
    }

    @Test("a Content-Length larger than the body is an error, never a short value")
    func lyingContentLength() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        sim.addFault(Fault(path: macPath, contentLengthExtra: 10, count: 1))
        let client = makeClient(sim)
        #expect(try client.get(macPath) == mac0.description)
        #expect(sim.stats().requests(for: macPath) == 2)
        sim.addFault(Fault(path: macPath, contentLengthExtra: 3))
        #expect(throws: IMDSError.self) { try client.get(macPath) }
    }

    @Test("an oversized body is refused without retrying")
    func oversizedBody() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        sim.setKey(mac: mac0, key: "local-ipv4s", value: String(repeating: "1", count: 2 * 1024 * 1024))
        let key = "/latest/meta-data/network/interfaces/macs/\(mac0)/local-ipv4s"
        let client = makeClient(sim)
        do {
            _ = try client.get(key)
            Issue.record("expected an error")
        } catch {
            guard case .badResponse(_, let reason) = error else {
                Issue.record("expected badResponse, got \(error)")
                return
            }
            #expect(reason.contains("too large"))
            #expect(!error.isTemporary)
        }
        #expect(sim.stats().requests(for: key) == 1)
        #expect(try client.get(macPath) == mac0.description)  // a new connection works
    }

    @Test("keep-alive: a whole fetch uses one connection")
    func keepAlive() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        let client = makeClient(sim)
        let result = try makeFetcher(client).fetch(macs: nil, waitForReady: true)
        #expect(result.facts.enis.count == 2)
        #expect(sim.stats().connections == 1)
        #expect(client.statistics.connections == 1)
        #expect(client.statistics.requests == sim.stats().requests)
    }

    @Test("an idle connection the server closed is replaced transparently")
    func staleKeepAlive() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        let client = makeClient(sim, retries: RetryPolicy(maxAttempts: 1))
        #expect(try client.get(macPath) == mac0.description)
        sim.closeIdleConnections()
        #expect(try client.get(macPath) == mac0.description)
        #expect(client.statistics.connections == 2)
    }

    @Test("a reused connection closed before any byte of the answer: resent once, without a retry")
    func dropOnReusedConnection() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        let client = makeClient(sim, retries: RetryPolicy(maxAttempts: 1))
        #expect(try client.get(macPath) == mac0.description)
        sim.addFault(Fault(path: macPath, drop: true, count: 1))
        #expect(try client.get(macPath) == mac0.description)
        #expect(client.statistics.connections == 2)
        #expect(sim.stats().requests(for: macPath) == 3)
    }

    @Test("IMDSv1 is refused unless allowed")
    func imdsV1() throws {
        let sim = try startSimulator(twoENIScenario(token: false))
        defer { sim.stop() }
        sim.addFault(Fault(path: tokenPath, method: "PUT", status: 403))
        let strict = makeClient(sim)
        do {
            _ = try strict.get(macPath)
            Issue.record("expected tokenRefused")
        } catch {
            #expect(error == .tokenRefused(url: "\(sim.endpointURL)\(tokenPath)", status: 403))
            #expect(!error.isTemporary)
        }
        #expect(sim.stats().requests(for: macPath) == 0)
        let lenient = makeClient(sim, allowV1: true)
        #expect(try lenient.get(macPath) == mac0.description)
        #expect(try lenient.get(macPath) == mac0.description)
        #expect(lenient.isUsingV1)
        #expect(sim.stats().tokenRequests == 2)  // one per client: v1 is remembered
    }

    @Test("IMDSv1 is not used when a token is available, even if allowed")
    func v2PreferredWhenAllowed() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        let client = makeClient(sim, allowV1: true)
        #expect(try client.get(macPath) == mac0.description)
        #expect(!client.isUsingV1)
    }

    @Test("a token timeout is not a reason to fall back to IMDSv1")
    func tokenTimeoutNoFallback() throws {
        let sim = try startSimulator(twoENIScenario(token: false))
        defer { sim.stop() }
        sim.addFault(Fault(path: tokenPath, delay: 30))
        let client = makeClient(sim, requestTimeout: 0.1, allowV1: true, retries: RetryPolicy(maxAttempts: 2, baseDelay: 0.001))
        #expect(throws: IMDSError.self) { try client.get(macPath) }
        #expect(sim.stats().requests(for: macPath) == 0)
    }

    @Test("endpoint fallback: a refused first endpoint, then the second")
    func endpointFallback() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        let closed = ClosedPort()
        let first = IMDSEndpoint(address: IPAddress("127.0.0.1")!, port: closed.port)
        let client = makeClient(sim, retries: RetryPolicy(maxAttempts: 1), endpoints: [first, endpoint(sim)])
        let facts = try makeFetcher(client).fetch(macs: nil, waitForReady: false)
        #expect(facts.facts.enis.count == 2)
        #expect(client.currentEndpoint == endpoint(sim))
        #expect(sim.stats().connections == 1)
        #expect(client.statistics.connections == 1)
    }

    @Test("all endpoints refused: a temporary error naming the endpoint")
    func allEndpointsRefused() {
        let closed = ClosedPort()
        let client = IMDSClient(
            endpoints: [IMDSEndpoint(address: IPAddress("127.0.0.1")!, port: closed.port)], version: "1",
            deadline: .after(seconds: 5),
            retryPolicy: RetryPolicy(maxAttempts: 2, baseDelay: 0.001))
        do {
            _ = try client.get(macPath)
            Issue.record("expected an error")
        } catch {
            #expect(error.isTemporary)
            #expect(error.description.contains("127.0.0.1:\(closed.port)"))
            #expect(error.description.contains("2 attempts"))
        }
    }

    @Test("headers: User-Agent, TTL, token on GETs; the token never appears in errors")
    func headersAndSecrecy() throws {
        let secret = "AQAEAsecretTOKENvalue=="
        let fake = FakeTransport([
            { _, _ in .success(HTTPResponse(status: 200, text: secret)) },
            { _, _ in .success(HTTPResponse(status: 200, text: "02:00:00:00:01:0a")) },
            { _, _ in .success(HTTPResponse(status: 418, text: "teapot")) },
        ])
        let client = IMDSClient(version: "1.2.3", deadline: .after(seconds: 5), retryPolicy: fastRetries, transport: fake)
        #expect(try client.get(macPath) == "02:00:00:00:01:0a")
        do {
            _ = try client.get("/latest/meta-data/x")
            Issue.record("expected an error for 418")
        } catch {
            #expect(!error.description.contains(secret))
            #expect(error.description.contains("http://169.254.169.254/latest/meta-data/x"))
            #expect(error.description.contains("418"))
        }
        let put = fake.sent[0].request
        #expect(put.method == "PUT")
        #expect(put.path == tokenPath)
        #expect(put.header("X-aws-ec2-metadata-token-ttl-seconds") == "21600")
        #expect(put.header("User-Agent") == "eniroute/1.2.3")
        #expect(put.header("X-aws-ec2-metadata-token") == nil)
        for (request, endpoint) in fake.sent.dropFirst() {
            #expect(request.method == "GET")
            #expect(request.header("X-aws-ec2-metadata-token") == secret)
            #expect(request.header("User-Agent") == "eniroute/1.2.3")
            #expect(endpoint == IMDSEndpoint.defaults[0])
        }
    }

    @Test("fake transport: connection failure on IPv4 falls over to the IPv6 endpoint")
    func fallbackToIPv6() throws {
        let fake = FakeTransport([
            { _, e in
                e == IMDSEndpoint.defaults[0]
                    ? .failure(.connectFailed("Network is unreachable")) : .success(HTTPResponse(status: 500))
            },
            { _, e in
                e == IMDSEndpoint.defaults[1]
                    ? .success(HTTPResponse(status: 200, text: "tok")) : .success(HTTPResponse(status: 500))
            },
            { _, e in
                e == IMDSEndpoint.defaults[1]
                    ? .success(HTTPResponse(status: 200, text: "v")) : .success(HTTPResponse(status: 500))
            },
        ])
        let client = IMDSClient(
            version: "1", deadline: .after(seconds: 5), retryPolicy: RetryPolicy(maxAttempts: 1), transport: fake)
        #expect(try client.get("/latest/meta-data/x") == "v")
        #expect(client.currentEndpoint == IMDSEndpoint.defaults[1])
        #expect(fake.sent.map(\.endpoint) == [IMDSEndpoint.defaults[0], IMDSEndpoint.defaults[1], IMDSEndpoint.defaults[1]])
    }

    @Test("an endpoint the kernel refuses (prohibit route) fails the request at once: one attempt, not temporary")
    func kernelRefusalFailsFast() throws {
        let fake = FakeTransport([
            { _, _ in .failure(.refusedByKernel("http://169.254.169.254", errno: .permissionDenied)) },
            { _, _ in .failure(.connectFailed("connect()", errno: .networkUnreachable)) },
        ])
        let client = IMDSClient(
            version: "1", deadline: .after(seconds: 30), retryPolicy: RetryPolicy(maxAttempts: 5), transport: fake)
        do {
            _ = try client.get(macPath)
            Issue.record("expected an error")
        } catch {
            guard case .blocked(_, let reason) = error else { return #expect(Bool(false), "not .blocked: \(error)") }
            #expect(reason.contains("the kernel refuses") && reason.contains("EACCES"))
            #expect(!error.isTemporary)
        }
        #expect(fake.sent.map(\.endpoint) == IMDSEndpoint.defaults)  // both endpoints once, no retry
    }

    @Test("a token request answered with a malformed token is refused")
    func badToken() {
        let fake = FakeTransport([{ _, _ in .success(HTTPResponse(status: 200, text: "two words")) }])
        let client = IMDSClient(version: "1", deadline: .after(seconds: 5), transport: fake)
        #expect(throws: IMDSError.self) { try client.get(macPath) }
    }
}
