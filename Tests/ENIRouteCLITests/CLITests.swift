import ENIRouteCLI
import ENIRouteCore
import ENIRouteSystem
import ENIRouteTestSupport
import Testing

@Suite("Argument parsing")
struct ArgumentTests {
    @Test func applyWithInterfacesAndGlobalOptionsAnywhere() throws {
        let inv = try Arguments.parse([
            "--log-level", "debug", "apply", "eth1", "--imds-endpoint=http://127.0.0.1:8080", "eth2",
        ])
        #expect(inv.command == .apply)
        #expect(inv.interfaces == ["eth1", "eth2"])
        #expect(inv.imdsEndpoint == "http://127.0.0.1:8080")
        #expect(inv.logLevel == .debug)
    }

    @Test func removeTakesOneInterfaceOrMacOrAll() throws {
        #expect(try Arguments.parse(["remove", "eth1"]).interfaces == ["eth1"])
        #expect(try Arguments.parse(["remove", "--mac", "02:00:00:00:02:0A"]).mac == mac1)
        #expect(try Arguments.parse(["remove", "--all"]).all)
        #expect(throws: UsageError.self) { try Arguments.parse(["remove", "--all", "eth1"]) }
        #expect(throws: UsageError.self) { try Arguments.parse(["remove", "--all", "--mac", "02:00:00:00:02:0a"]) }
        #expect(throws: UsageError.self) { try Arguments.parse(["remove"]) }
        #expect(throws: UsageError.self) { try Arguments.parse(["remove", "eth1", "eth2"]) }
        #expect(throws: UsageError.self) { try Arguments.parse(["remove", "eth1", "--mac", "02:00:00:00:02:0a"]) }
        #expect(throws: UsageError.self) { try Arguments.parse(["remove", "--mac", "zz"]) }
    }

    @Test func usageErrors() {
        for args in [
            ["frobnicate"], ["apply", "--bogus"], ["apply", "--imds-endpoint"], ["apply", "--imds-endpoint", "https://x"],
            ["status", "eth0"], ["apply", "--json"], ["apply", "--log-level", "loud"], ["apply", "--imds-deadline", "0"],
            ["apply", "--mac", "02:00:00:00:02:0a"], ["apply", "--all"], ["watch", "--all"],
        ] {
            #expect(throws: UsageError.self, "\(args)") { try Arguments.parse(args) }
        }
    }

    @Test func helpAndVersion() throws {
        #expect(try Arguments.parse([]).command == .help)
        #expect(try Arguments.parse(["--help"]).command == .help)
        #expect(try Arguments.parse(["version"]).command == .version)
        #expect(try Arguments.parse(["plan", "--json"]).json)
        #expect(try Arguments.parse(["apply", "--", "--weird-name"]).interfaces == ["--weird-name"])
    }

    @Test func usageErrorExitsTwo() {
        var h = Harness()
        h.variables = [:]
        #expect(h.run("apply", "--nope") == .usage)
        #expect(h.log.lines.first?.contains("unknown option '--nope'") == true)
        #expect(h.kernel.observeCount == 0)
    }
}

@Suite("Logging")
struct LoggingTests {
    @Test func journalPrefixesUnderSystemd() {
        let sink = MemorySink()
        let log = JournalLog(level: .info, journal: true, sink: sink)
        log.error("e")
        log.warning("w")
        log.notice("n")
        log.info("i")
        log.debug("d")
        #expect(sink.lines == ["<3>e", "<4>w", "<5>n", "<6>i"])
    }

    @Test func plainOnATerminal() {
        let sink = MemorySink()
        let log = JournalLog(level: .notice, journal: false, sink: sink)
        log.error("bad\nworse")
        log.notice("fine")
        log.info("hidden")
        #expect(sink.lines == ["error: bad", "error: worse", "fine"])
    }

    @Test func journalStreamSelectsPrefixes() {
        var h = Harness()
        h.variables = ["JOURNAL_STREAM": "8:1234"]
        #expect(h.run("apply") == .success)
        #expect(h.log.lines.allSatisfy { $0.hasPrefix("<") })
        #expect(h.log.lines.contains { $0.hasPrefix("<5>ip rule add from 10.0.2.10 lookup 10001") })
    }
}

