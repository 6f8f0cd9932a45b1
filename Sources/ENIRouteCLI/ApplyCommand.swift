import ENIRouteCore
import ENIRouteIMDS

/// `eniroute apply [IFACE…]` and `eniroute plan [IFACE…] [--json]`.
enum ApplyCommand {
    static func run(_ ctx: CommandContext, dryRun: Bool) -> ExitStatus {
        let started = ctx.environment.clock()
        let lock: RunLock?
        do {
            lock = dryRun ? nil : try ctx.takeRunLock()
        } catch {
            ctx.logger.error("\(error)")
            return .temporary
        }
        return withExtendedLifetime(lock) { locked(ctx, dryRun: dryRun, started: started) }
    }

    /// The run, under the lock: links → IMDS → plan → apply until the kernel matches.
    private static func locked(_ ctx: CommandContext, dryRun: Bool, started: Double) -> ExitStatus {
        let log = ctx.logger
        // Only the links before IMDS (names → MACs); the full state is read once IMDS has answered.
        let kernel: GuardedKernel
        let links: [Link]
        do {
            kernel = try ctx.openKernel()
            links = try kernel.links()
        } catch {
            log.error("cannot read the kernel's state: \(error)")
            return .failure
        }
        let macs: [MACAddress]?
        switch namedMACs(ctx.invocation.interfaces, links: links) {
        case .success(let m): macs = m
        case .failure(let e):
            log.error(e.message)
            return .failure
        }
        // `apply` runs once per boot or hot attach: a retry or a token refresh is worth a line (it
        // explains a slow start), unlike the watcher's, which polls all day.
        let metadata: any MetadataPort
        let facts: InstanceFacts
        let pending: [MACAddress: String]
        do throws(IMDSError) {
            metadata = try ctx.environment.makeMetadata(ctx.configuration, MetadataOptions(log: { log.notice("IMDS: \($0)") }))
            metadata.begin(deadline: ctx.configuration.imdsDeadline)
            (facts, pending) = try metadata.fetch(macs: macs, waitForReady: true)
        } catch {
            return imdsFailed(error, log: log)
        }
        for (mac, reason) in pending.sorted(by: { $0.key < $1.key }) {
            let name = links.first(where: { $0.mac == mac })?.name ?? mac.description
            log.warning("\(name): IMDS data not ready by the deadline (\(reason)); left as it is")
        }
        let scope: PlanScope = macs.map { .enis(Set($0).subtracting(pending.keys)) } ?? .all(pending: Set(pending.keys))
        let replan = {
            try Planner.plan(facts: facts, observed: try kernel.observe(), configuration: ctx.configuration, scope: scope)
        }
        let plan: Plan
        do {
            plan = try replan()
        } catch let e as FactsError {
            log.error("refusing IMDS data: \(e); nothing changed")
            return .failure
        } catch {
            log.error("cannot read the kernel's state: \(error)")
            return .failure
        }
        for w in plan.warnings { log.warning(w) }
        if dryRun {
            PlanOutput.write(plan, pending: pending, json: ctx.invocation.json, to: ctx.environment.output)
            return pending.isEmpty ? .success : .temporary
        }
        // Apply, then check that the kernel now matches; another round covers a race with another agent.
        let outcome = Convergence.run(plan, kernel: kernel, log: log, replan: replan)
        let stats = metadata.statistics
        let ms = Int((ctx.environment.clock() - started) * 1000)
        var summary = outcome.summary(verb: "apply")
        if !pending.isEmpty { summary += ", \(pending.count) not ready" }
        summary +=
            "; \(stats.requests) IMDS requests on \(stats.connections) connection\(stats.connections == 1 ? "" : "s"), \(ms) ms"
        log.log(outcome.failures.isEmpty ? .notice : .error, summary)
        let k = kernel.statistics
        log.info("netlink: \(k.messagesSent) messages in \(k.datagramsSent) datagrams sent, \(k.datagramsReceived) received")
        if !outcome.failures.isEmpty { return .failure }
        return pending.isEmpty ? .success : .temporary
    }

    /// The MACs of the named interfaces (nil: no names, every ENI).
    static func namedMACs(_ names: [String], links: [Link]) -> Result<[MACAddress]?, UsageError> {
        guard !names.isEmpty else { return .success(nil) }
        var list: [MACAddress] = []
        for name in names {
            guard let link = links.first(where: { $0.name == name }) else {
                return .failure(UsageError("no interface named \(name)"))
            }
            if let why = ENILinkPolicy.build.refusal(link) { return .failure(UsageError(why)) }
            if let mac = link.mac, !list.contains(mac) { list.append(mac) }
        }
        return .success(list)
    }

    /// Logs a failed IMDS read; 75 when a later run may succeed.
    static func imdsFailed(_ error: IMDSError, log: JournalLog) -> ExitStatus {
        if case .invalidFacts(let f) = error {
            log.error("refusing IMDS data: \(f); nothing changed")
            return .failure
        }
        log.error("IMDS: \(error); nothing changed")
        return error.isTemporary ? .temporary : .failure
    }
}
