import ENIRouteCLI
import ENIRouteCore
import ENIRouteSystem

/// The one in-memory kernel of the tests: applies `Change`s to an `ObservedState` and answers
/// like Linux's rtnetlink (checked against the real kernel by the conformance test in
/// ENIRouteNetlinkTests): `EEXIST` on adding what exists, `EADDRNOTAVAIL` on deleting an address
/// that is not there, `ESRCH` for a missing route, `ENOENT` for a missing rule, `ENODEV` for a
/// missing link. Objects keep the attributes the change gave them (the protocol tag included),
/// so feeding `state` back to the planner is "observing after apply".
public final class InMemoryKernel: KernelPort {
    /// What the kernel holds now.
    public var state: ObservedState
    /// The changes the kernel accepted, in order.
    public var applied: [Change] = []
    /// Makes the kernel refuse a change with this errno (nil: answer normally).
    public var failOn: ((Change) -> Errno?)?
    /// How many times `observe` was called.
    public private(set) var observeCount = 0

    /// A kernel holding `state`.
    public init(_ state: ObservedState = ObservedState()) { self.state = state }

    public func observe() throws -> ObservedState {
        observeCount += 1
        return state
    }

    /// Applies changes in order; the kernel's errno for each (nil: done).
    public func answers(_ changes: [Change]) -> [Errno?] { changes.map(answer) }

    public func apply(_ changes: [Change]) -> [ChangeFailure?] {
        answers(changes).map { $0.map { ChangeFailure(errno: $0, message: $0.description) } }
    }

    /// Applies every change, stopping at the first one the kernel refuses.
    public func applyAll(_ changes: [Change]) throws(KernelRefusal) {
        for change in changes {
            if let e = answer(change) { throw KernelRefusal(change: change, errno: e) }
        }
    }

    /// Applies one change; the kernel's errno when it refuses it.
    public func answer(_ change: Change) -> Errno? {
        if let e = failOn?(change) { return e }
        let refusal: Errno?
        switch change {
        case .linkSetUp(let l): refusal = withLink(l.index) { $0.isUp = true }
        case .linkSetGroup(let l, let group): refusal = withLink(l.index) { $0.group = group }
        case .linkSetMTU(let l, let mtu): refusal = withLink(l.index) { $0.mtu = mtu }
        case .addressAdd(let a): refusal = addressAdd(a)
        case .addressDelete(let a): refusal = addressDelete(a)
        case .routeAdd(let r): refusal = routeAdd(r, replace: false)
        case .routeReplace(let r): refusal = routeAdd(r, replace: true)
        case .routeDelete(let r): refusal = routeDelete(r)
        case .ruleAdd(let r): refusal = ruleAdd(r)
        case .ruleDelete(let r): refusal = ruleDelete(r)
        }
        if refusal == nil { applied.append(change) }
        return refusal
    }

    private func withLink(_ index: Int32, _ body: (inout Link) -> Void) -> Errno? {
        guard let i = state.links.firstIndex(where: { $0.index == index }) else { return .noSuchDevice }
        body(&state.links[i])
        return nil
    }

    private func hasLink(_ index: Int32?) -> Bool { index.map { i in state.links.contains { $0.index == i } } ?? true }

    /// IPv4 allows one address in two prefix lengths; IPv6 one address per link.
    private func addressAdd(_ a: InterfaceAddress) -> Errno? {
        guard hasLink(a.interfaceIndex) else { return .noSuchDevice }
        let exists = state.addresses.contains {
            $0.interfaceIndex == a.interfaceIndex && $0.address == a.address
                && (a.family == .inet6 || $0.prefix.length == a.prefix.length)
        }
        if exists { return .fileExists }
        state.addresses.append(a)
        return nil
    }

    /// Deleting matches the address and its prefix length, as the kernel does.
    private func addressDelete(_ a: InterfaceAddress) -> Errno? {
        guard hasLink(a.interfaceIndex) else { return .noSuchDevice }
        guard
            let i = state.addresses.firstIndex(where: {
                $0.interfaceIndex == a.interfaceIndex && $0.address == a.address && $0.prefix.length == a.prefix.length
            })
        else { return .addressNotAvailable }
        state.addresses.remove(at: i)
        return nil
    }

    /// A route is identified by table, destination and metric (`NLM_F_EXCL` refuses a second one).
    private func routeAdd(_ r: Route, replace: Bool) -> Errno? {
        guard hasLink(r.outputInterface) else { return .noSuchDevice }
        if let i = state.routes.firstIndex(where: { $0.key == r.key }) {
            guard replace else { return .fileExists }
            state.routes[i] = r
        } else {
            state.routes.append(r)
        }
        return nil
    }

    private func routeDelete(_ r: Route) -> Errno? {
        guard let i = state.routes.firstIndex(of: r) else { return .noSuchProcess }
        state.routes.remove(at: i)
        return nil
    }

    private func ruleAdd(_ r: RoutingPolicyRule) -> Errno? {
        if state.rules.contains(r) { return .fileExists }
        state.rules.append(r)
        return nil
    }

    private func ruleDelete(_ r: RoutingPolicyRule) -> Errno? {
        guard let i = state.rules.firstIndex(of: r) else { return .noSuchFileOrDirectory }
        state.rules.remove(at: i)
        return nil
    }
}

/// The in-memory kernel refused a change of `applyAll`.
public struct KernelRefusal: Error, ErrnoCarrying, CustomStringConvertible {
    /// The change.
    public var change: Change
    /// The kernel's answer.
    public var code: Errno
    /// Creates a refusal.
    public init(change: Change, errno: Errno) {
        self.change = change
        self.code = errno
    }
    public var errno: Errno? { code }
    public var description: String { "\(change.ipCommand(names: [:])): \(code)" }
}
