#!/bin/sh
# bench-cm: caching-mode churn, for make bench's benchmark 6
# (workshop/bench/guest-bench.py --cm).  The QEMU of the payload runs a
# nested machine (L2) with intel-iommu,caching-mode=on and edu assigned
# through vfio-pci, as in nested-vfio.sh; its VFIO is the notifier
# consumer.  The L2 driver (qtest) maps vtdcmpages pages one at a time,
# each followed by a page-selective invalidation as caching mode asks,
# then unmaps them the same way, vtdcmrounds times: 2 x pages x rounds
# invalidations, each of which should yield exactly one MAP or UNMAP.
#
# Host time per notification: qtest's log (the nested QEMU's stderr)
# stamps each command when it arrives ([R +secs]) and when its reply
# goes out ([S +secs]), so the difference is what the nested QEMU spent
# on that one write: for the IOTLB register write, the invalidation, the
# notification and VFIO's map or unmap ioctl in L1.  The same command
# stream is then replayed with the invalidations written to a scratch
# register of L2's VT-d unit instead (FEDATA): the median of those writes
# is the cost of a register write alone, which the figure leaves out.
# The nested QEMU's CPU time over each whole stream is printed too.
# Prints one "VTD-BENCH: kind=cm ..." line; FAILS only if the nested
# machine does not run or a notification is missing.
# shellcheck source=../rootfs/usr/lib/vtd/common.sh
. /usr/lib/vtd/common.sh
bdf=0000:00:04.0
# shellcheck source=../rootfs/usr/lib/vtd/l2.sh
. /usr/lib/vtd/l2.sh

pages=$(vtd_arg vtdcmpages)
[ -n "$pages" ] || pages=256
rounds=$(vtd_arg vtdcmrounds)
[ -n "$rounds" ] || rounds=8
l2_bind_edu

now() { cut -d' ' -f1 /proc/uptime; }
# CPU time (user + system, clock ticks) of the nested machine's QEMU: the
# work of the invalidations and notifications, VFIO's ioctls included,
# whatever the speed of the shell writing the commands.
cputime() { awk '{ print $14 + $15 }' "/proc/$(cat /tmp/l2.pid)/stat"; }

# churn INVALIDATE: the L2 driver's map/unmap loop; INVALIDATE=1 sends
# the page-selective invalidations, 0 the same number of harmless writes.
churn() {
    l2_edu_setup
    # Domain 1: 4-level tables at 0x102000, IOVA 0x1000000 + 4 KiB x i
    # -> 0x400000 + 4 KiB x i through the leaf table at 0x105000.
    cmds "writeq 0x100000 0x101001" \
         "writeq 0x101200 0x102001" "writeq 0x101208 0x102" \
         "writeq 0x102000 0x103003" "writeq 0x103000 0x104003" \
         "writeq 0x104040 0x105003" \
         "writeq $((L2_VTD + 0x20)) 0x100000" "writel $((L2_VTD + 0x18)) 0x40000000" \
         "writeq $((L2_VTD + 0x28)) 0xa000000000000000" \
         "writeq $((L2_VTD + 0xf8)) 0x9000000000000000" \
         "writel $((L2_VTD + 0x18)) 0xc0000000" "readl $((L2_VTD + 0x1c))"
    l2_sync
    echo "start $(now) $(cputime)" >&2
    r=0
    while [ $r -lt "$rounds" ]; do
        for pte in 1 0; do
            i=0
            while [ $i -lt "$pages" ]; do
                iova=$((0x1000000 + i * 4096))
                [ $pte = 1 ] && v=$((0x400003 + i * 4096)) || v=0
                cmds "writeq $((0x105000 + i * 8)) $v"
                if [ "$1" = 1 ]; then
                    l2_psi $iova 1
                else
                    cmds "writel $((L2_VTD + 0x3c)) $i" "writel $((L2_VTD + 0x3c)) 0"
                fi
                i=$((i + 1))
            done
        done
        r=$((r + 1))
    done
    cmds "readl $((L2_VTD + 0x1c))"
    l2_sync
    echo "end $(now) $(cputime)" >&2
    l2_end
}

