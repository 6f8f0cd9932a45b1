import ENIRouteCore

/// Changes to what the service serves (the control API and the simulator's methods).
extension IMDSService {
    /// Zeroes the counters (open connections stay counted as open).
    public mutating func resetStats() {
        let open = stats.openConnections
        stats = SimulatorStats()
        stats.openConnections = open
        countedConnections.removeAll()
    }

    /// Counts a connection opening (`+1`) or closing (`-1`).
    mutating func countOpenConnections(_ delta: Int) { stats.openConnections += delta }

    /// Replaces the whole scenario (tokens stay valid; propagation clocks restart).
    public mutating func replaceScenario(_ new: Scenario) {
        scenario = new
        resetClocks()
    }

    /// Attaches an ENI (or replaces its keys), optionally still propagating.
    public mutating func attach(mac: MACAddress, directory: MetadataNode, propagation: Propagation?) {
        scenario.macs[mac] = directory
        scenario.propagation[mac] = propagation
        startTimes[mac] = clock()
        macRequests[mac] = 0
    }

    /// Detaches an ENI; returns whether it was attached.
    @discardableResult
    public mutating func detach(mac: MACAddress) -> Bool {
        scenario.propagation[mac] = nil
        return scenario.macs.removeValue(forKey: mac) != nil
    }

    /// Sets one key of an attached ENI (`key` may contain `/`); false when it is not attached.
    @discardableResult
    public mutating func setKey(mac: MACAddress, key: String, value: String) -> Bool {
        guard var dir = scenario.macs[mac] else { return false }
        dir.insert(.value(value), at: key.split(separator: "/").map(String.init)[...])
        scenario.macs[mac] = dir
        return true
    }

    /// Removes one key of an attached ENI; returns whether it existed.
    @discardableResult
    public mutating func deleteKey(mac: MACAddress, key: String) -> Bool {
        guard var dir = scenario.macs[mac] else { return false }
        let removed = dir.remove(at: key.split(separator: "/").map(String.init)[...])
        scenario.macs[mac] = dir
        return removed
    }

    /// Sets the primary MAC (`/latest/meta-data/mac`).
    public mutating func setPrimary(mac: MACAddress?) { scenario.primaryMAC = mac }

    /// Adds a fault after the existing ones.
    public mutating func addFault(_ fault: Fault) { scenario.faults.append(fault) }

    /// Removes every fault.
    public mutating func clearFaults() { scenario.faults.removeAll() }

    /// Sets whether GETs need a token.
    public mutating func setTokenRequired(_ required: Bool) { scenario.token.required = required }

    /// Makes every issued token expired (the next request carrying one gets 401).
    public mutating func expireTokens() { tokens.removeAll() }
}
