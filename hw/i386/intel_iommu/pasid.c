/*
 * Intel VT-d emulation: scalable mode's context and PASID structures
 *
 * With RTADDR.TTM = 01b (x-scalable-mode=on) a requester's translation is
 * found through the scalable-mode root entry (9.2), its 256-bit context
 * entry (9.4), the PASID directory (9.5) and the 512-bit PASID-table entry
 * (9.6) of the PASID its requests carry: requests without PASID use the
 * context entry's RID_PASID, 0 here (ECAP.RPS is not offered); requests
 * with PASID (x-pasid-mode=on, context entry's PASIDE set) their own.  The
 * PASID entry's translation type (PGTT) says how: first stage, second
 * stage, nested (first over second, with x-nested=on) or pass-through.
 *
 * The result is a VTDContext, which cache.c keeps like a legacy context
 * entry: for RID_PASID the context and PASID caches of the specification
 * are one cache here, dropped by context-cache and PASID-cache
 * invalidations alike; other PASIDs' entries are kept per requester.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/i386/intel_iommu_internal.h"
#include "trace.h"

/*
 * Checks of a PASID-table entry (9.6) that depend on what the unit
 * offers: an unsupported translation type or depth is "invalid
 * programming" (SPT.4).
 */
static int vtd_pasid_entry_decode(IntelIOMMUState *s, const uint64_t *pe,
                                  bool dte, VTDContext *ctx)
{
    unsigned aw = FIELD_EX64(pe[0], PASIDE0, AW);

    ctx->did = FIELD_EX64(pe[1], PASIDE1, DID);
    ctx->tt = dte ? VTD_TT_DEVICE_TLB : VTD_TT_UNTRANSLATED;
    switch (FIELD_EX64(pe[0], PASIDE0, PGTT)) {
    case VTD_PGTT_SECOND_STAGE:
        if (!FIELD_EX64(s->ecap, ECAP, SSTS) ||
            FIELD_EX64(pe[0], PASIDE0, SSADE) ||
            aw > 4 || !(FIELD_EX64(s->cap, CAP, SAGAW) & (1u << aw))) {
            return VTD_FR_SM_PASIDE_INVALID;
        }
        ctx->levels = aw + 2;
        ctx->table = FIELD_EX64(pe[0], PASIDE0, SSPTPTR) << VTD_PAGE_SHIFT;
        break;
    case VTD_PGTT_FIRST_STAGE:
        if (!FIELD_EX64(s->ecap, ECAP, FSTS) ||
            FIELD_EX64(pe[2], PASIDE2, EAFE) ||
            FIELD_EX64(pe[2], PASIDE2, FSPM) >
            FIELD_EX64(s->cap, CAP, FS5LP)) {
            return VTD_FR_SM_PASIDE_INVALID;
        }
        ctx->first_stage = true;
        ctx->levels = FIELD_EX64(pe[2], PASIDE2, FSPM) ? 5 : 4;
        ctx->nxe = FIELD_EX64(pe[2], PASIDE2, NXE);
        ctx->table = FIELD_EX64(pe[2], PASIDE2, FSPTPTR) << VTD_PAGE_SHIFT;
        break;
    case VTD_PGTT_NESTED:
        /* 3.8: first-stage tables over second-stage ones. */
        if (!FIELD_EX64(s->ecap, ECAP, NEST) ||
            FIELD_EX64(pe[0], PASIDE0, SSADE) ||
            FIELD_EX64(pe[2], PASIDE2, EAFE) ||
            FIELD_EX64(pe[2], PASIDE2, FSPM) ||
            aw > 4 || !(FIELD_EX64(s->cap, CAP, SAGAW) & (1u << aw))) {
            return VTD_FR_SM_PASIDE_INVALID;
        }
        ctx->first_stage = true;
        ctx->nested = true;
        ctx->levels = 4;
        ctx->nxe = FIELD_EX64(pe[2], PASIDE2, NXE);
        ctx->table = FIELD_EX64(pe[2], PASIDE2, FSPTPTR) << VTD_PAGE_SHIFT;
        ctx->ss_levels = aw + 2;
        ctx->ss_table = FIELD_EX64(pe[0], PASIDE0, SSPTPTR) << VTD_PAGE_SHIFT;
        if (ctx->ss_table & ~vtd_haw_mask(s)) {
            return VTD_FR_SM_PASIDE_RESERVED;
        }
        break;
    case VTD_PGTT_PASS_THROUGH:
        if (!FIELD_EX64(s->ecap, ECAP, PT)) {
            return VTD_FR_SM_PASIDE_INVALID;
        }
        ctx->tt = VTD_TT_PASS_THROUGH;
        return 0;
    default:                            /* reserved */
        return VTD_FR_SM_PASIDE_INVALID;
    }
    if (ctx->table & ~vtd_haw_mask(s)) {
        return VTD_FR_SM_PASIDE_RESERVED;
    }
    return 0;
}

