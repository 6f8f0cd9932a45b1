# shellcheck shell=bash
# VM steps: first boot, hot attach, hot detach, reboot (sourced by vm/ec2/run.sh).

ADDRS_BOOT=(10.0.1.10 10.0.1.11 10.0.1.12 10.0.2.10 2001:db8:2::10 10.0.3.10)

# reachable ADDRESS...: 3 source-checked pings to each; prints the ones that failed.
unreachable() {
    local a src bad=()
    for a in "$@"; do
        if [[ $a == *:* ]]; then src=$EC2_CLIENT6; else src=$EC2_CLIENT4; fi
        vm_in_ns ping -n -q -c 3 -i 0.3 -W 2 -I "$src" "$a" >/dev/null 2>&1 || bad+=("$a")
    done
    printf '%s' "${bad[*]}"
}

# no_foreign_policy_routing: no rule but the kernel's defaults and eniroute's, no table 100-9999
# (cloud-init's policy routing uses 100 + NIC index), no routing-policy in netplan.
no_foreign_policy_routing() {
    vm_agent "{ ip -4 rule show; ip -6 rule show; } | grep -vE '^(0|32766|32767):|proto eniroute'; ip -4 route show table all | grep -E 'table (1[0-9]{2,3}|[2-9][0-9]{2,3})( |\$)'; grep -rl 'routing-policy' /etc/netplan/ 2>/dev/null; true"
    [ -z "$VM_OUT" ] || expect_fail "policy routing besides eniroute's: $VM_OUT"
}

# mtus IFACE...: "ens3=9001 ens4=9001 ..."
mtus() {
    local i out=
    for i in "$@"; do out+="$i=$(g "cat /sys/class/net/$i/mtu") "; done
    printf '%s' "${out% }"
}

# dhcp_probes: DHCP requests the router saw on the secondary ENIs' ports (cloud-init's probe).
dhcp_probes() { grep -cE 'DHCP[A-Z]*\(tap[1-9]\)' "$VM_RUN/dhcp.log" 2>/dev/null || true; }

# settled: networkd has the primary configured and every address of the first boot is there
# (the pings' last second is not counted, so a loss right at the end is still seen as in flight).
settled() {
    vm_guest_wait "networkctl list ens3 --no-legend | grep -q ' configured' && ip -br address show | grep -q ' 10.0.1.12/' && ip -br address show | grep -q ' 10.0.1.11/'" 60 >/dev/null ||
        expect_fail "not settled within 60 s: $(g 'networkctl list; ip -br address')"
}

step_first_boot() {
    step_begin "1 first boot with 3 ENIs (cloud-init's real first boot)"
    local boot_start=$SECONDS state ci er_exit final_start missing
    ec2_qemu_start "$IMG"
    if ! vm_agent_wait_ready 400; then
        expect_fail "the guest agent did not start within 400 s (console: $VM_RUN/console.log)"
        step_end
        return 1
    fi
    vm_log "guest agent up $((SECONDS - boot_start)) s after QEMU started"
    vm_agent "cloud-init status --wait >/dev/null; cloud-init status --long" 600
    ci=$VM_OUT
    vm_log "cloud-init done $((SECONDS - boot_start)) s after QEMU started: $(tr '\n' ';' <<<"$ci" | cut -c1-300)"
    grep -q '^status: done' <<<"$ci" || expect_fail "cloud-init status: $ci"
    vm_agent "systemctl is-system-running --wait" 300
    state=$VM_OUT
    [ "$state" = running ] || expect_fail "system state: $state; failed: $(g 'systemctl --failed --no-legend --plain')"
    vm_log "cloud-id $(g 'cloud-id'), hostname $(g 'hostname'), datasource $(g "cloud-init query ds.meta_data.instance_id 2>/dev/null || cloud-init query v1.instance_id")"
    [ "$(g 'cloud-id')" = aws ] || expect_fail "cloud-id is not aws: $(g 'cloud-id; cat /run/cloud-init/ds-identify.log | tail -5')"
    [ "$(g hostname)" = ip-10-0-1-10 ] || expect_fail "hostname from IMDS not set: $(g hostname)"
    # eniroute was done before cloud-final began, and what cloud-final saw already had everything.
    er_exit=$(prop eniroute.service ExecMainExitTimestampMonotonic)
    final_start=$(prop cloud-final.service ExecMainStartTimestampMonotonic)
    [ "$(prop eniroute.service Result)" = success ] && [ "${er_exit:-0}" -gt 0 ] && [ "${final_start:-0}" -gt "$er_exit" ] ||
        expect_fail "eniroute.service $(prop eniroute.service Result) exit at ${er_exit:-?} us, cloud-final started at ${final_start:-?} us"
    vm_log "eniroute.service finished $(((final_start - er_exit) / 1000)) ms before cloud-final started"
    vm_agent "cat /run/eniroute-vmtest-at-cloud-final"
    missing=$(for a in "${ADDRS_BOOT[@]}"; do grep -q "from $a lookup" <<<"$VM_OUT" && grep -q " $a/" <<<"$VM_OUT" || echo "$a"; done)
    [ -z "$missing" ] || expect_fail "when cloud-final ran the user-data, no rule or address for: $(tr '\n' ' ' <<<"$missing") ($VM_OUT)"
    local bad
    bad=$(unreachable "${ADDRS_BOOT[@]}")
    [ -z "$bad" ] || expect_fail "not reachable through the source-checked router: $bad"
    no_foreign_policy_routing
    local probes
    probes=$(dhcp_probes)
    [ "$probes" = 0 ] || expect_fail "DHCP requests on secondary ENIs' ports: $(grep -E '\(tap[1-9]\)' "$VM_RUN/dhcp.log" | head -5)"
    local m
    m=$(mtus ens3 ens4 ens5)
    [ "${m%% *}" = "ens3=9001" ] || expect_fail "the primary's MTU is not DHCP's 9001: $m"
    vm_log "netplan: $(g 'cat /etc/netplan/*.yaml 2>/dev/null | grep -v "^#" | tr -s " " | tr "\n" " "')"
    vm_log "IMDS: $(grep -c -- '-> 200' "$VM_RUN/sim.log" || true) requests answered 200, 404 for: $(grep -- '-> 404' "$VM_RUN/sim.log" | awk '{print $3}' | sort -u | tr '\n' ' ')"
    STATE_BOOT=$(managed_snapshot)
    step_end "all ${#ADDRS_BOOT[@]} addresses reachable, $m, DHCP probes on secondary ENIs $probes, cloud-init done $((SECONDS - boot_start)) s"
}

