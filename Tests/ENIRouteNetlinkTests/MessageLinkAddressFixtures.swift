import ENIRouteCore
import ENIRouteNetlink
import ENIRouteTestSupport
import Testing

/// The link and address requests (`ip link set`, `ip address add|del`).
let linkAndAddressFixtures: [Fixture] = [
    Fixture(
        name: "link set up", built: NetlinkRouteMessage.linkSetUp(index: 3, sequence: 0x0A0B_0C0D),
        expected: messageHeader(length: 32, .newLink, .ack, sequence: 0x0A0B_0C0D) + """
            00           // ifi_family AF_UNSPEC
            00           // pad
            00 00        // ifi_type
            03 00 00 00  // ifi_index 3
            01 00 00 00  // ifi_flags IFF_UP
            01 00 00 00  // ifi_change IFF_UP
            """),
    Fixture(
        name: "link set group", built: NetlinkRouteMessage.linkSetGroup(index: 3, group: 7, sequence: 8),
        expected: messageHeader(length: 40, .newLink, .ack, sequence: 8) + """
            00 00 00 00  // ifi_family, pad, ifi_type
            03 00 00 00  // ifi_index 3
            00 00 00 00  // ifi_flags
            00 00 00 00  // ifi_change
            08 00 1b 00  // rta_len 8, IFLA_GROUP (27)
            07 00 00 00  // group 7
            """),
    Fixture(
        name: "link set mtu", built: NetlinkRouteMessage.linkSetMTU(index: 3, mtu: 9001, sequence: 8),
        expected: messageHeader(length: 40, .newLink, .ack, sequence: 8) + """
            00 00 00 00  // ifi_family, pad, ifi_type
            03 00 00 00  // ifi_index 3
            00 00 00 00  // ifi_flags
            00 00 00 00  // ifi_change
            08 00 04 00  // rta_len 8, IFLA_MTU (4)
            29 23 00 00  // 9001
            """),
    Fixture(
        name: "address add inet", built: NetlinkRouteMessage.addressAdd(addressV4, sequence: 9),
        expected: messageHeader(length: 56, .newAddress, .create, sequence: 9) + """
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
        expected: messageHeader(length: 48, .newAddress, .create, sequence: 256) + """
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
        expected: messageHeader(length: 60, .newAddress, .create, sequence: 10) + """
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
        expected: messageHeader(length: 40, .deleteAddress, .ack, sequence: 11) + """
            02 18 00 00  // AF_INET, /24, flags 0, scope 0
            03 00 00 00  // ifa_index 3
            08 00 02 00  // IFA_LOCAL
            0a 00 02 0a  // 10.0.2.10
            08 00 01 00  // IFA_ADDRESS
            0a 00 02 0a  // 10.0.2.10
            """),
    Fixture(
        name: "address delete inet6", built: NetlinkRouteMessage.addressDelete(addressV6, sequence: 12),
        expected: messageHeader(length: 44, .deleteAddress, .ack, sequence: 12) + """
            0a 80 00 00  // AF_INET6, /128, flags 0, scope 0
            01 00 00 00  // ifa_index 1
            14 00 01 00  // IFA_ADDRESS, len 20
            20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 05  // 2001:db8::5
            """),
]
