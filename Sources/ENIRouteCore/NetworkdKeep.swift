/// eniroute's runtime drop-in for systemd-networkd: `KeepConfiguration=static` for the `.network`
/// file that manages an ENI's link.
///
/// When networkd (re)configures a link it manages (`networkctl reload` after a changed file,
/// `networkctl reconfigure`, hence every `netplan apply`, which cloud-init runs on each hotplug;
/// a restart of networkd), it removes the link's addresses it did not configure itself, and
/// networkd.conf has no switch for addresses. On an image where networkd manages the primary ENI
/// (netplan from cloud-init), that removes the primary's secondary IPs eniroute added. With
/// `KeepConfiguration=static` networkd leaves addresses without a lifetime (eniroute's) alone;
/// the DHCP address stays networkd's (it still removes and re-adds it on a reconfiguration).
/// Not `yes`: with networkd 257, a link with `KeepConfiguration=yes` and DHCP stays
/// "configuring" after `networkctl reconfigure` and its DHCP routes in `main` are not restored
/// (seen in the Debian 13 VM test).
///
/// The drop-in is written next to networkd's runtime files, as
/// `/run/systemd/network/<name>.network.d/90-eniroute-keep.conf` for the `.network` file `<name>`
/// that networkd reports in `/run/systemd/netif/links/<ifindex>` (`NETWORK_FILE=`); a drop-in
/// directory of that name extends the file wherever it lives (`/run`, `/etc`, `/usr/lib`).
public enum NetworkdKeep {
    /// Where networkd reads runtime configuration.
    public static let runtimeDirectory = "/run/systemd/network"
    /// Where networkd writes each link's state (`<ifindex>` files).
    public static let linkStateDirectory = "/run/systemd/netif/links"
    /// udev's database of network devices (`n<ifindex>` files).
    public static let udevDataDirectory = "/run/udev/data"
    /// The drop-in's file name.
    public static let fileName = "90-eniroute-keep.conf"

    /// The drop-in's text.
    public static let text = """
        # Written by eniroute (eniroute networkd-keep, run by eniroute.service) for a link that is an
        # ENI: networkd keeps the addresses eniroute added (no lifetime) when it reconfigures the link
        # (netplan apply, networkctl reload/reconfigure, a restart). Removed with the package.
        [Network]
        KeepConfiguration=static

        """

    /// The `.network` file that manages a link, from networkd's link state file; nil when the
    /// link is not managed (no `NETWORK_FILE=` line, or an empty one).
    public static func networkFile(linkState: String) -> String? {
        for line in linkState.split(separator: "\n") where line.hasPrefix("NETWORK_FILE=") {
            let value = line.dropFirst("NETWORK_FILE=".count)
            return value.isEmpty ? nil : String(value)
        }
        return nil
    }

    /// Whether udev's database entry of a link marks it as an ENI that eniroute manages
    /// (`E:ENIROUTE_MANAGED=1`, set by 81-eniroute.rules).
    public static func isManagedENI(udevData: String) -> Bool {
        udevData.split(separator: "\n").contains("E:ENIROUTE_MANAGED=1")
    }

    /// The drop-in's path for a `.network` file (any directory); nil when the path does not end
    /// in a plain `<name>.network`.
    public static func dropInPath(networkFile: String) -> String? {
        guard let name = networkFile.split(separator: "/", omittingEmptySubsequences: false).last,
            name.hasSuffix(".network"), name.count > ".network".count, !name.hasPrefix(".")
        else { return nil }
        return "\(runtimeDirectory)/\(name).d/\(fileName)"
    }
}
