# shellcheck shell=bash
# The PASS/FAIL bookkeeping of every VM test and the guest queries its steps share (sourced after
# vm/lib.sh). A step prints `vm-test: PASS|FAIL <VM_LABEL> <step> (<s>)[: <figures>]`, its failed
# expectations below a FAIL; vm_finish prints `vm-test: <VM_LABEL>: N passed, N failed (S s)`.
PASSED=0 FAILED=0
STEP_ERRORS=()
VM_START=$SECONDS
# expect_fail DESCRIPTION: records a failed expectation of the current step (the caller tests).
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
# step_end [FIGURES]: the PASS/FAIL line of the step, with its figures.
step_end() {
    local t=$((SECONDS - STEP_START)) figures=${1:+: $1} verdict=PASS e
    if [ ${#STEP_ERRORS[@]} -eq 0 ]; then
        PASSED=$((PASSED + 1))
    else
        FAILED=$((FAILED + 1))
        verdict=FAIL
    fi
    printf 'vm-test: %s %s %s (%d s)%s\n' "$verdict" "$VM_LABEL" "$STEP_NAME" "$t" "$figures"
    for e in "${STEP_ERRORS[@]}"; do
        printf '%s\n' "$e" | sed '1s/^/     - /; 2,$s/^/       | /'
    done
}

# vm_finish LOGS: saves the guest's journal of this boot (journal-last-boot.txt), stops QEMU,
# prints the totals, and where the logs are when a step failed or VM_KEEP=1 (LOGS: what is
# there). Returns 1 if a step failed.
vm_finish() {
    vm_agent "journalctl -b -0 --no-pager" 60 && printf '%s\n' "$VM_OUT" >"$VM_RUN/journal-last-boot.txt"
    vm_qmp '{"execute":"quit"}' >/dev/null 2>&1
    echo "vm-test: $VM_LABEL: $PASSED passed, $FAILED failed ($((SECONDS - VM_START)) s)"
    if [ "$FAILED" -gt 0 ] || [ "${VM_KEEP:-0}" = 1 ]; then
        echo "vm-test: logs in $VM_RUN ($1)"
    fi
    [ "$FAILED" -eq 0 ]
}

# g SCRIPT [SECONDS]: runs SCRIPT in the guest and prints its output (empty on failure).
g() { vm_agent "$1" "${2:-120}" && printf '%s\n' "$VM_OUT"; }
# prop UNIT PROPERTY: a systemd property of a unit in the guest.
prop() { vm_agent "systemctl show -P $2 '$1'" && printf '%s' "$VM_OUT"; }
# has_rule REGEX: a line of `ip -4 rule` in the guest matches.
has_rule() { vm_agent "ip -4 rule show | grep -qE -- '$1'"; }
# nic_name MAC: the guest's name of the NIC with that MAC (found, not assumed: the machine's PCI
# layout names them, ens4 on x86's pc, enp0s4 on arm64's virt).
nic_name() { vm_agent "ip -br link | awk '\$3 == \"$1\" {print \$1}'" && [ -n "$VM_OUT" ] && printf '%s' "$VM_OUT"; }
