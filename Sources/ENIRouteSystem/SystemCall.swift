#if canImport(Glibc)
    import Glibc
#endif

/// Runs a system call that returns `-1` and sets `errno` on failure, again for as long as it
/// fails with `EINTR`; returns its result, or throws its errno.
///
///     let n = try retryOnInterrupt { read(fd, buffer, count) }
@inlinable
public func retryOnInterrupt<Result: FixedWidthInteger>(_ call: () -> Result) throws(Errno) -> Result {
    while true {
        let result = call()
        if result != -1 { return result }
        let e = Errno.current
        if e != .interrupted { throw e }
    }
}
