#!/usr/bin/env bash
# make vm-test: eniroute as an AMI user gets it, end to end, in a real Debian VM (QEMU TCG): the
# .deb installed into a bookworm image, udev, systemd, NIC hot-plug, a networkd restart, reboots.
# Prints one PASS/FAIL line per step and `vm-test: N passed, N failed`; exits 1 if any failed.
#
# Environment: ENIROUTE_DEB (default .build/deb/eniroute_<version>_<arch>.deb, made by `make
# deb`), ENIROUTE_IMDS_SIM (default .build/release/eniroute-imds-sim), VM_KEEP=1 keeps the run's
# logs in .build/vm/last-run even when everything passed (they are always kept on failure),
# VM_SMP (guest CPUs, default 2). Needs root (network namespaces, taps). See docs/vm-test.md.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
start_all=$SECONDS

[ "$(id -u)" = 0 ] || { echo "vm-test: needs root (network namespaces and tap devices)" >&2; exit 1; }
"$here/install-deps.sh" || exit 1

version=$(sed -n 's/^public let eniRouteVersion = "\(.*\)"$/\1/p' "$repo/Sources/ENIRouteCLI/ENIRoute.swift")
: "${ENIROUTE_DEB:=$repo/.build/deb/eniroute_${version}_$(dpkg --print-architecture).deb}"
: "${ENIROUTE_IMDS_SIM:=$repo/.build/release/eniroute-imds-sim}"
[ -f "$ENIROUTE_DEB" ] || { echo "vm-test: no package $ENIROUTE_DEB (make deb)" >&2; exit 1; }
[ -x "$ENIROUTE_IMDS_SIM" ] || { echo "vm-test: no simulator $ENIROUTE_IMDS_SIM (make release)" >&2; exit 1; }
ENIROUTE_IMDS_SIM=$(cd "$(dirname "$ENIROUTE_IMDS_SIM")" && pwd)/$(basename "$ENIROUTE_IMDS_SIM")

img=$("$here/build-image.sh" "$ENIROUTE_DEB" | tail -1) || { echo "vm-test: image build failed" >&2; exit 1; }
[ -f "$img/root.img" ] || { echo "vm-test: image build failed" >&2; exit 1; }
echo "vm-test: image $img (eniroute $(cat "$img/eniroute-version"))"

VM_RUN=$repo/.build/vm/last-run
rm -rf "$VM_RUN"
mkdir -p "$VM_RUN"
# shellcheck source=vm/lib.sh
source "$here/lib.sh"
trap 'vm_cleanup' EXIT
trap 'exit 130' INT TERM

