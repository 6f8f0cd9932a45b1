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

let fixtures: [Fixture] = [
    Fixture(
        name: "link dump", built: NetlinkRouteMessage.linkDump(sequence: 1),
        expected: """
            20 00 00 00  // nlmsg_len 32
            12 00        // nlmsg_type RTM_GETLINK (18)
            01 03        // nlmsg_flags NLM_F_REQUEST|NLM_F_DUMP (0x301)
            01 00 00 00  // nlmsg_seq 1
            00 00 00 00  // nlmsg_pid 0
            00           // ifi_family AF_UNSPEC
            00           // __ifi_pad
            00 00        // ifi_type
            00 00 00 00  // ifi_index
            00 00 00 00  // ifi_flags
            00 00 00 00  // ifi_change
            """),
    Fixture(
        name: "address dump inet", built: NetlinkRouteMessage.addressDump(family: .inet, sequence: 2),
        expected: """
            18 00 00 00  // nlmsg_len 24
            16 00        // RTM_GETADDR (22)
            01 03        // NLM_F_REQUEST|NLM_F_DUMP
            02 00 00 00  // seq 2
            00 00 00 00  // pid
            02           // ifa_family AF_INET
            00           // ifa_prefixlen
            00           // ifa_flags
            00           // ifa_scope
            00 00 00 00  // ifa_index
            """),
    Fixture(
        name: "address dump inet6", built: NetlinkRouteMessage.addressDump(family: .inet6, sequence: 3),
        expected: """
            18 00 00 00  // nlmsg_len 24
            16 00        // RTM_GETADDR
            01 03        // NLM_F_REQUEST|NLM_F_DUMP
            03 00 00 00  // seq 3
            00 00 00 00  // pid
            0a 00 00 00  // ifa_family AF_INET6 (10), prefixlen, flags, scope
            00 00 00 00  // ifa_index
            """),
    Fixture(
        name: "rule dump inet", built: NetlinkRouteMessage.ruleDump(family: .inet, sequence: 4),
        expected: """
            1c 00 00 00  // nlmsg_len 28
            22 00        // RTM_GETRULE (34)
            01 03        // NLM_F_REQUEST|NLM_F_DUMP
            04 00 00 00  // seq 4
            00 00 00 00  // pid
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
        expected: """
            1c 00 00 00  // nlmsg_len 28
            22 00        // RTM_GETRULE
            01 03        // NLM_F_REQUEST|NLM_F_DUMP
            05 00 00 00  // seq 5
            00 00 00 00  // pid
            0a 00 00 00 00 00 00 00  // fib_rule_hdr: family AF_INET6, the rest 0
            00 00 00 00              // flags
            """),
    Fixture(
        name: "route dump inet", built: NetlinkRouteMessage.routeDump(family: .inet, sequence: 6),
        expected: """
            1c 00 00 00  // nlmsg_len 28
            1a 00        // RTM_GETROUTE (26)
            01 03        // NLM_F_REQUEST|NLM_F_DUMP
            06 00 00 00  // seq 6
            00 00 00 00  // pid
            02           // rtm_family AF_INET
            00 00 00     // rtm_dst_len, rtm_src_len, rtm_tos
            00           // rtm_table
            00 00 00     // rtm_protocol, rtm_scope, rtm_type
            00 00 00 00  // rtm_flags
            """),
    Fixture(
        name: "route dump inet6", built: NetlinkRouteMessage.routeDump(family: .inet6, sequence: 7),
        expected: """
            1c 00 00 00  // nlmsg_len 28
            1a 00        // RTM_GETROUTE
            01 03        // NLM_F_REQUEST|NLM_F_DUMP
            07 00 00 00  // seq 7
            00 00 00 00  // pid
            0a 00 00 00 00 00 00 00  // rtmsg: family AF_INET6, the rest 0
            00 00 00 00              // rtm_flags
            """),
    Fixture(
        name: "link set up", built: NetlinkRouteMessage.linkSetUp(index: 3, sequence: 0x0A0B_0C0D),
        expected: """
            20 00 00 00  // nlmsg_len 32
            10 00        // RTM_NEWLINK (16)
            05 00        // NLM_F_REQUEST|NLM_F_ACK
            0d 0c 0b 0a  // seq 0x0a0b0c0d
            00 00 00 00  // pid
            00           // ifi_family AF_UNSPEC
            00           // pad
            00 00        // ifi_type
            03 00 00 00  // ifi_index 3
            01 00 00 00  // ifi_flags IFF_UP
            01 00 00 00  // ifi_change IFF_UP
            """),
    Fixture(
        name: "link set group", built: NetlinkRouteMessage.linkSetGroup(index: 3, group: 7, sequence: 8),
        expected: """
            28 00 00 00  // nlmsg_len 40
            10 00        // RTM_NEWLINK
            05 00        // NLM_F_REQUEST|NLM_F_ACK
            08 00 00 00  // seq 8
            00 00 00 00  // pid
            00 00 00 00  // ifi_family, pad, ifi_type
            03 00 00 00  // ifi_index 3
            00 00 00 00  // ifi_flags
            00 00 00 00  // ifi_change
            08 00 1b 00  // rta_len 8, IFLA_GROUP (27)
            07 00 00 00  // group 7
            """),
    Fixture(
        name: "link set mtu", built: NetlinkRouteMessage.linkSetMTU(index: 3, mtu: 9001, sequence: 8),
        expected: """
            28 00 00 00  // nlmsg_len 40
            10 00        // RTM_NEWLINK
            05 00        // NLM_F_REQUEST|NLM_F_ACK
            08 00 00 00  // seq 8
            00 00 00 00  // pid
            00 00 00 00  // ifi_family, pad, ifi_type
            03 00 00 00  // ifi_index 3
            00 00 00 00  // ifi_flags
            00 00 00 00  // ifi_change
            08 00 04 00  // rta_len 8, IFLA_MTU (4)
            29 23 00 00  // 9001
            """),
    Fixture(
        name: "address add inet", built: NetlinkRouteMessage.addressAdd(addressV4, sequence: 9),
        expected: """
            38 00 00 00  // nlmsg_len 56
            14 00        // RTM_NEWADDR (20)
            05 06        // NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE (0x605)
            09 00 00 00  // seq 9
            00 00 00 00  // pid
            02           // ifa_family AF_INET
            18           // ifa_prefixlen 24
            00           // ifa_flags: low byte of IFA_F_NOPREFIXROUTE (0x200) is 0
            00           // ifa_scope RT_SCOPE_UNIVERSE
            03 00 00 00  // ifa_index 3
            08 00 02 00  // IFA_LOCAL (2)
            0a 00 02 0a  // 10.0.2.10
            08 00 01 00  // IFA_ADDRESS (1)
            0a 00 02 0a  // 10.0.2.10
            08 00 08 00  // IFA_FLAGS (8)
            00 02 00 00  // IFA_F_NOPREFIXROUTE
            05 00 0b 00  // IFA_PROTO (11), len 5
            ee 00 00 00  // 0xee + 3 bytes padding
            """),
    Fixture(
        name: "address add inet without flags or proto", built: NetlinkRouteMessage.addressAdd(plainAddressV4, sequence: 0x100),
        expected: """
            30 00 00 00  // nlmsg_len 48
            14 00        // RTM_NEWADDR
            05 06        // NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE
            00 01 00 00  // seq 256
            00 00 00 00  // pid
            02 18 00 00  // AF_INET, /24, flags 0, scope 0
            04 00 00 00  // ifa_index 4
            08 00 02 00  // IFA_LOCAL
            0a 00 03 07  // 10.0.3.7
            08 00 01 00  // IFA_ADDRESS
            0a 00 03 07  // 10.0.3.7
            08 00 08 00  // IFA_FLAGS
            00 00 00 00  // 0 (no IFA_PROTO: proto 0)
            """),
    Fixture(
        name: "address add inet6", built: NetlinkRouteMessage.addressAdd(addressV6, sequence: 10),
        expected: """
            3c 00 00 00  // nlmsg_len 60
            14 00        // RTM_NEWADDR
            05 06        // NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE
            0a 00 00 00  // seq 10
            00 00 00 00  // pid
            0a           // ifa_family AF_INET6
            80           // ifa_prefixlen 128
            02           // ifa_flags: low byte of 0x202 = IFA_F_NODAD
            00           // ifa_scope
            01 00 00 00  // ifa_index 1
            14 00 01 00  // IFA_ADDRESS, len 20
            20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 05  // 2001:db8::5
            08 00 08 00  // IFA_FLAGS
            02 02 00 00  // IFA_F_NOPREFIXROUTE|IFA_F_NODAD (0x202)
            05 00 0b 00  // IFA_PROTO
            ee 00 00 00  // 0xee + padding
            """),
    Fixture(
        name: "address delete inet", built: NetlinkRouteMessage.addressDelete(addressV4, sequence: 11),
        expected: """
            28 00 00 00  // nlmsg_len 40
            15 00        // RTM_DELADDR (21)
            05 00        // NLM_F_REQUEST|NLM_F_ACK
            0b 00 00 00  // seq 11
            00 00 00 00  // pid
            02 18 00 00  // AF_INET, /24, flags 0, scope 0
            03 00 00 00  // ifa_index 3
            08 00 02 00  // IFA_LOCAL
            0a 00 02 0a  // 10.0.2.10
            08 00 01 00  // IFA_ADDRESS
            0a 00 02 0a  // 10.0.2.10
            """),
    Fixture(
        name: "address delete inet6", built: NetlinkRouteMessage.addressDelete(addressV6, sequence: 12),
        expected: """
            2c 00 00 00  // nlmsg_len 44
            15 00        // RTM_DELADDR
            05 00        // NLM_F_REQUEST|NLM_F_ACK
            0c 00 00 00  // seq 12
            00 00 00 00  // pid
            0a 80 00 00  // AF_INET6, /128, flags 0, scope 0
            01 00 00 00  // ifa_index 1
            14 00 01 00  // IFA_ADDRESS, len 20
            20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 05  // 2001:db8::5
            """),
    Fixture(
        name: "route add inet default", built: NetlinkRouteMessage.routeAdd(defaultRouteV4, sequence: 13),
        expected: """
            3c 00 00 00  // nlmsg_len 60
            18 00        // RTM_NEWROUTE (24)
            05 06        // NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE
            0d 00 00 00  // seq 13
            00 00 00 00  // pid
            02           // rtm_family AF_INET
            00           // rtm_dst_len 0 (default)
            00           // rtm_src_len
            00           // rtm_tos
            00           // rtm_table RT_TABLE_UNSPEC (10001 does not fit)
            ee           // rtm_protocol 0xee
            00           // rtm_scope RT_SCOPE_UNIVERSE
            01           // rtm_type RTN_UNICAST
            00 00 00 00  // rtm_flags
            08 00 0f 00  // RTA_TABLE (15)
            11 27 00 00  // 10001
            08 00 06 00  // RTA_PRIORITY (6)
            00 00 00 00  // 0
            08 00 04 00  // RTA_OIF (4)
            03 00 00 00  // 3
            08 00 05 00  // RTA_GATEWAY (5)
            0a 00 02 01  // 10.0.2.1
            """),
    Fixture(
        name: "route add inet subnet", built: NetlinkRouteMessage.routeAdd(subnetRouteV4, sequence: 14),
        expected: """
            44 00 00 00  // nlmsg_len 68
            18 00        // RTM_NEWROUTE
            05 06        // NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE
            0e 00 00 00  // seq 14
            00 00 00 00  // pid
            02 18 00 00  // AF_INET, dst_len 24, src_len 0, tos 0
            00           // rtm_table RT_TABLE_UNSPEC
            ee           // rtm_protocol
            fd           // rtm_scope RT_SCOPE_LINK (253)
            01           // RTN_UNICAST
            00 00 00 00  // rtm_flags
            08 00 0f 00  // RTA_TABLE
            11 27 00 00  // 10001
            08 00 01 00  // RTA_DST (1)
            0a 00 02 00  // 10.0.2.0
            08 00 06 00  // RTA_PRIORITY
            00 00 00 00  // 0
            08 00 04 00  // RTA_OIF
            03 00 00 00  // 3
            08 00 07 00  // RTA_PREFSRC (7)
            0a 00 02 0a  // 10.0.2.10
            """),
    Fixture(
        name: "route replace inet6 default", built: NetlinkRouteMessage.routeReplace(defaultRouteV6, sequence: 15),
        expected: """
            48 00 00 00  // nlmsg_len 72
            18 00        // RTM_NEWROUTE
            05 05        // NLM_F_REQUEST|NLM_F_ACK|NLM_F_REPLACE|NLM_F_CREATE (0x505)
            0f 00 00 00  // seq 15
            00 00 00 00  // pid
            0a 00 00 00  // AF_INET6, dst_len 0, src_len 0, tos 0
            00 ee 00 01  // table UNSPEC, protocol 0xee, scope universe, RTN_UNICAST
            00 00 00 00  // rtm_flags
            08 00 0f 00  // RTA_TABLE
            11 27 00 00  // 10001
            08 00 06 00  // RTA_PRIORITY
            00 04 00 00  // 1024
            08 00 04 00  // RTA_OIF
            03 00 00 00  // 3
            14 00 05 00  // RTA_GATEWAY, len 20
            fe 80 0e c2 00 00 00 00 00 00 00 00 00 00 00 01  // fe80:ec2::1
            """),
    Fixture(
        name: "route add inet6 on-link, table < 256", built: NetlinkRouteMessage.routeAdd(onLinkRouteV6, sequence: 16),
        expected: """
            48 00 00 00  // nlmsg_len 72
            18 00        // RTM_NEWROUTE
            05 06        // NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE
            10 00 00 00  // seq 16
            00 00 00 00  // pid
            0a 40 00 00  // AF_INET6, dst_len 64, src_len 0, tos 0
            c8           // rtm_table 200 (fits in the header)
            ee 00 01     // protocol 0xee, scope universe, RTN_UNICAST
            00 00 00 00  // rtm_flags
            08 00 0f 00  // RTA_TABLE
            c8 00 00 00  // 200
            14 00 01 00  // RTA_DST, len 20
            26 00 1f 16 06 7f f2 01 00 00 00 00 00 00 00 00  // 2600:1f16:67f:f201::
            08 00 06 00  // RTA_PRIORITY
            00 04 00 00  // 1024
            08 00 04 00  // RTA_OIF
            03 00 00 00  // 3
            """),
    Fixture(
        name: "route delete inet", built: NetlinkRouteMessage.routeDelete(defaultRouteV4, sequence: 17),
        expected: """
            3c 00 00 00  // nlmsg_len 60
            19 00        // RTM_DELROUTE (25)
            05 00        // NLM_F_REQUEST|NLM_F_ACK
            11 00 00 00  // seq 17
            00 00 00 00  // pid
            02 00 00 00  // AF_INET, dst_len 0, src_len 0, tos 0
            00           // rtm_table RT_TABLE_UNSPEC
            ee           // rtm_protocol: only a route of ours matches
            ff           // rtm_scope RT_SCOPE_NOWHERE (any)
            01           // RTN_UNICAST
            00 00 00 00  // rtm_flags
            08 00 0f 00 11 27 00 00  // RTA_TABLE 10001
            08 00 06 00 00 00 00 00  // RTA_PRIORITY 0
            08 00 04 00 03 00 00 00  // RTA_OIF 3
            08 00 05 00 0a 00 02 01  // RTA_GATEWAY 10.0.2.1
            """),
    Fixture(
        name: "route delete inet6", built: NetlinkRouteMessage.routeDelete(defaultRouteV6, sequence: 22),
        expected: """
            48 00 00 00  // nlmsg_len 72
            19 00        // RTM_DELROUTE
            05 00        // NLM_F_REQUEST|NLM_F_ACK
            16 00 00 00  // seq 22
            00 00 00 00  // pid
            0a 00 00 00  // AF_INET6, dst_len 0, src_len 0, tos 0
            00 ee ff 01  // table UNSPEC, protocol 0xee, scope RT_SCOPE_NOWHERE, RTN_UNICAST
            00 00 00 00  // rtm_flags
            08 00 0f 00 11 27 00 00  // RTA_TABLE 10001
            08 00 06 00 00 04 00 00  // RTA_PRIORITY 1024
            08 00 04 00 03 00 00 00  // RTA_OIF 3
            14 00 05 00 fe 80 0e c2 00 00 00 00 00 00 00 00 00 00 00 01  // RTA_GATEWAY fe80:ec2::1
            """),
    Fixture(
        name: "rule add inet", built: NetlinkRouteMessage.ruleAdd(ruleV4, sequence: 18),
        expected: """
            3c 00 00 00  // nlmsg_len 60
            20 00        // RTM_NEWRULE (32)
            05 06        // NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE
            12 00 00 00  // seq 18
            00 00 00 00  // pid
            02           // family AF_INET
            00           // dst_len
            20           // src_len 32
            00           // tos
            00           // table RT_TABLE_UNSPEC (10001 is in FRA_TABLE)
            00 00        // res1, res2
            01           // action FR_ACT_TO_TBL
            00 00 00 00  // flags
            08 00 06 00  // FRA_PRIORITY (6)
            11 27 00 00  // 10001
            08 00 02 00  // FRA_SRC (2)
            0a 00 02 0a  // 10.0.2.10
            08 00 0f 00  // FRA_TABLE (15)
            11 27 00 00  // 10001
            05 00 15 00  // FRA_PROTOCOL (21), len 5
            ee 00 00 00  // 0xee + padding
            """),
    Fixture(
        name: "rule add inet6 suppress_ifgroup", built: NetlinkRouteMessage.ruleAdd(ruleSuppressV6, sequence: 19),
        expected: """
            3c 00 00 00  // nlmsg_len 60
            20 00        // RTM_NEWRULE
            05 06        // NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE
            13 00 00 00  // seq 19
            00 00 00 00  // pid
            0a 00 00 00  // AF_INET6, dst_len 0, src_len 0 (from all), tos 0
            fe           // table 254 (main) fits in the header
            00 00 01     // res1, res2, FR_ACT_TO_TBL
            00 00 00 00  // flags
            08 00 06 00  // FRA_PRIORITY
            e8 03 00 00  // 1000
            08 00 0f 00  // FRA_TABLE
            fe 00 00 00  // 254
            08 00 0d 00  // FRA_SUPPRESS_IFGROUP (13)
            07 00 00 00  // group 7
            05 00 15 00  // FRA_PROTOCOL
            ee 00 00 00  // 0xee + padding
            """),
    Fixture(
        name: "rule delete inet6", built: NetlinkRouteMessage.ruleDelete(ruleV6, sequence: 20),
        expected: """
            48 00 00 00  // nlmsg_len 72
            21 00        // RTM_DELRULE (33)
            05 00        // NLM_F_REQUEST|NLM_F_ACK
            14 00 00 00  // seq 20
            00 00 00 00  // pid
            0a 00 80 00  // AF_INET6, dst_len 0, src_len 128, tos 0
            00 00 00 01  // table UNSPEC, res1, res2, FR_ACT_TO_TBL
            00 00 00 00  // flags
            08 00 06 00  // FRA_PRIORITY
            11 27 00 00  // 10001
            14 00 02 00  // FRA_SRC, len 20
            20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 05  // 2001:db8::5
            08 00 0f 00  // FRA_TABLE
            11 27 00 00  // 10001
            05 00 15 00  // FRA_PROTOCOL
            ee 00 00 00  // 0xee + padding
            """),
    Fixture(
        name: "rule delete inet with to", built: NetlinkRouteMessage.ruleDelete(ruleWithTo, sequence: 21),
        expected: """
            44 00 00 00  // nlmsg_len 68
            21 00        // RTM_DELRULE
            05 00        // NLM_F_REQUEST|NLM_F_ACK
            15 00 00 00  // seq 21
            00 00 00 00  // pid
            02           // AF_INET
            10           // dst_len 16
            08           // src_len 8
            00           // tos
            64           // table 100
            00 00 01     // res1, res2, FR_ACT_TO_TBL
            00 00 00 00  // flags
            08 00 06 00  // FRA_PRIORITY
            f4 01 00 00  // 500
            08 00 02 00  // FRA_SRC
            0a 00 00 00  // 10.0.0.0
            08 00 01 00  // FRA_DST (1)
            c0 a8 00 00  // 192.168.0.0
            08 00 0f 00  // FRA_TABLE
            64 00 00 00  // 100
            05 00 15 00  // FRA_PROTOCOL
            00 00 00 00  // 0 + padding
            """),
]

@Test(arguments: fixtures)
func messageMatchesKernelABI(_ fixture: Fixture) {
    let expected = hex(fixture.expected)
    #expect(fixture.built == expected, "built:\n\(dumpHex(fixture.built))\nexpected:\n\(dumpHex(expected))")
    // nlmsg_len equals the byte count and every message is 4-byte aligned.
    #expect(Int(fixture.built[0]) | Int(fixture.built[1]) << 8 == fixture.built.count)
    #expect(fixture.built.count % 4 == 0)
}

@Test func changeRequestsUseTheMatchingBuilder() {
    let link = Link(index: 3, name: "eth1", mac: nil, isUp: false)
    let pairs: [(Change, [UInt8])] = [
        (.linkSetUp(link), NetlinkRouteMessage.linkSetUp(index: 3, sequence: 5)),
        (.linkSetGroup(link, group: 7), NetlinkRouteMessage.linkSetGroup(index: 3, group: 7, sequence: 5)),
        (.linkSetMTU(link, mtu: 9001), NetlinkRouteMessage.linkSetMTU(index: 3, mtu: 9001, sequence: 5)),
        (.addressAdd(addressV4), NetlinkRouteMessage.addressAdd(addressV4, sequence: 5)),
        (.addressDelete(addressV6), NetlinkRouteMessage.addressDelete(addressV6, sequence: 5)),
        (.routeAdd(defaultRouteV4), NetlinkRouteMessage.routeAdd(defaultRouteV4, sequence: 5)),
        (.routeReplace(defaultRouteV6), NetlinkRouteMessage.routeReplace(defaultRouteV6, sequence: 5)),
        (.routeDelete(subnetRouteV4), NetlinkRouteMessage.routeDelete(subnetRouteV4, sequence: 5)),
        (.ruleAdd(ruleV4), NetlinkRouteMessage.ruleAdd(ruleV4, sequence: 5)),
        (.ruleDelete(ruleV6), NetlinkRouteMessage.ruleDelete(ruleV6, sequence: 5)),
    ]
    for (change, bytes) in pairs {
        #expect(NetlinkRouteMessage.request(for: change, sequence: 5) == bytes, "\(change)")
    }
}

@Test func writerNestsAttributes() {
    var w = NetlinkMessageWriter(type: 16, flags: 5, sequence: 1)
    w.appendNested(type: 18) { inner in inner.appendAttribute(type: 1, string: "veth") }
    let expected = hex(
        """
        20 00 00 00  // nlmsg_len 32
        10 00 05 00  // RTM_NEWLINK, NLM_F_REQUEST|NLM_F_ACK
        01 00 00 00  // seq 1
        00 00 00 00  // pid
        10 00 12 80  // len 16, IFLA_LINKINFO (18) | NLA_F_NESTED (0x8000)
        09 00 01 00  // len 9, IFLA_INFO_KIND (1)
        76 65 74 68 00 00 00 00  // "veth\\0" + 3 bytes padding
        """)
    #expect(w.finish() == expected)
}
