#!/bin/bash
# Runs eniroute's fault matrix (tests/faults/fNN-*.sh), each script in its own private network
# namespaces (tests/lib/world.sh), prints ok/FAIL per case and one summary line:
#   faults: N passed, N failed
# and writes the results table (Markdown) to .build/faults/results.md (raw: results.tsv).
# Usage: tests/faults/run.sh [FILTER…]. Each script is bounded by FAULTS_SCRIPT_TIMEOUT seconds
# (default 300; the arm64 VM test, under emulation, allows more). Needs root and the binaries (env ENIROUTE and
# ENIROUTE_IMDS_SIM; default: the test variant of the release build, .build/testing/release/…, `make testing`).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export FAULTS_OUT=${FAULTS_OUT:-$repo/.build/faults}
export FAULTS_RESULTS=$FAULTS_OUT/results.tsv
mkdir -p "$FAULTS_OUT"
: >"$FAULTS_RESULTS"

# shellcheck source=../lib/runner.sh
. "$repo/tests/lib/runner.sh"
runner_binaries "$repo"
runner_delete_stale_namespaces
mapfile -t scripts < <(runner_select "$here" "f[0-9][0-9]-*.sh" "$@")
((${#scripts[@]})) || { echo "no fault script matches: $*" >&2; echo "faults: 0 passed, 0 failed"; exit 1; }

started=$SECONDS broken=()
for f in "${scripts[@]}"; do
    name=$(basename "$f" .sh)
    printf '\n######## %s\n' "$name"
    t0=$SECONDS
    timeout --kill-after=10 "${FAULTS_SCRIPT_TIMEOUT:-300}" bash "$f" 2>&1 | tee "$FAULTS_OUT/$name.log"
    rc=${PIPESTATUS[0]}
    printf '######## %s: exit %d (%d s)\n' "$name" "$rc" $((SECONDS - t0))
    # A script that died outside a case (world error, timeout) counts as a failed case.
    if ((rc != 0)) && ! grep -q "^FAIL - case " "$FAULTS_OUT/$name.log"; then broken+=("$name"); fi
done

passed=$(awk -F'\t' '$3 == "ok"' "$FAULTS_RESULTS" | wc -l)
failed=$(awk -F'\t' '$3 != "ok"' "$FAULTS_RESULTS" | wc -l)
failed=$((failed + ${#broken[@]}))
{
    echo "| script | case | result | exit | state after | what the user sees |"
    echo "|---|---|---|---|---|---|"
    awk -F'\t' '{ gsub(/\|/, "\\|", $6); printf "| %s | %s | %s | %s | %s | `%s` |\n", $1, $2, $3, $4, $5, $6 }' "$FAULTS_RESULTS"
} >"$FAULTS_OUT/results.md"
echo
awk -F'\t' '{ printf "%-4s - %s: %s (exit %s, state %s)\n", $3, $1, $2, $4, $5 }' "$FAULTS_RESULTS"
for b in "${broken[@]}"; do echo "FAIL - $b: the script failed outside its cases (see $FAULTS_OUT/$b.log)"; done
echo "($((SECONDS - started)) s; table: $FAULTS_OUT/results.md)"
echo "faults: $passed passed, $failed failed"
((failed == 0))
