import ENIRouteCore
import ENIRouteNetlink
import ENIRouteSystem
import ENIRouteTestSupport
import Testing

// Hand-written kernel replies for a socket whose port id is 4242 (0x1092), and the helpers the
// reader tests share.

let doneSeq1 = """
    14 00 00 00  // nlmsg_len 20
    03 00        // NLMSG_DONE
    02 00        // NLM_F_MULTI
    01 00 00 00  // seq 1
    92 10 00 00  // pid 4242
    00 00 00 00  // error 0
    """
let doneSeq2 = """
    14 00 00 00 03 00 02 00  // len 20, NLMSG_DONE, NLM_F_MULTI
    02 00 00 00              // seq 2
    92 10 00 00              // pid 4242
    00 00 00 00              // error 0
    """

let loLinkSeq1 = """
    3c 00 00 00  // nlmsg_len 60
    10 00        // RTM_NEWLINK
    02 00        // NLM_F_MULTI
    01 00 00 00  // seq 1
    92 10 00 00  // pid 4242
    00 00        // ifi_family, pad
    04 03        // ifi_type ARPHRD_LOOPBACK (772)
    01 00 00 00  // ifi_index 1
    08 00 00 00  // ifi_flags IFF_LOOPBACK (down)
    00 00 00 00  // ifi_change
    07 00 03 00 6c 6f 00 00              // IFLA_IFNAME "lo\\0" + 1 pad
    0a 00 01 00 00 00 00 00 00 00 00 00  // IFLA_ADDRESS 00:00:00:00:00:00 + 2 pad
    08 00 1b 00 00 00 00 00              // IFLA_GROUP 0
    """

func eth1Link(seq: UInt8, flags: UInt8 = 0x02) -> String {
    """
    58 00 00 00  // nlmsg_len 88
    10 00        // RTM_NEWLINK
    \(String(flags, radix: 16, uppercase: false).count == 1 ? "0" : "")\(String(flags, radix: 16)) 00  // flags
    \(seq < 16 ? "0" : "")\(String(seq, radix: 16)) 00 00 00  // seq
    92 10 00 00  // pid 4242
    00 00        // ifi_family, pad
    01 00        // ifi_type ARPHRD_ETHER
    03 00 00 00  // ifi_index 3
    03 10 01 00  // ifi_flags IFF_UP|IFF_BROADCAST|IFF_MULTICAST|IFF_LOWER_UP
    00 00 00 00  // ifi_change
    09 00 03 00 65 74 68 31 00 00 00 00  // IFLA_IFNAME "eth1\\0" + 3 pad
    08 00 04 00 dc 05 00 00              // IFLA_MTU 1500
    0a 00 01 00 0e 49 61 0f c3 11 00 00  // IFLA_ADDRESS 0e:49:61:0f:c3:11 + 2 pad
    08 00 1b 00 07 00 00 00              // IFLA_GROUP 7
    10 00 12 00                          // IFLA_LINKINFO, len 16
    09 00 01 00 76 65 74 68 00 00 00 00  //   IFLA_INFO_KIND "veth\\0" + 3 pad
    """
}

let eth1 = Link(index: 3, name: "eth1", mac: MACAddress("0e:49:61:0f:c3:11"), isUp: true, group: 7, kind: "veth", mtu: 1500)
let lo = Link(index: 1, name: "lo", mac: MACAddress("00:00:00:00:00:00"), isUp: false)

let ackSeq2 = """
    24 00 00 00  // nlmsg_len 36
    02 00 00 01  // NLMSG_ERROR, NLM_F_CAPPED
    02 00 00 00  // seq 2
    92 10 00 00  // pid 4242
    00 00 00 00  // error 0: ACK
    3c 00 00 00 20 00 05 06 02 00 00 00 00 00 00 00  // the request's header
    """

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        replacing(target, with: replacement, maxReplacements: 1)
    }
}

extension Result {
    var errorValue: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
