import ENIRouteCore
import ENIRouteTestSupport
import Testing

// Regression tests for planner bugs found while writing the core tests (each once failed).

@Suite("Planner regressions")
struct PlannerRegressionTests {
    /// With primary-rules off the primary gets no table and is not put in the interface group, so
    /// `lookup main suppress_ifgroup G` does not suppress main's default route through eth0: a reply
    /// from B's address matches that rule first and leaves through eth0, where the VPC's source
    /// check drops it. B's own rule (priority 10002) is never reached.
    @Test func primaryRulesOffStillPutsThePrimaryInTheGroup() throws {
        var config = Configuration()
        config.primaryRules = false
        let p = try plan([World.a, World.b], World.fresh, config)
        #expect(commands(p).contains("ip rule add from all lookup main suppress_ifgroup 10000 priority 10000 proto eniroute"))
        #expect(commands(p).contains("ip rule add from 10.0.1.20 lookup 10001 priority 10002 proto eniroute"))
        #expect(commands(p).contains("ip link set dev eth0 group 10000"))
    }

    /// An ENI whose MAC matches several interfaces is reported "left alone", but in full scope its
    /// link index is not protected, so eniroute's objects of an earlier run are deleted.
    @Test func ambiguousENIKeepsItsObjects() throws {
        var observed = try World.afterApply([World.a, World.b])
        observed.links.append(Link(index: 12, name: "eth9", mac: World.b.mac, isUp: true))
        let p = try plan([World.a, World.b], observed)
        #expect(p.enis.map(\.state.rawValue) == ["managed", "ambiguous"])
        #expect(!p.changes.contains { touches($0, link: 3, table: 10001) }, "\(commands(p))")
    }

