// libFuzzer target: the HTTP/1.x response parser. The first byte sets the size of the pieces the
// rest is fed in (as recv would deliver them); the parser is then told the connection closed.
@testable import ENIRouteIMDS

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard size > 0, let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let piece = Int(bytes[0] % 64) + 1
    let input = bytes.dropFirst()
    // Small limits so that the limit paths are reached with small inputs.
    var parser = HTTPResponseParser(maxHeaderBytes: 512, maxBodyBytes: 1024)
    var offset = input.startIndex
    do {
        while offset < input.endIndex {
            let end = min(offset + piece, input.endIndex)
            if let r = try parser.feed(input[offset..<end]) {
                precondition(r.body.count <= 1024)
                precondition(r.status >= 200 && r.status <= 999)
                return 0
            }
            offset = end
        }
        let r = try parser.finish()
        precondition(r.body.count <= 1024)
    } catch {
        _ = error.description
    }
    return 0
}
