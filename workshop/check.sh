#!/bin/bash
# `make check`: every test level, one after the other, then one summary.
#   1. qtests through QEMU's meson test setup (our intel-iommu-test, and
#      the DMAR table from bios-tables-test against QEMU's expected blob)
#   2. side-by-side comparison of the guest-visible registers with stock
#   3. end-to-end Linux guest tests
#   4. the patch series: git am on the pristine base, same tree, builds
# Prints "N passed, N failed" last; exits non-zero on any failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$root/build
qemu=$build/qemu/qemu-system-x86_64
stock=$build/stock/qemu-system-x86_64
logs=$build/check-logs
mkdir -p "$logs"
pass=0 fail=0
failed=()

# Count "ok"/"not ok" TAP lines (qtests) or "passed/failed" summaries.
stage() {
    local name=$1 log=$logs/$1.log p f rc
    shift
    echo "=== $name"
    local t0=$SECONDS
    "$@" >"$log" 2>&1
    rc=$?
    p=$(grep -cE '^ok [0-9]' "$log")
    f=$(grep -cE '^not ok [0-9]' "$log")
    if sum=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1) &&
       [ -n "$sum" ]; then
        p=$(echo "$sum" | sed -E 's/.*[^0-9]?([0-9]+) passed.*/\1/')
        f=$(echo "$sum" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    fi
    if [ "$p" = 0 ] && [ "$f" = 0 ]; then
        # A step without sub-results counts once.
        if [ $rc = 0 ]; then p=1; else f=1; fi
    elif [ $rc != 0 ] && [ "$f" = 0 ]; then
        f=1
    fi
    pass=$((pass + p))
    fail=$((fail + f))
    [ "$f" != 0 ] && failed+=("$name")
    grep -E '^(not ok|FAIL|ok |run-guest:|series:|compare-stock:)' "$log" |
        grep -v '^ok   ' | sed 's/^/    /' | tail -n 40
    echo "    -> $p passed, $f failed ($((SECONDS - t0)) s, log $log)"
}

stage qtest-intel-iommu \
    meson test -C "$build/qemu" --no-rebuild --verbose \
    qtest-x86_64/intel-iommu-test
stage qtest-dmar-table env QTEST_QEMU_BINARY="$qemu" \
    "$build/qemu/tests/qtest/bios-tables-test" -p /x86_64/acpi/q35/dmar
stage compare-stock "$here/compare-stock.sh" "$qemu" "$stock"
stage guest "$here/run-guest-tests.sh" "$qemu"
stage series bash -c "'$here/make-series.py' '$root' '$build/pristine' \
    '$build/series-work' '$build/series' &&
    '$here/check-series.sh' '$build/series' '$build/series-work' '$build/src'"

echo
[ ${#failed[@]} != 0 ] && echo "failed stages: ${failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
