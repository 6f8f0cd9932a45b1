import ENIRouteCore
import Testing

@Suite("networkd KeepConfiguration drop-in")
struct NetworkdKeepTests {
    // A link state file as networkd 257 writes it for netplan's primary NIC.
    let state = """
        # This is private data. Do not parse.
        ADMIN_STATE=configured
        OPER_STATE=routable
        REQUIRED_FOR_ONLINE=yes
        NETWORK_FILE=/run/systemd/network/10-netplan-ens5.network
        NETWORK_FILE_DROPINS=""
        DNS=
        """

    @Test func networkFileFromLinkState() {
        #expect(NetworkdKeep.networkFile(linkState: state) == "/run/systemd/network/10-netplan-ens5.network")
    }

    @Test(arguments: ["", "ADMIN_STATE=unmanaged\nOPER_STATE=off\n", "NETWORK_FILE=\n", "X_NETWORK_FILE=/a.network\n"])
    func unmanagedLinkHasNoNetworkFile(text: String) {
        #expect(NetworkdKeep.networkFile(linkState: text) == nil)
    }

    @Test func dropInBesideNetworkdsRuntimeFiles() {
        #expect(
            NetworkdKeep.dropInPath(networkFile: "/run/systemd/network/10-netplan-ens5.network")
                == "/run/systemd/network/10-netplan-ens5.network.d/90-eniroute-keep.conf")
        // A file in /etc or /usr/lib gets its drop-in in /run too (same name, any directory).
        #expect(
            NetworkdKeep.dropInPath(networkFile: "/etc/systemd/network/10-primary.network")
                == "/run/systemd/network/10-primary.network.d/90-eniroute-keep.conf")
    }

    @Test(arguments: ["", "/run/systemd/network/", "/x/.network", "/x/a.netdev", "/x/a.network/", "a.network.d"])
    func noDropInForOtherPaths(path: String) {
        #expect(NetworkdKeep.dropInPath(networkFile: path) == nil)
    }

    @Test func onlyLinksUdevMarkedAsManagedENIs() {
        #expect(NetworkdKeep.isManagedENI(udevData: "I:123\nE:ID_NET_DRIVER=ena\nE:ENIROUTE_MANAGED=1\nG:systemd\n"))
        #expect(!NetworkdKeep.isManagedENI(udevData: "I:123\nE:ID_NET_DRIVER=ena\nE:ENIROUTE_MANAGED=0\n"))
        #expect(!NetworkdKeep.isManagedENI(udevData: "I:123\nE:ID_NET_DRIVER=veth\n"))
    }

    @Test func dropInKeepsTheLinksConfiguration() {
        let lines = NetworkdKeep.text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(lines == ["[Network]", "KeepConfiguration=static"])
    }
}