/*
 * 3.4.3: the scalable-mode lookup for requester @bus/@devfn and @pasid
 * (VTD_NO_PASID for requests without one).  Faults past an entry whose
 * FPD is set, including that entry's own "not present" (Linux tears PASID
 * entries down to FPD alone and expects silence), come back with
 * VTD_FR_SUPPRESSED (7.1.1).  An entry with reserved bits set is
 * malformed: its own FPD does not count.  Requests with PASID need the
 * context entry's PASIDE (SCT.6).
 */
int vtd_walk_sm_context(IntelIOMMUState *s, uint8_t bus, uint8_t devfn,
                        uint32_t request_pasid, VTDContext *ctx)
{
    hwaddr root = FIELD_EX64(s->root_table, RTADDR, RTA) << VTD_PAGE_SHIFT;
    bool upper = devfn >= VTD_SM_ROOT_HALF_DEVFNS;
    uint64_t re[2], ce[4], pde, pe[3];
    hwaddr ctp, pdtp, ptp;
    unsigned pdts;
    uint32_t pasid;
    int fault;
    bool dte;

    memset(ctx, 0, sizeof(*ctx));
    ctx->scalable = true;
    RCU_READ_LOCK_GUARD();
    if (!vtd_read_qwords(s, VTD_TABLE_ROOT, root + bus * 16, re, 2)) {
        return VTD_FR_SM_ROOT_TABLE_INVALID;
    }
    if (!FIELD_EX64(re[upper], SM_ROOT, P)) {
        return VTD_FR_SM_ROOT_NOT_PRESENT;
    }
    ctp = FIELD_EX64(re[upper], SM_ROOT, CTP) << VTD_PAGE_SHIFT;
    if ((re[upper] & VTD_SM_ROOT_RSVD) || (ctp & ~vtd_haw_mask(s))) {
        return VTD_FR_SM_ROOT_RESERVED;
    }

    if (!vtd_read_qwords(s, VTD_TABLE_CONTEXT,
                         ctp + (devfn % VTD_SM_ROOT_HALF_DEVFNS) *
                         VTD_SM_CTX_SIZE, ce, 4)) {
        return VTD_FR_SM_CONTEXT_TABLE_INVALID;
    }
    if (!FIELD_EX64(ce[0], SM_CTX_LO, P)) {
        ctx->fpd = FIELD_EX64(ce[0], SM_CTX_LO, FPD);
        fault = VTD_FR_SM_CONTEXT_NOT_PRESENT;
        goto out;
    }
    pdtp = FIELD_EX64(ce[0], SM_CTX_LO, PDTP) << VTD_PAGE_SHIFT;
    if ((ce[0] & VTD_SM_CTX_LO_RSVD) || (ce[1] & VTD_SM_CTX_HI_RSVD) ||
        ce[2] || ce[3] || (pdtp & ~vtd_haw_mask(s))) {
        fault = VTD_FR_SM_CONTEXT_RESERVED;
        goto out;
    }
    ctx->fpd = FIELD_EX64(ce[0], SM_CTX_LO, FPD);
    dte = FIELD_EX64(ce[0], SM_CTX_LO, DTE);
    if ((dte && !FIELD_EX64(s->ecap, ECAP, DT)) ||
        (FIELD_EX64(ce[0], SM_CTX_LO, PRE) &&
         !FIELD_EX64(s->ecap, ECAP, PRS))) {
        fault = VTD_FR_SM_CONTEXT_INVALID;
        goto out;
    }
    if (request_pasid == VTD_NO_PASID) {
        /* Without ECAP.RPS, requests without PASID use PASID 0. */
        pasid = 0;
    } else if (!FIELD_EX64(ce[0], SM_CTX_LO, PASIDE)) {
        fault = VTD_FR_SM_PASID_DISABLED;
        goto out;
    } else {
        pasid = request_pasid;
    }
    ctx->pasid = pasid;
    pdts = FIELD_EX64(ce[0], SM_CTX_LO, PDTS);
    if ((pasid >> VTD_PASID_TABLE_BITS) >= 1u << (pdts + 7)) {
        fault = VTD_FR_SM_PASID_BEYOND_PDTS;
        goto out;
    }

    if (!vtd_read_qwords(s, VTD_TABLE_PASID_DIR,
                         pdtp + (pasid >> VTD_PASID_TABLE_BITS) * 8,
                         &pde, 1)) {
        fault = VTD_FR_SM_PDIRE_INVALID;
        goto out;
    }
    if (!FIELD_EX64(pde, PDIRE, P)) {
        ctx->fpd |= FIELD_EX64(pde, PDIRE, FPD);
        fault = VTD_FR_SM_PDIRE_NOT_PRESENT;
        goto out;
    }
    ptp = FIELD_EX64(pde, PDIRE, PTP) << VTD_PAGE_SHIFT;
    if ((pde & VTD_PDIRE_RSVD) || (ptp & ~vtd_haw_mask(s))) {
        fault = VTD_FR_SM_PDIRE_RESERVED;
        goto out;
    }
    ctx->fpd |= FIELD_EX64(pde, PDIRE, FPD);

    if (!vtd_read_qwords(s, VTD_TABLE_PASID,
                         ptp + (pasid & MAKE_64BIT_MASK(0,
                                VTD_PASID_TABLE_BITS)) *
                         VTD_PASID_ENTRY_SIZE, pe, 3)) {
        fault = VTD_FR_SM_PASIDE_INVALID_ADDR;
        goto out;
    }
    if (!FIELD_EX64(pe[0], PASIDE0, P)) {
        ctx->fpd |= FIELD_EX64(pe[0], PASIDE0, FPD);
        fault = VTD_FR_SM_PASIDE_NOT_PRESENT;
        goto out;
    }
    if ((pe[0] & VTD_PASIDE0_RSVD) || (pe[1] & VTD_PASIDE1_RSVD) ||
        (pe[2] & VTD_PASIDE2_RSVD)) {
        fault = VTD_FR_SM_PASIDE_RESERVED;
        goto out;
    }
    ctx->fpd |= FIELD_EX64(pe[0], PASIDE0, FPD);
    fault = vtd_pasid_entry_decode(s, pe, dte, ctx);
    if (!fault) {
        trace_vtd_pasid_entry(bus, devfn, pasid, ctx->did,
                              FIELD_EX64(pe[0], PASIDE0, PGTT), ctx->table,
                              ctx->levels);
    }
out:
    return fault && ctx->fpd ? fault | VTD_FR_SUPPRESSED : fault;
}

