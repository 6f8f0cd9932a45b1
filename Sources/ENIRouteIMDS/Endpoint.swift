import ENIRouteCore

/// Where IMDS listens: `http://` with a literal IPv4 or bracketed IPv6 address and an optional
/// port, no path. Host names are refused on purpose: resolving one would need DNS, which may
/// itself depend on the network eniroute is about to configure.
public struct IMDSEndpoint: Hashable, Sendable, CustomStringConvertible {
    /// The server address.
    public var address: IPAddress
    /// The TCP port (80 unless the URL says otherwise).
    public var port: UInt16

    /// Creates an endpoint from parts.
    public init(address: IPAddress, port: UInt16 = 80) {
        self.address = address
        self.port = port
    }

    /// Parses `http://169.254.169.254`, `http://[fd00:ec2::254]`, `http://127.0.0.1:8080`
    /// (a single trailing `/` is allowed).
    public init(parsing url: String) throws(IMDSError) {
        func fail(_ why: String) -> IMDSError { .invalidEndpoint(url: url, reason: why) }
        guard url.hasPrefix("http://") else {
            throw fail(url.hasPrefix("https://") ? "IMDS speaks plain http://, not https://" : "expected an http:// URL")
        }
        var rest = Substring(url.dropFirst("http://".count))
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty else { throw fail("no address") }
        guard !rest.contains("/"), !rest.contains("?"), !rest.contains("#") else {
            throw fail("a path is not allowed: give only http://ADDRESS[:PORT]")
        }
        guard !rest.contains("@") else { throw fail("user information is not allowed") }
        var hostPart: Substring
        var portPart: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("missing ']' after the IPv6 address") }
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after ']'") }
                portPart = after.dropFirst()
            }
            guard let v6 = IPv6Address(hostPart) else { throw fail("'\(hostPart)' is not an IPv6 address") }
            address = .v6(v6)
        } else {
            if let colon = rest.firstIndex(of: ":") {
                hostPart = rest[..<colon]
                portPart = rest[rest.index(after: colon)...]
                if portPart?.contains(":") == true {
                    throw fail("an IPv6 address must be in brackets: http://[ADDRESS]")
                }
            } else {
                hostPart = rest
            }
            guard let v4 = IPv4Address(hostPart) else {
                throw fail("'\(hostPart)' is not a literal IPv4 address (host names are not resolved)")
            }
            address = .v4(v4)
        }
        if let p = portPart {
            guard !p.isEmpty, p.count <= 5, p.allSatisfy({ $0.isASCII && $0.isNumber }), let n = UInt16(p), n > 0 else {
                throw fail("'\(p)' is not a port number in 1…65535")
            }
            port = n
        } else {
            port = 80
        }
    }

    /// The default endpoints, tried in this order: `http://169.254.169.254`, then `http://[fd00:ec2::254]`.
    public static let defaults: [IMDSEndpoint] = [
        IMDSEndpoint(address: .v4(IPv4Address(169, 254, 169, 254))),
        IMDSEndpoint(address: IPAddress("fd00:ec2::254")!),
    ]

    /// The `Host` header value (`169.254.169.254`, `[fd00:ec2::254]:8080`).
    public var hostHeader: String {
        let host: String
        switch address {
        case .v4(let a): host = a.description
        case .v6(let a): host = "[\(a)]"
        }
        return port == 80 ? host : "\(host):\(port)"
    }

    /// The URL form, e.g. `http://[fd00:ec2::254]`.
    public var description: String { "http://" + hostHeader }

    /// The URL of `path` on this endpoint.
    public func url(_ path: String) -> String { description + path }
}
