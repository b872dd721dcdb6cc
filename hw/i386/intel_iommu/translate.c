/*
 * Intel VT-d emulation: DMA address translation (legacy mode)
 *
 * One access of a requester whose address space translates: find its
 * context entry, then either pass the address through (TT = 10b) or find
 * the translation in the IOTLB, walking the second-stage tables and
 * caching the leaf on a miss.  Faults are recorded as 7.1 says: those found
 * before the context entry is known always, the others ("qualified")
 * unless the context entry sets FPD.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/lockable.h"
#include "exec/address-spaces.h"
#include "hw/pci/pci.h"
#include "hw/i386/intel_iommu_internal.h"
#include "trace.h"

/*
 * The requester id, asked for only when a fault or a trace needs it: for
 * devices behind bridges it is a PCI bus lookup.
 */
static uint16_t vtd_requester_sid(VTDAddressSpace *vas)
{
    return VTD_SID(vtd_address_space_bus(vas), vas->devfn);
}

/* What the memory core gets for a translation the IOTLB holds. */
static inline IOMMUTLBEntry vtd_iotlb_result(const VTDIOTLBEntry *hit)
{
    return (IOMMUTLBEntry) {
        .target_as = &address_space_memory,
        .iova = hit->iova,
        .translated_addr = hit->addr,
        .addr_mask = hit->mask,
        .perm = hit->perm,
    };
}

/*
 * A miss on a 4 KiB second-stage page: the other leaves in the same
 * 64-byte line of its table enter the IOTLB too, where present, and the
 * requester's recent hits, as a unit that reads its tables a cache line
 * at a time may cache them (6.1: translations from present entries may be
 * cached at any time; software invalidates what it changes).  A device
 * going through a buffer of consecutive pages walks once per line.
 * First-stage tables are left alone: caching would set their A flags.
 */
static void vtd_fill_line_locked(IntelIOMMUState *s, VTDAddressSpace *vas,
                                 const VTDContext *ctx, hwaddr addr,
                                 const VTDTranslation *t,
                                 const uint64_t *line)
{
    unsigned more = vtd_walk_second_stage_line(s, addr, t, line);
    hwaddr first = addr & ~vtd_low_bits(VTD_PAGE_SHIFT + 3);

    QEMU_BUILD_BUG_ON(VTD_LINE_ENTRIES != 1 << 3);
    while (more) {
        unsigned i = ctz32(more);
        hwaddr iova = first + ((hwaddr)i << VTD_PAGE_SHIFT);
        VTDTranslation leaf = {
            .addr = line[i] & R_SSPTE_ADDR_MASK,
            .page_mask = vtd_low_bits(VTD_PAGE_SHIFT),
            .perm = vtd_line_entry_perm(t, line[i]),
            .level = 1,
        };

        more &= more - 1;
        if (!vtd_iotlb_cached_locked(s, ctx->did, ctx->pasid, iova)) {
            vtd_iotlb_insert_locked(s, vas, ctx->did, ctx->pasid, iova,
                                    &leaf);
            s->stats.iotlb_line_fills++;
        }
    }
}

/*
 * @pasid: VTD_NO_PASID for requests without PASID, else the request's.
 * The IOTLB tags translations with the PASID of the PASID entry that gave
 * them (RID_PASID, 0, for requests without PASID).
 */
