/// Which links can be ENIs: one with a hardware address that is not all zeros and no link kind
/// (`IFLA_INFO_KIND`: the ENA, ixgbevf and Xen netfront drivers report none, while bridges, VLANs,
/// bonds, macvlans and tunnels do, often with an ENI's MAC).
///
/// The namespace test harness stands ENIs in with veth pairs. Only a build compiled with
/// `-DENIROUTE_ACCEPT_VETH` (the test variant the Makefile builds for the scenarios, the fault
/// matrix, the demo and the benchmark) accepts veth links; the shipped binary never does, so a
/// container's veth that happens to carry an ENI's MAC is never configured as one.
public struct ENILinkPolicy: Sendable, Equatable {
    /// Whether a `veth` link can be an ENI (test builds only).
    public var acceptsVeth: Bool

    /// Creates a policy; production code uses `ENILinkPolicy.build`.
    public init(acceptsVeth: Bool) { self.acceptsVeth = acceptsVeth }

    /// The policy this binary was compiled with: veth links are accepted only when the
    /// `ENIROUTE_ACCEPT_VETH` compilation condition is set.
    public static let build: ENILinkPolicy = {
        #if ENIROUTE_ACCEPT_VETH
            ENILinkPolicy(acceptsVeth: true)
        #else
            ENILinkPolicy(acceptsVeth: false)
        #endif
    }()

    /// Why `link` cannot be an ENI, or nil when it can.
    public func refusal(_ link: Link) -> String? {
        guard let mac = link.mac, mac.octets.contains(where: { $0 != 0 }) else {
            return "link \(link.name) has no hardware address: not an ENI"
        }
        switch link.kind {
        case nil: return nil
        case "veth" where acceptsVeth: return nil
        case let kind?: return "link \(link.name) is a \(kind), not an ENI"
        }
    }

    /// Whether `link` can be an ENI.
    public func canBeENI(_ link: Link) -> Bool { refusal(link) == nil }
}

extension Link {
    /// Whether this link can be an ENI under the policy this binary was compiled with
    /// (`ENILinkPolicy.build`).
    public var canBeENI: Bool { ENILinkPolicy.build.canBeENI(self) }
}
