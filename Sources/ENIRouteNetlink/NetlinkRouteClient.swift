import ENIRouteCore
import ENIRouteSystem

/// rtnetlink operations over a `NetlinkSocket`: dumps of links, addresses, rules and routes, and
/// changes, singly or in batches. Every request has its own sequence number; every reply is
/// checked for this socket's port id and an outstanding sequence number, and every change is
/// acknowledged (`NLM_F_ACK`). Not thread-safe: use one instance from one thread at a time.
public final class NetlinkRouteClient {
    /// The socket requests go through. It should not be subscribed to multicast groups:
    /// unsolicited messages are errors here.
    public let socket: any NetlinkSocket
    /// How long to wait for each reply datagram.
    public var timeoutMilliseconds: Int32
    /// How many times a dump flagged `NLM_F_DUMP_INTR` is restarted before giving up.
    public var dumpRetries: Int
    private var nextSequence: UInt32

    /// Uses `socket`; sequence numbers start at `firstSequence` (0 is skipped: notifications use it).
    public init(socket: any NetlinkSocket, firstSequence: UInt32 = 1, timeoutMilliseconds: Int32 = 5000, dumpRetries: Int = 5) {
        self.socket = socket
        self.nextSequence = firstSequence
        self.timeoutMilliseconds = timeoutMilliseconds
        self.dumpRetries = dumpRetries
    }

    /// Opens a new `NetlinkRouteSocket` in the calling thread's network namespace.
    public convenience init() throws(NetlinkError) {
        self.init(socket: try NetlinkRouteSocket())
    }

    private func takeSequence() -> UInt32 {
        if nextSequence == 0 { nextSequence = 1 }
        defer { nextSequence &+= 1 }
        return nextSequence
    }

    // MARK: Dumps

    /// All links (`ip link show`).
    public func linkList() throws(NetlinkError) -> [Link] {
        try dump(
            "link show", request: { NetlinkRouteMessage.linkDump(sequence: $0) },
            parse: { m throws(NetlinkError) in try NetlinkRouteMessage.parseLink(m) })
    }

    /// All IPv4 and IPv6 addresses (`ip address show`).
    public func addressList() throws(NetlinkError) -> [InterfaceAddress] {
        var result: [InterfaceAddress] = []
        for f in [AddressFamily.inet, .inet6] {
            result += try dump(
                "\(flag(f))address show", request: { NetlinkRouteMessage.addressDump(family: f, sequence: $0) },
                parse: { m throws(NetlinkError) in try NetlinkRouteMessage.parseAddress(m).flatMap { $0.family == f ? $0 : nil } }
            )
        }
        return result
    }

    /// All IPv4 and IPv6 policy rules (`ip rule show; ip -6 rule show`).
    public func ruleList() throws(NetlinkError) -> [RoutingPolicyRule] {
        var result: [RoutingPolicyRule] = []
        for f in [AddressFamily.inet, .inet6] {
            result += try dump(
                "\(flag(f))rule show", request: { NetlinkRouteMessage.ruleDump(family: f, sequence: $0) },
                parse: { m throws(NetlinkError) in try NetlinkRouteMessage.parseRule(m).flatMap { $0.family == f ? $0 : nil } })
        }
        return result
    }

    /// All IPv4 and IPv6 routes of every table, without cached clones (`ip route show table all; ip -6 route show table all`).
    public func routeList() throws(NetlinkError) -> [Route] {
        var result: [Route] = []
        for f in [AddressFamily.inet, .inet6] {
            result += try dump(
                "\(flag(f))route show table all", request: { NetlinkRouteMessage.routeDump(family: f, sequence: $0) },
                parse: { m throws(NetlinkError) in try NetlinkRouteMessage.parseRoute(m).flatMap { $0.family == f ? $0 : nil } })
        }
        return result
    }

    /// Links, addresses, rules and routes, read one after the other.
    public func observe() throws(NetlinkError) -> ObservedState {
        ObservedState(links: try linkList(), addresses: try addressList(), rules: try ruleList(), routes: try routeList())
    }

    private func flag(_ f: AddressFamily) -> String { f == .inet ? "-4 " : "-6 " }

