import ENIRouteCore
import ENIRouteIMDS
import ENIRouteNetlink
import ENIRouteTestSupport
import Testing

@testable import ENIRouteCLI

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
