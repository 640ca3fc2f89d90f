#!/bin/bash
# Run every libFuzzer harness for SECONDS each (the first argument) on a
# scratch copy of its corpus plus t/fuzz/regress/<name> (earlier findings,
# kept forever).  A crash, leak or sanitizer report fails the run and
# leaves the input in t/fuzz/findings/.  Prints executions per harness.
set -uo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
names=${*:-token claims b64url basic form json keys scan env}
mkdir -p findings
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
printf '%-8s %12s %10s  %s\n' harness executions exec/s result
for n in $names; do
    mkdir -p "$work/$n" "regress/$n"
    log="$work/$n.log"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "bin/fuzz_$n" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
        -artifact_prefix="findings/$n-" \
        "$work/$n" "corpus/$n" "regress/$n" > "$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    if [ $rc -eq 0 ]; then
        res=ok
    else
        res="FAILED (rc $rc, see t/fuzz/findings/)"
        fail=1
        grep -E "ERROR|SUMMARY|runtime error" "$log" | head -5
    fi
    printf '%-8s %12s %10s  %s\n' "$n" "${runs:-?}" "${rate:-?}" "$res"
done
exit $fail
