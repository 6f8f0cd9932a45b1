import CRTNetlink
import ENIRouteNetlink
import ENIRouteSystem
import Foundation
import Testing

/// Opens netlink sockets inside a new network namespace without ever touching the root one:
/// a dedicated thread calls unshare(CLONE_NEWNET) (which moves only that thread), checks that
/// /proc/thread-self/ns/net changed and is neither the process's original namespace nor PID 1's,
/// opens the sockets and exits. A socket keeps the namespace it was created in, so the test then
/// uses the sockets from any thread; the namespace goes away with the last of them. (/proc/1/ns/net
/// may be unreadable, e.g. when PID 1 is not dumpable; the namespace is then still proven new: it
/// differs from the one before unshare.) Without the privilege to unshare, the test is cancelled.
public enum PrivateNamespace {
    private final class Box: @unchecked Sendable {
        var sockets: [NetlinkRouteSocket] = []
        var unavailable: String?
        var failure: String?
    }

    /// `count` sockets in one new namespace.
    public static func sockets(count: Int = 1, datagramBufferSize: Int = 64 * 1024) throws -> [NetlinkRouteSocket] {
        let box = Box()
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { finished.signal() }
            let before = inode("/proc/thread-self/ns/net")
            guard crt_unshare_network_namespace() == 0 else {
                box.unavailable =
                    "unshare(CLONE_NEWNET) failed (\(Errno.current)): needs root/CAP_SYS_ADMIN; skipped so the root namespace is never touched"
                return
            }
            let after = inode("/proc/thread-self/ns/net")
            let original = inode("/proc/self/ns/net")  // the main thread's, untouched
            let pid1 = inode("/proc/1/ns/net")
            guard let before, let after, let original, after != before, after != original, after != pid1 else {
                box.failure = "after unshare the thread is not provably in a new network namespace (or /proc is missing)"
                return
            }
            do {
                for _ in 0..<count { box.sockets.append(try NetlinkRouteSocket(datagramBufferSize: datagramBufferSize)) }
            } catch {
                box.failure = "opening the netlink socket failed: \(error)"
            }
        }
        thread.start()
        finished.wait()
        if let why = box.unavailable { try Test.cancel(Comment(rawValue: why)) }
        if let why = box.failure { throw NamespaceError(message: why) }
        return box.sockets
    }

    /// A netlink client in a new namespace.
    public static func netlink() throws -> NetlinkRouteClient { NetlinkRouteClient(socket: try sockets()[0]) }

    private static func inode(_ path: String) -> UInt64? {
        var s = stat()
        guard stat(path, &s) == 0 else { return nil }
        return UInt64(s.st_ino) ^ (UInt64(s.st_dev) << 32)
    }
}

/// The namespace could not be proven private.
public struct NamespaceError: Error, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    public var description: String { message }
}
