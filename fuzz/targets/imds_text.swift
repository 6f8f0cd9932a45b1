// libFuzzer target: IMDS text parsing (IMDSText, ENIFacts.parse, IPAddress, IPPrefix, MACAddress).
// Input: NUL-separated fields; the first byte picks the primary flag, the fields fill the per-MAC
// keys in IMDSKey order, and every line of every field is also parsed on its own.
import ENIRouteCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIMDSText(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    let text = String(decoding: bytes, as: UTF8.self)
    let fields = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    let mac = MACAddress("02:00:00:00:02:0a")!
    var values: [String: String] = [:]
    let keys = IMDSKey.all + [IMDSKey.interfaceID]
    for (i, f) in fields.enumerated() where i < keys.count { values[keys[i]] = f }
    let isPrimary = bytes.first.map { $0 & 1 == 1 } ?? false
    if let facts = try? ENIFacts.parse(mac: mac, isPrimary: isPrimary, values: values) {
        // Invariants of accepted facts: every address lies in its subnet, nothing is duplicated.
        if let s = facts.subnetIPv4 { precondition(facts.ipv4Addresses.allSatisfy { s.contains($0) }) }
        precondition(Set(facts.ipv4Addresses).count == facts.ipv4Addresses.count)
        precondition(facts.ipv4Addresses.allSatisfy { $0.family == .inet })
        precondition(facts.ipv6Addresses.allSatisfy { $0.family == .inet6 })
        _ = facts.notReadyReason
    }
    for line in IMDSText.lines(text) {
        if let a = IPAddress(line) {
            // Round trip: the canonical text parses back to the same value.
            precondition(IPAddress(a.description) == a)
            precondition(IPAddress(family: a.family, bytes: a.bytes) == a)
        }
        if let p = IPPrefix(line) {
            precondition(p.length <= p.family.bitWidth)
            // (`description` is iproute2's: `default` for /0, the bare address for a host prefix.)
            precondition(IPPrefix("\(p.address)/\(p.length)") == p)
        }
        _ = IPPrefix(line, strict: false)
        if let m = MACAddress(line) { precondition(MACAddress(m.description) == m) }
    }
    _ = IMDSText.listing(text)
    return 0
}
