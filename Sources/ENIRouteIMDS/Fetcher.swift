import ENIRouteCore
import ENIRouteSystem

/// Reads the instance's ENIs from IMDS on top of an `IMDSClient`: the real `MetadataPort`.
///
/// Requests: token, `mac`, the `macs/` listing when fetching all ENIs, then per ENI its directory
/// listing and only those keys of `IMDSKey.all` that the listing names (one of `network-card` /
/// `network-card-index`): at most 2 + 1 + 9 per ENI for one pass.
public final class InstanceMetadataFetcher: MetadataPort {
    /// The client (its deadline bounds every run of requests).
    public let client: IMDSClient
    /// Backoff between re-reads of ENIs that are not ready (`maxAttempts` is not used: the
    /// deadline decides).
    public var readyPolicy: RetryPolicy
    /// Keys fetched besides `IMDSKey.all` when the listing names them (`interface-id` when the
    /// configuration leaves ENIs unmanaged by `eni-…` id).
    public var additionalKeys: [String] = []

    /// `/latest/meta-data/network/interfaces/macs/`.
    public static let macsPath = "/latest/meta-data/network/interfaces/macs/"
    /// `/latest/meta-data/mac`: the primary ENI's MAC.
    public static let macPath = "/latest/meta-data/mac"
    /// The keys of an ENI that IMDS changes while it stays attached.
    public static let changeableKeys = [IMDSKey.localIPv4s, IMDSKey.ipv6s, IMDSKey.ipv4Prefix, IMDSKey.ipv6Prefix]

    /// Creates a fetcher.
    public init(client: IMDSClient, readyPolicy: RetryPolicy = RetryPolicy(maxAttempts: Int.max, baseDelay: 0.2, maximumDelay: 2))
    {
        self.client = client
        self.readyPolicy = readyPolicy
    }

    public func begin(deadline seconds: Double) { client.deadline = .after(seconds: seconds) }

    public var statistics: (requests: Int, connections: Int) { client.statistics }

    /// The primary ENI's MAC (`GET /latest/meta-data/mac`).
    public func primaryMAC() throws(IMDSError) -> MACAddress {
        let url = client.currentEndpoint.url(Self.macPath)
        guard let body = try client.get(Self.macPath) else { throw .missing(url: url) }
        let text = IMDSText.trim(Substring(body))
        guard let mac = MACAddress(text) else {
            throw .badResponse(url: url, reason: "not a MAC address: \(String(text.prefix(64)).debugDescription)")
        }
        return mac
    }

    /// The MACs of every attached ENI (`GET …/network/interfaces/macs/`; entries end with `/`).
    public func macs() throws(IMDSError) -> [MACAddress] {
        let url = client.currentEndpoint.url(Self.macsPath)
        guard let body = try client.get(Self.macsPath) else { throw .missing(url: url) }
        var out: [MACAddress] = []
        for entry in IMDSText.listing(body) {
            guard let mac = MACAddress(entry) else {
                throw .badResponse(
                    url: url, reason: "listing entry is not a MAC address: \(String(entry.prefix(64)).debugDescription)")
            }
            if !out.contains(mac) { out.append(mac) }
        }
        return out
    }

    /// Reads one ENI: its directory listing, then each listed key eniroute uses. A listed key that
    /// answers 404, a missing directory and `ENIFacts.notReadyReason` all make it `notReady`.
    /// Throws on transport failures and on data that does not parse (`invalidFacts`).
    public func eniFacts(mac: MACAddress, isPrimary: Bool) throws(IMDSError) -> ENIReading {
        let keys = (IMDSKey.all + additionalKeys).map { key in (key, key == IMDSKey.networkCardIndex) }
        return try read(mac: mac, isPrimary: isPrimary, keys: keys, known: [:])
    }

