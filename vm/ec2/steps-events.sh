# shellcheck shell=bash
# VM steps: networkd and netplan events under a continuous ping, secondary IPs, hot detach
# (sourced by vm/ec2/run.sh).

# watch_lines: how many lines eniroute-watch has logged this boot (to read the new ones later).
watch_lines() { g "journalctl -b -u eniroute-watch.service -o cat --no-pager | wc -l"; }
# watch_repairs SINCE: eniroute-watch's changes after line SINCE ("ip ..." lines), one per line.
# (Changes to routes mirrored from main, which carry main's metric, follow main and are not repairs.)
watch_repairs() { g "journalctl -b -u eniroute-watch.service -o cat --no-pager | tail -n +$(($1 + 1)) | grep '^ip ' | grep -v '^ip route .* table 1[0-9]\{4\} metric ' || true"; }

# step_network_event N ACTION: ACTION in the guest while every address is pinged 10 times a
# second; the packets lost, what eniroute-watch had to repair, and the state after.
step_network_event() {
    local n=$1 action=$2 before now since repairs main_before main_after
    step_begin "$n $action: every address pinged 10/s throughout"
    before=$(managed_snapshot)
    main_before=$(main_routes)
    local mirrored_before mirrored_after
    mirrored_before=$(mirrored)
    since=$(watch_lines)
    ping_start "${ADDRS_NOW[@]}"
    vm_agent "$action" 120 || expect_fail "$action: $VM_OUT"
    settled
    ping_stop
    vm_log "packets lost per address: $PING_LOST (of $PING_SENT sent)"
    # The primary's DHCP address is networkd's: it removes and re-adds it itself when it
    # reconfigures the link (its DHCP client, not an object of eniroute's); its loss is a figure.
    local dhcp_lost managed_lost
    dhcp_lost=$(tr ' ' '\n' <<<"$PING_LOST" | sed -n 's/^10\.0\.1\.10=//p')
    managed_lost=$((PING_LOST_TOTAL - ${dhcp_lost:-0}))
    [ "$managed_lost" = 0 ] || expect_fail "packets lost on eniroute's addresses during $action: $PING_LOST"
    repairs=$(watch_repairs "$since")
    [ -z "$repairs" ] || vm_log "eniroute-watch repaired: $(tr '\n' ';' <<<"$repairs")"
    [ -z "$repairs" ] || expect_fail "eniroute-watch had to repair (something was removed): $(tr '\n' ';' <<<"$repairs")"
    now=$(managed_snapshot)
    [ "$now" = "$before" ] || expect_fail "eniroute's state differs after $action: $(diff <(echo "$before") <(echo "$now"))"
    mirrored_after=$(mirrored)
    [ "$mirrored_after" = "$mirrored_before" ] ||
        vm_log "routes mirrored from main changed with it: $(diff <(echo "$mirrored_before") <(echo "$mirrored_after") | grep '^[<>]' | tr '\n' ';')"
    main_after=$(main_routes)
    [ "$main_after" = "$main_before" ] ||
        vm_log "main table (networkd's and the kernel's routes) changed: $(diff <(echo "$main_before") <(echo "$main_after") | grep '^[<>]' | tr '\n' ';')"
    step_end "eniroute's addresses lost $managed_lost packets, networkd's DHCP address 10.0.1.10 lost $dhcp_lost (of $PING_SENT sent: $PING_LOST), watcher repairs $(grep -c . <<<"$repairs")"
}

# step_secondary_ips N: a secondary IPv4 assigned to ENI 3 in IMDS, then unassigned (the move
# between ENIs is step_secondary_ip_move).
step_secondary_ips() {
    step_begin "$1 secondary IP assigned, then unassigned"
    local before t0 t_add t_del now
    before=$(managed_snapshot)
    ec2_allow 2 10.0.3.11
    vm_sim PUT "/_sim/mac/$MAC3/local-ipv4s" $'10.0.3.10\n10.0.3.11' >/dev/null || expect_fail "simulator: local-ipv4s"
    t0=$SECONDS
    if vm_guest_wait "ip -br -4 address show dev ens5 | grep -q ' 10.0.3.11/24' && ip -4 rule show | grep -qE 'from 10\.0\.3\.11 lookup 10002 proto eniroute'" 90; then
        t_add=$((SECONDS - t0))
        [ -z "$(unreachable 10.0.3.11)" ] || expect_fail "10.0.3.11 not reachable"
    else
        expect_fail "10.0.3.11 not configured within 90 s: $VM_OUT"
    fi
    vm_sim PUT "/_sim/mac/$MAC3/local-ipv4s" '10.0.3.10' >/dev/null || expect_fail "simulator: local-ipv4s"
    t0=$SECONDS
    if vm_guest_wait "! ip -4 address show | grep -q ' 10.0.3.11/' && ! ip -4 rule show | grep -q 'from 10.0.3.11 '" 90; then
        t_del=$((SECONDS - t0))
    else
        expect_fail "10.0.3.11 still there 90 s after IMDS dropped it: $VM_OUT"
    fi
    ec2_disallow 2 10.0.3.11
    now=$(managed_snapshot)
    [ "$now" = "$before" ] || expect_fail "the state differs from before: $(diff <(echo "$before") <(echo "$now"))"
    step_end "added ${t_add:-?} s after IMDS listed it, removed ${t_del:-?} s after IMDS dropped it"
}

# step_hot_detach N: ENI 4 detached (the NIC goes, then IMDS drops it) under a continuous ping
# of the other addresses; its objects go, nothing else changes.
step_hot_detach() {
    step_begin "$1 hot detach ENI 4: its objects gone, nothing else changed"
    local before expected now
    before=$(managed_snapshot)
    ping_start "${ADDRS_BOOT[@]}"
    ec2_nic_del 3 || expect_fail "QMP hot unplug: $VM_QMP_REPLY"
    vm_sim DELETE "/_sim/mac/$MAC4" >/dev/null || expect_fail "simulator: detach $MAC4"
    if ! vm_guest_wait "! ip link show ens6 >/dev/null 2>&1 && ! systemctl is-active -q eniroute@ens6.service && ! ip -4 rule show | grep -qE 'lookup 10003|10\.0\.4\.10' && [ -z \"\$(ip -4 route show table 10003 2>/dev/null)\" ]" 60; then
        expect_fail "ens6's objects still there after 60 s: $(g 'systemctl status --no-pager eniroute@ens6.service; ip -4 rule')"
    fi
    settled
    ping_stop
    ec2_disallow 3 10.0.4.10
    ADDRS_NOW=("${ADDRS_BOOT[@]}")
    now=$(managed_snapshot)
    expected=$(grep -vE '10\.0\.4\.|table 10003|^ens6 ' <<<"$before")
    [ "$now" = "$expected" ] || expect_fail "besides ens6's objects, something changed: $(diff <(echo "$expected") <(echo "$now"))"
    [ "$PING_LOST_TOTAL" = 0 ] || expect_fail "packets lost on the other ENIs: $PING_LOST"
    step_end "lost $PING_LOST_TOTAL of $PING_SENT packets on the other ENIs"
}
