import ENIRouteCore
import ENIRouteSystem

#if canImport(Glibc)
    import Glibc
#endif

/// What `networkd-keep` needs from the system: networkd's and udev's run-time state and the
/// drop-in file. The real one is `SystemNetworkdHost`; tests pass one in memory.
public protocol NetworkdHost: AnyObject {
    /// The interface indexes networkd keeps state for: the numeric entries of
    /// `NetworkdKeep.linkStateDirectory` (none when networkd is not running).
    func linkIndexes() -> [Int]
    /// A text file's contents; nil when it does not exist or cannot be read.
    func read(_ path: String) -> String?
    /// Writes a file atomically (a temporary file, then rename), making its directory; both
    /// readable by everyone (networkd runs as systemd-network) whatever the umask.
    func write(_ text: String, to path: String) throws(SystemCallError)
}

/// The system's networkd state and udev database.
final class SystemNetworkdHost: NetworkdHost {
    func linkIndexes() -> [Int] {
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

    func read(_ path: String) -> String? { (try? TextFile.read(path)) ?? nil }

    func write(_ text: String, to path: String) throws(SystemCallError) {
        guard let slash = path.lastIndex(of: "/") else { throw SystemCallError("write \(path)", .invalidArgument) }
        let dir = String(path[..<slash])
        if mkdir(dir, 0o755) != 0 && Errno.current != .fileExists { throw SystemCallError("mkdir \(dir)", .current) }
        if chmod(dir, 0o755) != 0 { throw SystemCallError("chmod \(dir)", .current) }
        let tmp = path + ".tmp"
        let fd: Int32
        do {
            fd = try retryOnInterrupt { open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        } catch {
            throw SystemCallError("open \(tmp)", error)
        }
        var done = false
        defer {
            close(fd)
            if !done { unlink(tmp) }
        }
        guard fchmod(fd, 0o644) == 0 else { throw SystemCallError("fchmod \(tmp)", .current) }
        let bytes = Array(text.utf8)
        let written: Int
        do {
            written = try retryOnInterrupt { bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } }
        } catch {
            throw SystemCallError("write \(tmp)", error)
        }
        guard written == bytes.count else { throw SystemCallError("write \(tmp) (short)", Errno(EIO)) }
        guard fsync(fd) == 0 else { throw SystemCallError("fsync \(tmp)", .current) }
        guard rename(tmp, path) == 0 else { throw SystemCallError("rename \(tmp)", .current) }
        done = true
    }
}
