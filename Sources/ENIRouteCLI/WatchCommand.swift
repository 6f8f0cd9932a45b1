import ENIRouteCore
import ENIRouteIMDS
import ENIRouteSystem

#if canImport(Glibc)
    import Glibc
#endif

/// `eniroute watch [--interval SECONDS] [--once]`: the long-running metadata watcher.
enum WatchCommand {
    static func run(_ ctx: CommandContext) -> ExitStatus {
        let log = ctx.logger
        let env = ctx.environment
        let kernel: any KernelPort
        do {
            kernel = try ctx.openKernel()
        } catch {
            log.error("cannot open the kernel connection: \(error)")
            return .failure
        }
        // Subscribe before the first read of the kernel's state, so that no change falls between.
        var events: (any WatchEventSource)?
        if !ctx.invocation.once {
            do {
                events = try env.makeWatchEvents()
            } catch {
                log.error("watch: cannot follow the kernel: \(error)")
                return .failure
            }
        }
        // Few quick retries: a poll that fails is simply repeated at the next interval.
        let options = MetadataOptions(
            log: { log.debug("IMDS: \($0)") }, retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: 0.1, maximumDelay: 0.5))
        let makeMetadata = { (c: Configuration) throws -> any MetadataPort in try env.makeMetadata(c, options) }
        let metadata: any MetadataPort
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
            kernel: kernel, metadata: metadata, makeMetadata: makeMetadata, clock: env.clock,
            random: { Double.random(in: 0...1) },
            lock: { try lockFile?.acquire() },
            discardEvents: { events?.discardKernelEvents() },
            reloadConfiguration: { try ENIRoute.loadConfiguration(invocation: ctx.invocation, environment: env) })
        let watcher = Watcher(
            configuration: ctx.configuration, intervalOverride: ctx.invocation.interval, ports: ports, logger: log)
        guard let events else { return watcher.runOnce() }
        return WatchLoop(watcher: watcher, events: events, clock: env.clock, log: log).run()
    }
}

/// The event loop: waits on the event source with the watcher's next timer as timeout, and hands
/// over what arrived. Single-threaded; all decisions are the `Watcher`'s.
struct WatchLoop {
    let watcher: Watcher
    let events: any WatchEventSource
    let clock: () -> Double
    let log: JournalLog

    func run() -> ExitStatus {
        log.notice(
            "watch: following IMDS (every \(WatchSchedule.seconds(watcher.interval)), ±10 %) and the kernel's links, addresses, "
                + "rules and routes")
        while true {
            let wakeup: WatchWakeup
            do {
                wakeup = try events.wait(seconds: watcher.schedule.nextWakeup - clock())
            } catch {
                log.error("watch: \(error)")
                return .failure
            }
            for signal in wakeup.signals {
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
            if let batch = wakeup.kernel { watcher.kernelEvents(batch) }
            watcher.tick()
        }
    }
}

/// The run lock file, opened once; `acquire` takes it without waiting for one pass.
/// Compatible with `RunLock`, which `apply` uses.
final class WatchLockFile {
    private let file: LockFile

    /// A held lock; released when dropped.
    final class Hold {
        let file: LockFile
        init(file: LockFile) { self.file = file }
        deinit { file.unlock() }
    }

    init(path: String) throws(SystemCallError) { file = try LockFile(path: path) }

    func acquire() throws -> AnyObject {
        guard try file.tryLock() else { throw WatchLockBusy() }
        return Hold(file: file)
    }
}
