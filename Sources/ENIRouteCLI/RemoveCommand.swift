import ENIRouteCore

/// `eniroute remove IFACE|--mac MAC`: removes eniroute's own objects of one ENI, also when its
/// interface is already gone (udev `remove`). Needs no IMDS: ownership is read from the kernel.
enum RemoveCommand {
    static func run(_ ctx: CommandContext) -> ExitCode {
        let log = ctx.logger
        let lock: RunLock?
        do {
            lock = try ctx.takeRunLock()
        } catch {
            log.error("\(error)")
            return .temporary
        }
        defer { _ = lock }
        let kernel: any KernelPort
        let observed: ObservedState
        do {
            kernel = try ctx.openKernel()
            observed = try kernel.observe()
        } catch {
            log.error("cannot read the kernel's state: \(error)")
            return .failure
        }
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
        if link == nil { log.info("\(what) is gone; removing what its departure left behind") }
        let plan = Planner.removal(link: link, observed: observed, configuration: ctx.configuration)
        for w in plan.warnings { log.warning(w) }
        var failed = 0
        if !plan.isEmpty {
            let results = kernel.apply(plan.changes)
            for (change, result) in zip(plan.changes, results) {
                let line = change.ipCommand(names: plan.names)
                // Already gone is the outcome we want.
                if let f = result, f.errno != 2 && f.errno != 3 && f.errno != 19 {
                    failed += 1
                    log.error("\(line): \(f.message)")
                } else {
                    log.notice(line)
                }
            }
        }
        let n = plan.changes.count - failed
        log.log(
            failed == 0 ? .notice : .error,
            "remove \(what): " + (plan.isEmpty ? "nothing to remove" : "\(n) change\(n == 1 ? "" : "s")")
                + (failed > 0 ? ", \(failed) failed" : ""))
        return failed == 0 ? .success : .failure
    }
}
