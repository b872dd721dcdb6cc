/*
 * Intel VT-d emulation: IOMMU notifiers (vhost, VFIO)
 *
 * Consumers that cache translations outside QEMU's memory API register
 * notifiers on a requester's IOMMU region.  They hear about invalidations:
 *   - UNMAP for IOTLB invalidations (register or queue) of their domain;
 *   - DEVIOTLB_UNMAP for device-TLB invalidations naming their source-id
 *     (vhost's device IOTLB, with device-iotlb=on and ats=on).
 * MAP notifiers (VFIO's shadow mappings) need caching mode: without CAP.CM
 * the guest does not invalidate after creating mappings, so nobody could
 * tell the consumer about them.  With it they are refused too for now:
 * replay and MAP notifications are the caching-mode work still to come.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qapi/error.h"
#include "exec/address-spaces.h"
#include "hw/pci/pci.h"
#include "hw/i386/intel_iommu_internal.h"
#include "trace.h"

int vtd_notify_flag_changed(IOMMUMemoryRegion *iommu_mr,
                            IOMMUNotifierFlag old, IOMMUNotifierFlag new,
                            Error **errp)
{
    VTDAddressSpace *vas = container_of(iommu_mr, VTDAddressSpace, iommu_mr);
    IntelIOMMUState *s = vas->iommu;

    /*
     * MAP consumers also need a replay of the current mappings; without
     * a replay callback the memory core would look up every 4 KiB page
     * of a 2^64-byte region.  Until caching mode lands they are refused
     * with or without CAP.CM.
     */
    if (new & IOMMU_NOTIFIER_MAP) {
        error_setg(errp, "intel-iommu: device %02x:%02x.%x needs MAP "
                   "notifications (an assigned device?), %s",
                   vtd_address_space_bus(vas), PCI_SLOT(vas->devfn),
                   PCI_FUNC(vas->devfn), s->caching_mode ?
                   "which are not implemented yet" :
                   "which need caching-mode=on on the intel-iommu device");
        return -ENOTSUP;
    }
    trace_vtd_notify_flags(vtd_address_space_bus(vas), vas->devfn, old, new);
    vas->notifier_flags = new;
    if (old == IOMMU_NOTIFIER_NONE && new != IOMMU_NOTIFIER_NONE) {
        QLIST_INSERT_HEAD(&s->notified_list, vas, notified);
    } else if (old != IOMMU_NOTIFIER_NONE && new == IOMMU_NOTIFIER_NONE) {
        QLIST_REMOVE(vas, notified);
    }
    return 0;
}

static void vtd_notify_event(VTDAddressSpace *vas, IOMMUNotifierFlag type,
                             hwaddr addr, uint64_t mask)
{
    IOMMUTLBEvent event = {
        .type = type,
        .entry = {
            .target_as = &address_space_memory,
            .iova = addr & ~mask,
            .addr_mask = mask,
            .perm = IOMMU_NONE,
        },
    };

    trace_vtd_notify(vtd_address_space_bus(vas), vas->devfn, type,
                     event.entry.iova, mask);
    memory_region_notify_iommu(&vas->iommu_mr, 0, event);
}

/*
 * An IOTLB invalidation of 2^@am pages at @addr in domain @did; @did < 0
 * for all domains, @am above 52 for all addresses.
 */
void vtd_notify_iotlb_invalidation(IntelIOMMUState *s, int did, hwaddr addr,
                                   unsigned am)
{
    uint64_t mask = am + VTD_PAGE_SHIFT >= 64 ? UINT64_MAX :
                    vtd_low_bits(am + VTD_PAGE_SHIFT);
    VTDAddressSpace *vas;

    QLIST_FOREACH(vas, &s->notified_list, notified) {
        const VTDContext *ctx;

        if (!(vas->notifier_flags & IOMMU_NOTIFIER_UNMAP)) {
            continue;
        }
        if (did >= 0 &&
            (vtd_context_get(s, vas, &ctx) || ctx->did != did)) {
            continue;
        }
        vtd_notify_event(vas, IOMMU_NOTIFIER_UNMAP, addr,
                         MIN(mask, vtd_low_bits(s->aw_bits)));
    }
}

/* A device-TLB invalidation for requester @sid (6.5.2.5). */
void vtd_notify_device_iotlb(IntelIOMMUState *s, uint16_t sid, hwaddr addr,
                             uint64_t mask)
{
    VTDAddressSpace *vas;

    QLIST_FOREACH(vas, &s->notified_list, notified) {
        if ((vas->notifier_flags & IOMMU_NOTIFIER_DEVIOTLB_UNMAP) &&
            VTD_SID(vtd_address_space_bus(vas), vas->devfn) == sid) {
            vtd_notify_event(vas, IOMMU_NOTIFIER_DEVIOTLB_UNMAP, addr, mask);
        }
    }
}
