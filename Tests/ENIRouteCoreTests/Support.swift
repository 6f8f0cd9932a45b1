import ENIRouteCore
import Foundation
import Testing

// Shared helpers of the core tests: literal constructors, a tiny kernel simulator and the loader of
// the IMDS fixtures in Tests/Fixtures/imds.

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

/// An error of the kernel simulator: what the kernel would have answered.
struct KernelError: Error, CustomStringConvertible {
    var description: String
}

/// A tiny stand-in for the kernel: applies `Change`s to an `ObservedState` with the kernel's
/// answers for the cases that matter (EEXIST on adding what exists, ENOENT/ESRCH on deleting what
/// does not, ENODEV on an unknown link). Objects keep the attributes the plan gave them, including
/// the eniroute protocol tag, so feeding `state` back to the planner is "observing after apply".
struct KernelSimulator {
    var state: ObservedState

    init(_ state: ObservedState) { self.state = state }

    mutating func apply(_ changes: [Change]) throws(KernelError) {
        for change in changes { try apply(change) }
    }

    mutating func apply(_ change: Change) throws(KernelError) {
        func linkIndex(_ l: Link) throws(KernelError) -> Int {
            guard let i = state.links.firstIndex(where: { $0.index == l.index }) else {
                throw KernelError(description: "ENODEV: \(l.name)")
            }
            return i
        }
        switch change {
        case .linkSetUp(let l):
            state.links[try linkIndex(l)].isUp = true
        case .linkSetGroup(let l, let group):
            state.links[try linkIndex(l)].group = group
        case .addressAdd(let a):
            guard state.links.contains(where: { $0.index == a.interfaceIndex }) else {
                throw KernelError(description: "ENODEV: address on #\(a.interfaceIndex)")
            }
            if state.addresses.contains(where: { $0.interfaceIndex == a.interfaceIndex && $0.address == a.address }) {
                throw KernelError(description: "EEXIST: address \(a)")
            }
            state.addresses.append(a)
        case .addressDelete(let a):
            guard
                let i = state.addresses.firstIndex(where: {
                    $0.interfaceIndex == a.interfaceIndex && $0.address == a.address && $0.prefix.length == a.prefix.length
                })
            else { throw KernelError(description: "EADDRNOTAVAIL: address \(a)") }
            state.addresses.remove(at: i)
        case .routeAdd(let r):
            if state.routes.contains(where: { $0.key == r.key }) { throw KernelError(description: "EEXIST: route \(r)") }
            state.routes.append(r)
        case .routeReplace(let r):
            if let i = state.routes.firstIndex(where: { $0.key == r.key }) {
                state.routes[i] = r
            } else {
                state.routes.append(r)
            }
        case .routeDelete(let r):
            guard let i = state.routes.firstIndex(of: r) else { throw KernelError(description: "ESRCH: route \(r)") }
            state.routes.remove(at: i)
        case .ruleAdd(let r):
            if state.rules.contains(r) { throw KernelError(description: "EEXIST: rule \(r)") }
            state.rules.append(r)
        case .ruleDelete(let r):
            guard let i = state.rules.firstIndex(of: r) else { throw KernelError(description: "ENOENT: rule \(r)") }
            state.rules.remove(at: i)
        }
    }
}

/// Plans, applies the plan to a simulator, and returns the state after it.
func applied(
    _ facts: InstanceFacts, on observed: ObservedState, configuration: Configuration = Configuration(),
    scope: PlanScope = .all(pending: [])
) throws -> ObservedState {
    let plan = try Planner.plan(facts: facts, observed: observed, configuration: configuration, scope: scope)
    var kernel = KernelSimulator(observed)
    try kernel.apply(plan.changes)
    return kernel.state
}

// MARK: - Files

/// Paths derived from this file's location: the repository is two levels up.
enum TestPaths {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let repository = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures/imds")
    static let golden = testsDirectory.appendingPathComponent("Golden")
}

/// A fixture that is missing or not in the expected shape.
struct FixtureError: Error, CustomStringConvertible {
    var description: String
}

/// Reads the IMDS fixtures (`Tests/Fixtures/imds/*.json`, each with its source).
enum Fixtures {
    /// The fixture directory; a missing directory is a test failure, never a silent pass.
    static func directory() throws -> URL {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: TestPaths.fixtures.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw FixtureError(
                description: "IMDS fixture directory \(TestPaths.fixtures.path) is missing: the golden tests read "
                    + "Tests/Fixtures/imds in the repository")
        }
        return TestPaths.fixtures
    }

    /// The names (without `.json`) of every fixture file.
    static func names() throws -> [String] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory().path)
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// One fixture as a JSON object.
    static func load(_ name: String) throws -> [String: Any] {
        let url = try directory().appendingPathComponent(name + ".json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw FixtureError(description: "IMDS fixture \(url.path) is missing")
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw FixtureError(description: "\(url.path) is not a JSON object")
        }
        return object
    }

    /// A member that must be a JSON object.
    static func object(_ value: Any?, _ what: String) throws -> [String: Any] {
        guard let o = value as? [String: Any] else { throw FixtureError(description: "\(what) is not a JSON object") }
        return o
    }

    /// A member that must be a string.
    static func string(_ value: Any?, _ what: String) throws -> String {
        guard let s = value as? String else { throw FixtureError(description: "\(what) is not a string") }
        return s
    }

    /// Turns one MAC's entries into IMDS bodies: a string is the body as is, a list is one line per
    /// entry (IMDS separates list bodies with `\n` and sends no trailing newline), an object is a
    /// sub-directory and is skipped. With `hyphenateKeys`, `_` in key names becomes `-`.
    static func bodies(_ entries: [String: Any], hyphenateKeys: Bool = false) throws -> [String: String] {
        var out: [String: String] = [:]
        for (rawKey, value) in entries {
            let key = hyphenateKeys ? rawKey.replacingOccurrences(of: "_", with: "-") : rawKey
            switch value {
            case let s as String:
                out[key] = s
            case let list as [Any]:
                let lines = try list.map { try string($0, "entry of \(rawKey)") }
                out[key] = lines.joined(separator: "\n")
            case is [String: Any]:
                continue
            default:
                throw FixtureError(description: "value of \(rawKey) is neither string, list nor object")
            }
        }
        return out
    }
}
