import CRTNetlink
import ENIRouteCore

/// Pure builders for every request eniroute sends, and parsers for the kernel's replies.
/// Builders return complete messages (`nlmsg_len` set) so tests can compare exact bytes.
public enum NetlinkRouteMessage {
    /// Largest datagram `NetlinkRouteClient.apply` sends at once.
    public static let maximumBatchBytes = 32 * 1024

    // MARK: Dump requests

    /// `RTM_GETLINK` dump of all links (`ip link show`).
    public static func linkDump(sequence: UInt32) -> [UInt8] {
        dump(UAPI.getLink, ifinfomsg(), sequence: sequence)
    }

    /// `RTM_GETADDR` dump of one family's addresses (`ip -4|-6 address show`).
    public static func addressDump(family: AddressFamily, sequence: UInt32) -> [UInt8] {
        var h = ifaddrmsg()
        h.ifa_family = family.rawValue
        return dump(UAPI.getAddr, h, sequence: sequence)
    }

    /// `RTM_GETRULE` dump of one family's rules (`ip -4|-6 rule show`).
    public static func ruleDump(family: AddressFamily, sequence: UInt32) -> [UInt8] {
        var h = fib_rule_hdr()
        h.family = family.rawValue
        return dump(UAPI.getRule, h, sequence: sequence)
    }

    /// `RTM_GETROUTE` dump of one family's routes in every table (`ip -4|-6 route show table all`).
    public static func routeDump(family: AddressFamily, sequence: UInt32) -> [UInt8] {
        var h = rtmsg()
        h.rtm_family = family.rawValue
        return dump(UAPI.getRoute, h, sequence: sequence)
    }

    /// A dump request (`NLM_F_REQUEST|NLM_F_DUMP`) of `type` whose only payload is the family
    /// header `header` (its family set, every other field zero: no filter).
    private static func dump<Header: BitwiseCopyable>(_ type: UInt16, _ header: Header, sequence: UInt32) -> [UInt8] {
        var w = NetlinkMessageWriter(type: type, flags: UAPI.fRequest | UAPI.fDump, sequence: sequence)
        w.appendHeader(header)
        return w.finish()
    }

    // MARK: Changes (all with NLM_F_ACK)

    /// `RTM_NEWLINK` setting `IFF_UP` (`ip link set dev IF up`).
    public static func linkSetUp(index: Int32, sequence: UInt32) -> [UInt8] {
        var w = NetlinkMessageWriter(type: UAPI.newLink, flags: UAPI.fRequest | UAPI.fAck, sequence: sequence)
        var h = ifinfomsg()
        h.ifi_index = index
        h.ifi_flags = UAPI.iffUp
        h.ifi_change = UAPI.iffUp
        w.appendHeader(h)
        return w.finish()
    }

    /// `RTM_NEWLINK` with `IFLA_GROUP` (`ip link set dev IF group G`).
    public static func linkSetGroup(index: Int32, group: UInt32, sequence: UInt32) -> [UInt8] {
        linkSetAttribute(index: index, type: UAPI.iflaGroup, value: group, sequence: sequence)
    }

    /// `RTM_NEWLINK` with `IFLA_MTU` (`ip link set dev IF mtu M`).
    public static func linkSetMTU(index: Int32, mtu: UInt32, sequence: UInt32) -> [UInt8] {
        linkSetAttribute(index: index, type: UAPI.iflaMTU, value: mtu, sequence: sequence)
    }

    /// `RTM_NEWLINK` for one link (flags unchanged) with one 32-bit attribute.
    private static func linkSetAttribute(index: Int32, type: UInt16, value: UInt32, sequence: UInt32) -> [UInt8] {
        var w = NetlinkMessageWriter(type: UAPI.newLink, flags: UAPI.fRequest | UAPI.fAck, sequence: sequence)
        var h = ifinfomsg()
        h.ifi_index = index
        w.appendHeader(h)
        w.appendAttribute(type: type, uint32: value)
        return w.finish()
    }