@Suite("Commands")
struct CommandTests {
    @Test func applyConfiguresBothENIsThenNothingChanges() {
        let h = Harness()
        #expect(h.run("apply") == .success)
        let lines = h.log.lines
        #expect(lines.contains("ip link set dev eth1 up"))
        #expect(lines.contains("ip link set dev eth0 group 10000"))
        #expect(lines.contains("ip address add 10.0.2.10/24 dev eth1 noprefixroute proto eniroute"))
        #expect(lines.contains("ip address add 10.0.2.11/24 dev eth1 noprefixroute proto eniroute"))
        #expect(!lines.contains { $0.hasPrefix("ip address add 10.0.1.10") })  // DHCP's address is kept as is
        #expect(lines.contains("ip route add 10.0.2.0/24 dev eth1 src 10.0.2.10 scope link table 10001 proto eniroute"))
        #expect(lines.contains("ip route add default via 10.0.2.1 dev eth1 table 10001 proto eniroute"))
        #expect(lines.contains("ip rule add from 10.0.2.11 lookup 10001 priority 10002 proto eniroute"))
        #expect(lines.contains("ip rule add from 10.0.1.10 lookup 10000 priority 10001 proto eniroute"))
        #expect(lines.contains("ip rule add from all lookup main suppress_ifgroup 10000 priority 10000 proto eniroute"))
        #expect(lines.last?.hasPrefix("apply: 14 changes on 2 ENIs (eth0 table 10000, eth1 table 10001)") == true)
        let before = h.kernel.applied.count
        #expect(h.run("apply") == .success)
        #expect(h.kernel.applied.count == before)
        #expect(h.log.lines.last?.hasPrefix("apply: no change on 2 ENIs") == true)
    }

    @Test func applyNamedInterfaceOnlyFetchesItsMAC() {
        let h = Harness()
        #expect(h.run("apply", "eth1") == .success)
        #expect(h.imds.listings == 0)
        #expect(h.imds.fullReads == [mac1])
        #expect(!h.kernel.applied.contains { if case .ruleAdd(let r) = $0 { return r.table == 10000 } else { return false } })
    }

    @Test func unknownInterfaceIsAnError() {
        let h = Harness()
        #expect(h.run("apply", "eth9") == .failure)
        #expect(h.log.lines.contains("error: no interface named eth9"))
        #expect(h.imds.begins == 0 && h.imds.primaryReads == 0)
    }

