/// One HTTP/1.1 request as the IMDS client sends it.
public struct HTTPRequest: Equatable, Sendable {
    /// `GET` or `PUT`.
    public var method: String
    /// The request target, e.g. `/latest/meta-data/mac`.
    public var path: String
    /// Extra header fields, in order (`Host`, `Content-Length` and `Connection` are added when serialised).
    public var headers: [(name: String, value: String)]
    /// The body (empty for every IMDS request).
    public var body: [UInt8]

    /// Creates a request.
    public init(method: String, path: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }

    /// The value of the first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first(where: { asciiLowercased($0.name) == asciiLowercased(name) })?.value
    }

    /// The bytes on the wire for `host` (the `Host` header value).
    public func serialized(host: String) -> [UInt8] {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n"
        for h in headers { text += "\(h.name): \(h.value)\r\n" }
        if !body.isEmpty || method == "PUT" || method == "POST" { text += "Content-Length: \(body.count)\r\n" }
        text += "\r\n"
        return Array(text.utf8) + body
    }

    public static func == (lhs: HTTPRequest, rhs: HTTPRequest) -> Bool {
        lhs.method == rhs.method && lhs.path == rhs.path && lhs.body == rhs.body
            && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }
}

/// One HTTP response.
public struct HTTPResponse: Equatable, Sendable {
    /// The status code (200, 404, …).
    public var status: Int
    /// The reason phrase.
    public var reason = ""
    /// Header fields as received, in order.
    public var headers: [(name: String, value: String)] = []
    /// The (de-chunked) body.
    public var body: [UInt8] = []
    /// Whether the connection may carry another request afterwards.
    public var keepAlive = true

    /// The value of the first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first(where: { asciiLowercased($0.name) == asciiLowercased(name) })?.value
    }

    /// The body as text (invalid UTF-8 is replaced with U+FFFD).
    public var text: String { String(decoding: body, as: UTF8.self) }

    public static func == (lhs: HTTPResponse, rhs: HTTPResponse) -> Bool {
        lhs.status == rhs.status && lhs.reason == rhs.reason && lhs.body == rhs.body && lhs.keepAlive == rhs.keepAlive
            && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }
}

extension HTTPResponse {
    /// Creates a response with a text body (fake transports in tests). The parser uses the memberwise
    /// initialiser Swift writes for this module.
    public init(status: Int, text: String = "", keepAlive: Bool = true) {
        self.init(status: status, body: Array(text.utf8), keepAlive: keepAlive)
    }
}

