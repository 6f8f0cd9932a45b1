import ENIRouteCore
import ENIRouteSystem
import Foundation
import Testing

@testable import ENIRouteCLI

/// `eniroute networkd-keep` against networkd and udev in memory.
@Suite struct NetworkdKeepCommandTests {
    private let eth0Network = "/run/systemd/network/10-netplan-eth0.network"
    private let eth0DropIn = "/run/systemd/network/10-netplan-eth0.network.d/90-eniroute-keep.conf"

    @Test func writesTheDropInForEachENINetworkdManagesThenReloadsOnce() {
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
        #expect(h.networkd.reloads == 1)
        #expect(h.log.lines.last == "networkd: networkctl reload")
    }

    @Test func anUpToDateDropInIsLeftAloneAndNothingIsReloaded() {
        let h = Harness()
        h.networkd.link(2, managed: true, networkFile: eth0Network)
        h.networkd.files[eth0DropIn] = NetworkdKeep.text
        #expect(h.run("networkd-keep") == .success)
        #expect(h.networkd.writes.isEmpty && h.networkd.reloads == 0)
        #expect(h.log.lines.isEmpty)
        h.networkd.files[eth0DropIn] = "[Network]\nKeepConfiguration=yes\n"
        #expect(h.run("networkd-keep") == .success)
        #expect(h.networkd.writes == [eth0DropIn] && h.networkd.reloads == 1, "a changed drop-in is rewritten")
    }

    @Test func failuresAreWarningsAndNeverFailTheBoot() {
        let h = Harness()
        h.networkd.link(2, managed: true, networkFile: eth0Network)
        h.networkd.unwritable = [eth0DropIn]
        #expect(h.run("networkd-keep") == .success)
        #expect(h.networkd.reloads == 0)
        #expect(h.log.lines.contains { $0.hasPrefix("warning: networkd: cannot write \(eth0DropIn): open ") })
        h.networkd.unwritable = []
        h.networkd.reloadStatus = 1
        #expect(h.run("networkd-keep") == .success)
        #expect(h.log.lines.last?.hasPrefix("warning: networkd: networkctl reload failed (status 1)") == true)
    }

    @Test func withoutNetworkdThereIsNothingToDo() {
        let h = Harness()
        #expect(h.run("networkd-keep") == .success)
        #expect(h.networkd.writes.isEmpty && h.networkd.reloads == 0 && h.log.lines.isEmpty)
    }
}

/// The real host's file writing, in a temporary directory (networkctl is never run by tests).
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
