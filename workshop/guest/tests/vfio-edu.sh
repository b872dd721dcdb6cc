#!/bin/sh
# vfio-edu: a user-space driver doing DMA through VFIO in the guest (the
# way DPDK drives a NIC), on the edu device (00:04.0, the runner's
# -device edu).
#
# edu is bound to vfio-pci and /usr/bin/vfio-edu (tools/vfio-edu.c) maps
# its buffers with VFIO_IOMMU_MAP_DMA: the data it copies through edu
# must arrive, an edu write to a page it remapped read-only and an edu
# read of a page it unmapped must not, and each of those two must show up
# as a DMAR fault for 00:04.0 at that IOVA in the kernel log.
# shellcheck source=../rootfs/usr/lib/vtd/common.sh
. /usr/lib/vtd/common.sh

bdf=0000:00:04.0
section "edu to vfio-pci"
[ -e /sys/bus/pci/devices/$bdf ] || fail "no edu at $bdf"
echo vfio-pci > /sys/bus/pci/devices/$bdf/driver_override
echo $bdf > /sys/bus/pci/drivers_probe
drv=$(basename "$(readlink /sys/bus/pci/devices/$bdf/driver)")
[ "$drv" = vfio-pci ] || fail "edu is bound to ${drv:-nothing}, not vfio-pci"
echo "edu $bdf: vfio-pci, iommu group $(group_of $bdf)"
dmesg -c > /dev/null

section "vfio-edu"
vfio-edu $bdf > /tmp/vfio-edu.out 2>&1
rc=$?
cat /tmp/vfio-edu.out
[ $rc = 0 ] && grep -q '^vfio-edu: PASS' /tmp/vfio-edu.out ||
    fail "$(grep -m1 'FAIL' /tmp/vfio-edu.out || echo "vfio-edu exited $rc")"

section "DMAR faults"
sleep 1
dmesg | grep 'DMAR' | tee /tmp/faults
missing=""
while read -r _ _ dir iova; do
    case $dir in read) kind=Read ;; *) kind=Write ;; esac
    grep -q "DMA $kind.*Request device \[00:04.0\] fault addr 0x0*${iova#0x} " /tmp/faults ||
        missing="$missing $dir@$iova"
done <<EOT
$(grep '^vfio-edu: expect-fault' /tmp/vfio-edu.out)
EOT
[ -z "$missing" ] || fail "no DMAR fault logged for:$missing"
echo "vfio-edu: DMA through VFIO verified, both blocked accesses faulted [$(cut -d' ' -f1 /proc/uptime)s]"
