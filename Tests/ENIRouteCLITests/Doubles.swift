import ENIRouteCore
import ENIRouteIMDS
import ENIRouteNetlink
import ENIRouteSystem

@testable import ENIRouteCLI

/// Log and output lines in memory.
final class MemorySink: LogSink {
    private(set) var lines: [String] = []
    func write(line: String) { lines.append(line) }
}

/// Monotonic seconds that move only when a test (or a double waiting on it) moves them.
final class FakeClock {
    var now = 1000.0
}

/// IMDS in memory, read as the real one is: the listing, then per ENI a full or an address read.
/// Waiting for propagation moves the fake clock; the deadline is the clock's.
final class FakeIMDS: MetadataPort {
    let clock: FakeClock
    var primary: MACAddress
    var order: [MACAddress]
    var enis: [MACAddress: ENIFacts]
    var notReady: [MACAddress: String] = [:]
    /// Every read throws this (IMDS down).
    var error: IMDSError?
    /// Reads of these ENIs time out.
    var failReadsOf: Set<MACAddress> = []
    /// Seconds each propagation wait takes.
    var propagationWait = 0.5
    private(set) var deadline = 0.0
    private(set) var begins = 0
    private(set) var primaryReads = 0
    private(set) var listings = 0
    private(set) var fullReads: [MACAddress] = []
    private(set) var addressReads: [MACAddress] = []

    init(_ facts: InstanceFacts, clock: FakeClock) {
        self.clock = clock
        primary = facts.primaryMAC
        order = facts.enis.map(\.mac)
        enis = Dictionary(uniqueKeysWithValues: facts.enis.map { ($0.mac, $0) })
    }

    private func check(_ mac: MACAddress? = nil) throws(IMDSError) {
        if let error { throw error }
        if let mac, failReadsOf.contains(mac) {
            throw .retriesExhausted(url: "http://imds/\(mac)/", attempts: 3, last: "no response within the request timeout")
        }
    }

    func begin(deadline seconds: Double) {
        begins += 1
        deadline = clock.now + seconds
    }
    func primaryMAC() throws(IMDSError) -> MACAddress {
        try check()
        primaryReads += 1
        return primary
    }
    func macs() throws(IMDSError) -> [MACAddress] {
        try check()
        listings += 1
        return order
    }
    func eniFacts(mac: MACAddress, isPrimary: Bool) throws(IMDSError) -> ENIReading {
        try check()
        fullReads.append(mac)
        try check(mac)
        if let reason = notReady[mac] { return .notReady(reason) }
        guard let f = enis[mac] else { return .notReady("not in IMDS yet") }
        return .ready(f)
    }
    func addressFacts(of eni: ENIFacts) throws(IMDSError) -> ENIReading {
        try check()
        addressReads.append(eni.mac)
        try check(eni.mac)
        guard let f = enis[eni.mac] else { return .notReady("not in IMDS yet") }
        return .ready(f)
    }
    func waitForPropagation(round: Int, pending: [MACAddress: String]) -> Bool {
        guard clock.now + propagationWait < deadline else { return false }
        clock.now += propagationWait
        return true
    }
    var statistics: (requests: Int, connections: Int) { (7, 1) }
}

/// The watch loop's events on the fake clock: each scripted wakeup at its time (made then, so that
/// it can change the world first); a wait with nothing due before its timeout moves the clock by
/// the timeout. Past the script's end, a wait throws, so a loop that never stops fails its test
/// instead of hanging it.
final class FakeWatchEvents: WatchEventSource {
    struct EndOfScript: Error, CustomStringConvertible {
        var description: String { "the test's script of events ended" }
    }

    let clock: FakeClock
    var script: [(at: Double, make: () -> WatchWakeup)] = []
    private(set) var waits: [Double] = []
    private(set) var discards = 0

    init(clock: FakeClock) { self.clock = clock }

    /// Adds a wakeup at `time`.
    func at(_ time: Double, _ make: @escaping () -> WatchWakeup) { script.append((time, make)) }

    func wait(seconds: Double) throws -> WatchWakeup {
        waits.append(seconds)
        guard let next = script.first, waits.count < 10_000 else { throw EndOfScript() }
        if next.at <= clock.now + max(seconds, 0) {
            clock.now = max(clock.now, next.at)
            script.removeFirst()
            return next.make()
        }
        clock.now += max(seconds, 0)
        return WatchWakeup()
    }

    func discardKernelEvents() { discards += 1 }
}

/// networkd's run-time state and udev's database in memory.
final class FakeNetworkd: NetworkdHost {
    var indexes: [Int] = []
    var files: [String: String] = [:]
    /// Writes to these paths fail.
    var unwritable: Set<String> = []
    private(set) var writes: [String] = []

    /// Link `index`: an ENI eniroute manages (udev) when `managed`, and managed by networkd with
    /// `networkFile` when one is given.
    func link(_ index: Int, managed: Bool, networkFile: String?) {
        indexes.append(index)
        files["/run/udev/data/n\(index)"] = managed ? "I:123\nE:ENIROUTE_MANAGED=1\nG:systemd\n" : "I:123\nG:systemd\n"
        files["/run/systemd/netif/links/\(index)"] = "ADMIN_STATE=configured\nNETWORK_FILE=\(networkFile ?? "")\n"
    }

    func linkIndexes() -> [Int] { indexes }
    func read(_ path: String) -> String? { files[path] }
    func write(_ text: String, to path: String) throws(SystemCallError) {
        if unwritable.contains(path) { throw SystemCallError("open \(path).tmp", .permissionDenied) }
        writes.append(path)
        files[path] = text
    }
}
