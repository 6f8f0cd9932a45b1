# shellcheck shell=bash
# VM steps: reboot, package upgrade in place, purge (sourced by vm/ec2/run.sh).

step_reboot() {
    step_begin "$1 reboot: the same state, no duplicate rules"
    local before now boot_start dup
    before=$(managed_snapshot)
    vm_agent "systemctl reboot"
    boot_start=$SECONDS
    if vm_agent_wait_ready 400; then
        vm_agent "systemctl is-system-running --wait" 300
        [ "$VM_OUT" = running ] || expect_fail "system state: $VM_OUT; failed: $(g 'systemctl --failed --no-legend --plain')"
        vm_log "up again $((SECONDS - boot_start)) s after the reboot"
        settled
        dup=$(g "for f in -4 -6; do ip \$f rule show | sed 's/^[0-9]*:\s*//' | sort | uniq -d; done")
        [ -z "$dup" ] || expect_fail "duplicate rules: $dup"
        now=$(managed_snapshot)
        [ "$now" = "$before" ] || expect_fail "eniroute's state differs from before the reboot: $(diff <(echo "$before") <(echo "$now"))"
        local bad
        bad=$(unreachable "${ADDRS_NOW[@]}")
        [ -z "$bad" ] || expect_fail "not reachable after the reboot: $bad"
    else
        expect_fail "no agent within 400 s of the reboot"
    fi
    step_end "up in $((SECONDS - boot_start)) s"
}

step_upgrade() {
    step_begin "$1 package upgrade in place (apt install ./eniroute-newer.deb) under a continuous ping"
    local pid_before pid_after since_stop exe version
    pid_before=$(prop eniroute-watch.service MainPID)
    vm_agent "date +%s.%N" && since_stop=$VM_OUT
    ping_start "${ADDRS_NOW[@]}"
    vm_agent "set -o pipefail; apt-get install -y /var/cache/eniroute-vmtest/eniroute-newer.deb 2>&1 | tail -n 3" 300 ||
        expect_fail "apt install: $VM_OUT"
    vm_guest_wait "systemctl is-active -q eniroute-watch.service" 60 >/dev/null || expect_fail "eniroute-watch not active after the upgrade"
    settled
    ping_stop
    version=$(g "dpkg-query -W -f='\${Version}' eniroute")
    [[ $version == *+vmtest1 ]] || expect_fail "installed version after the upgrade: $version"
    pid_after=$(prop eniroute-watch.service MainPID)
    exe=$(g "readlink /proc/$pid_after/exe")
    [ "$pid_after" != "$pid_before" ] && [ "$exe" = /usr/sbin/eniroute ] ||
        expect_fail "the watcher did not restart on the new binary: MainPID $pid_before -> $pid_after, exe $exe"
    vm_agent "journalctl -o cat --no-pager --since=@$since_stop -u 'eniroute@*' | grep -E '^ip (rule|route|address) del|Stopping' || true"
    [ -z "$VM_OUT" ] || expect_fail "an eniroute@ unit was stopped or removed objects during the upgrade: $VM_OUT"
    [ "$PING_LOST_TOTAL" = 0 ] || expect_fail "packets lost during the upgrade: $PING_LOST"
    vm_log "eniroute $version, watcher PID $pid_before -> $pid_after ($exe), lost $PING_LOST"
    step_end "lost $PING_LOST_TOTAL of $PING_SENT packets, watcher restarted on the new binary, no ExecStop removal"
}

step_purge() {
    step_begin "$1 apt purge eniroute: every eniroute object and file gone (also of an ENI no unit held), the primary still works"
    local files left objects
    # An ENI whose objects no running unit holds (its unit failed, or was stopped, while the watcher
    # configured it): stopping eniroute@ens5 removes them, and the watcher puts them back.
    vm_agent "systemctl stop eniroute@ens5.service" 120 || expect_fail "systemctl stop eniroute@ens5: $VM_OUT"
    vm_guest_wait "! systemctl is-active -q eniroute@ens5.service && ip -4 rule show | grep -qE 'from 10\.0\.3\.10 lookup 10002 proto eniroute'" 60 >/dev/null ||
        expect_fail "the watcher did not restore ens5's rule after its unit stopped: $(g 'systemctl status --no-pager eniroute@ens5.service; ip -4 rule')"
    vm_agent "dpkg -L eniroute | while read -r f; do [ -d \"\$f\" ] || echo \"\$f\"; done"
    files=$VM_OUT
    vm_agent "set -o pipefail; apt-get purge -y eniroute 2>&1 | tail -n 3" 300 || expect_fail "apt purge: $VM_OUT"
    left=$(g "for f in $(tr '\n' ' ' <<<"$files"); do [ -e \"\$f\" ] && echo \"\$f\"; done; ls -d /etc/eniroute /run/eniroute /run/systemd/network/*.network.d/*eniroute* 2>/dev/null; true")
    [ -z "$left" ] || expect_fail "left after purge: $left"
    objects=$(g "{ ip -4 rule; ip -6 rule; ip -4 route show table all; ip -6 route show table all; ip address; } | grep -E 'proto (238|eniroute)' || true")
    [ -z "$objects" ] || expect_fail "eniroute objects left: $objects"
    [ -z "$(unreachable 10.0.1.10)" ] || expect_fail "the primary address 10.0.1.10 is not reachable after the purge"
    step_end "$(grep -c . <<<"$files") package files removed, no proto 238 rule, route or address left (ens5's, held by no unit, too)"
}
