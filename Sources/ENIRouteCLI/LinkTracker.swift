import ENIRouteCore

/// The links the watcher tracks: the name and interface index of every link that can be an ENI,
/// and links with a MAC IMDS has not listed (a hot attach whose IMDS entry may come late), which
/// are probed with IMDS re-reads at `WatchSchedule.probeDelays`. Pure: the watcher hands over
/// each observation of the kernel's links.
struct LinkTracker: Equatable {
    /// Interface names by MAC.
    private(set) var names: [MACAddress: String] = [:]
    /// The interface index of each MAC at the last observation (nil before the first).
    private(set) var indexes: [MACAddress: Int32]?
    /// Links whose MAC IMDS has not listed, with the number of probes made so far.
    private(set) var unknown: [MACAddress: Int] = [:]

    /// `eth1 (02:00:00:00:02:0a)`, or the MAC alone for a MAC without a link.
    func name(_ mac: MACAddress) -> String { names[mac].map { "\($0) (\(mac))" } ?? mac.description }

    /// Takes the kernel's links. `isReady` and `isKnown` say which MACs IMDS has ready, and
    /// listed at all; `reattached` are ready ENIs already waiting for a full read.
    mutating func observe(
        _ links: [Link], isReady: (MACAddress) -> Bool, isKnown: (MACAddress) -> Bool, reattached: Set<MACAddress>
    ) -> LinkChanges {
        var now: [MACAddress: Int32] = [:]
        names = [:]
        for l in links where l.canBeENI {
            guard let m = l.mac else { continue }
            now[m] = l.index
            names[m] = l.name
        }
        var changes = LinkChanges()
        // A ready ENI's interface that vanished or came back as a new interface was detached (and
        // maybe re-attached, possibly as another device number).
        let previous = indexes
        for (m, index) in previous ?? [:] where isReady(m) && now[m] != index { changes.reattached.insert(m) }
        changes.reattachedIsBack = reattached.union(changes.reattached).contains { now[$0] != nil && now[$0] != previous?[$0] }
        if let previous {
            for m in now.keys.sorted() where previous[m] == nil && !isKnown(m) {
                unknown[m] = 0
                changes.unknownAppeared = true
            }
        }
        for m in unknown.keys where now[m] == nil { unknown[m] = nil }
        indexes = now
        return changes
    }

    /// After a poll: unknown links IMDS now lists are known; the others are probed again until
    /// the delays run out. Returns the delay of the next probe (nil: none) and the links given up.
    mutating func probed(isKnown: (MACAddress) -> Bool) -> (nextDelay: Double?, givenUp: [MACAddress]) {
        var givenUp: [MACAddress] = []
        for (mac, step) in unknown {
            if isKnown(mac) {
                unknown[mac] = nil
            } else if step >= WatchSchedule.probeDelays.count {
                givenUp.append(mac)
                unknown[mac] = nil
            } else {
                unknown[mac] = step + 1
            }
        }
        return (unknown.values.min().map { WatchSchedule.probeDelays[$0 - 1] }, givenUp.sorted())
    }
}

/// What one observation of the links says.
struct LinkChanges: Equatable {
    /// Ready ENIs whose interface vanished or came back with a new index.
    var reattached: Set<MACAddress> = []
    /// Whether a re-attached ENI's interface is back: read it from IMDS at once.
    var reattachedIsBack = false
    /// Whether a link with a MAC IMDS has not listed appeared: ask IMDS.
    var unknownAppeared = false
}
