#!/bin/bash
# `make check`: every test level, one after the other, then one summary.
#   1. qtests through QEMU's meson test setup (tests/qtest/intel-iommu-test)
#   2. side-by-side comparison of the guest-visible registers with stock
#   3. end-to-end Linux guest tests
#   4. Debian's libvirt running the guest with <iommu model='intel'>
#   5. QEMU's manuals with our pages, through its sphinx setup (make docs)
#   6. the patch series: git am on the pristine base, same tree, builds
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
    # meson's verbose TAP lines, or a closing "N passed, N failed".
    p=$(grep -cE '^▶ .* OK *$' "$log")
    f=$(grep -cE '^▶ .* (FAIL|ERROR|TIMEOUT) *$' "$log")
    sum=$(grep -oE '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1)
    if [ -n "$sum" ]; then
        p=$(echo "$sum" | grep -oE '^[0-9]+')
        f=$(echo "$sum" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
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

# The migration qtests also migrate to and from the stock build.
stage qtest-intel-iommu \
    env QTEST_QEMU_BINARY_STOCK="$stock" \
    meson test -C "$build/qemu" --no-rebuild --verbose \
    qtest-x86_64/intel-iommu-test
stage compare-stock "$here/compare-stock.sh" "$qemu" "$stock"
stage guest "$here/run-guest-tests.sh" "$qemu"
stage libvirt "$here/libvirt-test.sh" "$qemu" "$stock" "$build/guest"
stage docs make -C "$root" -s docs
stage series bash -c "'$here/make-series.py' '$root' '$build/pristine' \
    '$build/series-work' '$build/series' &&
    '$here/check-series.sh' '$build/series' '$build/series-work' '$build/src'"

echo
[ ${#failed[@]} != 0 ] && echo "failed stages: ${failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
