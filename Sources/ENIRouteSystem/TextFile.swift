#if canImport(Glibc)
    import Glibc
#endif

/// Reading a small text file whole (`cat FILE`), for configuration.
public enum TextFile {
    /// Reads the file (at most `limit` bytes); nil if it does not exist. A larger file is an
    /// `EFBIG` error; any other failure of `open` or `read` carries its errno.
    public static func read(_ path: String, limit: Int = 1 << 20) throws(SystemCallError) -> String? {
        let fd: Int32
        do {
            fd = try retryOnInterrupt { open(path, O_RDONLY | O_CLOEXEC) }
        } catch .noSuchFileOrDirectory {
            return nil
        } catch {
            throw SystemCallError("open \(path)", error)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n: Int
            do {
                n = try retryOnInterrupt { buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) } }
            } catch {
                throw SystemCallError("read \(path)", error)
            }
            if n == 0 { break }
            bytes += buffer[0..<n]
            if bytes.count > limit { throw SystemCallError("read \(path)", .fileTooLarge) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
