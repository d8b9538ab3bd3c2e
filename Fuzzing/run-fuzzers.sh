#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers of untrusted files (Fuzzing/README.md): builds
# fuzz-parsers with libFuzzer and AddressSanitizer into .build-fuzz/, then fuzzes each target for
# SECONDS (default 60) from the seed corpus in Fuzzing/corpus/<target>/, and prints a table of
# executions, coverage and crashes. Not part of `swift test`.
#
#   Fuzzing/run-fuzzers.sh [SECONDS] [TARGET...]     (targets: every one by default)
#
# New inputs and crash files go to out/fuzz/<target>/ (set WORK to move them); the committed
# corpus is only read. Exits 1 when a target crashed, leaked, timed out or ran out of memory:
# replay the saved input with `swift run fuzz-parsers TARGET FILE`.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(safetensors npy idx png unet-config scheduler-config)
fi
work=${WORK:-out/fuzz}

# Swift code gets coverage counters and ASan directly; libFuzzer comes from its no-main
# archive, because SwiftPM gives an executable its own `main` (-sanitize=fuzzer would link a
# second one). C targets get the same instrumentation through clang.
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")
libfuzzer=$(find "$toolchain/lib" -name 'libclang_rt.fuzzer_no_main-x86_64.a' -print -quit)
[ -n "$libfuzzer" ] || { echo "run-fuzzers: libclang_rt.fuzzer_no_main not found under $toolchain/lib" >&2; exit 1; }
swift build -c release --product fuzz-parsers --build-path .build-fuzz \
    -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
    -Xswiftc -DFUZZING -Xcc -fsanitize=fuzzer-no-link,address \
    -Xlinker --whole-archive -Xlinker "$libfuzzer" -Xlinker --no-whole-archive -Xlinker -lstdc++ \
    2>&1 | grep -v 'ld.gold: warning: Cannot export local symbol' >&2 || true
fuzzer=.build-fuzz/release/fuzz-parsers
[ -x "$fuzzer" ] || { echo "run-fuzzers: the build failed" >&2; exit 1; }

failed=0
printf '| target | seconds | executions | exec/s | edges covered | features | corpus | crashes |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for target in "${targets[@]}"; do
    mkdir -p "$work/$target/corpus" "$work/$target/crashes"
    log="$work/$target/fuzz.log"
    status=0
    # 2 GB of memory and 10 s an input are bounds a parser must keep to on inputs of a few KB.
    FUZZ_TARGET=$target "$fuzzer" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="$work/$target/crashes/" "$work/$target/corpus" "Fuzzing/corpus/$target" >"$log" 2>&1 || status=$?
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    # (a crash prints the statistics twice: the last are the run's)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
    crashes=$(find "$work/$target/crashes" -type f | wc -l)
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$target" "$seconds" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes"
    if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        failed=1
        echo "run-fuzzers: $target stopped (exit $status); see $log and $work/$target/crashes/" >&2
    fi
done
exit $failed