PASSED=0 FAILED=0
STEP_ERRORS=()
# expect DESCRIPTION: records a failed expectation of the current step (the caller tests).
expect_fail() { STEP_ERRORS+=("$*"); }
# check DESCRIPTION COMMAND...: COMMAND must succeed.
check() {
    local what=$1
    shift
    "$@" || expect_fail "$what"
}
step_begin() {
    STEP_NAME=$1
    STEP_ERRORS=()
    STEP_START=$SECONDS
}
step_end() {
    local t=$((SECONDS - STEP_START))
    if [ ${#STEP_ERRORS[@]} -eq 0 ]; then
        PASSED=$((PASSED + 1))
        printf 'vm-test: PASS %s (%d s)\n' "$STEP_NAME" "$t"
    else
        FAILED=$((FAILED + 1))
        printf 'vm-test: FAIL %s (%d s)\n' "$STEP_NAME" "$t"
        local e
        for e in "${STEP_ERRORS[@]}"; do
            printf '%s\n' "$e" | sed '1s/^/     - /; 2,$s/^/       | /'
        done
    fi
}

MAC1=02:00:00:00:01:0a MAC2=02:00:00:00:02:0a MAC3=02:00:00:00:03:0a

# The guest's routing state as eniroute and networkd leave it: rules, routes of every table but
# local, IPv4 addresses, interface groups (sorted, no lifetimes).
SNAPSHOT='ip -4 rule show; echo "# routes"; ip -4 route show table all | grep -v "table local" | sort
echo "# addresses"; ip -br -4 address show | sed "s/  */ /g" | sort
echo "# groups"; ip -o link show | sed -n "s/^[0-9]*: \([^:@]*\)[:@].* group \([^ ]*\).*/\1 group \2/p" | sort'

snapshot() { vm_agent "$SNAPSHOT" && printf '%s\n' "$VM_OUT"; }

# prop UNIT PROPERTY: a systemd property of a unit in the guest.
prop() { vm_agent "systemctl show -P $2 '$1'" && printf '%s' "$VM_OUT"; }

# guest_has TEXT: `ip -4 rule`, all routes, addresses contain a line matching the regex.
has_rule() { vm_agent "ip -4 rule show | grep -qE -- '$1'"; }

# journal_json UNITS...: the current boot's journal of those units as JSON lines.
journal_json() {
    local args="" u
    for u in "$@"; do args+=" -u '$u'"; done
    vm_agent "journalctl -b -o json --no-pager $args" 60 && printf '%s\n' "$VM_OUT"
}

# boot_checks BOOT: what every normal boot must show (step 1 and step 6).
#  - the system is running (not degraded), eniroute.service exited 0;
#  - eniroute.service finished before multi-user.target was reached, and by then eniroute (the
#    boot unit, or eniroute@ens4 started by udev) had added the rules of both ENIs;
#  - the per-interface unit of the second NIC was started by udev and is active;
#  - the journal has eniroute's lines with their priorities (notice = 5), the <N> prefix parsed.
boot_checks() {
    local BOOT=$1 state mu er er_res er_status er_at j adds
    vm_agent "systemctl is-system-running --wait" 300
    state=$VM_OUT
    [ "$state" = running ] || expect_fail "system state after boot: $state; failed units: $(vm_agent 'systemctl --failed --no-legend --plain' ; echo "$VM_OUT")"
    mu=$(prop multi-user.target ActiveEnterTimestampMonotonic)
    er=$(prop eniroute.service ActiveState)
    er_res=$(prop eniroute.service Result)
    er_status=$(prop eniroute.service ExecMainStatus)
    er_at=$(prop eniroute.service ActiveEnterTimestampMonotonic)
    [ "$er" = active ] && [ "$er_res" = success ] && [ "$er_status" = 0 ] ||
        expect_fail "eniroute.service: $er, result $er_res, exit status $er_status"
    [ -n "$mu" ] && [ "$mu" != 0 ] && [ -n "$er_at" ] && [ "$er_at" != 0 ] && [ "$er_at" -le "$mu" ] ||
        expect_fail "eniroute.service active at ${er_at:-?} us, multi-user.target at ${mu:-?} us (monotonic): not before"
    [ "$(prop eniroute@ens4.service ActiveState)" = active ] ||
        expect_fail "eniroute@ens4.service (udev) not active: $(vm_agent 'systemctl status --no-pager eniroute@ens4.service'; echo "$VM_OUT")"
    j=$(journal_json eniroute.service 'eniroute@*.service') || expect_fail "journalctl: $j"
    # When each ENI's rule was added, and by which unit.
    adds=$(jq -r 'select(.MESSAGE | type == "string") | select(.MESSAGE | test("^ip rule add from (169\\.254\\.0\\.10|10\\.0\\.2\\.10) "))
        | "\(.__MONOTONIC_TIMESTAMP) \(._SYSTEMD_UNIT) \(.MESSAGE)"' <<<"$j")
    local a
    for a in 169.254.0.10 10.0.2.10; do
        local line
        line=$(grep -F " from $a " <<<"$adds" | head -1)
        if [ -z "$line" ]; then
            expect_fail "no 'ip rule add from $a' line in the journal of eniroute.service / eniroute@*.service"
        elif [ "${line%% *}" -gt "${er_at:-0}" ]; then
            expect_fail "rule for $a added after eniroute.service finished: $line"
        else
            vm_log "$BOOT: rule for $a added by ${line#* }" >&2
        fi
    done
    # Priorities: journald parsed the <N> prefixes (PRIORITY 5 for changes, no literal "<5>").
    local n5 raw
    n5=$(jq -r 'select(.PRIORITY == "5") | .MESSAGE' <<<"$j" | grep -c .)
    raw=$(jq -r 'select(.MESSAGE | type == "string") | select(.MESSAGE | test("^<[0-7]>")) | .MESSAGE' <<<"$j")
    [ "$n5" -gt 0 ] || expect_fail "no PRIORITY=5 (notice) lines from eniroute in the journal"
    [ -z "$raw" ] || expect_fail "journal lines with an unparsed priority prefix: $raw"
    vm_log "$BOOT: $n5 notice-priority lines from eniroute units (journal PRIORITY=5, no raw <N> prefixes); eniroute.service done at $((er_at / 1000)) ms, multi-user.target at $((mu / 1000)) ms" >&2
    # The rules of both ENIs and the suppress rule are there.
    check "suppress_ifgroup rule missing" has_rule '^10000:\s+from all lookup main suppress_ifgroup 10000 proto eniroute'
    check "rule for 169.254.0.10 missing" has_rule '^10001:\s+from 169\.254\.0\.10 lookup 10000 proto eniroute'
    check "rule for 10.0.2.10 missing" has_rule '^10002:\s+from 10\.0\.2\.10 lookup 10001 proto eniroute'
    vm_agent "ip -4 route show table 10001" && grep -q 'default via 10.0.2.1 dev ens4' <<<"$VM_OUT" ||
        expect_fail "table 10001 lacks the default route: $VM_OUT"
    vm_agent "ip -br -4 address show dev ens4" && grep -q '10.0.2.10/24' <<<"$VM_OUT" ||
        expect_fail "ens4 lacks 10.0.2.10/24: $VM_OUT"
    check "ping 10.0.2.10 from 198.51.100.10 through the router (source-checked) fails" vm_ping 10.0.2.10
}

no_duplicate_rules() {
    vm_agent "ip -4 rule show | sed 's/^[0-9]*:\s*//' | sort | uniq -d"
    [ -z "$VM_OUT" ] || { expect_fail "duplicate rules: $VM_OUT"; return 1; }
}

# ---------------------------------------------------------------------------------------------
vm_ns_create
vm_sim_start "$here/scenario.json"
vm_log "namespace $VM_NS, simulator on 127.0.0.1:$VM_SIM_PORT (inside it), logs in $VM_RUN"

# 1. Cold boot with two NICs.
step_begin "1 cold boot with 2 NICs: eniroute.service configured both before multi-user.target, priority-tagged journal"
boot_start=$SECONDS
vm_qemu_start "$img"
if vm_agent_wait_ready 300; then
    vm_log "guest agent up $((SECONDS - boot_start)) s after QEMU started (boot $VM_BOOT_ID)"
    boot_checks "boot 1"
    vm_agent "systemd-analyze time" 60 && vm_log "$(head -1 <<<"$VM_OUT")"
else
    expect_fail "the guest agent did not start within 300 s (console: $VM_RUN/console.log)"
    step_end
    echo "vm-test: $PASSED passed, $((FAILED + 6)) failed (no boot)"
    exit 1
fi
step_end
STATE_BOOT=$(snapshot)

# 2. Hot-plug a third NIC while IMDS delays its keys.
step_begin "2 hot-plug a 3rd NIC while IMDS delays its keys: configured once they appear, source-checked ping"
keys='{"keys": {"device-number": "2", "interface-id": "eni-0aaaaaaaaaaaaaa03", "local-ipv4s": "10.0.3.10",
  "subnet-id": "subnet-00000000000000003", "subnet-ipv4-cidr-block": "10.0.3.0/24", "vpc-id": "vpc-0123456789abcdef0",
  "vpc-ipv4-cidr-block": "169.254.0.0/16", "vpc-ipv4-cidr-blocks": "169.254.0.0/16\n10.0.0.0/16"},
  "propagation": {"after_seconds": 20}}'
vm_sim POST "/_sim/mac/$MAC3" "$keys" >/dev/null || expect_fail "simulator: attach $MAC3"
vm_sim POST /_sim/stats/reset >/dev/null
attach_at=$SECONDS
vm_qmp '{"execute":"netdev_add","arguments":{"type":"tap","id":"n2","ifname":"tap2","script":"no","downscript":"no"}}' ||
    expect_fail "QMP netdev_add: $VM_QMP_REPLY"
vm_qmp "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtio-net-pci\",\"id\":\"nic2\",\"netdev\":\"n2\",\"mac\":\"$MAC3\",\"bus\":\"pci.0\",\"addr\":\"0x5\"}}" ||
    expect_fail "QMP device_add: $VM_QMP_REPLY"
# While the keys are still hidden: udev started eniroute@ens5, and it is waiting (activating),
# with nothing configured for the new ENI yet.
if vm_guest_wait "systemctl is-active eniroute@ens5.service | grep -qx activating" 15; then
    vm_log "eniroute@ens5.service activating $((SECONDS - attach_at)) s after device_add (IMDS keys hidden for 20 s)"
    vm_agent "ip -4 rule show | grep -c 'lookup 10002' || true"
    [ "$VM_OUT" = 0 ] || expect_fail "rules for table 10002 before the keys appeared: $VM_OUT"
    [ $((SECONDS - attach_at)) -lt 20 ] ||
        expect_fail "the hidden phase could not be observed: eniroute@ens5 seen activating only $((SECONDS - attach_at)) s after device_add (keys hidden for 20 s)"
else
    expect_fail "eniroute@ens5.service not seen activating (udev -> systemd): $VM_OUT $(vm_agent 'ip -br link; systemctl status --no-pager eniroute@ens5.service'; echo "$VM_OUT")"
fi
if vm_guest_wait "systemctl is-active eniroute@ens5.service | grep -qx active && ip -4 rule show | grep -qE '^10003:\s+from 10\.0\.3\.10 lookup 10002 proto eniroute'" 120; then
    vm_log "ens5 configured $((SECONDS - attach_at)) s after device_add"
else
    expect_fail "ens5 not configured within 120 s: $(vm_agent 'systemctl status --no-pager eniroute@ens5.service; ip -4 rule'; echo "$VM_OUT")"
fi
# While hidden, IMDS shows the MAC's directory with device-number 0 (a fresh ENI): eniroute
# must have asked again and again, and waited.
stats=$(vm_sim GET /_sim/stats)
polls=$(jq ".by_path[\"/latest/meta-data/network/interfaces/macs/$MAC3/device-number\"] // 0" <<<"$stats" 2>/dev/null)
[ "${polls:-0}" -gt 1 ] || expect_fail "eniroute did not wait for the hidden keys (device-number read ${polls:-0} times): $stats"
vm_log "ENI 3's device-number read $polls times while its keys were hidden"
vm_agent "journalctl -b -u eniroute@ens5.service -o cat --no-pager | grep -v '^ip ' | tail -n 4"
vm_log "eniroute@ens5: $(tr '\n' ';' <<<"$VM_OUT")"
vm_agent "journalctl -b -o json --no-pager -u 'eniroute@ens5.service' -u eniroute-watch.service"
vm_log "the rule for 10.0.3.10 was added by: $(jq -r 'select(.MESSAGE | type == "string") | select(.MESSAGE | startswith("ip rule add from 10.0.3.10 ")) | ._SYSTEMD_UNIT' <<<"$VM_OUT" | tr '\n' ' ')"
vm_agent "ip -4 route show table 10002; ip -br -4 address show dev ens5"
grep -q 'default via 10.0.3.1 dev ens5' <<<"$VM_OUT" && grep -q '10.0.3.10/24' <<<"$VM_OUT" ||
    expect_fail "ens5's table or address missing: $VM_OUT"
check "ping 10.0.3.10 from 198.51.100.10 through the router (source-checked) fails" vm_ping 10.0.3.10
check "ping 10.0.2.10 (the other ENI) fails after the hot-plug" vm_ping 10.0.2.10
vm_log "source check drops on tap2: $(vm_in_ns nft list chain netdev vpc tap2 | grep -o 'packets [0-9]*')"
step_end
STATE_3NIC=$(snapshot)

# 3. A secondary IP appears in IMDS, then goes.
step_begin "3 secondary IP added in IMDS: the watcher adds it; removed: gone"
vm_sim PUT "/_sim/mac/$MAC2/local-ipv4s" $'10.0.2.10\n10.0.2.11' >/dev/null || expect_fail "simulator: set local-ipv4s"
vm_in_ns nft add element netdev vpc eni1 '{ 10.0.2.11 }'
t0=$SECONDS
if vm_guest_wait "ip -br -4 address show dev ens4 | grep -q '10.0.2.11/24' && ip -4 rule show | grep -qE 'from 10\.0\.2\.11 lookup 10001 proto eniroute'" 90; then
    vm_log "10.0.2.11 and its rule added $((SECONDS - t0)) s after IMDS listed it"
    check "ping 10.0.2.11 (the new secondary IP) fails" vm_ping 10.0.2.11
else
    expect_fail "10.0.2.11 not added within 90 s: $VM_OUT"
fi
vm_sim PUT "/_sim/mac/$MAC2/local-ipv4s" '10.0.2.10' >/dev/null || expect_fail "simulator: set local-ipv4s"
t0=$SECONDS
if vm_guest_wait "! ip -4 address show dev ens4 | grep -q '10.0.2.11/' && ! ip -4 rule show | grep -q 'from 10.0.2.11 '" 90; then
    vm_log "10.0.2.11 and its rule removed $((SECONDS - t0)) s after IMDS dropped it"
else
    expect_fail "10.0.2.11 still there after 90 s: $VM_OUT"
fi
vm_in_ns nft delete element netdev vpc eni1 '{ 10.0.2.11 }'
now=$(snapshot)
[ "$now" = "$STATE_3NIC" ] || expect_fail "state differs from before the step: $(diff <(echo "$STATE_3NIC") <(echo "$now"))"
vm_agent "journalctl -b -u eniroute-watch.service -o cat --no-pager | grep 10.0.2.11"
vm_log "eniroute-watch: $(tr '\n' ';' <<<"$VM_OUT")"
step_end

# 4. networkd restart and reload.
step_begin "4 systemctl restart systemd-networkd, networkctl reload: routing still right 2 s later"
before=$(snapshot)
vm_agent "journalctl -b -u eniroute-watch.service -o cat --no-pager | wc -l"
watch_lines=$VM_OUT
for action in "networkctl reload" "systemctl restart systemd-networkd"; do
    vm_agent "$action && /lib/systemd/systemd-networkd-wait-online -i ens3 --timeout=60 && sleep 2" 90 ||
        expect_fail "$action; waiting for ens3 online: $VM_OUT"
    now=$(snapshot)
    [ "$now" = "$before" ] || expect_fail "after $action: $(diff <(echo "$before") <(echo "$now"))"
    check "ping 10.0.2.10 fails after $action" vm_ping 10.0.2.10
    check "ping 10.0.3.10 fails after $action" vm_ping 10.0.3.10
done
vm_agent "journalctl -b -u eniroute-watch.service -o cat --no-pager | tail -n +$((watch_lines + 1))"
# networkd left eniroute's objects alone (the drop-in). A restart drops the primary's DHCP address
# until the lease is back, and the kernel then flushes the table-10000 routes that use it (source or
# gateway); the watcher waits for the address (it is DHCP's, never eniroute's) and restores exactly
# those. Anything else it had to do (rules, addresses, other tables) means networkd removed it.
unexpected=$(printf '%s\n' "$VM_OUT" | grep -v -e '^$' \
    -e "^ens3: its primary address 169\.254\.0\.10 is not configured (DHCP's); IPv4 routes of table 10000 wait for it$" \
    -e '^ip route add [^ ]* .*dev ens3 .*table 10000 proto eniroute$' \
    -e '^watch: [0-9]* changes\{0,1\} on ' || true)
[ -z "$unexpected" ] || expect_fail "eniroute-watch had to repair more than the DHCP-dependent routes: $unexpected"
vm_agent "journalctl -b -u eniroute-watch.service -o cat --no-pager | tail -n +$((watch_lines + 1)) | grep -c 'address add .* dev ens3'" ||
    true
[ "${VM_OUT:-0}" = 0 ] || expect_fail "eniroute-watch added an address on the primary during the networkd restart"
step_end

# 5. Hot-unplug the third NIC.
step_begin "5 hot-unplug the 3rd NIC: its rules gone, nothing else changed"
before=$(snapshot)
vm_qmp '{"execute":"device_del","arguments":{"id":"nic2"}}' || expect_fail "QMP device_del: $VM_QMP_REPLY"
vm_qmp_wait_event '"DEVICE_DELETED".*"device": *"nic2"' 60 || expect_fail "no DEVICE_DELETED event for nic2 in 60 s"
vm_qmp '{"execute":"netdev_del","arguments":{"id":"n2"}}' || expect_fail "QMP netdev_del: $VM_QMP_REPLY"
# EC2 drops the detached ENI from IMDS too (after the interface went away, the harder order).
vm_sim DELETE "/_sim/mac/$MAC3" >/dev/null || expect_fail "simulator: detach $MAC3"
if vm_guest_wait "! ip link show ens5 >/dev/null 2>&1 && ! systemctl is-active -q eniroute@ens5.service && ! ip -4 rule show | grep -qE 'lookup 10002|10\.0\.3\.10' && [ -z \"\$(ip -4 route show table 10002 2>/dev/null)\" ]" 60; then
    vm_agent "journalctl -b -u eniroute@ens5.service -o cat --no-pager | tail -n 6"
    vm_log "eniroute@ens5 stopped: $(tr '\n' ';' <<<"$VM_OUT")"
else
    expect_fail "ens5's objects still there after 60 s: $(vm_agent 'systemctl status --no-pager eniroute@ens5.service; ip -4 rule; ip -4 route show table 10002'; echo "$VM_OUT")"
fi
now=$(snapshot)
expected=$(grep -vE '10\.0\.3\.|table 10002|^ens5 ' <<<"$before")
[ "$now" = "$expected" ] || expect_fail "besides ens5's objects, something changed: $(diff <(echo "$expected") <(echo "$now"))"
check "ping 10.0.2.10 fails after the unplug" vm_ping 10.0.2.10
step_end

# 6. Reboot.
step_begin "6 reboot: everything back, no duplicate rules"
vm_agent "systemctl reboot"
boot_start=$SECONDS
if vm_agent_wait_ready 300; then
    vm_log "guest agent up $((SECONDS - boot_start)) s after the reboot (boot $VM_BOOT_ID)"
    boot_checks "boot 2"
    no_duplicate_rules
    now=$(snapshot)
    # The same state as after the first boot (so also a state left wrong by an earlier step is
    # found here, not hidden).
    [ "$now" = "$STATE_BOOT" ] || expect_fail "state differs from after the first boot: $(diff <(echo "$STATE_BOOT") <(echo "$now"))"
else
    expect_fail "no agent within 300 s of the reboot"
fi
step_end

# 7. A boot without IMDS.
step_begin "7 IMDS stopped for a boot: boot completes, eniroute.service fails clearly within its deadline, primary NIC works"
vm_sim_stop
vm_agent "systemctl reboot"
boot_start=$SECONDS
if vm_agent_wait_ready 300; then
    vm_agent "systemctl is-system-running --wait" 300
    vm_log "boot without IMDS: system state '$VM_OUT' $((SECONDS - boot_start)) s after the reboot"
    [ "$(prop multi-user.target ActiveState)" = active ] || expect_fail "multi-user.target not reached"
    res=$(prop eniroute.service Result)
    st=$(prop eniroute.service ExecMainStatus)
    t_start=$(prop eniroute.service ExecMainStartTimestampMonotonic)
    t_exit=$(prop eniroute.service ExecMainExitTimestampMonotonic)
    [ "$(prop eniroute.service ActiveState)" = failed ] && [ "$res" = exit-code ] && [ "$st" = 75 ] ||
        expect_fail "eniroute.service: $(prop eniroute.service ActiveState), result $res, exit status $st (expected failed, exit-code, 75)"
    took=$(((t_exit - t_start) / 1000))
    vm_log "eniroute.service failed after $took ms (imds-deadline 30 s, TimeoutStartSec 120 s)"
    [ "$t_exit" -gt 0 ] && [ "$took" -le 40000 ] || expect_fail "eniroute.service took $took ms, more than the 30 s deadline + 10 s"
    vm_agent "journalctl -b -u eniroute.service -p err -o cat --no-pager"
    vm_log "journalctl -p err -u eniroute: $(tr '\n' ';' <<<"$VM_OUT")"
    grep -q 'IMDS' <<<"$VM_OUT" || expect_fail "no error-priority line naming IMDS in eniroute.service's journal"
    vm_agent "ip -br -4 address show dev ens3; ip -4 route show default"
    grep -q '169.254.0.10/16' <<<"$VM_OUT" && grep -q 'default via 169.254.0.1 dev ens3' <<<"$VM_OUT" ||
        expect_fail "ens3 lacks its DHCP address or default route: $VM_OUT"
    # A TCP round trip through the primary NIC (slirp's guestfwd to an echo command).
    vm_agent 'exec 5<>/dev/tcp/169.254.0.7/7 && echo through-ens3 >&5 && read -r -t 10 line <&5 && echo "$line"' 30
    [ "$VM_OUT" = through-ens3 ] || expect_fail "TCP echo through ens3 failed: $VM_OUT"
    vm_agent "ip -4 rule show | grep -c 'proto eniroute' || true"
    vm_log "eniroute rules without IMDS: $VM_OUT (nothing can be known without IMDS)"
else
    expect_fail "no agent within 300 s of the reboot without IMDS"
fi
step_end

vm_agent "journalctl -b -0 --no-pager" 60 && printf '%s\n' "$VM_OUT" >"$VM_RUN/journal-last-boot.txt"
vm_qmp '{"execute":"quit"}' >/dev/null 2>&1
total=$((SECONDS - start_all))
echo "vm-test: $PASSED passed, $FAILED failed ($total s)"
if [ "$FAILED" -gt 0 ] || [ "${VM_KEEP:-0}" = 1 ]; then
    echo "vm-test: logs in $VM_RUN (console.log, agent.log, qmp.log, sim.log)"
fi
[ "$FAILED" -eq 0 ]
