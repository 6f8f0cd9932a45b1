import ENIRouteCore
import ENIRouteSystem
import Foundation
import Testing

@testable import ENIRouteCLI

/// `eniroute networkd-keep` against networkd and udev in memory.
@Suite struct NetworkdKeepCommandTests {
    private let eth0Network = "/run/systemd/network/10-netplan-eth0.network"
    private let eth0DropIn = "/run/systemd/network/10-netplan-eth0.network.d/90-eniroute-keep.conf"

    /// networkd is not reloaded (the Debian 12 VM test: a reload at boot reconfigured the primary
    /// and raced eniroute@ens3); the log says when the drop-in takes effect.
    @Test func writesTheDropInForEachENINetworkdManagesWithoutReloadingIt() {
        let h = Harness()
        h.networkd.link(2, managed: true, networkFile: eth0Network)
        h.networkd.link(3, managed: true, networkFile: "/etc/systemd/network/20-eth1.network")
        h.networkd.link(4, managed: false, networkFile: "/etc/systemd/network/30-br0.network")
        h.networkd.link(5, managed: true, networkFile: nil)
        #expect(h.run("networkd-keep") == .success)
        #expect(
            h.networkd.writes == [eth0DropIn, "/run/systemd/network/20-eth1.network.d/90-eniroute-keep.conf"],
            "only ENIs, only those networkd manages")
        #expect(h.networkd.files[eth0DropIn] == NetworkdKeep.text)
        #expect(h.log.lines.count == 2)
        #expect(h.log.lines.allSatisfy { $0.hasSuffix("(KeepConfiguration=static; read at networkd's next reload or start)") })
    }

    @Test func anUpToDateDropInIsLeftAlone() {
        let h = Harness()
        h.networkd.link(2, managed: true, networkFile: eth0Network)
        h.networkd.files[eth0DropIn] = NetworkdKeep.text
        #expect(h.run("networkd-keep") == .success)
        #expect(h.networkd.writes.isEmpty)
        #expect(h.log.lines.isEmpty)
        h.networkd.files[eth0DropIn] = "[Network]\nKeepConfiguration=yes\n"
        #expect(h.run("networkd-keep") == .success)
        #expect(h.networkd.writes == [eth0DropIn], "a changed drop-in is rewritten")
    }

    @Test func failuresAreWarningsAndNeverFailTheBoot() {
        let h = Harness()
        h.networkd.link(2, managed: true, networkFile: eth0Network)
        h.networkd.unwritable = [eth0DropIn]
        #expect(h.run("networkd-keep") == .success)
        #expect(h.log.lines.contains { $0.hasPrefix("warning: networkd: cannot write \(eth0DropIn): open ") })
    }

    @Test func withoutNetworkdThereIsNothingToDo() {
        let h = Harness()
        #expect(h.run("networkd-keep") == .success)
        #expect(h.networkd.writes.isEmpty && h.log.lines.isEmpty)
    }
}

/// The real host's file writing, in a temporary directory.
@Suite struct SystemNetworkdHostTests {
    @Test func writesAtomicallyReadableByEveryoneWhateverTheUmask() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("eniroute-networkd-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let host = SystemNetworkdHost()
        let path = base + "/10-netplan-eth0.network.d/90-eniroute-keep.conf"
        let old = umask(0o077)
        defer { umask(old) }
        try host.write(NetworkdKeep.text, to: path)
        #expect(host.read(path) == NetworkdKeep.text)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
        let dir = try FileManager.default.attributesOfItem(atPath: base + "/10-netplan-eth0.network.d")
        #expect((dir[.posixPermissions] as? Int) == 0o755)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        #expect(throws: SystemCallError.self) { try host.write("x", to: base + "/missing/deeper/file.conf") }
    }
}
