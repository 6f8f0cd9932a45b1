import ENIRouteCore

/// A parsed command line.
public struct Invocation: Equatable, Sendable {
    /// The subcommand.
    public enum Command: String, Sendable, CaseIterable {
        /// Configure ENIs (all, or the named interfaces).
        case apply
        /// Show what `apply` would change.
        case plan
        /// Remove eniroute's objects of one ENI.
        case remove
        /// Show eniroute's objects in the kernel.
        case status
        /// Follow IMDS and the kernel, keeping the routing true (long-running).
        case watch
        /// Write the networkd drop-in that keeps eniroute's addresses on ENIs networkd manages (root).
        case networkdKeep = "networkd-keep"
        /// Print the version.
        case version
        /// Print help.
        case help
    }

    /// The subcommand.
    public var command: Command
    /// Interface names (apply, plan, remove).
    public var interfaces: [String] = []
    /// `--mac` for remove.
    public var mac: MACAddress?
    /// `--all` for remove: every object eniroute owns.
    public var all = false
    /// `--json`.
    public var json = false
    /// `--imds-endpoint`, overriding the config file and the environment.
    public var imdsEndpoint: String?
    /// `--imds-deadline` seconds.
    public var imdsDeadline: Double?
    /// `--config`.
    public var configPath: String?
    /// `--log-level`.
    public var logLevel: LogLevel?
    /// `--interval` seconds between the watcher's IMDS polls.
    public var interval: Double?
    /// `--once`: the watcher runs one pass and exits.
    public var once = false

    /// Creates an invocation.
    public init(command: Command) { self.command = command }
}

/// A usage error (exit code 2).
public struct UsageError: Error, Equatable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Parses `eniroute`'s arguments (without the program name).
public enum Arguments {
    /// Parses arguments. Options may come before or after the command.
    public static func parse(_ args: [String]) throws(UsageError) -> Invocation {
        var command: Invocation.Command?
        var inv = Invocation(command: .help)
        var positional: [String] = []
        var i = 0
        func value(_ name: String) throws(UsageError) -> String {
            if let eq = args[i].firstIndex(of: "=") { return String(args[i][args[i].index(after: eq)...]) }
            i += 1
            guard i < args.count else { throw UsageError("\(name) needs a value") }
            return args[i]
        }
        var onlyPositional = false
        while i < args.count {
            let a = args[i]
            let name = a.split(separator: "=", maxSplits: 1).first.map(String.init) ?? a
            if onlyPositional || !a.hasPrefix("-") || a == "-" {
                if command == nil && !onlyPositional {
                    guard let c = Invocation.Command(rawValue: a) else {
                        throw UsageError(
                            "unknown command '\(a)' (commands: apply, plan, remove, status, watch, networkd-keep, version)")
                    }
                    command = c
                } else {
                    positional.append(a)
                }
                i += 1
                continue
            }
            switch name {
            case "--": onlyPositional = true
            case "-h", "--help": command = .help
            case "--version": command = .version
            default: try option(name, argument: a, value: { () throws(UsageError) in try value(name) }, into: &inv)
            }
            i += 1
        }
        inv.command = command ?? .help
        return try checked(inv, positional: positional)
    }

    /// Sets one option of `inv`; `value` takes the option's value (`--name=value` or the next argument).
    private static func option(
        _ name: String, argument: String, value: () throws(UsageError) -> String, into inv: inout Invocation
    ) throws(UsageError) {
        switch name {
        case "--json": inv.json = true
        case "--once": inv.once = true
        case "--all": inv.all = true
        case "--config": inv.configPath = try value()
        case "--mac":
            let v = try value()
            guard let m = MACAddress(v) else { throw UsageError("--mac: not a MAC address: '\(v)'") }
            inv.mac = m
        case "--imds-endpoint":
            let v = try value()
            guard v.hasPrefix("http://") else { throw UsageError("--imds-endpoint: expected an http:// URL, got '\(v)'") }
            inv.imdsEndpoint = v
        case "--imds-deadline":
            let v = try value()
            guard let d = Double(v), d > 0, d <= 3600 else {
                throw UsageError("--imds-deadline: expected seconds in 0…3600, got '\(v)'")
            }
            inv.imdsDeadline = d
        case "--interval":
            let v = try value()
            guard let d = Double(v), d >= 1, d <= 86400 else {
                throw UsageError("--interval: expected seconds in 1…86400, got '\(v)'")
            }
            inv.interval = d
        case "--log-level":
            let v = try value()
            guard let l = LogLevel(name: v) else {
                throw UsageError("--log-level: expected error, warning, notice, info or debug, got '\(v)'")
            }
            inv.logLevel = l
        default: throw UsageError("unknown option '\(argument)'")
        }
    }

    /// Checks the positional arguments and options against the command.
    private static func checked(_ parsed: Invocation, positional: [String]) throws(UsageError) -> Invocation {
        var inv = parsed
        switch inv.command {
        case .apply, .plan:
            inv.interfaces = positional
        case .remove:
            let targets = positional.count + (inv.mac == nil ? 0 : 1) + (inv.all ? 1 : 0)
            guard targets == 1 else {
                throw UsageError("remove takes exactly one of: an interface, --mac MAC, --all")
            }
            inv.interfaces = positional
        case .status, .watch, .networkdKeep, .version, .help:
            guard positional.isEmpty else { throw UsageError("\(inv.command.rawValue) takes no arguments") }
        }
        if (inv.mac != nil || inv.all) && inv.command != .remove { throw UsageError("--mac and --all are only for remove") }
        if inv.json && ![.plan, .status].contains(inv.command) { throw UsageError("--json is only for plan and status") }
        if (inv.interval != nil || inv.once) && inv.command != .watch {
            throw UsageError("--interval and --once are only for watch")
        }
        return inv
    }

    /// The text of `eniroute --help`; kept in step with eniroute(8).
    public static let help = """
        Usage: eniroute COMMAND [OPTIONS]

        Policy routing for multi-ENI EC2 instances: one routing table per ENI, rules that send
        replies from each address out of its own ENI, addresses IMDS lists but the interface lacks.

        Commands:
          apply [IFACE...]         configure all ENIs, or only the named interfaces
          plan [IFACE...] [--json] show what apply would change; changes nothing
          remove IFACE|--mac MAC   remove eniroute's objects of one ENI (also when it is gone)
          remove --all             remove every object eniroute made (the package's removal does)
          status [--json]          show eniroute's rules, routes and addresses in the kernel
          watch [--interval SECONDS] [--once]
                                   follow IMDS and the kernel: configure hot-attached ENIs, follow
                                   secondary IP changes, restore what others delete; SIGHUP reloads
                                   the configuration, SIGTERM stops (nothing is removed)
          networkd-keep            (root; eniroute.service runs it) a KeepConfiguration=static
                                   drop-in for the .network file of each ENI networkd manages
          version                  print the version

        Options:
          --imds-endpoint URL      IMDS base URL (default: config, then ENIROUTE_IMDS_ENDPOINT,
                                   then http://169.254.169.254 and http://[fd00:ec2::254])
          --imds-deadline SECONDS  overall deadline of this run's IMDS work (default 30)
          --config PATH            configuration file (default /etc/eniroute/eniroute.conf)
          --log-level LEVEL        error, warning, notice (default), info or debug
          --interval SECONDS       watch: seconds between IMDS polls (default: watch-interval, 15)
          --once                   watch: one IMDS read and one pass, then exit (exit codes as apply)
          -h, --help               show this help

        Exit codes: 0 done or nothing to do, 1 error, 2 usage, 75 IMDS not ready in time (retry).
        """
}
