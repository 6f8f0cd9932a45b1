import ENIRouteCore
import ENIRouteIMDS
import ENIRouteSystem
import ENIRouteTestSupport

@testable import ENIRouteCLI

let mac0 = MACAddress("02:00:00:00:01:0a")!
let mac1 = MACAddress("02:00:00:00:02:0a")!

/// The two-ENI instance of seed 000: eth0 10.0.1.10/24 (primary), eth1 10.0.2.10/24.
func twoENIWorld(clock: FakeClock = FakeClock()) -> (InMemoryKernel, FakeIMDS) {
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
    let kernel = InMemoryKernel(ObservedState(links: links, addresses: addresses, rules: [], routes: mainRoutes))
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
    return (kernel, FakeIMDS(facts, clock: clock))
}

/// Runs `eniroute` command lines against doubles: the in-memory kernel (behind the guard, as
/// every command's kernel is), IMDS in memory, a fake clock and scripted watch events.
struct Harness {
    let clock: FakeClock
    let kernel: InMemoryKernel
    let imds: FakeIMDS
    let events: FakeWatchEvents
    let networkd: FakeNetworkd
    let log = MemorySink()
    let out = MemorySink()
    var variables: [String: String] = [:]
    var files: [String: String] = [:]
    /// Files whose read fails with that errno.
    var unreadable: [String: Errno] = [:]

    init() {
        clock = FakeClock()
        (kernel, imds) = twoENIWorld(clock: clock)
        events = FakeWatchEvents(clock: clock)
        networkd = FakeNetworkd()
    }

    /// Another run on the same kernel and IMDS.
    init(sharing other: Harness) {
        clock = other.clock
        kernel = other.kernel
        imds = other.imds
        events = other.events
        networkd = other.networkd
    }

    func run(_ args: String...) -> ExitStatus {
        let (k, m, e, c) = (kernel, imds, events, clock)
        let (files, unreadable) = (self.files, self.unreadable)
        let readFile = { (path: String) throws(SystemCallError) -> String? in
            if let errno = unreadable[path] { throw SystemCallError("read \(path)", errno) }
            return files[path]
        }
        let env = CommandEnvironment(
            variables: variables, sink: log, output: out, makeKernel: { k }, makeMetadata: { _, _ in m },
            makeWatchEvents: { e }, clock: { c.now }, networkd: networkd, readFile: readFile, lockPath: nil)
        return ENIRoute.run(arguments: args, environment: env)
    }
}
