#!/bin/bash
# Run the end-to-end guest tests listed in guest-tests.txt against a QEMU
# binary and print one line each, then "N passed, N failed".
# Usage: run-guest-tests.sh QEMU [NAME-FILTER]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
qemu=$1
filter=${2:-}
pass=0 fail=0
failed=""
while IFS='|' read -r name kernel test opts; do
    name=$(echo "$name" | xargs)
    case "$name" in ''|'#'*) continue ;; esac
    [ -n "$filter" ] && [[ "$name" != *$filter* ]] && continue
    kernel=$(echo "$kernel" | xargs)
    test=$(echo "$test" | xargs)
    # shellcheck disable=SC2086
    if out=$(VTD_GUEST_TIMEOUT=${VTD_GUEST_TIMEOUT:-180} \
             "$here/guest/run-guest.sh" -q "$qemu" -k "$kernel" -t "$test" \
             $opts 2>&1); then
        pass=$((pass + 1))
        echo "ok   $name: $(echo "$out" | tail -n1)"
    else
        fail=$((fail + 1))
        failed="$failed $name"
        echo "FAIL $name:"
        echo "$out" | tail -n 20 | sed 's/^/    /'
    fi
done < "$here/guest-tests.txt"
[ -n "$failed" ] && echo "failed:$failed"
echo "guest tests: $pass passed, $fail failed"
[ $fail = 0 ]
