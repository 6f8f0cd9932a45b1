import ENIRouteCore
import Testing

@testable import ENIRouteCLI

/// `GuardedKernel` in memory: whatever kernel it wraps, a batch reaches it only when
/// `ChangeGuard` allows all of it against the state last observed through the wrapper.
@Suite struct GuardedKernelTests {
    private let eth1 = Link(index: 3, name: "eth1", mac: mac1, isUp: false)
    private var own: Route {
        Route(
            destination: IPPrefix("10.0.2.0/24")!, table: 10001, outputInterface: 3, scope: .link, proto: Ownership.routeProtocol)
    }

    @Test func nothingObservedNothingSent() {
        let (kernel, _) = twoENIWorld()
        let guarded = GuardedKernel(kernel)
        let results = guarded.apply([.linkSetUp(eth1)])
        #expect(results.count == 1 && results[0]?.message.contains("was not read first") == true)
        #expect(kernel.applied.isEmpty)
    }

    @Test func anAllowedBatchGoesThroughAndARefusedOneIsRefusedWhole() throws {
        let (kernel, _) = twoENIWorld()
        let guarded = GuardedKernel(kernel)
        _ = try guarded.observe()
        let intoMain = Route(
            destination: IPPrefix("10.8.0.0/24")!, table: 254, outputInterface: 3, scope: .link, proto: Ownership.routeProtocol)
        let refused = guarded.apply([.routeAdd(own), .routeAdd(intoMain)])
        #expect(refused[0]?.message == "not sent: another change of this batch was refused")
        #expect(refused[1]?.message.hasPrefix("refused by the safety guard: route in table 254") == true)
        #expect(kernel.applied.isEmpty)
        #expect(guarded.apply([.linkSetUp(eth1), .routeAdd(own)]) == [nil, nil])
        #expect(kernel.applied == [.linkSetUp(eth1), .routeAdd(own)])
    }

    @Test func aBatchIsJudgedAgainstTheLastObservation() throws {
        let (kernel, _) = twoENIWorld()
        let guarded = GuardedKernel(kernel)
        _ = try guarded.observe()
        #expect(guarded.apply([.routeAdd(own)]) == [nil])
        // Deleting what the last observation did not report is refused, though the kernel has it now.
        #expect(guarded.apply([.routeDelete(own)])[0]?.message.contains("the kernel did not report") == true)
        _ = try guarded.observe()
        #expect(guarded.apply([.routeDelete(own)]) == [nil])
    }
}
