/*
 * Intel VT-d emulation: fault recording and fault events
 *
 * 7.3 Primary fault logging: each fault goes into the fault-recording
 * register at the current index if that record is free, else FSTS.PFO is
 * set and the fault is dropped.  7.4: a fault event (the MSI described by
 * FEDATA/FEADDR/FEUADDR) is sent when FSTS gains a reason to interrupt,
 * unless FECTL.IM masks it, in which case FECTL.IP stays set until the
 * guest unmasks or clears the cause.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/timer.h"
#include "exec/address-spaces.h"
#include "hw/i386/intel_iommu_internal.h"
#include "trace.h"

static hwaddr vtd_frcd_addr(unsigned index)
{
    return VTD_FRCD_OFFSET + index * VTD_FRCD_SIZE;
}

static unsigned vtd_fault_records(IntelIOMMUState *s)
{
    return FIELD_EX64(s->cap, CAP, NFR) + 1;
}

/* Send an event MSI described by the registers at @ctl (FECTL or IECTL). */
static void vtd_send_event(IntelIOMMUState *s, hwaddr ctl)
{
    uint32_t data = vtd_get_reg32(s, ctl + 4);
    uint64_t addr = vtd_get_reg32(s, ctl + 8) |
                    ((uint64_t)vtd_get_reg32(s, ctl + 12) << 32);
    MemTxResult r;

    trace_vtd_event_msi(ctl, addr, data);
    address_space_stl_le(&address_space_memory, addr, data,
                         MEMTXATTRS_UNSPECIFIED, &r);
    if (r != MEMTX_OK) {
        qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: event MSI to 0x%"
                      PRIx64 " failed\n", addr);
    }
}

/* 7.4: raise an event, or leave it pending behind IM. */
void vtd_event_raise(IntelIOMMUState *s, hwaddr ctl)
{
    uint32_t val = vtd_get_reg32(s, ctl);

    if (val & R_FECTL_IP_MASK) {
        return;     /* already pending: one interrupt per cause */
    }
    if (val & R_FECTL_IM_MASK) {
        vtd_set_reg32(s, ctl, val | R_FECTL_IP_MASK);
        return;
    }
    vtd_send_event(s, ctl);
}

/* Guest wrote the control register: an unmasked pending event fires. */
void vtd_event_control_written(IntelIOMMUState *s, hwaddr ctl)
{
    uint32_t val = vtd_get_reg32(s, ctl);

    if ((val & R_FECTL_IP_MASK) && !(val & R_FECTL_IM_MASK)) {
        vtd_set_reg32(s, ctl, val & ~R_FECTL_IP_MASK);
        vtd_send_event(s, ctl);
    }
}

/* The causes that keep a fault event pending (FSTS: PFO, PPF, IQE...). */
static bool vtd_fault_cause_pending(IntelIOMMUState *s)
{
    return vtd_get_reg32(s, A_FSTS) &
           (R_FSTS_PFO_MASK | R_FSTS_PPF_MASK | R_FSTS_IQE_MASK |
            R_FSTS_ICE_MASK | R_FSTS_ITE_MASK);
}

/* Recompute FSTS.PPF/FRI from the records; clear IP when nothing is left. */
void vtd_fault_status_update(IntelIOMMUState *s)
{
    unsigned i, n = vtd_fault_records(s);
    uint32_t fsts = vtd_get_reg32(s, A_FSTS);
    bool pending = false;

    for (i = 0; i < n; i++) {
        if (vtd_get_reg64(s, vtd_frcd_addr(i) + 8) & R_FRCD_HI_F_MASK) {
            if (!pending) {
                fsts = FIELD_DP32(fsts, FSTS, FRI, i);
            }
            pending = true;
        }
    }
    fsts = FIELD_DP32(fsts, FSTS, PPF, pending);
    vtd_set_reg32(s, A_FSTS, fsts);
    if (!vtd_fault_cause_pending(s)) {
        vtd_update_reg32(s, A_FECTL, R_FECTL_IP_MASK, 0);
    }
}

/*
 * 7.3.1: log one primary fault.  Returns 1 if it went into a record, 0 if
 * it was dropped for overflow, -1 if it is the request already recorded.
 * A request with PASID has it in the record (PP, PV: 11.4.14).
 */
