import ENIRouteCore
import ENIRouteIMDS
import ENIRouteNetlink
import ENIRouteTestSupport
import Testing

@testable import ENIRouteCLI

/// A watcher on the seed-000 instance with fakes for everything.
final class WatchRig {
    let clock: FakeClock
    let kernel: InMemoryKernel
    let imds: FakeIMDS
    let sink = MemorySink()
    var discards = 0
    var lockBusy = false
    var locks = 0
    var reloaded: Result<Configuration, ConfigurationError> = .success(Configuration())
    var random = 0.5
    private(set) var watcher: Watcher!

    init(interval: Double? = 15) {
        let clock = FakeClock()
        self.clock = clock
        (kernel, imds) = twoENIWorld(clock: clock)
        let ports = WatchPorts(
            kernel: GuardedKernel(kernel), metadata: imds, makeMetadata: { [unowned self] _ in self.imds },
            clock: { [unowned self] in self.clock.now },
            random: { [unowned self] in self.random },
            lock: { [unowned self] in
                if self.lockBusy { throw WatchLockBusy() }
                self.locks += 1
                return nil
            },
            discardEvents: { [unowned self] in self.discards += 1 },
            reloadConfiguration: { [unowned self] in try self.reloaded.get() })
        watcher = Watcher(
            configuration: Configuration(), intervalOverride: interval, ports: ports,
            logger: JournalLog(level: .debug, journal: false, sink: sink))
    }

    func advance(to t: Double) {
        clock.now = 1000 + t
        watcher.tick()
    }

    var notices: [String] { sink.lines.filter { !$0.hasPrefix("warning: ") && !$0.hasPrefix("error: ") } }
    var warnings: [String] { sink.lines.filter { $0.hasPrefix("warning: ") } }
    var rules: [RoutingPolicyRule] { kernel.state.rules.filter { $0.isOwned && $0.suppressInterfaceGroup == nil } }
    func hasRule(from a: String) -> Bool { rules.contains { $0.from == IPPrefix(host: IPAddress(a)!) } }
    func hasAddress(_ a: String) -> Bool { kernel.state.addresses.contains { $0.address == IPAddress(a)! } }
}

/// What the fake IMDS answers while it is down.
let imdsDown = IMDSError.retriesExhausted(url: "http://imds/", attempts: 3, last: "HTTP 500")

private func relevantEvent() -> NetlinkRouteEventBatch {
    var b = NetlinkRouteEventBatch()
    b.events = [
        .ruleDeleted(
            RoutingPolicyRule(
                family: .inet, priority: 10002, from: IPPrefix("10.0.2.11/32"), table: 10001, proto: Ownership.routeProtocol))
    ]
    return b
}

@Suite("Watcher schedule")
struct WatchScheduleTests {
    @Test func pollIntervalHasJitterWithinTenPercent() {
        var s = WatchSchedule(interval: 15, now: 100)
        #expect(s.nextPoll == 100 && s.nextWakeup == 100)
        s.polled(at: 100, random: 0)
        #expect(abs(s.nextPoll - 113.5) < 1e-9)
        s.polled(at: 100, random: 1)
        #expect(abs(s.nextPoll - 116.5) < 1e-9)
        s.polled(at: 100, random: 0.5)
        #expect(s.nextPoll == 115)
    }

    @Test func debounceWaitsForQuietButAtMostOneSecond() {
        var s = WatchSchedule(interval: 15, now: 0)
        s.polled(at: 0, random: 0.5)
        s.noteKernelEvent(at: 10)
        #expect(abs(s.reconcileDue! - 10.1) < 1e-9)
        s.noteKernelEvent(at: 10.05)
        #expect(abs(s.reconcileDue! - 10.15) < 1e-9)
        // A storm of events: the reconcile still comes one second after the first.
        var t = 10.05
        while t < 12 {
            t += 0.05
            s.noteKernelEvent(at: t)
        }
        #expect(abs(s.reconcileDue! - 11.0) < 1e-9)
        #expect(s.nextWakeup == s.reconcileDue)
        s.reconciled()
        #expect(s.reconcileDue == nil)
        s.noteKernelEvent(at: 12.5)
        #expect(abs(s.reconcileDue! - 12.6) < 1e-9)
    }

    @Test func requestedReconcileIsNotPushedBackByEvents() {
        var s = WatchSchedule(interval: 15, now: 0)
        s.requestReconcile(at: 5)
        s.noteKernelEvent(at: 5)
        #expect(s.reconcileDue == 5)
        s.requestReconcile(at: 7)
        #expect(s.reconcileDue == 5)
    }

