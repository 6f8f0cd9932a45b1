import ENIRouteCore
import Testing

@Suite("IPv4 addresses")
struct IPv4AddressTests {
    @Test(arguments: [
        ("10.0.1.5", UInt32(0x0A00_0105)), ("0.0.0.0", 0), ("255.255.255.255", 0xFFFF_FFFF), ("172.31.44.13", 0xAC1F_2C0D),
        ("1.2.3.0", 0x0102_0300),
    ])
    func parsesDottedQuad(text: String, value: UInt32) throws {
        let a = try #require(IPv4Address(text))
        #expect(a.value == value)
        #expect(a.description == text)
        #expect(a == IPv4Address(UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)))
    }

    @Test(arguments: [
        "", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "01.2.3.4", "1.2.3.04", "1..3.4", ".1.2.3", "1.2.3.",
        " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "1.2.3.-4", "+1.2.3.4", "a.b.c.d", "1.2.3.4/32", "1234.1.1.1",
        "１.2.3.4",
    ])
    func rejectsMalformed(text: String) {
        #expect(IPv4Address(text) == nil, "accepted \(text.debugDescription)")
        #expect(IPAddress(text) == nil, "accepted \(text.debugDescription)")
    }

    @Test func familiesAreTellApartByColon() {
        #expect(IPv4Address("::1") == nil)
        #expect(IPAddress("::1")?.family == .inet6)
        #expect(IPAddress("10.0.0.1")?.family == .inet)
    }

    @Test func bytesAreNetworkOrder() {
        #expect(IPv4Address(10, 0, 2, 1).bytes == [10, 0, 2, 1])
        #expect(IPAddress.v4(IPv4Address(10, 0, 2, 1)).bytes == [10, 0, 2, 1])
        #expect(IPAddress(family: .inet, bytes: [10, 0, 2, 1]) == ip("10.0.2.1"))
        #expect(IPAddress(family: .inet, bytes: [10, 0, 2]) == nil)
    }

    @Test func comparesNumerically() {
        #expect(ip("10.0.0.9") < ip("10.0.0.10"))
        #expect(ip("9.255.255.255") < ip("10.0.0.0"))
        #expect(ip("255.0.0.0") > ip("128.0.0.0"))
        #expect([ip("10.0.0.10"), ip("10.0.0.9"), ip("2.0.0.0")].sorted() == [ip("2.0.0.0"), ip("10.0.0.9"), ip("10.0.0.10")])
    }
}

