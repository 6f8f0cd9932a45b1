# shellcheck shell=bash
# The arm64 part of the minimal VM test (sourced by vm/minimal/run.sh when VM_ARCH=arm64): inside
# the arm64 VM, the namespace scenarios and the fault matrix's kernel and process cases run with
# the arm64 test-variant binaries (qemu-user cannot: it does not translate rtnetlink rule
# messages), from a payload disk.
#   VM_SCENARIOS  default all; or filters of tests/integration such as "s01 s05"
#   VM_FAULTS     filters of tests/faults, default "f02 f03" (kernel and process; `all` adds f01)
#   VM_FAULT_KILL_LOOPS  f03's SIGKILL iterations, default 80

# arm64_payload: the arm64 test binaries (vm/arm64/build-test-binaries.sh) and the suites on an
# ext4 image, VM_RUN/payload.img, which the VM mounts read-only at /payload.
arm64_payload() {
    local bins
    bins=$("$repo/vm/arm64/build-test-binaries.sh" | tail -1) || vm_die "arm64 test binaries failed"
    [ -x "$bins/eniroute" ] && [ -x "$bins/eniroute-imds-sim" ] || vm_die "no test binaries in $bins"
    vm_log "test binaries: $(readelf -h "$bins/eniroute" | sed -n "s/^ *Machine: *//p")"
    mkdir -p "$VM_RUN/payload/bin" "$VM_RUN/payload/tests"
    cp "$bins/eniroute" "$bins/eniroute-imds-sim" "$VM_RUN/payload/bin/"
    cp -a "$repo/tests/integration" "$repo/tests/faults" "$repo/tests/lib" "$repo/tests/scenarios" "$VM_RUN/payload/tests/"
    mkfs.ext4 -q -F -L eniroute-payload -E root_owner=0:0 -d "$VM_RUN/payload" "$VM_RUN/payload.img" 256M ||
        vm_die "payload disk"
    rm -rf "$VM_RUN/payload"
}

# arm64_suites: one step per scenario and per fault script (VM_SCENARIOS, VM_FAULTS).
arm64_suites() {
    local s f name
    : "${VM_SCENARIOS:=all}" "${VM_FAULTS:=f02 f03}" "${VM_FAULT_KILL_LOOPS:=80}"
    for s in $( (cd "$repo/tests/integration" && ls s[0-9][0-9]-*.sh) ); do
        name=${s%.sh}
        [ "$VM_SCENARIOS" = all ] || grep -qw "${name%%-*}" <<<"$VM_SCENARIOS" || continue
        step_suite integration "$name"
    done
    for f in $( (cd "$repo/tests/faults" && ls f[0-9][0-9]-*.sh) ); do
        name=${f%.sh}
        [ "$VM_FAULTS" = all ] || grep -qw "${name%%-*}" <<<"$VM_FAULTS" || continue
        step_suite faults "$name"
    done
}

# step_apply_timing N: for scale, not as a speed claim: how long `eniroute apply` takes in the
# emulated VM.
step_apply_timing() {
    step_begin "$1 eniroute apply timings (emulated CPU; for scale only)"
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
    step_begin "$((++STEP_NO)) $suite $name"
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
