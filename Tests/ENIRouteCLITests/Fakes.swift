import ENIRouteCLI
import ENIRouteCore

/// A kernel in memory: applies changes to an ObservedState the way rtnetlink would.
final class FakeKernel: KernelPort {
    var state: ObservedState
    var applied: [Change] = []
    var failOn: ((Change) -> ChangeFailure?)?
    var observeCount = 0

    init(_ state: ObservedState) { self.state = state }

    func observe() throws -> ObservedState {
        observeCount += 1
        return state
    }

    func links() throws -> [Link] { state.links }

    func apply(_ changes: [Change]) -> [ChangeFailure?] {
        changes.map { c in
            if let f = failOn?(c) { return f }
            applied.append(c)
            switch c {
            case .linkSetUp(let l):
                if let i = state.links.firstIndex(where: { $0.index == l.index }) { state.links[i].isUp = true }
            case .linkSetGroup(let l, let g):
                if let i = state.links.firstIndex(where: { $0.index == l.index }) { state.links[i].group = g }
            case .addressAdd(let a): state.addresses.append(a)
            case .addressDelete(let a):
                state.addresses.removeAll { $0.interfaceIndex == a.interfaceIndex && $0.address == a.address }
            case .routeAdd(let r): state.routes.append(r)
            case .routeReplace(let r):
                state.routes.removeAll { $0.key == r.key }
                state.routes.append(r)
            case .routeDelete(let r): state.routes.removeAll { $0 == r }
            case .ruleAdd(let r): state.rules.append(r)
            case .ruleDelete(let r): state.rules.removeAll { $0 == r }
            }
            return nil
        }
    }
}
