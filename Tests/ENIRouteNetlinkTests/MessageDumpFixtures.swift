import ENIRouteCore
import ENIRouteNetlink
import ENIRouteTestSupport
import Testing

/// One request and the bytes the kernel ABI says it must be, written by hand from
/// <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_addr.h>, <linux/if_link.h>, <linux/fib_rules.h>.
/// Integers are little-endian (x86_64, aarch64); addresses are in network order. A struct or an
/// attribute is spelled out field by field in the first fixture of a file that uses it; later ones
/// write one line per struct and one per attribute (`08 00 04 00 03 00 00 00  // RTA_OIF 3`:
/// rta_len 8, rta_type 4, the value 3), naming only the fields that differ from 0.
struct Fixture: Sendable, CustomTestStringConvertible {
    let name: String
    let built: [UInt8]
    let expected: String
    var testDescription: String { name }
}

/// Every request fixture, in the order the builders are listed in `NetlinkRouteMessage`.
let fixtures: [Fixture] = dumpFixtures + linkAndAddressFixtures + routeAndRuleFixtures

/// The dump requests (`ip link show`, `ip address show`, `ip rule show`, `ip route show table all`): the
/// header and the family's struct with only the family set. The structs' fields are spelled out in the
/// first change request that sets them (MessageLinkAddressFixtures.swift, MessageRouteRuleFixtures.swift).
let dumpFixtures: [Fixture] = [
    Fixture(
        name: "link dump", built: NetlinkRouteMessage.linkDump(sequence: 1),
        expected: messageHeader(length: 32, .getLink, .dump, sequence: 1) + """
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  // ifinfomsg: AF_UNSPEC, the rest 0
            """),
    Fixture(
        name: "address dump inet", built: NetlinkRouteMessage.addressDump(family: .inet, sequence: 2),
        expected: messageHeader(length: 24, .getAddress, .dump, sequence: 2) + """
            02 00 00 00 00 00 00 00  // ifaddrmsg: AF_INET, the rest 0
            """),
    Fixture(
        name: "address dump inet6", built: NetlinkRouteMessage.addressDump(family: .inet6, sequence: 3),
        expected: messageHeader(length: 24, .getAddress, .dump, sequence: 3) + """
            0a 00 00 00 00 00 00 00  // ifaddrmsg: AF_INET6 (10), the rest 0
            """),
    Fixture(
        name: "rule dump inet", built: NetlinkRouteMessage.ruleDump(family: .inet, sequence: 4),
        expected: messageHeader(length: 28, .getRule, .dump, sequence: 4) + """
            02 00 00 00 00 00 00 00 00 00 00 00  // fib_rule_hdr: AF_INET, the rest 0
            """),
    Fixture(
        name: "rule dump inet6", built: NetlinkRouteMessage.ruleDump(family: .inet6, sequence: 5),
        expected: messageHeader(length: 28, .getRule, .dump, sequence: 5) + """
            0a 00 00 00 00 00 00 00 00 00 00 00  // fib_rule_hdr: AF_INET6, the rest 0
            """),
    Fixture(
        name: "route dump inet", built: NetlinkRouteMessage.routeDump(family: .inet, sequence: 6),
        expected: messageHeader(length: 28, .getRoute, .dump, sequence: 6) + """
            02 00 00 00 00 00 00 00 00 00 00 00  // rtmsg: AF_INET, the rest 0
            """),
    Fixture(
        name: "route dump inet6", built: NetlinkRouteMessage.routeDump(family: .inet6, sequence: 7),
        expected: messageHeader(length: 28, .getRoute, .dump, sequence: 7) + """
            0a 00 00 00 00 00 00 00 00 00 00 00  // rtmsg: AF_INET6, the rest 0
            """),
]
