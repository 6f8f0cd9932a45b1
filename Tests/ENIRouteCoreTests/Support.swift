import ENIRouteCore
import ENIRouteTestSupport
import Foundation
import Testing

// Shared helpers of the core tests: literal constructors and plan helpers (the in-memory kernel and
// the IMDS fixture loader are in ENIRouteTestSupport).

/// A MAC from a literal known to be valid (test constants only).
func mac(_ text: String) -> MACAddress {
    guard let m = MACAddress(text) else { fatalError("bad MAC literal \(text)") }
    return m
}

/// An address from a literal known to be valid.
func ip(_ text: String) -> IPAddress {
    guard let a = IPAddress(text) else { fatalError("bad address literal \(text)") }
    return a
}

/// A prefix from a literal known to be valid (strict: no host bits).
func prefix(_ text: String) -> IPPrefix {
    guard let p = IPPrefix(text) else { fatalError("bad prefix literal \(text)") }
    return p
}

/// Builds facts the way tests usually want them.
func eni(
    _ m: String, primary: Bool = false, device: UInt32, card: UInt32 = 0, id: String? = nil,
    subnet: String? = nil, v4: [String] = [], subnet6: [String] = [], v6: [String] = [],
    v4Prefixes: [String] = [], v6Prefixes: [String] = []
) -> ENIFacts {
    ENIFacts(
        mac: mac(m), isPrimary: primary, deviceNumber: device, networkCard: card, interfaceID: id,
        subnetIPv4: subnet.map(prefix), subnetIPv6: subnet6.map(prefix), ipv4Addresses: v4.map(ip),
        ipv6Addresses: v6.map(ip), ipv4Prefixes: v4Prefixes.map(prefix), ipv6Prefixes: v6Prefixes.map(prefix))
}

/// Instance facts whose primary is the ENI flagged primary (or the first one).
func instance(_ enis: [ENIFacts]) -> InstanceFacts {
    InstanceFacts(primaryMAC: (enis.first(where: \.isPrimary) ?? enis[0]).mac, enis: enis)
}

/// The `ip` commands of a plan, in order.
func commands(_ plan: Plan) -> [String] { plan.changes.map { $0.ipCommand(names: plan.names) } }

/// Plans, applies the plan to an in-memory kernel, and returns the state after it.
func applied(
    _ facts: InstanceFacts, on observed: ObservedState, configuration: Configuration = Configuration(),
    scope: PlanScope = .all(pending: [])
) throws -> ObservedState {
    let plan = try Planner.plan(facts: facts, observed: observed, configuration: configuration, scope: scope)
    let kernel = InMemoryKernel(observed)
    try kernel.applyAll(plan.changes)
    return kernel.state
}

// MARK: - Files

/// Paths derived from this file's location: the repository is two levels up.
enum TestPaths {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let golden = testsDirectory.appendingPathComponent("Golden")
}
