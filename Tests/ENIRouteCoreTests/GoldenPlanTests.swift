import ENIRouteCore
import ENIRouteTestSupport
import Foundation
import Testing

// Golden plans: every IMDS fixture with per-MAC data becomes one or more instances (InstanceFacts
// plus an ObservedState with one Link per MAC: indexes 2, 3, …, the primary up and first, the others
// down, all in group 0, no addresses, rules or routes yet). The plan of `apply` for all ENIs is
// rendered as `ip` commands and compared with Golden/<fixture>.txt.
//
// The golden files were written by hand from the issue's policy and then checked against the
// planner; review any change to them. They are read through #filePath (the `.copy("Golden")`
// resource in Package.swift only keeps SwiftPM from warning about unhandled files). To rewrite them from the current planner, run
//   ENIROUTE_UPDATE_GOLDEN=1 swift test --filter GoldenPlanTests
// and review the diff before committing.

/// One ENI of a fixture instance.
struct FixtureENI {
    var mac: MACAddress
    var isPrimary: Bool
    var values: [String: String]
    var linkName: String
}

/// One instance built from a fixture (some fixtures give several).
struct FixtureInstance: CustomTestStringConvertible {
    var fixture: String
    var section: String?
    var notes: [String] = []
    var enis: [FixtureENI]

    var testDescription: String { fixture + (section.map { "/" + $0 } ?? "") }

    /// Parses every ENI (in fixture order) and builds the observation; a refusal is a result too.
    func build() -> Result<(InstanceFacts, ObservedState), FactsError> {
        Result { () throws(FactsError) in
            var facts: [ENIFacts] = []
            var links: [Link] = []
            var addresses: [InterfaceAddress] = []
            for (i, e) in enis.enumerated() {
                let f = try ENIFacts.parse(mac: e.mac, isPrimary: e.isPrimary, values: e.values)
                facts.append(f)
                links.append(Link(index: Int32(2 + i), name: e.linkName, mac: e.mac, isUp: e.isPrimary, group: 0))
                // The primary ENI comes up with its primary IPv4 from DHCP (untagged) before eniroute runs.
                if f.isPrimary, let p = f.primaryIPv4, let subnet = f.subnetIPv4 {
                    addresses.append(
                        InterfaceAddress(
                            prefix: IPPrefix(address: p, length: subnet.length), interfaceIndex: Int32(2 + i), proto: 0))
                }
            }
            // Only the planner reads the facts; a fixture without a primary ENI gets a placeholder.
            let primary = enis.first(where: \.isPrimary)?.mac ?? mac("02:00:00:00:00:ff")
            return (InstanceFacts(primaryMAC: primary, enis: facts), ObservedState(links: links, addresses: addresses))
        }
    }

    /// The golden text of this instance.
    func render() -> [String] {
        var out: [String] = []
        if let section { out.append("## \(section)") }
        for n in notes { out.append("# note: \(n)") }
        let facts: InstanceFacts
        let observed: ObservedState
        switch build() {
        case .failure(let e):
            out.append("refused: \(e)")
            return out
        case .success(let built):
            (facts, observed) = built
        }
        for f in facts.enis {
            if let reason = f.notReadyReason { out.append("# not ready: \(f.mac): \(reason)") }
        }
        let plan: Plan
        do {
            plan = try Planner.plan(facts: facts, observed: observed, configuration: Configuration(), scope: .all(pending: []))
        } catch {
            out.append("refused: \(error)")
            return out
        }
        for e in plan.enis {
            let table = e.table.map(String.init) ?? "none"
            out.append("# eni \(e.mac) \(e.interfaceName ?? "-") table \(table) \(e.state)\(e.isPrimary ? " primary" : "")")
        }
        for w in plan.warnings { out.append("# warning: \(w)") }
        out += commands(plan)
        return out
    }
}

enum GoldenFixtures {
    /// Fixtures with per-MAC data: each has a golden file.
    static let perMAC = [
        "aemm-single-nic-default", "ci-default-2016-09-02-two-nic", "ci-issue5373-hotplug-partial-imds",
        "ci-nic-fragments-2018-09-24",
        "ci-single-nic-secondary-ips-2018-09-24", "ci-two-nic-ipv6-only", "netutils-issue104-multi-card",
        "netutils1x-secondary-eni-scenarios",
    ]
    /// Fixtures without per-MAC values (only key listings).
    static let withoutPerMACData = ["vpccni-per-mac-key-listings"]

    static func instances(_ name: String) throws -> [FixtureInstance] {
        let json = try Fixtures.load(name)
        switch name {
        case "ci-nic-fragments-2018-09-24": return try fragments(name, json)
        case "ci-issue5373-hotplug-partial-imds": return try hotplug(name, json)
        case "netutils1x-secondary-eni-scenarios": return try netutils1x(name, json)
        default: return [try crawled(name, json)]
        }
    }

