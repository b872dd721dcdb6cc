#!/bin/sh
# hotplug: hot-unplug a disk behind the IOMMU during DMA, plug a new one.
#
# Run with run-guest.sh --wrap hotplug and two virtio-blk disks, the
# second behind root port vtdhp with id=vtdhpdisk (hotplug-wrapper.py).
# The test verifies DMA on both, starts O_DIRECT writes on the second and
# asks for its removal while they run; the first disk must go on working,
# the second must vanish.  Then it asks for a new disk in the same slot
# (a new device, new context entry, same requester id) and verifies DMA
# on it.  No DMAR fault may appear.
# shellcheck source=../rootfs/usr/lib/vtd/common.sh
. /usr/lib/vtd/common.sh

check_dma() {  # DISK WHEN
    dd if=/dev/urandom of=/tmp/pat bs=1M count=1 2>/dev/null
    _w=$(md5sum < /tmp/pat | cut -d' ' -f1)
    dd if=/tmp/pat of="/dev/$1" bs=1M seek=16 oflag=direct conv=fsync 2>/dev/null ||
        fail "$2: O_DIRECT write to /dev/$1 failed"
    _r=$(disk_md5 "$1" 16 1) || fail "$2: O_DIRECT read of /dev/$1 failed"
    [ "$_r" = "$_w" ] || fail "$2: /dev/$1 read back md5 $_r, wrote $_w"
    echo "$2: DMA verified on /dev/$1"
}
wait_for() {  # CONDITION-COMMAND WHAT
    _i=0
    until eval "$1"; do
        _i=$((_i + 1))
        [ $_i -le 600 ] || fail "timed out waiting for $2"
        sleep 0.1
    done
}

disks=$(vtd_disks) || fail "expected disk missing"
[ "$(echo "$disks" | wc -l)" = 2 ] || fail "want two disks, found: $disks"
fixed=$(echo "$disks" | sed -n 1p)
hot=$(echo "$disks" | sed -n 2p)
section "before"
check_dma "$fixed" before
check_dma "$hot" before

section "unplug during DMA"
dd if=/dev/urandom of="/dev/$hot" bs=64k count=2048 seek=256 oflag=direct 2>/dev/null &
sleep 0.3
echo "VTD-HOTPLUG: unplug"
wait_for "[ ! -e /sys/block/$hot ]" "/dev/$hot to go away"
echo "/dev/$hot is gone"
wait
check_dma "$fixed" "after unplug"

section "plug"
echo "VTD-HOTPLUG: plug"
wait_for "[ -e /sys/block/$hot ] && [ \"\$(cat /sys/block/$hot/size)\" != 0 ]" "a new disk"
bdf=$(pci_of "/sys/block/$hot")
echo "/dev/$hot is back: pci $bdf, iommu group $(group_of "$bdf")"
check_dma "$hot" "after plug"
check_dma "$fixed" "after plug"
faults=$(dmesg | grep -c 'DMAR: \[DMA ' || true)
[ "$faults" = 0 ] || fail "DMAR fault: $(dmesg | grep -m1 'DMAR: \[DMA ')"
echo "hotplug: unplug during DMA and plug verified"
