import CRTNetlink
import ENIRouteCore
import ENIRouteSystem

extension UAPI {
    static let delLink = UInt16(RTM_DELLINK)
}

/// One change notification from an rtnetlink multicast group (what `ip monitor` prints).
public enum NetlinkRouteEvent: Hashable, Sendable {
    /// `RTM_NEWLINK`: a link appeared or changed (flags, name, address, group).
    case linkNew(Link)
    /// `RTM_DELLINK`: a link is gone.
    case linkDeleted(Link)
    /// `RTM_NEWADDR`: an address was added (or its flags changed).
    case addressNew(InterfaceAddress)
    /// `RTM_DELADDR`: an address was removed.
    case addressDeleted(InterfaceAddress)
    /// `RTM_NEWROUTE`: a route was added or replaced.
    case routeNew(Route)
    /// `RTM_DELROUTE`: a route was removed.
    case routeDeleted(Route)
    /// `RTM_NEWRULE`: a policy rule was added.
    case ruleNew(RoutingPolicyRule)
    /// `RTM_DELRULE`: a policy rule was removed.
    case ruleDeleted(RoutingPolicyRule)

    /// Parses one notification. Returns nil for message types that carry no object eniroute
    /// models (neighbours, `NLMSG_NOOP`, `NLMSG_DONE`, cached route clones, other families);
    /// throws for a link, address, route or rule message that does not parse.
    ///
    /// The `RTM_DEL*` messages have the layout of their `RTM_NEW*` counterparts, so the parsers
    /// of `NetlinkRouteMessage` read them too.
    public static func parse(_ message: NetlinkMessage) throws(NetlinkError) -> NetlinkRouteEvent? {
        var m = message
        switch message.type {
        case UAPI.newLink:
            return try NetlinkRouteMessage.parseLink(m).map { .linkNew($0) }
        case UAPI.delLink:
            m.type = UAPI.newLink
            return try NetlinkRouteMessage.parseLink(m).map { .linkDeleted($0) }
        case UAPI.newAddr:
            return try NetlinkRouteMessage.parseAddress(m).map { .addressNew($0) }
        case UAPI.delAddr:
            m.type = UAPI.newAddr
            return try NetlinkRouteMessage.parseAddress(m).map { .addressDeleted($0) }
        case UAPI.newRoute:
            return try NetlinkRouteMessage.parseRoute(m).map { .routeNew($0) }
        case UAPI.delRoute:
            m.type = UAPI.newRoute
            return try NetlinkRouteMessage.parseRoute(m).map { .routeDeleted($0) }
        case UAPI.newRule:
            return try NetlinkRouteMessage.parseRule(m).map { .ruleNew($0) }
        case UAPI.delRule:
            m.type = UAPI.newRule
            return try NetlinkRouteMessage.parseRule(m).map { .ruleDeleted($0) }
        default:
            return nil
        }
    }
}

/// What one read of a subscribed socket brought.
public struct NetlinkRouteEventBatch: Sendable, Equatable {
    /// The notifications, in arrival order.
    public var events: [NetlinkRouteEvent] = []
    /// Whether the kernel dropped notifications because the receive buffer was full (`ENOBUFS`):
    /// the listener's picture is stale and it must read the whole state again.
    public var overflowed = false
    /// Messages that could not be parsed (skipped).
    public var unparsed = 0
    /// Datagrams read.
    public var datagrams = 0
    /// Whether reading stopped at `maximumDatagrams` with more possibly queued.
    public var truncated = false

    /// Creates an empty batch.
    public init() {}
}

/// Reads rtnetlink change notifications from a socket subscribed to multicast groups
/// (`ip monitor link address route rule`). The socket must not be used for requests.
public final class NetlinkRouteEventReader {
    /// The subscribed socket.
    public let socket: any NetlinkSocket

    /// The groups a watcher of links, addresses, routes and rules of both families needs.
    public static let allGroups: [NetlinkRouteGroup] = [
        .link, .ipv4Address, .ipv6Address, .ipv4Route, .ipv6Route, .ipv4Rule, .ipv6Rule,
    ]

    /// The descriptor to `poll(2)` for `POLLIN`: the socket's, when this reader opened it; nil
    /// for a socket given to it.
    public let fileDescriptor: Int32?

    /// Reads from an already subscribed socket (tests pass a scripted one).
    public init(socket: any NetlinkSocket) {
        self.socket = socket
        fileDescriptor = nil
    }

    private init(opened: NetlinkRouteSocket) {
        socket = opened
        fileDescriptor = opened.fileDescriptor
    }

    /// Opens a `NetlinkRouteSocket` in the calling thread's network namespace and joins `groups`
    /// (`ip monitor`). `receiveBufferSize` bounds how many notifications can queue before the
    /// kernel drops them (`ENOBUFS`).
    public convenience init(
        groups: [NetlinkRouteGroup] = NetlinkRouteEventReader.allGroups, receiveBufferSize: Int32 = 4 * 1024 * 1024
    ) throws(NetlinkError) {
        let s = try NetlinkRouteSocket(receiveBufferSize: receiveBufferSize)
        try s.subscribe(groups: groups)
        self.init(opened: s)
    }

    /// Reads every datagram already queued, without waiting (at most `maximumDatagrams`).
    /// `ENOBUFS` is reported in `overflowed`, not thrown; reading goes on after it, since the
    /// kernel clears the condition once it is reported. Other socket errors are thrown.
    public func readAvailable(maximumDatagrams: Int = 4096) throws(NetlinkError) -> NetlinkRouteEventBatch {
        var batch = NetlinkRouteEventBatch()
        while batch.datagrams < maximumDatagrams {
            let datagram: [UInt8]
            do {
                datagram = try socket.receive(timeoutMilliseconds: 0)
            } catch {
                if case .timeout = error { return batch }
                if error.errno == .noBufferSpace {
                    batch.overflowed = true
                    continue
                }
                throw error
            }
            batch.datagrams += 1
            let messages: [NetlinkMessage]
            do {
                messages = try NetlinkMessageReader.messages(in: datagram)
            } catch {
                batch.unparsed += 1
                continue
            }
            for m in messages {
                if m.type == UAPI.overrun {
                    batch.overflowed = true
                    continue
                }
                do {
                    if let e = try NetlinkRouteEvent.parse(m) { batch.events.append(e) }
                } catch {
                    batch.unparsed += 1
                }
            }
        }
        batch.truncated = true
        return batch
    }
}
