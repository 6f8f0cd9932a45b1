import ENIRouteCore

/// One ENI's IMDS data: ready to plan with, or not yet (with the reason to wait).
public enum ENIReading: Equatable, Sendable {
    /// Complete and consistent.
    case ready(ENIFacts)
    /// IMDS has not caught up with this ENI yet (or is dropping it): a directory or a listed key
    /// answering 404, or data `ENIFacts.notReadyReason` rejects.
    case notReady(String)
}

/// IMDS as eniroute reads it: the one port every command and the watcher use. The real one is
/// `InstanceMetadataFetcher` (IMDSv2 over HTTP/1.1); tests pass a fake. `apply`'s full read,
/// `fetch(macs:waitForReady:)`, is built on these reads.
///
/// Every read throws `IMDSError` when IMDS did not answer (timeout, 5xx, connection failure, a 401
/// that a new token does not cure) or answered data that does not parse (`invalidFacts`); neither
/// may ever be read as "empty".
public protocol MetadataPort: AnyObject {
    /// Starts one run of requests (`apply`'s read, one watcher poll): they share a fresh deadline
    /// of `seconds` from now.
    func begin(deadline seconds: Double)
    /// The primary ENI's MAC (`GET /latest/meta-data/mac`).
    func primaryMAC() throws(IMDSError) -> MACAddress
    /// Every attached ENI (`GET …/network/interfaces/macs/`), in IMDS's order.
    func macs() throws(IMDSError) -> [MACAddress]
    /// Everything eniroute reads about one ENI: its directory listing, then each key it uses.
    func eniFacts(mac: MACAddress, isPrimary: Bool) throws(IMDSError) -> ENIReading
    /// The keys that change while an ENI stays attached (`local-ipv4s`, `ipv6s`, `ipv4-prefix`,
    /// `ipv6-prefix`; only those its directory listing names), merged into `eni`: at most 1 + 4
    /// requests. Classified as `eniFacts` classifies them.
    func addressFacts(of eni: ENIFacts) throws(IMDSError) -> ENIReading
    /// Waits before re-reading ENIs whose data is still propagating (`round` counts from 1);
    /// false, without waiting, when the deadline leaves no time for another round.
    func waitForPropagation(round: Int, pending: [MACAddress: String]) -> Bool
    /// Requests sent and connections opened so far.
    var statistics: (requests: Int, connections: Int) { get }
}
