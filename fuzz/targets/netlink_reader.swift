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
        for type in [UAPI.newLink, UAPI.newAddr, UAPI.newRule, UAPI.newRoute] {
            var typed = m
            typed.type = type
            _ = try? NetlinkRouteMessage.parseLink(typed)
            if let a = try? NetlinkRouteMessage.parseAddress(typed) { precondition(a.prefix.length <= a.family.bitWidth) }
            _ = try? NetlinkRouteMessage.parseRule(typed)
            if let r = try? NetlinkRouteMessage.parseRoute(typed) {
                precondition(r.destination.length <= r.family.bitWidth)
                _ = r.description
            }
        }
        _ = try? NetlinkRouteEvent.parse(m)
        var status = m
        status.type = UAPI.error
        _ = try? NetlinkRouteMessage.parseStatus(status)
        status.type = UAPI.done
        _ = try? NetlinkRouteMessage.parseStatus(status)
    }
    return 0
}
