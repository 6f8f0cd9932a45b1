import ENIRouteCore
import ENIRouteIMDS
import ENIRouteNetlink
import ENIRouteTestSupport
import Testing

@testable import ENIRouteCLI

// The watcher's decisions over an ENI's life (pending, new link, moved, down), the lock, reloads
// and `--once`.
extension WatcherTests {
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