    /// `PlanScope.enis(_:)` names the ENIs in scope, but the planner never reads that set: every
    /// ENI in the facts is planned. Only a caller that also trims the facts gets a scoped plan.
    @Test func enisScopeLimitsThePlanToTheNamedENIs() throws {
        let p = try plan([World.a, World.b, World.c], World.fresh, scope: .enis([World.b.mac]))
        #expect(p.changes.contains { touches($0, link: 3, table: 10001) })
        // The primary joins the interface group in every scope (else the suppress rule would send
        // B's replies out through main's default route on eth0); nothing else of A's or C's is touched.
        let primaryJoins = Change.linkSetGroup(World.fresh.links.first { $0.index == 2 }!, group: 10000)
        #expect(p.changes.contains(primaryJoins))
        #expect(
            !p.changes.contains {
                $0 != primaryJoins && (touches($0, link: 2, table: 10000) || touches($0, link: 4, table: 10002))
            },
            "\(commands(p))"
        )
    }

    /// The issue: "Never derive a table for a non-primary ENI from a device 0/card 0 reading". The
    /// planner only catches it as a collision with the primary's table when the primary is in the
    /// same facts with a table. In `eniroute apply eth1` right after a hot attach (only eth1
    /// fetched, device-number still 0) the fresh ENI takes table 10000: its routes replace the
    /// primary's default route and the primary's other routes and rules in 10000 are deleted.
    @Test func nonPrimaryReadingDevice0NeverGetsATable() throws {
        let before = try World.afterApply([World.a])
        var fresh = World.b
        fresh.deviceNumber = 0
        #expect(fresh.notReadyReason != nil)
        let scoped = try? plan([fresh], before, scope: .enis([fresh.mac]))
        #expect(scoped == nil || !scoped!.changes.contains { touches($0, table: 10000) }, "\(scoped.map(commands) ?? [])")
        // Same with primary-rules off in full scope: no collision with the primary, table 10000 again.
        var config = Configuration()
        config.primaryRules = false
        let all = try? plan([World.a, fresh], World.fresh, config)
        #expect(all == nil || !all!.changes.contains { touches($0, table: 10000) }, "\(all.map(commands) ?? [])")
    }

    /// IMDS listing one address on two ENIs (the NIC2_MD_IPV4_IPV6_MULTI_IP fragment reuses NIC1's
    /// IPv6 addresses) gives two `from <addr>` rules to different tables. `FactsError.duplicate` is
    /// documented as "the same MAC twice, or one address on two ENIs", but only MACs are checked.
    @Test func oneAddressOnTwoENIsIsRefused() throws {
        let json = try Fixtures.load("ci-nic-fragments-2018-09-24")
        let fragments = try Fixtures.object(json["fragments"], "fragments")
        var enis: [ENIFacts] = []
        var links: [Link] = []
        for (i, name) in ["NIC1_MD_IPV4_IPV6_MULTI_IP", "NIC2_MD_IPV4_IPV6_MULTI_IP"].enumerated() {
            let entries = try Fixtures.object(fragments[name], name)
            let m = try #require(MACAddress(try Fixtures.string(entries["mac"], "mac")))
            // Underscore keys normalised to hyphens, as real IMDS names them.
            enis.append(try ENIFacts.parse(mac: m, isPrimary: i == 0, values: Fixtures.bodies(entries, hyphenateKeys: true)))
            links.append(Link(index: Int32(2 + i), name: "eth\(i)", mac: m, isUp: true))
        }
        let p = try? plan(enis, ObservedState(links: links))
        let rules = p?.changes.compactMap { c -> String? in
            if case .ruleAdd(let r) = c, r.from == prefix("2600:1f16:292:100:c187:593c:4349:136") { return r.description }
            return nil
        }
        let refused = p == nil
        #expect(refused, "rules for one address: \(rules ?? [])")
    }

    /// `eniroute remove eth1` after `ip link set eth1 down`: the kernel flushed eth1's routes, its
    /// addresses stay. The table is found neither from routes (none left) nor as orphaned (its rules'
    /// addresses are still local), so the rules stay behind until a second `remove`.
    @Test func removalOfADownLinkRemovesItsRules() throws {
        var observed = try World.afterApply()
        observed.links[2].isUp = false
        observed.routes.removeAll { $0.outputInterface == 3 }
        let eth1 = observed.links[2]
        #expect(eth1.index == 3)
        let p = Planner.removal(link: eth1, observed: observed, configuration: Configuration())
        #expect(
            p.changes.contains(
                .addressDelete(
                    InterfaceAddress(
                        prefix: IPPrefix(address: ip("10.0.1.20"), length: 24), interfaceIndex: 3, noPrefixRoute: true,
                        proto: Ownership.addressProtocol))))
        #expect(p.changes.contains(.ruleDelete(ownRule("10.0.1.20", table: 10001))), "\(commands(p))")
    }

    /// `removal` collects the tables of every tagged route through the link without checking the
    /// table number, so a tagged route in main through that link takes the whole main table's
    /// tagged routes with it. The issue: never touch the main table.
    @Test func removalNeverTouchesTheMainTable() throws {
        var observed = try World.afterApply()
        observed.routes.append(
            Route(
                destination: prefix("10.9.0.0/16"), table: 254, outputInterface: 3, gateway: ip("10.0.1.1"),
                proto: Ownership.routeProtocol))
        observed.routes.append(
            Route(
                destination: prefix("10.8.0.0/16"), table: 254, outputInterface: 2, gateway: ip("10.0.0.1"),
                proto: Ownership.routeProtocol))
        let eth1 = observed.links[2]
        let p = Planner.removal(link: eth1, observed: observed, configuration: Configuration())
        #expect(!p.changes.contains { if case .routeDelete(let r) = $0 { r.table < 256 } else { false } }, "\(commands(p))")
    }

    /// IPv4 addresses or prefixes without `subnet-ipv4-cidr-block` are "not ready"; IPv6 prefixes
    /// without `subnet-ipv6-cidr-blocks` are ready, and the plan then has rules for them but no
    /// IPv6 route in the table (no on-link route, no default via fe80:ec2::1).
    @Test func ipv6PrefixWithoutSubnetIsNotReady() throws {
        let f = try parse(
            "02:00:00:00:00:02",
            [
                "device-number": "2", "subnet-ipv4-cidr-block": "10.0.0.0/24", "local-ipv4s": "10.0.0.10",
                "ipv6-prefix": "fd0a:ffff::/80",
            ])
        #expect(f.notReadyReason == "subnet-ipv6-cidr-blocks not listed yet")
    }
}

