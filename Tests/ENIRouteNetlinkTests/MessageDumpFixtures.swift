import ENIRouteCore
import ENIRouteNetlink
import ENIRouteTestSupport
import Testing

/// One request and the bytes the kernel ABI says it must be, written by hand from
/// <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_addr.h>, <linux/if_link.h>, <linux/fib_rules.h>.
/// Integers are little-endian (x86_64, aarch64); addresses are in network order.
struct Fixture: Sendable, CustomTestStringConvertible {
    let name: String
    let built: [UInt8]
    let expected: String
    var testDescription: String { name }
}

/// Every request fixture, in the order the builders are listed in `NetlinkRouteMessage`.
let fixtures: [Fixture] = dumpFixtures + linkAndAddressFixtures + routeAndRuleFixtures

/// The dump requests (`ip link show`, `ip address show`, `ip rule show`, `ip route show table all`).
let dumpFixtures: [Fixture] = [
    Fixture(
        name: "link dump", built: NetlinkRouteMessage.linkDump(sequence: 1),
        expected: messageHeader(length: 32, .getLink, .dump, sequence: 1) + """
            00           // ifi_family AF_UNSPEC
            00           // __ifi_pad
            00 00        // ifi_type
            00 00 00 00  // ifi_index
            00 00 00 00  // ifi_flags
            00 00 00 00  // ifi_change
            """),
    Fixture(
        name: "address dump inet", built: NetlinkRouteMessage.addressDump(family: .inet, sequence: 2),
        expected: messageHeader(length: 24, .getAddress, .dump, sequence: 2) + """
            02           // ifa_family AF_INET
            00           // ifa_prefixlen
            00           // ifa_flags
            00           // ifa_scope
            00 00 00 00  // ifa_index
            """),
    Fixture(
        name: "address dump inet6", built: NetlinkRouteMessage.addressDump(family: .inet6, sequence: 3),
        expected: messageHeader(length: 24, .getAddress, .dump, sequence: 3) + """
            0a 00 00 00  // ifa_family AF_INET6 (10), prefixlen, flags, scope
            00 00 00 00  // ifa_index
            """),
    Fixture(
        name: "rule dump inet", built: NetlinkRouteMessage.ruleDump(family: .inet, sequence: 4),
        expected: messageHeader(length: 28, .getRule, .dump, sequence: 4) + """
            02           // family AF_INET
            00           // dst_len
            00           // src_len
            00           // tos
            00           // table
            00 00        // res1, res2
            00           // action
            00 00 00 00  // flags
            """),
    Fixture(
        name: "rule dump inet6", built: NetlinkRouteMessage.ruleDump(family: .inet6, sequence: 5),
        expected: messageHeader(length: 28, .getRule, .dump, sequence: 5) + """
            0a 00 00 00 00 00 00 00  // fib_rule_hdr: family AF_INET6, the rest 0
            00 00 00 00              // flags
            """),
    Fixture(
        name: "route dump inet", built: NetlinkRouteMessage.routeDump(family: .inet, sequence: 6),
        expected: messageHeader(length: 28, .getRoute, .dump, sequence: 6) + """
            02           // rtm_family AF_INET
            00 00 00     // rtm_dst_len, rtm_src_len, rtm_tos
            00           // rtm_table
            00 00 00     // rtm_protocol, rtm_scope, rtm_type
            00 00 00 00  // rtm_flags
            """),
    Fixture(
        name: "route dump inet6", built: NetlinkRouteMessage.routeDump(family: .inet6, sequence: 7),
        expected: messageHeader(length: 28, .getRoute, .dump, sequence: 7) + """
            0a 00 00 00 00 00 00 00  // rtmsg: family AF_INET6, the rest 0
            00 00 00 00              // rtm_flags
            """),
]