@Suite("IPv6 addresses")
struct IPv6AddressTests {
    /// Input, RFC 5952 output.
    @Test(arguments: [
        ("2600:1f16:67f:f201:0:0:0:0", "2600:1f16:67f:f201::"),
        ("2600:1F16:067F:F201:0000:0000:0000:0001", "2600:1f16:67f:f201::1"),
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),  // equal runs: the first is compressed
        ("2001:db8:0:0:0:1:0:0", "2001:db8::1:0:0"),  // the longest run wins
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),  // a single zero group is never compressed
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
        ("fe80:ec2::1", "fe80:ec2::1"),
        ("2600:1f16:292:100:c187:593c:4349:136", "2600:1f16:292:100:c187:593c:4349:136"),
        ("fd0a:ffff:9999:8888:0:0:0:0", "fd0a:ffff:9999:8888::"),
        ("::ffff:10.0.0.1", "::ffff:a00:1"),
        ("1:2:3:4:5:6:10.0.0.1", "1:2:3:4:5:6:a00:1"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    ])
    func parsesAndFormatsRFC5952(text: String, canonical: String) throws {
        let a = try #require(IPv6Address(text))
        #expect(a.description == canonical)
        // The canonical form parses back to the same number.
        #expect(IPv6Address(canonical) == a)
        #expect(IPAddress(text) == .v6(a))
    }

    @Test(arguments: [
        "", ":", ":::", "1:::2", "1::2::3", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
        "12345::", "g::1", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "fe80::1%eth0", "1.2.3.4::", "::1.2.3", "::256.0.0.1",
        "1:2:3:4:5:6::1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "2600:1f16::/64", " ::1", "::1 ",
        "0000:0000:0000:0000:0000:0000:0000:0000:0",
    ])
    func rejectsMalformed(text: String) {
        #expect(IPv6Address(text) == nil, "accepted \(text.debugDescription)")
    }

    @Test func uncompressedIMDSFormEqualsCompressed() {
        #expect(IPv6Address("2600:1f16:67f:f201:0:0:0:0") == IPv6Address("2600:1f16:67f:f201::"))
        #expect(Set([ip("2600:1f16:67f:f201:0:0:0:0"), ip("2600:1f16:67f:f201::")]).count == 1)
    }

    @Test func bytesRoundTrip() throws {
        let a = try #require(IPv6Address("2600:1f16:aeb:b20b:9d87:a4af:5cc9:73dc"))
        #expect(a.bytes == [0x26, 0x00, 0x1f, 0x16, 0x0a, 0xeb, 0xb2, 0x0b, 0x9d, 0x87, 0xa4, 0xaf, 0x5c, 0xc9, 0x73, 0xdc])
        #expect(IPv6Address(bytes: a.bytes) == a)
        #expect(IPAddress(family: .inet6, bytes: a.bytes) == .v6(a))
        #expect(IPv6Address(bytes: [UInt8](repeating: 0, count: 15)) == nil)
        #expect(a.groups == [0x2600, 0x1f16, 0x0aeb, 0xb20b, 0x9d87, 0xa4af, 0x5cc9, 0x73dc])
        #expect(a.high == 0x2600_1f16_0aeb_b20b && a.low == 0x9d87_a4af_5cc9_73dc)
    }

    @Test func linkLocal() {
        #expect(IPv6Address("fe80::1")!.isLinkLocal)
        #expect(IPv6Address("febf:ffff::1")!.isLinkLocal)
        #expect(!IPv6Address("fec0::1")!.isLinkLocal)
        #expect(!IPv6Address("fd00:ec2::254")!.isLinkLocal)
        #expect(Planner.ipv6Gateway == ip("fe80:ec2::1"))
    }

    @Test func comparesNumerically() {
        #expect(ip("2600::2") < ip("2600::10"))
        #expect(ip("2600::ffff") < ip("2600:0:0:1::"))
        #expect(ip("9::") < ip("a::"))
        #expect(ip("255.255.255.255") < ip("::"), "IPv4 sorts before IPv6")
    }
}

@Suite("Prefixes")
struct PrefixTests {
    @Test func parsesAndFormats() throws {
        let p = try #require(IPPrefix("10.0.2.0/24"))
        #expect(p.address == ip("10.0.2.0") && p.length == 24 && p.family == .inet)
        #expect(p.description == "10.0.2.0/24")
        #expect(IPPrefix("10.0.2.5")?.description == "10.0.2.5")
        #expect(IPPrefix("10.0.2.5")?.isHost == true)
        #expect(IPPrefix("10.0.2.5/32") == IPPrefix(host: ip("10.0.2.5")))
        #expect(IPPrefix("0.0.0.0/0")?.description == "default")
        #expect(IPPrefix("0.0.0.0/0")?.isDefault == true)
        #expect(IPPrefix("::/0") == .any(.inet6))
        #expect(IPPrefix("0.0.0.0/0") == .any(.inet))
        #expect(IPPrefix("2600:1f16:67f:f201:8d2e:4d1f:9e80:4ab9/128")?.description == "2600:1f16:67f:f201:8d2e:4d1f:9e80:4ab9")
        #expect(IPPrefix("fd0a:ffff:9999:8888:0:0:0:0/80")?.description == "fd0a:ffff:9999:8888::/80")
    }

    @Test func uncompressedIMDSPrefixEqualsCompressed() {
        #expect(IPPrefix("2600:1f16:67f:f201:0:0:0:0/64") == IPPrefix("2600:1f16:67f:f201::/64"))
        #expect(IPPrefix("2600:1f16:67f:f201:0:0:0:0/64")?.description == "2600:1f16:67f:f201::/64")
        #expect(IPPrefix("fd0a:ffff:9999:8888:0:0:0:0/80") == IPPrefix("fd0a:ffff:9999:8888::/80"))
    }

