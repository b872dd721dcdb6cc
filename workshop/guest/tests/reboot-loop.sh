#!/bin/sh
# reboot-loop: the guest reboots itself vtdreboots=N times (default 50)
# while DMA is in flight, with the IOMMU on, then passes if every boot
# found working DMA.  Run with run-guest.sh --reboot (no -no-reboot).
#
# Each boot: count the boot in a sector of the first disk (the count
# survives the reset), verify 1 MiB of O_DIRECT DMA on every disk (write,
# read back, md5), start O_DIRECT writes on every disk in the background
# and reset the machine (reboot -f) while they run.  A boot where DMA
# fails or faults ends the test with FAIL; boot N+1 passes.
# shellcheck source=../rootfs/usr/lib/vtd/common.sh
. /usr/lib/vtd/common.sh

want=$(vtd_arg vtdreboots)
[ -n "$want" ] || want=50
disks=$(vtd_disks) || fail "expected disk missing"
first=$(echo "$disks" | head -n1)
counter_mib=60

# The counter's block: "vtd-boots N" (anything else: no boot yet).  A
# fresh boot has nothing cached, so plain reads and an fsync'd write do.
block=$((counter_mib * 256))
line=$(dd if="/dev/$first" bs=4096 skip=$block count=1 2>/dev/null | head -n1)
case $line in
    "vtd-boots "[1-9]*) boot=${line#vtd-boots } ;;
    *) boot=0 ;;
esac
boot=$((boot + 1))
{ printf 'vtd-boots %d\n' $boot; dd if=/dev/zero bs=4096 count=1 2>/dev/null; } |
    head -c 4096 > /tmp/counter
dd if=/tmp/counter of="/dev/$first" bs=4096 seek=$block conv=notrunc,fsync \
    2>/dev/null || fail "cannot write the boot counter"

for d in $disks; do
    dd if=/dev/urandom of="/tmp/pat.$d" bs=1M count=1 2>/dev/null
    w=$(md5sum < "/tmp/pat.$d" | cut -d' ' -f1)
    dd if="/tmp/pat.$d" of="/dev/$d" bs=1M seek=20 oflag=direct conv=fsync 2>/dev/null ||
        fail "boot $boot: O_DIRECT write to /dev/$d failed"
    r=$(disk_md5 "$d" 20 1) || fail "boot $boot: O_DIRECT read of /dev/$d failed"
    [ "$r" = "$w" ] || fail "boot $boot: /dev/$d read back md5 $r, wrote $w"
done
faults=$(dmesg | grep -c 'DMAR: \[DMA ' || true)
[ "$faults" = 0 ] || fail "boot $boot: DMAR fault: $(dmesg | grep -m1 'DMAR: \[DMA ')"
echo "reboot-loop: boot $boot of $((want + 1)): DMA verified on $(echo "$disks" | tr "\n" " ")[$(cut -d' ' -f1 /proc/uptime)s]"

if [ $boot -le "$want" ]; then
    # A reset in the middle of DMA: writes in flight on every disk.
    for d in $disks; do
        dd if=/dev/urandom of="/dev/$d" bs=64k count=256 seek=512 oflag=direct 2>/dev/null &
    done
    sleep 0.$((boot % 5))
    reboot -f
    sleep 10
    fail "reboot -f did not reset the machine"
fi
echo "reboot-loop: $want resets during DMA, every boot verified"
