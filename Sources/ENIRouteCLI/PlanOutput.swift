import ENIRouteCore

/// What `eniroute plan` prints: one `ip` command per change, or one JSON document (`--json`).
enum PlanOutput {
    static func write(_ plan: Plan, pending: [MACAddress: String], json: Bool, to out: any LogSink) {
        guard json else {
            if plan.isEmpty { out.write(line: "no change") }
            for c in plan.changes { out.write(line: c.ipCommand(names: plan.names)) }
            return
        }
        let changes = JSONValue.array(
            plan.changes.map { c in
                .object([("op", .string(operationName(c))), ("command", .string(c.ipCommand(names: plan.names)))])
            })
        let enis = JSONValue.array(
            plan.enis.map { e in
                .object([
                    ("mac", .string(e.mac.description)), ("interface", e.interfaceName.map { .string($0) } ?? .null),
                    ("table", e.table.map { .int(Int64($0)) } ?? .null), ("primary", .bool(e.isPrimary)),
                    ("state", .string(e.state.rawValue)),
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
    }

    /// The change's operation, as `plan --json` names it (`ruleAdd`, `routeReplace`, …).
    static func operationName(_ c: Change) -> String {
        switch c {
        case .linkSetMTU: return "linkSetMTU"
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
