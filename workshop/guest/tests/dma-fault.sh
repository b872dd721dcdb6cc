#!/bin/sh
# dma-fault: a device reading an address its domain does not map is
# stopped by the IOMMU, and the guest's DMAR driver reports the fault with
# the right reason.
#
# Uses QEMU's edu device (vtdedu=BDF on the kernel command line, default
# 0000:00:04.0) with no driver bound: Linux still attaches it to a DMA
# domain in which nothing is mapped.  The test turns on memory decoding and
# bus mastering in its command register, then has edu read 4 bytes from
# IOVA 0x2345000 into its buffer through its DMA registers (busybox
# devmem).  Expected in the kernel log (format of Linux 6.1 and 6.12):
#   DMAR: [DMA Read NO_PASID] Request device [00:04.0] fault addr
#   0x2345000 [fault reason 0x06] PTE Read access is not set
# shellcheck source=../rootfs/usr/lib/vtd/common.sh
. /usr/lib/vtd/common.sh

iova=0x2345000  # below edu's 28-bit DMA mask
bdf=$(vtd_arg vtdedu)
[ -n "$bdf" ] || bdf=0000:00:04.0
dev=/sys/bus/pci/devices/$bdf
[ -d "$dev" ] || fail "no edu device at $bdf"
[ "$(cat "$dev/vendor"):$(cat "$dev/device")" = "0x1234:0x11e8" ] ||
    fail "$bdf is not an edu device"
g=$(group_of "$bdf")
[ "$g" != - ] || fail "$bdf is in no iommu group: DMA remapping is off"
echo "edu at $bdf, iommu group $g, driver: $(basename "$(readlink "$dev/driver" 2>/dev/null)" 2>/dev/null)"

bar0=$(head -n1 "$dev/resource" | cut -d' ' -f1)
[ "$((bar0))" != 0 ] || fail "edu BAR0 is not assigned"

# Command register (config offset 4): memory space and bus master.
printf '\006\000' | dd of="$dev/config" bs=1 seek=4 count=2 conv=notrunc 2>/dev/null ||
    fail "cannot write the command register"

# edu DMA registers: source 0x80, destination 0x88 (its buffer at
# 0x40000), count 0x90, command 0x98 (bit 0 start; direction 0 is RAM to
# edu).  The transfer runs 100 ms (virtual) later.
devmem $((bar0 + 0x80)) 32 $iova
devmem $((bar0 + 0x84)) 32 0
devmem $((bar0 + 0x88)) 32 0x40000
devmem $((bar0 + 0x8c)) 32 0
devmem $((bar0 + 0x90)) 32 4
devmem $((bar0 + 0x98)) 32 1
i=0
while [ $i -lt 50 ]; do
    sleep 0.1
    dmesg | grep -q "fault addr $iova" && break
    i=$((i + 1))
done

section "DMAR fault"
dmesg | grep -E "DMAR: (DRHD|\[DMA)|fault addr|fault reason" || true
line=$(dmesg | grep "fault addr $iova" | head -n1)
[ -n "$line" ] || fail "no DMAR fault was reported for the read of $iova"
case $line in
*"[DMA Read"*) ;;
*) fail "fault not reported as a DMA read: $line" ;;
esac
# The reason depends on the mode: legacy 0x06 (read not allowed);
# scalable mode with second-stage tables 0x86 (SGN.7), with first-stage
# ones 0x71 (SFS.2, entry not present): vtdfault= says which.
want=$(vtd_arg vtdfault)
want=${want:-0x06}
reason=$(dmesg | grep -A1 "fault addr $iova" | grep -o 'fault reason 0x[0-9a-f]*' | head -n1)
[ "$reason" = "fault reason $want" ] ||
    fail "expected fault reason $want, got '${reason:-none}'"
echo "dma-fault: read of unmapped $iova by $bdf blocked, reason $want reported [$(cut -d' ' -f1 /proc/uptime)s]"
