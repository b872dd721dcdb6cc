/*
 * Intel VT-d emulation: invalidation, through registers and the queue
 *
 * 6.5.1 register-based invalidation (CCMD, IOTLB register) and 6.5.2 queued
 * invalidation: descriptors are fetched from IQH up to IQT when the guest
 * moves the tail, each one carried out before the next, so a wait
 * descriptor completes only after everything queued before it.
 *
 * Context-cache and IOTLB invalidations drop what cache.c holds; notifier
 * consumers (vhost, VFIO) hear about IOTLB and device-TLB invalidations
 * through notify.c.  Reserved bits set in a descriptor make it invalid.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "exec/address-spaces.h"
#include "hw/i386/intel_iommu_internal.h"
#include "trace.h"

/* Both interfaces: false if @gran is not a granularity (CIRG/G of 0). */
static bool vtd_inval_context(IntelIOMMUState *s, unsigned gran,
                              uint16_t did, uint16_t sid, unsigned fm)
{
    trace_vtd_inval_context(gran, did, sid);
    if (gran < VTD_GRAN_GLOBAL) {
        return false;
    }
    vtd_context_cache_invalidate(s, gran, did, sid, fm);
    vtd_notify_context_invalidation(s);
    return true;
}

/*
 * Both interfaces: returns the granularity carried out, coarser than
 * asked for a page range beyond CAP.MAMV, or 0 if @gran is invalid.
 * Consumers of IOMMU notifiers hear about the range too.  @ih: the
 * invalidation hint of page-selective requests (only leaves changed).
 */
static unsigned vtd_inval_iotlb(IntelIOMMUState *s, unsigned gran,
                                uint16_t did, hwaddr addr, unsigned am,
                                bool ih)
{
    trace_vtd_inval_iotlb(gran, did, addr, am, ih);
    if (gran == VTD_GRAN_DEVICE_OR_PAGE && am > VTD_CAP_MAMV_VALUE) {
        qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: IOTLB invalidation "
                      "mask %u beyond MAMV: invalidating domain %u\n",
                      am, did);
        gran = VTD_GRAN_DOMAIN;
    }
    switch (gran) {
    case VTD_GRAN_GLOBAL:
        vtd_iotlb_invalidate_all(s);
        vtd_notify_iotlb_invalidation(s, -1, 0, 64);
        break;
    case VTD_GRAN_DOMAIN:
        vtd_iotlb_invalidate_domain(s, did, VTD_ANY_PASID);
        vtd_notify_iotlb_invalidation(s, did, 0, 64);
        break;
    case VTD_GRAN_DEVICE_OR_PAGE:
        vtd_iotlb_invalidate_pages(s, did, VTD_ANY_PASID, addr, am, ih);
        vtd_notify_iotlb_invalidation(s, did, addr, am);
        break;
    default:
        return 0;
    }
    return gran;
}

/* 11.4.6: a context-cache invalidation requested through CCMD. */
void vtd_inval_ccmd(IntelIOMMUState *s, uint64_t ccmd)
{
    unsigned gran = FIELD_EX64(ccmd, CCMD, CIRG);

    if (vtd_gsts(s, R_GSTS_QIE_MASK)) {
        qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: register-based "
                      "context invalidation while the queue is enabled\n");
    }
    if (!vtd_inval_context(s, gran, FIELD_EX64(ccmd, CCMD, DID),
                           FIELD_EX64(ccmd, CCMD, SID),
                           FIELD_EX64(ccmd, CCMD, FM))) {
        qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: CCMD with "
                      "granularity 0\n");
        gran = 0;       /* CAIG 0 reports the failure */
    }
    ccmd = FIELD_DP64(ccmd, CCMD, CAIG, gran);
    ccmd = FIELD_DP64(ccmd, CCMD, ICC, 0);
    vtd_set_reg64(s, A_CCMD, ccmd);
}