step_hot_attach() {
    step_begin "2 hot attach ENI 4 (udev -> eniroute@ens6; cloud-init's hotplug hook where installed)"
    local keys t0 m hp
    keys='{"keys": {"device-number": "3", "interface-id": "eni-0aaaaaaaaaaaaaa04", "local-ipv4s": "10.0.4.10",
      "subnet-id": "subnet-00000000000000004", "subnet-ipv4-cidr-block": "10.0.4.0/24", "vpc-id": "vpc-0123456789abcdef0",
      "vpc-ipv4-cidr-block": "10.0.0.0/16", "vpc-ipv4-cidr-blocks": "10.0.0.0/16"}, "propagation": {"after_seconds": 3}}'
    vm_sim POST "/_sim/mac/$MAC4" "$keys" >/dev/null || expect_fail "simulator: attach $MAC4"
    ec2_allow 3 10.0.4.10
    ping_start "${ADDRS_BOOT[@]}"
    t0=$SECONDS
    ec2_nic_add 3 || expect_fail "QMP hot plug: $VM_QMP_REPLY"
    if vm_guest_wait "systemctl is-active -q eniroute@ens6.service && ip -4 rule show | grep -q 'from 10.0.4.10 lookup 10003 proto eniroute'" 120; then
        vm_log "ens6 configured $((SECONDS - t0)) s after device_add"
    else
        expect_fail "ens6 not configured within 120 s: $(g 'systemctl status --no-pager eniroute@ens6.service; ip -4 rule')"
    fi
    # cloud-init's hotplug hook (installed by cloud-final where the release supports it): its
    # handler service runs for the new NIC (and re-applies netplan).
    if g "test -e /etc/udev/rules.d/90-cloud-init-hook-hotplug.rules && echo yes" | grep -q yes; then
        if vm_guest_wait "journalctl -b -u cloud-init-hotplugd.service -o cat | grep -q . && ! systemctl is-active -q cloud-init-hotplugd.service" 60; then
            vm_log "cloud-init hotplug handler: $(g "journalctl -b -u cloud-init-hotplugd.service -o cat --no-pager | tail -n 3 | tr '\n' ';'" | cut -c1-300)"
            HOTPLUG_SEEN=yes
        else
            HOTPLUG_SEEN=no
            vm_log "cloud-init's hotplug rule is installed, but its handler did not run within 60 s: $(g "cat /etc/udev/rules.d/90-cloud-init-hook-hotplug.rules | grep -v '^#' | tr '\n' ' '; journalctl -b --no-pager -o cat | grep -i 'hook-hotplug\|hotplugd' | tail -n 5 | tr '\n' ';'" | cut -c1-600)"
        fi
    else
        HOTPLUG_SEEN="not installed"
        vm_log "cloud-init's hotplug hook is not installed on this release"
    fi
    settled
    ping_stop
    vm_log "packets lost during the hot attach: $PING_LOST (of $PING_SENT)"
    [ "$PING_LOST_TOTAL" = 0 ] || expect_fail "packets lost on the other ENIs during the hot attach: $PING_LOST"
    local bad
    bad=$(unreachable 10.0.4.10 "${ADDRS_BOOT[@]}")
    [ -z "$bad" ] || expect_fail "not reachable after the hot attach: $bad"
    m=$(mtus ens6)
    no_foreign_policy_routing
    step_end "lost $PING_LOST_TOTAL of $PING_SENT packets, $m, cloud-init hotplug handler ran: $HOTPLUG_SEEN, DHCP probes on secondary ENIs $(dhcp_probes)"
}

# step_mtu N: every ENI runs at the MTU DHCP gave the primary (9001), the hot-attached one too.
step_mtu() {
    step_begin "$1 MTU 9001 (the primary's, from DHCP) on every ENI, the hot-attached one too"
    local m
    m=$(mtus ens3 ens4 ens5 ens6)
    [ "$m" = "ens3=9001 ens4=9001 ens5=9001 ens6=9001" ] || expect_fail "MTUs: $m"
    step_end "$m"
}