    /// `RTM_NEWADDR` with `NLM_F_CREATE|NLM_F_EXCL` (`ip address add A/L dev IF [noprefixroute] [nodad] proto P`):
    /// `IFA_LOCAL` and `IFA_ADDRESS` for IPv4, `IFA_ADDRESS` for IPv6, then `IFA_FLAGS` and `IFA_PROTO` (if not 0).
    public static func addressAdd(_ a: InterfaceAddress, sequence: UInt32) -> [UInt8] {
        var flags: UInt32 = 0
        if a.noPrefixRoute { flags |= UAPI.ifaFNoPrefixRoute }
        if a.noDAD { flags |= UAPI.ifaFNoDAD }
        var w = NetlinkMessageWriter(
            type: UAPI.newAddr, flags: UAPI.fRequest | UAPI.fAck | UAPI.fCreate | UAPI.fExcl, sequence: sequence)
        appendAddressBody(&w, a, headerFlags: UInt8(truncatingIfNeeded: flags))
        w.appendAttribute(type: UAPI.ifaFlags, uint32: flags)
        if a.proto != 0 { w.appendAttribute(type: UAPI.ifaProto, uint8: a.proto) }
        return w.finish()
    }

    /// `RTM_DELADDR` (`ip address del A/L dev IF`).
    public static func addressDelete(_ a: InterfaceAddress, sequence: UInt32) -> [UInt8] {
        var w = NetlinkMessageWriter(type: UAPI.delAddr, flags: UAPI.fRequest | UAPI.fAck, sequence: sequence)
        appendAddressBody(&w, a, headerFlags: 0)
        return w.finish()
    }

    private static func appendAddressBody(_ w: inout NetlinkMessageWriter, _ a: InterfaceAddress, headerFlags: UInt8) {
        var h = ifaddrmsg()
        h.ifa_family = a.family.rawValue
        h.ifa_prefixlen = a.prefix.length
        h.ifa_flags = headerFlags
        h.ifa_index = UInt32(bitPattern: a.interfaceIndex)
        w.appendHeader(h)
        if a.family == .inet { w.appendAttribute(type: UAPI.ifaLocal, value: a.address.bytes) }
        w.appendAttribute(type: UAPI.ifaAddress, value: a.address.bytes)
    }

    /// `RTM_NEWROUTE` with `NLM_F_CREATE|NLM_F_EXCL` (`ip route add …`).
    public static func routeAdd(_ r: Route, sequence: UInt32) -> [UInt8] {
        route(
            r, type: UAPI.newRoute, flags: UAPI.fRequest | UAPI.fAck | UAPI.fCreate | UAPI.fExcl, scope: r.scope.rawValue,
            sequence: sequence)
    }

    /// `RTM_NEWROUTE` with `NLM_F_CREATE|NLM_F_REPLACE` (`ip route replace …`).
    public static func routeReplace(_ r: Route, sequence: UInt32) -> [UInt8] {
        route(
            r, type: UAPI.newRoute, flags: UAPI.fRequest | UAPI.fAck | UAPI.fCreate | UAPI.fReplace, scope: r.scope.rawValue,
            sequence: sequence)
    }

    /// `RTM_DELROUTE` (`ip route del … proto P`): any scope (`RT_SCOPE_NOWHERE`, as `ip` sends); the
    /// kernel deletes only a route whose protocol, table, metric, device and gateway match.
    public static func routeDelete(_ r: Route, sequence: UInt32) -> [UInt8] {
        route(r, type: UAPI.delRoute, flags: UAPI.fRequest | UAPI.fAck, scope: UAPI.scopeNowhere, sequence: sequence)
    }

