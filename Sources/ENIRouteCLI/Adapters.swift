import ENIRouteCore
import ENIRouteIMDS
import ENIRouteNetlink

/// A socket that counts what crosses it (for the summary and the benchmark).
final class CountingSocket: NetlinkSocket {
    let base: any NetlinkSocket
    private(set) var messagesSent = 0
    private(set) var datagramsSent = 0
    private(set) var datagramsReceived = 0

    init(_ base: any NetlinkSocket) { self.base = base }
    var localPortID: UInt32 { base.localPortID }

    func send(_ datagram: [UInt8]) throws(NetlinkError) {
        datagramsSent += 1
        var offset = 0
        while offset + 4 <= datagram.count {
            let length =
                Int(datagram[offset]) | Int(datagram[offset + 1]) << 8 | Int(datagram[offset + 2]) << 16 | Int(
                    datagram[offset + 3]) << 24
            guard length >= 16 else { break }
            messagesSent += 1
            offset += (length + 3) & ~3
        }
        try base.send(datagram)
    }

    func receive(timeoutMilliseconds: Int32) throws(NetlinkError) -> [UInt8] {
        let d = try base.receive(timeoutMilliseconds: timeoutMilliseconds)
        datagramsReceived += 1
        return d
    }
}

/// The kernel over rtnetlink.
final class NetlinkKernel: KernelPort {
    private let netlink: RTNetlink
    private let counter: CountingSocket
    private var names: [Int32: String] = [:]
    /// The state the next batch was planned from: `ChangeGuard` judges every batch against it.
    private var lastObserved: ObservedState?

    init() throws {
        counter = CountingSocket(try RouteNetlinkSocket())
        netlink = RTNetlink(socket: counter)
    }

    /// Uses `socket` (tests: one opened in a private network namespace).
    init(socket: any NetlinkSocket) {
        counter = CountingSocket(socket)
        netlink = RTNetlink(socket: counter)
    }

    var statistics: KernelStatistics {
        KernelStatistics(
            messagesSent: counter.messagesSent, datagramsSent: counter.datagramsSent, datagramsReceived: counter.datagramsReceived
        )
    }

    func observe() throws -> ObservedState {
        let state = try netlink.observe()
        names = Link.names(state.links)
        lastObserved = state
        return state
    }

    func links() throws -> [Link] {
        let links = try netlink.linkList()
        names = Link.names(links)
        return links
    }

    /// Applies a batch, after `ChangeGuard` has allowed every change of it against the last
    /// observation; otherwise nothing is sent and every change fails.
    func apply(_ changes: [Change]) -> [ChangeFailure?] {
        let refusals: [String?] =
            lastObserved.map { ChangeGuard.refusals(changes, observed: $0) }
            ?? changes.map { _ in "the kernel's state was not read first" }
        if refusals.contains(where: { $0 != nil }) {
            return refusals.map { why in
                ChangeFailure(
                    errno: nil,
                    message: why.map { "refused by the safety guard: \($0); nothing of this batch was sent" }
                        ?? "not sent: another change of this batch was refused")
            }
        }
        return netlink.apply(changes, interfaceNames: names).map { result in
            switch result {
            case .success: return nil
            case .failure(let e): return ChangeFailure(errno: e.errno?.code, message: e.description)
            }
        }
    }
}

/// IMDS over HTTP/1.1 on one keep-alive connection.
final class IMDSMetadata: MetadataPort {
    private let client: IMDSClient
    private let fetcher: InstanceMetadataFetcher

    init(configuration: Configuration) throws {
        do {
            client = try IMDSClient(configuration: configuration, version: eniRouteVersion)
        } catch {
            throw MetadataFailure(message: error.description, temporary: false)
        }
        fetcher = InstanceMetadataFetcher(client: client)
        if configuration.unmanaged.contains(where: { $0.hasPrefix("eni-") }) { fetcher.additionalKeys = [IMDSKey.interfaceID] }
    }

    func fetch(macs: [MACAddress]?) throws -> MetadataSnapshot {
        do {
            let r = try fetcher.fetch(macs: macs, waitForReady: true)
            return MetadataSnapshot(facts: r.facts, pending: r.pending)
        } catch {
            if case .invalidFacts(let f) = error { throw f }
            throw MetadataFailure(message: error.description, temporary: error.isTemporary)
        }
    }

    /// Receives one line per retry, token refresh and endpoint switch (never the token).
    var log: ((String) -> Void)? {
        get { client.log }
        set { client.log = newValue }
    }

    var statistics: (requests: Int, connections: Int) { client.statistics }
}
