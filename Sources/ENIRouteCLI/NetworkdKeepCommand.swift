import ENIRouteCore

#if canImport(Glibc)
    import Glibc
#endif

/// `eniroute networkd-keep`: for every link that is an ENI (udev's `ENIROUTE_MANAGED=1`) and is
/// managed by systemd-networkd, writes the `KeepConfiguration=static` drop-in for its `.network`
/// file (see `NetworkdKeep`) and, when one was new or changed, runs `networkctl reload`. Runs as
/// root (eniroute.service's `ExecStartPre=+`), before eniroute adds addresses. Never fails the
/// boot: problems are logged as warnings and the exit code is 0.
enum NetworkdKeepCommand {
    static func run(_ ctx: CommandContext) -> ExitStatus {
        let log = ctx.logger
        var changed: [String] = []
        for index in linkIndexes() {
            guard let udev = try? ENIRoute.readTextFile("\(NetworkdKeep.udevDataDirectory)/n\(index)"),
                NetworkdKeep.isManagedENI(udevData: udev),
                let state = try? ENIRoute.readTextFile("\(NetworkdKeep.linkStateDirectory)/\(index)"),
                let file = NetworkdKeep.networkFile(linkState: state),
                let dropIn = NetworkdKeep.dropInPath(networkFile: file)
            else { continue }
            if (try? ENIRoute.readTextFile(dropIn)) == NetworkdKeep.text { continue }
            if let error = write(NetworkdKeep.text, to: dropIn) {
                log.warning("networkd: cannot write \(dropIn): \(error)")
                continue
            }
            log.notice("networkd: link \(index) is managed by \(file): wrote \(dropIn) (KeepConfiguration=static)")
            changed.append(dropIn)
        }
        guard !changed.isEmpty else { return .success }
        let status = spawnWait(["networkctl", "reload"])
        if status == 0 {
            log.notice("networkd: networkctl reload")
        } else {
            log.warning("networkd: networkctl reload failed (status \(status)); the drop-in applies from networkd's next reload")
        }
        return .success
    }

    /// The numeric entries of networkd's link state directory (empty when networkd is not running).
    static func linkIndexes() -> [Int] {
        guard let dir = opendir(NetworkdKeep.linkStateDirectory) else { return [] }
        defer { closedir(dir) }
        var out: [Int] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if let i = Int(name), i > 0 { out.append(i) }
        }
        return out.sorted()
    }

    /// Writes a file atomically (a temporary file, then rename), making its directory; both
    /// readable by everyone (networkd runs as systemd-network) whatever the umask (the units
    /// run with UMask=0077). Returns an error text, nil on success.
    static func write(_ text: String, to path: String) -> String? {
        guard let slash = path.lastIndex(of: "/") else { return "not an absolute path" }
        let dir = String(path[..<slash])
        if mkdir(dir, 0o755) != 0 && errno != EEXIST { return "mkdir \(dir): \(String(cString: strerror(errno)))" }
        if chmod(dir, 0o755) != 0 { return "chmod \(dir): \(String(cString: strerror(errno)))" }
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return "\(String(cString: strerror(errno)))" }
        guard fchmod(fd, 0o644) == 0 else {
            close(fd)
            unlink(tmp)
            return "fchmod: \(String(cString: strerror(errno)))"
        }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let failed = n != bytes.count || fsync(fd) != 0
        close(fd)
        if failed || rename(tmp, path) != 0 {
            let e = String(cString: strerror(errno))
            unlink(tmp)
            return e
        }
        return nil
    }

    /// Runs a program (found in PATH) and waits for it; its exit status, or -1.
    static func spawnWait(_ argv: [String]) -> Int32 {
        var pid = pid_t()
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        guard posix_spawnp(&pid, argv[0], nil, nil, &cArgs, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        // WIFEXITED / WEXITSTATUS
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
    }
}
