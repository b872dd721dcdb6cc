#!/bin/bash
# Compare what a guest sees of our intel-iommu with the stock build's, for
# every configuration in configs.txt: whether it realizes at all, and every
# register of the window right after reset.
# Usage: compare-stock.sh OUR-QEMU STOCK-QEMU
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ours=$1
stock=$2
fw="-L /usr/share/seabios -L /usr/share/qemu -L /usr/lib/ipxe/qemu"
kvm_ok=0
[ -w /dev/kvm ] && kvm_ok=1

observe() {
    local qemu=$1 machine=$2 accel=$3 opts=$4
    shift 4
    [ "$opts" = "-" ] && opts=""
    for off in $(seq 0 8 $((0x230 - 8))); do
        printf 'readq 0x%x\n' $((0xfed90000 + off))
    done | timeout 30 "$here/qtest-probe.py" "$qemu" -machine "$machine" \
        -accel "$accel" $fw -display none -nodefaults \
        -device "intel-iommu${opts:+,$opts}" "$@" |
        sed 's/^ERROR: .*/ERROR/'
}

pass=0 fail=0 skip=0
while read -r machine accel opts extra; do
    case "$machine" in ''|'#'*) continue ;; esac
    addition=0
    if [ "${machine#+}" != "$machine" ]; then
        addition=1
        machine=${machine#+}
    fi
    if [ "$accel" = kvm ] && [ $kvm_ok = 0 ]; then
        skip=$((skip + 1))
        continue
    fi
    a=$(observe "$ours" "$machine" "$accel" "$opts" $extra)
    b=$(observe "$stock" "$machine" "$accel" "$opts" $extra)
    name="$machine $accel $opts $extra"
    if [ $addition = 1 ]; then
        if [ "$b" = ERROR ] && [ -n "$a" ] && [ "$a" != ERROR ]; then
            echo "ok: $name: addition, stock refuses, ours: ${a:0:40}"
            pass=$((pass + 1))
        else
            echo "FAIL: $name: expected an addition (ours '${a:0:20}'," \
                 "stock '${b:0:20}')"
            fail=$((fail + 1))
        fi
    elif [ -z "$a" ] || [ -z "$b" ]; then
        echo "FAIL: $name: no answer (ours '${a:0:20}', stock '${b:0:20}')"
        fail=$((fail + 1))
    elif [ "$a" = "$b" ]; then
        echo "ok: $name: ${a:0:60}"
        pass=$((pass + 1))
    else
        echo "FAIL: $name"
        echo "  ours:  $a"
        echo "  stock: $b"
        fail=$((fail + 1))
    fi
done < "$here/configs.txt"

# The migration stream's description, as QEMU's own checker sees it: no
# incompatibility from stock to ours, nor from ours back to stock.
checker=$(dirname "$here")/build/src/scripts/vmstate-static-checker.py
dumps=$(mktemp -d)
for machine in q35 pc-q35-2.11; do
    "$ours" -machine "$machine" -nodefaults -device intel-iommu \
        -dump-vmstate "$dumps/ours.json" &&
    "$stock" -machine "$machine" -nodefaults -device intel-iommu \
        -dump-vmstate "$dumps/stock.json" || {
        echo "FAIL: vmstate $machine: -dump-vmstate failed"
        fail=$((fail + 1))
        continue
    }
    for direction in "stock ours" "ours stock"; do
        set -- $direction
        if out=$(python3 "$checker" -s "$dumps/$1.json" -d "$dumps/$2.json" \
                 2>&1); then
            echo "ok: vmstate $machine: $1 -> $2"
            pass=$((pass + 1))
        else
            echo "FAIL: vmstate $machine: $1 -> $2: $out"
            fail=$((fail + 1))
        fi
    done
done
rm -rf "$dumps"
echo "compare-stock: $pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
