#!/bin/bash
# Shared by the suite runners (tests/integration/run.sh, tests/faults/run.sh); sourced, no side
# effects of its own.

# runner_binaries REPO: exports ENIROUTE and ENIROUTE_IMDS_SIM, the binaries under test, as absolute
# paths; unset, they are the test variant of the release build (REPO/.build/testing/release/…,
# `make testing`).
runner_binaries() {
    export ENIROUTE=${ENIROUTE:-$1/.build/testing/release/eniroute}
    export ENIROUTE_IMDS_SIM=${ENIROUTE_IMDS_SIM:-$1/.build/testing/release/eniroute-imds-sim}
    [[ $ENIROUTE == /* ]] || ENIROUTE=$PWD/$ENIROUTE
    [[ $ENIROUTE_IMDS_SIM == /* ]] || ENIROUTE_IMDS_SIM=$PWD/$ENIROUTE_IMDS_SIM
}

# runner_delete_stale_namespaces: deletes the namespaces of a test script that was SIGKILLed (its
# trap could not run): only the world library's exact naming pattern (er<PID>x<N>-<role>, any
# role: see tests/lib/world.sh), and only when that PID is gone. Their processes are killed first.
runner_delete_stale_namespaces() {
    local n p
    for n in $(ip netns list 2>/dev/null | awk '{print $1}'); do
        if [[ $n =~ ^er([0-9]+)x[0-9]+-[a-z][a-z0-9]*$ ]] && ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null; then
            echo "run.sh: deleting stale test namespace $n"
            for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
            ip netns del "$n"
        fi
    done
}

# runner_select DIR PATTERN [FILTER…]: prints the scripts DIR/PATTERN (a glob) whose name (without
# .sh) contains one of the FILTERs (all of them without a filter), one per line.
runner_select() {
    local dir=$1 pattern=$2 f name filter keep; shift 2
    for f in "$dir"/$pattern; do
        [[ -e $f ]] || continue
        name=$(basename "$f" .sh)
        if (($# > 0)); then
            keep=0
            for filter in "$@"; do [[ $name == *"$filter"* ]] && keep=1; done
            ((keep)) || continue
        fi
        printf '%s\n' "$f"
    done
}
