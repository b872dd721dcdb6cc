#!/bin/bash
# `make fuzz`: QEMU's generic-fuzz target (tests/qtest/fuzz) on the
# intel-iommu configurations that patches/0007 adds to
# generic_fuzz_configs.h, built with clang's libFuzzer, AddressSanitizer
# and UndefinedBehaviorSanitizer (build/fuzz), each run for a bounded time.
#
# The fuzzer writes the unit's registers and the devices' BARs and config
# space, and answers every DMA read that is not of memory it wrote itself
# with its own patterns: the root, context and page tables, the interrupt
# remapping table and the invalidation queue the unit reads are fuzzer
# data, as are the devices' rings.
#
# The corpus is kept in build/fuzz-corpus/CONFIG between runs, so each run
# starts where the last one stopped, with seed inputs that program the
# unit as a driver would (fuzz/seeds.py); crashes, leaks of sanitizer reports
# and hangs land in build/fuzz-artifacts/ and fail the run.  Turn one into
# a regression qtest with the recipe printed on failure.
#
# Usage: fuzz.sh FUZZ-BUILD-DIR
#   VTD_FUZZ_SECONDS  time per configuration (default 300)
#   VTD_FUZZ_CONFIGS  configurations to run (default: all intel-iommu ones)
# Prints, per configuration, inputs run and coverage; "N passed, N failed"
# last.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
top=$(dirname "$build")
fuzzer=$build/qemu-fuzz-x86_64
seconds=${VTD_FUZZ_SECONDS:-300}
configs=${VTD_FUZZ_CONFIGS:-intel-iommu intel-iommu-caching-mode}
logs=$top/check-logs
artifacts=$top/fuzz-artifacts
mkdir -p "$logs" "$artifacts"

# QEMU does not free everything it allocates by design: leaks are not what
# this looks for.  Any other sanitizer report stops the input and counts.
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1

[ -x "$fuzzer" ] || { echo "fuzz: no $fuzzer" >&2; exit 2; }
pass=0 fail=0 total_runs=0
for config in $configs; do
    corpus=$top/fuzz-corpus/$config
    log=$logs/fuzz-$config.log
    mkdir -p "$corpus"
    # Inputs that program the unit as a driver would (seeds.py): the
    # fuzzer mutates from there instead of from nothing.
    "$here/fuzz/seeds.py" "$fuzzer" "$config" "$corpus" ||
        { echo "FAIL $config: cannot make seed inputs"; fail=$((fail + 1)); continue; }
    before=$(find "$artifacts" -name "$config-*" | wc -l)
    touch "$log.start"
    # -timeout: an input that keeps QEMU busy for 30 s is a hang (an
    # unbounded table walk or descriptor loop would be one).
    "$fuzzer" --fuzz-target="generic-fuzz-$config" \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
        -dict="$here/fuzz/intel-iommu.dict" \
        -print_final_stats=1 -artifact_prefix="$artifacts/$config-" \
        "$corpus" > "$log" 2>&1
    rc=$?
    after=$(find "$artifacts" -name "$config-*" | wc -l)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)
    total_runs=$((total_runs + ${runs:-0}))
    if [ "$rc" = 0 ] && [ "$after" = "$before" ] && [ -n "$runs" ]; then
        echo "ok   $config: ${runs} inputs in ${seconds} s, ${cov:-cov: ?}," \
             "corpus $(find "$corpus" -type f | wc -l) inputs"
        pass=$((pass + 1))
    else
        echo "FAIL $config (exit $rc, log $log)"
        grep -m5 -E 'ERROR: AddressSanitizer|runtime error:|ERROR: libFuzzer|==ERROR|SUMMARY' \
            "$log" | sed 's/^/    /'
        find "$artifacts" -name "$config-*" -newer "$log.start" 2>/dev/null | sed 's/^/    artifact /'
        cat >&2 <<EOF
    To turn an artifact into a qtest:
      QEMU_FUZZ_ARGS= QTEST_LOG=1 FUZZ_SERIALIZE_QTEST=1 \\
        $fuzzer --fuzz-target=generic-fuzz-$config ARTIFACT 2>&1 | grep '^\\[' > trace
      build/src/scripts/oss-fuzz/reorder_fuzzer_qtest_trace.py trace > cmds
      then minimise it (scripts/oss-fuzz/minimize_qtest_trace.py) and add
      it to tests/qtest/intel-iommu-test.c as a qtest_* sequence.
EOF
        fail=$((fail + 1))
    fi
done
echo "fuzz: $total_runs inputs in all"
echo "fuzz: $pass passed, $fail failed"
[ "$fail" = 0 ]