static IOMMUTLBEntry vtd_translate_slow(VTDAddressSpace *vas, hwaddr addr,
                                        IOMMUAccessFlags flag, uint32_t pasid)
{
    IntelIOMMUState *s = vas->iommu;
    bool is_write = flag & IOMMU_WO;
    /* Lookups without an access (replay, vhost) record no fault. */
    bool report = flag != IOMMU_NONE;
    IOMMUTLBEntry entry = {
        .target_as = &address_space_memory,
        .iova = addr & ~vtd_low_bits(VTD_PAGE_SHIFT),
        .addr_mask = vtd_low_bits(VTD_PAGE_SHIFT),
        .perm = IOMMU_NONE,
    };
    const VTDContext *ctx;
    VTDIOTLBEntry *hit;
    VTDTranslation t;
    /* Written by the walk before it is read: no need to clear it. */
    uint64_t line[VTD_LINE_ENTRIES] __attribute__((uninitialized));
    int fault;

    QEMU_LOCK_GUARD(&s->lock);
    fault = pasid == VTD_NO_PASID ?
            vtd_context_get_locked(s, vas, &ctx) :
            vtd_pasid_context_get_locked(s, vas, pasid, &ctx);
    if (fault) {
        if (report && !(fault & VTD_FR_SUPPRESSED)) {
            vtd_fault_record(s, vtd_requester_sid(vas), pasid, addr, fault,
                             is_write);
        } else if (fault == VTD_FR_SUPPRESSED) {
            trace_vtd_translate_blocked(vtd_requester_sid(vas), pasid, addr);
        }
        return entry;
    }
    if (ctx->tt == VTD_TT_PASS_THROUGH) {
        /*
         * Normally the address space has switched to its alias of guest
         * memory and no access comes here; lookups still may.
         */
        entry.translated_addr = entry.iova;
        entry.perm = IOMMU_RW;
        trace_vtd_translate_pt(vtd_requester_sid(vas), addr);
        return entry;
    }

    hit = vtd_iotlb_lookup_locked(s, vas, ctx->did, ctx->pasid, addr);
    if (hit && hit->dirty_pending && is_write) {
        /* The first write sets the dirty flag: walk again (3.5.3). */
        vtd_iotlb_drop_locked(s, hit);
        hit = NULL;
    }
    if (!hit) {
        fault = ctx->first_stage ?
                vtd_walk_first_stage(s, ctx, addr, is_write, &t) :
                vtd_walk_second_stage(s, ctx, addr, is_write, &t, line);
        if (fault) {
            if (report && !ctx->fpd) {
                vtd_fault_record(s, vtd_requester_sid(vas), pasid, addr,
                                 fault, is_write);
            }
            return entry;
        }
        if (!ctx->first_stage && t.has_line) {
            vtd_fill_line_locked(s, vas, ctx, addr, &t, line);
        }
        /* Last, so that it is the requester's last hit. */
        hit = vtd_iotlb_insert_locked(s, vas, ctx->did, ctx->pasid, addr,
                                      &t);
    }
    if (trace_event_get_state_backends(TRACE_VTD_TRANSLATE)) {
        trace_vtd_translate(vtd_requester_sid(vas), ctx->did, addr,
                            hit->addr | (addr & hit->mask), hit->level,
                            hit->perm);
    }
    if (flag & ~hit->perm) {
        /* 3.6: the access needs a permission the translation lacks. */
        if (!ctx->fpd) {
            vtd_fault_record(s, vtd_requester_sid(vas), pasid, addr,
                             vtd_access_denied(ctx, flag & ~hit->perm &
                                               IOMMU_WO), is_write);
        }
        return entry;
    }
    return vtd_iotlb_result(hit);
}

/*
 * An IOTLB hit while vtd_translate is traced.  Out of line, and called
 * last, so that the fast path below keeps nothing across a call.
 */
static IOMMUTLBEntry __attribute__((noinline))
vtd_translate_traced_hit(VTDAddressSpace *vas, hwaddr addr,
                         const VTDIOTLBEntry *hit)
{
    trace_vtd_translate(vtd_requester_sid(vas), hit->did, addr,
                        hit->addr | (addr & hit->mask), hit->level,
                        hit->perm);
    return vtd_iotlb_result(hit);
}

/*
 * IOMMUMemoryRegionClass.translate.  The common case, a request without
 * PASID that repeats one of the requester's recent translations, is a few
 * loads and compares: vtd_iotlb_last_hit() vouches for the context entry
 * too.  Everything else goes the slow way; both ways end in a tail call
 * or return, so the fast path saves no registers.  @iommu_idx is the
 * request's PASID, 0 for none (see vtd_attrs_to_index()).
 */
IOMMUTLBEntry vtd_translate(IOMMUMemoryRegion *iommu_mr, hwaddr addr,
                            IOMMUAccessFlags flag, int iommu_idx)
{
    VTDAddressSpace *vas = container_of(iommu_mr, VTDAddressSpace, iommu_mr);
    IntelIOMMUState *s = vas->iommu;
    VTDIOTLBEntry *hit;

    if (unlikely(iommu_idx)) {
        return vtd_translate_slow(vas, addr, flag, iommu_idx);
    }
    hit = vtd_iotlb_last_hit(s, vas, addr);
    if (unlikely(!hit || (flag & hit->denied))) {
        return vtd_translate_slow(vas, addr, flag, VTD_NO_PASID);
    }
    s->stats.last_hits++;
    if (trace_event_get_state_backends(TRACE_VTD_TRANSLATE)) {
        return vtd_translate_traced_hit(vas, addr, hit);
    }
    return vtd_iotlb_result(hit);
}
