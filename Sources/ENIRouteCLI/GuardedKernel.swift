import ENIRouteCore

/// Any kernel behind `ChangeGuard`: every batch is judged against the state last observed through
/// this wrapper, the state the batch was planned from. A batch with one refused change is refused
/// whole: nothing of it reaches the kernel, and every change of it fails. The composition root
/// wraps whatever kernel it builds (`CommandContext.openKernel`), so commands, the watcher and
/// their tests all apply through it.
final class GuardedKernel: KernelPort {
    /// The kernel the allowed batches go to.
    let base: any KernelPort
    private var lastObserved: ObservedState?

    init(_ base: any KernelPort) { self.base = base }

    var statistics: KernelStatistics { base.statistics }

    func observe() throws -> ObservedState {
        let state = try base.observe()
        lastObserved = state
        return state
    }

    func links() throws -> [Link] { try base.links() }

    func apply(_ changes: [Change]) -> [ChangeFailure?] {
        let refusals: [String?] =
            lastObserved.map { ChangeGuard.refusals(changes, observed: $0) }
            ?? changes.map { _ in "the kernel's state was not read first" }
        guard refusals.contains(where: { $0 != nil }) else { return base.apply(changes) }
        return refusals.map { why in
            ChangeFailure(
                errno: nil,
                message: why.map { "refused by the safety guard: \($0); nothing of this batch was sent" }
                    ?? "not sent: another change of this batch was refused")
        }
    }
}
