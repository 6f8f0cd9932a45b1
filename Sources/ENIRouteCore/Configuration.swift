/// eniroute's settings, from `/etc/eniroute/eniroute.conf` (`key = value`) and command-line options.
public struct Configuration: Sendable, Equatable {
    /// First table number; an ENI's table is `tableBase + 100·network_card + device_number`.
    public var tableBase: UInt32 = 10000
    /// Priority of the `lookup main suppress_ifgroup` rule; per-ENI rules follow it at
    /// `rulePriority + 1 + (table − tableBase)`.
    public var rulePriority: UInt32 = 10000
    /// Interface group eniroute puts ENIs in, for the `suppress_ifgroup` rule.
    public var interfaceGroup: UInt32 = 10000
    /// IMDS endpoints, tried in order.
    public var imdsEndpoints: [String] = ["http://169.254.169.254", "http://[fd00:ec2::254]"]
    /// Overall deadline of one run's IMDS work, in seconds.
    public var imdsDeadline: Double = 30
    /// Timeout of one IMDS request, in seconds.
    public var imdsRequestTimeout: Double = 2
    /// Whether IMDSv1 (no token) may be used when the token request fails.
    public var imdsV1: Bool = false
    /// Seconds between the watcher's IMDS polls.
    public var watchInterval: Double = 15
    /// Whether IPv6 addresses, routes and rules are managed.
    public var ipv6: Bool = true
    /// Whether the primary ENI gets rules and a table too (needed when two ENIs share a subnet).
    public var primaryRules: Bool = true
    /// Whether eniroute adds IMDS-listed addresses missing from interfaces.
    public var manageAddresses: Bool = true
    /// ENIs left alone: MAC addresses, `eni-…` ids or interface-name globs (`eth*`).
    public var unmanaged: [String] = []
    /// The MTU of an ENI eniroute brings up itself (it was down, or had none of its addresses).
    public var mtu: MTUSetting = .auto

    /// Where an ENI's MTU comes from when eniroute brings the ENI up itself; an interface that
    /// was already up and addressed keeps the MTU someone else gave it, whatever the setting.
    public enum MTUSetting: Sendable, Equatable {
        /// The VPC's: the primary ENI's MTU (DHCP set it: 9001 on current instance types).
        case auto
        /// Never change an MTU.
        case keep
        /// This value.
        case value(UInt32)
    }

    /// MTUs eniroute sets: IPv6 needs 1280; ENA's largest is 9216.
    public static let mtuRange: ClosedRange<UInt32> = 1280...9216

    /// The defaults.
    public init() {}

    /// The table of an ENI.
    public func table(networkCard: UInt32, deviceNumber: UInt32) -> UInt64 {
        UInt64(tableBase) + 100 * UInt64(networkCard) + UInt64(deviceNumber)
    }

    /// Whether an ENI is excluded by `unmanaged`.
    public func isUnmanaged(mac: MACAddress, interfaceID: String?, name: String?) -> Bool {
        for entry in unmanaged {
            if let m = MACAddress(entry), m == mac { return true }
            if entry.hasPrefix("eni-") {
                if entry == interfaceID { return true }
                continue
            }
            if let name, Glob.matches(pattern: entry, name) { return true }
        }
        return false
    }
}

/// A configuration file error, naming file, line and key.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// The file.
    public var file: String
    /// The 1-based line.
    public var line: Int
    /// The key, if the line had one.
    public var key: String?
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(file: String, line: Int, key: String?, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        "\(file):\(line): " + (key.map { "\($0): " } ?? "") + message
    }
}

extension Configuration {
    /// Every key the file may set, with a one-line description (for `--help`, docs and errors).
    public static let keys: [(key: String, help: String)] = [
        ("table-base", "first routing table; table = base + 100*network-card + device-number"),
        ("rule-priority", "priority of the suppress_ifgroup rule; ENI rules follow it"),
        ("interface-group", "interface group of managed ENIs"),
        ("imds-endpoints", "IMDS base URLs, tried in order"),
        ("imds-deadline", "seconds for all IMDS work of one run"),
        ("imds-request-timeout", "seconds for one IMDS request"),
        ("imds-v1", "allow IMDSv1 when no token can be had (yes/no)"),
        ("watch-interval", "seconds between the watcher's IMDS polls"),
        ("ipv6", "manage IPv6 (yes/no)"),
        ("primary-rules", "give the primary ENI a table and rules too (yes/no)"),
        ("manage-addresses", "add IMDS-listed addresses missing on interfaces (yes/no)"),
        ("unmanaged", "ENIs to leave alone: MACs, eni- ids or name globs"),
        ("mtu", "MTU of ENIs eniroute brings up: auto (the primary ENI's), keep, or a number"),
    ]

