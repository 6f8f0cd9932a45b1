# shellcheck shell=bash
# The steps of `make vm-test VM_ARCH=arm64` (sourced by vm/arm64/run.sh after vm/lib.sh). Each
# step prints `vm-test: PASS|FAIL <step> (S s)` with the failed expectations below a FAIL. Every
# wait is on a real condition, checked in the guest every 0.2 s up to a bound (vm_guest_wait).

PASSED=0 FAILED=0
STEP_ERRORS=()
MAC1=02:00:00:00:01:0a MAC2=02:00:00:00:02:0a MAC3=02:00:00:00:03:0a

expect_fail() { STEP_ERRORS+=("$*"); }
check() {
    local what=$1
    shift
    "$@" || expect_fail "$what"
}
step_begin() {
    STEP_NAME=$1 STEP_ERRORS=() STEP_START=$SECONDS
}
step_end() {
    local t=$((SECONDS - STEP_START)) e
    if [ ${#STEP_ERRORS[@]} -eq 0 ]; then
        PASSED=$((PASSED + 1))
        printf 'vm-test: PASS %s (%d s)\n' "$STEP_NAME" "$t"
    else
        FAILED=$((FAILED + 1))
        printf 'vm-test: FAIL %s (%d s)\n' "$STEP_NAME" "$t"
        for e in "${STEP_ERRORS[@]}"; do
            printf '%s\n' "$e" | sed '1s/^/     - /; 2,$s/^/       | /'
        done
    fi
}

# prop UNIT PROPERTY: a systemd property of a unit in the guest.
prop() { vm_agent "systemctl show -P $2 '$1'" && printf '%s' "$VM_OUT"; }
# has_rule REGEX: a line of `ip -4 rule` in the guest matches.
has_rule() { vm_agent "ip -4 rule show | grep -qE -- '$1'"; }
# nic_name MAC: the guest's name of the NIC with that MAC (the virt machine's PCI paths give
# names like enp0s4; they are found, not assumed).
nic_name() { vm_agent "ip -br link | awk '\$3 == \"$1\" {print \$1}'" && [ -n "$VM_OUT" ] && printf '%s' "$VM_OUT"; }

# 1. Cold boot: eniroute.service configured both ENIs before multi-user.target; source-checked ping.
step_cold_boot() {
    step_begin "1 arm64 cold boot with 2 NICs: configured before multi-user.target, source-checked ping"
    local t0=$SECONDS
    vm_qemu_start "$img"
    if ! vm_agent_wait_ready 600; then
        expect_fail "the guest agent did not start within 600 s (console: $VM_RUN/console.log)"
        step_end
        return 1
    fi
    vm_log "guest agent up $((SECONDS - t0)) s after QEMU started; $(vm_agent 'uname -srm'; echo "$VM_OUT")"
    vm_agent "systemctl is-system-running --wait" 600
    [ "$VM_OUT" = running ] ||
        expect_fail "system state after boot: $VM_OUT; failed units: $(vm_agent 'systemctl --failed --no-legend --plain'; echo "$VM_OUT")"
    NIC2=$(nic_name "$MAC2") || expect_fail "no NIC with MAC $MAC2"
    local mu er_at res
    mu=$(prop multi-user.target ActiveEnterTimestampMonotonic)
    er_at=$(prop eniroute.service ActiveEnterTimestampMonotonic)
    res="$(prop eniroute.service ActiveState) $(prop eniroute.service Result) $(prop eniroute.service ExecMainStatus)"
    [ "$res" = "active success 0" ] || expect_fail "eniroute.service: $res (expected active success 0)"
    [ -n "$mu" ] && [ "${er_at:-0}" != 0 ] && [ "$er_at" -le "$mu" ] ||
        expect_fail "eniroute.service active at ${er_at:-?} us, multi-user.target at ${mu:-?} us: not before"
    [ "$(prop "eniroute@$NIC2.service" ActiveState)" = active ] || expect_fail "eniroute@$NIC2.service (udev) not active"
    vm_log "NICs: $(vm_agent 'ip -br link | grep -v ^lo | tr -s " " | tr "\n" ";"'; echo "$VM_OUT")"
    vm_log "eniroute.service active at $((er_at / 1000)) ms, multi-user.target at $((mu / 1000)) ms (monotonic)"
    check "suppress_ifgroup rule missing" has_rule '^10000:\s+from all lookup main suppress_ifgroup 10000 proto eniroute'
    check "rule for 169.254.0.10 missing" has_rule '^10001:\s+from 169\.254\.0\.10 lookup 10000 proto eniroute'
    check "rule for 10.0.2.10 missing" has_rule '^10002:\s+from 10\.0\.2\.10 lookup 10001 proto eniroute'
    vm_agent "ip -4 route show table 10001; ip -br -4 address show dev $NIC2"
    grep -q "default via 10.0.2.1 dev $NIC2" <<<"$VM_OUT" && grep -q '10.0.2.10/24' <<<"$VM_OUT" ||
        expect_fail "table 10001 or $NIC2's address: $VM_OUT"
    check "ping 10.0.2.10 from 198.51.100.10 through the router (source-checked) fails" vm_ping 10.0.2.10
    step_end
}

# 2. Hot-plug a third NIC while IMDS hides its keys for 15 s.
step_hot_plug() {
    step_begin "2 arm64 hot-plug of a 3rd NIC (IMDS keys 15 s late): udev starts eniroute@, configured, source-checked ping"
    local keys t0 nic3
    keys='{"keys": {"device-number": "2", "interface-id": "eni-0aaaaaaaaaaaaaa03", "local-ipv4s": "10.0.3.10",
      "subnet-id": "subnet-00000000000000003", "subnet-ipv4-cidr-block": "10.0.3.0/24", "vpc-id": "vpc-0123456789abcdef0",
      "vpc-ipv4-cidr-block": "169.254.0.0/16", "vpc-ipv4-cidr-blocks": "169.254.0.0/16\n10.0.0.0/16"},
      "propagation": {"after_seconds": 15}}'
    vm_sim POST "/_sim/mac/$MAC3" "$keys" >/dev/null || expect_fail "simulator: attach $MAC3"
    t0=$SECONDS
    vm_qmp '{"execute":"netdev_add","arguments":{"type":"tap","id":"n2","ifname":"tap2","script":"no","downscript":"no"}}' ||
        expect_fail "QMP netdev_add: $VM_QMP_REPLY"
    vm_qmp "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtio-net-pci\",\"id\":\"nic2\",\"netdev\":\"n2\",\"mac\":\"$MAC3\",\"bus\":\"rp5\"}}" ||
        expect_fail "QMP device_add: $VM_QMP_REPLY"
    if vm_guest_wait "ip -br link | grep -q '$MAC3'" 60; then
        nic3=$(nic_name "$MAC3")
        vm_log "NIC $nic3 appeared $((SECONDS - t0)) s after device_add"
        if vm_guest_wait "systemctl is-active -q eniroute@$nic3.service && ip -4 rule show | grep -qE '^10003:\s+from 10\.0\.3\.10 lookup 10002 proto eniroute'" 180; then
            vm_log "$nic3 configured $((SECONDS - t0)) s after device_add (its IMDS keys appeared after 15 s)"
        else
            expect_fail "$nic3 not configured within 180 s: $(vm_agent "systemctl status --no-pager eniroute@$nic3.service; ip -4 rule"; echo "$VM_OUT")"
        fi
        vm_agent "ip -4 route show table 10002; ip -br -4 address show dev $nic3"
        grep -q "default via 10.0.3.1 dev $nic3" <<<"$VM_OUT" && grep -q '10.0.3.10/24' <<<"$VM_OUT" ||
            expect_fail "$nic3's table or address missing: $VM_OUT"
        vm_agent "journalctl -b -o json --no-pager -u 'eniroute@$nic3.service' -u eniroute-watch.service"
        vm_log "the rule for 10.0.3.10 was added by: $(jq -r 'select(.MESSAGE | type == "string") | select(.MESSAGE | startswith("ip rule add from 10.0.3.10 ")) | ._SYSTEMD_UNIT' <<<"$VM_OUT" | tr '\n' ' ')"
    else
        expect_fail "no NIC with MAC $MAC3 within 60 s of device_add: $VM_OUT"
    fi
    check "ping 10.0.3.10 from 198.51.100.10 through the router (source-checked) fails" vm_ping 10.0.3.10
    check "ping 10.0.2.10 (the other ENI) fails after the hot-plug" vm_ping 10.0.2.10
    step_end
}

