/// Bytes from annotated hex: whitespace-separated byte pairs, `//` starts a comment to end of line.
public func hex(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let code = line.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        for token in code.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard token.count == 2, let byte = UInt8(token, radix: 16) else { fatalError("bad hex token \(token)") }
            out.append(byte)
        }
    }
    return out
}

/// Hex text of bytes, 16 per line, for readable failure messages.
public func dumpHex(_ bytes: [UInt8]) -> String {
    stride(from: 0, to: bytes.count, by: 16).map { start in
        bytes[start..<min(start + 16, bytes.count)].map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
    }.joined(separator: "\n")
}
