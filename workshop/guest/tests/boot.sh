#!/bin/sh
# boot: the guest came up and a disk (NVMe or virtio-blk) can be read.
# Prints the command line, the IOMMU-related kernel messages and the iommu
# groups, then reads the first MiB of every disk and prints its md5sum.
# If the runner passed vtdpattern=1 (its disk images hold the known pattern,
# see pattern_mib in /usr/lib/vtd/common.sh), the data read must match it.
# shellcheck source=../rootfs/usr/lib/vtd/common.sh
. /usr/lib/vtd/common.sh

section "kernel command line"
cat /proc/cmdline

section "dmesg: DMAR / IOMMU / remapping"
dmesg | grep -E 'DMAR|IOMMU|iommu|DMA|remapping' || echo "(no matching lines)"

section "iommu groups"
list_iommu_groups

section "disks"
disks=$(vtd_disks) || fail "expected disk missing (vtddisks=$(vtd_arg vtddisks))"
[ -n "$disks" ] || fail "no NVMe or virtio-blk disk found"
want=""
[ "$(vtd_arg vtdpattern)" = 1 ] && want=$(pattern_md5 0 1)
for d in $disks; do
    sum=$(disk_md5 "$d" 0 1) || fail "reading /dev/$d failed"
    bdf=$(pci_of "/sys/block/$d")
    echo "/dev/$d (pci ${bdf:-?}, iommu group $(group_of "$bdf")): first MiB md5 $sum"
    if [ -n "$want" ] && [ "$sum" != "$want" ]; then
        fail "/dev/$d first MiB md5 $sum, expected pattern md5 $want"
    fi
done
echo "boot: ok"
