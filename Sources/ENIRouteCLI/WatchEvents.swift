import CRTNetlink
import ENIRouteNetlink
import ENIRouteSystem

#if canImport(Glibc)
    import Glibc
#endif

/// What woke the watch loop: signals and kernel change notifications (both may be empty: the
/// wait timed out).
public struct WatchWakeup: Sendable, Equatable {
    /// Signals delivered (`SIGTERM`, `SIGINT`, `SIGHUP`).
    public var signals: [Int32]
    /// Kernel change notifications, if any arrived.
    public var kernel: NetlinkRouteEventBatch?

    /// Creates a wakeup.
    public init(signals: [Int32] = [], kernel: NetlinkRouteEventBatch? = nil) {
        self.signals = signals
        self.kernel = kernel
    }
}

/// What `eniroute watch` waits on: the kernel's change notifications and the signals that stop it
/// or reload its configuration. The real one polls a subscribed rtnetlink socket and a signalfd;
/// tests script one on a fake clock.
public protocol WatchEventSource: AnyObject {
    /// Waits at most `seconds` for notifications or signals. Throws when the descriptors cannot be
    /// waited on or read (the watcher then stops).
    func wait(seconds: Double) throws -> WatchWakeup
    /// Throws away the kernel notifications queued so far (the watcher calls it right before it
    /// reads the kernel's state, which then covers them).
    func discardKernelEvents()
}

/// The real event source: `poll(2)` on a netlink socket subscribed to links, addresses, rules and
/// routes of both families (`ip monitor`), and on a signalfd for SIGTERM, SIGINT and SIGHUP.
final class KernelSignalEvents: WatchEventSource {
    private let reader: NetlinkRouteEventReader
    private let readerFD: Int32
    private let signals: SignalDescriptor

    init() throws {
        signals = try SignalDescriptor(signals: [SIGTERM, SIGINT, SIGHUP])
        reader = try NetlinkRouteEventReader()
        guard let fd = reader.fileDescriptor else { throw SystemCallError("netlink subscription", .badFileDescriptor) }
        readerFD = fd
    }

    func wait(seconds: Double) throws -> WatchWakeup {
        let timeout: Int32 = seconds <= 0 ? 0 : Int32(min((seconds * 1000).rounded(.up), 3_600_000))
        var fds = [
            pollfd(fd: readerFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0),
        ]
        if poll(&fds, nfds_t(fds.count), timeout) < 0 {
            // Interrupted: an empty wakeup; the loop computes the next timeout again.
            if Errno.current == .interrupted { return WatchWakeup() }
            throw SystemCallError("poll", .current)
        }
        var wakeup = WatchWakeup()
        if fds[1].revents != 0 { wakeup.signals = signals.take() }
        if fds[0].revents != 0 {
            do {
                wakeup.kernel = try reader.readAvailable()
            } catch {
                throw WatchEventError(message: "reading kernel notifications: \(error)")
            }
        }
        return wakeup
    }

    func discardKernelEvents() { _ = try? reader.readAvailable() }
}

/// SIGTERM, SIGINT and SIGHUP as a readable descriptor (`signalfd(2)`): the signals are blocked,
/// so they never interrupt a system call; the loop reads them when `poll` says so.
final class SignalDescriptor {
    let fd: Int32

    init(signals: [Int32]) throws(SystemCallError) {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        guard pthread_sigmask(SIG_BLOCK, &set, nil) == 0 else { throw SystemCallError("pthread_sigmask", .current) }
        let fd = signalfd(-1, &set, Int32(SFD_CLOEXEC) | Int32(SFD_NONBLOCK))
        guard fd >= 0 else { throw SystemCallError("signalfd", .current) }
        self.fd = fd
    }

    deinit { close(fd) }

    /// The signals delivered since the last call.
    func take() -> [Int32] {
        var out: [Int32] = []
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        while (try? retryOnInterrupt({ withUnsafeMutableBytes(of: &info) { read(fd, $0.baseAddress, size) } })) == size {
            out.append(Int32(info.ssi_signo))
        }
        return out
    }
}

/// The kernel's notifications could not be read.
struct WatchEventError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
