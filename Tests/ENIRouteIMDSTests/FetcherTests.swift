import ENIRouteCore
import Foundation
import IMDSSimulator
import Testing

@testable import ENIRouteIMDS

@Suite("Instance metadata fetcher")
struct FetcherTests {
    @Test("reads every ENI into typed facts")
    func fetchAll() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        let fetcher = makeFetcher(makeClient(sim))
        #expect(try fetcher.primaryMAC() == mac0)
        #expect(try fetcher.macs() == [mac0, mac1])
        let (facts, pending) = try fetcher.fetch(macs: nil, waitForReady: true)
        #expect(pending.isEmpty)
        #expect(facts.primaryMAC == mac0)
        #expect(facts.enis.map(\.mac) == [mac0, mac1])
        let eth1 = try #require(facts.enis.last)
        #expect(!eth1.isPrimary)
        #expect(eth1.deviceNumber == 1)
        #expect(eth1.networkCard == 0)
        #expect(eth1.subnetIPv4 == IPPrefix("10.0.2.0/24"))
        #expect(eth1.ipv4Addresses == [IPAddress("10.0.2.10")!, IPAddress("10.0.2.11")!])
        #expect(eth1.subnetIPv6 == [IPPrefix("2001:db8:2::/64")!])
        #expect(eth1.ipv6Addresses == [IPAddress("2001:db8:2::10")!])
        #expect(facts.enis.first?.isPrimary == true)
    }

    @Test("request budget: token + mac + per ENI (listing + listed keys); ≤ 2 + 9 for one ENI")
    func requestBudget() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        let client = makeClient(sim)
        _ = try makeFetcher(client).fetch(macs: [mac1], waitForReady: true)
        // eth1 lists device-number, local-ipv4s, subnet-ipv4-cidr-block, ipv6s, subnet-ipv6-cidr-blocks (+ others not read).
        #expect(sim.stats().requests == 2 + 1 + 5)
        #expect(sim.stats().requests <= 2 + 9)

        // Worst case: every key eniroute reads is listed (both card keys: only one is read).
        let all = Dictionary(uniqueKeysWithValues: IMDSKey.all.map { ($0, "") })
        var keys = all
        keys[IMDSKey.deviceNumber] = "2"
        keys[IMDSKey.networkCard] = "0"
        keys[IMDSKey.networkCardIndex] = "0"
        keys[IMDSKey.localIPv4s] = "10.0.3.10"
        keys[IMDSKey.subnetIPv4] = "10.0.3.0/24"
        sim.attach(mac: mac2, keys: keys)
        sim.resetStats()
        let c2 = makeClient(sim)
        let r = try makeFetcher(c2).fetch(macs: [mac2], waitForReady: true)
        #expect(r.pending.isEmpty)
        #expect(sim.stats().requests == 2 + 9)
        #expect(sim.stats().requests(for: "/latest/meta-data/network/interfaces/macs/\(mac2)/network-card-index") == 0)

        // All ENIs: + the macs/ listing.
        sim.resetStats()
        _ = try makeFetcher(makeClient(sim)).fetch(macs: nil, waitForReady: true)
        #expect(sim.stats().requests(for: InstanceMetadataFetcher.macsPath) == 1)
        #expect(sim.stats().tokenRequests == 1)
    }

    @Test("interface-id is read only when asked for (unmanaged = eni-…)")
    func interfaceIDOnlyWhenAsked() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        sim.attach(mac: mac2, keys: eni2KeysWithID)
        let plain = try makeFetcher(makeClient(sim)).fetch(macs: [mac2], waitForReady: true)
        #expect(plain.facts.enis.first?.interfaceID == nil)
        let path = "/latest/meta-data/network/interfaces/macs/\(mac2)/interface-id"
        #expect(sim.stats().requests(for: path) == 0)
        let fetcher = makeFetcher(makeClient(sim))
        fetcher.additionalKeys = [IMDSKey.interfaceID]
        let withID = try fetcher.fetch(macs: [mac2], waitForReady: true)
        #expect(withID.facts.enis.first?.interfaceID == "eni-03")
        #expect(sim.stats().requests(for: path) == 1)
    }

    @Test("propagation: keys appear after N requests; device-number 0 until then; the fetcher waits")
    func propagationWait() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        sim.attach(mac: mac2, keys: eni2KeysWithID, propagation: Propagation(afterRequests: 5))
        let client = makeClient(sim)
        let fetcher = makeFetcher(client)
        // Before it propagates, a direct read shows the partial state.
        #expect(try client.get("/latest/meta-data/network/interfaces/macs/\(mac2)/device-number") == "0")
        #expect(
            try fetcher.eniFacts(mac: mac2, isPrimary: false)
                == .notReady(ENIFacts(mac: mac2, isPrimary: false, deviceNumber: 0).notReadyReason!))
        let (facts, pending) = try fetcher.fetch(macs: nil, waitForReady: true)
        #expect(pending.isEmpty)
        let eth2 = try #require(facts.enis.first { $0.mac == mac2 })
        #expect(eth2.deviceNumber == 2)
        #expect(eth2.ipv4Addresses == [IPAddress("10.0.3.10")!])
        #expect(facts.enis.count == 3)
        #expect(sim.stats().connections == 1)
    }

    @Test("propagation after some time: the fetcher waits for it")
    func propagationBySeconds() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        sim.attach(mac: mac2, keys: eni2Keys, propagation: Propagation(afterSeconds: 0.2))
        let (facts, pending) = try makeFetcher(makeClient(sim)).fetch(macs: [mac2], waitForReady: true)
        #expect(pending.isEmpty)
        #expect(facts.enis.map(\.deviceNumber) == [2])
    }

    @Test("deadline: a never-ready ENI is pending with its reason; the ready ones are returned")
    func deadlinePending() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        sim.attach(mac: mac2, keys: ["device-number": "2", "local-ipv4s": "10.0.3.10"], propagation: Propagation())
        let (facts, pending) = try makeFetcher(makeClient(sim, deadline: 2)).fetch(macs: nil, waitForReady: true)
        #expect(facts.enis.map(\.mac) == [mac0, mac1])
        #expect(pending.keys.sorted() == [mac2])
        #expect(pending[mac2]?.contains("device-number 0") == true)
        #expect(sim.stats().requests(for: "/latest/meta-data/network/interfaces/macs/\(mac2)/") >= 2)  // it did re-read
    }

    @Test("a MAC asked for but not in IMDS is pending (no wait)")
    func unknownMAC() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        let (facts, pending) = try makeFetcher(makeClient(sim)).fetch(macs: [mac1, mac2], waitForReady: false)
        #expect(facts.enis.map(\.mac) == [mac1])
        #expect(pending[mac2]?.contains("not in IMDS yet") == true)
    }

    @Test("a MAC that appears while waiting is picked up")
    func macAppearsLater() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        // Its directory answers 404 twice (as before the attach reaches IMDS), then appears.
        sim.attach(mac: mac2, keys: eni2Keys)
        sim.addFault(Fault(path: "/latest/meta-data/network/interfaces/macs/\(mac2)/", status: 404, count: 2))
        let (facts, pending) = try makeFetcher(makeClient(sim)).fetch(macs: [mac2], waitForReady: true)
        #expect(pending.isEmpty)
        #expect(facts.enis.map(\.mac) == [mac2])
    }

    @Test("a listed key answering 404 means not ready")
    func listedKey404() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        let key = "/latest/meta-data/network/interfaces/macs/\(mac1)/local-ipv4s"
        sim.addFault(Fault(path: key, status: 404, count: 1))
        let fetcher = makeFetcher(makeClient(sim))
        #expect(try fetcher.eniFacts(mac: mac1, isPrimary: false) == .notReady("local-ipv4s is listed but answers 404"))
        guard case .ready = try fetcher.eniFacts(mac: mac1, isPrimary: false) else {
            Issue.record("expected ready on the second read")
            return
        }
    }

    @Test("malformed data is a permanent error naming the key")
    func malformed() throws {
        let sim = try startSimulator()
        defer { sim.stop() }
        sim.setKey(mac: mac1, key: "local-ipv4s", value: "10.0.2.300")
        do {
            _ = try makeFetcher(makeClient(sim)).fetch(macs: nil, waitForReady: true)
            Issue.record("expected an error")
        } catch {
            guard case .invalidFacts(.malformed(let mac, let key, _)) = error else {
                Issue.record("expected invalidFacts, got \(error)")
                return
            }
            #expect(mac == mac1)
            #expect(key == "local-ipv4s")
            #expect(!error.isTemporary)
        }
    }

    @Test("a primary with device-number 0 on card 0 is ready; the primary is the top-level mac, not device 0")
    func primaryIsTopLevelMAC() throws {
        var scenario = twoENIScenario()
        scenario.primaryMAC = mac1  // IMDS says eth1's MAC is primary: device 1 is still fine
        let sim = try startSimulator(scenario)
        defer { sim.stop() }
        let (facts, pending) = try makeFetcher(makeClient(sim, deadline: 2)).fetch(macs: nil, waitForReady: true)
        #expect(facts.primaryMAC == mac1)
        #expect(facts.enis.map(\.mac) == [mac1])
        #expect(pending[mac0] != nil)  // device 0 on card 0 but not primary: not trusted
    }
}
