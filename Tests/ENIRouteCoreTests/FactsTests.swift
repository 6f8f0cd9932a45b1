import ENIRouteCore
import ENIRouteTestSupport
import Testing

/// Parses one MAC's bodies (test shorthand).
func parse(_ m: String, primary: Bool = false, _ values: [String: String]) throws(FactsError) -> ENIFacts {
    try ENIFacts.parse(mac: mac(m), isPrimary: primary, values: values)
}

@Suite("ENIFacts.parse")
struct FactsParseTests {
    static let m = "02:00:00:00:00:01"

    @Test func fullENI() throws {
        let f = try parse(
            Self.m,
            [
                "device-number": "2\n", "network-card": "1", "interface-id": " eni-0abc \n",
                "subnet-ipv4-cidr-block": "10.0.1.0/24",
                "subnet-ipv6-cidr-blocks": "2600:1f16:67f:f201:0:0:0:0/64\n2600:1f16:67f:f2ff::/64",
                "local-ipv4s": "10.0.1.10\n10.0.1.11\n10.0.1.10", "ipv6s": "2600:1f16:67f:f2ff::5\n2600:1f16:67f:f201:0:0:0:7",
                "ipv4-prefix": "10.0.1.16/28", "ipv6-prefix": "2600:1f16:67f:f201:1:0:0:0/80\n2600:1f16:67f:f201:1::/80",
                "local-hostname": "ignored", "mac": "ignored too",
            ])
        #expect(f.mac == mac(Self.m))
        #expect(!f.isPrimary)
        #expect(f.deviceNumber == 2 && f.networkCard == 1)
        #expect(f.interfaceID == "eni-0abc")
        #expect(f.subnetIPv4 == prefix("10.0.1.0/24"))
        #expect(f.subnetIPv6 == [prefix("2600:1f16:67f:f201::/64"), prefix("2600:1f16:67f:f2ff::/64")])
        #expect(f.ipv4Addresses == [ip("10.0.1.10"), ip("10.0.1.11")], "primary first, duplicates dropped")
        #expect(f.primaryIPv4 == ip("10.0.1.10"))
        #expect(f.ipv6Addresses == [ip("2600:1f16:67f:f2ff::5"), ip("2600:1f16:67f:f201::7")])
        #expect(f.ipv4Prefixes == [prefix("10.0.1.16/28")])
        #expect(f.ipv6Prefixes == [prefix("2600:1f16:67f:f201:1::/80")], "uncompressed and compressed forms are one prefix")
        #expect(f.notReadyReason == nil)
    }

    /// IMDS list bodies arrive with or without a trailing newline, and CRLF from some proxies.
    @Test(arguments: ["\n", "\r\n"], [false, true])
    func listBodiesInAnyLineForm(separator: String, trailing: Bool) throws {
        func body(_ lines: [String]) -> String { lines.joined(separator: separator) + (trailing ? separator : "") }
        let f = try parse(
            Self.m,
            [
                "device-number": body(["1"]), "subnet-ipv4-cidr-block": body(["10.0.1.0/24"]),
                "local-ipv4s": body(["10.0.1.10", "10.0.1.11"]), "subnet-ipv6-cidr-blocks": body(["2600::/64"]),
                "ipv6s": body(["2600::1", "2600::2"]),
            ])
        #expect(f.deviceNumber == 1)
        #expect(f.ipv4Addresses == [ip("10.0.1.10"), ip("10.0.1.11")])
        #expect(f.ipv6Addresses == [ip("2600::1"), ip("2600::2")])
        #expect(f.subnetIPv4 == prefix("10.0.1.0/24"))
    }

