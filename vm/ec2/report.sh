# shellcheck shell=bash
# PASS/FAIL bookkeeping of the VM steps (sourced by vm/ec2/run.sh).
PASSED=0 FAILED=0
STEP_ERRORS=()
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
    local t=$((SECONDS - STEP_START)) figures=${1:+: $1}
    if [ ${#STEP_ERRORS[@]} -eq 0 ]; then
        PASSED=$((PASSED + 1))
        printf 'vm-test: PASS %s %s (%d s)%s\n' "$VM_IMAGE" "$STEP_NAME" "$t" "$figures"
    else
        FAILED=$((FAILED + 1))
        printf 'vm-test: FAIL %s %s (%d s)%s\n' "$VM_IMAGE" "$STEP_NAME" "$t" "$figures"
        local e
        for e in "${STEP_ERRORS[@]}"; do
            printf '%s\n' "$e" | sed '1s/^/     - /; 2,$s/^/       | /'
        done
    fi
}

# g SCRIPT: runs SCRIPT in the guest and prints its output (empty on failure).
g() { vm_agent "$1" "${2:-120}" && printf '%s\n' "$VM_OUT"; }
# prop UNIT PROPERTY: a systemd property of a unit in the guest.
prop() { vm_agent "systemctl show -P $2 '$1'" && printf '%s' "$VM_OUT"; }

# The guest's routing state: rules, routes of every table but local, addresses (no lifetimes),
# MTUs and interface groups, sorted.
SNAPSHOT='ip -4 rule show; ip -6 rule show; echo "# routes"; { ip -4 route show table all; ip -6 route show table all; } | grep -v "table local" | grep -v "^multicast\|fe80::/64\|^local " | sort
echo "# addresses"; ip -o address show | awk "\$4 !~ /^fe80:/ {print \$2, \$4}" | sort
echo "# links"; ip -o link show | sed -n "s/^[0-9]*: \([^:@]*\)[:@].* mtu \([0-9]*\) .* group \([^ ]*\).*/\1 mtu \2 group \3/p" | sort'
snapshot() { vm_agent "$SNAPSHOT" && printf '%s\n' "$VM_OUT"; }

# The same without the main table's routes (those are networkd's and the kernel's; eniroute's are
# in its own tables): what a networkd or netplan event must leave exactly as it was.
# Routes eniroute mirrors from main into an ENI's table (they carry main's metric) follow main by
# design and are left out too; mirrored() lists them.
MANAGED_SNAPSHOT=${SNAPSHOT/'| grep -v "table local" |'/'| grep -v "table local" | grep " table " | grep -v " metric " |'}
mirrored() { g "ip -4 route show table all | grep ' table 1[0-9]\{4\} ' | grep ' metric ' | sort"; }
managed_snapshot() { vm_agent "$MANAGED_SNAPSHOT" && printf '%s\n' "$VM_OUT"; }
main_routes() { g "ip -4 route show table main; ip -6 route show table main | grep -v '^fe80\|^multicast'"; }
