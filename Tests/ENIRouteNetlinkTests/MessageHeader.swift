// The 16-byte nlmsghdr (<linux/netlink.h>) every fixture starts with, written out as annotated hex
// from its fields, so that a fixture states its header in one line and spells out only its payload.

/// The nlmsg_type values the fixtures use (<linux/netlink.h>, <linux/rtnetlink.h>): NLMSG_DONE,
/// RTM_NEWLINK, RTM_GETLINK, RTM_{NEW,DEL,GET}ADDR, RTM_{NEW,DEL,GET}ROUTE, RTM_{NEW,DEL,GET}RULE.
enum MessageType: UInt16 {
    case done = 3
    case newLink = 16, getLink = 18
    case newAddress = 20, deleteAddress = 21, getAddress = 22
    case newRoute = 24, deleteRoute = 25, getRoute = 26
    case newRule = 32, deleteRule = 33, getRule = 34
}

/// The nlmsg_flags combinations the fixtures use. Replies: a part of a dump, NLM_F_MULTI (0x2),
/// and one that changed while it was read, NLM_F_MULTI|NLM_F_DUMP_INTR (0x12). Requests, all with
/// NLM_F_REQUEST (0x1): a change, NLM_F_ACK (0x5); a dump, NLM_F_DUMP (0x301); `replace`,
/// NLM_F_ACK|NLM_F_REPLACE|NLM_F_CREATE (0x505); `add`, NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE (0x605).
enum MessageFlags: UInt16 {
    case multi = 0x002, dumpInterrupted = 0x012
    case ack = 0x005, dump = 0x301, replace = 0x505, create = 0x605
}

/// The annotated hex of an nlmsghdr, one field a line, ending in a newline: a request's (port 0:
/// the kernel fills in the sender) or a reply to the test sockets' port 4242.
func messageHeader(length: UInt32, _ type: MessageType, _ flags: MessageFlags, sequence: UInt32, port: UInt32 = 0)
    -> String
{
    let fields: [(bytes: [UInt8], note: String)] = [
        (le32(length), "nlmsg_len \(length)"),
        (le16(type.rawValue), "nlmsg_type \(type) (\(type.rawValue))"),
        (le16(flags.rawValue), "nlmsg_flags \(flags) (0x\(String(flags.rawValue, radix: 16)))"),
        (le32(sequence), "nlmsg_seq \(sequence)"),
        (le32(port), "nlmsg_pid \(port)"),
    ]
    return fields.map { field in
        let bytes = field.bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
        return bytes + String(repeating: " ", count: 13 - bytes.count) + "// " + field.note + "\n"
    }.joined()
}