    /// Parses a configuration file's text over the defaults. Unknown keys, bad values and duplicate
    /// keys are errors: a unit that runs as root at boot must fail rather than guess.
    public static func parse(_ text: String, file: String) throws(ConfigurationError) -> Configuration {
        var c = Configuration()
        var seen: Set<String> = []
        var lineNumber = 0
        // "\r\n" is one Character in Swift: split on both so CRLF files parse like LF files.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            line = IMDSText.trim(line)
            if line.isEmpty { continue }
            guard let eq = line.firstIndex(of: "=") else {
                throw ConfigurationError(file: file, line: lineNumber, key: nil, message: "expected 'key = value'")
            }
            let key = String(IMDSText.trim(line[..<eq]))
            let value = String(IMDSText.trim(line[line.index(after: eq)...]))
            func fail(_ message: String) -> ConfigurationError {
                ConfigurationError(file: file, line: lineNumber, key: key, message: message)
            }
            guard keys.contains(where: { $0.key == key }) else {
                throw fail("unknown key (known: \(keys.map(\.key).joined(separator: ", ")))")
            }
            guard seen.insert(key).inserted else { throw fail("set twice") }
            func uint(_ range: ClosedRange<UInt32>) throws(ConfigurationError) -> UInt32 {
                guard let n = UInt32(value), range.contains(n) else {
                    throw fail(
                        "expected a whole number in \(range.lowerBound)…\(range.upperBound), got \(value.debugDescription)")
                }
                return n
            }
            func seconds(_ range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
                guard let n = Double(value), n.isFinite, range.contains(n) else {
                    throw fail("expected seconds in \(range.lowerBound)…\(range.upperBound), got \(value.debugDescription)")
                }
                return n
            }
            func bool() throws(ConfigurationError) -> Bool {
                switch value.lowercased() {
                case "yes", "true", "on", "1": return true
                case "no", "false", "off", "0": return false
                default: throw fail("expected yes or no, got \(value.debugDescription)")
                }
            }
            let list = value.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map(String.init)
            switch key {
            case "table-base": c.tableBase = try uint(256...4_000_000_000)
            case "rule-priority": c.rulePriority = try uint(1...30000)
            case "interface-group": c.interfaceGroup = try uint(1...UInt32.max)
            case "imds-endpoints":
                guard !list.isEmpty, list.allSatisfy({ $0.hasPrefix("http://") }) else {
                    throw fail("expected one or more http:// URLs")
                }
                c.imdsEndpoints = list
            case "imds-deadline": c.imdsDeadline = try seconds(1...3600)
            case "imds-request-timeout": c.imdsRequestTimeout = try seconds(0.1...60)
            case "imds-v1": c.imdsV1 = try bool()
            case "watch-interval": c.watchInterval = try seconds(1...86400)
            case "ipv6": c.ipv6 = try bool()
            case "primary-rules": c.primaryRules = try bool()
            case "manage-addresses": c.manageAddresses = try bool()
            case "unmanaged": c.unmanaged = list
            case "mtu":
                switch value {
                case "auto": c.mtu = .auto
                case "keep": c.mtu = .keep
                default: c.mtu = .value(try uint(mtuRange))
                }
            default: throw fail("unknown key")
            }
        }
        if c.rulePriority > 30000 || UInt64(c.tableBase) + 10000 > UInt64(UInt32.max) {
            throw ConfigurationError(file: file, line: lineNumber, key: nil, message: "table-base or rule-priority out of range")
        }
        return c
    }
}

/// Shell-style globs (`*`, `?`) for interface names.
public enum Glob {
    /// Whether `name` matches `pattern`.
    public static func matches(pattern: String, _ name: String) -> Bool {
        let p = Array(pattern)
        let n = Array(name)
        var pi = 0
        var ni = 0
        var star = -1
        var mark = 0
        while ni < n.count {
            if pi < p.count, p[pi] == "?" || p[pi] == n[ni] {
                pi += 1
                ni += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi
                mark = ni
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ni = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
