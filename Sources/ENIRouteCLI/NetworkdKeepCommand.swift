import ENIRouteCore

/// `eniroute networkd-keep`: for every link that is an ENI (udev's `ENIROUTE_MANAGED=1`) and is
/// managed by systemd-networkd, writes the `KeepConfiguration=static` drop-in for its `.network`
/// file (see `NetworkdKeep`). Runs as root (eniroute.service's `ExecStartPre=-+`), before eniroute
/// adds addresses. It does not ask networkd to reload: a reload reconfigures the link (networkd
/// removes and re-adds its DHCP address), which at boot raced the per-interface units (Debian 12
/// VM test: `eniroute@ens3` failed with "Invalid prefsrc address"). networkd reads the drop-in at
/// its next reload or start: every `netplan apply` begins with `networkctl reload`, and a
/// restart reads it. Never fails the boot: problems are logged as warnings and the exit is 0.
enum NetworkdKeepCommand {
    static func run(_ ctx: CommandContext) -> ExitStatus {
        let log = ctx.logger
        let host = ctx.environment.networkd
        for index in host.linkIndexes() {
            guard let udev = host.read("\(NetworkdKeep.udevDataDirectory)/n\(index)"),
                NetworkdKeep.isManagedENI(udevData: udev),
                let state = host.read("\(NetworkdKeep.linkStateDirectory)/\(index)"),
                let file = NetworkdKeep.networkFile(linkState: state),
                let dropIn = NetworkdKeep.dropInPath(networkFile: file)
            else { continue }
            if host.read(dropIn) == NetworkdKeep.text { continue }
            do {
                try host.write(NetworkdKeep.text, to: dropIn)
            } catch {
                log.warning("networkd: cannot write \(dropIn): \(error)")
                continue
            }
            log.notice(
                "networkd: link \(index) is managed by \(file): wrote \(dropIn) (KeepConfiguration=static; read at networkd's next reload or start)"
            )
        }
        return .success
    }
}