    /// Sends a dump request and collects the parsed objects up to `NLMSG_DONE`; restarts the dump
    /// when the kernel flags it inconsistent (`NLM_F_DUMP_INTR`), up to `dumpRetries` times. An
    /// object that does not parse fails the dump, but only after the dump has been read to its end.
    private func dump<T>(
        _ operation: String, request: (UInt32) -> [UInt8], parse: (NetlinkMessage) throws(NetlinkError) -> T?
    ) throws(NetlinkError) -> [T] {
        do throws(NetlinkError) {
            for _ in 0...dumpRetries {
                let sequence = takeSequence()
                try socket.send(request(sequence))
                var items: [T] = []
                var interrupted = false
                var done = false
                var badObject: NetlinkError?
                while !done {
                    let datagram = try socket.receive(timeoutMilliseconds: timeoutMilliseconds)
                    for m in try NetlinkMessageReader.messages(in: datagram) where !done {
                        try check(m, sequence: sequence)
                        if m.flags & UAPI.fDumpIntr != 0 { interrupted = true }
                        switch m.type {
                        case UAPI.done, UAPI.error:
                            let status = try NetlinkRouteMessage.parseStatus(m)
                            if status.error < 0 {
                                throw NetlinkError.kernel(
                                    operation: operation, errno: Errno(status.error), message: status.message)
                            }
                            guard m.type == UAPI.done else {
                                throw NetlinkError.unexpectedMessage(operation: operation, type: m.type)
                            }
                            done = true
                        case UAPI.noop: continue
                        case UAPI.overrun: throw NetlinkError.unexpectedMessage(operation: operation, type: m.type)
                        default:
                            // A bad object does not stop the reading: the rest of the dump is
                            // drained up to NLMSG_DONE so that the next request starts clean.
                            do throws(NetlinkError) {
                                if let item = try parse(m) { items.append(item) }
                            } catch {
                                badObject = badObject ?? error
                            }
                        }
                    }
                }
                if let badObject { throw badObject }
                if !interrupted { return items }
            }
        } catch {
            throw error.named(operation)
        }
        throw .dumpInterrupted(operation: operation, attempts: dumpRetries + 1)
    }

    /// A reply must be addressed to this socket and carry the expected sequence number.
    private func check(_ m: NetlinkMessage, sequence: UInt32) throws(NetlinkError) {
        guard m.pid == socket.localPortID else {
            throw .portMismatch(operation: "", expected: socket.localPortID, received: m.pid)
        }
        guard m.sequence == sequence else { throw .sequenceMismatch(operation: "", expected: sequence, received: m.sequence) }
    }

    // MARK: Changes

    /// `ip link set dev IF up`.
    public func linkSetUp(_ link: Link) throws(NetlinkError) { try applyOne(.linkSetUp(link)) }

    /// `ip link set dev IF mtu M`.
    public func linkSetMTU(_ link: Link, mtu: UInt32) throws(NetlinkError) { try applyOne(.linkSetMTU(link, mtu: mtu)) }

    /// `ip link set dev IF group G`.
    public func linkSetGroup(_ link: Link, group: UInt32) throws(NetlinkError) { try applyOne(.linkSetGroup(link, group: group)) }

    /// `ip address add A/L dev IF [noprefixroute] [nodad] proto P`; `EEXIST` if it is there.
    public func addressAdd(_ address: InterfaceAddress) throws(NetlinkError) { try applyOne(.addressAdd(address)) }

    /// `ip address del A/L dev IF`; `EADDRNOTAVAIL` if it is not there.
    public func addressDelete(_ address: InterfaceAddress) throws(NetlinkError) { try applyOne(.addressDelete(address)) }

    /// `ip route add … table T proto P`; `EEXIST` if a route with the same key exists.
    public func routeAdd(_ route: Route) throws(NetlinkError) { try applyOne(.routeAdd(route)) }

    /// `ip route replace … table T proto P`.
    public func routeReplace(_ route: Route) throws(NetlinkError) { try applyOne(.routeReplace(route)) }

    /// `ip route del … table T proto P`; `ESRCH` (IPv4) or `ENOENT` (IPv6) if no route matches.
    public func routeDelete(_ route: Route) throws(NetlinkError) { try applyOne(.routeDelete(route)) }

