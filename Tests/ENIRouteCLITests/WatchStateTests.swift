import ENIRouteCore
import ENIRouteIMDS
import Testing

@testable import ENIRouteCLI

private let mac2 = MACAddress("02:00:00:00:03:0a")!

private func eni(_ mac: MACAddress, device: UInt32, _ addresses: String...) -> ENIFacts {
    ENIFacts(
        mac: mac, isPrimary: device == 0, deviceNumber: device, subnetIPv4: IPPrefix("10.0.\(device + 1).0/24"),
        ipv4Addresses: addresses.map { IPAddress($0)! })
}

private let eth0 = eni(mac0, device: 0, "10.0.1.10")
private let eth1 = eni(mac1, device: 1, "10.0.2.10", "10.0.2.11")
private func name(_ mac: MACAddress) -> String { mac == mac1 ? "eth1" : mac.description }

/// Knowledge after one successful poll that found eth0 and eth1 ready.
private func knowingBoth() -> IMDSKnowledge {
    var k = IMDSKnowledge()
    k.primaryMAC = mac0
    var answers = IMDSAnswers(from: k, keepingPending: false)
    answers.fullRead(mac0, .success(.ready(eth0)), wasReady: false)
    answers.fullRead(mac1, .success(.ready(eth1)), wasReady: false)
    _ = k.takePoll(listed: [mac0, mac1], answers: answers, name: name)
    return k
}

@Suite("What the watcher knows from IMDS")
struct IMDSKnowledgeTests {
    @Test func nothingToPlanWithUntilAListingSucceeded() {
        var k = IMDSKnowledge()
        k.primaryMAC = mac0
        #expect(k.facts == nil)
        #expect(knowingBoth().facts == InstanceFacts(primaryMAC: mac0, enis: [eth0, eth1]))
    }

