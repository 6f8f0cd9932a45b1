import ENIRouteCore
import ENIRouteSystem
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The simulator's socket I/O: reading requests, writing replies (whole, or trickled), and the
/// listening socket.
enum Wire {
    /// Reads until `buffer` holds a whole request; `.incomplete` when the peer closed first.
    static func readRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> RequestParser.Outcome {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let outcome = RequestParser.take(from: &buffer)
            if outcome != .incomplete { return outcome }
            guard let n = try? retryOnInterrupt({ chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) } }),
                n > 0
            else { return .incomplete }
            buffer.append(contentsOf: chunk[..<n])
        }
    }

    /// Writes a reply; returns whether the connection may carry another request.
    static func write(
        _ reply: SimulatorReply, to fd: Int32, keepAlive: Bool, mode: IMDSSimulator.WriteMode, simulator: IMDSSimulator
    ) -> Bool {
        let keep = reply.keepsConnection(requested: keepAlive)
        let (head, payload) = reply.wire(keepAlive: keepAlive)
        if let rate = reply.bytesPerSecond {
            // A trickling server: one byte at a time, at `rate` bytes per second, until done, the
            // client goes away or the simulator stops.
            for b in head + payload {
                var one = b
                guard send(fd, &one, 1, Int32(MSG_NOSIGNAL)) == 1, simulator.wait(seconds: 1 / rate) else { return false }
            }
            return keep
        }
        switch mode {
        case .whole: return sendAll(fd, head + payload) && keep
        case .split: return sendAll(fd, head) && (payload.isEmpty || sendAll(fd, payload)) && keep
        }
    }

    private static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = try? retryOnInterrupt {
                bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            }
            guard let n, n > 0 else { return false }
            sent += n
        }
        return true
    }

    /// Makes the coming `close` an abortive one: the peer sees a reset mid-response.
    static func abortOnClose(_ fd: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    /// Never answers: reads and discards whatever the client sends until it closes the
    /// connection or the simulator stops.
    static func discardUntilClosed(_ fd: Int32, simulator: IMDSSimulator) {
        var scratch = [UInt8](repeating: 0, count: 4096)
        while !simulator.lock.withLock({ simulator.stopping }) {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            do {
                if try retryOnInterrupt({ poll(&p, 1, 100) }) > 0,
                    try retryOnInterrupt({ scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) } }) == 0
                {
                    return
                }
            } catch .wouldBlock {
                continue
            } catch {
                return
            }
        }
    }
}

/// The listening socket.
enum Listener {
    /// A listening TCP socket on `address`:`port` and the port it got.
    static func open(_ address: IPAddress, port: UInt16) throws(ScenarioError) -> (Int32, UInt16) {
        let socketAddress = SocketAddress(address, port: port)
        let fd = socket(socketAddress.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ScenarioError("socket(): \(Errno.current)") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if address.family == .inet6 {
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        do {
            guard socketAddress.withSockaddr({ bind(fd, $0, $1) }) == 0, listen(fd, 128) == 0 else { throw Errno.current }
            return (fd, try SocketAddress.local(of: fd).port)
        } catch {
            close(fd)
            throw ScenarioError("cannot listen on \(address):\(port): \(error)")
        }
    }
}

extension IMDSSimulator {
    /// Parses `ADDR:PORT` (`127.0.0.1:0`, `169.254.169.254:80`, `[::1]:8080`).
    public static func parseListenAddress(_ text: String) -> (host: String, port: UInt16)? {
        var host: Substring
        var port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            if host.contains(":") { return nil }
        }
        guard IPAddress(host) != nil, let p = UInt16(port) else { return nil }
        return (String(host), p)
    }
}
