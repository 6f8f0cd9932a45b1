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

/// A kernel event the watcher must react to: one of its own rules deleted.
func relevantEvent() -> NetlinkRouteEventBatch {
    var b = NetlinkRouteEventBatch()
    b.events = [
        .ruleDeleted(
            RoutingPolicyRule(
                family: .inet, priority: 10002, from: IPPrefix("10.0.2.11/32"), table: 10001, proto: Ownership.routeProtocol))
    ]
    return b
}