func asciiLowercased(_ s: String) -> String {
    String(decoding: s.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
}

/// An incremental HTTP/1.x response parser: feed it bytes as they arrive; it returns the response
/// once complete. Supports `Content-Length`, `Transfer-Encoding: chunked` (extensions and
/// trailers ignored), bodies delimited by the connection's close, interim 1xx responses, and
/// enforces size limits on the head and the body so that a misbehaving server cannot make the
/// client allocate without bound.
public struct HTTPResponseParser: Sendable {
    /// Default limit of the status line plus headers (and of chunk trailers).
    public static let defaultMaxHeaderBytes = 16 * 1024
    /// Default limit of the body.
    public static let defaultMaxBodyBytes = 1024 * 1024

    private enum State: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers(bytes: Int)
        case untilClose
        case done
    }

    /// The limit on head bytes.
    public let maxHeaderBytes: Int
    /// The limit on body bytes.
    public let maxBodyBytes: Int
    private var state: State = .head
    private var buffer: [UInt8] = []
    private var position = 0
    private var scanFrom = 0
    private var status = 0
    private var reason = ""
    private var headers: [(name: String, value: String)] = []
    private var keepAlive = true
    private var body: [UInt8] = []
    /// Whether any byte has been received (a connection that closes before this is "stale").
    public private(set) var hasReceivedBytes = false

    /// Creates a parser with the given limits.
    public init(maxHeaderBytes: Int = defaultMaxHeaderBytes, maxBodyBytes: Int = defaultMaxBodyBytes) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// Bytes received after the end of the complete response (a well-behaved server sends none).
    public var leftoverCount: Int {
        if case .done = state { return buffer.count - position }
        return 0
    }

    /// Feeds received bytes; returns the response once it is complete, else nil.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(TransportError) -> HTTPResponse? {
        if !bytes.isEmpty { hasReceivedBytes = true }
        if case .done = state {
            buffer.append(contentsOf: bytes)
            return nil
        }
        if position > 4096 && position * 2 > buffer.count {
            buffer.removeFirst(position)
            scanFrom -= position
            position = 0
        }
        buffer.append(contentsOf: bytes)
        return try advance()
    }

    /// Tells the parser the server closed the connection; returns the response if the close ends
    /// it (a body without length), else throws `connectionClosed`.
    public mutating func finish() throws(TransportError) -> HTTPResponse {
        switch state {
        case .untilClose:
            state = .done
            return makeResponse()
        case .head where !hasReceivedBytes:
            throw .connectionClosed("before sending a response")
        case .head:
            throw .connectionClosed("in the middle of the response headers")
        default:
            throw .connectionClosed("in the middle of the response body")
        }
    }

    private func makeResponse() -> HTTPResponse {
        HTTPResponse(status: status, reason: reason, headers: headers, body: body, keepAlive: keepAlive)
    }

    private mutating func advance() throws(TransportError) -> HTTPResponse? {
        while true {
            switch state {
            case .head:
                guard let end = findHeadEnd() else {
                    if buffer.count - position > maxHeaderBytes {
                        throw .tooLarge("headers exceed \(maxHeaderBytes) bytes")
                    }
                    return nil
                }
                if end - position > maxHeaderBytes { throw .tooLarge("headers exceed \(maxHeaderBytes) bytes") }
                let head = Array(buffer[position..<end])
                position = end
                scanFrom = end
                try parseHead(head)
            case .fixedBody(let remaining):
                let n = min(remaining, buffer.count - position)
                body.append(contentsOf: buffer[position..<(position + n)])
                position += n
                if n == remaining {
                    state = .done
                } else {
                    state = .fixedBody(remaining: remaining - n)
                    return nil
                }
            case .chunkSize:
                guard let line = try takeLine(limit: 1024, what: "chunk size line") else { return nil }
                var digits = line[...]
                if let semi = digits.firstIndex(of: UInt8(ascii: ";")) { digits = digits[..<semi] }
                while let last = digits.last, last == 0x20 || last == 0x09 { digits = digits.dropLast() }
                guard !digits.isEmpty, digits.count <= 8, let size = Int(String(decoding: digits, as: UTF8.self), radix: 16),
                    size >= 0
                else {
                    throw .malformedResponse("bad chunk size \(String(decoding: line, as: UTF8.self).debugDescription)")
                }
                if size == 0 {
                    state = .trailers(bytes: 0)
                } else {
                    guard body.count + size <= maxBodyBytes else { throw .tooLarge("body exceeds \(maxBodyBytes) bytes") }
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let n = min(remaining, buffer.count - position)
                body.append(contentsOf: buffer[position..<(position + n)])
                position += n
                if n == remaining {
                    state = .chunkDataEnd
                } else {
                    state = .chunkData(remaining: remaining - n)
                    return nil
                }
            case .chunkDataEnd:
                guard let line = try takeLine(limit: 2, what: "chunk end") else { return nil }
                guard line.isEmpty else { throw .malformedResponse("chunk data longer than its size") }
                state = .chunkSize
            case .trailers(let bytes):
                guard let line = try takeLine(limit: maxHeaderBytes, what: "trailer") else { return nil }
                let total = bytes + line.count + 2
                guard total <= maxHeaderBytes else { throw .tooLarge("trailers exceed \(maxHeaderBytes) bytes") }
                state = line.isEmpty ? .done : .trailers(bytes: total)
            case .untilClose:
                body.append(contentsOf: buffer[position...])
                position = buffer.count
                guard body.count <= maxBodyBytes else { throw .tooLarge("body exceeds \(maxBodyBytes) bytes") }
                return nil
            case .done:
                return makeResponse()
            }
        }
    }

    /// Finds the end of the head (index after the empty line), accepting CRLF or bare LF.
    private mutating func findHeadEnd() -> Int? {
        var i = max(scanFrom, position)
        while i < buffer.count {
            if buffer[i] == 0x0A {
                if i + 1 < buffer.count, buffer[i + 1] == 0x0A { return i + 2 }
                if i + 2 < buffer.count, buffer[i + 1] == 0x0D, buffer[i + 2] == 0x0A { return i + 3 }
                if i + 2 >= buffer.count {
                    scanFrom = i  // re-examine this LF when more bytes arrive
                    return nil
                }
            }
            i += 1
        }
        scanFrom = buffer.count
        return nil
    }

    /// Takes one line (without its CRLF or LF) if complete; nil if more bytes are needed.
    private mutating func takeLine(limit: Int, what: String) throws(TransportError) -> [UInt8]? {
        var i = position
        while i < buffer.count {
            if buffer[i] == 0x0A {
                var line = Array(buffer[position..<i])
                if line.last == 0x0D { line.removeLast() }
                guard line.count <= limit else { throw .malformedResponse("\(what) too long") }
                position = i + 1
                return line
            }
            i += 1
        }
        guard buffer.count - position <= limit + 1 else { throw .malformedResponse("\(what) too long") }
        return nil
    }

    private mutating func parseHead(_ head: [UInt8]) throws(TransportError) {
        var lines: [[UInt8]] = head.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            line.last == 0x0D ? Array(line.dropLast()) : Array(line)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let statusLine = lines.first else { throw .malformedResponse("empty response head") }
        let (minor, code, reasonPhrase) = try Self.parseStatusLine(statusLine)
        let fields = try Self.parseFields(lines.dropFirst())
        if code < 200 {
            // Interim response (100 Continue, 103 Early Hints): the real one follows.
            state = .head
            return
        }
        status = code
        reason = reasonPhrase
        headers = fields
        body = []
        try setFraming(code: code, minor: minor, fields: fields)
    }

    /// `HTTP/1.x NNN reason`: the minor version, the status code and the reason phrase.
    private static func parseStatusLine(_ line: [UInt8]) throws(TransportError) -> (Character, Int, String) {
        let text = String(decoding: line, as: UTF8.self)
        let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[0].count == 8 else {
            throw .malformedResponse("bad status line \(String(text.prefix(80)).debugDescription)")
        }
        guard parts[1].count == 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let code = Int(parts[1]), code >= 100
        else {
            throw .malformedResponse("bad status code in \(String(text.prefix(80)).debugDescription)")
        }
        return (parts[0].last!, code, parts.count > 2 ? String(parts[2]) : "")
    }

    /// The header fields, names and values as sent (values without surrounding blanks); no folding.
    private static func parseFields(_ lines: ArraySlice<[UInt8]>) throws(TransportError) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        for line in lines {
            guard let first = line.first, first != 0x20, first != 0x09 else {
                throw .malformedResponse("folded or empty header line")
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
                throw .malformedResponse("header line without ':'")
            }
            let nameBytes = line[..<colon]
            guard nameBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw .malformedResponse("invalid header name")
            }
            var value = line[(colon + 1)...]
            while let f = value.first, f == 0x20 || f == 0x09 { value = value.dropFirst() }
            while let l = value.last, l == 0x20 || l == 0x09 { value = value.dropLast() }
            fields.append((String(decoding: nameBytes, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        return fields
    }

    /// Keep-alive and how the body is delimited (RFC 9112 section 6.3): none for 204/304, chunked or
    /// until close by Transfer-Encoding, else Content-Length, else until close.
    private mutating func setFraming(
        code: Int, minor: Character, fields: [(name: String, value: String)]
    ) throws(TransportError) {
        func tokens(_ name: String) -> [String] {
            fields.filter { asciiLowercased($0.name) == name }.map(\.value).flatMap { $0.split(separator: ",") }.map {
                String($0.filter { $0 != " " && $0 != "\t" })
            }
        }
        let connectionTokens = tokens("connection").map(asciiLowercased)
        keepAlive = minor == "1" ? !connectionTokens.contains("close") : connectionTokens.contains("keep-alive")
        if code == 204 || code == 304 {
            state = .done
            return
        }
        let transferEncodings = tokens("transfer-encoding").map(asciiLowercased)
        let lengths = tokens("content-length")
        if !transferEncodings.isEmpty {
            guard fields.allSatisfy({ asciiLowercased($0.name) != "content-length" }) else {
                throw .malformedResponse("both Transfer-Encoding and Content-Length")
            }
            if transferEncodings.last == "chunked" {
                state = .chunkSize
            } else {
                keepAlive = false
                state = .untilClose
            }
            return
        }
        if let first = lengths.first {
            guard lengths.allSatisfy({ $0 == first }), !first.isEmpty, first.count <= 18,
                first.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(first)
            else {
                throw .malformedResponse("bad Content-Length \(lengths.joined(separator: ",").debugDescription)")
            }
            guard n <= maxBodyBytes else { throw .tooLarge("Content-Length \(n) exceeds \(maxBodyBytes) bytes") }
            state = n == 0 ? .done : .fixedBody(remaining: n)
        } else {
            keepAlive = false
            state = .untilClose
        }
    }
}