extension PlannerRegressionTests {
    /// rule-priority accepts up to 32000 and ENI rules sit at rule-priority + 1 + 100·card + device,
    /// so card 8 gives 32802: after `from all lookup main` (32766), where the ENI's rule no longer
    /// decides anything main can route.
    @Test func eniRulesStayBeforeTheMainRule() throws {
        var config = Configuration()
        config.rulePriority = 32000
        let e = eni("02:00:00:00:00:0a", device: 1, card: 8, subnet: "10.0.1.0/24", v4: ["10.0.1.5"])
        let p = try? plan([e], ObservedState(links: [Link(index: 2, name: "eth1", mac: e.mac, isUp: true)]), config)
        let priorities = p?.changes.compactMap { c -> UInt32? in if case .ruleAdd(let r) = c { r.priority } else { nil } } ?? []
        #expect(priorities.allSatisfy { $0 < 32766 }, "\(priorities)")
    }
}

extension PlannerRegressionTests {
    /// A scoped run sees only its own ENI in the facts: when the kernel shows eniroute's routes of
    /// the table it derived going through another interface, two ENIs claim one table and the plan
    /// is refused rather than stealing the table.
    @Test func scopedRunRefusesATableAnotherInterfaceHolds() throws {
        let before = try World.afterApply([World.a, World.b])
        var d = World.d
        d.deviceNumber = World.b.deviceNumber
        #expect(throws: FactsError.tableCollision(table: 10001, macs: [World.b.mac, d.mac])) {
            try plan([d], before, scope: .enis([d.mac]))
        }
        // The same ENI re-applied in scope is fine: its own routes are in its table.
        #expect(try plan([World.b], before, scope: .enis([World.b.mac])).changes.isEmpty)
    }
}

extension PlannerRegressionTests {
    /// The watcher's view: an ENI an administrator took down keeps its rules and stays down; `apply`
    /// brings it up and restores its routes; a newly attached ENI that is down is brought up by both.
    @Test func downENIIsLeftAloneOnlyWhenAsked() throws {
        var observed = try World.afterApply([World.a, World.b])
        let eth1 = try #require(observed.links.firstIndex { $0.index == 3 })
        observed.links[eth1].isUp = false
        observed.routes.removeAll { $0.outputInterface == 3 }  // the kernel flushes a down link's routes
        let watch = try Planner.plan(
            facts: InstanceFacts(primaryMAC: World.a.mac, enis: [World.a, World.b]), observed: observed,
            configuration: Configuration(), scope: .all(pending: []), options: PlanOptions(leaveDownENIsAlone: true))
        #expect(watch.changes.isEmpty, "\(commands(watch))")
        #expect(watch.enis.map(\.state.rawValue) == ["managed", "down"])
        let apply = try plan([World.a, World.b], observed)
        #expect(commands(apply).first == "ip link set dev eth1 up")
        #expect(apply.changes.contains { if case .routeAdd(let r) = $0 { r.outputInterface == 3 } else { false } })
        // A new ENI (not yet in the group) is configured even when down.
        let fresh = try Planner.plan(
            facts: InstanceFacts(primaryMAC: World.a.mac, enis: [World.a, World.b]), observed: World.fresh,
            configuration: Configuration(), scope: .all(pending: []), options: PlanOptions(leaveDownENIsAlone: true))
        #expect(commands(fresh).contains("ip link set dev eth1 up"))
    }
}

extension PlannerRegressionTests {
    /// Found by integration scenario S9: eniroute's 10.0.2.10/24 is the kernel's primary address of
    /// its subnet on eth1 and an administrator's 10.0.2.77/24 is its secondary. With
    /// `promote_secondaries` off, deleting the primary deletes the secondary too: eniroute keeps its
    /// address (and says why) rather than take one it did not create.
    @Test func primaryAddressWithForeignSecondariesIsKept() throws {
        var observed = try World.afterApply([World.a, World.b])
        let eth1 = observed.links[2]
        let ours = try #require(observed.addresses.first { $0.interfaceIndex == eth1.index && $0.isOwned && $0.family == .inet })
        var foreign = InterfaceAddress(
            prefix: IPPrefix(address: ip("10.0.1.77"), length: 24), interfaceIndex: eth1.index, proto: 0)
        foreign.isSecondary = true
        observed.addresses.append(foreign)
        let p = Planner.removal(link: eth1, observed: observed, configuration: Configuration())
        #expect(!p.changes.contains(.addressDelete(ours)))
        #expect(p.warnings.contains { $0.contains("deleting it would also delete 10.0.1.77/24") })
        // With promote_secondaries on, the kernel promotes the foreign secondary: eniroute's goes.
        observed.links[2].promoteSecondaries = true
        #expect(
            Planner.removal(link: observed.links[2], observed: observed, configuration: Configuration()).changes.contains(
                .addressDelete(ours)))
        observed.links[2].promoteSecondaries = false
        // Without the foreign secondary it goes, secondaries of eniroute's own first.
        observed.addresses.removeLast()
        let q = Planner.removal(link: eth1, observed: observed, configuration: Configuration())
        #expect(q.changes.contains(.addressDelete(ours)))
        #expect(q.warnings.isEmpty)
    }
}

