import ENIRouteCore
import ENIRouteSystem

#if canImport(Glibc)
    import Glibc
#endif

/// `eniroute remove IFACE|--mac MAC|--all`: removes eniroute's own objects of one ENI, also when
/// its interface is already gone (udev `remove`), or of all (the package's removal). Needs no
/// IMDS: ownership is read from the kernel.
enum RemoveCommand {
    static func run(_ ctx: CommandContext) -> ExitStatus {
        let lock: RunLock?
        do {
            lock = try ctx.takeRunLock()
        } catch {
            ctx.logger.error("\(error)")
            return .temporary
        }
        return withExtendedLifetime(lock) { locked(ctx) }
    }

    private static func locked(_ ctx: CommandContext) -> ExitStatus {
        let log = ctx.logger
        let kernel: any KernelPort
        let observed: ObservedState
        do {
            kernel = try ctx.openKernel()
            observed = try kernel.observe()
        } catch {
            log.error("cannot read the kernel's state: \(error)")
            return .failure
        }
        let (plan, what) = removal(ctx, observed: observed)
        for w in plan.warnings { log.warning(w) }
        var failed = 0
        for (change, result) in zip(plan.changes, plan.isEmpty ? [] : kernel.apply(plan.changes)) {
            let line = change.ipCommand(names: plan.names)
            if let f = result, !isAlreadyGone(f) {
                failed += 1
                log.error("\(line): \(f.message)")
            } else {
                log.notice(line)
            }
        }
        let n = plan.changes.count - failed
        log.log(
            failed == 0 ? .notice : .error,
            "remove \(what): " + (plan.isEmpty ? "nothing to remove" : "\(n) change\(n == 1 ? "" : "s")")
                + (failed > 0 ? ", \(failed) failed" : ""))
        return failed == 0 ? .success : .failure
    }

    /// Whether the kernel refused a deletion because the object is already gone, the outcome
    /// `remove` wants: `ENOENT` (a rule), `ESRCH` (a route), `ENODEV` (the link itself),
    /// `EADDRNOTAVAIL` (an address).
    static func isAlreadyGone(_ failure: ChangeFailure) -> Bool {
        guard let errno = failure.errno else { return false }
        return [.noSuchFileOrDirectory, .noSuchProcess, .noSuchDevice, .addressNotAvailable].contains(errno)
    }

    /// What `remove` removes, and how its summary line names it.
    private static func removal(_ ctx: CommandContext, observed: ObservedState) -> (Plan, String) {
        let c = ctx.configuration
        if ctx.invocation.all { return (Planner.removalOfEverything(observed: observed, configuration: c), "--all") }
        let link: Link?
        let what: String
        if let mac = ctx.invocation.mac {
            link = observed.links.first(where: { $0.mac == mac })
            what = link?.name ?? mac.description
        } else {
            let name = ctx.invocation.interfaces[0]
            link = observed.links.first(where: { $0.name == name })
            what = name
        }
        if link == nil { ctx.logger.info("\(what) is gone; removing what its departure left behind") }
        return (Planner.removal(link: link, observed: observed, configuration: c), what)
    }
}