    /// `rtmsg` with the table in `rtm_table` if < 256 (else `RT_TABLE_UNSPEC`), then `RTA_TABLE`,
    /// `RTA_DST` (not for default), `RTA_PRIORITY`, `RTA_OIF`, `RTA_GATEWAY`, `RTA_PREFSRC`.
    private static func route(_ r: Route, type: UInt16, flags: UInt16, scope: UInt8, sequence: UInt32) -> [UInt8] {
        var w = NetlinkMessageWriter(type: type, flags: flags, sequence: sequence)
        var h = rtmsg()
        h.rtm_family = r.family.rawValue
        h.rtm_dst_len = r.destination.length
        h.rtm_table = r.table < 256 ? UInt8(r.table) : UAPI.tableUnspec
        h.rtm_protocol = r.proto
        h.rtm_scope = scope
        h.rtm_type = r.type
        w.appendHeader(h)
        w.appendAttribute(type: UAPI.rtaTable, uint32: r.table)
        if r.destination.length > 0 { w.appendAttribute(type: UAPI.rtaDst, value: r.destination.address.bytes) }
        w.appendAttribute(type: UAPI.rtaPriority, uint32: r.metric)
        if let oif = r.outputInterface { w.appendAttribute(type: UAPI.rtaOif, uint32: UInt32(bitPattern: oif)) }
        if let g = r.gateway { w.appendAttribute(type: UAPI.rtaGateway, value: g.bytes) }
        if let s = r.preferredSource { w.appendAttribute(type: UAPI.rtaPrefsrc, value: s.bytes) }
        return w.finish()
    }

    /// `RTM_NEWRULE` with `NLM_F_CREATE|NLM_F_EXCL` (`ip rule add priority P from A lookup T [suppress_ifgroup G] proto X`).
    public static func ruleAdd(_ r: RoutingPolicyRule, sequence: UInt32) -> [UInt8] {
        rule(r, type: UAPI.newRule, flags: UAPI.fRequest | UAPI.fAck | UAPI.fCreate | UAPI.fExcl, sequence: sequence)
    }

    /// `RTM_DELRULE` (`ip rule del priority P from A lookup T [suppress_ifgroup G] proto X`).
    public static func ruleDelete(_ r: RoutingPolicyRule, sequence: UInt32) -> [UInt8] {
        rule(r, type: UAPI.delRule, flags: UAPI.fRequest | UAPI.fAck, sequence: sequence)
    }

    /// `fib_rule_hdr` with the table in `table` if < 256 (else `RT_TABLE_UNSPEC`), then `FRA_PRIORITY`,
    /// `FRA_SRC`, `FRA_DST` (if set and not /0), `FRA_TABLE`, `FRA_SUPPRESS_IFGROUP`, `FRA_PROTOCOL`.
    private static func rule(_ r: RoutingPolicyRule, type: UInt16, flags: UInt16, sequence: UInt32) -> [UInt8] {
        var w = NetlinkMessageWriter(type: type, flags: flags, sequence: sequence)
        let from = r.from.flatMap { $0.length > 0 ? $0 : nil }
        let to = r.to.flatMap { $0.length > 0 ? $0 : nil }
        var h = fib_rule_hdr()
        h.family = r.family.rawValue
        h.dst_len = to?.length ?? 0
        h.src_len = from?.length ?? 0
        h.table = r.table < 256 ? UInt8(r.table) : UAPI.tableUnspec
        h.action = r.action
        w.appendHeader(h)
        w.appendAttribute(type: UAPI.fraPriority, uint32: r.priority)
        if let from { w.appendAttribute(type: UAPI.fraSrc, value: from.address.bytes) }
        if let to { w.appendAttribute(type: UAPI.fraDst, value: to.address.bytes) }
        w.appendAttribute(type: UAPI.fraTable, uint32: r.table)
        if let g = r.suppressInterfaceGroup { w.appendAttribute(type: UAPI.fraSuppressIfgroup, uint32: g) }
        w.appendAttribute(type: UAPI.fraProtocol, uint8: r.proto)
        return w.finish()
    }

