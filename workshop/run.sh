#!/bin/bash
# `make run`: boot the Linux test guest on q35 with our intel-iommu, NVMe and
# virtio disks behind it, and show what the guest sees: whether DMA and
# interrupt remapping are on, the IOMMU groups, and checksum-verified DMA
# on every disk.  TCG by default; VTD_GUEST_ACCEL=kvm uses KVM with
# kernel-irqchip=split.
# Usage: run.sh QEMU
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
qemu=$1
kernel=${VTD_RUN_KERNEL:-6.12}

# The guest turns on DMA remapping; interrupt remapping it uses by itself.
guest_args=(-a intel_iommu=on -a "vtdexpect=dmar,ir,ats")

echo "make run: q35 + intel-iommu,intremap=on,caching-mode=on,device-iotlb=on"
echo "          NVMe + virtio-blk (iommu_platform=on,ats=on), kernel $kernel," \
     "accel ${VTD_GUEST_ACCEL:-tcg}"
VTD_GUEST_VERBOSE=1 "$here/guest/run-guest.sh" -q "$qemu" -k "$kernel" \
    -t dma-check -n -b=iommu_platform=on,ats=on \
    --iommu=intremap=on,caching-mode=on,device-iotlb=on \
    "${guest_args[@]}" -v