    /// Fixtures in cloud-init's crawler form: a `macs` object, the primary in the top-level `mac`.
    static func crawled(_ name: String, _ json: [String: Any]) throws -> FixtureInstance {
        // The 2018-09-24 data uses underscore keys (subnet_ipv6_cidr_blocks) where real IMDS uses
        // hyphens (subnet-ipv6-cidr-blocks): normalise them, as the planner must see IMDS's names.
        let hyphenate = name == "ci-single-nic-secondary-ips-2018-09-24"
        var notes: [String] = []
        if hyphenate { notes.append("underscore keys normalised to hyphens, as real IMDS names them") }
        let top = json["top_level"] as? [String: Any]
        var primary = (top?["mac"] ?? top?["/latest/meta-data/mac"]) as? String
        var entries: [(mac: String, bodies: [String: String])] = []
        for (key, value) in try Fixtures.object(json["macs"], "\(name).macs") {
            entries.append((key, try Fixtures.bodies(try Fixtures.object(value, key), hyphenateKeys: hyphenate)))
        }
        func slot(_ b: [String: String]) -> (Int, Int) {
            (Int(b["network-card"] ?? b["network-card-index"] ?? "0") ?? 0, Int(b["device-number"] ?? "0") ?? 0)
        }
        if primary == nil {
            primary = entries.first(where: { slot($0.bodies) == (0, 0) })?.mac
            notes.append("the fixture has no top-level mac: the card 0 device 0 ENI is taken as primary")
        }
        entries.sort { a, b in
            if (a.mac == primary) != (b.mac == primary) { return a.mac == primary }
            let (sa, sb) = (slot(a.bodies), slot(b.bodies))
            return (sa.0, sa.1, a.mac) < (sb.0, sb.1, b.mac)
        }
        var enis: [FixtureENI] = []
        for (i, e) in entries.enumerated() {
            enis.append(
                FixtureENI(
                    mac: try #require(MACAddress(e.mac)), isPrimary: e.mac == primary, values: e.bodies, linkName: "eth\(i)"))
        }
        return FixtureInstance(fixture: name, notes: notes, enis: enis)
    }

    /// NIC1 (primary, device 0) with NIC2_MD (device 1): two ENIs in one subnet, each under its own MAC.
    static func fragments(_ name: String, _ json: [String: Any]) throws -> [FixtureInstance] {
        let all = try Fixtures.object(json["fragments"], "fragments")
        func fragment(_ key: String, primary: Bool, link: String) throws -> FixtureENI {
            let entries = try Fixtures.object(all[key], key)
            let m = try #require(MACAddress(try Fixtures.string(entries["mac"], "\(key).mac")))
            return FixtureENI(
                mac: m, isPrimary: primary, values: try Fixtures.bodies(entries, hyphenateKeys: true), linkName: link)
        }
        return [
            FixtureInstance(
                fixture: name, section: "NIC1_MD_IPV4_IPV6_MULTI_IP+NIC2_MD",
                notes: ["underscore keys normalised to hyphens, as real IMDS names them"],
                enis: [
                    try fragment("NIC1_MD_IPV4_IPV6_MULTI_IP", primary: true, link: "eth0"),
                    try fragment("NIC2_MD", primary: false, link: "eth1"),
                ])
        ]
    }

    /// The hot-plugged ENI as IMDS showed it at the udev event, and after it caught up.
    static func hotplug(_ name: String, _ json: [String: Any]) throws -> [FixtureInstance] {
        let m = try #require(MACAddress(try Fixtures.string(json["mac"], "mac")))
        let early = try Fixtures.bodies(try Fixtures.object(json["at_hotplug_time"], "at_hotplug_time"))
        let added = try Fixtures.bodies(try Fixtures.object(json["after_reboot_added_keys"], "after_reboot_added_keys"))
        let note = "only the hot-plugged ENI is recorded; the instance's primary is not part of the fixture"
        return [
            FixtureInstance(
                fixture: name, section: "at_hotplug_time", notes: [note],
                enis: [FixtureENI(mac: m, isPrimary: false, values: early, linkName: "eth1")]),
            FixtureInstance(
                fixture: name, section: "at_hotplug_time+after_reboot_added_keys", notes: [note],
                enis: [FixtureENI(mac: m, isPrimary: false, values: early.merging(added) { $1 }, linkName: "eth1")]),
        ]
    }

    /// ec2-net-utils 1.x scenarios: per-key responses of one ENI each, no device-number. The
    /// device number is the one in the scenario's interface name (1.x derived it that way); the
    /// MAC is synthetic (02:00:00:00:00:0N for ethN). Each secondary scenario is paired with the
    /// eth0-basic ENI as primary. The test double serves delegated IPv6 prefixes without
    /// `subnet-ipv6-cidr-blocks`, which real IMDS always lists for an IPv6 subnet (and eniroute
    /// waits for): where a scenario has IPv6 prefixes, its IPv6 subnet is taken as the /64 of the
    /// kernel's IPv6 address in the scenario (`kernel_ipv6_addrs_on_iface`).
    static func netutils1x(_ name: String, _ json: [String: Any]) throws -> [FixtureInstance] {
        let scenarios = try Fixtures.object(json["scenarios"], "scenarios")
        func scenarioENI(_ key: String) throws -> FixtureENI {
            let s = try Fixtures.object(scenarios[key], key)
            let interface = try Fixtures.string(s["interface"], "\(key).interface")
            guard interface.hasPrefix("eth"), let n = Int(interface.dropFirst(3)), n < 10 else {
                throw FixtureError(description: "\(key): unexpected interface \(interface)")
            }
            var bodies = try Fixtures.bodies(try Fixtures.object(s["imds_per_mac_responses"], "\(key).imds_per_mac_responses"))
            bodies["device-number"] = String(n)
            if !(bodies["ipv6-prefix"] ?? "").isEmpty, bodies["subnet-ipv6-cidr-blocks"] == nil,
                let kernel = (s["kernel_ipv6_addrs_on_iface"] as? [String])?.first, let a = IPAddress(kernel)
            {
                bodies["subnet-ipv6-cidr-blocks"] = "\(a.masked(to: 64))/64"
            }
            return FixtureENI(mac: mac("02:00:00:00:00:0\(n)"), isPrimary: n == 0, values: bodies, linkName: interface)
        }
        let primary = try scenarioENI("eth0-basic")
        var out = [FixtureInstance(fixture: name, section: "eth0-basic", enis: [primary])]
        for key in scenarios.keys.sorted() where key != "eth0-basic" {
            out.append(FixtureInstance(fixture: name, section: key, enis: [primary, try scenarioENI(key)]))
        }
        return out
    }

    /// Every instance of every per-MAC fixture (for parameterised tests).
    static func allInstances() throws -> [FixtureInstance] {
        try perMAC.flatMap { try instances($0) }
    }
}

@Suite("Golden plans from the IMDS fixtures")
struct GoldenPlanTests {
    @Test func fixtureDirectoryIsPresentAndFullyClassified() throws {
        let names = try Fixtures.names()
        #expect(!names.isEmpty, "no fixtures in \(Fixtures.path.path)")
        let known = Set(GoldenFixtures.perMAC + GoldenFixtures.withoutPerMACData)
        #expect(Set(names).subtracting(known).isEmpty, "new fixture files without a golden plan")
        #expect(known.subtracting(names).isEmpty, "fixture files that disappeared")
    }

    @Test(arguments: GoldenFixtures.perMAC)
    func goldenPlan(fixture: String) throws {
        var lines = ["# fixture: \(fixture)"]
        for instance in try GoldenFixtures.instances(fixture) { lines += instance.render() }
        let actual = lines.joined(separator: "\n") + "\n"
        let url = TestPaths.golden.appendingPathComponent(fixture + ".txt")
        if ProcessInfo.processInfo.environment["ENIROUTE_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: TestPaths.golden, withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard FileManager.default.fileExists(atPath: url.path) else {
            Issue.record("golden file \(url.path) is missing; actual plan:\n\(actual)")
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        guard actual != expected else { return }
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        var differences: [String] = []
        for i in 0..<max(a.count, e.count) where (i < a.count ? a[i] : nil) != (i < e.count ? e[i] : nil) {
            differences.append(
                "line \(i + 1):\n  expected: \(i < e.count ? String(e[i]) : "<end>")\n  actual:   \(i < a.count ? String(a[i]) : "<end>")"
            )
        }
        let message =
            "the plan for \(fixture) differs from \(url.path) (ENIROUTE_UPDATE_GOLDEN=1 rewrites it; review the diff):\n"
            + differences.prefix(20).joined(separator: "\n")
        Issue.record(Comment(rawValue: message))
    }

    /// Plan, apply to the simulated kernel, plan again: nothing left to do, nothing to warn about.
    @Test func secondApplyChangesNothingForEveryFixture() throws {
        var planned = 0
        for instance in try GoldenFixtures.allInstances() {
            guard case .success(let (facts, observed)) = instance.build() else { continue }
            let after = try applied(facts, on: observed)
            let again = try Planner.plan(facts: facts, observed: after, configuration: Configuration(), scope: .all(pending: []))
            #expect(again.changes.isEmpty, "\(instance.testDescription): \(commands(again))")
            // The only warnings left are for ENIs whose IMDS data is incomplete (left alone).
            #expect(
                again.warnings.allSatisfy { $0.contains("IMDS data not ready") }, "\(instance.testDescription): \(again.warnings)"
            )
            let managed = Set(again.enis.filter { $0.state == .managed }.compactMap(\.interfaceName))
            #expect(
                after.links.filter { managed.contains($0.name) }.allSatisfy { $0.isUp && $0.group == 10000 },
                "\(instance.testDescription)")
            planned += 1
        }
        #expect(planned == 14)
    }
}
