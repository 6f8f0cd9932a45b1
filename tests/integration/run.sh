#!/bin/bash
# Runs eniroute's integration scenarios (tests/integration/sNN-*.sh) one after the other, each in
# its own private network namespaces, and prints one summary line:
#   integration: N passed, N failed
# Usage: tests/integration/run.sh [FILTER…]   (FILTER: substring of a scenario file name, e.g. s03
# or ipv6). Needs root, iproute2, nftables, socat, ping, and the binaries (env ENIROUTE and
# ENIROUTE_IMDS_SIM, default .build/debug/eniroute and .build/debug/eniroute-imds-sim).
# Exit status: 0 if every scenario passed, 1 otherwise (or if no scenario matched).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export ENIROUTE=${ENIROUTE:-$repo/.build/debug/eniroute}
export ENIROUTE_IMDS_SIM=${ENIROUTE_IMDS_SIM:-$repo/.build/debug/eniroute-imds-sim}
[[ $ENIROUTE == /* ]] || ENIROUTE=$PWD/$ENIROUTE
[[ $ENIROUTE_IMDS_SIM == /* ]] || ENIROUTE_IMDS_SIM=$PWD/$ENIROUTE_IMDS_SIM

# Namespaces left by a scenario that was killed with SIGKILL (its trap could not run): only the
# library's exact naming pattern (er<PID>x<N>-<role>), and only when that PID is gone.
for n in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    if [[ $n =~ ^er([0-9]+)x[0-9]+-(inst|vpc|client|peer|ctr)$ ]] && ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null; then
        echo "run.sh: deleting stale test namespace $n"
        for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
        ip netns del "$n"
    fi
done

scenarios=()
for f in "$here"/s[0-9][0-9]-*.sh; do
    name=$(basename "$f" .sh)
    if (($# > 0)); then
        keep=0
        for filter in "$@"; do [[ $name == *"$filter"* ]] && keep=1; done
        ((keep)) || continue
    fi
    scenarios+=("$f")
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
for f in "${scenarios[@]}"; do
    name=$(basename "$f" .sh)
    printf '\n######## %s\n' "$name"
    t0=$SECONDS
    # Each scenario is bounded: a hang must not stall the suite (the scenario's trap cleans up
    # its namespaces on TERM).
    timeout --kill-after=10 180 bash "$f" 2>&1 | tee "$logdir/$name.log"
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
        grep -h -E "^$name: failed check: |^FAIL - world: " "$logdir/$name.log" | sed 's/^/  /'
    done
fi
echo "($((SECONDS - started)) s)"
echo "integration: $passed passed, $failed failed"
((failed == 0))
