import ENIRouteCore

/// `eniroute apply [IFACE…]` and `eniroute plan [IFACE…] [--json]`.
enum ApplyCommand {
    static func run(_ ctx: CommandContext, dryRun: Bool) -> ExitCode {
        let log = ctx.logger
        let started = monotonicSeconds()
        let verb = dryRun ? "plan" : "apply"
        let lock: RunLock?
        do {
            lock = dryRun ? nil : try ctx.takeRunLock()
        } catch {
            log.error("\(error)")
            return .temporary
        }
        defer { _ = lock }

        // Only the links before IMDS (names → MACs); the full state is read once IMDS has answered.
        let kernel: any KernelPort
        let links: [Link]
        do {
            kernel = try ctx.environment.makeKernel()
            links = try kernel.links()
        } catch {
            log.error("cannot read the kernel's state: \(error)")
            return .failure
        }

        // Named interfaces → their MACs.
        var macs: [MACAddress]?
        if !ctx.invocation.interfaces.isEmpty {
            var list: [MACAddress] = []
            for name in ctx.invocation.interfaces {
                guard let link = links.first(where: { $0.name == name }) else {
                    log.error("no interface named \(name)")
                    return .failure
                }
                if let why = ENILinkPolicy.build.refusal(link) {
                    log.error(why)
                    return .failure
                }
                let mac = link.mac!
                if !list.contains(mac) { list.append(mac) }
            }
            macs = list
        }

        let metadata: any MetadataPort
        let snapshot: MetadataSnapshot
        do {
            metadata = try ctx.environment.makeMetadata(ctx.configuration)
            // `apply` runs once per boot or hot attach: a retry or a token refresh is worth a
            // line (it explains a slow start), unlike the watcher's, which polls all day.
            (metadata as? IMDSMetadata)?.log = { log.notice("IMDS: \($0)") }
            snapshot = try metadata.fetch(macs: macs)
        } catch let e as MetadataFailure {
            log.error("IMDS: \(e.message); nothing changed")
            return e.temporary ? .temporary : .failure
        } catch let e as FactsError {
            log.error("refusing IMDS data: \(e); nothing changed")
            return .failure
        } catch {
            log.error("IMDS: \(error); nothing changed")
            return .failure
        }
        for (mac, reason) in snapshot.pending.sorted(by: { $0.key < $1.key }) {
            let name = links.first(where: { $0.mac == mac })?.name ?? mac.description
            log.warning("\(name): IMDS data not ready by the deadline (\(reason)); left as it is")
        }

        let scope: PlanScope =
            macs.map { .enis(Set($0).subtracting(snapshot.pending.keys)) } ?? .all(pending: Set(snapshot.pending.keys))
        let plan: Plan
        do {
            let observed = try kernel.observe()
            plan = try Planner.plan(facts: snapshot.facts, observed: observed, configuration: ctx.configuration, scope: scope)
        } catch let e as FactsError {
            log.error("refusing IMDS data: \(e); nothing changed")
            return .failure
        } catch {
            log.error("cannot read the kernel's state: \(error)")
            return .failure
        }
        for w in plan.warnings { log.warning(w) }

        if dryRun {
            printPlan(plan, pending: snapshot.pending, ctx: ctx)
            return snapshot.pending.isEmpty ? .success : .temporary
        }

        // Apply, then check that the kernel now matches; another round covers a race with another agent.
        let outcome = Convergence.run(plan, kernel: kernel, log: log) {
            try Planner.plan(
                facts: snapshot.facts, observed: try kernel.observe(), configuration: ctx.configuration, scope: scope)
        }
        let applied = outcome.applied
        let failures = outcome.failures
        let managed = outcome.remaining.enis.filter { $0.state == "managed" }
        let enis = outcome.managedSummary
        let stats = metadata.statistics
        let ms = Int((monotonicSeconds() - started) * 1000)
        var summary = "\(verb): "
        summary += applied == 0 && failures.isEmpty ? "no change" : "\(applied) change\(applied == 1 ? "" : "s")"
        summary += " on \(managed.count) ENI\(managed.count == 1 ? "" : "s")"
        if !enis.isEmpty { summary += " (\(enis.joined(separator: ", ")))" }
        if !failures.isEmpty { summary += ", \(failures.count) failed" }
        if !snapshot.pending.isEmpty { summary += ", \(snapshot.pending.count) not ready" }
        summary +=
            "; \(stats.requests) IMDS requests on \(stats.connections) connection\(stats.connections == 1 ? "" : "s"), \(ms) ms"
        log.log(failures.isEmpty ? .notice : .error, summary)
        let k = kernel.statistics
        log.info(
            "netlink: \(k.messagesSent) messages in \(k.datagramsSent) datagrams sent, \(k.datagramsReceived) received")
        if !failures.isEmpty { return .failure }
        return snapshot.pending.isEmpty ? .success : .temporary
    }

    static func printPlan(_ plan: Plan, pending: [MACAddress: String], ctx: CommandContext) {
        let out = ctx.environment.output
        if ctx.invocation.json {
            let changes = JSONValue.array(
                plan.changes.map { c in
                    .object([("op", .string(opName(c))), ("command", .string(c.ipCommand(names: plan.names)))])
                })
            let enis = JSONValue.array(
                plan.enis.map { e in
                    .object([
                        ("mac", .string(e.mac.description)), ("interface", e.interfaceName.map { .string($0) } ?? .null),
                        ("table", e.table.map { .int(Int64($0)) } ?? .null), ("primary", .bool(e.isPrimary)),
                        ("state", .string(e.state)),
                    ])
                })
            let pend = JSONValue.array(
                pending.sorted(by: { $0.key < $1.key }).map {
                    .object([("mac", .string($0.key.description)), ("reason", .string($0.value))])
                })
            let doc = JSONValue.object([
                ("changes", changes), ("enis", enis), ("pending", pend), ("warnings", .array(plan.warnings.map { .string($0) })),
            ])
            out.write(line: doc.serialized())
            return
        }
        if plan.isEmpty {
            out.write(line: "no change")
        } else {
            for c in plan.changes { out.write(line: c.ipCommand(names: plan.names)) }
        }
    }

    static func opName(_ c: Change) -> String {
        switch c {
        case .linkSetUp: return "linkSetUp"
        case .linkSetGroup: return "linkSetGroup"
        case .addressAdd: return "addressAdd"
        case .addressDelete: return "addressDelete"
        case .routeAdd: return "routeAdd"
        case .routeReplace: return "routeReplace"
        case .routeDelete: return "routeDelete"
        case .ruleAdd: return "ruleAdd"
        case .ruleDelete: return "ruleDelete"
        }
    }
}