    @Test func networkCardKeys() throws {
        let base = ["device-number": "0", "local-ipv4s": "10.0.0.5", "subnet-ipv4-cidr-block": "10.0.0.0/24"]
        // 404 (absent) on single-card types: card 0.
        #expect(try parse(Self.m, primary: true, base).networkCard == 0)
        #expect(try parse(Self.m, base.merging(["network-card": "1"]) { $1 }).networkCard == 1)
        #expect(try parse(Self.m, base.merging(["network-card-index": "3"]) { $1 }).networkCard == 3)
        // Both present: the key AWS's own tools read wins.
        #expect(try parse(Self.m, base.merging(["network-card": "2", "network-card-index": "3"]) { $1 }).networkCard == 2)
        // A missing device-number reads as 0 (then the ENI is not ready unless primary).
        #expect(
            try parse(Self.m, primary: true, ["local-ipv4s": "10.0.0.5", "subnet-ipv4-cidr-block": "10.0.0.0/24"]).deviceNumber
                == 0)
    }

    @Test func emptyListBodiesAreEmptyLists() throws {
        let f = try parse(
            Self.m,
            [
                "device-number": "1", "local-ipv4s": "10.0.0.5", "subnet-ipv4-cidr-block": "10.0.0.0/24", "ipv6s": "",
                "subnet-ipv6-cidr-blocks": "", "ipv4-prefix": "", "ipv6-prefix": "\n",
            ])
        #expect(f.ipv6Addresses.isEmpty && f.subnetIPv6.isEmpty && f.ipv4Prefixes.isEmpty && f.ipv6Prefixes.isEmpty)
        #expect(f.notReadyReason == nil)
    }

    /// Key, body, the value the error names.
    @Test(arguments: [
        ("device-number", "x", "x"), ("device-number", "-1", "-1"), ("device-number", "", ""), ("device-number", " \n", " \n"),
        ("device-number", "1.0", "1.0"), ("device-number", "1234567", "1234567"), ("device-number", "1\n2", "1\n2"),
        ("device-number", "+1", "+1"), ("device-number", "١", "١"),
        ("network-card", "a", "a"), ("network-card", "0x1", "0x1"),
        ("subnet-ipv4-cidr-block", "10.0.0.0/33", "10.0.0.0/33"), ("subnet-ipv4-cidr-block", "10.0.0.5/24", "10.0.0.5/24"),
        ("subnet-ipv4-cidr-block", "2600::/64", "2600::/64"),
        ("subnet-ipv4-cidr-block", "10.0.0.0/24\n10.1.0.0/24", "10.0.0.0/24\n10.1.0.0/24"),
        ("subnet-ipv4-cidr-block", "garbage", "garbage"),
        ("subnet-ipv6-cidr-blocks", "10.0.0.0/24", "10.0.0.0/24"), ("subnet-ipv6-cidr-blocks", "2600::1/64", "2600::1/64"),
        ("subnet-ipv6-cidr-blocks", "2600::/64\n2600:::/64", "2600:::/64"),
        ("local-ipv4s", "10.0.0.300", "10.0.0.300"), ("local-ipv4s", "10.0.0.5/32", "10.0.0.5/32"),
        ("local-ipv4s", "2600::1", "2600::1"),
        ("local-ipv4s", "10.0.0.5\n10.0.0.06", "10.0.0.06"),
        ("ipv6s", "10.0.0.5", "10.0.0.5"), ("ipv6s", "2600::1/128", "2600::1/128"), ("ipv6s", "fe80::1%eth0", "fe80::1%eth0"),
        ("ipv4-prefix", "10.0.0.17/28", "10.0.0.17/28"), ("ipv4-prefix", "2600::/80", "2600::/80"),
        ("ipv6-prefix", "10.0.0.16/28", "10.0.0.16/28"), ("ipv6-prefix", "2600::1/80", "2600::1/80"),
    ])
    func malformedValuesAreRefused(key: String, body: String, named: String) {
        var values = ["device-number": "1", "subnet-ipv4-cidr-block": "10.0.0.0/24", "local-ipv4s": "10.0.0.5"]
        values[key] = body
        #expect(throws: FactsError.malformed(mac: mac(Self.m), key: key, value: named)) { try parse(Self.m, values) }
    }

    @Test func malformedNetworkCardIndexIsRefused() {
        #expect(throws: FactsError.malformed(mac: mac(Self.m), key: "network-card-index", value: "one")) {
            try parse(Self.m, ["device-number": "1", "network-card-index": "one"])
        }
    }

    @Test func addressOutsideSubnetIsRefused() {
        #expect(throws: FactsError.addressOutsideSubnet(mac: mac(Self.m), address: "10.0.1.5", subnet: "10.0.0.0/24")) {
            try parse(
                Self.m, ["device-number": "1", "subnet-ipv4-cidr-block": "10.0.0.0/24", "local-ipv4s": "10.0.0.5\n10.0.1.5"])
        }
        #expect(throws: FactsError.addressOutsideSubnet(mac: mac(Self.m), address: "2600:2::1", subnet: "2600::/64,2600:1::/64"))
        {
            try parse(
                Self.m,
                ["device-number": "1", "subnet-ipv6-cidr-blocks": "2600::/64\n2600:1::/64", "ipv6s": "2600:1::9\n2600:2::1"])
        }
        // Each v6 address may be in any of the subnet's v6 blocks.
        #expect(throws: Never.self) {
            try parse(
                Self.m,
                ["device-number": "1", "subnet-ipv6-cidr-blocks": "2600::/64\n2600:1::/64", "ipv6s": "2600:1::9\n2600::1"])
        }
        #expect(throws: FactsError.self) {
            try ENIFacts(
                mac: mac(Self.m), isPrimary: false, deviceNumber: 1, subnetIPv4: prefix("10.0.0.0/24"),
                ipv4Addresses: [ip("10.0.0.255"), ip("10.0.1.0")]
            ).validate()
        }
    }

    @Test func errorsDescribeThemselves() {
        let m = mac(Self.m)
        #expect(FactsError.malformed(mac: m, key: "local-ipv4s", value: "x").description.contains("local-ipv4s"))
        #expect(
            FactsError.addressOutsideSubnet(mac: m, address: "10.0.1.5", subnet: "10.0.0.0/24").description.contains("10.0.1.5"))
        #expect(FactsError.tableCollision(table: 10001, macs: [m, m]).description.contains("10001"))
        #expect(FactsError.tableOutOfRange(mac: m, table: 5).description.contains("5"))
        #expect(FactsError.duplicate(what: "MAC x").description.contains("MAC x"))
    }
}