    @Test func pendingRetriesAreFastAtFirstThenSlower() {
        let s = WatchSchedule(interval: 15, now: 0)
        #expect(s.pendingDelay(now: 1, since: 0, random: 0) == 0.2)
        #expect(s.pendingDelay(now: 1, since: 0, random: 1) == 0.5)
        #expect(s.pendingDelay(now: 20, since: 0, random: 0.5) == WatchSchedule.pendingSlowRetry)
        let short = WatchSchedule(interval: 2, now: 0)
        #expect(short.pendingDelay(now: 20, since: 0, random: 0.5) == 2)
    }
}

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

    @Test func aPendingENIIsReReadQuicklyAndConfiguredWhenReady() {
        let rig = WatchRig()
        let mac2 = MACAddress("02:00:00:00:03:0a")!
        rig.kernel.state.links.append(Link(index: 4, name: "eth2", mac: mac2, isUp: true))
        rig.imds.order.append(mac2)
        rig.imds.notReady[mac2] = "device-number 0 on card 0 for a non-primary ENI"
        rig.advance(to: 0)
        #expect(rig.watcher.knowledge.pending[mac2] != nil)
        #expect(!rig.rules.contains { $0.table == 10002 || $0.table == 10000 && $0.from == IPPrefix("10.0.3.10/32") })
        let due = rig.watcher.schedule.pendingRetryDue!
        #expect(due >= 1000.2 && due <= 1000.5)
        rig.advance(to: due - 1000)
        #expect(rig.imds.fullReads.filter { $0 == mac2 }.count == 2)
        #expect(rig.imds.listings == 1, "a pending re-read reads only that ENI")
        rig.imds.notReady[mac2] = nil
        rig.imds.enis[mac2] = ENIFacts(
            mac: mac2, isPrimary: false, deviceNumber: 2, subnetIPv4: IPPrefix("10.0.3.0/24"),
            ipv4Addresses: [IPAddress("10.0.3.10")!])
        let next = rig.watcher.schedule.pendingRetryDue!
        rig.advance(to: next - 1000)
        #expect(rig.rules.contains { $0.table == 10002 && $0.from == IPPrefix("10.0.3.10/32") })
        #expect(rig.watcher.schedule.pendingRetryDue == nil)
        #expect(rig.imds.listings == 1)
    }

    @Test func aNewLinkWithAnUnknownMACTriggersIMDSReads() {
        let rig = WatchRig()
        rig.advance(to: 0)
        let mac2 = MACAddress("02:00:00:00:03:0a")!
        rig.kernel.state.links.append(Link(index: 4, name: "eth2", mac: mac2, isUp: true))
        rig.clock.now = 1005
        var b = NetlinkRouteEventBatch()
        b.events = [.linkNew(rig.kernel.state.links.last!)]
        rig.watcher.kernelEvents(b)
        rig.advance(to: 5.1)
        #expect(rig.watcher.schedule.probeDue == 1005.1)
        rig.advance(to: 5.1)
        #expect(rig.imds.listings == 2)
        // IMDS lists it a little later: the next probe finds it.
        rig.imds.order.append(mac2)
        rig.imds.enis[mac2] = ENIFacts(
            mac: mac2, isPrimary: false, deviceNumber: 2, subnetIPv4: IPPrefix("10.0.3.0/24"),
            ipv4Addresses: [IPAddress("10.0.3.10")!])
        rig.advance(to: rig.watcher.schedule.probeDue! - 1000)
        #expect(rig.rules.contains { $0.table == 10002 })
        #expect(rig.watcher.schedule.probeDue == nil)
    }

    @Test func anENIReattachedAsAnotherDeviceMovesToItsNewTableAtOnce() {
        let rig = WatchRig()
        rig.advance(to: 0)
        #expect(rig.rules.contains { $0.table == 10001 })
        // Detached: its interface and what was on it leave the kernel; IMDS is not asked yet.
        let eth1 = rig.kernel.state.links.first { $0.mac == mac1 }!
        rig.kernel.state.links.removeAll { $0.mac == mac1 }
        rig.kernel.state.addresses.removeAll { $0.interfaceIndex == eth1.index }
        rig.kernel.state.routes.removeAll { $0.outputInterface == eth1.index }
        rig.clock.now = 1002
        var gone = NetlinkRouteEventBatch()
        gone.events = [.linkDeleted(eth1)]
        rig.watcher.kernelEvents(gone)
        rig.advance(to: 2.2)
        #expect(rig.watcher.knowledge.reattached == [mac1])
        // Re-attached as device 3, a new interface, long before the next poll.
        rig.imds.enis[mac1]!.deviceNumber = 3
        var back = eth1
        back.index = 7
        rig.kernel.state.links.append(back)
        rig.clock.now = 1005
        var new = NetlinkRouteEventBatch()
        new.events = [.linkNew(back)]
        rig.watcher.kernelEvents(new)
        rig.advance(to: 5.2)
        #expect(rig.watcher.schedule.probeDue == 1005.2)
        #expect(rig.watcher.schedule.nextPoll > 1010)
        rig.advance(to: 5.2)
        #expect(rig.imds.fullReads.filter { $0 == mac1 }.count == 2, "the re-attached ENI is read in full")
        #expect(rig.rules.contains { $0.table == 10003 && $0.from == IPPrefix("10.0.2.11/32") })
        #expect(!rig.rules.contains { $0.table == 10001 })
        #expect(rig.kernel.state.routes.filter { $0.table == 10003 }.count == 2)
        #expect(rig.kernel.state.routes.filter { $0.table == 10001 }.isEmpty)
        #expect(rig.notices.contains { $0.contains("re-attached: device 1, card 0 → device 3, card 0") })
        #expect(rig.watcher.knowledge.reattached.isEmpty)
    }

    @Test func aDownENIIsLeftDownWithItsRules() {
        let rig = WatchRig()
        rig.advance(to: 0)
        let eth1 = rig.kernel.state.links.firstIndex { $0.name == "eth1" }!
        rig.kernel.state.links[eth1].isUp = false
        rig.kernel.state.routes.removeAll { $0.table == 10001 }
        rig.clock.now = 1002
        rig.watcher.kernelEvents(relevantEvent())
        rig.kernel.applied = []
        rig.advance(to: 2.2)
        #expect(rig.kernel.applied.isEmpty, "\(rig.kernel.applied)")
        #expect(rig.hasRule(from: "10.0.2.11"))
        rig.kernel.state.links[eth1].isUp = true
        rig.clock.now = 1003
        rig.watcher.kernelEvents(relevantEvent())
        rig.advance(to: 3.2)
        #expect(rig.kernel.state.routes.filter { $0.table == 10001 }.count == 2)
    }

    @Test func aBusyLockIsRetriedShortly() {
        let rig = WatchRig()
        rig.lockBusy = true
        rig.advance(to: 0)
        #expect(rig.kernel.observeCount == 0)
        #expect(rig.watcher.schedule.reconcileDue == 1000.25)
        rig.lockBusy = false
        rig.advance(to: 0.25)
        #expect(rig.hasRule(from: "10.0.2.10"))
    }

    @Test func sighupReloadsAndAnInvalidFileKeepsTheOldConfiguration() {
        let rig = WatchRig()
        rig.advance(to: 0)
        rig.reloaded = .failure(
            ConfigurationError(file: "/etc/eniroute/eniroute.conf", line: 3, key: "ipv6", message: "expected yes or no"))
        rig.watcher.reload()
        #expect(rig.sink.lines.last?.hasPrefix("error: SIGHUP: configuration not reloaded") == true)
        #expect(rig.watcher.configuration == Configuration())
        var c = Configuration()
        c.primaryRules = false
        rig.reloaded = .success(c)
        rig.clock.now = 1001
        rig.watcher.reload()
        #expect(rig.watcher.configuration == c)
        #expect(rig.watcher.schedule.reconcileDue == 1001)
        rig.advance(to: 1)
        #expect(!rig.hasRule(from: "10.0.1.10"))
        #expect(rig.hasRule(from: "10.0.2.10"))
    }

    @Test func sighupWithANewIntervalReschedulesThePoll() {
        let fromFile = WatchRig(interval: nil)
        fromFile.advance(to: 0)
        #expect(fromFile.watcher.schedule.nextPoll == 1015)
        var c = Configuration()
        c.watchInterval = 5
        fromFile.reloaded = .success(c)
        fromFile.clock.now = 1001
        fromFile.watcher.reload()
        #expect(fromFile.watcher.interval == 5)
        #expect(fromFile.watcher.schedule.nextPoll == 1006)
        // --interval wins over the file.
        let overridden = WatchRig(interval: 15)
        overridden.advance(to: 0)
        overridden.reloaded = .success(c)
        overridden.watcher.reload()
        #expect(overridden.watcher.interval == 15)
        #expect(overridden.watcher.configuration.watchInterval == 5)
    }

    @Test func onceExitCodes() {
        let ok = WatchRig()
        #expect(ok.watcher.runOnce() == .success)
        #expect(ok.hasRule(from: "10.0.2.11"))
        let failing = WatchRig()
        failing.imds.error = imdsDown
        #expect(failing.watcher.runOnce() == .temporary)
        #expect(failing.kernel.observeCount == 0)
        let pending = WatchRig()
        pending.imds.notReady[mac1] = "no addresses listed yet"
        #expect(pending.watcher.runOnce() == .temporary)
        #expect(pending.hasRule(from: "10.0.1.10"))
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
