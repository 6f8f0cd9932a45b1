#!/bin/bash
# Replays every input of the repository corpora (fuzz/corpus/<target>/) through its libFuzzer
# target once (-runs=0): a regression check for `make test`, seconds long. Fails on any crash,
# sanitizer report, timeout or oversized allocation. Usage: fuzz/replay.sh [TARGET…]
set -uo pipefail
# A Swift trap is reported by libFuzzer as a deadly signal; the Swift backtracer would fight ASan.
export SWIFT_BACKTRACE=enable=no
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${FUZZ_OUT:-$repo/.build/fuzz}
targets=("$@")
((${#targets[@]})) || targets=(imds_text http_response netlink_reader config)
"$repo/fuzz/build.sh" "${targets[@]}" || exit 1
passed=0 failed=0
for t in "${targets[@]}"; do
    corpus=$repo/fuzz/corpus/$t
    n=$(find "$corpus" -type f 2>/dev/null | wc -l)
    if ((n == 0)); then echo "FAIL - $t: empty corpus $corpus"; failed=$((failed + 1)); continue; fi
    mkdir -p "$out/artifacts/$t"
    if "$out/bin/$t" -runs=0 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=64 \
        -artifact_prefix="$out/artifacts/$t/" "$corpus" >"$out/$t.replay.log" 2>&1; then
        echo "ok   - $t: $n inputs replayed"
        passed=$((passed + 1))
    else
        echo "FAIL - $t: see $out/$t.replay.log"
        grep -E "ERROR|SUMMARY|Fatal error" "$out/$t.replay.log" | head -5 | sed 's/^/    /'
        failed=$((failed + 1))
    fi
done
echo "fuzz-replay: $passed passed, $failed failed"
((failed == 0))
