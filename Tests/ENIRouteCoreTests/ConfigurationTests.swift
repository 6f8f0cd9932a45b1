import ENIRouteCore
import ENIRouteTestSupport
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    @Test func defaults() throws {
        let c = Configuration()
        #expect(c.tableBase == 10000 && c.rulePriority == 10000 && c.interfaceGroup == 10000)
        #expect(c.imdsEndpoints == ["http://169.254.169.254", "http://[fd00:ec2::254]"])
        #expect(c.imdsDeadline == 30 && c.imdsRequestTimeout == 2 && c.watchInterval == 15)
        #expect(!c.imdsV1 && c.ipv6 && c.primaryRules && c.manageAddresses && c.unmanaged.isEmpty)
        // An empty or comment-only file is the defaults.
        #expect(try Configuration.parse("", file: "f") == c)
        #expect(try Configuration.parse("# nothing\n\n   \n\t# indented comment\n", file: "f") == c)
    }

    @Test func everyKey() throws {
        let text = """
            # eniroute settings
            table-base = 20000
            rule-priority=500   # trailing comment
              interface-group   =   77
            imds-endpoints = http://127.0.0.1:8080, http://[::1]:8080 http://10.0.0.1
            imds-deadline = 12.5
            imds-request-timeout = 0.5
            imds-v1 = yes
            watch-interval = 60
            ipv6 = off
            primary-rules = false
            manage-addresses = 0
            unmanaged = eth9, 0e:49:61:0f:c3:11 eni-0abc\tens*
            mtu = 9001
            """
        let c = try Configuration.parse(text, file: "/etc/eniroute/eniroute.conf")
        #expect(c.tableBase == 20000)
        #expect(c.rulePriority == 500)
        #expect(c.interfaceGroup == 77)
        #expect(c.imdsEndpoints == ["http://127.0.0.1:8080", "http://[::1]:8080", "http://10.0.0.1"])
        #expect(c.imdsDeadline == 12.5)
        #expect(c.imdsRequestTimeout == 0.5)
        #expect(c.imdsV1)
        #expect(c.watchInterval == 60)
        #expect(!c.ipv6 && !c.primaryRules && !c.manageAddresses)
        #expect(c.unmanaged == ["eth9", "0e:49:61:0f:c3:11", "eni-0abc", "ens*"])
        #expect(c.mtu == .value(9001))
        // Every documented key is handled by the text above.
        let keysInText = Set(
            text.split(separator: "\n").compactMap { line -> String? in
                guard !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") else { return nil }
                return String(IMDSText.trim(line[..<eq]))
            })
        #expect(keysInText == Set(Configuration.keys.map(\.key)))
    }

    @Test(arguments: [
        ("yes", true), ("YES", true), ("true", true), ("on", true), ("1", true), ("no", false), ("False", false), ("off", false),
        ("0", false),
    ])
    func booleans(text: String, value: Bool) throws {
        #expect(try Configuration.parse("ipv6 = \(text)", file: "f").ipv6 == value)
    }

    @Test func crlfFilesParse() throws {
        // Swift reads "\r\n" as one Character: splitting on "\n" alone once made a CRLF file one line
        // (an error, or worse, `unmanaged = eth1\r\nipv6 = no` gave unmanaged = ["eth1\r\nipv6", "=", "no"]).
        let c = try Configuration.parse("table-base = 300\r\nipv6 = no\r\n", file: "f")
        #expect(c.tableBase == 300 && !c.ipv6)
        let d = try Configuration.parse("unmanaged = eth1\r\nipv6 = no\r\n", file: "f")
        #expect(d.unmanaged == ["eth1"] && !d.ipv6)
    }

    @Test func ranges() throws {
        #expect(try Configuration.parse("table-base = 256", file: "f").tableBase == 256)
        #expect(try Configuration.parse("table-base = 4000000000", file: "f").tableBase == 4_000_000_000)
        #expect(try Configuration.parse("rule-priority = 1", file: "f").rulePriority == 1)
        #expect(try Configuration.parse("rule-priority = 30000", file: "f").rulePriority == 30000)
        #expect(try Configuration.parse("interface-group = 4294967295", file: "f").interfaceGroup == UInt32.max)
        #expect(try Configuration.parse("imds-request-timeout = 0.1", file: "f").imdsRequestTimeout == 0.1)
        #expect(try Configuration.parse("unmanaged =", file: "f").unmanaged.isEmpty)
        #expect(try Configuration.parse("mtu = auto", file: "f").mtu == .auto)
        #expect(try Configuration.parse("mtu = keep", file: "f").mtu == .keep)
        #expect(try Configuration.parse("mtu = 1280", file: "f").mtu == .value(1280))
        #expect(try Configuration.parse("mtu = 9216", file: "f").mtu == .value(9216))
        #expect(Configuration().mtu == .auto)
    }

    /// Text, line, key, a word of the message.
    @Test(
        arguments: [
            ("ipv6 = yes\nbogus = 1\n", 2, "bogus", "unknown key"),
            ("\n\n# c\nipv6 = maybe", 4, "ipv6", "yes or no"),
            ("ipv6 = yes\nipv6 = no", 2, "ipv6", "set twice"),
            ("ipv6 = yes\n\njust words\n", 3, nil, "key = value"),
            ("table-base = 255", 1, "table-base", "whole number"),
            ("table-base = 4000000001", 1, "table-base", "whole number"),
            ("table-base = -1", 1, "table-base", "whole number"),
            ("table-base = ten", 1, "table-base", "whole number"),
            ("table-base = ", 1, "table-base", "whole number"),
            ("rule-priority = 0", 1, "rule-priority", "whole number"),
            ("rule-priority = 30001", 1, "rule-priority", "whole number"),
            ("interface-group = 0", 1, "interface-group", "whole number"),
            ("interface-group = 4294967296", 1, "interface-group", "whole number"),
            ("imds-deadline = 0.5", 1, "imds-deadline", "seconds"),
            ("imds-deadline = nan", 1, "imds-deadline", "seconds"),
            ("imds-deadline = inf", 1, "imds-deadline", "seconds"),
            ("imds-request-timeout = 61", 1, "imds-request-timeout", "seconds"),
            ("watch-interval = 0", 1, "watch-interval", "seconds"),
            ("imds-v1 = 2", 1, "imds-v1", "yes or no"),
            ("primary-rules = ", 1, "primary-rules", "yes or no"),
            ("manage-addresses = y", 1, "manage-addresses", "yes or no"),
            ("imds-endpoints = https://169.254.169.254", 1, "imds-endpoints", "http://"),
            ("imds-endpoints = ", 1, "imds-endpoints", "http://"),
            ("imds-endpoints = http://a, ftp://b", 1, "imds-endpoints", "http://"),
            ("mtu = 1279", 1, "mtu", "whole number"),
            ("mtu = 9217", 1, "mtu", "whole number"),
            ("mtu = Auto", 1, "mtu", "whole number"),
            ("mtu = ", 1, "mtu", "whole number"),
            ("Table-Base = 300", 1, "Table-Base", "unknown key"),
            ("= 300", 1, "", "unknown key"),
        ] as [(String, Int, String?, String)])
    func errorsNameFileLineAndKey(text: String, line: Int, key: String?, word: String) {
        do {
            _ = try Configuration.parse(text, file: "/etc/eniroute/eniroute.conf")
            Issue.record("accepted \(text.debugDescription)")
        } catch {
            #expect(error.file == "/etc/eniroute/eniroute.conf")
            #expect(error.line == line)
            #expect(error.key == key)
            #expect(error.message.contains(word), "message: \(error.message)")
            #expect(error.description.hasPrefix("/etc/eniroute/eniroute.conf:\(line): " + (key.map { "\($0): " } ?? "")))
        }
    }

    @Test func unknownKeyErrorListsKnownKeys() {
        let error = #expect(throws: ConfigurationError.self) { try Configuration.parse("tablebase = 1", file: "c") }
        for key in Configuration.keys.map(\.key) { #expect(error?.message.contains(key) == true, "\(key)") }
    }

    @Test func keysAreDocumented() {
        #expect(Configuration.keys.count == 13)
        #expect(Configuration.keys.allSatisfy { !$0.help.isEmpty })
        #expect(Set(Configuration.keys.map(\.key)).count == Configuration.keys.count)
    }
}

