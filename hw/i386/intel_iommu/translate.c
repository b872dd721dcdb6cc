/*
 * Intel VT-d emulation: DMA address translation (legacy mode)
 *
 * One access of a requester whose address space translates: find its
 * context entry, then either pass the address through (TT = 10b) or walk
 * the second-stage tables.  Faults are recorded as 7.1 says: those found
 * before the context entry is known always, the others ("qualified")
 * unless the context entry sets FPD.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "exec/address-spaces.h"
#include "hw/pci/pci.h"
#include "hw/i386/intel_iommu_internal.h"
#include "trace.h"

IOMMUTLBEntry vtd_translate(IOMMUMemoryRegion *iommu_mr, hwaddr addr,
                            IOMMUAccessFlags flag, int iommu_idx)
{
    VTDAddressSpace *vas = container_of(iommu_mr, VTDAddressSpace, iommu_mr);
    IntelIOMMUState *s = vas->iommu;
    uint8_t bus = vtd_address_space_bus(vas);
    uint16_t sid = VTD_SID(bus, vas->devfn);
    bool is_write = flag & IOMMU_WO;
    /* Lookups without an access (replay, vhost) record no fault. */
    bool report = flag != IOMMU_NONE;
    IOMMUTLBEntry entry = {
        .target_as = &address_space_memory,
        .iova = addr & ~MAKE_64BIT_MASK(0, VTD_PAGE_SHIFT),
        .addr_mask = MAKE_64BIT_MASK(0, VTD_PAGE_SHIFT),
        .perm = IOMMU_NONE,
    };
    VTDTranslation t;
    VTDContext ctx;
    int fault;

    fault = vtd_walk_context(s, bus, vas->devfn, &ctx);
    if (fault) {
        if (report) {
            vtd_fault_record(s, sid, addr, fault, is_write);
        }
        return entry;
    }
    if (ctx.tt == VTD_TT_PASS_THROUGH) {
        entry.translated_addr = entry.iova;
        entry.perm = IOMMU_RW;
        trace_vtd_translate_pt(sid, addr);
        return entry;
    }
    fault = vtd_walk_second_stage(s, &ctx, addr, is_write, &t);
    if (fault) {
        if (report && !ctx.fpd) {
            vtd_fault_record(s, sid, addr, fault, is_write);
        }
        return entry;
    }
    entry.iova = addr & ~t.page_mask;
    entry.translated_addr = t.addr & ~t.page_mask;
    entry.addr_mask = t.page_mask;
    entry.perm = t.perm;
    trace_vtd_translate(sid, ctx.did, addr, t.addr, t.level, t.perm);
    return entry;
}
