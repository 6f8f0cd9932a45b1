import ENIRouteCore
import ENIRouteNetlink
import ENIRouteSystem
import ENIRouteTestSupport
import Testing

/// The in-memory kernel of the tests answers like Linux: one sequence of changes, run against
/// `InMemoryKernel` and against the real kernel in a private network namespace, must get the same
/// answer (done, or the same errno) at every step.
@Suite("InMemoryKernel conforms to the real kernel")
struct KernelConformanceTests {
    @Test("same answers for adds, duplicate adds, deletes of what is not there and missing links")
    func sameAnswers() throws {
        let netlink = try PrivateNamespace.netlink()
        let lo = try #require(try netlink.linkList().first { $0.name == "lo" })
        let memory = InMemoryKernel(ObservedState(links: [lo]))
        var ghostLink = lo
        ghostLink.index = 999
        let tag = Ownership.routeProtocol
        func address(_ text: String, _ length: UInt8, on link: Link = lo) -> InterfaceAddress {
            InterfaceAddress(
                prefix: IPPrefix(address: IPAddress(text)!, length: length), interfaceIndex: link.index, noDAD: true, proto: tag)
        }
        func route(_ destination: String, on link: Link = lo) -> Route {
            Route(destination: IPPrefix(destination)!, table: 10001, outputInterface: link.index, scope: .link, proto: tag)
        }
        let rule = RoutingPolicyRule(family: .inet, priority: 10002, from: IPPrefix("10.99.0.5/32"), table: 10001, proto: tag)
        let rule6 = RoutingPolicyRule(
            family: .inet6, priority: 10002, from: IPPrefix("2001:db8::5/128"), table: 10001, proto: tag)
        let steps: [(String, Change)] = [
            ("link up", .linkSetUp(lo)),
            ("address add", .addressAdd(address("10.99.0.5", 24))),
            ("the same address again", .addressAdd(address("10.99.0.5", 24))),
            ("the same IPv4 address in another prefix length", .addressAdd(address("10.99.0.5", 25))),
            ("address delete, not there", .addressDelete(address("10.99.0.6", 24))),
            ("address delete, wrong prefix length", .addressDelete(address("10.99.0.5", 16))),
            ("address delete", .addressDelete(address("10.99.0.5", 25))),
            ("address add on a missing link", .addressAdd(address("10.99.0.7", 24, on: ghostLink))),
            ("IPv6 address add", .addressAdd(address("2001:db8::5", 64))),
            ("the same IPv6 address again", .addressAdd(address("2001:db8::5", 64))),
            ("the same IPv6 address in another prefix length", .addressAdd(address("2001:db8::5", 80))),
            ("IPv6 address delete, not there", .addressDelete(address("2001:db8::6", 64))),
            ("IPv6 address delete", .addressDelete(address("2001:db8::5", 64))),
            ("route add", .routeAdd(route("10.98.0.0/24"))),
            ("the same route again", .routeAdd(route("10.98.0.0/24"))),
            ("route replace", .routeReplace(route("10.98.0.0/24"))),
            ("route delete", .routeDelete(route("10.98.0.0/24"))),
            ("route delete, not there", .routeDelete(route("10.98.0.0/24"))),
            ("IPv6 route delete, not there", .routeDelete(route("2001:db8:1::/64"))),
            ("route add on a missing link", .routeAdd(route("10.97.0.0/24", on: ghostLink))),
            ("rule add", .ruleAdd(rule)),
            ("the same rule again", .ruleAdd(rule)),
            ("rule delete", .ruleDelete(rule)),
            ("rule delete, not there", .ruleDelete(rule)),
            ("IPv6 rule add", .ruleAdd(rule6)),
            ("the same IPv6 rule again", .ruleAdd(rule6)),
            ("IPv6 rule delete", .ruleDelete(rule6)),
            ("IPv6 rule delete, not there", .ruleDelete(rule6)),
            ("link up, missing link", .linkSetUp(ghostLink)),
            ("link group, missing link", .linkSetGroup(ghostLink, group: 10000)),
        ]
        for (what, change) in steps {
            let real: Errno? =
                switch netlink.apply([change])[0] {
                case .success: nil
                case .failure(let e): e.errno ?? Errno(-1)
                }
            let simulated = memory.answer(change)
            #expect(
                simulated == real,
                "\(what) (\(change.ipCommand(names: [:]))): real kernel \(answer(real)), in memory \(answer(simulated))")
        }
    }

    private func answer(_ e: Errno?) -> String { e.map(\.description) ?? "done" }
}