# 3. A secondary IP appears in IMDS, then goes: the watcher follows.
step_secondary_ip() {
    step_begin "3 arm64 secondary IP added in IMDS: eniroute-watch adds it and its rule; removed: gone"
    local t0
    vm_sim PUT "/_sim/mac/$MAC2/local-ipv4s" $'10.0.2.10\n10.0.2.11' >/dev/null || expect_fail "simulator: set local-ipv4s"
    vm_in_ns nft add element netdev vpc eni1 '{ 10.0.2.11 }'
    t0=$SECONDS
    if vm_guest_wait "ip -br -4 address show dev $NIC2 | grep -q '10.0.2.11/24' && ip -4 rule show | grep -qE 'from 10\.0\.2\.11 lookup 10001 proto eniroute'" 120; then
        vm_log "10.0.2.11 and its rule added $((SECONDS - t0)) s after IMDS listed it"
        check "ping 10.0.2.11 (the new secondary IP) fails" vm_ping 10.0.2.11
    else
        expect_fail "10.0.2.11 not added within 120 s: $VM_OUT"
    fi
    vm_sim PUT "/_sim/mac/$MAC2/local-ipv4s" '10.0.2.10' >/dev/null || expect_fail "simulator: set local-ipv4s"
    t0=$SECONDS
    if vm_guest_wait "! ip -4 address show dev $NIC2 | grep -q '10.0.2.11/' && ! ip -4 rule show | grep -q 'from 10.0.2.11 '" 120; then
        vm_log "10.0.2.11 and its rule removed $((SECONDS - t0)) s after IMDS dropped it"
    else
        expect_fail "10.0.2.11 still there after 120 s: $VM_OUT"
    fi
    vm_in_ns nft delete element netdev vpc eni1 '{ 10.0.2.11 }'
    vm_agent "journalctl -b -u eniroute-watch.service -o cat --no-pager | grep 10.0.2.11"
    vm_log "eniroute-watch: $(tr '\n' ';' <<<"$VM_OUT")"
    step_end
}

