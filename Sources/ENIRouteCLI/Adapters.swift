import ENIRouteCore
import ENIRouteIMDS
import ENIRouteNetlink

/// The kernel over rtnetlink.
final class NetlinkKernel: KernelPort {
    private let netlink: RTNetlink
    private var names: [Int32: String] = [:]

    init() throws {
        netlink = RTNetlink(socket: try RouteNetlinkSocket())
    }

    func observe() throws -> ObservedState {
        let state = try netlink.observe()
        names = Dictionary(state.links.map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a })
        return state
    }

    func apply(_ changes: [Change]) -> [ChangeFailure?] {
        netlink.apply(changes, interfaceNames: names).map { result in
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

    init(configuration: Configuration, log: ((String) -> Void)? = nil) throws {
        do {
            client = try IMDSClient(configuration: configuration, version: eniRouteVersion)
        } catch {
            throw MetadataFailure(message: error.description, temporary: false)
        }
        client.log = log
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

    var statistics: (requests: Int, connections: Int) { client.statistics }
}