    @Test func newENIsAreReportedReadyAndAskForAReconcile() {
        var k = IMDSKnowledge()
        k.primaryMAC = mac0
        var answers = IMDSAnswers(from: k, keepingPending: false)
        answers.fullRead(mac1, .success(.ready(eth1)), wasReady: false)
        let update = k.takePoll(listed: [mac1], answers: answers, name: name)
        #expect(update.changed)
        #expect(
            update.lines == [LogLine(level: .notice, message: "IMDS: ENI eth1 is ready: device 1, card 0, 10.0.2.10, 10.0.2.11")])
    }

    @Test func aKnownENIIsReReadCheaplyUnlessReattachedOrAFullReadIsDue() {
        var k = knowingBoth()
        #expect(k.addressReadBase(mac1) == eth1)
        #expect(k.addressReadBase(mac2) == nil, "never seen: read in full")
        k.reattached = [mac1]
        #expect(k.addressReadBase(mac1) == nil)
        k.reattached = []
        k.fullReadNextPoll = true
        #expect(k.addressReadBase(mac0) == nil && k.addressReadBase(mac1) == nil)
    }

    @Test func aFailedOrNotReadyReReadKeepsTheLastGoodFacts() {
        var k = knowingBoth()
        var answers = IMDSAnswers(from: k, keepingPending: false)
        answers.addressRead(mac0, .failure(imdsDown))
        answers.addressRead(mac1, .success(.notReady("ipv6s is listed but answers 404")))
        let update = k.takePoll(listed: [mac0, mac1], answers: answers, name: name)
        #expect(answers.failure?.message == "\(mac0): \(imdsDown)")
        #expect(answers.failure?.temporary == true)
        #expect(!update.changed)
        #expect(k.facts == InstanceFacts(primaryMAC: mac0, enis: [eth0, eth1]))
    }

    @Test func aSuccessfulReadChangesAddressesAndSaysWhich() {
        var k = knowingBoth()
        var answers = IMDSAnswers(from: k, keepingPending: false)
        answers.addressRead(mac1, .success(.ready(eni(mac1, device: 1, "10.0.2.10", "10.0.2.12"))))
        let update = k.takePoll(listed: [mac0, mac1], answers: answers, name: name)
        #expect(update.changed)
        #expect(update.lines.map(\.message) == ["IMDS: ENI eth1: assigned 10.0.2.12; unassigned 10.0.2.11"])
    }

    @Test func onlyASuccessfulListingRemovesAnENI() {
        var k = knowingBoth()
        let update = k.takePoll(listed: [mac0], answers: IMDSAnswers(from: k, keepingPending: false), name: name)
        #expect(update.changed)
        #expect(update.lines.map(\.message) == ["IMDS: ENI eth1 is no longer attached; removing eniroute's objects for it"])
        #expect(k.facts?.enis == [eth0])
    }

    @Test func aReattachedENIReadInFullMovesAndIsNoLongerReattached() {
        var k = knowingBoth()
        k.reattached = [mac1]
        var answers = IMDSAnswers(from: k, keepingPending: false)
        answers.fullRead(mac1, .success(.ready(eni(mac1, device: 3, "10.0.2.10", "10.0.2.11"))), wasReady: true)
        let update = k.takePoll(listed: [mac0, mac1], answers: answers, name: name)
        #expect(k.reattached.isEmpty)
        #expect(update.lines.first?.message.contains("re-attached: device 1, card 0 → device 3, card 0") == true)
    }

    @Test func pendingENIsAreKeptApartAndAFailedReadOfOneNamesTheFailure() {
        var k = knowingBoth()
        var answers = IMDSAnswers(from: k, keepingPending: false)
        answers.fullRead(mac2, .failure(imdsDown), wasReady: false)
        let update = k.takePoll(listed: [mac0, mac1, mac2], answers: answers, name: name)
        #expect(update.changed, "the pending set changed")
        #expect(k.pending[mac2] == "IMDS read failed (\(mac2): \(imdsDown))")
        #expect(k.facts?.enis == [eth0, eth1])
        // A re-read of the pending ENIs only: ready now.
        var retry = IMDSAnswers(from: k, keepingPending: true)
        retry.fullRead(mac2, .success(.ready(eni(mac2, device: 2, "10.0.3.10"))), wasReady: false)
        #expect(k.takePendingRetry(retry, name: name).changed)
        #expect(k.pending.isEmpty && k.facts?.enis.count == 3)
    }

    @Test func refusedDataIsAnErrorAndPermanent() {
        let f = IMDSFailure(.invalidFacts(.malformed(mac: mac1, key: "local-ipv4s", value: "bad")), context: "\(mac1)")
        #expect(f.level == .error && !f.temporary)
        #expect(f.message.hasPrefix("\(mac1): refusing IMDS data: "))
    }
}

@Suite("The links the watcher tracks")
struct LinkTrackerTests {
    private let links = [
        Link(index: 1, name: "lo", mac: MACAddress(octets: [0, 0, 0, 0, 0, 0]), isUp: true),
        Link(index: 2, name: "eth0", mac: mac0, isUp: true),
        Link(index: 3, name: "eth1", mac: mac1, isUp: true),
        Link(index: 4, name: "br0", mac: mac1, isUp: true, kind: "bridge"),
    ]

    @Test func namesLinksThatCanBeENIs() {
        var t = LinkTracker()
        _ = t.observe(links, isReady: { _ in true }, isKnown: { _ in true }, reattached: [])
        #expect(t.names == [mac0: "eth0", mac1: "eth1"])
        #expect(t.name(mac1) == "eth1 (\(mac1))")
        #expect(t.name(mac2) == mac2.description)
    }

    @Test func aReadyENIsInterfaceThatLeavesAndComesBackIsReattached() {
        var t = LinkTracker()
        let first = t.observe(links, isReady: { _ in true }, isKnown: { _ in true }, reattached: [])
        #expect(first == LinkChanges(), "the first observation has nothing to compare with")
        let gone = t.observe(links.filter { $0.index != 3 }, isReady: { _ in true }, isKnown: { _ in true }, reattached: [])
        #expect(gone == LinkChanges(reattached: [mac1], reattachedIsBack: false, unknownAppeared: false))
        var back = links
        back[2].index = 7
        let again = t.observe(back, isReady: { _ in true }, isKnown: { _ in true }, reattached: [mac1])
        #expect(again == LinkChanges(reattached: [], reattachedIsBack: true, unknownAppeared: false))
    }

