import ENIRouteCore
import ENIRouteNetlink
import ENIRouteTestSupport
import Testing

// The request fixtures are in Message*Fixtures.swift.

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
