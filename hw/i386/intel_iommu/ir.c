/*
 * Intel VT-d emulation: interrupt remapping (chapter 5)
 *
 * An interrupt request in remappable format names an entry of the
 * interrupt remapping table (IRTA); the entry says where the interrupt
 * goes.  Compatibility-format requests pass only while GSTS.CFIS allows
 * them.  Every failure is one of the 7.1.3 fault reasons 0x20-0x26,
 * recorded through the common fault log (qualified ones unless the entry
 * sets FPD), and the interrupt is dropped.
 *
 * Entries found present and well-formed are kept in the interrupt entry
 * cache until an IEC invalidation (6.5.2.7) or a new SIRTP drops them, so
 * a guest that rewrites an entry sees the change only once it
 * invalidates, as on hardware and as with KVM's MSI routes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/bitmap.h"
#include "exec/address-spaces.h"
#include "hw/pci/pci.h"
#include "hw/i386/intel_iommu_internal.h"
#include "trace.h"

/*
 * 11.4.7.4: for interrupt faults, FI bits 63:48 hold the index.  Only an
 * interrupt request faults: translating a KVM route ahead of any
 * interrupt (@record false) just reports that the route cannot be used.
 */
static int vtd_ir_fault(IntelIOMMUState *s, bool record, uint16_t sid,
                        unsigned index, unsigned reason)
{
    if (record) {
        vtd_fault_record(s, sid, VTD_NO_PASID, (uint64_t)index << 48, reason,
                         true);
    } else {
        trace_vtd_ir_route_unusable(sid, index, reason);
    }
    return -EINVAL;
}

/* A fault found once the entry is read: FPD in the entry may silence it. */
static int vtd_ir_qualified_fault(IntelIOMMUState *s, bool record,
                                  uint64_t lo, uint16_t sid, unsigned index,
                                  unsigned reason)
{
    if (FIELD_EX64(lo, IRTE_LO, FPD)) {
        return -EINVAL;
    }
    return vtd_ir_fault(s, record, sid, index, reason);
}

/* 9.10 SVT/SQ: does @sid match the requester the entry allows? */
static bool vtd_ir_source_ok(uint64_t hi, uint16_t sid)
{
    uint16_t want = FIELD_EX64(hi, IRTE_HI, SID);
    static const uint16_t sq_mask[] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };

    switch (FIELD_EX64(hi, IRTE_HI, SVT)) {
    case 0:
        return true;
    case 1:
        return !((sid ^ want) & sq_mask[FIELD_EX64(hi, IRTE_HI, SQ)]);
    case 2:
        /* Bus range: want[15:8] <= bus <= want[7:0] */
        return (sid >> 8) >= (want >> 8) && (sid >> 8) <= (want & 0xff);
    default:
        return false;
    }
}

static int vtd_ir_translate(IntelIOMMUState *s, MSIMessage *src,
                            MSIMessage *dst, uint16_t sid, bool record)
{
    uint64_t addr = src->address, irta = s->ir_table, lo, hi;
    uint64_t buf[2];
    X86IOMMUIrq irq = {};
    unsigned index, entries;
    bool eime;

    if (!vtd_gsts(s, R_GSTS_IRE_MASK)) {
        *dst = *src;
        return 0;
    }
    if (!FIELD_EX64(addr, IR_ADDR, FORMAT)) {
        /* 5.1.2: compatibility format passes only with CFIS. */
        if (vtd_gsts(s, R_GSTS_CFI_MASK)) {
            *dst = *src;
            trace_vtd_ir_compat(sid, addr, src->data);
            return 0;
        }
        return vtd_ir_fault(s, record, sid, 0, VTD_FR_IR_COMPAT_BLOCKED);
    }

    index = FIELD_EX64(addr, IR_ADDR, HANDLE) |
            (FIELD_EX64(addr, IR_ADDR, HANDLE_HI) << 15);
    if (FIELD_EX64(addr, IR_ADDR, SHV)) {
        index += src->data & 0xffff;
    }
    entries = 2u << FIELD_EX64(irta, IRTA, S);
    if (index >= entries) {
        return vtd_ir_fault(s, record, sid, index, VTD_FR_IR_INDEX_OVER);
    }
    eime = FIELD_EX64(irta, IRTA, EIME);
    if (index < s->iec_entries && test_bit(index, s->iec_valid)) {
        lo = s->iec[index][0];
        hi = s->iec[index][1];
        goto cached;
    }
    if (address_space_read(&address_space_memory,
                           (FIELD_EX64(irta, IRTA, IRTA) << VTD_PAGE_SHIFT) +
                           index * VTD_IRTE_SIZE, MEMTXATTRS_UNSPECIFIED,
                           buf, sizeof(buf))) {
        return vtd_ir_fault(s, record, sid, index, VTD_FR_IR_TABLE_INVALID);
    }
    lo = le64_to_cpu(buf[0]);
    hi = le64_to_cpu(buf[1]);
    trace_vtd_ir_entry(sid, index, lo, hi);

    if (!FIELD_EX64(lo, IRTE_LO, P)) {
        return vtd_ir_qualified_fault(s, record, lo, sid, index,
                                      VTD_FR_IR_ENTRY_NOT_PRESENT);
    }
    /* Posted format needs CAP.PI, which this unit does not offer. */
    if ((lo & VTD_IRTE_LO_RSVD) || (hi & VTD_IRTE_HI_RSVD) ||
        FIELD_EX64(lo, IRTE_LO, IM) ||
        (!eime && (FIELD_EX64(lo, IRTE_LO, DST) & 0xffff00ff))) {
        return vtd_ir_qualified_fault(s, record, lo, sid, index,
                                      VTD_FR_IR_ENTRY_RESERVED);
    }
    if (index < s->iec_entries) {
        s->iec[index][0] = lo;
        s->iec[index][1] = hi;
        set_bit(index, s->iec_valid);
    }
cached:
    if (sid != X86_IOMMU_SID_INVALID && !vtd_ir_source_ok(hi, sid)) {
        return vtd_ir_qualified_fault(s, record, lo, sid, index,
                                      VTD_FR_IR_SID_MISMATCH);
    }

    irq.trigger_mode = FIELD_EX64(lo, IRTE_LO, TM);
    irq.vector = FIELD_EX64(lo, IRTE_LO, V);
    irq.delivery_mode = FIELD_EX64(lo, IRTE_LO, DLM);
    irq.dest_mode = FIELD_EX64(lo, IRTE_LO, DM);
    irq.redir_hint = FIELD_EX64(lo, IRTE_LO, RH);
    /* xAPIC destinations sit in DST[15:8]; x2APIC uses all 32 bits. */
    irq.dest = eime ? FIELD_EX64(lo, IRTE_LO, DST) :
                      extract64(lo, 40, 8);
    irq.msi_addr_last_bits = addr & 3;
    x86_iommu_irq_to_msi_message(&irq, dst);
    trace_vtd_ir_remap(sid, index, irq.dest, irq.vector);
    return 0;
}

