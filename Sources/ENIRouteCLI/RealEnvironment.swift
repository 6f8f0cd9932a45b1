import ENIRouteCore
import ENIRouteIMDS
import ENIRouteSystem

#if canImport(Glibc)
    import Glibc
#endif

extension ENIRoute {
    /// Runs eniroute as a process: real kernel, real IMDS, stdout logging. Returns the exit code.
    public static func main(arguments: [String]) -> ExitStatus {
        signal(SIGPIPE, SIG_IGN)
        var variables = processEnvironment()
        // JOURNAL_STREAM is inherited by children: trust it only if stdout is that very stream.
        if let stream = variables["JOURNAL_STREAM"], !stdoutIsJournal(stream) { variables["JOURNAL_STREAM"] = nil }
        let env = CommandEnvironment(
            variables: variables, sink: FileDescriptorSink(fd: 1), output: FileDescriptorSink(fd: 1),
            makeKernel: { try NetlinkKernel() },
            makeMetadata: { (c, o) throws(IMDSError) in try InstanceMetadataFetcher.make(configuration: c, options: o) },
            makeWatchEvents: { try KernelSignalEvents() }, clock: monotonicSeconds, networkd: SystemNetworkdHost(),
            readFile: readTextFile,
            lockPath: variables["ENIROUTE_LOCK"] ?? defaultLockPath)
        return run(arguments: arguments, environment: env)
    }

    static func processEnvironment() -> [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { out[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return out
    }

    static func stdoutIsJournal(_ stream: String) -> Bool {
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let dev = UInt64(parts[0]), let ino = UInt64(parts[1]) else { return false }
        var st = stat()
        guard fstat(1, &st) == 0 else { return false }
        return UInt64(st.st_dev) == dev && UInt64(st.st_ino) == ino
    }

    /// Reads a whole text file (at most 1 MiB); nil if it does not exist.
    static func readTextFile(_ path: String) throws(ConfigurationError) -> String? {
        let fd: Int32
        do {
            fd = try retryOnInterrupt { open(path, O_RDONLY | O_CLOEXEC) }
        } catch .noSuchFileOrDirectory {
            return nil
        } catch {
            throw ConfigurationError(file: path, line: 0, key: nil, message: "open: \(error)")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n: Int
            do {
                n = try retryOnInterrupt { buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
            } catch {
                throw ConfigurationError(file: path, line: 0, key: nil, message: "read: \(error)")
            }
            if n == 0 { break }
            bytes += buffer[0..<n]
            if bytes.count > 1 << 20 { throw ConfigurationError(file: path, line: 0, key: nil, message: "larger than 1 MiB") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
