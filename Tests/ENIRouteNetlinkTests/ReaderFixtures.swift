import ENIRouteCore
import ENIRouteNetlink
import ENIRouteSystem
import ENIRouteTestSupport
import Testing

// Hand-written kernel replies for a socket whose port id is 4242 (0x1092), and the helpers the
// reader tests share.

/// NLMSG_DONE (error 0) ending the dump with `sequence`.
func done(sequence: UInt32, _ flags: MessageFlags = .multi) -> String {
    messageHeader(length: 20, .done, flags, sequence: sequence, port: 4242) + "00 00 00 00  // error 0\n"
}

let doneSeq1 = done(sequence: 1)
let doneSeq2 = done(sequence: 2)

/// `lo` (down, no MAC) in a link dump.
func loLink(sequence: UInt32) -> String {
    messageHeader(length: 60, .newLink, .multi, sequence: sequence, port: 4242) + """
        00 00        // ifi_family, pad
        04 03        // ifi_type ARPHRD_LOOPBACK (772)
        01 00 00 00  // ifi_index 1
        08 00 00 00  // ifi_flags IFF_LOOPBACK (down)
        00 00 00 00  // ifi_change
        07 00 03 00 6c 6f 00 00              // IFLA_IFNAME "lo\\0" + 1 pad
        0a 00 01 00 00 00 00 00 00 00 00 00  // IFLA_ADDRESS 00:00:00:00:00:00 + 2 pad
        08 00 1b 00 00 00 00 00              // IFLA_GROUP 0
        """
}

let loLinkSeq1 = loLink(sequence: 1)

/// `eth1` (up, a veth in group 7) in a link dump.
func eth1Link(seq: UInt32, flags: MessageFlags = .multi) -> String {
    messageHeader(length: 88, .newLink, flags, sequence: seq, port: 4242) + """
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