/* An interrupt request reaching the interrupt address range. */
int vtd_ir_remap(IntelIOMMUState *s, MSIMessage *src, MSIMessage *dst,
                 uint16_t sid)
{
    return vtd_ir_translate(s, src, dst, sid, true);
}

/*
 * X86IOMMUClass.int_remap: KVM's MSI routes and the IOAPIC's routes under
 * kernel-irqchip=split, translated when programmed and again after each
 * IEC invalidation, with no interrupt in flight: nothing to record.
 */
int vtd_ir_int_remap(X86IOMMUState *x86, MSIMessage *src, MSIMessage *dst,
                     uint16_t sid)
{
    return vtd_ir_translate(INTEL_IOMMU_DEVICE(x86), src, dst, sid, false);
}

/*
 * 6.5.2.7: an interrupt entry cache invalidation, of every entry or of the
 * 2^@im entries from @index.  Entries are read when each interrupt
 * arrives, so nothing is held here; what KVM and the IOAPIC derived from
 * the entries (MSI routes, programmed pins) is refreshed.
 */
void vtd_ir_invalidate(IntelIOMMUState *s, bool global, uint16_t index,
                       unsigned im)
{
    trace_vtd_ir_invalidate(global, index, im);
    if (global) {
        bitmap_zero(s->iec_valid, s->iec_entries);
    } else {
        unsigned first = index & ~vtd_low_bits(im);
        unsigned count = 1u << MIN(im, 16);

        if (first < s->iec_entries) {
            bitmap_clear(s->iec_valid, first,
                         MIN(count, s->iec_entries - first));
        }
    }
    x86_iommu_iec_notify_all(X86_IOMMU_DEVICE(s), global, index, im);
}

/*
 * Interrupt translation changed as a whole: a new table (SIRTP or
 * migration), or remapping or compatibility format turned on or off.
 * KVM's MSI routes and the IOAPIC's programmed routes (kernel-irqchip=
 * split) were translated under the old state; have them translated again,
 * as after a global interrupt entry cache invalidation.
 */
void vtd_ir_refresh_users(IntelIOMMUState *s)
{
    trace_vtd_ir_refresh_users(s->ir_table, vtd_get_reg32(s, A_GSTS));
    x86_iommu_iec_notify_all(X86_IOMMU_DEVICE(s), true, 0, 0);
}

/* SIRTP (or reset) latched a new table: size the cache for it, empty. */
void vtd_ir_table_latched(IntelIOMMUState *s)
{
    unsigned entries = 2u << FIELD_EX64(s->ir_table, IRTA, S);

    if (entries != s->iec_entries) {
        vtd_ir_destroy(s);
        s->iec = g_malloc_n(entries, sizeof(*s->iec));
        s->iec_valid = bitmap_new(entries);
        s->iec_entries = entries;
    }
    bitmap_zero(s->iec_valid, s->iec_entries);
}

void vtd_ir_destroy(IntelIOMMUState *s)
{
    g_clear_pointer(&s->iec, g_free);
    g_clear_pointer(&s->iec_valid, g_free);
    s->iec_entries = 0;
}
