import CRTNetlink
import ENIRouteCore
import ENIRouteNetlink
import ENIRouteTestSupport

/// A `NetlinkSocket` that records what is sent and replays scripted datagrams; with `autoAck`
/// it answers every sent message with an ACK itself.
final class FakeSocket: NetlinkSocket {
    let localPortID: UInt32
    private(set) var sent: [[UInt8]] = []
    var replies: [[UInt8]]
    var autoAck = false

    init(port: UInt32 = 4242, replies: [[UInt8]] = []) {
        localPortID = port
        self.replies = replies
    }

    func send(_ datagram: [UInt8]) throws(NetlinkError) {
        sent.append(datagram)
        guard autoAck else { return }
        var reply: [UInt8] = []
        for m in try NetlinkMessageReader.messages(in: datagram) {
            // NLMSG_ERROR (2), NLM_F_CAPPED, the request's seq, this port; errno 0 then the request header.
            reply += le32(36) + [2, 0, 0, 1] + le32(m.sequence) + le32(localPortID) + le32(0)
            reply += le32(UInt32(16 + m.payload.count)) + le16(m.type) + le16(m.flags) + le32(m.sequence) + le32(0)
        }
        replies.append(reply)
    }

    func receive(timeoutMilliseconds: Int32) throws(NetlinkError) -> [UInt8] {
        guard !replies.isEmpty else { throw .timeout(operation: "", milliseconds: timeoutMilliseconds) }
        return replies.removeFirst()
    }
}

func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }

func ip(_ s: String) -> IPAddress { IPAddress(s)! }
/// A prefix from text; host bits must be clear (use `IPPrefix(address:length:)` for an interface address).
func prefix(_ s: String) -> IPPrefix { IPPrefix(s)! }

// Objects shared by the fixtures.
let ruleV4 = RoutingPolicyRule(
    family: .inet, priority: 10001, from: prefix("10.0.2.10/32"), table: 10001, proto: Ownership.routeProtocol)
let ruleSuppressV6 = RoutingPolicyRule(
    family: .inet6, priority: 1000, table: 254, suppressInterfaceGroup: 7, proto: Ownership.routeProtocol)
let ruleV6 = RoutingPolicyRule(
    family: .inet6, priority: 10001, from: prefix("2001:db8::5/128"), table: 10001, proto: Ownership.routeProtocol)
let ruleWithTo = RoutingPolicyRule(
    family: .inet, priority: 500, from: prefix("10.0.0.0/8"), to: prefix("192.168.0.0/16"), table: 100, proto: 0)
let defaultRouteV4 = Route(
    destination: .any(.inet), table: 10001, outputInterface: 3, gateway: ip("10.0.2.1"), proto: Ownership.routeProtocol)
let subnetRouteV4 = Route(
    destination: prefix("10.0.2.0/24"), table: 10001, outputInterface: 3, preferredSource: ip("10.0.2.10"), scope: .link,
    proto: Ownership.routeProtocol)
let defaultRouteV6 = Route(
    destination: .any(.inet6), table: 10001, outputInterface: 3, gateway: ip("fe80:ec2::1"), proto: Ownership.routeProtocol)
let onLinkRouteV6 = Route(
    destination: prefix("2600:1f16:67f:f201::/64"), table: 200, outputInterface: 3, proto: Ownership.routeProtocol)
let addressV4 = InterfaceAddress(
    prefix: IPPrefix(address: ip("10.0.2.10"), length: 24), interfaceIndex: 3, noPrefixRoute: true, proto: 0xEE)
let addressV6 = InterfaceAddress(
    prefix: prefix("2001:db8::5/128"), interfaceIndex: 1, noPrefixRoute: true, noDAD: true, proto: 0xEE)
let plainAddressV4 = InterfaceAddress(prefix: IPPrefix(address: ip("10.0.3.7"), length: 24), interfaceIndex: 4, proto: 0)

/// `ip link add veth0 type veth peer name veth1` (`IFLA_INFO_DATA` holds `VETH_INFO_PEER` = 1 with
/// the peer's own `ifinfomsg` and name): a link pair for tests in a private namespace.
func vethPairCreate() -> NetlinkRouteClient.Request {
    NetlinkRouteClient.Request(operation: "link add veth0 type veth peer name veth1") { sequence in
        var w = NetlinkMessageWriter(type: UInt16(RTM_NEWLINK), flags: 0x605, sequence: sequence)
        w.appendHeader(ifinfomsg())
        w.appendAttribute(type: UInt16(IFLA_IFNAME), string: "veth0")
        w.appendNested(type: UInt16(IFLA_LINKINFO)) { info in
            info.appendAttribute(type: UInt16(IFLA_INFO_KIND), string: "veth")
            info.appendNested(type: UInt16(IFLA_INFO_DATA)) { data in
                data.appendNested(type: 1) { peer in
                    peer.appendHeader(ifinfomsg())
                    peer.appendAttribute(type: UInt16(IFLA_IFNAME), string: "veth1")
                }
            }
        }
        return w.finish()
    }
}