    /// The request for one change.
    public static func request(for change: Change, sequence: UInt32) -> [UInt8] {
        switch change {
        case .linkSetMTU(let l, let mtu): return linkSetMTU(index: l.index, mtu: mtu, sequence: sequence)
        case .linkSetUp(let l): return linkSetUp(index: l.index, sequence: sequence)
        case .linkSetGroup(let l, let g): return linkSetGroup(index: l.index, group: g, sequence: sequence)
        case .addressAdd(let a): return addressAdd(a, sequence: sequence)
        case .addressDelete(let a): return addressDelete(a, sequence: sequence)
        case .routeAdd(let r): return routeAdd(r, sequence: sequence)
        case .routeReplace(let r): return routeReplace(r, sequence: sequence)
        case .routeDelete(let r): return routeDelete(r, sequence: sequence)
        case .ruleAdd(let r): return ruleAdd(r, sequence: sequence)
        case .ruleDelete(let r): return ruleDelete(r, sequence: sequence)
        }
    }

    /// How errors name a change: its `ip` command without the leading `ip ` (`rule add from 10.0.2.10 lookup 10001 …`).
    public static func operationName(for change: Change, interfaceNames: [Int32: String] = [:]) -> String {
        let command = change.ipCommand(names: interfaceNames)
        return command.hasPrefix("ip ") ? String(command.dropFirst(3)) : command
    }

    // MARK: Parsers (also usable for multicast notifications)

    /// A link from an `RTM_NEWLINK` message; nil for other message types.
    public static func parseLink(_ m: NetlinkMessage) throws(NetlinkError) -> Link? {
        guard m.type == UAPI.newLink else { return nil }
        let (header, attributes) = try split(m, headerSize: 16)
        let index = NetlinkMessageReader.load(Int32.self, header, 4)
        let flags = NetlinkMessageReader.load(UInt32.self, header, 8)
        var link = Link(index: index, name: "", mac: nil, isUp: flags & UAPI.iffUp != 0)
        for a in attributes {
            switch a.type {
            case UAPI.iflaIfname: link.name = a.string()
            case UAPI.iflaAddress: link.mac = MACAddress(octets: a.value)
            case UAPI.iflaGroup: link.group = try a.uint32()
            case UAPI.iflaMTU: link.mtu = try a.uint32()
            case UAPI.iflaLinkinfo:
                for info in try NetlinkMessageReader.attributes(in: a.value) where info.type == UAPI.iflaInfoKind {
                    link.kind = info.string()
                }
            case UAPI.iflaAfSpec:
                // IFLA_AF_SPEC { AF_INET { IFLA_INET_CONF: u32[IPV4_DEVCONF_MAX] } }
                for family in try NetlinkMessageReader.attributes(in: a.value) where family.type == UInt16(AF_INET) {
                    for conf in try NetlinkMessageReader.attributes(in: family.value) where conf.type == UAPI.iflaInetConf {
                        let offset = UAPI.inetConfPromoteSecondariesIndex * 4
                        guard conf.value.count >= offset + 4 else { continue }
                        link.promoteSecondaries = NetlinkMessageReader.load(UInt32.self, Array(conf.value), offset) != 0
                    }
                }
            default: break
            }
        }
        return link
    }

