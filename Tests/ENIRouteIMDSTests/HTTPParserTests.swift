import Testing

@testable import ENIRouteIMDS

/// Feeds `text` to a parser in pieces of `step` bytes; returns the response or the error.
private func parse(_ text: String, step: Int = .max, maxHeader: Int = 16 * 1024, maxBody: Int = 1024 * 1024, close: Bool = false)
    -> Result<HTTPResponse?, TransportError>
{
    var parser = HTTPResponseParser(maxHeaderBytes: maxHeader, maxBodyBytes: maxBody)
    let bytes = Array(text.utf8)
    var i = 0
    do {
        while i < bytes.count {
            let piece = bytes[i..<min(bytes.count, i + step)]
            i += piece.count
            if let r = try parser.feed(piece) { return .success(r) }
        }
        if close { return .success(try parser.finish()) }
        return .success(nil)
    } catch {
        return .failure(error)
    }
}

@Suite("HTTP response parser")
struct HTTPParserTests {
    @Test("Content-Length body, fed one byte at a time")
    func contentLengthByteByByte() throws {
        let raw = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
        let r = try #require(try parse(raw, step: 1).get())
        #expect(r.status == 200)
        #expect(r.reason == "OK")
        #expect(r.text == "hello")
        #expect(r.keepAlive)
        #expect(r.header("content-type") == "text/plain")
    }

    @Test("incomplete body is not a response")
    func incomplete() throws {
        #expect(try parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello").get() == nil)
    }

    @Test("chunked body with extensions and trailers")
    func chunked() throws {
        let raw =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\n02:\r\n0e\r\n00:00:00:01:0a\r\n0\r\nX-T: 1\r\n\r\n"
        for step in [1, 2, 7, 1000] {
            let r = try #require(try parse(raw, step: step).get())
            #expect(r.text == "02:00:00:00:01:0a")
            #expect(r.keepAlive)
        }
    }

    @Test("chunk data longer than its size is refused")
    func chunkTooLong() {
        let raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n"
        #expect(throws: TransportError.self) { try parse(raw).get() }
    }

    @Test("bad chunk size is refused")
    func badChunkSize() {
        let raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n"
        guard case .failure(.malformedResponse) = parse(raw) else {
            Issue.record("expected malformedResponse")
            return
        }
    }

    @Test("body until close, Connection: close, HTTP/1.0")
    func untilClose() throws {
        let r = try #require(try parse("HTTP/1.1 200 OK\r\n\r\nabc", close: true).get())
        #expect(r.text == "abc")
        #expect(!r.keepAlive)
        let c = try #require(try parse("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").get())
        #expect(c.status == 404)
        #expect(!c.keepAlive)
        let old = try #require(try parse("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx").get())
        #expect(!old.keepAlive)
        let oldKeep = try #require(try parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx").get())
        #expect(oldKeep.keepAlive)
    }

    @Test("interim 100 Continue is skipped")
    func interim() throws {
        let r = try #require(
            try parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", step: 3).get())
        #expect(r.status == 200)
        #expect(r.text == "ok")
    }

    @Test("bare LF line endings are accepted")
    func bareLF() throws {
        let r = try #require(try parse("HTTP/1.1 200 OK\nContent-Length: 2\n\nok").get())
        #expect(r.text == "ok")
    }

    @Test(
        "malformed status lines and headers",
        arguments: [
            "HTTP/2 200 OK\r\n\r\n", "ICY 200 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
        ])
    func malformed(raw: String) {
        guard case .failure(.malformedResponse) = parse(raw) else {
            Issue.record("expected malformedResponse for \(raw.debugDescription)")
            return
        }
    }

    @Test("oversized head is refused, also when it never ends")
    func headTooLarge() {
        let big = "HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "a", count: 2000) + "\r\n\r\n"
        guard case .failure(.tooLarge) = parse(big, maxHeader: 1024) else {
            Issue.record("expected tooLarge")
            return
        }
        let endless = "HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "a", count: 5000)
        guard case .failure(.tooLarge) = parse(endless, step: 100, maxHeader: 1024) else {
            Issue.record("expected tooLarge for a head without end")
            return
        }
    }