/*
 * 6.5.2.2: a PASID-cache invalidation.  The cached PASID entries are
 * those of the requesters' VTDContexts: drop the ones the granularity
 * names (domain, or domain and PASID), or all; requesters then look their
 * entries up again, and may switch to or from pass-through.
 */
bool vtd_inval_pasid_cache(IntelIOMMUState *s, unsigned gran, uint16_t did,
                           uint32_t pasid)
{
    trace_vtd_inval_pasid_cache(gran, did, pasid);
    switch (gran) {
    case VTD_PC_GRAN_GLOBAL:
        /* Other PASIDs' entries go with the context cache's generation. */
        vtd_context_cache_invalidate(s, VTD_GRAN_GLOBAL, 0, 0, 0);
        break;
    case VTD_PC_GRAN_DOMAIN:
    case VTD_PC_GRAN_PASID:
        vtd_pasid_contexts_invalidate(s, did, gran == VTD_PC_GRAN_PASID ?
                                      pasid : VTD_ANY_PASID);
        /* RID_PASID's entry is the requester's context cache entry. */
        if (gran == VTD_PC_GRAN_PASID && pasid) {
            return true;
        }
        vtd_rid_pasid_cache_invalidate(s, did);
        break;
    default:
        return false;
    }
    vtd_notify_context_invalidation(s);
    return true;
}
