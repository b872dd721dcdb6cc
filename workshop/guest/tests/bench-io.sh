#!/bin/sh
# bench-io: the guest side of make bench's guest I/O and network
# benchmarks (workshop/bench/guest-bench.py).  No verdict on speed: it
# prints one "VTD-BENCH: ..." line per measurement for the harness.
#   every NVMe and virtio disk: 4 KiB random reads (8 threads) and
#     128 KiB sequential reads, O_DIRECT (tools/io-bench.c);
#   every NIC, N-th on 10.0.N.0/24 from the runner's -netdev options:
#     64-byte UDP datagrams out to the host (10.0.N.2, port 9) and a TCP
#     stream in from 10.0.N.100:7778, whose guestfwd must send bulk data
#     (tools/net-bench.c); rates from the NIC's counters.
# vtdbenchsecs=S sets each measurement's length (default 5 s).
# vtdprofile=1 (with the kernel's profile=N) also prints where the guest
# kernel spent each measurement (tools/kprofile.c): the 15 busiest
# functions, or the N busiest with vtdprofile=N.
# FAILS only if a measurement fails, or on a DMAR fault.
# shellcheck source=../rootfs/usr/lib/vtd/common.sh
. /usr/lib/vtd/common.sh

secs=$(vtd_arg vtdbenchsecs)
[ -n "$secs" ] || secs=5
profile=$(vtd_arg vtdprofile)
prof_start() { [ -z "$profile" ] || kprofile reset || fail "no kernel profile"; }
prof_end() { [ -z "$profile" ] || kprofile "$1" "$([ "$profile" -gt 1 ] && echo "$profile" || echo 15)"; }
dmesg -c > /dev/null

section "disks"
for b in /sys/block/nvme*n1 /sys/block/vd*; do
    [ -e "$b" ] || continue
    d=$(basename "$b")
    for mode in rand4k seq128k; do
        prof_start
        out=$(io-bench "/dev/$d" $mode "$secs") || fail "io-bench /dev/$d $mode failed"
        echo "$out"
        prof_end "$d-$mode"
        set -- $out
        case $d in nvme*) drv=nvme ;; *) drv=virtio_blk ;; esac
        echo "VTD-BENCH: kind=disk dev=$d driver=$drv test=$mode iops=$5 mbps=$7"
    done
done

section "NICs"
net=2
for n in /sys/class/net/eth*; do
    [ -e "$n" ] || continue
    i=$(basename "$n")
    case $(basename "$(readlink -f "$n/device")") in
        virtio*) drv=virtio_net ;;
        *) drv=$(basename "$(readlink -f "$n/device/driver")") ;;
    esac
    ifconfig "$i" "10.0.$net.15" netmask 255.255.255.0 up || fail "cannot configure $i"
    t=0
    while [ "$(cat "$n/carrier" 2>/dev/null)" != 1 ] && [ $t -lt 100 ]; do
        sleep 0.1
        t=$((t + 1))
    done
    for dir in tx rx; do
        prof_start
        if [ $dir = tx ]; then
            out=$(net-bench "$i" tx "10.0.$net.2" 9 "$secs")
        else
            out=$(net-bench "$i" rx "10.0.$net.100" 7778 "$secs")
        fi || fail "net-bench $i $dir failed"
        echo "$out"
        prof_end "$i-$dir"
        set -- $out
        echo "VTD-BENCH: kind=net dev=$i driver=$drv test=$dir pps=$5 mbps=$7"
    done
    ifconfig "$i" down
    net=$((net + 1))
done
faults=$(dmesg | grep -c 'DMAR: \[DMA ' || true)
[ "$faults" = 0 ] || fail "$faults DMAR fault(s): $(dmesg | grep -m1 'DMAR: \[DMA ')"
echo "bench-io: done [$(cut -d' ' -f1 /proc/uptime)s]"
