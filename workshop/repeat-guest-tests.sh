#!/bin/bash
# Run the guest tests whose names contain FILTER (or one of FILTER's
# comma-separated words) COUNT times each against
# QEMU (run-guest-tests.sh), for failures that show only now and then;
# prints how many runs of each test passed, then "N passed, N failed"
# over all runs.
# Usage: repeat-guest-tests.sh QEMU FILTER COUNT
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
qemu=$1 filter=$2 count=$3
declare -A ok=() runs=()
pass=0 fail=0
for i in $(seq 1 "$count"); do
    while read -r verdict name _; do
        name=${name%:}
        runs[$name]=$(( ${runs[$name]:-0} + 1 ))
        if [ "$verdict" = ok ]; then
            ok[$name]=$(( ${ok[$name]:-0} + 1 ))
            pass=$((pass + 1))
        else
            fail=$((fail + 1))
            echo "round $i: FAIL $name"
        fi
    done < <(for f in ${filter//,/ }; do
                 "$here/run-guest-tests.sh" "$qemu" "$f" 2>&1
             done | grep -E '^(ok|FAIL) ')
    echo "round $i of $count done: $pass passed, $fail failed so far"
done
for name in $(printf '%s\n' "${!runs[@]}" | sort); do
    echo "$name: ${ok[$name]:-0} of ${runs[$name]} runs passed"
done
echo "repeat: $pass passed, $fail failed"
[ "$fail" = 0 ]
