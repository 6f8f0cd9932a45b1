import ENIRouteCore
import ENIRouteIMDS
import ENIRouteNetlink
import ENIRouteTestSupport
import Testing

@testable import ENIRouteCLI

@Suite("Watcher decisions (fake clock, kernel and IMDS)")
struct WatcherTests {
    @Test func firstTickPollsConfiguresAndSchedulesTheNextPoll() {
        let rig = WatchRig()
        rig.advance(to: 0)
        #expect(rig.imds.listings == 1)
        #expect(rig.hasRule(from: "10.0.2.10") && rig.hasRule(from: "10.0.2.11") && rig.hasAddress("10.0.2.11"))
        #expect(rig.watcher.schedule.nextPoll == 1015)
        #expect(rig.watcher.schedule.reconcileDue == nil)
        #expect(rig.notices.contains { $0.hasPrefix("ip rule add from 10.0.2.11 lookup 10001") })
        #expect(rig.notices.contains { $0.hasPrefix("watch: ") && $0.contains("changes on 2 ENIs") })
        #expect(rig.discards >= 2, "events are discarded before each read of the kernel")
        #expect(rig.locks == 1)
    }

    @Test func idleTicksAndUnchangedPollsDoNotTouchTheKernel() {
        let rig = WatchRig()
        rig.advance(to: 0)
        let observed = rig.kernel.observeCount
        let lines = rig.sink.lines.count
        rig.advance(to: 5)
        #expect(rig.imds.listings == 1)
        rig.advance(to: 15)
        #expect(rig.imds.listings == 2)
        #expect(rig.imds.fullReads.count == 2, "device-number and subnets are read once per ENI")
        #expect(rig.imds.addressReads == [mac0, mac1])
        #expect(rig.kernel.observeCount == observed, "nothing changed: no pass")
        #expect(rig.sink.lines.count == lines, "no log line per poll")
    }

    @Test func driftIsRestoredAfterTheDebounce() {
        let rig = WatchRig()
        rig.advance(to: 0)
        rig.kernel.state.rules.removeAll { $0.from == IPPrefix("10.0.2.11/32") }
        rig.clock.now = 1002
        rig.watcher.kernelEvents(relevantEvent())
        rig.advance(to: 2.05)
        #expect(!rig.hasRule(from: "10.0.2.11"), "not before the quiet time")
        rig.advance(to: 2.1)
        #expect(rig.hasRule(from: "10.0.2.11"))
        #expect(rig.imds.listings == 1, "kernel drift needs no IMDS read")
        #expect(rig.watcher.schedule.reconcileDue == nil, "its own changes do not schedule another pass")
    }

    @Test func foreignRuleAndMainTableEventsAreNotRelevant() {
        let foreign = RoutingPolicyRule(family: .inet, priority: 100, from: IPPrefix("10.9.9.9/32"), table: 100, proto: 4)
        #expect(!Watcher.isRelevant(.ruleNew(foreign)))
        #expect(!Watcher.isRelevant(.routeDeleted(Route(destination: .any(.inet), table: 254, outputInterface: 2, proto: 4))))
        #expect(Watcher.isRelevant(.routeDeleted(Route(destination: .any(.inet), table: 10001, outputInterface: 3, proto: 4))))
        // An administrator's route in main through an ENI is mirrored into its table; main's
        // kernel prefix routes are not.
        let deliberate = Route(
            destination: IPPrefix("203.0.113.0/24")!, table: 254, outputInterface: 2, gateway: IPAddress("10.0.1.50"), proto: 3)
        #expect(Watcher.isRelevant(.routeNew(deliberate)))
        #expect(Watcher.isRelevant(.routeDeleted(deliberate)))
        let kernelPrefix = Route(destination: IPPrefix("10.0.1.0/24")!, table: 254, outputInterface: 2, scope: .link, proto: 2)
        #expect(!Watcher.isRelevant(.routeNew(kernelPrefix)))
        #expect(Watcher.isRelevant(.linkDeleted(Link(index: 3, name: "eth1", mac: mac1, isUp: true))))
        let rig = WatchRig()
        rig.advance(to: 0)
        var b = NetlinkRouteEventBatch()
        b.events = [.ruleNew(foreign)]
        rig.watcher.kernelEvents(b)
        #expect(rig.watcher.schedule.reconcileDue == nil)
    }

    @Test func notificationOverflowForcesAFullResync() {
        let rig = WatchRig()
        rig.advance(to: 0)
        var b = NetlinkRouteEventBatch()
        b.overflowed = true
        rig.clock.now = 1003
        rig.watcher.kernelEvents(b)
        #expect(rig.watcher.schedule.reconcileDue == 1003)
        #expect(rig.warnings.contains { $0.contains("ENOBUFS") })
    }

