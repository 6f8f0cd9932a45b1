import CRTNetlink
import ENIRouteCore
import ENIRouteNetlink

#if canImport(Glibc)
    import Glibc
#endif

/// `eniroute watch [--interval SECONDS] [--once]`: the long-running metadata watcher.
enum WatchCommand {
    static func run(_ ctx: CommandContext) -> ExitCode {
        let log = ctx.logger
        let env = ctx.environment
        let kernel: any KernelPort
        do {
            kernel = try env.makeKernel()
        } catch {
            log.error("cannot open the kernel connection: \(error)")
            return .failure
        }
        // Subscribe before the first read of the kernel's state, so that no change falls between.
        var events: RouteNetlinkEventReader?
        var signals: SignalDescriptor?
        if !ctx.invocation.once {
            guard kernel is NetlinkKernel else {
                log.error("watch: the event loop needs the kernel itself (use --once with test doubles)")
                return .failure
            }
            do {
                signals = try SignalDescriptor(signals: [SIGTERM, SIGINT, SIGHUP])
                events = try RouteNetlinkEventReader()
            } catch {
                log.error("watch: cannot follow the kernel: \(error)")
                return .failure
            }
        }
        let makeMetadata: (Configuration) throws -> any WatchMetadataPort = { c in
            let base = try env.makeMetadata(c)
            if let w = base as? any WatchMetadataPort { return w }
            if base is IMDSMetadata { return try IMDSWatchMetadata(configuration: c, log: { log.debug("IMDS: \($0)") }) }
            return SnapshotWatchMetadata(base)
        }
        let metadata: any WatchMetadataPort
        do {
            metadata = try makeMetadata(ctx.configuration)
        } catch {
            log.error("IMDS: \(error)")
            return .failure
        }
        var lockFile: WatchLockFile?
        if let path = env.lockPath {
            do {
                lockFile = try WatchLockFile(path: path)
            } catch {
                log.error("\(error)")
                return .failure
            }
        }
        let ports = WatchPorts(
            kernel: kernel, metadata: metadata, makeMetadata: makeMetadata, clock: monotonicSeconds,
            random: { Double.random(in: 0...1) },
            lock: { try lockFile?.acquire() },
            discardEvents: { _ = try? events?.readAvailable() },
            reloadConfiguration: { try ENIRoute.loadConfiguration(invocation: ctx.invocation, environment: env) })
        let watcher = Watcher(
            configuration: ctx.configuration, intervalOverride: ctx.invocation.interval, ports: ports, logger: log)
        if ctx.invocation.once { return watcher.runOnce() }
        guard let events, let signals, let eventsFD = events.fileDescriptor else { return .failure }
        return WatchLoop(watcher: watcher, events: events, eventsFD: eventsFD, signals: signals, log: log).run()
    }
}

/// The event loop: `poll(2)` on the subscribed netlink socket and the signalfd, with the
/// watcher's next timer as timeout. Single-threaded; all decisions are the `Watcher`'s.
struct WatchLoop {
    let watcher: Watcher
    let events: RouteNetlinkEventReader
    let eventsFD: Int32
    let signals: SignalDescriptor
    let log: Logger

    func run() -> ExitCode {
        log.notice(
            "watch: following IMDS (every \(Watcher.seconds(watcher.interval)), ±10 %) and the kernel's links, addresses, "
                + "rules and routes")
        while true {
            let wait = watcher.schedule.nextWakeup - monotonicSeconds()
            let timeout: Int32 = wait <= 0 ? 0 : Int32(min((wait * 1000).rounded(.up), 3_600_000))
            var fds = [
                pollfd(fd: eventsFD, events: Int16(POLLIN), revents: 0),
                pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                log.error("watch: poll: \(String(cString: strerror(errno)))")
                return .failure
            }
            if fds[1].revents != 0 {
                for signal in signals.take() {
                    switch signal {
                    case SIGHUP:
                        log.info("SIGHUP: reloading the configuration")
                        watcher.reload()
                    default:
                        let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
                        log.notice("watch: stopping on \(name); eniroute's routing stays as it is")
                        return .success
                    }
                }
            }
            if fds[0].revents != 0 {
                do {
                    watcher.kernelEvents(try events.readAvailable())
                } catch {
                    log.error("watch: reading kernel notifications: \(error)")
                    return .failure
                }
            }
            watcher.tick()
        }
    }
}

/// SIGTERM, SIGINT and SIGHUP as a readable descriptor (`signalfd(2)`): the signals are blocked,
/// so they never interrupt a system call; the loop reads them when `poll` says so.
final class SignalDescriptor {
    let fd: Int32

    init(signals: [Int32]) throws(WatchSystemError) {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        guard pthread_sigmask(SIG_BLOCK, &set, nil) == 0 else { throw WatchSystemError(call: "pthread_sigmask", code: errno) }
        let fd = signalfd(-1, &set, Int32(SFD_CLOEXEC) | Int32(SFD_NONBLOCK))
        guard fd >= 0 else { throw WatchSystemError(call: "signalfd", code: errno) }
        self.fd = fd
    }

    deinit { close(fd) }

    /// The signals delivered since the last call.
    func take() -> [Int32] {
        var out: [Int32] = []
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        while true {
            let n = withUnsafeMutableBytes(of: &info) { read(fd, $0.baseAddress, size) }
            if n < 0 && errno == EINTR { continue }
            guard n == size else { break }
            out.append(Int32(info.ssi_signo))
        }
        return out
    }
}

/// The run lock file, opened once; `acquire` takes it without waiting (`flock(LOCK_EX|LOCK_NB)`)
/// for one pass. Compatible with `RunLock`, which `apply` uses.
final class WatchLockFile {
    let fd: Int32
    let path: String

    /// A held lock; released when dropped.
    final class Hold {
        let fd: Int32
        init(fd: Int32) { self.fd = fd }
        deinit { flock(fd, LOCK_UN) }
    }

    init(path: String) throws(WatchSystemError) {
        self.path = path
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            let dir = String(path[..<slash])
            if mkdir(dir, 0o755) != 0 && errno != EEXIST { throw WatchSystemError(call: "mkdir \(dir)", code: errno) }
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WatchSystemError(call: "open \(path)", code: errno) }
        self.fd = fd
    }

    deinit { close(fd) }

    func acquire() throws -> AnyObject {
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { throw WatchLockBusy() }
            throw WatchSystemError(call: "flock \(path)", code: errno)
        }
        return Hold(fd: fd)
    }
}

/// A failed system call of the watcher's loop.
struct WatchSystemError: Error, CustomStringConvertible {
    var call: String
    var code: Int32
    var description: String { "\(call): \(String(cString: strerror(code)))" }
}
