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
            readFile: { path throws(SystemCallError) in try TextFile.read(path) },
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
}