    @Test func failedPollsRemoveNothingAndWarnOncePerStreak() {
        let rig = WatchRig()
        rig.advance(to: 0)
        let before = rig.kernel.state
        rig.imds.error = imdsDown
        rig.imds.order = []  // what a broken IMDS "says" must never be read
        for t in [15.0, 30, 45, 60] { rig.advance(to: t) }
        #expect(rig.kernel.state == before)
        #expect(rig.warnings.count == 1)
        #expect(rig.warnings.first?.contains("nothing is removed") == true)
        #expect(rig.watcher.imdsFailures.count == 4)
        // Drift is still healed from the last good facts while IMDS is down.
        rig.kernel.state.rules.removeAll { $0.from == IPPrefix("10.0.2.10/32") }
        rig.clock.now = 1061
        rig.watcher.kernelEvents(relevantEvent())
        rig.advance(to: 61.2)
        #expect(rig.hasRule(from: "10.0.2.10"))
        rig.imds.error = nil
        rig.imds.order = [mac0, mac1]
        rig.advance(to: 75)
        #expect(rig.watcher.imdsFailures.count == 0)
        #expect(rig.notices.contains { $0.contains("IMDS: answering again after 4 failed reads") })
        #expect(rig.warnings.count == 1)
        #expect(rig.hasRule(from: "10.0.2.11") && rig.hasAddress("10.0.2.11"))
    }

    @Test func aPartialReadKeepsTheENIsLastGoodFacts() {
        let rig = WatchRig()
        rig.advance(to: 0)
        rig.imds.enis[mac1]!.ipv4Addresses = [IPAddress("10.0.2.10")!]
        rig.imds.failReadsOf = [mac1]
        rig.advance(to: 15)
        #expect(rig.hasRule(from: "10.0.2.11") && rig.hasAddress("10.0.2.11"), "unknown is not empty")
        #expect(rig.warnings.count == 1)
        rig.imds.failReadsOf = []
        rig.advance(to: 30)
        #expect(!rig.hasRule(from: "10.0.2.11") && !rig.hasAddress("10.0.2.11"), "a successful answer removes it")
        #expect(rig.notices.contains { $0.contains("unassigned 10.0.2.11") })
    }

    @Test func secondaryAddressesAssignedAndUnassigned() {
        let rig = WatchRig()
        rig.advance(to: 0)
        rig.imds.enis[mac1]!.ipv4Addresses.append(IPAddress("10.0.2.12")!)
        rig.advance(to: 15)
        #expect(rig.hasRule(from: "10.0.2.12") && rig.hasAddress("10.0.2.12"))
        #expect(rig.notices.contains { $0.contains("assigned 10.0.2.12") })
        rig.imds.enis[mac1]!.ipv4Addresses = [IPAddress("10.0.2.10")!, IPAddress("10.0.2.12")!]
        rig.advance(to: 30)
        #expect(!rig.hasRule(from: "10.0.2.11") && !rig.hasAddress("10.0.2.11"))
        #expect(rig.hasRule(from: "10.0.2.12") && rig.hasRule(from: "10.0.2.10"))
    }

    @Test func aMACGoneFromASuccessfulListingIsRemoved() {
        let rig = WatchRig()
        rig.advance(to: 0)
        rig.imds.order = [mac0]
        rig.advance(to: 15)
        #expect(!rig.rules.contains { $0.table == 10001 })
        #expect(!rig.hasAddress("10.0.2.11"))
        #expect(rig.hasRule(from: "10.0.1.10"))
        #expect(rig.notices.contains { $0.contains("no longer attached") })
    }
}

@Suite("Watcher start while IMDS is down")
struct WatcherStartTests {
    @Test func nothingIsConfiguredUntilIMDSAnswersAndItIsAskedOftenMeanwhile() {
        let rig = WatchRig()
        rig.imds.error = imdsDown
        rig.advance(to: 0)
        #expect(rig.kernel.observeCount == 0)
        #expect(rig.watcher.schedule.nextPoll == 1000 + WatchSchedule.startupRetry)
        #expect(rig.warnings.first?.contains("nothing is configured until IMDS answers") == true)
        rig.imds.error = nil
        rig.advance(to: WatchSchedule.startupRetry)
        #expect(rig.hasRule(from: "10.0.2.10"))
        #expect(rig.watcher.schedule.nextPoll == 1000 + WatchSchedule.startupRetry + 15)
    }
}