    @Test("oversized bodies are refused: Content-Length, chunked and until-close")
    func bodyTooLarge() {
        guard case .failure(.tooLarge) = parse("HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n", maxBody: 1000) else {
            Issue.record("Content-Length over the limit")
            return
        }
        let chunk = String(repeating: "b", count: 600)
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n0\r\n\r\n"
        guard case .failure(.tooLarge) = parse(chunked, maxBody: 1000) else {
            Issue.record("chunked over the limit")
            return
        }
        guard case .failure(.tooLarge) = parse("HTTP/1.1 200 OK\r\n\r\n" + chunk + chunk, maxBody: 1000) else {
            Issue.record("until-close over the limit")
            return
        }
    }

    @Test("a close in the middle is an error, not a short body")
    func closedMidway() {
        guard case .failure(.connectionClosed) = parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel", close: true) else {
            Issue.record("expected connectionClosed mid-body")
            return
        }
        guard case .failure(.connectionClosed) = parse("HTTP/1.1 200 O", close: true) else {
            Issue.record("expected connectionClosed mid-head")
            return
        }
        guard case .failure(.connectionClosed) = parse("", close: true) else {
            Issue.record("expected connectionClosed before any byte")
            return
        }
        guard
            case .failure(.connectionClosed) = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", close: true)
        else {
            Issue.record("expected connectionClosed mid-chunk")
            return
        }
    }

    @Test("bytes after the response are reported as leftover")
    func leftover() throws {
        var p = HTTPResponseParser()
        let r = try p.feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA".utf8))
        #expect(r?.text == "ok")
        #expect(p.leftoverCount == 5)
    }

    @Test("204 has no body")
    func noContent() throws {
        let r = try #require(try parse("HTTP/1.1 204 No Content\r\n\r\n").get())
        #expect(r.status == 204)
        #expect(r.body.isEmpty)
    }

    @Test("requests serialise with Host, headers and Content-Length for PUT")
    func requestBytes() {
        let put = HTTPRequest(
            method: "PUT", path: "/latest/api/token", headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")])
        #expect(
            String(decoding: put.serialized(host: "[fd00:ec2::254]"), as: UTF8.self)
                == "PUT /latest/api/token HTTP/1.1\r\nHost: [fd00:ec2::254]\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\nContent-Length: 0\r\n\r\n"
        )
        let get = HTTPRequest(method: "GET", path: "/latest/meta-data/mac")
        #expect(
            String(decoding: get.serialized(host: "169.254.169.254"), as: UTF8.self)
                == "GET /latest/meta-data/mac HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n")
    }
}

@Suite("IMDS endpoint URLs")
struct EndpointTests {
    @Test(
        "valid endpoints",
        arguments: [
            ("http://169.254.169.254", "169.254.169.254", 80, "http://169.254.169.254"),
            ("http://[fd00:ec2::254]", "fd00:ec2::254", 80, "http://[fd00:ec2::254]"),
            ("http://127.0.0.1:8080", "127.0.0.1", 8080, "http://127.0.0.1:8080"),
            ("http://[::1]:9/", "::1", 9, "http://[::1]:9"),
        ])
    func valid(url: String, address: String, port: Int, canonical: String) throws {
        let e = try IMDSEndpoint(parsing: url)
        #expect(e.address.description == address)
        #expect(Int(e.port) == port)
        #expect(e.description == canonical)
    }

    @Test(
        "invalid endpoints are refused with a reason",
        arguments: [
            "169.254.169.254", "https://169.254.169.254", "http://", "http://imds.local", "http://fd00:ec2::254",
            "http://169.254.169.254/latest", "http://1.2.3.4:0", "http://1.2.3.4:70000", "http://[::1", "http://[::1]x",
            "http://u@1.2.3.4", "http://1.2.3.4:",
        ])
    func invalid(url: String) {
        #expect(throws: IMDSError.self) { try IMDSEndpoint(parsing: url) }
        do {
            _ = try IMDSEndpoint(parsing: url)
        } catch {
            #expect(error.description.contains(url.debugDescription))
            #expect(!error.isTemporary)
        }
    }

    @Test("defaults are IPv4 then IPv6")
    func defaults() {
        #expect(IMDSEndpoint.defaults.map(\.description) == ["http://169.254.169.254", "http://[fd00:ec2::254]"])
    }
}