    /// An address from an `RTM_NEWADDR` message; nil for other types and families.
    /// IPv4 uses `IFA_LOCAL` (`IFA_ADDRESS` is the peer on point-to-point links); flags come from
    /// `IFA_FLAGS` if present, else from `ifa_flags`.
    public static func parseAddress(_ m: NetlinkMessage) throws(NetlinkError) -> InterfaceAddress? {
        guard m.type == UAPI.newAddr else { return nil }
        let (header, attributes) = try split(m, headerSize: 8)
        guard let family = AddressFamily(rawValue: header[0]) else { return nil }
        var local: IPAddress?
        var address: IPAddress?
        var flags = UInt32(header[2])
        var proto: UInt8 = 0
        for a in attributes {
            switch a.type {
            case UAPI.ifaLocal: local = try a.address(family)
            case UAPI.ifaAddress: address = try a.address(family)
            case UAPI.ifaFlags: flags = try a.uint32()
            case UAPI.ifaProto: proto = try a.uint8()
            default: break
            }
        }
        guard let host = family == .inet ? (local ?? address) : (address ?? local) else {
            throw .malformedAttribute(
                operation: "", type: UAPI.ifaAddress, detail: "address message without IFA_ADDRESS or IFA_LOCAL")
        }
        guard header[1] <= family.bitWidth else {
            throw .malformedAttribute(operation: "", type: 0, detail: "prefix length \(header[1]) too long for \(family)")
        }
        var parsed = InterfaceAddress(
            prefix: IPPrefix(address: host, length: header[1]),
            interfaceIndex: Int32(bitPattern: NetlinkMessageReader.load(UInt32.self, header, 4)),
            noPrefixRoute: flags & UAPI.ifaFNoPrefixRoute != 0, noDAD: flags & UAPI.ifaFNoDAD != 0, proto: proto)
        parsed.isSecondary = family == .inet && flags & UAPI.ifaFSecondary != 0
        return parsed
    }

    /// A rule from an `RTM_NEWRULE` message; nil for other types and families. `hasOtherSelectors`
    /// is set for any selector the model lacks: iif, oif, fwmark (a non-zero mask), tos/dscp, realms,
    /// uid range, ip proto, ports, l3mdev, tunnel id, `not`, `suppress_prefixlength`, and attributes
    /// newer than this code knows (kernel ≥ 6.13 adds dscp, flow label and port masks).
    public static func parseRule(_ m: NetlinkMessage) throws(NetlinkError) -> RoutingPolicyRule? {
        guard m.type == UAPI.newRule else { return nil }
        let (header, attributes) = try split(m, headerSize: 12)
        guard let family = AddressFamily(rawValue: header[0]) else { return nil }
        let frhFlags = NetlinkMessageReader.load(UInt32.self, header, 8)
        var rule = RoutingPolicyRule(family: family, priority: 0, table: UInt32(header[4]), proto: 0, action: header[7])
        var other = header[3] != 0 || frhFlags & UAPI.fibRuleInvert != 0
        var mark: UInt32?
        var mask: UInt32?
        for a in attributes {
            switch a.type {
            case UAPI.fraPriority: rule.priority = try a.uint32()
            case UAPI.fraSrc: rule.from = IPPrefix(address: try a.address(family), length: header[2])
            case UAPI.fraDst: rule.to = IPPrefix(address: try a.address(family), length: header[1])
            case UAPI.fraTable: rule.table = try a.uint32()
            case UAPI.fraSuppressIfgroup: rule.suppressInterfaceGroup = try a.uint32()
            case UAPI.fraProtocol: rule.proto = try a.uint8()
            case UAPI.fraFwmark: mark = try a.uint32()
            case UAPI.fraFwmask: mask = try a.uint32()
            case UAPI.fraIifname, UAPI.fraOifname, UAPI.fraFlow, UAPI.fraTunID, UAPI.fraL3mdev, UAPI.fraUIDRange, UAPI.fraIPProto,
                UAPI.fraSportRange, UAPI.fraDportRange:
                other = true
            case UAPI.fraSuppressPrefixlen:
                // Dumps always carry it; -1 means unset.
                if try a.uint32() != UInt32.max { other = true }
            default:
                if a.type > UAPI.fraDportRange { other = true }
            }
        }
        // The kernel matches `(mark ^ fwmark) & mask == 0`; without FRA_FWMASK the mask is all ones
        // if a mark was given, else zero. A zero mask matches everything.
        let effectiveMask = mask ?? (mark != nil ? UInt32.max : 0)
        if effectiveMask != 0 { other = true }
        rule.hasOtherSelectors = other
        return rule
    }

