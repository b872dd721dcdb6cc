/*
 * Intel VT-d emulation: DMA address translation
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "hw/i386/intel_iommu_internal.h"
#include "trace.h"

IOMMUTLBEntry vtd_translate(IOMMUMemoryRegion *iommu_mr, hwaddr addr,
                            IOMMUAccessFlags flag, int iommu_idx)
{
    VTDAddressSpace *vas = container_of(iommu_mr, VTDAddressSpace, iommu_mr);
    IOMMUTLBEntry entry = {
        .target_as = &address_space_memory,
        .iova = addr & ~(hwaddr)0xfff,
        .addr_mask = 0xfff,
        .perm = IOMMU_NONE,
    };

    /* Second-stage walks arrive with DMA remapping (not yet). */
    qemu_log_mask(LOG_UNIMP, "intel-iommu: DMA remapping of %02x:%02x.%x "
                  "0x%" HWADDR_PRIx " is not implemented yet\n",
                  pci_bus_num(vas->bus), PCI_SLOT(vas->devfn),
                  PCI_FUNC(vas->devfn), addr);
    return entry;
}