@Suite("ENIFacts.notReadyReason")
struct NotReadyTests {
    @Test func nonPrimaryReadingDevice0OnCard0IsNotReady() throws {
        let values = ["device-number": "0", "subnet-ipv4-cidr-block": "10.0.0.0/24", "local-ipv4s": "10.0.0.7"]
        let fresh = try parse("02:00:00:00:00:02", values)
        #expect(fresh.notReadyReason?.contains("device-number 0") == true)
        // The same reading on the primary ENI is its real device number.
        #expect(try parse("02:00:00:00:00:02", primary: true, values).notReadyReason == nil)
        // Device 0 of another network card is a real slot (multi-card instances).
        #expect(try parse("02:00:00:00:00:02", values.merging(["network-card": "1"]) { $1 }).notReadyReason == nil)
        // network-card 404 means card 0.
        #expect(try parse("02:00:00:00:00:02", values.merging(["device-number": "1"]) { $1 }).notReadyReason == nil)
    }

    @Test func noAddressesIsNotReady() throws {
        let f = try parse("02:00:00:00:00:02", ["device-number": "1", "subnet-ipv4-cidr-block": "10.0.0.0/24"])
        #expect(f.notReadyReason == "no addresses listed yet")
        // A delegated prefix alone is an address.
        let p = try parse(
            "02:00:00:00:00:02", ["device-number": "1", "subnet-ipv4-cidr-block": "10.0.0.0/24", "ipv4-prefix": "10.0.0.16/28"])
        #expect(p.notReadyReason == nil)
    }