    /// `ip rule add priority P from A lookup T [suppress_ifgroup G] proto X`; `EEXIST` if an identical rule exists.
    public func ruleAdd(_ rule: RoutingPolicyRule) throws(NetlinkError) { try applyOne(.ruleAdd(rule)) }

    /// `ip rule del priority P from A lookup T [suppress_ifgroup G] proto X`; `ENOENT` if no rule matches.
    public func ruleDelete(_ rule: RoutingPolicyRule) throws(NetlinkError) { try applyOne(.ruleDelete(rule)) }

    private func applyOne(_ change: Change) throws(NetlinkError) {
        try apply([change])[0].get()
    }

    /// Applies changes in order and returns one result per change, in the same order.
    ///
    /// Each change is a message with `NLM_F_ACK` and its own sequence number. Messages are packed
    /// into datagrams of at most `NetlinkRouteMessage.maximumBatchBytes` (and 128 messages); the kernel
    /// handles every message of a datagram even when one fails. After each datagram, every ACK or
    /// NACK is read and matched by sequence number. A reply that cannot be matched (foreign port id,
    /// unknown sequence number, garbage, timeout) leaves the socket's state unknown: every change
    /// without an answer yet, sent or not, then fails with that error, and no further datagram is sent.
    /// `interfaceNames` only makes error messages nicer (`dev eth1` instead of `dev #3`).
    public func apply(_ changes: [Change], interfaceNames: [Int32: String] = [:]) -> [Result<Void, NetlinkError>] {
        perform(
            changes.map { change in
                Request(
                    operation: NetlinkRouteMessage.operationName(for: change, interfaceNames: interfaceNames),
                    message: { NetlinkRouteMessage.request(for: change, sequence: $0) })
            })
    }

    /// One acknowledged request for `perform`: a name for errors and a builder that makes the
    /// message (with `NLM_F_ACK`) for a given sequence number.
    public struct Request {
        /// How errors name it (`link add veth0 type veth`).
        public var operation: String
        /// Builds the message for a sequence number.
        public var message: (UInt32) -> [UInt8]

        /// Creates a request.
        public init(operation: String, message: @escaping (UInt32) -> [UInt8]) {
            self.operation = operation
            self.message = message
        }
    }

    /// Sends requests that `NetlinkRouteMessage` has no builder for (tests use it to create a veth pair)
    /// exactly as `apply` sends changes, and returns one result per request, in order.
    public func perform(_ requests: [Request]) -> [Result<Void, NetlinkError>] {
        var results = [Result<Void, NetlinkError>?](repeating: nil, count: requests.count)
        func failRemaining(_ error: NetlinkError) -> [Result<Void, NetlinkError>] {
            results.enumerated().map { i, r in r ?? .failure(error.named(requests[i].operation)) }
        }
        var start = 0
        while start < requests.count {
            var datagram: [UInt8] = []
            var pending: [UInt32: Int] = [:]
            var end = start
            while end < requests.count, pending.count < 128 {
                let sequence = takeSequence()
                let message = requests[end].message(sequence)
                if !datagram.isEmpty && datagram.count + message.count > NetlinkRouteMessage.maximumBatchBytes { break }
                datagram += message
                pending[sequence] = end
                end += 1
            }
            do throws(NetlinkError) {
                try socket.send(datagram)
                while !pending.isEmpty {
                    let reply = try socket.receive(timeoutMilliseconds: timeoutMilliseconds)
                    for m in try NetlinkMessageReader.messages(in: reply) {
                        guard m.pid == socket.localPortID else {
                            throw .portMismatch(operation: "", expected: socket.localPortID, received: m.pid)
                        }
                        guard let index = pending.removeValue(forKey: m.sequence) else {
                            throw .sequenceMismatch(operation: "", expected: pending.keys.min() ?? 0, received: m.sequence)
                        }
                        let operation = requests[index].operation
                        guard m.type == UAPI.error else {
                            results[index] = .failure(.unexpectedMessage(operation: operation, type: m.type))
                            continue
                        }
                        let status = try NetlinkRouteMessage.parseStatus(m)
                        results[index] =
                            status.error == 0
                            ? .success(())
                            : .failure(.kernel(operation: operation, errno: Errno(status.error), message: status.message))
                    }
                }
            } catch {
                return failRemaining(error)
            }
            start = end
        }
        return results.compactMap { $0 }  // every request has its result here
    }
}