@Suite("Glob and unmanaged ENIs")
struct GlobTests {
    @Test(arguments: [
        ("eth*", "eth0", true), ("eth*", "eth10", true), ("eth*", "eth", true), ("eth*", "veth0", false),
        ("*", "", true), ("*", "anything", true), ("", "", true), ("", "a", false), ("a", "", false),
        ("eth?", "eth1", true), ("eth?", "eth12", false), ("eth?", "eth", false), ("en*s?", "enp40s0", true),
        ("en*s?", "enp40s", false), ("*0", "enX0", true), ("*0", "enX1", false), ("a*b*c", "aXXbYYc", true),
        ("a*b*c", "aXXbYYcZ", false), ("a*b*c", "abc", true), ("a**", "a", true), ("?*", "", false), ("ens6", "ens6", true),
        ("ens6", "ens60", false), ("*ab", "aab", true), ("*ab*ab", "xabyab", true), ("*aab", "aaab", true),
    ])
    func matches(pattern: String, name: String, expected: Bool) {
        #expect(Glob.matches(pattern: pattern, name) == expected, "\(pattern) vs \(name)")
    }

    @Test func unmanagedByMACIdOrName() {
        var c = Configuration()
        let m = mac("0e:49:61:0f:c3:11")
        #expect(!c.isUnmanaged(mac: m, interfaceID: "eni-1", name: "eth1"))
        c.unmanaged = ["0E-49-61-0F-C3-11"]
        #expect(c.isUnmanaged(mac: m, interfaceID: nil, name: nil), "MACs compare as numbers, any case or separator")
        #expect(!c.isUnmanaged(mac: mac("0e:49:61:0f:c3:12"), interfaceID: "eni-1", name: "eth1"))
        c.unmanaged = ["eni-1"]
        #expect(c.isUnmanaged(mac: m, interfaceID: "eni-1", name: nil))
        #expect(!c.isUnmanaged(mac: m, interfaceID: "eni-10", name: nil))
        #expect(!c.isUnmanaged(mac: m, interfaceID: nil, name: "eni-1"), "an eni- entry is an id, never a name glob")
        c.unmanaged = ["ens*", "eth9"]
        #expect(c.isUnmanaged(mac: m, interfaceID: nil, name: "ens6"))
        #expect(c.isUnmanaged(mac: m, interfaceID: nil, name: "eth9"))
        #expect(!c.isUnmanaged(mac: m, interfaceID: nil, name: "eth1"))
        #expect(!c.isUnmanaged(mac: m, interfaceID: nil, name: nil))
    }
}