    @Test func anUnknownMACIsProbedWithBackoffThenGivenUp() {
        var t = LinkTracker()
        _ = t.observe(links, isReady: { _ in true }, isKnown: { _ in true }, reattached: [])
        let eth2 = Link(index: 5, name: "eth2", mac: mac2, isUp: true)
        let changes = t.observe(links + [eth2], isReady: { $0 != mac2 }, isKnown: { $0 != mac2 }, reattached: [])
        #expect(changes.unknownAppeared)
        var delays: [Double] = []
        while let d = t.probed(isKnown: { $0 != mac2 }).nextDelay { delays.append(d) }
        #expect(delays == WatchSchedule.probeDelays)
        #expect(t.unknown.isEmpty)
    }

    @Test func anUnknownMACThatIMDSListsIsNoLongerProbed() {
        var t = LinkTracker()
        _ = t.observe(links, isReady: { _ in true }, isKnown: { _ in true }, reattached: [])
        let eth2 = Link(index: 5, name: "eth2", mac: mac2, isUp: true)
        _ = t.observe(links + [eth2], isReady: { $0 != mac2 }, isKnown: { $0 != mac2 }, reattached: [])
        #expect(t.probed(isKnown: { $0 != mac2 }).nextDelay == 0.25)
        #expect(t.probed(isKnown: { _ in true }) == (nil, []))
    }
}

@Suite("IMDS failure streaks and reconcile backoff")
struct WatchStreakTests {
    @Test func oneLinePerStreakAndOneWhenIMDSAnswersAgain() {
        var s = IMDSFailureStreak()
        #expect(s.record(nil, at: 0, hasListing: true) == nil)
        let down = IMDSFailure(imdsDown)
        let first = s.record(down, at: 10, hasListing: true)
        #expect(first?.level == .warning)
        #expect(first?.message == "IMDS: \(imdsDown); keeping the last known state; nothing is removed until IMDS answers")
        #expect(s.record(down, at: 25, hasListing: true)?.level == .debug)
        #expect(s.count == 2)
        let back = s.record(nil, at: 40.4, hasListing: true)
        #expect(back == LogLine(level: .notice, message: "IMDS: answering again after 2 failed reads over 30 s"))
        #expect(s.count == 0)
    }

    @Test func beforeIMDSEverAnsweredNothingIsConfigured() {
        var s = IMDSFailureStreak()
        let refused = IMDSFailure(.tokenRefused(url: "http://imds/latest/api/token", status: 403))
        #expect(
            s.record(refused, at: 0, hasListing: false)?.message.hasSuffix("nothing is configured until IMDS answers") == true)
        #expect(!s.lastTemporary)
    }

    @Test func reconcileRetriesDoubleUpToTheIntervalAndRepeatedErrorsAreDebug() {
        var b = ReconcileBackoff()
        let delays = (0..<7).map { _ in b.failed("cannot read the kernel's state: EBUSY", interval: 15) }
        #expect(delays.map(\.delay) == [0.5, 1, 2, 4, 8, 15, 15])
        #expect(delays.map(\.level) == [.error] + Array(repeating: .debug, count: 6))
        #expect(b.failed("another error", interval: 15).level == .error)
        b.succeeded()
        #expect(b == ReconcileBackoff())
        #expect(b.failed(nil, interval: 15).delay == 0.5)
    }

    @Test func pendingENIsAreReReadSoonButNotWhileIMDSFails() {
        var s = WatchSchedule(interval: 15, now: 0)
        s.pendingUpdated(anyPending: true, now: 1, failed: false, random: 0)
        #expect(s.pendingSince == 1 && s.pendingRetryDue == 1.2)
        s.pendingUpdated(anyPending: true, now: 20, failed: false, random: 0)
        #expect(s.pendingSince == 1 && s.pendingRetryDue == 25, "slow after the fast window")
        s.pendingUpdated(anyPending: true, now: 21, failed: true, random: 0)
        #expect(s.pendingRetryDue == nil)
        s.pendingUpdated(anyPending: false, now: 22, failed: false, random: 0)
        #expect(s.pendingSince == nil && s.pendingRetryDue == nil)
    }
}
