import ENIRouteCore
import ENIRouteSystem

/// eniroute's version, as `eniroute version` and the IMDS User-Agent show it.
public let eniRouteVersion = "0.1.0"

/// What every command gets.
struct CommandContext {
    var invocation: Invocation
    var configuration: Configuration
    var logger: JournalLog
    var environment: CommandEnvironment

    /// The kernel connection, behind `ChangeGuard`: every command applies through this.
    func openKernel() throws -> GuardedKernel { GuardedKernel(try environment.makeKernel()) }

    /// Takes the run lock that serialises `apply` and `remove` runs (nil when locking is off),
    /// waiting at most twice the IMDS deadline plus 10 s for another run to finish.
    func takeRunLock() throws(RunLockError) -> RunLock? {
        guard let path = environment.lockPath else { return nil }
        return try RunLock(path: path, timeout: UInt32(configuration.imdsDeadline * 2 + 10)) {
            logger.info("waiting for another eniroute run to finish")
        }
    }
}

/// The command-line program.
public enum ENIRoute {
    /// Default configuration file.
    public static let defaultConfigPath = "/etc/eniroute/eniroute.conf"
    /// Default lock file.
    public static let defaultLockPath = "/run/eniroute/lock"

    /// Runs one invocation and returns the process exit code.
    public static func run(arguments: [String], environment env: CommandEnvironment) -> ExitStatus {
        let journal = env.variables["JOURNAL_STREAM"] != nil
        let invocation: Invocation
        do {
            invocation = try Arguments.parse(arguments)
        } catch {
            JournalLog(level: .error, journal: journal, sink: env.sink).error("\(error.message)\nTry 'eniroute --help'.")
            return .usage
        }
        let level = invocation.logLevel ?? env.variables["ENIROUTE_LOG_LEVEL"].flatMap(LogLevel.init(name:)) ?? .notice
        let logger = JournalLog(level: level, journal: journal, sink: env.sink)
        // Runs a command that needs the configuration, once it is read.
        func configured(_ command: (CommandContext) -> ExitStatus) -> ExitStatus {
            do throws(ConfigurationLoadError) {
                let configuration = try loadConfiguration(invocation: invocation, environment: env)
                return command(
                    CommandContext(invocation: invocation, configuration: configuration, logger: logger, environment: env))
            } catch {
                logger.error("configuration: \(error)")
                return .failure
            }
        }
        switch invocation.command {
        case .help:
            for line in Arguments.help.split(separator: "\n", omittingEmptySubsequences: false) {
                env.output.write(line: String(line))
            }
            return .success
        case .version:
            env.output.write(line: "eniroute \(eniRouteVersion)")
            return .success
        case .apply: return configured { ApplyCommand.run($0, dryRun: false) }
        case .plan: return configured { ApplyCommand.run($0, dryRun: true) }
        case .remove: return configured(RemoveCommand.run)
        case .status: return configured(StatusCommand.run)
        case .watch: return configured(WatchCommand.run)
        case .networkdKeep: return configured(NetworkdKeepCommand.run)
        }
    }

    /// Reads the configuration file (explicit `--config` must exist; the default may be absent) and
    /// applies overrides: `--imds-endpoint` > `ENIROUTE_IMDS_ENDPOINT` > file; `--imds-deadline` > file.
    static func loadConfiguration(
        invocation: Invocation, environment env: CommandEnvironment
    ) throws(ConfigurationLoadError) -> Configuration {
        let path = invocation.configPath ?? env.variables["ENIROUTE_CONFIG"] ?? defaultConfigPath
        var c = Configuration()
        let text: String?
        do { text = try env.readFile(path) } catch { throw .file(error) }
        if let text {
            do { c = try Configuration.parse(text, file: path) } catch { throw .invalid(error) }
        } else if invocation.configPath != nil {
            throw .file(SystemCallError("open \(path)", .noSuchFileOrDirectory))
        }
        if let e = invocation.imdsEndpoint {
            c.imdsEndpoints = [e]
        } else if let e = env.variables["ENIROUTE_IMDS_ENDPOINT"], !e.isEmpty {
            guard e.hasPrefix("http://") else {
                throw .invalid(
                    ConfigurationError(file: "ENIROUTE_IMDS_ENDPOINT", line: 0, key: nil, message: "expected an http:// URL"))
            }
            c.imdsEndpoints = [e]
        }
        if let d = invocation.imdsDeadline { c.imdsDeadline = d }
        return c
    }
}