/* 11.4.4.4: an IOTLB invalidation requested through the IOTLB register. */
void vtd_inval_iotlb_reg(IntelIOMMUState *s, uint64_t cmd)
{
    uint64_t iva = vtd_get_reg64(s, VTD_IRO_OFFSET);
    unsigned done;

    if (vtd_gsts(s, R_GSTS_QIE_MASK)) {
        qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: register-based "
                      "IOTLB invalidation while the queue is enabled\n");
    }
    done = vtd_inval_iotlb(s, FIELD_EX64(cmd, IOTLB, IIRG),
                           FIELD_EX64(cmd, IOTLB, DID),
                           FIELD_EX64(iva, IVA, ADDR) << VTD_PAGE_SHIFT,
                           FIELD_EX64(iva, IVA, AM),
                           FIELD_EX64(iva, IVA, IH));
    if (!done) {
        qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: IOTLB invalidation "
                      "with granularity 0\n");
    }
    cmd = FIELD_DP64(cmd, IOTLB, IAIG, done);
    cmd = FIELD_DP64(cmd, IOTLB, IVT, 0);
    vtd_set_reg64(s, VTD_IRO_OFFSET + 8, cmd);
}

/*
 * 6.5.2.5: a device-TLB invalidation of requester @sid at @addr.  With
 * @size_encoded (S), the lowest clear bit of ADDR[63:12] gives the size:
 * bit 12 clear is 8 KiB, bits 12 set and 13 clear 16 KiB, and so on.
 */
static bool vtd_inval_device_tlb_range(IntelIOMMUState *s, uint16_t sid,
                                       hwaddr addr, bool size_encoded)
{
    uint64_t mask = vtd_low_bits(VTD_PAGE_SHIFT);

    if (!FIELD_EX64(s->ecap, ECAP, DT)) {
        return false;
    }
    if (size_encoded) {
        unsigned ones = cto64(addr >> VTD_PAGE_SHIFT);

        mask = vtd_low_bits(MIN(VTD_PAGE_SHIFT + ones + 1, 64));
    }
    trace_vtd_inval_device_iotlb(sid, addr & ~mask, mask);
    vtd_notify_device_iotlb(s, sid, addr & ~mask, mask);
    return true;
}

static bool vtd_inval_device_iotlb(IntelIOMMUState *s, uint64_t lo,
                                   uint64_t hi)
{
    return vtd_inval_device_tlb_range(s, FIELD_EX64(lo, INV_DEV, SID),
                                      FIELD_EX64(hi, INV_DEV_HI, ADDR) <<
                                      VTD_PAGE_SHIFT,
                                      FIELD_EX64(hi, INV_DEV_HI, S));
}

/*
 * 6.5.2.6: a PASID-based device-TLB invalidation.  The devices behind the
 * unit do not tag translation requests with a PASID, so their device TLBs
 * hold RID_PASID translations only and the PASID does not narrow it.
 * S is bit 11 here.
 */
static bool vtd_inval_pasid_device_iotlb(IntelIOMMUState *s, uint64_t lo,
                                         uint64_t hi)
{
    return !(hi & VTD_INV_PDEV_HI_RSVD) &&
           vtd_inval_device_tlb_range(s, FIELD_EX64(lo, INV_PDEV, SID),
                                      FIELD_EX64(hi, INV_PDEV_HI, ADDR) <<
                                      VTD_PAGE_SHIFT,
                                      FIELD_EX64(hi, INV_PDEV_HI, S));
}

/*
 * 6.5.2.4: a PASID-based IOTLB invalidation, of all of a PASID's
 * translations in a domain or of some of its pages.  IOMMU notifiers
 * (VFIO, vhost) follow the translations of requests without PASID, those
 * of RID_PASID (0): they hear about that PASID's invalidations only.
 */