static int vtd_fault_record_one(IntelIOMMUState *s, uint16_t sid,
                                uint32_t pasid, uint64_t addr,
                                unsigned reason, bool is_write)
{
    uint32_t fsts = vtd_get_reg32(s, A_FSTS);
    unsigned index = s->next_fault_record;
    hwaddr frcd = vtd_frcd_addr(index);
    bool had_cause = vtd_fault_cause_pending(s);
    uint64_t hi = 0;

    trace_vtd_fault(sid, pasid, addr, reason, is_write);
    qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: DMA fault reason 0x%x: "
                  "%02x:%02x.%x %s 0x%" PRIx64 "\n", reason, sid >> 8,
                  PCI_SLOT(sid & 0xff), PCI_FUNC(sid & 0xff),
                  is_write ? "write" : "read", addr);

    if (fsts & R_FSTS_PFO_MASK) {
        return 0;       /* overflow pending: new faults are not recorded */
    }
    /*
     * The memory core replays a failed DMA in pieces of at most 8 bytes,
     * each of which is translated again: one device request becomes many
     * lookups.  Record it once, as hardware records one fault for one
     * request: a fault identical to the last one recorded, whose record
     * the guest has not cleared yet, is the same request.
     */
    if (s->last_fault_valid && s->last_fault.sid == sid &&
        s->last_fault.pasid == pasid &&
        s->last_fault.page == (addr >> VTD_PAGE_SHIFT) &&
        s->last_fault.reason == reason &&
        s->last_fault.is_write == is_write &&
        (vtd_get_reg64(s, vtd_frcd_addr(s->last_fault.index) + 8) &
         R_FRCD_HI_F_MASK)) {
        return -1;
    }
    if (vtd_get_reg64(s, frcd + 8) & R_FRCD_HI_F_MASK) {
        vtd_set_reg32(s, A_FSTS, fsts | R_FSTS_PFO_MASK);
        trace_vtd_fault_overflow(index);
    } else {
        hi = FIELD_DP64(hi, FRCD_HI, SID, sid);
        hi = FIELD_DP64(hi, FRCD_HI, FR, reason);
        hi = FIELD_DP64(hi, FRCD_HI, T1, !is_write);   /* 1: read */
        hi = FIELD_DP64(hi, FRCD_HI, F, 1);
        if (pasid != VTD_NO_PASID) {
            hi = FIELD_DP64(hi, FRCD_HI, PP, 1);
            hi = FIELD_DP64(hi, FRCD_HI, PV, pasid);
        }
        vtd_set_reg64(s, frcd, addr & ~MAKE_64BIT_MASK(0, VTD_PAGE_SHIFT));
        vtd_set_reg64(s, frcd + 8, hi);
        s->next_fault_record = (index + 1) % vtd_fault_records(s);
        s->last_fault = (VTDLastFault) {
            .sid = sid, .pasid = pasid, .page = addr >> VTD_PAGE_SHIFT,
            .reason = reason,
            .is_write = is_write, .index = index,
        };
        s->last_fault_valid = true;
    }
    vtd_fault_status_update(s);
    if (!had_cause) {
        vtd_event_raise(s, A_FECTL);
    }
    return hi ? 1 : 0;
}

/* Remember a fault for `info intel-iommu`. */
static void vtd_fault_log(IntelIOMMUState *s, uint16_t sid, uint64_t addr,
                          unsigned reason, bool is_write, bool recorded)
{
    s->fault_log[s->faults_seen++ % ARRAY_SIZE(s->fault_log)] =
        (struct VTDFaultLogEntry) {
            .when_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL),
            .addr = addr, .sid = sid, .reason = reason,
            .is_write = is_write, .recorded = recorded,
        };
}

void vtd_fault_record(IntelIOMMUState *s, uint16_t sid, uint32_t pasid,
                      uint64_t addr, unsigned reason, bool is_write)
{
    int recorded = vtd_fault_record_one(s, sid, pasid, addr, reason,
                                        is_write);

    if (recorded >= 0) {
        vtd_fault_log(s, sid, addr, reason, is_write, recorded);
    }
}

/* An invalidation-queue error (6.5.2.10): FSTS.IQE and a fault event. */
void vtd_fault_queue_error(IntelIOMMUState *s, unsigned code)
{
    bool had_cause = vtd_fault_cause_pending(s);

    trace_vtd_queue_error(code);
    vtd_set_reg64(s, A_IQERCD, FIELD_DP64(0, IQERCD, IQEI, code));
    vtd_update_reg32(s, A_FSTS, 0, R_FSTS_IQE_MASK);
    if (!had_cause) {
        vtd_event_raise(s, A_FECTL);
    }
}
