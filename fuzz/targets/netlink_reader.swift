// libFuzzer target: the netlink message reader and every rtnetlink parser (links, addresses,
// rules, routes, notifications, NLMSG_ERROR/NLMSG_DONE status), on one datagram.
import ENIRouteCore

@testable import ENIRouteNetlink

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNetlinkReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    _ = try? NetlinkMessageReader.attributes(in: bytes)
    guard let messages = try? NetlinkMessageReader.messages(in: bytes) else { return 0 }
    for m in messages {
        for type in [K.newLink, K.newAddr, K.newRule, K.newRoute] {
            var typed = m
            typed.type = type
            _ = try? RTNetlinkMessage.parseLink(typed)
            if let a = try? RTNetlinkMessage.parseAddress(typed) { precondition(a.prefix.length <= a.family.bitWidth) }
            _ = try? RTNetlinkMessage.parseRule(typed)
            if let r = try? RTNetlinkMessage.parseRoute(typed) {
                precondition(r.destination.length <= r.family.bitWidth)
                _ = r.description
            }
        }
        _ = try? RouteNetlinkEvent.parse(m)
        var status = m
        status.type = K.error
        _ = try? RTNetlinkMessage.parseStatus(status)
        status.type = K.done
        _ = try? RTNetlinkMessage.parseStatus(status)
    }
    return 0
}
