import ENIRouteCore
import Testing

@testable import ENIRouteCLI

@Suite("watch command line")
struct WatchCommandTests {
    @Test func parsesIntervalAndOnce() throws {
        let inv = try ArgumentParser.parse(["watch", "--interval", "2", "--once"])
        #expect(inv.command == .watch && inv.interval == 2 && inv.once)
        #expect(try ArgumentParser.parse(["--interval=30", "watch"]).interval == 30)
        #expect(try ArgumentParser.parse(["watch"]).interval == nil)
        for args in [
            ["watch", "eth1"], ["watch", "--interval"], ["watch", "--interval", "0"], ["watch", "--interval", "soon"],
            ["apply", "--once"], ["status", "--interval", "5"], ["watch", "--json"],
        ] {
            #expect(throws: UsageError.self, "\(args)") { try ArgumentParser.parse(args) }
        }
        #expect(ArgumentParser.help.contains("watch [--interval SECONDS] [--once]"))
    }

    @Test func onceThroughTheCommandLineWithTestDoubles() {
        let h = Harness(twoENIWorld())
        #expect(h.run("watch", "--once") == .success)
        #expect(h.log.lines.contains { $0.hasPrefix("ip rule add from 10.0.2.11 lookup 10001") })
        #expect(h.kernel.state.rules.contains { $0.from == IPPrefix("10.0.2.11/32") && $0.isOwned })
        let again = Harness((h.kernel, h.metadata))
        #expect(again.run("watch", "--once") == .success)
        #expect(!again.log.lines.contains { $0.hasPrefix("ip ") })
    }

    @Test func onceWhileIMDSFailsChangesNothingAndExits75() {
        let h = Harness(twoENIWorld())
        h.metadata.error = MetadataFailure(
            message: "http://169.254.169.254/latest/meta-data/mac: failed after 3 attempts", temporary: true)
        #expect(h.run("watch", "--once") == .temporary)
        #expect(h.kernel.applied.isEmpty)
        #expect(h.log.lines.contains { $0.hasPrefix("warning: IMDS: ") })
    }

    @Test func theEventLoopNeedsTheRealKernel() {
        let h = Harness(twoENIWorld())
        #expect(h.run("watch") == .failure)
        #expect(h.kernel.applied.isEmpty)
    }
}
