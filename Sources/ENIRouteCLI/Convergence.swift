import ENIRouteCore

/// What applying a plan until the kernel matches came to.
struct Convergence {
    /// Changes the kernel accepted.
    var applied = 0
    /// One sentence per failure (a refused change, an unreadable kernel, no convergence).
    var failures: [String] = []
    /// The last plan: empty when the kernel matches.
    var remaining: Plan
    /// ENIs of the last plan that eniroute manages, as `eth1 table 10001`.
    var managedSummary: [String] {
        remaining.enis.filter { $0.state == .managed }.map { e in
            (e.interfaceName ?? e.mac.description) + (e.table.map { " table \($0)" } ?? "")
        }
    }

    /// The run's summary line, as `apply` and the watcher log it:
    /// `apply: 3 changes on 2 ENIs (eth0 table 10000, eth1 table 10001), 1 failed`.
    func summary(verb: String) -> String {
        let enis = managedSummary
        var line = "\(verb): "
        line += applied == 0 && failures.isEmpty ? "no change" : "\(applied) change\(applied == 1 ? "" : "s")"
        line += " on \(enis.count) ENI\(enis.count == 1 ? "" : "s")"
        if !enis.isEmpty { line += " (\(enis.joined(separator: ", ")))" }
        if !failures.isEmpty { line += ", \(failures.count) failed" }
        return line
    }
}

extension Convergence {
    /// Applies `plan`, logging one line per change (its `ip` command), then re-reads the kernel and
    /// plans again through `replan`, until nothing is left, a change fails, or `maxRounds` rounds
    /// have passed (another agent racing eniroute). Shared by `apply` and the watcher.
    static func run(
        _ plan: Plan, kernel: any KernelPort, log: JournalLog, maxRounds: Int = 3, replan: () throws -> Plan
    ) -> Convergence {
        var result = Convergence(remaining: plan)
        var rounds = 0
        while !result.remaining.isEmpty && rounds < maxRounds {
            rounds += 1
            let current = result.remaining
            for (change, failure) in zip(current.changes, kernel.apply(current.changes)) {
                let line = change.ipCommand(names: current.names)
                if let f = failure {
                    result.failures.append("\(line): \(f.message)")
                    log.error("\(line): \(f.message)")
                } else {
                    result.applied += 1
                    log.notice(line)
                }
            }
            if !result.failures.isEmpty { return result }
            do {
                result.remaining = try replan()
            } catch {
                result.failures.append("cannot re-read the kernel's state: \(error)")
                log.error("cannot re-read the kernel's state: \(error)")
                return result
            }
        }
        if !result.remaining.isEmpty {
            result.failures.append("state did not converge after \(rounds) rounds")
            log.error("state did not converge after \(rounds) rounds: \(result.remaining.changes.count) changes still pending")
        }
        return result
    }
}
