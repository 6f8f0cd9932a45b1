import ENIRouteCore

/// `eniroute status [--json]`: eniroute's objects as the kernel holds them, grouped by ENI table.
enum StatusCommand {
    static func run(_ ctx: CommandContext) -> ExitStatus {
        let observed: ObservedState
        do {
            observed = try ctx.openKernel().observe()
        } catch {
            ctx.logger.error("cannot read the kernel's state: \(error)")
            return .failure
        }
        let status = OwnedObjects(observed, group: ctx.configuration.interfaceGroup)
        let out = ctx.environment.output
        if ctx.invocation.json {
            out.write(line: status.json.serialized())
        } else {
            for line in status.text { out.write(line: line) }
        }
        return .success
    }
}

/// eniroute's objects in the kernel: the links in its interface group, its rules, routes and
/// addresses (those with its protocol tag).
struct OwnedObjects {
    let group: UInt32
    let links: [Link]
    let rules: [RoutingPolicyRule]
    let routes: [Route]
    let addresses: [InterfaceAddress]
    /// The table of each interface that has one of eniroute's routes.
    let tables: [Int32: UInt32]
    private let names: [Int32: String]

    init(_ observed: ObservedState, group: UInt32) {
        self.group = group
        links = observed.links.filter { $0.group == group }
        rules = observed.rules.filter(\.isOwned).sorted()
        routes = observed.routes.filter(\.isOwned).sorted()
        addresses = observed.addresses.filter(\.isOwned).sorted()
        var tables: [Int32: UInt32] = [:]
        for r in routes { if let o = r.outputInterface { tables[o] = r.table } }
        self.tables = tables
        names = Link.names(observed.links)
    }

    /// `eth1`, or `#3` for an index without a link.
    func dev(_ index: Int32?) -> String { index.map { names[$0] ?? "#\($0)" } ?? "-" }

    /// What `status` prints.
    var text: [String] {
        var out = ["ENIs in interface group \(group):"]
        if links.isEmpty { out.append("  (none)") }
        for l in links {
            out.append(
                "  \(l.name)\t\(l.mac?.description ?? "-")\t\(l.isUp ? "up" : "down")\t"
                    + (tables[l.index].map { "table \($0)" } ?? "no table") + "\tmtu \(l.mtu.map(String.init) ?? "-")")
        }
        out.append("Rules (proto eniroute):")
        if rules.isEmpty { out.append("  (none)") }
        for r in rules { out.append("  \(r.family == .inet6 ? "inet6 " : "")\(r)") }
        out.append("Routes (proto eniroute):")
        if routes.isEmpty { out.append("  (none)") }
        for r in routes {
            var s = "  table \(r.table): \(r.destination)"
            if let g = r.gateway { s += " via \(g)" }
            s += " dev \(dev(r.outputInterface))"
            if let p = r.preferredSource { s += " src \(p)" }
            out.append(s)
        }
        out.append("Addresses (proto eniroute):")
        if addresses.isEmpty { out.append("  (none)") }
        for a in addresses { out.append("  \(dev(a.interfaceIndex)) \(a.address)/\(a.prefix.length)") }
        return out
    }

    /// What `status --json` prints.
    var json: JSONValue {
        JSONValue.object([
            ("interfaceGroup", .int(Int64(group))),
            (
                "interfaces",
                .array(
                    links.map { l in
                        .object([
                            ("name", .string(l.name)), ("mac", l.mac.map { .string($0.description) } ?? .null),
                            ("up", .bool(l.isUp)), ("table", tables[l.index].map { .int(Int64($0)) } ?? .null),
                            ("mtu", l.mtu.map { .int(Int64($0)) } ?? .null),
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
    }
}
