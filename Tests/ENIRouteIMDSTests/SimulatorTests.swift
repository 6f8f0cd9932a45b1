import ENIRouteCore
import Foundation
import IMDSSimulator
import Testing

@testable import ENIRouteIMDS

private let fixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures/imds")
private let scenarios = repositoryRoot.appendingPathComponent("tests/scenarios")

private func jsonFiles(_ dir: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
}

@Suite("IMDS simulator")
struct SimulatorTests {
    @Test("token semantics: TTL required and bounded, versioned PUT 403, 401 without token")
    func tokenSemantics() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        let t = TCPTransport()
        let e = endpoint(sim)
        func send(_ method: String, _ path: String, _ headers: [(name: String, value: String)] = []) throws -> HTTPResponse {
            try t.send(HTTPRequest(method: method, path: path, headers: headers), to: e, timeout: 5)
        }
        let ttl = "X-aws-ec2-metadata-token-ttl-seconds"
        #expect(try send("PUT", "/latest/api/token").status == 400)
        #expect(try send("PUT", "/latest/api/token", [(ttl, "0")]).status == 400)
        #expect(try send("PUT", "/latest/api/token", [(ttl, "21601")]).status == 400)
        #expect(try send("PUT", "/latest/api/token", [(ttl, "abc")]).status == 400)
        #expect(try send("PUT", "/2021-01-03/api/token", [(ttl, "60")]).status == 403)
        #expect(try send("PUT", "/latest/api/token", [(ttl, "60"), ("X-Forwarded-For", "1.2.3.4")]).status == 403)
        #expect(try send("GET", "/latest/meta-data/mac").status == 401)
        #expect(try send("GET", "/latest/meta-data/mac", [("X-aws-ec2-metadata-token", "bogus")]).status == 401)
        let token = try send("PUT", "/latest/api/token", [(ttl, "21600")])
        #expect(token.status == 200)
        #expect(token.header(ttl) == "21600")
        let withToken = [(name: "X-aws-ec2-metadata-token", value: token.text)]
        #expect(try send("GET", "/latest/meta-data/mac", withToken).text == mac0.description)
        #expect(try send("GET", "/2016-09-02/meta-data/mac", withToken).text == mac0.description)
        #expect(try send("GET", "/latest/meta-data/nope", withToken).status == 404)
        #expect(try send("GET", "/latest/meta-data/network/interfaces/macs", withToken).text == "\(mac0)/\n\(mac1)/")
        #expect(try send("PUT", "/latest/meta-data/mac", withToken).status == 405)
        sim.expireTokens()
        #expect(try send("GET", "/latest/meta-data/mac", withToken).status == 401)
        sim.setTokenRequired(false)
        #expect(try send("GET", "/latest/meta-data/mac").status == 200)
        #expect(t.connectionsOpened == 1)  // keep-alive on the server side too
        #expect(sim.stats().connections == 1)
    }

    @Test("directory listings: sorted, sub-directories with a trailing slash, no trailing newline")
    func listings() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        sim.setKey(mac: mac1, key: "ipv4-associations/203.0.113.5", value: "10.0.2.10")
        let client = makeClient(sim)
        let listing = try #require(try client.get("/latest/meta-data/network/interfaces/macs/\(mac1)/"))
        #expect(listing.split(separator: "\n").contains("ipv4-associations/"))
        #expect(listing.split(separator: "\n").contains("mac"))
        #expect(!listing.hasSuffix("\n"))
        #expect(try client.get("/latest/meta-data/network/interfaces/macs/\(mac1)/ipv4-associations/") == "203.0.113.5")
        #expect(try client.get("/latest/meta-data/network/interfaces/macs/\(mac1)/ipv4-associations/203.0.113.5") == "10.0.2.10")
        #expect(sim.deleteKey(mac: mac1, key: "ipv4-associations/203.0.113.5"))
        #expect(try client.get("/latest/meta-data/network/interfaces/macs/\(mac1)/ipv4-associations/203.0.113.5") == nil)
    }

    @Test("control endpoint: attach, set and delete keys, detach, faults, stats not counting control requests")
    func controlEndpoint() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        let client = makeClient(sim)
        let fetcher = makeFetcher(client)
        #expect(
            try control(
                sim, "POST", "/_sim/mac/\(mac2)",
                body: """
                    {"keys": {"device-number": "2", "local-ipv4s": ["10.0.3.10", "10.0.3.11"], "subnet_ipv4_cidr_block": "10.0.3.0/24"}}
                    """
            ).status == 200)
        #expect(try fetcher.macs() == [mac0, mac1, mac2])
        guard case .ready(let eth2) = try fetcher.eniFacts(mac: mac2, isPrimary: false) else {
            Issue.record("eth2 not ready")
            return
        }
        #expect(eth2.ipv4Addresses.count == 2)
        #expect(try control(sim, "PUT", "/_sim/mac/\(mac2)/local-ipv4s", body: "10.0.3.12").status == 200)
        #expect(try client.get("/latest/meta-data/network/interfaces/macs/\(mac2)/local-ipv4s") == "10.0.3.12")
        #expect(try control(sim, "DELETE", "/_sim/mac/\(mac2)/local-ipv4s").status == 200)
        #expect(try client.get("/latest/meta-data/network/interfaces/macs/\(mac2)/local-ipv4s") == nil)
        #expect(try control(sim, "DELETE", "/_sim/mac/\(mac2)").status == 200)
        #expect(try control(sim, "DELETE", "/_sim/mac/\(mac2)").status == 404)
        #expect(try fetcher.macs() == [mac0, mac1])
        #expect(
            try control(sim, "PUT", "/_sim/fault", body: #"{"path": "/latest/meta-data/mac", "status": 503, "count": 1}"#).status
                == 200)
        #expect(try control(sim, "PUT", "/_sim/fault", body: #"{"path": "x", "bogus": 1}"#).status == 400)
        #expect(try client.get("/latest/meta-data/mac") == mac0.description)
        #expect(sim.stats().byStatus[503] == 1)
        let statsBefore = sim.stats()
        let body = try control(sim, "GET", "/_sim/stats")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body.body)) as? [String: Any])
        #expect(json["requests"] as? Int == statsBefore.requests)
        #expect(json["connections"] as? Int == 1)
        #expect((json["by_path"] as? [String: Int])?["/latest/meta-data/mac"] == 2)
        #expect(sim.stats().requests == statsBefore.requests)  // control requests are not counted
        #expect(try control(sim, "POST", "/_sim/stats/reset").status == 200)
        #expect(sim.stats().requests == 0)
        #expect(try control(sim, "GET", "/_sim/nope").status == 404)
    }

    @Test("PUT /_sim/scenario replaces the scenario; propagation via the control endpoint")
    func replaceScenarioOverHTTP() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        let scenario = """
            {"mac": "\(mac1)", "macs": {"\(mac1)": {"device-number": "0", "local-ipv4s": "10.9.0.5", "subnet-ipv4-cidr-block": "10.9.0.0/24"}},
             "token": {"required": false}}
            """
        #expect(try control(sim, "PUT", "/_sim/scenario", body: scenario).status == 200)
        #expect(try control(sim, "PUT", "/_sim/scenario", body: "{").status == 400)
        let (facts, pending) = try makeFetcher(makeClient(sim)).fetch(macs: nil, waitForReady: false)
        #expect(pending.isEmpty)
        #expect(facts.primaryMAC == mac1)
        #expect(facts.enis.map(\.ipv4Addresses) == [[IPAddress("10.9.0.5")!]])
        #expect(
            try control(
                sim, "POST", "/_sim/mac/\(mac2)",
                body: """
                    {"keys": {"device-number": "1", "local-ipv4s": "10.9.0.6", "subnet-ipv4-cidr-block": "10.9.0.0/24"},
                     "propagation": {"after_requests": 3}}
                    """
            ).status == 200)
        let fetcher = makeFetcher(makeClient(sim))
        #expect(
            try fetcher.eniFacts(mac: mac2, isPrimary: false) != .ready(ENIFacts(mac: mac2, isPrimary: false, deviceNumber: 1)))
        let later = try fetcher.fetch(macs: [mac2], waitForReady: true)
        #expect(later.facts.enis.map(\.deviceNumber) == [1])
    }

    @Test("every fixture with a macs object loads, with hyphenated keys and a primary MAC")
    func fixturesLoad() throws {
        let files = jsonFiles(fixtures)
        try #require(!files.isEmpty, "no fixtures at \(fixtures.path)")
        var loaded = 0
        for file in files {
            let data = try Data(contentsOf: fixtures.appendingPathComponent(file))
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            guard object["macs"] != nil else {
                #expect(throws: ScenarioError.self) { try Scenario(json: data) }
                continue
            }
            let scenario = try Scenario.load(path: fixtures.appendingPathComponent(file).path)
            #expect(scenario.primaryMAC != nil, "\(file): no primary")
            loaded += 1
            let sim = IMDSSimulator(scenario: scenario)
            try sim.start()
            defer { sim.stop() }
            let fetcher = makeFetcher(makeClient(sim))
            #expect(try fetcher.primaryMAC() == scenario.primaryMAC)
            #expect(Set(try fetcher.macs()) == Set(scenario.macs.keys))
            for mac in scenario.macs.keys {
                let listing = try #require(try fetcher.client.get(InstanceMetadataFetcher.macsPath + "\(mac)/"))
                #expect(!listing.contains("_"), "\(file): underscore key in \(listing)")
            }
        }
        #expect(loaded >= 5)
    }

    @Test("fixture specifics: aemm top-level mac, crawler lists, inferred primary on a multi-card instance")
    func fixtureDetails() throws {
        let aemm = try Scenario.load(path: fixtures.appendingPathComponent("aemm-single-nic-default.json").path)
        #expect(aemm.primaryMAC == MACAddress("0e:49:61:0f:c3:11"))
        let multi = try Scenario.load(path: fixtures.appendingPathComponent("netutils-issue104-multi-card.json").path)
        #expect(multi.primaryMAC == MACAddress("02:5e:c3:d7:22:4b"))
        let secondary = try Scenario.load(
            path: fixtures.appendingPathComponent("ci-single-nic-secondary-ips-2018-09-24.json").path)
        let sim = IMDSSimulator(scenario: secondary)
        try sim.start()
        defer { sim.stop() }
        let (facts, pending) = try makeFetcher(makeClient(sim)).fetch(macs: nil, waitForReady: false)
        #expect(pending.isEmpty)
        let eni = try #require(facts.enis.first)
        #expect(eni.ipv4Addresses.map(\.description) == ["172.31.44.13", "172.31.45.70"])
        #expect(eni.ipv6Addresses.count == 3)
        #expect(eni.subnetIPv6 == [IPPrefix("2600:1f16:292:100::/64")!])  // from subnet_ipv6_cidr_blocks
        let v6only = try Scenario.load(path: fixtures.appendingPathComponent("ci-two-nic-ipv6-only.json").path)
        #expect(v6only.primaryMAC == MACAddress("02:7c:03:b8:5c:af"))
        let sim6 = IMDSSimulator(scenario: v6only)
        try sim6.start()
        defer { sim6.stop() }
        let six = try makeFetcher(makeClient(sim6)).fetch(macs: nil, waitForReady: false)
        #expect(six.pending.isEmpty)
        #expect(six.facts.enis.map(\.deviceNumber).sorted() == [0, 1])
        #expect(six.facts.enis.allSatisfy { $0.subnetIPv6 == [IPPrefix("2600:1f16:67f:f201::/64")!] && $0.ipv4Addresses.isEmpty })
    }

    @Test("every scenario in tests/scenarios loads and every ENI becomes ready")
    func scenarioFiles() throws {
        let files = jsonFiles(scenarios)
        try #require(files.contains("two-eni.json"))
        for file in files {
            let scenario = try Scenario.load(path: scenarios.appendingPathComponent(file).path)
            #expect(scenario.primaryMAC == mac0, "\(file)")
            let sim = IMDSSimulator(scenario: scenario)
            try sim.start()
            defer { sim.stop() }
            let (facts, pending) = try makeFetcher(makeClient(sim)).fetch(macs: nil, waitForReady: true)
            #expect(pending.isEmpty, "\(file): \(pending)")
            #expect(facts.enis.count == scenario.macs.count, "\(file)")
            #expect(Set(facts.enis.map { $0.deviceNumber }).count == facts.enis.count, "\(file): devices collide")
        }
    }

    @Test(
        "listen addresses parse",
        arguments: [
            ("127.0.0.1:0", "127.0.0.1", 0), ("169.254.169.254:80", "169.254.169.254", 80), ("[::1]:8080", "::1", 8080),
            ("[fd00:ec2::254]:80", "fd00:ec2::254", 80),
        ])
    func listenAddresses(text: String, host: String, port: Int) throws {
        let parsed = try #require(IMDSSimulator.parseListenAddress(text))
        #expect(parsed.host == host)
        #expect(Int(parsed.port) == port)
    }

    @Test("bad listen addresses are refused", arguments: ["127.0.0.1", "localhost:80", "::1:80", "[::1]", "1.2.3.4:99999"])
    func badListenAddresses(text: String) {
        #expect(IMDSSimulator.parseListenAddress(text) == nil)
    }

    @Test("split write mode: header block and body in two sends; a whole fetch still works on one connection")
    func splitWrites() throws {
        let sim = IMDSSimulator(scenario: twoENIScenario())
        sim.writeMode = .split
        try sim.start()
        defer { sim.stop() }
        let (facts, pending) = try makeFetcher(makeClient(sim)).fetch(macs: nil, waitForReady: false)
        #expect(pending.isEmpty)
        #expect(facts.enis.count == 2)
        #expect(sim.stats().connections == 1)
    }

    @Test("IPv6 loopback listener")
    func ipv6() throws {
        let sim = IMDSSimulator(scenario: twoENIScenario())
        do {
            try sim.start(host: "::1", port: 0)
        } catch {
            // No IPv6 on this host's loopback: nothing to test here, and nothing to fake.
            withKnownIssue("IPv6 loopback unavailable: \(error)") { throw error }
            return
        }
        defer { sim.stop() }
        let client = IMDSClient(
            endpoints: [try IMDSEndpoint(parsing: "http://[::1]:\(sim.port)")], version: "t", deadline: .after(seconds: 10),
            retryPolicy: fastRetries)
        #expect(try client.get("/latest/meta-data/mac") == mac0.description)
        #expect(sim.listenAddress == "[::1]:\(sim.port)")
    }
}