@Suite("Table derivation")
struct TableTests {
    @Test func formula() {
        let c = Configuration()
        #expect(c.table(networkCard: 0, deviceNumber: 0) == 10000)
        #expect(c.table(networkCard: 0, deviceNumber: 1) == 10001)
        #expect(c.table(networkCard: 1, deviceNumber: 0) == 10100)
        #expect(c.table(networkCard: 3, deviceNumber: 14) == 10314)
        var d = Configuration()
        d.tableBase = 20000
        #expect(d.table(networkCard: 1, deviceNumber: 2) == 20102)
        // No overflow: the arithmetic is 64-bit, the planner range-checks it.
        d.tableBase = UInt32.max
        #expect(d.table(networkCard: UInt32.max, deviceNumber: UInt32.max) == UInt64(UInt32.max) * 102)
    }

    /// The multi-card fixture: device 0 on card 0 and card 1, device 1 on card 0.
    @Test func multiCardFixtureTables() throws {
        let json = try Fixtures.load("netutils-issue104-multi-card")
        var tables: [MACAddress: UInt32] = [:]
        var enis: [ENIFacts] = []
        var links: [Link] = []
        for (i, (key, value)) in try Fixtures.object(json["macs"], "macs").sorted(by: { $0.key < $1.key }).enumerated() {
            let m = try #require(MACAddress(key))
            var bodies = try Fixtures.bodies(try Fixtures.object(value, key))
            bodies["local-ipv4s"] = "10.0.\(i).10"
            bodies["subnet-ipv4-cidr-block"] = "10.0.\(i).0/24"
            let f = try ENIFacts.parse(mac: m, isPrimary: key == "02:5e:c3:d7:22:4b", values: bodies)
            #expect(f.notReadyReason == nil)
            enis.append(f)
            links.append(Link(index: Int32(2 + i), name: "eth\(i)", mac: m, isUp: true))
        }
        let plan = try Planner.plan(
            facts: instance(enis), observed: ObservedState(links: links), configuration: Configuration(), scope: .all(pending: [])
        )
        for e in plan.enis { tables[e.mac] = e.table }
        #expect(tables == [mac("02:5e:c3:d7:22:4b"): 10000, mac("02:94:bf:87:a6:53"): 10100, mac("02:8f:5f:f9:92:55"): 10001])
        // Each table's rule sits at rule-priority + 1 + (table - base).
        let rulePriorities = Set(
            plan.changes.compactMap { c -> [UInt32]? in
                if case .ruleAdd(let r) = c, r.suppressInterfaceGroup == nil { return [r.table, r.priority] }
                return nil
            })
        #expect(rulePriorities == [[10000, 10001], [10001, 10002], [10100, 10101]])
    }

