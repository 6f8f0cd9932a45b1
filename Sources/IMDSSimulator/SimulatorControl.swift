import ENIRouteCore

/// The control API's operations in-process (tests call these instead of `/_sim/` requests).
extension IMDSSimulator {
    /// The counters so far.
    public func stats() -> SimulatorStats { lock.withLock { service.stats } }

    /// Zeroes the counters (open connections stay counted as open).
    public func resetStats() { lock.withLock { service.resetStats() } }

    /// The scenario being served.
    public var currentScenario: Scenario { lock.withLock { service.scenario } }

    /// Replaces the whole scenario (tokens stay valid; propagation clocks restart).
    public func replaceScenario(_ new: Scenario) { lock.withLock { service.replaceScenario(new) } }

    /// Attaches an ENI (or replaces its keys), optionally still propagating.
    public func attach(mac: MACAddress, keys: [String: String], propagation: Propagation? = nil) {
        lock.withLock { service.attach(mac: mac, directory: .directory(keys: keys), propagation: propagation) }
    }

    /// Detaches an ENI; returns whether it was attached.
    @discardableResult
    public func detach(mac: MACAddress) -> Bool { lock.withLock { service.detach(mac: mac) } }

    /// Sets one key of an attached ENI (`key` may contain `/` for sub-directories); returns
    /// false when the MAC is not attached.
    @discardableResult
    public func setKey(mac: MACAddress, key: String, value: String) -> Bool {
        lock.withLock { service.setKey(mac: mac, key: key, value: value) }
    }

    /// Removes one key of an attached ENI; returns whether it existed.
    @discardableResult
    public func deleteKey(mac: MACAddress, key: String) -> Bool { lock.withLock { service.deleteKey(mac: mac, key: key) } }

    /// Sets the primary MAC (`/latest/meta-data/mac`).
    public func setPrimary(mac: MACAddress?) { lock.withLock { service.setPrimary(mac: mac) } }

    /// Adds a fault after the existing ones.
    public func addFault(_ fault: Fault) { lock.withLock { service.addFault(fault) } }

    /// Removes every fault.
    public func clearFaults() { lock.withLock { service.clearFaults() } }

    /// Sets whether GETs need a token.
    public func setTokenRequired(_ required: Bool) { lock.withLock { service.setTokenRequired(required) } }

    /// Makes every issued token expired (the next request carrying one gets 401).
    public func expireTokens() { lock.withLock { service.expireTokens() } }
}
