#!/bin/bash
# Runs eniroute's integration scenarios (tests/integration/sNN-*.sh) one after the other, each in
# its own private network namespaces, and prints one summary line:
#   integration: N passed, N failed
# Usage: tests/integration/run.sh [FILTER…]   (FILTER: substring of a scenario file name, e.g. s03
# or ipv6). Needs root, iproute2, nftables, socat, ping, and the binaries (env ENIROUTE and
# ENIROUTE_IMDS_SIM, default .build/testing/release/eniroute and …/eniroute-imds-sim: `make testing`).
# Exit status: 0 if every scenario passed, 1 otherwise (or if no scenario matched).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

# shellcheck source=../lib/runner.sh
. "$repo/tests/lib/runner.sh"
runner_binaries "$repo"
runner_delete_stale_namespaces
mapfile -t scenarios < <(runner_select "$here" "s[0-9][0-9]-*.sh" "$@")
# A scenario with a line `# also-with: VAR=VALUE` runs a second time with that environment (e.g.
# WORLD_RP_FILTER=1: the instance with strict reverse-path filtering, as CIS-hardened images).
# Entries are "FILE" or "FILE|VAR=VALUE".
runs=()
for f in "${scenarios[@]}"; do
    runs+=("$f")
    while read -r extra; do runs+=("$f|$extra"); done < <(sed -n 's/^# also-with: \([A-Z_]*=[^ ]*\)$/\1/p' "$f")
done

passed=0 failed=0 failed_names=()
if ((${#scenarios[@]} == 0)); then
    echo "no scenario matches: $*" >&2
    echo "integration: 0 passed, 0 failed"
    exit 1
fi
started=$SECONDS
logdir=$(mktemp -d /tmp/eniroute-integration.XXXXXX)
trap 'rm -rf "$logdir"' EXIT
for run in "${runs[@]}"; do
    f=${run%%|*} extra=()
    name=$(basename "$f" .sh)
    if [[ $run == *"|"* ]]; then extra=("${run#*|}") name="$name[${run#*|}]"; fi
    printf '\n######## %s\n' "$name"
    t0=$SECONDS
    # Each scenario is bounded: a hang must not stall the suite (the scenario's trap cleans up
    # its namespaces on TERM).
    env "${extra[@]}" timeout --kill-after=10 180 bash "$f" 2>&1 | tee "$logdir/$name.log"
    rc=${PIPESTATUS[0]}
    if ((rc == 0)); then
        passed=$((passed + 1))
        printf '######## %s: passed (%d s)\n' "$name" $((SECONDS - t0))
    else
        failed=$((failed + 1)) failed_names+=("$name")
        printf '######## %s: FAILED (exit %d, %d s)\n' "$name" "$rc" $((SECONDS - t0))
    fi
done
echo
if ((failed > 0)); then
    echo "failed scenarios: ${failed_names[*]}"
    for name in "${failed_names[@]}"; do
        grep -h -E "^[a-z0-9-]+: failed check: |^FAIL - world: " "$logdir/$name.log" | sed 's/^/  /'
    done
fi
echo "($((SECONDS - started)) s)"
echo "integration: $passed passed, $failed failed"
((failed == 0))
