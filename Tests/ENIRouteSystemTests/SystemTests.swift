import ENIRouteCore
import ENIRouteSystem
import Foundation
import Testing

@Suite("system calls written once")
struct SystemTests {
    @Test("Errno: names, messages, a negative netlink errno, an unnamed number")
    func errnoNames() {
        #expect(Errno.fileExists.description == "File exists (EEXIST)")
        #expect(Errno(-19) == .noSuchDevice)
        #expect(Errno.noSuchDevice.description == "No such device (ENODEV)")
        #expect(Errno.addressNotAvailable.name == "EADDRNOTAVAIL")
        #expect(Errno(200).name == "errno 200")
        #expect(Errno(Int32.min) == Errno(Int32.max))
    }

    @Test("Errno matches in catch: the errno itself, an error carrying it, not another errno")
    func catchPattern() {
        func kind(_ error: any Error) -> String {
            do {
                throw error
            } catch Errno.addressNotAvailable {
                return "gone"
            } catch Errno.fileExists {
                return "exists"
            } catch {
                return "other"
            }
        }
        #expect(kind(Errno.addressNotAvailable) == "gone")
        #expect(kind(SystemCallError("flock /x", .fileExists)) == "exists")
        #expect(kind(SystemCallError("flock /x", .notPermitted)) == "other")
        #expect(kind(CocoaError(.fileNoSuchFile)) == "other")
    }

    @Test("retryOnInterrupt: a result passes through; -1 throws the errno")
    func retry() throws {
        #expect(try retryOnInterrupt { Int32(3) } == 3)
        #expect(throws: Errno.badFileDescriptor) { try retryOnInterrupt { close(-1) } }
    }

    @Test("socket addresses: both families bind on loopback and report the kernel's port")
    func socketAddresses() throws {
        for (text, family) in [("127.0.0.1", AF_INET), ("::1", AF_INET6)] {
            let address = SocketAddress(IPAddress(text)!, port: 0)
            #expect(address.family == family)
            let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
            try #require(fd >= 0)
            defer { close(fd) }
            guard address.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
                // No IPv6 on this host's loopback: nothing to test for that family.
                #expect(family == AF_INET6, "bind \(text): \(Errno.current)")
                continue
            }
            let bound = try SocketAddress.local(of: fd)
            #expect(bound.family == family)
            #expect(bound.port != 0)
        }
    }

    @Test("lock file: a second open of the same file cannot take it until the first unlocks; the directory is created")
    func lockFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "eniroute-lock-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("lock").path
        let first = try LockFile(path: path)
        let second = try LockFile(path: path)
        #expect(try first.tryLock())
        #expect(try !second.tryLock())
        // (`lock(timeout:)`'s SIGALRM would go to any thread of this multi-threaded test
        // process; the CLI's single-threaded run lock is covered by tests/faults f03.)
        first.unlock()
        #expect(try second.tryLock())
        #expect(throws: SystemCallError("mkdir /nonexistent-\(getpid())/a", .noSuchFileOrDirectory)) {
            try LockFile(path: "/nonexistent-\(getpid())/a/lock")
        }
    }

    @Test("text file: read whole; absent is nil; a directory, an unreadable path and an oversized file throw their errno")
    func textFile() throws {
        let dir = "/tmp/eniroute-textfile-\(getpid())"
        mkdir(dir, 0o700)
        defer {
            unlink(dir + "/a.conf")
            rmdir(dir)
        }
        let fd = open(dir + "/a.conf", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0)
        _ = "table-base = 20000\n".withCString { write(fd, $0, strlen($0)) }
        close(fd)
        #expect(try TextFile.read(dir + "/a.conf") == "table-base = 20000\n")
        #expect(try TextFile.read(dir + "/absent.conf") == nil)
        #expect(throws: SystemCallError("read \(dir)", .isADirectory)) { try TextFile.read(dir) }
        #expect(throws: SystemCallError("read \(dir)/a.conf", .fileTooLarge)) {
            try TextFile.read(dir + "/a.conf", limit: 4)
        }
        #expect(throws: SystemCallError("open \(dir)/a.conf/x", Errno(ENOTDIR))) {
            try TextFile.read(dir + "/a.conf/x")
        }
        do {
            _ = try TextFile.read(dir)
            Issue.record("a directory was read")
        } catch Errno.isADirectory {
        } catch {
            Issue.record("not matched as EISDIR: \(error)")
        }
        #expect(
            SystemCallError("read /etc/eniroute/eniroute.conf", .isADirectory).description
                == "read /etc/eniroute/eniroute.conf: Is a directory (EISDIR)")
    }

    @Test("monotonic instants: ordered, and adding ignores negative and non-finite seconds")
    func monotonic() {
        let a = MonotonicInstant.now()
        let b = MonotonicInstant.now()
        #expect(a <= b)
        #expect(a.adding(seconds: -1) == a)
        #expect(a.adding(seconds: .nan) == a)
        #expect(a.adding(seconds: 1.5).seconds(since: a) == 1.5)
    }
}