    @Test func missingSubnetIsNotReady() throws {
        let v4 = try parse("02:00:00:00:00:02", ["device-number": "1", "local-ipv4s": "10.0.0.7"])
        #expect(v4.notReadyReason == "subnet-ipv4-cidr-block not listed yet")
        let prefixOnly = try parse("02:00:00:00:00:02", ["device-number": "1", "ipv4-prefix": "10.0.0.16/28"])
        #expect(prefixOnly.notReadyReason == "subnet-ipv4-cidr-block not listed yet")
        let v6 = try parse(
            "02:00:00:00:00:02",
            ["device-number": "1", "local-ipv4s": "10.0.0.7", "subnet-ipv4-cidr-block": "10.0.0.0/24", "ipv6s": "2600::1"])
        #expect(v6.notReadyReason == "subnet-ipv6-cidr-blocks not listed yet")
    }

    @Test func ipv6OnlyENIIsReady() throws {
        let f = try parse(
            "02:00:00:00:00:02", ["device-number": "1", "subnet-ipv6-cidr-blocks": "2600::/64", "ipv6s": "2600::1"])
        #expect(f.notReadyReason == nil)
    }
}

@Suite("ENIFacts from the IMDS fixtures")
struct FixtureFactsTests {
    /// Parses every MAC of a fixture in crawler form (`macs` object).
    func macs(_ name: String, hyphenate: Bool = false) throws -> [MACAddress: Result<ENIFacts, FactsError>] {
        let json = try Fixtures.load(name)
        let primary = (json["top_level"] as? [String: Any])?["mac"] as? String
        var out: [MACAddress: Result<ENIFacts, FactsError>] = [:]
        for (key, value) in try Fixtures.object(json["macs"], "\(name).macs") {
            let m = try #require(MACAddress(key))
            let bodies = try Fixtures.bodies(try Fixtures.object(value, key), hyphenateKeys: hyphenate)
            out[m] = Result { () throws(FactsError) in try ENIFacts.parse(mac: m, isPrimary: key == primary, values: bodies) }
        }
        return out
    }

