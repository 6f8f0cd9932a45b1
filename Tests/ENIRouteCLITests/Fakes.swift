import ENIRouteCLI
import ENIRouteCore

/// A kernel in memory: applies changes to an ObservedState the way rtnetlink would.
final class FakeKernel: KernelPort {
    var state: ObservedState
    var applied: [Change] = []
    var failOn: ((Change) -> ChangeFailure?)?
    var observeCount = 0

    init(_ state: ObservedState) { self.state = state }

    func observe() throws -> ObservedState {
        observeCount += 1
        return state
    }

    func links() throws -> [Link] { state.links }

    func apply(_ changes: [Change]) -> [ChangeFailure?] {
        changes.map { c in
            if let f = failOn?(c) { return f }
            applied.append(c)
            switch c {
            case .linkSetUp(let l):
                if let i = state.links.firstIndex(where: { $0.index == l.index }) { state.links[i].isUp = true }
            case .linkSetGroup(let l, let g):
                if let i = state.links.firstIndex(where: { $0.index == l.index }) { state.links[i].group = g }
            case .addressAdd(let a): state.addresses.append(a)
            case .addressDelete(let a):
                state.addresses.removeAll { $0.interfaceIndex == a.interfaceIndex && $0.address == a.address }
            case .routeAdd(let r): state.routes.append(r)
            case .routeReplace(let r):
                state.routes.removeAll { $0.key == r.key }
                state.routes.append(r)
            case .routeDelete(let r): state.routes.removeAll { $0 == r }
            case .ruleAdd(let r): state.rules.append(r)
            case .ruleDelete(let r): state.rules.removeAll { $0 == r }
            }
            return nil
        }
    }
}

/// IMDS in memory.
final class FakeMetadata: MetadataPort {
    var snapshot: MetadataSnapshot
    var error: (any Error)?
    var fetched: [[MACAddress]?] = []
    init(_ snapshot: MetadataSnapshot) { self.snapshot = snapshot }
    func fetch(macs: [MACAddress]?) throws -> MetadataSnapshot {
        fetched.append(macs)
        if let error { throw error }
        guard let macs else { return snapshot }
        var s = snapshot
        s.facts.enis = s.facts.enis.filter { macs.contains($0.mac) }
        return s
    }
    var statistics: (requests: Int, connections: Int) { (7, 1) }
}

let mac0 = MACAddress("02:00:00:00:01:0a")!
let mac1 = MACAddress("02:00:00:00:02:0a")!

/// The two-ENI instance of seed 000: eth0 10.0.1.10/24 (primary), eth1 10.0.2.10/24.
func twoENIWorld() -> (FakeKernel, FakeMetadata) {
    let links = [
        Link(index: 1, name: "lo", mac: MACAddress(octets: [0, 0, 0, 0, 0, 0]), isUp: true),
        Link(index: 2, name: "eth0", mac: mac0, isUp: true),
        Link(index: 3, name: "eth1", mac: mac1, isUp: false),
    ]
    let addresses = [
        InterfaceAddress(prefix: IPPrefix(address: IPAddress("10.0.1.10")!, length: 24), interfaceIndex: 2, proto: 0)
    ]
    let mainRoutes = [
        Route(destination: .any(.inet), table: 254, outputInterface: 2, gateway: IPAddress("10.0.1.1"), proto: 16)
    ]
    let kernel = FakeKernel(ObservedState(links: links, addresses: addresses, rules: [], routes: mainRoutes))
    let facts = InstanceFacts(
        primaryMAC: mac0,
        enis: [
            ENIFacts(
                mac: mac0, isPrimary: true, deviceNumber: 0, subnetIPv4: IPPrefix("10.0.1.0/24"),
                ipv4Addresses: [IPAddress("10.0.1.10")!]),
            ENIFacts(
                mac: mac1, isPrimary: false, deviceNumber: 1, subnetIPv4: IPPrefix("10.0.2.0/24"),
                ipv4Addresses: [IPAddress("10.0.2.10")!, IPAddress("10.0.2.11")!]),
        ])
    return (kernel, FakeMetadata(MetadataSnapshot(facts: facts, pending: [:])))
}

struct Harness {
    let kernel: FakeKernel
    let metadata: FakeMetadata
    let log = MemorySink()
    let out = MemorySink()
    var variables: [String: String] = [:]
    var files: [String: String] = [:]
    var configurations: [Configuration] = []

    init(_ world: (FakeKernel, FakeMetadata)) {
        kernel = world.0
        metadata = world.1
    }

    func run(_ args: String...) -> ExitCode {
        let k = kernel
        let m = metadata
        let files = self.files
        let env = Environment(
            variables: variables, sink: log, output: out, makeKernel: { k }, makeMetadata: { _ in m },
            readFile: { files[$0] }, lockPath: nil)
        return ENIRoute.run(arguments: args, environment: env)
    }
}
