import CRTNetlink
import Glibc

/// Kernel constants from the uapi headers, converted once to the widths the wire format uses.
enum UAPI {
    // <linux/netlink.h>: message types and flags.
    static let noop = UInt16(NLMSG_NOOP)
    static let error = UInt16(NLMSG_ERROR)
    static let done = UInt16(NLMSG_DONE)
    static let overrun = UInt16(NLMSG_OVERRUN)
    static let fRequest = UInt16(NLM_F_REQUEST)
    static let fAck = UInt16(NLM_F_ACK)
    static let fDumpIntr = UInt16(NLM_F_DUMP_INTR)
    static let fDump = UInt16(NLM_F_DUMP)
    static let fReplace = UInt16(NLM_F_REPLACE)
    static let fExcl = UInt16(NLM_F_EXCL)
    static let fCreate = UInt16(NLM_F_CREATE)
    static let fCapped = UInt16(NLM_F_CAPPED)
    static let fAckTLVs = UInt16(NLM_F_ACK_TLVS)
    static let extAckMsg = UInt16(NLMSGERR_ATTR_MSG.rawValue)
    static let solNetlink = Int32(SOL_NETLINK)
    static let optExtAck = Int32(NETLINK_EXT_ACK)
    static let optCapAck = Int32(NETLINK_CAP_ACK)
    static let optAddMembership = Int32(NETLINK_ADD_MEMBERSHIP)
    static let nlaTypeMask = ~(UInt16(NLA_F_NESTED) | UInt16(NLA_F_NET_BYTEORDER))
    static let nlaFNested = UInt16(NLA_F_NESTED)

    // <linux/rtnetlink.h>: message types.
    static let newLink = UInt16(RTM_NEWLINK)
    static let getLink = UInt16(RTM_GETLINK)
    static let newAddr = UInt16(RTM_NEWADDR)
    static let delAddr = UInt16(RTM_DELADDR)
    static let getAddr = UInt16(RTM_GETADDR)
    static let newRoute = UInt16(RTM_NEWROUTE)
    static let delRoute = UInt16(RTM_DELROUTE)
    static let getRoute = UInt16(RTM_GETROUTE)
    static let newRule = UInt16(RTM_NEWRULE)
    static let delRule = UInt16(RTM_DELRULE)
    static let getRule = UInt16(RTM_GETRULE)

    // Routes.
    static let rtaDst = UInt16(RTA_DST.rawValue)
    static let rtaOif = UInt16(RTA_OIF.rawValue)
    static let rtaGateway = UInt16(RTA_GATEWAY.rawValue)
    static let rtaPriority = UInt16(RTA_PRIORITY.rawValue)
    static let rtaPrefsrc = UInt16(RTA_PREFSRC.rawValue)
    static let rtaTable = UInt16(RTA_TABLE.rawValue)
    static let tableUnspec = UInt8(RT_TABLE_UNSPEC.rawValue)
    static let scopeNowhere = UInt8(RT_SCOPE_NOWHERE.rawValue)
    static let rtmFCloned = UInt32(RTM_F_CLONED)

    // Rules (<linux/fib_rules.h>).
    static let fraDst = UInt16(FRA_DST)
    static let fraSrc = UInt16(FRA_SRC)
    static let fraIifname = UInt16(FRA_IIFNAME)
    static let fraPriority = UInt16(FRA_PRIORITY)
    static let fraFwmark = UInt16(FRA_FWMARK)
    static let fraFlow = UInt16(FRA_FLOW)
    static let fraTunID = UInt16(FRA_TUN_ID)
    static let fraSuppressIfgroup = UInt16(FRA_SUPPRESS_IFGROUP)
    static let fraSuppressPrefixlen = UInt16(FRA_SUPPRESS_PREFIXLEN)
    static let fraTable = UInt16(FRA_TABLE)
    static let fraFwmask = UInt16(FRA_FWMASK)
    static let fraOifname = UInt16(FRA_OIFNAME)
    static let fraL3mdev = UInt16(FRA_L3MDEV)
    static let fraUIDRange = UInt16(FRA_UID_RANGE)
    static let fraProtocol = UInt16(FRA_PROTOCOL)
    static let fraIPProto = UInt16(FRA_IP_PROTO)
    static let fraSportRange = UInt16(FRA_SPORT_RANGE)
    static let fraDportRange = UInt16(FRA_DPORT_RANGE)
    static let fibRuleInvert = UInt32(FIB_RULE_INVERT)

    // Addresses (<linux/if_addr.h>).
    static let ifaAddress = UInt16(IFA_ADDRESS)
    static let ifaLocal = UInt16(IFA_LOCAL)
    static let ifaFlags = UInt16(IFA_FLAGS)
    static let ifaProto = UInt16(IFA_PROTO)
    static let ifaFNoDAD = UInt32(IFA_F_NODAD)
    static let ifaFSecondary = UInt32(IFA_F_SECONDARY)
    static let ifaFNoPrefixRoute = UInt32(IFA_F_NOPREFIXROUTE)

    // Links (<linux/if_link.h>, <linux/if.h>).
    static let iflaAddress = UInt16(IFLA_ADDRESS)
    static let iflaIfname = UInt16(IFLA_IFNAME)
    static let iflaLinkinfo = UInt16(IFLA_LINKINFO)
    static let iflaGroup = UInt16(IFLA_GROUP)
    static let iflaMTU = UInt16(IFLA_MTU)
    static let iflaInfoKind = UInt16(IFLA_INFO_KIND)
    static let iflaAfSpec = UInt16(IFLA_AF_SPEC)
    static let iflaInetConf = UInt16(IFLA_INET_CONF)
    /// `IPV4_DEVCONF_PROMOTE_SECONDARIES` (20, <linux/ip.h>) as an index into `IFLA_INET_CONF`,
    /// which holds devconf value N at index N − 1. <linux/ip.h> is not imported: its `struct iphdr`
    /// clashes with Glibc's.
    static let inetConfPromoteSecondariesIndex = 19
    static let iffUp = UInt32(IFF_UP.rawValue)
}
