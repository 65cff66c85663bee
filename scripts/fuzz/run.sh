#!/usr/bin/env bash
# make fuzz: builds each libFuzzer target in Fuzz/ against the package's own modules (compiled
# with -sanitize=fuzzer,address) and runs it for a bounded time. Environment:
#   FUZZ_SECONDS=60         time per target asked of libFuzzer (-max_total_time); each target's
#                           line reports the time it really ran, measured here, and its runs
#   FUZZ_TARGETS="NetlinkDecoder RecordFormatter EnrichedFormatter ConfigurationParser RemoteFrameDecoder"
# The corpus grows in .build/fuzz/corpus/NAME (seeded from Fuzz/corpus/NAME); a crash leaves its
# input in .build/fuzz/artifacts and fails the run. Keep every crash as a regression test.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/.build/fuzz"
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-NetlinkDecoder RecordFormatter EnrichedFormatter ConfigurationParser RemoteFrameDecoder}
# Swift's crash reporter would hold every crashing run for up to 30 s.
export SWIFT_BACKTRACE=enable=no
# libFuzzer finds leaks with ASan's leak checker; the daemon's one-time allocations are not leaks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

echo "fuzz: building the package's modules with -sanitize=fuzzer,address"
(cd "$root" && swift build --build-path "$build" --sanitize=address -Xswiftc -sanitize=fuzzer \
    --target AuditDaemon 2>&1 | tail -1)
debug="$build/debug"
# Every library target's objects, not the executable's (its main would clash with libFuzzer's),
# the tests', or the build tools'.
objects=()
for dir in "$debug"/*.build; do
    case $(basename "$dir") in
        swift_auditd.build|swift-auditd.build|*Tests.build|*-tool.build|generate_*) continue ;;
    esac
    for object in "$dir"/*.o; do [ -e "$object" ] && objects+=("$object"); done
done
module_maps=()
for map in "$debug"/*.build/module.modulemap; do module_maps+=(-Xcc "-fmodule-map-file=$map"); done

mkdir -p "$build/bin" "$build/artifacts"
failures=0
for target in $targets; do
    binary="$build/bin/fuzz-$target"
    # (ld.gold warns about every ASan helper symbol: shown only when the link fails)
    swiftc -sanitize=fuzzer,address -parse-as-library -O -g -module-name "Fuzz$target" \
        -I "$debug/Modules" "${module_maps[@]}" -Xcc -I"$root/Sources/CAudit/include" \
        "$root/Fuzz/${target}Fuzz.swift" "${objects[@]}" -laudit -o "$binary" > "$build/$target.build.log" 2>&1 \
        || { grep -v 'Cannot export local symbol' "$build/$target.build.log" >&2; exit 1; }
    corpus="$build/corpus/$target"
    mkdir -p "$corpus"
    [ -d "$root/Fuzz/corpus/$target" ] && cp -n "$root/Fuzz/corpus/$target"/* "$corpus"/ 2>/dev/null || true
    log="$build/$target.log"
    echo "fuzz: $target: asking libFuzzer for $seconds s"
    status=0
    started=$(date +%s%N)
    "$binary" "$corpus" -max_total_time="$seconds" -print_final_stats=1 -max_len=16384 -timeout=10 \
        -artifact_prefix="$build/artifacts/$target-" > "$log" 2>&1 || status=$?
    # The time it ran, measured here: a crash ends it early, and libFuzzer's own
    # "Done N runs in S second(s)" is rounded to whole seconds.
    tenths=$(( ($(date +%s%N) - started) / 100000000 ))
    ran="$((tenths / 10)).$((tenths % 10)) s"
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate="?"
    [ -n "$runs" ] && [ "$tenths" -gt 0 ] && rate=$((runs * 10 / tenths))
    coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    if [ "$status" -ne 0 ]; then
        failures=$((failures + 1))
        echo "fuzz: $target FAILED after ${runs:-?} runs in $ran; log $log" >&2
        grep -E 'ERROR|Fatal error|precondition|artifact' "$log" | head -5 >&2 || true
    else
        echo "fuzz: $target: ${runs:-?} runs in $ran ($rate runs/s), coverage ${coverage:-?}, corpus $(ls "$corpus" | wc -l) inputs, no crash"
    fi
done
[ "$failures" -eq 0 ] || { echo "fuzz: $failures targets crashed" >&2; exit 1; }