extension PlannerRegressionTests {
    /// Found by the VM test (`systemctl restart systemd-networkd`): networkd drops the primary's DHCP
    /// address while it reconfigures the link, and the watcher re-added it itself (tagged, no
    /// lifetime) before the lease came back. The primary ENI's primary IPv4 is DHCP's: never added,
    /// never deleted, and the table's IPv4 routes (which use it as source) wait for it.
    @Test func primaryDHCPAddressIsNeverEniroutes() throws {
        var observed = try World.afterApply([World.a, World.b])
        // The kernel flushes the routes that used the address as source when it goes.
        observed.addresses.removeAll { $0.interfaceIndex == 2 && $0.address == ip("10.0.0.10") }
        observed.routes.removeAll { $0.preferredSource == ip("10.0.0.10") || ($0.table == 10000 && $0.family == .inet) }
        let window = try plan([World.a, World.b], observed)
        #expect(!commands(window).contains { $0.contains("10.0.0.10/24") }, "\(commands(window))")
        #expect(
            !window.changes.contains { if case .routeAdd(let r) = $0 { r.table == 10000 && r.family == .inet } else { false } })
        #expect(window.warnings.contains { $0.contains("its primary address 10.0.0.10 is not configured") })
        #expect(!window.changes.contains { if case .ruleDelete = $0 { true } else { false } })
        // DHCP puts it back: the routes return.
        observed.addresses.append(
            InterfaceAddress(prefix: IPPrefix(address: ip("10.0.0.10"), length: 24), interfaceIndex: 2, proto: 0))
        let back = try plan([World.a, World.b], observed)
        #expect(commands(back).contains("ip route add 10.0.0.0/24 dev eth0 src 10.0.0.10 scope link table 10000 proto eniroute"))
        #expect(back.warnings.isEmpty)
        // One that an older eniroute tagged is left alone too (deleting it would cut the primary off).
        var tagged = observed
        tagged.addresses.removeLast()
        tagged.addresses.append(
            InterfaceAddress(
                prefix: IPPrefix(address: ip("10.0.0.10"), length: 24), interfaceIndex: 2, noPrefixRoute: true,
                proto: Ownership.addressProtocol))
        #expect(!(try plan([World.a, World.b], tagged)).changes.contains { if case .addressDelete = $0 { true } else { false } })
    }
}

extension PlannerRegressionTests {
    /// Found by the Debian 12 and 13 VM tests (`netplan apply`, `networkctl reconfigure`, a networkd
    /// restart): while networkd re-adds the primary's DHCP address, the kernel flushes only the
    /// table-10000 route that used it as source; the watcher deleted the default route of table
    /// 10000 too, and the primary's secondary IPs, whose rules lead there, lost their replies
    /// (1-2 packets per event) until DHCP was back. eniroute's IPv4 routes in that table are left
    /// as they are while the address is missing.
    @Test func defaultRouteOfThePrimaryTableStaysWhileDHCPsAddressIsAway() throws {
        // World.a: the primary, DHCP's 10.0.0.10 and the secondary IP 10.0.0.11.
        var observed = try World.afterApply([World.a, World.b])
        observed.addresses.removeAll { $0.interfaceIndex == 2 && $0.address == ip("10.0.0.10") }
        observed.routes.removeAll { $0.preferredSource == ip("10.0.0.10") }
        #expect(observed.routes.contains { $0.table == 10000 && $0.family == .inet && $0.destination == .any(.inet) })
        let window = try plan([World.a, World.b], observed)
        #expect(
            !window.changes.contains { if case .routeDelete(let r) = $0 { r.table == 10000 } else { false } },
            "\(commands(window))")
        #expect(!commands(window).contains { $0.contains("10.0.0.10") }, "\(commands(window))")
        // The secondary IP and its rule stay.
        #expect(!window.changes.contains { if case .addressDelete = $0 { true } else { false } })
        #expect(!window.changes.contains { if case .ruleDelete = $0 { true } else { false } })
    }
}
