/*
 * Intel VT-d emulation: invalidation, through registers and the queue
 *
 * 6.5.1 register-based invalidation (CCMD, IOTLB register) and 6.5.2 queued
 * invalidation: descriptors are fetched from IQH up to IQT when the guest
 * moves the tail, each one carried out before the next, so a wait
 * descriptor completes only after everything queued before it.
 *
 * The device does not cache translations yet, so context-cache, IOTLB and
 * device-TLB invalidations have nothing to drop; they are checked, traced
 * and completed.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "exec/address-spaces.h"
#include "hw/i386/intel_iommu_internal.h"
#include "trace.h"

/* 11.4.6: a context-cache invalidation requested through CCMD. */
void vtd_inval_ccmd(IntelIOMMUState *s, uint64_t ccmd)
{
    unsigned gran = FIELD_EX64(ccmd, CCMD, CIRG);

    if (vtd_gsts(s, R_GSTS_QIE_MASK)) {
        qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: register-based "
                      "context invalidation while the queue is enabled\n");
    }
    trace_vtd_inval_context(gran, FIELD_EX64(ccmd, CCMD, DID),
                            FIELD_EX64(ccmd, CCMD, SID));
    /* Granularity 0 is invalid: CAIG 0 reports the failure. */
    ccmd = FIELD_DP64(ccmd, CCMD, CAIG, gran);
    ccmd = FIELD_DP64(ccmd, CCMD, ICC, 0);
    vtd_set_reg64(s, A_CCMD, ccmd);
}

/* 11.4.4.4: an IOTLB invalidation requested through the IOTLB register. */
void vtd_inval_iotlb_reg(IntelIOMMUState *s, uint64_t cmd)
{
    unsigned gran = FIELD_EX64(cmd, IOTLB, IIRG);
    uint64_t iva = vtd_get_reg64(s, VTD_IRO_OFFSET);

    if (vtd_gsts(s, R_GSTS_QIE_MASK)) {
        qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: register-based "
                      "IOTLB invalidation while the queue is enabled\n");
    }
    trace_vtd_inval_iotlb(gran, FIELD_EX64(cmd, IOTLB, DID),
                          FIELD_EX64(iva, IVA, ADDR) << VTD_PAGE_SHIFT,
                          FIELD_EX64(iva, IVA, AM));
    cmd = FIELD_DP64(cmd, IOTLB, IAIG, gran);
    cmd = FIELD_DP64(cmd, IOTLB, IVT, 0);
    vtd_set_reg64(s, VTD_IRO_OFFSET + 8, cmd);
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
static bool vtd_inval_descriptor(IntelIOMMUState *s, uint64_t lo,
                                 uint64_t hi)
{
    unsigned type = FIELD_EX64(lo, INV_DESC, TYPE_LO) |
                    (FIELD_EX64(lo, INV_DESC, TYPE_HI) << 4);

    switch (type) {
    case VTD_INV_CONTEXT_CACHE:
        if (!FIELD_EX64(lo, INV_CC, G)) {
            return false;
        }
        trace_vtd_inval_context(FIELD_EX64(lo, INV_CC, G),
                                FIELD_EX64(lo, INV_CC, DID),
                                FIELD_EX64(lo, INV_CC, SID));
        return true;
    case VTD_INV_IOTLB:
        if (!FIELD_EX64(lo, INV_IOTLB, G)) {
            return false;
        }
        trace_vtd_inval_iotlb(FIELD_EX64(lo, INV_IOTLB, G),
                              FIELD_EX64(lo, INV_IOTLB, DID),
                              FIELD_EX64(hi, INV_IOTLB_HI, ADDR) <<
                              VTD_PAGE_SHIFT,
                              FIELD_EX64(hi, INV_IOTLB_HI, AM));
        return true;
    case VTD_INV_DEVICE_TLB:
        return FIELD_EX64(s->ecap, ECAP, DT);
    case VTD_INV_INTERRUPT_ENTRY:
        if (!FIELD_EX64(s->ecap, ECAP, IR)) {
            return false;
        }
        /* 6.5.2.7: G (bit 4) 0 is global, IM 31:27, IIDX 47:32. */
        x86_iommu_iec_notify_all(X86_IOMMU_DEVICE(s), !extract64(lo, 4, 1),
                                 extract64(lo, 32, 16),
                                 extract64(lo, 27, 5));
        return true;
    case VTD_INV_WAIT:
        return vtd_inval_wait(s, lo, hi);
    default:
        /* PASID-granular descriptors need scalable mode. */
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

        if (address_space_read(&address_space_memory, base + head,
                               MEMTXATTRS_UNSPECIFIED, desc, desc_size) ||
            !vtd_inval_descriptor(s, le64_to_cpu(desc[0]),
                                  le64_to_cpu(desc[1]))) {
            qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: invalid "
                          "descriptor 0x%" PRIx64 " 0x%" PRIx64 " at "
                          "queue offset 0x%" PRIx64 "\n",
                          le64_to_cpu(desc[0]), le64_to_cpu(desc[1]), head);
            /* IQH stays on the faulting descriptor (6.5.2.10). */
            vtd_fault_queue_error(s, VTD_IQEI_NO_INFO);
            return;
        }
        head = (head + desc_size) % queue_size;
        vtd_set_reg64(s, A_IQH, head);
    }
}
