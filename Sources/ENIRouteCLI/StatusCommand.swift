import ENIRouteCore

/// `eniroute status [--json]`: eniroute's objects as the kernel holds them, grouped by ENI table.
enum StatusCommand {
    static func run(_ ctx: CommandContext) -> ExitCode {
        let observed: ObservedState
        do {
            observed = try ctx.openKernel().observe()
        } catch {
            ctx.logger.error("cannot read the kernel's state: \(error)")
            return .failure
        }
        let c = ctx.configuration
        let names = Link.names(observed.links)
        let rules = observed.rules.filter(\.isOwned).sorted()
        let routes = observed.routes.filter(\.isOwned).sorted()
        let addresses = observed.addresses.filter(\.isOwned).sorted()
        let grouped = observed.links.filter { $0.group == c.interfaceGroup }
        var tableOf: [Int32: UInt32] = [:]
        for r in routes { if let o = r.outputInterface { tableOf[o] = r.table } }
        let out = ctx.environment.output
        func dev(_ i: Int32?) -> String { i.map { names[$0] ?? "#\($0)" } ?? "-" }
        if ctx.invocation.json {
            let doc = JSONValue.object([
                ("interfaceGroup", .int(Int64(c.interfaceGroup))),
                (
                    "interfaces",
                    .array(
                        grouped.map { l in
                            .object([
                                ("name", .string(l.name)), ("mac", l.mac.map { .string($0.description) } ?? .null),
                                ("up", .bool(l.isUp)), ("table", tableOf[l.index].map { .int(Int64($0)) } ?? .null),
                            ])
                        })
                ),
                (
                    "rules",
                    .array(
                        rules.map { r in
                            .object([
                                ("family", .string(r.family.description)), ("priority", .int(Int64(r.priority))),
                                ("from", r.from.map { .string($0.description) } ?? .null), ("table", .int(Int64(r.table))),
                                ("suppressInterfaceGroup", r.suppressInterfaceGroup.map { .int(Int64($0)) } ?? .null),
                            ])
                        })
                ),
                (
                    "routes",
                    .array(
                        routes.map { r in
                            .object([
                                ("table", .int(Int64(r.table))), ("destination", .string(r.destination.description)),
                                ("gateway", r.gateway.map { .string($0.description) } ?? .null),
                                ("dev", .string(dev(r.outputInterface))),
                                ("source", r.preferredSource.map { .string($0.description) } ?? .null),
                            ])
                        })
                ),
                (
                    "addresses",
                    .array(
                        addresses.map { a in
                            .object([
                                ("dev", .string(dev(a.interfaceIndex))), ("address", .string("\(a.address)/\(a.prefix.length)")),
                            ])
                        })
                ),
            ])
            out.write(line: doc.serialized())
            return .success
        }
        out.write(line: "ENIs in interface group \(c.interfaceGroup):")
        if grouped.isEmpty { out.write(line: "  (none)") }
        for l in grouped {
            out.write(
                line: "  \(l.name)\t\(l.mac?.description ?? "-")\t\(l.isUp ? "up" : "down")\t"
                    + (tableOf[l.index].map { "table \($0)" } ?? "no table"))
        }
        out.write(line: "Rules (proto eniroute):")
        if rules.isEmpty { out.write(line: "  (none)") }
        for r in rules { out.write(line: "  \(r.family == .inet6 ? "inet6 " : "")\(r)") }
        out.write(line: "Routes (proto eniroute):")
        if routes.isEmpty { out.write(line: "  (none)") }
        for r in routes {
            var s = "  table \(r.table): \(r.destination)"
            if let g = r.gateway { s += " via \(g)" }
            s += " dev \(dev(r.outputInterface))"
            if let p = r.preferredSource { s += " src \(p)" }
            out.write(line: s)
        }
        out.write(line: "Addresses (proto eniroute):")
        if addresses.isEmpty { out.write(line: "  (none)") }
        for a in addresses { out.write(line: "  \(dev(a.interfaceIndex)) \(a.address)/\(a.prefix.length)") }
        return .success
    }
}
