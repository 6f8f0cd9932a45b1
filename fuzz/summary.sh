#!/bin/bash
# Adds up fuzz/ledger.tsv: per target, the runs, seconds and executions of the whole effort, the
# current corpus size (files, bytes) and the runs that failed. Prints a Markdown table.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
echo "| target | runs | fuzzing time | executions | corpus (files, bytes) | failed runs |"
echo "|---|---:|---:|---:|---|---:|"
for t in imds_text http_response netlink_reader config; do
    read -r runs secs execs fails < <(awk -F'\t' -v t="$t" '$2 == t { n++; s += $3; e += $4; if ($6 != "ok") f++ }
        END { printf "%d %d %d %d\n", n, s, e, f }' "$repo/fuzz/ledger.tsv")
    files=$(find "$repo/fuzz/corpus/$t" -type f | wc -l)
    bytes=$(find "$repo/fuzz/corpus/$t" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
    printf '| %s | %d | %d s | %d | %d, %d | %d |\n' "$t" "$runs" "$secs" "$execs" "$files" "$bytes" "$fails"
done
