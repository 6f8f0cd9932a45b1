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
            00 00 00 00 03 00 00 00 00 00 00 00 00 00 00 00  // ifinfomsg: AF_UNSPEC, index 3
            08 00        // rta_len 8 (4-byte rtattr header + 4-byte value)
            1b 00        // rta_type IFLA_GROUP (27)
            07 00 00 00  // group 7
            """),
    Fixture(
        name: "link set mtu", built: NetlinkRouteMessage.linkSetMTU(index: 3, mtu: 9001, sequence: 8),
        expected: messageHeader(length: 40, .newLink, .ack, sequence: 8) + """
            00 00 00 00 03 00 00 00 00 00 00 00 00 00 00 00  // ifinfomsg: AF_UNSPEC, index 3
            08 00 04 00 29 23 00 00  // IFLA_MTU (4) 9001
            """),
    Fixture(
        name: "address add inet", built: NetlinkRouteMessage.addressAdd(addressV4, sequence: 9),
        expected: messageHeader(length: 56, .newAddress, .create, sequence: 9) + """
            02           // ifa_family AF_INET
            18           // ifa_prefixlen 24
            00           // ifa_flags: low byte of IFA_F_NOPREFIXROUTE (0x200) is 0
            00           // ifa_scope RT_SCOPE_UNIVERSE
            03 00 00 00  // ifa_index 3
            08 00 02 00 0a 00 02 0a  // IFA_LOCAL (2) 10.0.2.10
            08 00 01 00 0a 00 02 0a  // IFA_ADDRESS (1) 10.0.2.10
            08 00 08 00 00 02 00 00  // IFA_FLAGS (8) IFA_F_NOPREFIXROUTE (0x200)
            05 00 0b 00 ee 00 00 00  // IFA_PROTO (11), rta_len 5: 0xee + 3 bytes padding
            """),
    Fixture(
        name: "address add inet without flags or proto", built: NetlinkRouteMessage.addressAdd(plainAddressV4, sequence: 0x100),
        expected: messageHeader(length: 48, .newAddress, .create, sequence: 256) + """
            02 18 00 00 04 00 00 00  // ifaddrmsg: AF_INET, prefixlen 24, index 4
            08 00 02 00 0a 00 03 07  // IFA_LOCAL 10.0.3.7
            08 00 01 00 0a 00 03 07  // IFA_ADDRESS 10.0.3.7
            08 00 08 00 00 00 00 00  // IFA_FLAGS 0 (and no IFA_PROTO: proto 0)
            """),
    Fixture(
        name: "address add inet6", built: NetlinkRouteMessage.addressAdd(addressV6, sequence: 10),
        expected: messageHeader(length: 60, .newAddress, .create, sequence: 10) + """
            0a 80 02 00 01 00 00 00  // ifaddrmsg: AF_INET6, prefixlen 128, flags IFA_F_NODAD (low byte of 0x202), index 1
            14 00 01 00 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 05  // IFA_ADDRESS (len 20) 2001:db8::5
            08 00 08 00 02 02 00 00  // IFA_FLAGS IFA_F_NOPREFIXROUTE|IFA_F_NODAD (0x202)
            05 00 0b 00 ee 00 00 00  // IFA_PROTO 0xee + 3 bytes padding
            """),
    Fixture(
        name: "address delete inet", built: NetlinkRouteMessage.addressDelete(addressV4, sequence: 11),
        expected: messageHeader(length: 40, .deleteAddress, .ack, sequence: 11) + """
            02 18 00 00 03 00 00 00  // ifaddrmsg: AF_INET, prefixlen 24, index 3
            08 00 02 00 0a 00 02 0a  // IFA_LOCAL 10.0.2.10
            08 00 01 00 0a 00 02 0a  // IFA_ADDRESS 10.0.2.10
            """),
    Fixture(
        name: "address delete inet6", built: NetlinkRouteMessage.addressDelete(addressV6, sequence: 12),
        expected: messageHeader(length: 44, .deleteAddress, .ack, sequence: 12) + """
            0a 80 00 00 01 00 00 00  // ifaddrmsg: AF_INET6, prefixlen 128, index 1
            14 00 01 00 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 05  // IFA_ADDRESS (len 20) 2001:db8::5
            """),
]