    /// Re-reads the keys that change while an ENI stays attached; the keys read once (device
    /// number, card, subnets, id) are taken from `eni`, as text again, so that `ENIFacts.parse`
    /// validates the new addresses against the ENI's subnets.
    public func addressFacts(of eni: ENIFacts) throws(IMDSError) -> ENIReading {
        var known: [String: String] = [
            IMDSKey.deviceNumber: String(eni.deviceNumber), IMDSKey.networkCard: String(eni.networkCard),
        ]
        if let s = eni.subnetIPv4 { known[IMDSKey.subnetIPv4] = s.description }
        if !eni.subnetIPv6.isEmpty { known[IMDSKey.subnetIPv6] = eni.subnetIPv6.map(\.description).joined(separator: "\n") }
        if let id = eni.interfaceID { known[IMDSKey.interfaceID] = id }
        return try read(mac: eni.mac, isPrimary: eni.isPrimary, keys: Self.changeableKeys.map { ($0, false) }, known: known)
    }

    /// The directory listing, then each of `keys` it names (a key marked as an alias is skipped
    /// when `network-card` is listed too), parsed over `known`.
    private func read(
        mac: MACAddress, isPrimary: Bool, keys: [(name: String, isAlias: Bool)], known: [String: String]
    ) throws(IMDSError) -> ENIReading {
        let directory = Self.macsPath + "\(mac)/"
        guard let listing = try client.get(directory) else { return .notReady("not in IMDS yet (\(directory) answers 404)") }
        let listed = Set(IMDSText.listing(listing))
        var values = known
        for (key, isAlias) in keys where listed.contains(key) {
            if isAlias && listed.contains(IMDSKey.networkCard) { continue }
            guard let body = try client.get(directory + key) else { return .notReady("\(key) is listed but answers 404") }
            values[key] = body
        }
        let facts: ENIFacts
        do {
            facts = try ENIFacts.parse(mac: mac, isPrimary: isPrimary, values: values)
        } catch {
            throw .invalidFacts(error)
        }
        if let reason = facts.notReadyReason { return .notReady(reason) }
        return .ready(facts)
    }

    public func waitForPropagation(round: Int, pending: [MACAddress: String]) -> Bool {
        let wait = readyPolicy.delay(retry: round)
        guard wait < client.deadline.remaining else { return false }
        client.log?(
            "IMDS: waiting \(Int(wait * 1000)) ms for "
                + pending.keys.sorted().map { "\($0) (\(pending[$0]!))" }.joined(separator: ", "))
        sleepFor(seconds: wait)
        return true
    }
}

extension MetadataPort {
    /// Reads the ENIs with these MACs (nil: every ENI listed in `macs/`). With `waitForReady`,
    /// ENIs that are not ready are re-read (`waitForPropagation` between rounds) until they are or
    /// the deadline is near; those still not ready are returned in `pending` with the reason (a MAC
    /// that IMDS does not list is pending too). `facts` holds the ready ENIs, in the order asked
    /// for or listed.
    public func fetch(macs requested: [MACAddress]?, waitForReady: Bool) throws(IMDSError) -> (
        facts: InstanceFacts, pending: [MACAddress: String]
    ) {
        let primary = try primaryMAC()
        var wanted: [MACAddress] = []
        if let requested {
            for mac in requested where !wanted.contains(mac) { wanted.append(mac) }
        } else {
            wanted = try macs()
        }
        var ready: [MACAddress: ENIFacts] = [:]
        var pending: [MACAddress: String] = [:]
        var toRead = wanted
        var round = 0
        readLoop: while true {
            var stillPending: [MACAddress: String] = [:]
            for (i, mac) in toRead.enumerated() {
                do {
                    switch try eniFacts(mac: mac, isPrimary: mac == primary) {
                    case .ready(let f): ready[mac] = f
                    case .notReady(let reason): stillPending[mac] = reason
                    }
                } catch {
                    // Waiting for propagation ran into the deadline: report what is still missing.
                    guard round > 0, case .deadlineExceeded = error else { throw error }
                    for m in toRead[i...] { stillPending[m] = pending[m] }
                    pending = stillPending
                    break readLoop
                }
            }
            pending = stillPending
            if pending.isEmpty || !waitForReady { break }
            round += 1
            guard waitForPropagation(round: round, pending: pending) else { break }
            toRead = wanted.filter { pending[$0] != nil }
        }
        return (InstanceFacts(primaryMAC: primary, enis: wanted.compactMap { ready[$0] }), pending)
    }
}
