import ENIRouteCore
import ENIRouteNetlink
import ENIRouteTestSupport
import Testing

/// The link and address requests (`ip link set`, `ip address add|del`).
let linkAndAddressFixtures: [Fixture] = [
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
]