    @Test func temporaryIMDSFailureExits75AndChangesNothing() {
        let h = Harness()
        h.imds.error = .deadlineExceeded(url: "http://imds/latest/meta-data/mac", attempts: 3, last: "HTTP 503")
        #expect(h.run("apply") == .temporary)
        #expect(h.kernel.applied.isEmpty)
        #expect(
            h.log.lines.contains(
                "error: IMDS: http://imds/latest/meta-data/mac: IMDS deadline exceeded after 3 attempts (last: HTTP 503); nothing changed"
            ))
    }

    @Test func permanentIMDSFailureExitsOne() {
        let h = Harness()
        h.imds.error = .tokenRefused(url: "http://imds/latest/api/token", status: 403)
        #expect(h.run("apply") == .failure)
        #expect(h.kernel.applied.isEmpty)
    }

    @Test func invalidDataIsRefusedWholesale() {
        let h = Harness()
        // Two ENIs claiming device 1 on card 0: refused before anything is applied.
        h.imds.enis[mac0]!.isPrimary = false
        h.imds.enis[mac0]!.deviceNumber = 1
        #expect(h.run("apply") == .failure)
        #expect(h.kernel.applied.isEmpty)
        #expect(h.log.lines.contains { $0.contains("would share table 10001") })
    }

    @Test func pendingENIIsLeftAloneAndExit75() {
        let h = Harness()
        h.imds.notReady = [mac1: "device-number 0 on card 0"]
        #expect(h.run("apply") == .temporary)
        #expect(h.clock.now >= 1000 + 30 - h.imds.propagationWait, "waited for it until the deadline")
        #expect(h.log.lines.contains { $0.contains("eth1: IMDS data not ready by the deadline") })
        #expect(
            !h.kernel.applied.contains { if case .addressAdd(let a) = $0 { return a.interfaceIndex == 3 } else { return false } })
        #expect(h.kernel.applied.contains { if case .ruleAdd(let r) = $0 { return r.table == 10000 } else { return false } })
    }

    @Test func kernelFailureIsReportedAndExitsOne() {
        let h = Harness()
        h.kernel.failOn = { c in
            if case .routeAdd(let r) = c, r.table == 10001, r.destination.isDefault {
                return .networkUnreachable
            }
            return nil
        }
        #expect(h.run("apply") == .failure)
        #expect(
            h.log.lines.contains(
                "error: ip route add default via 10.0.2.1 dev eth1 table 10001 proto eniroute: Network is unreachable (ENETUNREACH)"
            ))
        #expect(h.log.lines.last?.contains("1 failed") == true)
    }

    /// Every command applies through `ChangeGuard`, whatever kernel the environment makes: an
    /// eniroute-tagged rule at the kernel's own priority 32766 is stale to the planner, which
    /// deletes it; the guard refuses the batch, so nothing at all is applied and the run fails.
    @Test func aBatchTheGuardRefusesFailsTheRunAndNothingIsApplied() {
        let stale = RoutingPolicyRule(
            family: .inet, priority: 32766, from: IPPrefix("10.0.9.9/32"), table: 10009, proto: Ownership.routeProtocol)
        let refusal = "refused by the safety guard: deleting a rule at the kernel's priority 32766"
        for command in ["apply", "watch"] {
            let h = Harness()
            h.kernel.state.rules.append(stale)
            #expect(h.run(command, command == "watch" ? "--once" : "--log-level=notice") == .failure)
            #expect(h.kernel.applied.isEmpty, "\(command)")
            #expect(h.log.lines.contains { $0.contains(refusal) }, "\(command)")
            #expect(h.kernel.state.rules.contains(stale))
        }
    }

    @Test func planChangesNothingAndPrintsJSON() {
        let h = Harness()
        #expect(h.run("plan", "--json") == .success)
        #expect(h.kernel.applied.isEmpty)
        #expect(h.out.lines.count == 1)
        let json = h.out.lines[0]
        #expect(json.hasPrefix("{\"changes\":[{\"op\":\"linkSetUp\",\"command\":\"ip link set dev eth1 up\"}"))
        #expect(
            json.contains(
                "{\"mac\":\"02:00:00:00:02:0a\",\"interface\":\"eth1\",\"table\":10001,\"primary\":false,\"state\":\"managed\"}"))
        #expect(json.hasSuffix("\"pending\":[],\"warnings\":[]}"))
    }

    @Test func removeDeletesOnlyThatENIsObjects() {
        let h = Harness()
        #expect(h.run("apply") == .success)
        #expect(h.run("remove", "eth1") == .success)
        let s = h.kernel.state
        #expect(!s.rules.contains { $0.table == 10001 })
        #expect(!s.routes.contains { $0.table == 10001 })
        #expect(!s.addresses.contains { $0.interfaceIndex == 3 && $0.isOwned })
        #expect(s.rules.contains { $0.table == 10000 })
        #expect(s.rules.contains { $0.suppressInterfaceGroup == 10000 })
        #expect(s.links.first { $0.name == "eth1" }?.group == 0)
    }

    @Test func removeAllLeavesNothingOfEniroutes() {
        let h = Harness()
        #expect(h.run("apply") == .success)
        #expect(h.kernel.state.rules.contains { $0.isOwned })
        #expect(h.run("remove", "--all") == .success)
        let s = h.kernel.state
        #expect(!s.rules.contains { $0.isOwned } && !s.routes.contains { $0.isOwned })
        #expect(!s.addresses.contains { $0.isOwned } && s.links.allSatisfy { $0.group == 0 })
        #expect(h.log.lines.last?.hasPrefix("remove --all: ") == true && h.log.lines.last?.hasSuffix(" changes") == true)
        #expect(h.run("remove", "--all") == .success)
        #expect(h.log.lines.last == "remove --all: nothing to remove")
    }

    @Test func removeAfterTheInterfaceIsGone() {
        let h = Harness()
        #expect(h.run("apply") == .success)
        // The kernel deletes a gone link's addresses and routes; its rules stay behind.
        h.kernel.state.links.removeAll { $0.index == 3 }
        h.kernel.state.addresses.removeAll { $0.interfaceIndex == 3 }
        h.kernel.state.routes.removeAll { $0.outputInterface == 3 }
        #expect(h.run("remove", "eth1") == .success)
        #expect(!h.kernel.state.rules.contains { $0.table == 10001 })
        #expect(h.kernel.state.rules.contains { $0.table == 10000 })
    }

    /// An object that vanishes between the read and the delete is what `remove` wants: the kernel
    /// answers ENOENT (a rule), ESRCH (a route), ENODEV (a link) or EADDRNOTAVAIL (an address).
    @Test func removeTakesAnObjectThatVanishedMeanwhileAsRemoved() {
        let h = Harness()
        #expect(h.run("apply") == .success)
        // Another agent deletes each object just before eniroute's delete of it reaches the
        // kernel, which then answers as Linux does.
        let kernel = h.kernel
        kernel.failOn = { c in
            switch c {
            case .addressDelete(let a): kernel.state.addresses.removeAll { $0 == a }
            case .routeDelete(let r): kernel.state.routes.removeAll { $0 == r }
            case .ruleDelete(let r): kernel.state.rules.removeAll { $0 == r }
            default: break
            }
            return nil
        }
        let before = kernel.applied.count
        #expect(h.run("remove", "eth1") == .success)
        #expect(!h.log.lines.contains { $0.hasPrefix("error: ") }, "\(h.log.lines)")
        let removed = kernel.applied.dropFirst(before)
        #expect(removed.allSatisfy { if case .linkSetGroup = $0 { true } else { false } }, "every delete found it gone")
        #expect(!kernel.state.rules.contains { $0.table == 10001 })
        kernel.failOn = nil
        #expect(h.run("apply") == .success)
        h.kernel.failOn = { _ in .notPermitted }
        #expect(h.run("remove", "eth1") == .failure, "any other answer is a failure")
    }

    @Test func statusListsOwnedObjects() {
        let h = Harness()
        #expect(h.run("apply") == .success)
        h.kernel.state.links[2].mtu = 9001
        #expect(h.run("status") == .success)
        #expect(h.out.lines.contains("  eth1\t02:00:00:00:02:0a\tup\ttable 10001\tmtu 9001"))
        #expect(h.out.lines.contains("  eth0\t02:00:00:00:01:0a\tup\ttable 10000\tmtu -"), "not reported")
        #expect(h.out.lines.contains("  10002: from 10.0.2.10 lookup 10001"))
        #expect(h.out.lines.contains("  table 10001: default via 10.0.2.1 dev eth1"))
        #expect(h.run("status", "--json") == .success)
        #expect(h.out.lines.last?.hasPrefix("{\"interfaceGroup\":10000,\"interfaces\":[") == true)
        #expect(
            h.out.lines.last?.contains(
                "\"name\":\"eth1\",\"mac\":\"02:00:00:00:02:0a\",\"up\":true,\"table\":10001,\"mtu\":9001}") == true)
    }

    @Test func configurationFileAndOverrides() {
        var h = Harness()
        h.files = ["/etc/eniroute/eniroute.conf": "table-base = 20000\nrule-priority = 500\n"]
        #expect(h.run("apply") == .success)
        #expect(h.log.lines.contains("ip rule add from 10.0.2.10 lookup 20001 priority 502 proto eniroute"))
        var bad = Harness()
        bad.files = ["/etc/eniroute/eniroute.conf": "table-base = 20000\nfrobs = 1\n"]
        #expect(bad.run("apply") == .failure)
        #expect(bad.log.lines.first?.hasPrefix("error: configuration: /etc/eniroute/eniroute.conf:2: frobs: unknown key") == true)
        #expect(bad.kernel.applied.isEmpty)
        let missing = Harness()
        #expect(missing.run("apply", "--config", "/nope.conf") == .failure)
        #expect(missing.log.lines.first == "error: configuration: open /nope.conf: No such file or directory (ENOENT)")
    }

    @Test("an unreadable configuration file: exit 1, its errno named, nothing applied")
    func configurationUnreadable() {
        var h = Harness()
        h.unreadable = ["/etc/eniroute/eniroute.conf": .permissionDenied]
        #expect(h.run("apply") == .failure)
        #expect(h.log.lines.first == "error: configuration: read /etc/eniroute/eniroute.conf: Permission denied (EACCES)")
        #expect(h.kernel.applied.isEmpty)
    }
}
