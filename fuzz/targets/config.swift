// libFuzzer target: the configuration file parser (and the interface-name globs it accepts).
import ENIRouteCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    let text = String(decoding: bytes, as: UTF8.self)
    if let c = try? Configuration.parse(text, file: "fuzz.conf") {
        precondition(c.tableBase >= 256 && c.rulePriority <= 30000)
        let mac = MACAddress("02:00:00:00:02:0a")!
        for name in ["eth1", "ens6", "enX1", String(text.prefix(32))] {
            _ = c.isUnmanaged(mac: mac, interfaceID: "eni-0123", name: name)
        }
        _ = c.table(networkCard: UInt32.max, deviceNumber: UInt32.max)
    }
    return 0
}
