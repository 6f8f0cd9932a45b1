import ENIRouteCore
import ENIRouteNetlink
import ENIRouteTestSupport
import Foundation
import Testing

@testable import ENIRouteCLI

private struct GuardTestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// The guarded kernel every command applies through refuses a batch that `ChangeGuard` refuses,
/// and then sends nothing of it (in a private network namespace, with the real kernel).
@Suite struct SecurityKernelGuardTests {
    @Test func aRefusedBatchSendsNothing() throws {
        let sockets = try PrivateNamespace.sockets(count: 2)
        let helper = NetlinkRouteClient(socket: sockets[1])
        let kernel = GuardedKernel(NetlinkKernel(socket: sockets[0]))

        // Nothing observed yet: nothing can be judged, nothing is sent.
        let early = kernel.apply([.linkSetUp(Link(index: 1, name: "lo", mac: nil, isUp: false))])
        #expect(early.count == 1 && early[0] != nil)
        #expect(kernel.statistics.messagesSent == 0)

        let lo = try #require(try helper.linkList().first { $0.name == "lo" })
        try helper.linkSetUp(lo)
        _ = try kernel.observe()
        let sent = kernel.statistics.messagesSent
        let own = Route(
            destination: IPPrefix("10.9.0.0/24")!, table: 10001, outputInterface: lo.index, scope: .link,
            proto: Ownership.routeProtocol)
        let intoMain = Route(
            destination: IPPrefix("10.8.0.0/24")!, table: 254, outputInterface: lo.index, scope: .link,
            proto: Ownership.routeProtocol)
        let results = kernel.apply([.routeAdd(own), .routeAdd(intoMain)])
        #expect(results.count == 2 && results.allSatisfy { $0 != nil && $0!.errno == nil })
        #expect(results[1]?.message.contains("refused by the safety guard") == true)
        #expect(kernel.statistics.messagesSent == sent, "not one message of the refused batch was sent")
        let routes = try helper.routeList()
        #expect(!routes.contains { $0.table == 10001 || $0.destination == IPPrefix("10.8.0.0/24")! })

        // The allowed change alone goes through.
        _ = try kernel.observe()
        #expect(kernel.apply([.routeAdd(own)]) == [nil])
        #expect(try helper.routeList().contains { $0.table == 10001 && $0.isOwned })
    }
}