# LOG: "KIND MICROSECONDS" for each timed write of a churn stream,
# KIND map or unmap (the IOTLB invalidation after a PTE was set or
# cleared) or base (the scratch register write).
latencies() {
    awk -v pte=$((0x105000)) -v iotlb=$((L2_VTD + 0xf8)) \
        -v scratch=$((L2_VTD + 0x3c)) '
        function secs(f) { return substr(f, 2, length(f) - 2) + 0 }  # +S.US]
        $1 == "[R" {
            t = secs($2); what = ""
            if ($3 == "writeq" && $4 + 0 >= pte + 0 && $4 + 0 < pte + 4096)
                kind = ($5 + 0 == 0) ? "unmap" : "map"
            else if ($3 == "writeq" && $4 + 0 == iotlb + 0)
                what = kind
            else if ($3 == "writel" && $4 + 0 == scratch + 0)
                what = "base"
            next
        }
        $1 == "[S" && what != "" {
            printf "%s %.1f\n", what, (secs($2) - t) * 1e6; what = ""
        }' "$1"
}
median() {  # KIND < latencies
    awk -v k="$1" '$1 == k { print $2 }' | sort -n | awk '
        { v[NR] = $1 }
        END { if (!NR) print "-"
              else printf "%.1f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

elapsed() {  # FILE: seconds between its start and end lines
    awk '$1 == "start" { s = $2 } $1 == "end" { e = $2 } END { printf "%.3f", e - s }' "$1"
}
cpu() {  # FILE: the QEMU's CPU seconds between its start and end lines
    awk '$1 == "start" { s = $3 } $1 == "end" { e = $3 } END { printf "%.2f", (e - s) / 100 }' "$1"
}

section "churn with invalidations"
l2_start
churn 1 2> /tmp/cm-times | l2 intel-iommu,caching-mode=on -D /tmp/l2.trace \
    -trace vfio_iommu_map_notify > $L2_OUT 2> /tmp/l2.err
grep -q FAIL $L2_OUT && { tail -n 5 $L2_OUT; fail "a qtest command failed"; }
secs=$(elapsed /tmp/cm-times)
cpu=$(cpu /tmp/cm-times)
# The churned pages only (enabling translation unmaps the whole space).
page='@ 0x10[0-9a-f]\{5\} - 0x10[0-9a-f]\{2\}fff$'
maps=$(grep -c "vfio_iommu_map_notify iommu MAP $page" /tmp/l2.trace)
unmaps=$(grep -c "vfio_iommu_map_notify iommu UNMAP $page" /tmp/l2.trace)
invals=$((2 * pages * rounds))
echo "$invals invalidations: $maps MAP and $unmaps UNMAP notifications to VFIO in $secs s, QEMU CPU $cpu s"
latencies /tmp/l2.err > /tmp/cm-lat
timed=$(grep -c -E '^(map|unmap) ' /tmp/cm-lat)
[ "$timed" = "$invals" ] || fail "qtest's log timed $timed of $invals invalidations"
us_map=$(median map < /tmp/cm-lat)
us_unmap=$(median unmap < /tmp/cm-lat)
us_inval=$(awk '{ print "inval", $2 }' /tmp/cm-lat | median inval)
echo "median write of the IOTLB register: $us_inval us (map $us_map us, unmap $us_unmap us)"

section "the same stream without invalidations"
l2_start
churn 0 2> /tmp/cm-base | l2 intel-iommu,caching-mode=on > $L2_OUT 2> /tmp/l2.err
grep -q FAIL $L2_OUT && { tail -n 5 $L2_OUT; fail "a qtest command failed"; }
base=$(elapsed /tmp/cm-base)
base_cpu=$(cpu /tmp/cm-base)
us_base=$(latencies /tmp/l2.err | median base)
echo "$base s, QEMU CPU $base_cpu s; median write of the scratch register: $us_base us"

per=$(awk -v a="$us_inval" -v b="$us_base" -v n=$((maps + unmaps)) -v i=$invals \
      'BEGIN { if (n && b != "-") printf "%.1f", (a - b) * i / n; else print "-" }')
echo "VTD-BENCH: kind=cm invalidations=$invals maps=$maps unmaps=$unmaps secs=$secs cpu=$cpu base_secs=$base base_cpu=$base_cpu us_map=$us_map us_unmap=$us_unmap us_base=$us_base us_per_notification=$per"
[ $((maps + unmaps)) -ge "$invals" ] || {
    grep -v '^\[[RSI] ' /tmp/l2.err | tail -n 5
    tail -n 3 $L2_OUT
    head -n 3 /tmp/l2.trace
    fail "only $((maps + unmaps)) notifications for $invals invalidations"
}
echo "bench-cm: done [$(now)s]"