    @Test func ciDefaultTwoNICIsRefusedAsOutsideSubnet() throws {
        // The source edited local-ipv4s to 172.3.3.x but left subnet-ipv4-cidr-block at 172.31.16.0/20.
        let parsed = try macs("ci-default-2016-09-02-two-nic")
        #expect(parsed.count == 2)
        let primary = mac("06:17:04:d7:26:09")
        #expect(throws: FactsError.addressOutsideSubnet(mac: primary, address: "172.3.3.15", subnet: "172.31.16.0/20")) {
            try parsed[primary]!.get()
        }
        let second = mac("06:17:04:d7:26:08")
        #expect(throws: FactsError.addressOutsideSubnet(mac: second, address: "172.3.3.16", subnet: "172.31.16.0/20")) {
            try parsed[second]!.get()
        }
    }

    @Test func ciTwoNICIPv6Only() throws {
        let parsed = try macs("ci-two-nic-ipv6-only")
        let a = try parsed[mac("02:7c:03:b8:5c:af")]!.get()
        let b = try parsed[mac("02:6b:df:a2:4b:2b")]!.get()
        #expect(a.deviceNumber == 0 && b.deviceNumber == 1 && a.networkCard == 0 && b.networkCard == 0)
        #expect(a.subnetIPv4 == nil && a.ipv4Addresses.isEmpty)
        #expect(a.subnetIPv6 == [prefix("2600:1f16:67f:f201::/64")], "uncompressed IMDS CIDR compares as a number")
        #expect(b.ipv6Addresses == [ip("2600:1f16:67f:f201:8d2e:4d1f:9e80:4ab9")])
        #expect(b.interfaceID == "eni-0669816d0cf606123")
        #expect(b.notReadyReason == nil)
    }

    @Test func ciSingleNICSecondaryIPs() throws {
        // The source's keys use underscores (subnet_ipv6_cidr_blocks); real IMDS uses hyphens, so the
        // keys are normalised before parsing.
        let parsed = try macs("ci-single-nic-secondary-ips-2018-09-24", hyphenate: true)
        let f = try parsed[mac("0a:07:84:3d:6e:38")]!.get()
        #expect(f.isPrimary)
        #expect(f.ipv4Addresses == [ip("172.31.44.13"), ip("172.31.45.70")])
        #expect(f.ipv6Addresses.count == 3)
        #expect(f.subnetIPv6 == [prefix("2600:1f16:292:100::/64")])
        #expect(f.notReadyReason == nil)
        // Verbatim (underscore) keys are simply not the keys eniroute reads: the v6 subnet is missing.
        let verbatim = try macs("ci-single-nic-secondary-ips-2018-09-24")[mac("0a:07:84:3d:6e:38")]!.get()
        #expect(verbatim.subnetIPv6.isEmpty)
        #expect(verbatim.notReadyReason == "subnet-ipv6-cidr-blocks not listed yet")
    }

    @Test func ciNICFragments() throws {
        let json = try Fixtures.load("ci-nic-fragments-2018-09-24")
        let fragments = try Fixtures.object(json["fragments"], "fragments")
        func facts(_ name: String) throws -> ENIFacts {
            // NIC1's keys use underscores in the source; real IMDS uses hyphens.
            let entries = try Fixtures.object(fragments[name], name)
            let m = try #require(MACAddress(try Fixtures.string(entries["mac"], "\(name).mac")))
            return try ENIFacts.parse(
                mac: m, isPrimary: name.hasPrefix("NIC1"), values: Fixtures.bodies(entries, hyphenateKeys: true))
        }
        let nic1 = try facts("NIC1_MD_IPV4_IPV6_MULTI_IP")
        #expect(nic1.ipv4Addresses == [ip("172.31.44.13"), ip("172.31.45.70")] && nic1.ipv6Addresses.count == 3)
        let nic2 = try facts("NIC2_MD")
        #expect(nic2.deviceNumber == 1 && nic2.ipv4Addresses == [ip("172.31.47.221")] && nic2.ipv6Addresses.isEmpty)
        #expect(nic2.subnetIPv4 == nic1.subnetIPv4, "both ENIs in one subnet (seed 002)")
        let nic2multi = try facts("NIC2_MD_IPV4_IPV6_MULTI_IP")
        #expect(nic2multi.ipv6Addresses == Array(nic1.ipv6Addresses.prefix(2)))
        #expect(nic2multi.notReadyReason == nil)
    }

    @Test func aemmSingleNICUsesNetworkCardIndexAndIsRefused() throws {
        let json = try Fixtures.load("aemm-single-nic-default")
        let entries = try Fixtures.object(try Fixtures.object(json["macs"], "macs")["0e:49:61:0f:c3:11"], "mac")
        var bodies = try Fixtures.bodies(entries)
        #expect(bodies["network-card-index"] == "0")
        // The mock's subnet (192.0.2.0/24) does not hold its private address.
        #expect(
            throws: FactsError.addressOutsideSubnet(
                mac: mac("0e:49:61:0f:c3:11"), address: "172.16.34.43", subnet: "192.0.2.0/24")
        ) {
            try ENIFacts.parse(mac: mac("0e:49:61:0f:c3:11"), isPrimary: true, values: bodies)
        }
        // With the address in the subnet, network-card-index is read.
        bodies["network-card-index"] = "1"
        bodies["local-ipv4s"] = "192.0.2.10"
        let f = try ENIFacts.parse(mac: mac("0e:49:61:0f:c3:11"), isPrimary: true, values: bodies)
        #expect(f.networkCard == 1)
        #expect(f.ipv6Addresses == [ip("2001:db8:8:4::2")] && f.subnetIPv6 == [prefix("2001:db8::/32")])
        #expect(f.interfaceID == "eni-0f95d3625f5c521cc")
    }

    @Test func multiCardDeviceNumbers() throws {
        let parsed = try macs("netutils-issue104-multi-card")
        let numbers = try parsed.mapValues { r in
            let f = try r.get(); return [f.networkCard, f.deviceNumber]
        }
        #expect(
            numbers == [mac("02:5e:c3:d7:22:4b"): [0, 0], mac("02:8f:5f:f9:92:55"): [0, 1], mac("02:94:bf:87:a6:53"): [1, 0]])
        // Without a top-level mac every ENI is parsed as non-primary: card 0 device 0 then reads as
        // "IMDS has not caught up", the others lack addresses (the fixture records only the numbers).
        #expect(try parsed[mac("02:5e:c3:d7:22:4b")]!.get().notReadyReason?.contains("device-number 0 on card 0") == true)
        #expect(try parsed[mac("02:8f:5f:f9:92:55")]!.get().notReadyReason == "no addresses listed yet")
        #expect(try parsed[mac("02:94:bf:87:a6:53")]!.get().notReadyReason == "no addresses listed yet")
    }

    @Test func netutils1xScenarios() throws {
        let json = try Fixtures.load("netutils1x-secondary-eni-scenarios")
        let scenarios = try Fixtures.object(json["scenarios"], "scenarios")
        #expect(scenarios.count == 8)
        var seen = 0
        for (name, value) in scenarios {
            let responses = try Fixtures.object(try Fixtures.object(value, name)["imds_per_mac_responses"], name)
            var bodies = try Fixtures.bodies(responses)
            bodies["device-number"] = "2"
            let f = try ENIFacts.parse(mac: mac("02:00:00:00:00:02"), isPrimary: false, values: bodies)
            #expect(f.subnetIPv4 != nil && !f.ipv4Addresses.isEmpty, "\(name)")
            // The 1.x test double serves delegated IPv6 prefixes without subnet-ipv6-cidr-blocks; real
            // IMDS lists the subnet of an IPv6 ENI, so eniroute waits for it rather than route half.
            let v6Prefixes = !(bodies["ipv6-prefix"] ?? "").isEmpty
            #expect(f.notReadyReason == (v6Prefixes ? "subnet-ipv6-cidr-blocks not listed yet" : nil), "\(name)")
            seen += 1
        }
        #expect(seen == 8)
        let uncompressed = try Fixtures.object(
            try Fixtures.object(scenarios["v6-uncompressed-prefixes"], "v6").self["imds_per_mac_responses"], "responses")
        let f = try ENIFacts.parse(mac: mac("02:00:00:00:00:02"), isPrimary: false, values: Fixtures.bodies(uncompressed))
        #expect(f.ipv6Prefixes.map(\.description) == ["fd0a:ffff:eeee:dddd::/80", "fd0a:ffff:9999:8888::/80"])
    }

    @Test func hotplugPartialIMDS() throws {
        let json = try Fixtures.load("ci-issue5373-hotplug-partial-imds")
        let m = try #require(MACAddress(try Fixtures.string(json["mac"], "mac")))
        let atHotplug = try Fixtures.bodies(try Fixtures.object(json["at_hotplug_time"], "at_hotplug_time"))
        let first = try ENIFacts.parse(mac: m, isPrimary: false, values: atHotplug)
        #expect(first.deviceNumber == 1)
        #expect(first.notReadyReason == "no addresses listed yet")
        let added = try Fixtures.bodies(try Fixtures.object(json["after_reboot_added_keys"], "after_reboot_added_keys"))
        let later = try ENIFacts.parse(mac: m, isPrimary: false, values: atHotplug.merging(added) { $1 })
        #expect(later.ipv6Addresses == [ip("2a05:d011:311:a00:c4f1:eb1b:92d2:200e")])
        #expect(later.notReadyReason == "subnet-ipv6-cidr-blocks not listed yet")
    }
}
