/// Turns facts and observed state into changes. Pure: no I/O.
///
/// `plan` is a pipeline of five steps, each a function of its own (one file each):
/// 1. `validate`: facts that must not be applied at all (a MAC or an address listed twice);
/// 2. `select` (PlannerSelection.swift): each ENI's state (`ENIState`), interface and table;
/// 3. `desiredState` (PlannerDesired.swift): the objects the managed ENIs should have, and the
///    link changes (up, interface group);
/// 4. `diff` (PlannerDiff.swift): desired minus observed, within the plan's scope;
/// 5. `order`: make before break (`Change.phase`).
public enum Planner {
    /// IPv6 gateway of every VPC subnet.
    public static let ipv6Gateway = IPAddress.v6(IPv6Address(high: 0xfe80_0ec2_0000_0000, low: 1))
    /// The main table.
    public static let mainTable: UInt32 = 254
    /// Priority of the kernel's `from all lookup main` rule; every eniroute rule comes before it.
    public static let mainRulePriority: UInt32 = 32766

    /// Plans `apply`: desired state from IMDS facts, minus what the kernel already has.
    /// Throws on data that must not be applied (a MAC or an address listed twice, a table
    /// collision, an out-of-range table).
    public static func plan(
        facts: InstanceFacts, observed: ObservedState, configuration c: Configuration, scope: PlanScope,
        options: PlanOptions = PlanOptions()
    ) throws(FactsError) -> Plan {
        try validate(facts)
        let links = ENILinks(observed.links, policy: options.linkPolicy)
        let selection = try select(
            facts: facts, links: links, observed: observed, configuration: c, scope: scope, options: options)
        let desired = desiredState(selection, primaryMAC: facts.primaryMAC, links: links, observed: observed, configuration: c)
        let difference = diff(desired, selection: selection, observed: observed)
        return Plan(
            changes: order(desired.linkChanges + difference.changes), enis: selection.enis,
            warnings: selection.warnings + desired.warnings + difference.warnings, names: interfaceNames(observed))
    }

    /// Step 1: refuses facts that list a MAC twice, or one address or delegated prefix on two ENIs.
    static func validate(_ facts: InstanceFacts) throws(FactsError) {
        var seenMACs: Set<MACAddress> = []
        var addressOwner: [IPPrefix: MACAddress] = [:]
        for eni in facts.enis {
            guard seenMACs.insert(eni.mac).inserted else { throw .duplicate(what: "MAC \(eni.mac) listed twice") }
            let own = (eni.ipv4Addresses + eni.ipv6Addresses).map { IPPrefix(host: $0) } + eni.ipv4Prefixes + eni.ipv6Prefixes
            for a in own {
                if let other = addressOwner[a], other != eni.mac {
                    throw .duplicate(what: "\(a) is listed on both \(other) and \(eni.mac)")
                }
                addressOwner[a] = eni.mac
            }
        }
    }

    /// Step 5: the changes in application order: by `Change.phase` (make before break), and within
    /// a phase in the order they were planned.
    static func order(_ changes: [Change]) -> [Change] {
        changes.enumerated().sorted { ($0.element.phase, $0.offset) < ($1.element.phase, $1.offset) }.map(\.element)
    }

    /// Interface index → name, for messages (the last link of an index wins, as the kernel reports
    /// each index once).
    static func interfaceNames(_ observed: ObservedState) -> [Int32: String] {
        var names: [Int32: String] = [:]
        for l in observed.links { names[l.index] = l.name }
        return names
    }
}

/// The links that can be ENIs (`ENILinkPolicy`), by MAC, in the kernel's order.
struct ENILinks {
    private var byMAC: [MACAddress: [Link]] = [:]

    /// Indexes `links` that can be ENIs under `policy`.
    init(_ links: [Link], policy: ENILinkPolicy) {
        for l in links where policy.canBeENI(l) { byMAC[l.mac!, default: []].append(l) }
    }

    /// The links with this MAC (more than one: ambiguous).
    subscript(mac: MACAddress) -> [Link] { byMAC[mac] ?? [] }
}
