import ENIRouteSystem

#if canImport(Glibc)
    import Glibc
#endif

/// Syslog priorities (<syslog.h>), as journald reads them from `<N>` prefixes: `error` is `LOG_ERR`,
/// `warning` `LOG_WARNING`, `notice` `LOG_NOTICE` (one line per change and the summary), `info`
/// `LOG_INFO`, `debug` `LOG_DEBUG`.
public enum LogLevel: Int, Sendable, Comparable {
    case error = 3, warning = 4, notice = 5, info = 6, debug = 7

    /// Parses `error`, `warning`, `notice`, `info`, `debug`.
    public init?(name: String) {
        switch name.lowercased() {
        case "error", "err": self = .error
        case "warning", "warn": self = .warning
        case "notice": self = .notice
        case "info": self = .info
        case "debug": self = .debug
        default: return nil
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Where log lines go; tests capture them.
public protocol LogSink: AnyObject {
    /// Writes one complete line (without newline).
    func write(line: String)
}

/// Writes lines to a file descriptor (stdout by default) with one `write(2)` per line.
public final class FileDescriptorSink: LogSink {
    private let fd: Int32
    /// Creates a sink on `fd`.
    public init(fd: Int32 = 1) { self.fd = fd }
    public func write(line: String) {
        var bytes = Array(line.utf8)
        bytes.append(10)
        var offset = 0
        while offset < bytes.count {
            guard
                let n = try? retryOnInterrupt({ bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } }),
                n > 0
            else { return }
            offset += n
        }
    }
}

/// The log of a run, journald-compatible: under systemd (`JOURNAL_STREAM` set) each line starts with its
/// `<N>` syslog priority; on a terminal lines are plain, warnings and errors marked in words.
public final class JournalLog {
    /// The most verbose level written.
    public let level: LogLevel
    /// Whether `<N>` prefixes are written.
    public let journal: Bool
    private let sink: any LogSink

    /// Creates a log.
    public init(level: LogLevel = .notice, journal: Bool, sink: any LogSink = FileDescriptorSink()) {
        self.level = level
        self.journal = journal
        self.sink = sink
    }

    /// Writes `message` at `level` (multi-line messages become several lines).
    public func log(_ lvl: LogLevel, _ message: String) {
        guard lvl <= level else { return }
        for line in message.split(separator: "\n", omittingEmptySubsequences: false) {
            if journal {
                sink.write(line: "<\(lvl.rawValue)>\(line)")
            } else {
                switch lvl {
                case .error: sink.write(line: "error: \(line)")
                case .warning: sink.write(line: "warning: \(line)")
                default: sink.write(line: String(line))
                }
            }
        }
    }

    /// `log(.error, …)`.
    public func error(_ m: String) { log(.error, m) }
    /// `log(.warning, …)`.
    public func warning(_ m: String) { log(.warning, m) }
    /// `log(.notice, …)`.
    public func notice(_ m: String) { log(.notice, m) }
    /// `log(.info, …)`.
    public func info(_ m: String) { log(.info, m) }
    /// `log(.debug, …)`.
    public func debug(_ m: String) { log(.debug, m) }
}
