import ENIRouteCore
import ENIRouteIMDS

/// IMDS as the watcher sees it: the listing, a full read of an ENI seen for the first time (or
/// still propagating), and a cheap re-read of the keys that change while an ENI stays attached.
///
/// Every method throws `MetadataFailure` (no answer: timeout, 5xx, connection failure, a 401 that
/// a new token does not cure, a listed key answering 404) or `FactsError` (an answer that does not
/// parse). Neither may ever be read as "empty".
public protocol WatchMetadataPort: AnyObject {
    /// Starts one poll: the requests that follow share a fresh deadline of `seconds`.
    func beginPoll(deadline seconds: Double)
    /// The primary ENI's MAC (`/latest/meta-data/mac`).
    func primaryMAC() throws -> MACAddress
    /// Every attached ENI (`…/network/interfaces/macs/`).
    func listMACs() throws -> [MACAddress]
    /// Everything eniroute reads about one ENI (its directory listing, then each key it uses).
    func readENI(mac: MACAddress, isPrimary: Bool) throws -> ENIReading
    /// The keys that change while an ENI stays attached (`local-ipv4s`, `ipv6s`, `ipv4-prefix`,
    /// `ipv6-prefix`; only those its directory listing names), merged into `eni`: at most
    /// 1 + 4 requests. Nil when the ENI's directory answers 404 (it is being detached).
    func readAddresses(of eni: ENIFacts) throws -> ENIFacts?
    /// Requests sent and connections opened so far.
    var statistics: (requests: Int, connections: Int) { get }
}

/// The keys of an ENI that IMDS changes while it stays attached.
enum ChangeableKeys {
    static let all = [IMDSKey.localIPv4s, IMDSKey.ipv6s, IMDSKey.ipv4Prefix, IMDSKey.ipv6Prefix]
}

/// The watcher's IMDS over one `IMDSClient` kept for the life of the watcher: one keep-alive
/// connection, the session token reused across polls (refreshed on 401 by the client), a new
/// deadline per poll.
final class IMDSWatchMetadata: WatchMetadataPort {
    let client: IMDSClient
    let fetcher: InstanceMetadataFetcher

    init(configuration: Configuration, log: ((String) -> Void)? = nil) throws {
        do {
            client = try IMDSClient(configuration: configuration, version: eniRouteVersion)
        } catch {
            throw MetadataFailure(message: error.description, temporary: false)
        }
        // Few quick retries: a poll that fails is simply repeated at the next interval.
        client.retryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: 0.1, maximumDelay: 0.5)
        client.log = log
        fetcher = InstanceMetadataFetcher(client: client)
        if configuration.unmanaged.contains(where: { $0.hasPrefix("eni-") }) { fetcher.additionalKeys = [IMDSKey.interfaceID] }
    }

    func beginPoll(deadline seconds: Double) { client.deadline = .after(seconds: seconds) }

    func primaryMAC() throws -> MACAddress { try mapped { () throws(IMDSError) in try fetcher.primaryMAC() } }

    func listMACs() throws -> [MACAddress] { try mapped { () throws(IMDSError) in try fetcher.macs() } }

    func readENI(mac: MACAddress, isPrimary: Bool) throws -> ENIReading {
        try mapped { () throws(IMDSError) in try fetcher.eniFacts(mac: mac, isPrimary: isPrimary) }
    }

    func readAddresses(of eni: ENIFacts) throws -> ENIFacts? {
        let directory = InstanceMetadataFetcher.macsPath + "\(eni.mac)/"
        return try mapped { () throws(IMDSError) -> ENIFacts? in
            guard let listing = try client.get(directory) else { return nil }
            let listed = Set(IMDSText.listing(listing))
            var values = Self.staticValues(of: eni)
            for key in ChangeableKeys.all where listed.contains(key) {
                guard let body = try client.get(directory + key) else {
                    throw IMDSError.unexpectedStatus(url: client.currentEndpoint.url(directory + key), status: 404, attempts: 1)
                }
                values[key] = body
            }
            do throws(FactsError) {
                return try ENIFacts.parse(mac: eni.mac, isPrimary: eni.isPrimary, values: values)
            } catch {
                throw .invalidFacts(error)
            }
        }
    }

    /// The keys read once, as text again, so that `ENIFacts.parse` validates the new addresses
    /// against the ENI's subnets.
    static func staticValues(of eni: ENIFacts) -> [String: String] {
        var v: [String: String] = [IMDSKey.deviceNumber: String(eni.deviceNumber), IMDSKey.networkCard: String(eni.networkCard)]
        if let s = eni.subnetIPv4 { v[IMDSKey.subnetIPv4] = s.description }
        if !eni.subnetIPv6.isEmpty { v[IMDSKey.subnetIPv6] = eni.subnetIPv6.map(\.description).joined(separator: "\n") }
        if let id = eni.interfaceID { v[IMDSKey.interfaceID] = id }
        return v
    }

    var statistics: (requests: Int, connections: Int) { client.statistics }

    /// Runs an IMDS operation and turns its error into the ports' errors.
    private func mapped<T>(_ body: () throws(IMDSError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            if case .invalidFacts(let f) = error { throw f }
            throw MetadataFailure(message: error.description, temporary: error.isTemporary)
        }
    }
}

/// Adapts a `MetadataPort` that can only fetch everything at once (a test double) to the
/// watcher: `listMACs` fetches a snapshot, the other reads answer from it.
final class SnapshotWatchMetadata: WatchMetadataPort {
    let base: any MetadataPort
    private var snapshot: MetadataSnapshot?

    init(_ base: any MetadataPort) { self.base = base }

    func beginPoll(deadline seconds: Double) { snapshot = nil }

    private func current() throws -> MetadataSnapshot {
        if let snapshot { return snapshot }
        let s = try base.fetch(macs: nil)
        snapshot = s
        return s
    }

    func primaryMAC() throws -> MACAddress { try current().facts.primaryMAC }

    func listMACs() throws -> [MACAddress] {
        let s = try current()
        return s.facts.enis.map(\.mac) + s.pending.keys.sorted()
    }

    func readENI(mac: MACAddress, isPrimary: Bool) throws -> ENIReading {
        let s = try current()
        if let f = s.facts.enis.first(where: { $0.mac == mac }) { return .ready(f) }
        return .notReady(s.pending[mac] ?? "not in IMDS")
    }

    func readAddresses(of eni: ENIFacts) throws -> ENIFacts? {
        try current().facts.enis.first { $0.mac == eni.mac }
    }

    var statistics: (requests: Int, connections: Int) { base.statistics }
}