    @Test(arguments: [
        "10.0.2.5/24", "10.0.0.1/31", "11.0.0.0/7", "2600:1f16::1/64", "2600:1f16:67f:f201:0:0:0:1/64", "fd0a:ffff:1::/31",
        "::1/127",
    ])
    func strictRejectsHostBits(text: String) throws {
        #expect(IPPrefix(text) == nil, "accepted \(text)")
        let loose = try #require(IPPrefix(text, strict: false))
        #expect(loose.address == loose.address.masked(to: loose.length), "non-strict parsing masks the host bits")
    }

    @Test func nonStrictMasks() {
        #expect(IPPrefix("10.0.2.5/24", strict: false) == IPPrefix("10.0.2.0/24"))
        #expect(IPPrefix("2600:1f16::1/64", strict: false) == IPPrefix("2600:1f16::/64"))
    }

    @Test(arguments: [
        "", "/", "/24", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/ 8", "10.0.0.0/8/8", "10.0.0.0/a",
        "10.0.0.0/1000", "::/129", "10.0.0/8", "2600::/6 4", "10.0.0.0 /8",
    ])
    func rejectsMalformed(text: String) {
        #expect(IPPrefix(text) == nil, "accepted \(text.debugDescription)")
        #expect(IPPrefix(text, strict: false) == nil, "accepted \(text.debugDescription) non-strict")
    }

    @Test func masking() {
        #expect(ip("10.1.2.3").masked(to: 0) == ip("0.0.0.0"))
        #expect(ip("10.1.2.3").masked(to: 8) == ip("10.0.0.0"))
        #expect(ip("10.1.2.3").masked(to: 20) == ip("10.1.0.0"))
        #expect(ip("172.31.47.221").masked(to: 20) == ip("172.31.32.0"))
        #expect(ip("10.1.2.3").masked(to: 32) == ip("10.1.2.3"))
        #expect(ip("10.1.2.3").masked(to: 40) == ip("10.1.2.3"))
        let a = ip("2600:1f16:292:100:c187:593c:4349:136")
        #expect(a.masked(to: 0) == ip("::"))
        #expect(a.masked(to: 56) == ip("2600:1f16:292:100::"))
        #expect(a.masked(to: 56) == ip("2600:1f16:292:100::"))
        #expect(ip("2600:1f16:292:1ff::").masked(to: 56) == ip("2600:1f16:292:100::"))
        #expect(a.masked(to: 64) == ip("2600:1f16:292:100::"))
        #expect(a.masked(to: 80) == ip("2600:1f16:292:100:c187::"))
        #expect(a.masked(to: 65) == ip("2600:1f16:292:100:8000::"))
        #expect(a.masked(to: 127) == ip("2600:1f16:292:100:c187:593c:4349:136"))
        #expect(ip("::3").masked(to: 127) == ip("::2"))
        #expect(a.masked(to: 128) == a)
    }

    @Test func containsAddresses() {
        let subnet = prefix("172.31.32.0/20")
        #expect(subnet.contains(ip("172.31.32.0")))
        #expect(subnet.contains(ip("172.31.44.13")))
        #expect(subnet.contains(ip("172.31.47.255")))
        #expect(!subnet.contains(ip("172.31.48.0")))
        #expect(!subnet.contains(ip("172.31.31.255")))
        #expect(!subnet.contains(ip("::ffff:172.31.44.13")), "another family is never inside")
        let v6 = prefix("2600:1f16:67f:f201:0:0:0:0/64")
        #expect(v6.contains(ip("2600:1f16:67f:f201:8d2e:4d1f:9e80:4ab9")))
        #expect(!v6.contains(ip("2600:1f16:67f:f202::1")))
        #expect(!v6.contains(ip("10.0.0.1")))
        #expect(IPPrefix.any(.inet).contains(ip("1.2.3.4")))
        #expect(!IPPrefix.any(.inet).contains(ip("::1")))
        #expect(IPPrefix.any(.inet6).contains(ip("::1")))
        #expect(prefix("10.0.0.5/32").contains(ip("10.0.0.5")))
        #expect(!prefix("10.0.0.5/32").contains(ip("10.0.0.4")))
    }

