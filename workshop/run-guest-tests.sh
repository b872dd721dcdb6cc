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
    # trim (not xargs: comment lines may hold quotes)
    name="${name#"${name%%[![:space:]]*}"}"
    name="${name%"${name##*[![:space:]]}"}"
    # "#flaky NAME": known to fail now and then for reasons outside this
    # device (see the comment above it); run only with VTD_GUEST_FLAKY=1.
    if [[ "$name" == '#flaky '* ]] && [ "${VTD_GUEST_FLAKY:-0}" = 1 ]; then
        name=${name#\#flaky }
    fi
    case "$name" in ''|'#'*) continue ;; esac
    [ -n "$filter" ] && [[ "$name" != *$filter* ]] && continue
    kernel=$(echo "$kernel" | xargs)
    test=$(echo "$test" | xargs)
    # Leading VAR=value words are environment for the runner.
    envs=()
    read -r -a words <<<"$opts"
    while [ ${#words[@]} -gt 0 ] && [[ "${words[0]}" =~ ^[A-Z_]+= ]]; do
        envs+=("${words[0]}")
        words=("${words[@]:1}")
    done
    if out=$(env VTD_GUEST_TIMEOUT="${VTD_GUEST_TIMEOUT:-180}" "${envs[@]}" \
             "$here/guest/run-guest.sh" -q "$qemu" -k "$kernel" -t "$test" \
             "${words[@]}" 2>&1); then
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
