import ENIRouteCore
import ENIRouteIMDS
import ENIRouteNetlink
import ENIRouteSystem

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

/// The kernel over rtnetlink. Commands reach it through `GuardedKernel`.
final class NetlinkKernel: KernelPort {
    private let netlink: NetlinkRouteClient
    private let counter: CountingSocket
    private var names: [Int32: String] = [:]

    init() throws {
        counter = CountingSocket(try NetlinkRouteSocket())
        netlink = NetlinkRouteClient(socket: counter)
    }

    /// Uses `socket` (tests: one opened in a private network namespace).
    init(socket: any NetlinkSocket) {
        counter = CountingSocket(socket)
        netlink = NetlinkRouteClient(socket: counter)
    }

    var statistics: KernelStatistics {
        KernelStatistics(
            messagesSent: counter.messagesSent, datagramsSent: counter.datagramsSent, datagramsReceived: counter.datagramsReceived
        )
    }

    func observe() throws -> ObservedState {
        let state = try netlink.observe()
        names = Link.names(state.links)
        return state
    }

    func links() throws -> [Link] {
        let links = try netlink.linkList()
        names = Link.names(links)
        return links
    }

    func apply(_ changes: [Change]) -> [ChangeFailure?] {
        netlink.apply(changes, interfaceNames: names).map { result in
            switch result {
            case .success: return nil
            case .failure(let e): return ChangeFailure(errno: e.errno, message: e.description)
            }
        }
    }
}

extension InstanceMetadataFetcher {
    /// IMDS over HTTP/1.1 on one keep-alive connection, as `configuration` and `options` say.
    static func make(configuration: Configuration, options: MetadataOptions) throws(IMDSError) -> InstanceMetadataFetcher {
        let client = try IMDSClient(configuration: configuration, version: eniRouteVersion)
        if let policy = options.retryPolicy { client.retryPolicy = policy }
        client.log = options.log
        let fetcher = InstanceMetadataFetcher(client: client)
        if configuration.unmanaged.contains(where: { $0.hasPrefix("eni-") }) { fetcher.additionalKeys = [IMDSKey.interfaceID] }
        return fetcher
    }
}