static bool vtd_inval_pasid_iotlb(IntelIOMMUState *s, uint64_t lo,
                                  uint64_t hi)
{
    unsigned gran = FIELD_EX64(lo, INV_PIOTLB, G);
    uint16_t did = FIELD_EX64(lo, INV_PIOTLB, DID);
    uint32_t pasid = FIELD_EX64(lo, INV_PIOTLB, PASID);
    hwaddr addr = FIELD_EX64(hi, INV_IOTLB_HI, ADDR) << VTD_PAGE_SHIFT;
    unsigned am = FIELD_EX64(hi, INV_IOTLB_HI, AM);

    if ((lo & VTD_INV_PIOTLB_RSVD) || (hi & VTD_INV_PIOTLB_HI_RSVD)) {
        return false;
    }
    switch (gran) {
    case VTD_GRAN_PASID:
        trace_vtd_inval_iotlb(gran, did, 0, 64, false);
        vtd_iotlb_invalidate_domain(s, did, pasid);
        if (!pasid) {
            vtd_notify_iotlb_invalidation(s, did, 0, 64);
        }
        return true;
    case VTD_GRAN_PASID_PAGE:
        trace_vtd_inval_iotlb(gran, did, addr, am,
                              FIELD_EX64(hi, INV_IOTLB_HI, IH));
        if (am > VTD_CAP_MAMV_VALUE) {
            qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: PASID-based IOTLB "
                          "invalidation mask %u beyond MAMV: invalidating "
                          "the PASID's domain %u\n", am, did);
            vtd_iotlb_invalidate_domain(s, did, pasid);
            addr = 0;
            am = 64;
        } else {
            vtd_iotlb_invalidate_pages(s, did, pasid, addr, am,
                                       FIELD_EX64(hi, INV_IOTLB_HI, IH));
        }
        if (!pasid) {
            vtd_notify_iotlb_invalidation(s, did, addr, am);
        }
        return true;
    default:
        return false;
    }
}

/* 6.5.2.9: status write and completion interrupt. */
static bool vtd_inval_wait(IntelIOMMUState *s, uint64_t lo, uint64_t hi)
{
    if (FIELD_EX64(lo, INV_WAIT, SW)) {
        uint32_t data = cpu_to_le32(FIELD_EX64(lo, INV_WAIT, SDATA));
        hwaddr addr = FIELD_EX64(hi, INV_WAIT_HI, SADDR) << 2;

        if (address_space_write(&address_space_memory, addr,
                                MEMTXATTRS_UNSPECIFIED, &data, 4)) {
            qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: wait descriptor "
                          "status write to 0x%" HWADDR_PRIx " failed\n",
                          addr);
            return false;
        }
    }
    if (FIELD_EX64(lo, INV_WAIT, IF) &&
        !(vtd_get_reg32(s, A_ICS) & R_ICS_IWC_MASK)) {
        vtd_update_reg32(s, A_ICS, 0, R_ICS_IWC_MASK);
        vtd_event_raise(s, A_IECTL);
    }
    trace_vtd_inval_wait(FIELD_EX64(lo, INV_WAIT, SW),
                         FIELD_EX64(lo, INV_WAIT, IF));
    return true;
}