    @Test func nonPrimaryReadingDevice0IsNotReadyAndCollidesWithPrimary() throws {
        let primary = eni("02:00:00:00:00:01", primary: true, device: 0, subnet: "10.0.0.0/24", v4: ["10.0.0.5"])
        let fresh = eni("02:00:00:00:00:02", device: 0, subnet: "10.0.0.0/24", v4: ["10.0.0.6"])
        #expect(fresh.notReadyReason != nil)
        let observed = ObservedState(links: [
            Link(index: 2, name: "eth0", mac: primary.mac, isUp: true), Link(index: 3, name: "eth1", mac: fresh.mac, isUp: false),
        ])
        // The fresh ENI is left alone (never given table 10000); the primary is planned as usual.
        let p = try Planner.plan(
            facts: instance([primary, fresh]), observed: observed, configuration: Configuration(), scope: .all(pending: []))
        #expect(p.enis.map(\.state.rawValue) == ["managed", "not ready"])
        #expect(
            !p.changes.contains { c in
                switch c {
                case .linkSetUp(let l), .linkSetGroup(let l, _): return l.index == 3
                case .addressAdd(let a): return a.interfaceIndex == 3
                case .routeAdd(let r): return r.outputInterface == 3
                default: return false
                }
            })
    }

    @Test func twoENIsMappingToOneTableCollide() throws {
        let a = eni("02:00:00:00:00:0a", device: 1, subnet: "10.0.1.0/24", v4: ["10.0.1.5"])
        let b = eni("02:00:00:00:00:0b", device: 1, subnet: "10.0.2.0/24", v4: ["10.0.2.5"])
        let observed = ObservedState(links: [
            Link(index: 2, name: "eth1", mac: a.mac, isUp: true), Link(index: 3, name: "eth2", mac: b.mac, isUp: true),
        ])
        #expect(throws: FactsError.tableCollision(table: 10001, macs: [a.mac, b.mac])) {
            try Planner.plan(
                facts: instance([a, b]), observed: observed, configuration: Configuration(), scope: .all(pending: []))
        }
        // Nothing is planned for either: the whole plan is refused, whatever the scope.
        #expect(throws: FactsError.self) {
            try Planner.plan(facts: instance([b, a]), observed: observed, configuration: Configuration(), scope: .enis([b.mac]))
        }
    }

    @Test func outOfRangeTablesAreRefused() throws {
        let link = Link(index: 2, name: "eth1", mac: mac("02:00:00:00:00:0a"), isUp: true)
        let observed = ObservedState(links: [link])
        func plan(_ e: ENIFacts, _ c: Configuration = Configuration()) throws(FactsError) -> Plan {
            try Planner.plan(facts: instance([e]), observed: observed, configuration: c, scope: .all(pending: []))
        }
        // Device 100 would be card 1's device 0.
        #expect(throws: FactsError.tableOutOfRange(mac: link.mac!, table: 10100)) {
            try plan(eni("02:00:00:00:00:0a", device: 100, subnet: "10.0.1.0/24", v4: ["10.0.1.5"]))
        }
        #expect(throws: Never.self) { try plan(eni("02:00:00:00:00:0a", device: 99, subnet: "10.0.1.0/24", v4: ["10.0.1.5"])) }
        var high = Configuration()
        high.tableBase = UInt32.max - 50
        #expect(throws: FactsError.tableOutOfRange(mac: link.mac!, table: UInt64(UInt32.max) - 50 + 100 + 1)) {
            try plan(eni("02:00:00:00:00:0a", device: 1, card: 1, subnet: "10.0.1.0/24", v4: ["10.0.1.5"]), high)
        }
        var low = Configuration()
        low.tableBase = 200
        #expect(throws: FactsError.tableOutOfRange(mac: link.mac!, table: 201)) {
            try plan(eni("02:00:00:00:00:0a", device: 1, subnet: "10.0.1.0/24", v4: ["10.0.1.5"]), low)
        }
        low.tableBase = 250
        #expect(throws: FactsError.tableOutOfRange(mac: link.mac!, table: 254), "never the main table") {
            try plan(eni("02:00:00:00:00:0a", device: 4, subnet: "10.0.1.0/24", v4: ["10.0.1.5"]), low)
        }
    }

    @Test func configurableBase() throws {
        var c = try Configuration.parse("table-base = 500\nrule-priority = 3000\ninterface-group = 7", file: "f")
        let e = eni("02:00:00:00:00:0a", device: 2, card: 1, subnet: "10.0.1.0/24", v4: ["10.0.1.5"])
        let observed = ObservedState(links: [Link(index: 2, name: "eth1", mac: e.mac, isUp: true)])
        let plan = try Planner.plan(facts: instance([e]), observed: observed, configuration: c, scope: .all(pending: []))
        #expect(plan.enis.map(\.table) == [602])
        #expect(
            commands(plan) == [
                "ip link set dev eth1 group 7",
                "ip address add 10.0.1.5/24 dev eth1 noprefixroute proto eniroute",
                "ip route add 10.0.1.0/24 dev eth1 src 10.0.1.5 scope link table 602 proto eniroute",
                "ip route add default via 10.0.1.1 dev eth1 table 602 proto eniroute",
                "ip rule add from all lookup main suppress_ifgroup 7 priority 3000 proto eniroute",
                "ip -6 rule add from all lookup main suppress_ifgroup 7 priority 3000 proto eniroute",
                "ip rule add from 10.0.1.5 lookup 602 priority 3103 proto eniroute",
            ])
        c.tableBase = 256
        let again = try Planner.plan(facts: instance([e]), observed: observed, configuration: c, scope: .all(pending: []))
        #expect(again.enis.map(\.table) == [358])
    }
}
