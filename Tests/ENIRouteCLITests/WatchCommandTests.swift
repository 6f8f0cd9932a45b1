import ENIRouteCore
import ENIRouteNetlink
import Testing

@testable import ENIRouteCLI

#if canImport(Glibc)
    import Glibc
#endif

@Suite("watch command line")
struct WatchCommandTests {
    @Test func parsesIntervalAndOnce() throws {
        let inv = try Arguments.parse(["watch", "--interval", "2", "--once"])
        #expect(inv.command == .watch && inv.interval == 2 && inv.once)
        #expect(try Arguments.parse(["--interval=30", "watch"]).interval == 30)
        #expect(try Arguments.parse(["watch"]).interval == nil)
        for args in [
            ["watch", "eth1"], ["watch", "--interval"], ["watch", "--interval", "0"], ["watch", "--interval", "soon"],
            ["apply", "--once"], ["status", "--interval", "5"], ["watch", "--json"],
        ] {
            #expect(throws: UsageError.self, "\(args)") { try Arguments.parse(args) }
        }
        #expect(Arguments.help.contains("watch [--interval SECONDS] [--once]"))
    }

    @Test func onceThroughTheCommandLineWithTestDoubles() {
        let h = Harness()
        #expect(h.run("watch", "--once") == .success)
        #expect(h.log.lines.contains { $0.hasPrefix("ip rule add from 10.0.2.11 lookup 10001") })
        #expect(h.kernel.state.rules.contains { $0.from == IPPrefix("10.0.2.11/32") && $0.isOwned })
        #expect(h.events.waits.isEmpty, "--once does not wait for events")
        let again = Harness(sharing: h)
        #expect(again.run("watch", "--once") == .success)
        #expect(!again.log.lines.contains { $0.hasPrefix("ip ") })
    }

    @Test func onceWhileIMDSFailsChangesNothingAndExits75() {
        let h = Harness()
        h.imds.error = .retriesExhausted(url: "http://169.254.169.254/latest/meta-data/mac", attempts: 3, last: "HTTP 500")
        #expect(h.run("watch", "--once") == .temporary)
        #expect(h.kernel.applied.isEmpty)
        #expect(h.log.lines.contains { $0.hasPrefix("warning: IMDS: ") })
    }

    /// The event loop on a fake clock: it polls IMDS on its timer, heals drift a kernel
    /// notification reports, reloads on SIGHUP and stops on SIGTERM, leaving the routing as it is.
    @Test func theEventLoopFollowsTheKernelAndStopsOnSIGTERM() {
        let h = Harness()
        let lost = RoutingPolicyRule(
            family: .inet, priority: 10002, from: IPPrefix("10.0.2.11/32"), table: 10001, proto: Ownership.routeProtocol)
        h.events.at(1005) {
            h.kernel.state.rules.removeAll { $0.from == lost.from }
            var batch = NetlinkRouteEventBatch()
            batch.events = [.ruleDeleted(lost)]
            return WatchWakeup(kernel: batch)
        }
        h.events.at(1010) { WatchWakeup(signals: [SIGHUP]) }
        h.events.at(1020) { WatchWakeup(signals: [SIGTERM]) }
        #expect(h.run("watch", "--log-level", "info") == .success)
        #expect(h.clock.now == 1020)
        #expect(h.events.script.isEmpty)
        #expect(h.kernel.state.rules.contains { $0.from == lost.from && $0.isOwned }, "the lost rule is back")
        #expect(h.log.lines.filter { $0.hasPrefix("ip rule add from 10.0.2.11 lookup 10001") }.count == 2)
        #expect(h.imds.listings == 2, "polled at the start and once 15 s ± 10 % later")
        #expect(h.events.discards >= 2, "notifications are dropped before each read of the kernel")
        #expect(h.log.lines.contains("SIGHUP: configuration reloaded, unchanged"))
        #expect(h.log.lines.last == "watch: stopping on SIGTERM; eniroute's routing stays as it is")
    }

    @Test func theEventLoopStopsWithAnErrorWhenItCannotWait() {
        let h = Harness()
        #expect(h.run("watch") == .failure)
        #expect(h.log.lines.last == "error: watch: the test's script of events ended")
    }
}
