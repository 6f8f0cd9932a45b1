import ENIRouteCore

/// `eniroute networkd-keep`: for every link that is an ENI (udev's `ENIROUTE_MANAGED=1`) and is
/// managed by systemd-networkd, writes the `KeepConfiguration=static` drop-in for its `.network`
/// file (see `NetworkdKeep`) and, when one was new or changed, runs `networkctl reload`. Runs as
/// root (eniroute.service's `ExecStartPre=+`), before eniroute adds addresses. Never fails the
/// boot: problems are logged as warnings and the exit code is 0.
enum NetworkdKeepCommand {
    static func run(_ ctx: CommandContext) -> ExitStatus {
        let log = ctx.logger
        let host = ctx.environment.networkd
        var changed: [String] = []
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
            log.notice("networkd: link \(index) is managed by \(file): wrote \(dropIn) (KeepConfiguration=static)")
            changed.append(dropIn)
        }
        guard !changed.isEmpty else { return .success }
        let status = host.networkctlReload()
        if status == 0 {
            log.notice("networkd: networkctl reload")
        } else {
            log.warning("networkd: networkctl reload failed (status \(status)); the drop-in applies from networkd's next reload")
        }
        return .success
    }
}