# 4. For scale, not as a speed claim: how long `eniroute apply` takes in the emulated VM.
step_apply_timing() {
    step_begin "4 arm64 eniroute apply timings (emulated CPU; for scale only)"
    local st ex
    st=$(prop eniroute.service ExecMainStartTimestampMonotonic)
    ex=$(prop eniroute.service ExecMainExitTimestampMonotonic)
    vm_log "boot run (eniroute.service, 2 ENIs configured from nothing): $(((ex - st) / 1000)) ms"
    if vm_agent "for i in 1 2 3; do s=\$(date +%s%N); eniroute apply >/dev/null || exit 1; echo \$(((\$(date +%s%N) - s) / 1000000)); done"; then
        vm_log "eniroute apply with nothing to do (3 ENIs, IMDS through slirp), 3 runs: $(tr '\n' ' ' <<<"$VM_OUT")ms"
    else
        expect_fail "eniroute apply failed: $VM_OUT"
    fi
    vm_agent "stat -c %s /usr/sbin/eniroute" && vm_log "/usr/sbin/eniroute: $VM_OUT bytes"
    step_end
}

# step_suite integration|faults NAME: one scenario (with its variants) or one fault script of the
# repository's suites, run in the guest by the suite's own runner with the arm64 test binaries.
# The runners bound each script (180 s; faults here 540 s), the agent the call (600 s). f03's
# SIGKILL loop runs VM_FAULT_KILL_LOOPS times (default 80; 200 natively: each takes about 4 s
# under emulation; 30 left a partial state once, which the case requires at least once), and f02's interface-deleted-mid-apply case is left out (its search
# for the apply's kernel phase is calibrated for native speed; see FAULT_SKIP_MIDAPPLY there).
step_suite() {
    local suite=$1 name=$2 rc summary
    step_begin "$((4 + ++SUITE_STEPS)) arm64 $suite $name"
    vm_agent "if [ ! -d /var/tmp/t ]; then mount -o ro -L eniroute-payload /payload && cp -a /payload /var/tmp/t || exit 99; fi
        cd /var/tmp/t && ENIROUTE=/var/tmp/t/bin/eniroute ENIROUTE_IMDS_SIM=/var/tmp/t/bin/eniroute-imds-sim \
        FAULT_KILL_LOOPS=$VM_FAULT_KILL_LOOPS FAULT_SKIP_MIDAPPLY=1 FAULTS_SCRIPT_TIMEOUT=540 \
        tests/$suite/run.sh ${name%%-*}" 600
    rc=$?
    mkdir -p "$VM_RUN/suites"
    printf '%s\n' "$VM_OUT" >"$VM_RUN/suites/$name.log"
    summary=$(grep -E "^$suite: [0-9]+ passed, [0-9]+ failed" <<<"$VM_OUT" | tail -n 1)
    vm_log "${summary:-no summary line} $(grep -oE '^######## [^ ]+: (passed|FAILED)[^)]*\)' <<<"$VM_OUT" | sed 's/^######## //' | tr '\n' ' ')"
    if [ "$rc" -ne 0 ] || ! grep -qE "^$suite: [1-9][0-9]* passed, 0 failed" <<<"$summary"; then
        expect_fail "tests/$suite/run.sh ${name%%-*} in the guest: exit $rc, ${summary:-no summary}; $(grep -E '^(FAIL|failed)|failed check' <<<"$VM_OUT" | head -n 8)"
    fi
    step_end
}
SUITE_STEPS=0
