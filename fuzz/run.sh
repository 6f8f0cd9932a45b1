#!/bin/bash
# Runs each libFuzzer target for FUZZ_SECONDS (default 60) with one job, starting from the corpus
# in the repository (fuzz/corpus/<target>/) plus a scratch corpus in .build/fuzz/corpus/<target>/;
# afterwards the inputs that add coverage are merged back into the repository corpus. A crash,
# leak, timeout (FUZZ_TIMEOUT s per input, default 10) or single allocation above FUZZ_MALLOC_MB
# (default 64 MiB) fails the run and leaves the input in .build/fuzz/artifacts/<target>/.
# Each run appends a line to fuzz/ledger.tsv (date, target, seconds, executions, corpus files,
# result), so the executions of the whole effort can be added up.
# Usage: fuzz/run.sh [TARGET…]   (default: all)
set -uo pipefail
# A Swift trap is reported by libFuzzer as a deadly signal; the Swift backtracer would fight ASan.
export SWIFT_BACKTRACE=enable=no
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${FUZZ_OUT:-$repo/.build/fuzz}
seconds=${FUZZ_SECONDS:-60}
targets=("$@")
((${#targets[@]})) || targets=(imds_text http_response netlink_reader config)
"$repo/fuzz/build.sh" "${targets[@]}" || exit 1
ledger=$repo/fuzz/ledger.tsv
[[ -s $ledger ]] || printf 'date\ttarget\tseconds\texecutions\tcorpus_files\tresult\n' >"$ledger"
failed=0
# fuzz_minimize TARGET CORPUS LOG: replaces CORPUS by a minimal subset with the same coverage.
fuzz_minimize() {
    local min=$out/min/$1
    rm -rf "$min" && mkdir -p "$min"
    if "$out/bin/$1" -merge=1 "$min" "$2" >>"$3" 2>&1 && [[ -n $(ls -A "$min") ]]; then
        find "$2" -type f -delete
        cp "$min"/* "$2"/
    fi
}
printf '%-16s %8s %12s %10s %8s  %s\n' target seconds executions exec/s corpus result
for t in "${targets[@]}"; do
    corpus=$repo/fuzz/corpus/$t scratch=$out/corpus/$t artifacts=$out/artifacts/$t/ log=$out/$t.log
    mkdir -p "$corpus" "$scratch" "$artifacts"
    start=$SECONDS
    "$out/bin/$t" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 \
        -malloc_limit_mb="${FUZZ_MALLOC_MB:-64}" -max_len="${FUZZ_MAX_LEN:-8192}" -print_final_stats=1 \
        -artifact_prefix="$artifacts" "$scratch" "$corpus" >"$log" 2>&1
    rc=$?
    took=$((SECONDS - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [[ -n $execs ]] || execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
    result=ok
    if ((rc != 0)); then
        result="FAIL (exit $rc; $(ls "$artifacts" | head -3 | tr '\n' ' '))"
        failed=1
        grep -E "ERROR|SUMMARY|Fatal error|panic" "$log" | head -5 | sed 's/^/    /'
    else
        # Keep the repository corpus small: only inputs that add coverage go in, then the whole
        # corpus is reduced to a minimal set with the same coverage.
        "$out/bin/$t" -merge=1 "$corpus" "$scratch" >>"$log" 2>&1 || true
        fuzz_minimize "$t" "$corpus" "$log"
    fi
    files=$(find "$corpus" -type f | wc -l)
    printf '%-16s %8s %12s %10s %8s  %s\n' "$t" "$took" "${execs:-?}" "$(( ${execs:-0} / (took > 0 ? took : 1) ))" "$files" "$result"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$took" "${execs:-0}" "$files" "$result" >>"$ledger"
done
exit $failed