    @Test func containsPrefixes() {
        let subnet = prefix("10.0.0.0/16")
        #expect(subnet.contains(prefix("10.0.5.0/24")))
        #expect(subnet.contains(prefix("10.0.0.0/16")))
        #expect(!subnet.contains(prefix("10.0.0.0/15")))
        #expect(!subnet.contains(prefix("10.1.0.0/24")))
        #expect(!subnet.contains(prefix("::/0")))
        #expect(prefix("2600:1f16:292:100::/56").contains(prefix("2600:1f16:292:1ff::/64")))
        #expect(!prefix("2600:1f16:292:100::/64").contains(prefix("2600:1f16:292:100::/56")))
    }

    @Test func memberwiseInitClampsLength() {
        #expect(IPPrefix(address: ip("10.0.0.1"), length: 40).length == 32)
        #expect(IPPrefix(address: ip("::1"), length: 200).length == 128)
        #expect(IPPrefix(host: ip("::1")).length == 128)
    }

    @Test func comparisons() {
        #expect(prefix("10.0.0.0/8") < prefix("10.0.0.0/16"))
        #expect(prefix("10.0.0.0/16") < prefix("10.1.0.0/16"))
        #expect(prefix("255.0.0.0/8") < prefix("::/0"))
        #expect(prefix("2600::/64") == prefix("2600:0:0:0:0:0:0:0/64"))
        #expect(prefix("2600::/64") != prefix("2600::/63"))
    }
}

@Suite("MAC addresses")
struct MACAddressTests {
    @Test(arguments: [
        ("0e:49:61:0f:c3:11", "0e:49:61:0f:c3:11"), ("0E:49:61:0F:C3:11", "0e:49:61:0f:c3:11"),
        ("0e-49-61-0f-c3-11", "0e:49:61:0f:c3:11"), ("00:00:00:00:00:00", "00:00:00:00:00:00"),
        ("ff:ff:ff:ff:ff:ff", "ff:ff:ff:ff:ff:ff"),
    ])
    func parsesAndFormats(text: String, canonical: String) throws {
        let m = try #require(MACAddress(text))
        #expect(m.description == canonical)
        #expect(MACAddress(canonical) == m)
    }

    @Test(arguments: [
        "", "0e:49:61:0f:c3", "0e:49:61:0f:c3:11:22", "e:49:61:0f:c3:11", "0e:49:61:0f:c3:1g", "0e4961:0f:c3:11:22:33",
        "0e:49:61:0f:c3:11 ", "0e::49:61:0f:c3:11", "0e:049:61:0f:c3:11", "0e:49:61:0f:c3:+1",
    ])
    func rejectsMalformed(text: String) {
        #expect(MACAddress(text) == nil, "accepted \(text.debugDescription)")
    }

    @Test func octets() {
        #expect(MACAddress(octets: [0x02, 0x5e, 0xc3, 0xd7, 0x22, 0x4b]) == mac("02:5e:c3:d7:22:4b"))
        #expect(MACAddress(octets: [1, 2, 3, 4, 5]) == nil)
        #expect(MACAddress(octets: [1, 2, 3, 4, 5, 6, 7]) == nil)
        #expect(mac("02:5e:c3:d7:22:4b").octets == [0x02, 0x5e, 0xc3, 0xd7, 0x22, 0x4b])
    }

    @Test func comparisons() {
        #expect(mac("06:17:04:d7:26:08") < mac("06:17:04:d7:26:09"))
        #expect(mac("02:ff:ff:ff:ff:ff") < mac("03:00:00:00:00:00"))
        #expect(mac("0A:07:84:3D:6E:38") == mac("0a:07:84:3d:6e:38"))
    }
}