    /// A route from an `RTM_NEWROUTE` message; nil for other types and families and for cached
    /// clones (`RTM_F_CLONED`). The table is `RTA_TABLE` if present, else `rtm_table`; a scope
    /// other than universe, link or host is reported as universe. Multipath next hops are not read.
    public static func parseRoute(_ m: NetlinkMessage) throws(NetlinkError) -> Route? {
        guard m.type == UAPI.newRoute else { return nil }
        // The local table (255: local, broadcast and anycast routes of every address) is never
        // eniroute's: skip it before parsing attributes.
        if m.payload.count >= 12 && m.payload[4] == 255 { return nil }
        let (header, attributes) = try split(m, headerSize: 12)
        guard let family = AddressFamily(rawValue: header[0]) else { return nil }
        guard NetlinkMessageReader.load(UInt32.self, header, 8) & UAPI.rtmFCloned == 0 else { return nil }
        guard header[1] <= family.bitWidth else {
            throw .malformedAttribute(operation: "", type: 0, detail: "destination length \(header[1]) too long for \(family)")
        }
        var table = UInt32(header[4])
        var destination = IPPrefix(address: IPPrefix.any(family).address, length: header[1])
        var oif: Int32?
        var gateway: IPAddress?
        var source: IPAddress?
        var metric: UInt32 = 0
        for a in attributes {
            switch a.type {
            case UAPI.rtaTable: table = try a.uint32()
            case UAPI.rtaDst: destination = IPPrefix(address: try a.address(family), length: header[1])
            case UAPI.rtaOif: oif = Int32(bitPattern: try a.uint32())
            case UAPI.rtaGateway: gateway = try a.address(family)
            case UAPI.rtaPrefsrc: source = try a.address(family)
            case UAPI.rtaPriority: metric = try a.uint32()
            default: break
            }
        }
        return Route(
            destination: destination, table: table, outputInterface: oif, gateway: gateway, preferredSource: source,
            scope: RouteScope(rawValue: header[6]) ?? .universe, proto: header[5], metric: metric, type: header[7])
    }

    /// The fixed header (at least `headerSize` bytes) and the attributes after it.
    private static func split(_ m: NetlinkMessage, headerSize: Int) throws(NetlinkError) -> ([UInt8], [NetlinkAttribute]) {
        guard m.payload.count >= headerSize else {
            throw .truncated(
                operation: "",
                detail: "message type \(m.type) has \(m.payload.count) bytes, less than its \(headerSize)-byte header")
        }
        return (Array(m.payload.prefix(headerSize)), try NetlinkMessageReader.attributes(in: m.payload.dropFirst(headerSize)))
    }

    /// The errno (negative, or 0 for an ACK) and extended-ack message of an `NLMSG_ERROR` or `NLMSG_DONE`.
    static func parseStatus(_ m: NetlinkMessage) throws(NetlinkError) -> (error: Int32, message: String?) {
        guard m.payload.count >= 4 else {
            throw .truncated(operation: "", detail: "status message of \(m.payload.count) bytes, less than an errno")
        }
        let error = NetlinkMessageReader.load(Int32.self, m.payload, 0)
        var offset = 4
        if m.type == UAPI.error {
            // struct nlmsgerr: the errno, then the request's header, then (unless capped) its payload.
            guard m.payload.count >= 4 + netlinkHeaderSize else {
                throw .truncated(operation: "", detail: "NLMSG_ERROR of \(m.payload.count) bytes lacks the original header")
            }
            let originalLength = Int(NetlinkMessageReader.load(UInt32.self, m.payload, 4))
            offset += m.flags & UAPI.fCapped != 0 ? netlinkHeaderSize : max(netlinkHeaderSize, netlinkAlign(originalLength))
            guard offset <= m.payload.count else {
                throw .truncated(
                    operation: "",
                    detail: "NLMSG_ERROR echoes a \(originalLength)-byte request but has \(m.payload.count - 4) bytes")
            }
        }
        var message: String?
        if m.flags & UAPI.fAckTLVs != 0 {
            for a in try NetlinkMessageReader.attributes(in: m.payload.dropFirst(offset)) where a.type == UAPI.extAckMsg {
                message = a.string()
            }
        }
        return (error, message)
    }
}
