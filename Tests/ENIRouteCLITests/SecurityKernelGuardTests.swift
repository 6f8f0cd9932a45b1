import ENIRouteCore
import ENIRouteNetlink
import Foundation
import Testing

@testable import ENIRouteCLI

/// unshare(2); Glibc's Swift module does not export it.
@_silgen_name("unshare") private func systemUnshare(_ flags: Int32) -> Int32
private let cloneNewNet: Int32 = 0x4000_0000

/// Opens netlink sockets in a new network namespace, never the root one: a dedicated thread calls
/// unshare(CLONE_NEWNET) (which moves only that thread), proves that /proc/thread-self/ns/net is
/// new (differs from before, from the process's and from PID 1's when readable), opens the sockets
/// and ends. The sockets stay in that namespace.
private enum GuardNamespace {
    final class Box: @unchecked Sendable {
        var sockets: [NetlinkRouteSocket] = []
        var skip: String?
        var failure: String?
    }

    static func sockets(_ count: Int) throws -> [NetlinkRouteSocket] {
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            let before = inode("/proc/thread-self/ns/net")
            guard systemUnshare(cloneNewNet) == 0 else {
                box.skip = "unshare(CLONE_NEWNET) failed (needs root): skipped so that the root namespace is never touched"
                return
            }
            let after = inode("/proc/thread-self/ns/net")
            let process = inode("/proc/self/ns/net")
            let pid1 = inode("/proc/1/ns/net")
            guard let before, let after, let process, after != before, after != process, after != pid1 else {
                box.failure = "not provably in a new network namespace after unshare"
                return
            }
            do {
                for _ in 0..<count { box.sockets.append(try NetlinkRouteSocket()) }
            } catch {
                box.failure = "netlink socket: \(error)"
            }
        }
        thread.start()
        done.wait()
        if let why = box.skip { try Test.cancel(Comment(rawValue: why)) }
        if let why = box.failure { throw GuardTestError(why) }
        return box.sockets
    }

    static func inode(_ path: String) -> UInt64? {
        var s = stat()
        guard stat(path, &s) == 0 else { return nil }
        return UInt64(s.st_ino) ^ (UInt64(s.st_dev) << 32)
    }
}

private struct GuardTestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// The guarded kernel every command applies through refuses a batch that `ChangeGuard` refuses,
/// and then sends nothing of it (in a private network namespace, with the real kernel).
@Suite struct SecurityKernelGuardTests {
    @Test func aRefusedBatchSendsNothing() throws {
        let sockets = try GuardNamespace.sockets(2)
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