/* Carry out one descriptor; false: it is invalid (IQE). */
static bool vtd_inval_descriptor(IntelIOMMUState *s, const uint64_t *desc,
                                 bool wide)
{
    uint64_t lo = desc[0], hi = desc[1];
    unsigned type = FIELD_EX64(lo, INV_DESC, TYPE_LO) |
                    (FIELD_EX64(lo, INV_DESC, TYPE_HI) << 4);

    s->last_desc_type = type;
    /* The descriptors of legacy invalidation use 128 bits only. */
    if (wide && (desc[2] || desc[3]) && type <= VTD_INV_WAIT) {
        return false;
    }
    switch (type) {
    case VTD_INV_CONTEXT_CACHE:
        return !(lo & VTD_INV_CC_RSVD) && !hi &&
               vtd_inval_context(s, FIELD_EX64(lo, INV_CC, G),
                                 FIELD_EX64(lo, INV_CC, DID),
                                 FIELD_EX64(lo, INV_CC, SID),
                                 FIELD_EX64(lo, INV_CC, FM));
    case VTD_INV_IOTLB:
        return !(lo & VTD_INV_IOTLB_RSVD) &&
               !(hi & VTD_INV_IOTLB_HI_RSVD) &&
               vtd_inval_iotlb(s, FIELD_EX64(lo, INV_IOTLB, G),
                               FIELD_EX64(lo, INV_IOTLB, DID),
                               FIELD_EX64(hi, INV_IOTLB_HI, ADDR) <<
                               VTD_PAGE_SHIFT,
                               FIELD_EX64(hi, INV_IOTLB_HI, AM),
                               FIELD_EX64(hi, INV_IOTLB_HI, IH));
    case VTD_INV_DEVICE_TLB:
        return vtd_inval_device_iotlb(s, lo, hi);
    case VTD_INV_INTERRUPT_ENTRY:
        if (!FIELD_EX64(s->ecap, ECAP, IR) || (lo & VTD_INV_IEC_RSVD) || hi) {
            return false;
        }
        vtd_ir_invalidate(s, !FIELD_EX64(lo, INV_IEC, G),
                          FIELD_EX64(lo, INV_IEC, IIDX),
                          FIELD_EX64(lo, INV_IEC, IM));
        return true;
    case VTD_INV_WAIT:
        if ((lo & VTD_INV_WAIT_RSVD) || (hi & VTD_INV_WAIT_HI_RSVD)) {
            return false;
        }
        return vtd_inval_wait(s, lo, hi);
    }
    /* PASID-granular descriptors: scalable mode's, 256 bits wide. */
    if (!FIELD_EX64(s->ecap, ECAP, SMTS) || !wide || desc[2] || desc[3]) {
        return false;
    }
    switch (type) {
    case VTD_INV_PASID_IOTLB:
        return vtd_inval_pasid_iotlb(s, lo, hi);
    case VTD_INV_PASID_CACHE:
        return !(lo & VTD_INV_PC_RSVD) && !hi &&
               vtd_inval_pasid_cache(s, FIELD_EX64(lo, INV_PC, G),
                                     FIELD_EX64(lo, INV_PC, DID),
                                     FIELD_EX64(lo, INV_PC, PASID));
    case VTD_INV_PASID_DEVICE_TLB:
        return vtd_inval_pasid_device_iotlb(s, lo, hi);
    default:
        return false;
    }
}

/* 6.5.2: process descriptors from IQH to IQT. */
void vtd_inval_queue_run(IntelIOMMUState *s)
{
    uint64_t iqa = vtd_get_reg64(s, A_IQA);
    bool wide = FIELD_EX64(iqa, IQA, DW);
    unsigned desc_size = wide ? 32 : 16;
    hwaddr base = FIELD_EX64(iqa, IQA, IQA) << VTD_PAGE_SHIFT;
    uint64_t queue_size = 4096ULL << FIELD_EX64(iqa, IQA, QS);
    uint64_t head = FIELD_EX64(vtd_get_reg64(s, A_IQH), IQH, QH) << 4;
    uint64_t tail = FIELD_EX64(vtd_get_reg64(s, A_IQT), IQT, QT) << 4;

    if (!vtd_gsts(s, R_GSTS_QIE_MASK) ||
        (vtd_get_reg32(s, A_FSTS) & R_FSTS_IQE_MASK)) {
        return;
    }
    if (tail >= queue_size || (tail & (desc_size - 1))) {
        qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: invalid queue tail "
                      "0x%" PRIx64 "\n", tail);
        vtd_fault_queue_error(s, VTD_IQEI_NO_INFO);
        return;
    }
    while (head != tail) {
        uint64_t desc[4] = {};
        MemTxResult r;

        r = address_space_read(&address_space_memory, base + head,
                               MEMTXATTRS_UNSPECIFIED, desc, desc_size);
        for (unsigned i = 0; i < ARRAY_SIZE(desc); i++) {
            desc[i] = le64_to_cpu(desc[i]);
        }
        if (r != MEMTX_OK ||
            !vtd_inval_descriptor(s, desc, wide)) {
            qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: invalid "
                          "descriptor 0x%" PRIx64 " 0x%" PRIx64 " at "
                          "queue offset 0x%" PRIx64 "\n",
                          desc[0], desc[1], head);
            /* IQH stays on the faulting descriptor (6.5.2.10). */
            vtd_fault_queue_error(s, VTD_IQEI_NO_INFO);
            return;
        }
        head = (head + desc_size) % queue_size;
        vtd_set_reg64(s, A_IQH, head);
    }
}
