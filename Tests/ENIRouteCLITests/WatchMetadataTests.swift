import ENIRouteCore
import ENIRouteIMDS
import IMDSSimulator
import Testing

@testable import ENIRouteCLI

private let mac2 = MACAddress("02:00:00:00:03:0a")!

private func scenario() -> Scenario {
    Scenario(
        primaryMAC: mac0.description,
        macs: [
            mac0.description: [
                "device-number": "0", "interface-id": "eni-01", "local-ipv4s": "10.0.1.10",
                "subnet-ipv4-cidr-block": "10.0.1.0/24",
            ],
            mac1.description: [
                "device-number": "1", "interface-id": "eni-02", "local-ipv4s": "10.0.2.10\n10.0.2.11",
                "subnet-ipv4-cidr-block": "10.0.2.0/24", "ipv6s": "2001:db8:2::10", "subnet-ipv6-cidr-blocks": "2001:db8:2::/64",
                "ipv4-prefix": "10.0.2.64/28",
            ],
        ])
}

private func start(_ s: Scenario = scenario()) throws -> (IMDSSimulator, InstanceMetadataFetcher) {
    let sim = IMDSSimulator(scenario: s)
    try sim.start(host: "127.0.0.1", port: 0)
    var c = Configuration()
    c.imdsEndpoints = [sim.endpointURL]
    c.imdsRequestTimeout = 5
    return (sim, try InstanceMetadataFetcher.make(configuration: c, options: MetadataOptions(log: { _ in })))
}

private struct ENI1NotReady: Error {}

/// The simulator and a port that has read eth1 in full, as a watcher's first poll does.
private func startWithENI1() throws -> (IMDSSimulator, InstanceMetadataFetcher, ENIFacts) {
    let (sim, m) = try start()
    m.begin(deadline: 10)
    guard case .ready(let eni1) = try m.eniFacts(mac: mac1, isPrimary: false) else {
        sim.stop()
        throw ENI1NotReady()
    }
    return (sim, m, eni1)
}

@Suite("Watcher's IMDS reads against the simulator")
struct WatchMetadataTests {
    @Test func aKnownENICostsAtMostOnePlusFourRequestsPerPoll() throws {
        let (sim, m) = try start()
        defer { sim.stop() }
        m.begin(deadline: 10)
        let primary = try m.primaryMAC()
        #expect(primary == mac0)
        #expect(try m.macs() == [mac0, mac1])
        guard case .ready(let eni1) = try m.eniFacts(mac: mac1, isPrimary: false) else {
            Issue.record("eth1 not ready")
            return
        }
        sim.resetStats()
        // Next poll: the listing, then per ENI its directory and the changeable keys it lists.
        m.begin(deadline: 10)
        _ = try m.macs()
        #expect(try m.addressFacts(of: eni1) == .ready(eni1))
        let stats = sim.stats()
        #expect(stats.requests == 1 + 1 + 3, "\(stats.byPath)")  // no ipv6-prefix listed: 3 of the 4 keys
        #expect(stats.tokenRequests == 0)
        #expect(stats.connections <= 1)
        #expect(stats.requests(for: "/latest/meta-data/network/interfaces/macs/\(mac1)/subnet-ipv4-cidr-block") == 0)
        #expect(stats.requests(for: "/latest/meta-data/network/interfaces/macs/\(mac1)/device-number") == 0)
    }

    @Test func addressFactsSeeAssignmentsAndAreValidatedAgainstTheSubnet() throws {
        let (sim, m, eni1) = try startWithENI1()
        defer { sim.stop() }
        #expect(sim.setKey(mac: mac1, key: "local-ipv4s", value: "10.0.2.10\n10.0.2.12\n"))
        #expect(sim.deleteKey(mac: mac1, key: "ipv4-prefix"))
        guard case .ready(let updated) = try m.addressFacts(of: eni1) else {
            Issue.record("eth1 not ready")
            return
        }
        #expect(updated.ipv4Addresses == [IPAddress("10.0.2.10")!, IPAddress("10.0.2.12")!])
        #expect(updated.ipv4Prefixes.isEmpty)
        #expect(updated.ipv6Addresses == eni1.ipv6Addresses)
        #expect(updated.deviceNumber == 1 && updated.subnetIPv4 == eni1.subnetIPv4)

        #expect(sim.setKey(mac: mac1, key: "local-ipv4s", value: "10.0.9.9"))
        #expect {
            try m.addressFacts(of: eni1)
        } throws: { error in
            if case IMDSError.invalidFacts = error { true } else { false }
        }

        #expect(sim.detach(mac: mac1))
        #expect(
            try m.addressFacts(of: eni1) == .notReady("not in IMDS yet (\(InstanceMetadataFetcher.macsPath)\(mac1)/ answers 404)")
        )
    }

    @Test func failuresAreThrownNeverEmpty() throws {
        let (sim, m, eni1) = try startWithENI1()
        defer { sim.stop() }
        sim.addFault(Fault(path: "/latest/meta-data/network/interfaces/macs/\(mac1)/local-ipv4s", status: 500))
        #expect(throws: IMDSError.self) { try m.addressFacts(of: eni1) }
        sim.clearFaults()
        sim.addFault(Fault(path: "/latest/meta-data/network/interfaces/macs/", status: 503))
        #expect(throws: IMDSError.self) { try m.macs() }
    }

    /// A key the listing names that answers 404 is "not ready" (a partial read, never "no
    /// addresses"), the same in a full read and in the watcher's address re-read.
    @Test func aListedKeyAnswering404IsNotReadyInEveryRead() throws {
        let (sim, m, eni1) = try startWithENI1()
        defer { sim.stop() }
        sim.addFault(Fault(path: "/latest/meta-data/network/interfaces/macs/\(mac1)/ipv6s", status: 404))
        let notReady = ENIReading.notReady("ipv6s is listed but answers 404")
        #expect(try m.eniFacts(mac: mac1, isPrimary: false) == notReady)
        #expect(try m.addressFacts(of: eni1) == notReady)
    }

    @Test func tokenIsReusedAcrossPollsAndRefreshedOn401() throws {
        let (sim, m) = try start()
        defer { sim.stop() }
        for _ in 0..<3 {
            m.begin(deadline: 10)
            _ = try m.macs()
        }
        #expect(sim.stats().tokenRequests == 1)
        sim.expireTokens()
        m.begin(deadline: 10)
        #expect(try m.macs() == [mac0, mac1])
        #expect(sim.stats().tokenRequests == 2)
        #expect(sim.stats().connections == 1)
    }

    @Test func propagatingENIBecomesReady() throws {
        let (sim, m) = try start()
        defer { sim.stop() }
        sim.attach(
            mac: mac2,
            keys: [
                "device-number": "2", "interface-id": "eni-03", "mac": mac2.description, "local-ipv4s": "10.0.3.10",
                "subnet-ipv4-cidr-block": "10.0.3.0/24",
            ], propagation: Propagation(afterRequests: 3))
        m.begin(deadline: 10)
        #expect(try m.macs().contains(mac2))
        var readings: [ENIReading] = []
        for _ in 0..<4 { readings.append(try m.eniFacts(mac: mac2, isPrimary: false)) }
        guard case .notReady = readings[0] else {
            Issue.record("expected not ready first: \(readings)")
            return
        }
        guard case .ready(let f) = readings.last else {
            Issue.record("expected ready at last: \(readings)")
            return
        }
        #expect(f.deviceNumber == 2 && f.ipv4Addresses == [IPAddress("10.0.3.10")!])
    }
}
