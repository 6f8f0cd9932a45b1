import Foundation

/// One HTTP/1.1 request as the simulator received it.
public struct SimulatorRequest: Equatable, Sendable {
    /// `GET`, `PUT`, …
    public var method: String
    /// The request target as sent (query included).
    public var target: String
    /// The target without its query.
    public var path: String
    /// Header fields by lower-case name; repeated fields joined with `,`.
    public var headers: [String: String]
    /// The body (`Content-Length` bytes).
    public var body: [UInt8]
    /// Whether the client lets the connection carry another request.
    public var keepAlive: Bool

    /// Creates a request (`path` is `target` without its query).
    public init(method: String, target: String, headers: [String: String] = [:], body: [UInt8] = [], keepAlive: Bool = true) {
        self.method = method
        self.target = target
        self.path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
    }
}

/// What the simulator does with a request: an HTTP reply, possibly shaped by a fault.
public struct SimulatorReply: Equatable, Sendable {
    /// The status code.
    public var status: Int
    /// The body.
    public var body: [UInt8]
    /// Extra header fields.
    public var headers: [Header] = []
    /// Send the body with `Transfer-Encoding: chunked`.
    public var chunked = false
    /// Send the head and half the body, then reset the connection.
    public var reset = false
    /// Claim this many more bytes in `Content-Length` than are sent, then close.
    public var contentLengthExtra: Int?
    /// Close the connection without answering.
    public var drop = false
    /// Never answer.
    public var hang = false
    /// Send the reply at this rate.
    public var bytesPerSecond: Double?

    /// A header field.
    public struct Header: Equatable, Sendable {
        /// The field name.
        public var name: String
        /// The field value.
        public var value: String
    }

    /// A reply with a text body.
    public init(_ status: Int, _ text: String, headers: [(String, String)] = []) {
        self.status = status
        self.body = Array(text.utf8)
        self.headers = headers.map { Header(name: $0.0, value: $0.1) }
    }

    /// The body as text.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Whether the connection can carry another request after this reply.
    public func keepsConnection(requested: Bool) -> Bool { requested && !reset && contentLengthExtra == nil }

    /// The bytes on the wire: the head (status line and header block) and the payload after it,
    /// separately so that a server can write them in one `send` or in two.
    public func wire(keepAlive: Bool) -> (head: [UInt8], payload: [UInt8]) {
        var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\nServer: EC2ws\r\nContent-Type: text/plain\r\n"
        for h in headers { head += "\(h.name): \(h.value)\r\n" }
        var payload = body
        if chunked {
            head += "Transfer-Encoding: chunked\r\n"
            payload = Self.chunkedPayload(body)
        } else if reset {
            head += "Content-Length: \(body.count)\r\n"
            payload = Array(body.prefix(body.count / 2))
        } else {
            head += "Content-Length: \(body.count + (contentLengthExtra ?? 0))\r\n"
        }
        if !keepsConnection(requested: keepAlive) && !reset { head += "Connection: close\r\n" }
        head += "\r\n"
        return (Array(head.utf8), payload)
    }

    /// Small chunks, an extension and a trailer: exercise every part of a client's parser. Large
    /// bodies (a 10 MB fault) go in larger chunks, so that building them stays quick.
    private static func chunkedPayload(_ body: [UInt8]) -> [UInt8] {
        var payload: [UInt8] = []
        var rest = body[...]
        var first = true
        let size = max(7, body.count / 1024)
        while !rest.isEmpty {
            let piece = rest.prefix(first ? 3 : size)
            rest = rest.dropFirst(piece.count)
            payload +=
                Array((String(piece.count, radix: 16) + (first ? ";sim=1" : "") + "\r\n").utf8) + piece + Array("\r\n".utf8)
            first = false
        }
        return payload + Array("0\r\nX-Sim-Trailer: 1\r\n\r\n".utf8)
    }

    /// The reason phrase of a status.
    static func reason(_ status: Int) -> String {
        let phrases = [
            200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 429: "Too Many Requests", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
        ]
        return phrases[status] ?? "Status"
    }
}

/// Reads requests from the bytes a connection delivered: the head, then `Content-Length` bytes.
public enum RequestParser {
    /// What the bytes so far hold.
    public enum Outcome: Equatable, Sendable {
        /// A whole request (removed from the buffer; bytes after it stay).
        case request(SimulatorRequest)
        /// Not a whole request yet.
        case incomplete
        /// A request the simulator refuses: answer with this status and sentence, then close.
        case bad(Int, String)
    }

    static let maxHead = 64 * 1024
    static let maxBody = 16 * 1024 * 1024

    /// Takes one request off the front of `buffer`.
    public static func take(from buffer: inout [UInt8]) -> Outcome {
        guard let end = headEnd(buffer) else {
            return buffer.count > maxHead ? .bad(431, "request head too large") : .incomplete
        }
        let headText = String(decoding: buffer[..<(end - 4)], as: UTF8.self)
        var lines = headText.split(separator: "\r\n", omittingEmptySubsequences: false)
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else { return .bad(400, "bad request line") }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { return .bad(400, "bad header line") }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { $0 + "," + value } ?? value
        }
        if headers["transfer-encoding"] != nil { return .bad(501, "chunked request bodies are not supported") }
        let length = Int(headers["content-length"] ?? "0") ?? -1
        guard length >= 0, length <= maxBody else { return .bad(400, "bad Content-Length") }
        guard buffer.count >= end + length else { return .incomplete }
        let body = Array(buffer[end..<(end + length)])
        buffer.removeFirst(end + length)
        let connection = (headers["connection"] ?? "").lowercased()
        let keepAlive = requestLine[2] == "HTTP/1.1" ? !connection.contains("close") : connection.contains("keep-alive")
        return .request(
            SimulatorRequest(
                method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: body, keepAlive: keepAlive
            ))
    }

    /// The index after the head's blank line, if the buffer holds it.
    private static func headEnd(_ buffer: [UInt8]) -> Int? {
        var i = 0
        while i + 3 < buffer.count {
            if buffer[i] == 13, buffer[i + 1] == 10, buffer[i + 2] == 13, buffer[i + 3] == 10 { return i + 4 }
            i += 1
        }
        return nil
    }
}
