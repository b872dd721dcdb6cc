/*
 * Intel VT-d emulation: `info intel-iommu` (HMP), x-query-intel-iommu (QMP)
 *
 * What a user debugging a guest's DMA wants to see in one place: the
 * configuration and what the guest enabled, each requester's context
 * (domain, translation type, tables) as the device caches it or as the
 * tables hold it, cache occupancy and hit counters, and the last faults,
 * including those the guest has already cleared.  Reading never changes
 * the device: contexts that are not cached are read from the tables
 * without filling the cache.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-misc-target.h"
#include "qapi/type-helpers.h"
#include "monitor/monitor.h"
#include "monitor/hmp-target.h"
#include "hw/pci/pci.h"
#include "hw/i386/intel_iommu_internal.h"

static const char *vtd_tt_name(unsigned tt)
{
    switch (tt) {
    case VTD_TT_UNTRANSLATED:
        return "translated";
    case VTD_TT_DEVICE_TLB:
        return "translated, device-TLB";
    case VTD_TT_PASS_THROUGH:
        return "pass-through";
    default:
        return "invalid";
    }
}

static void vtd_info_config(GString *out, IntelIOMMUState *s)
{
    X86IOMMUState *x86 = X86_IOMMU_DEVICE(s);

    g_string_append_printf(out, "intel-iommu at 0x%" PRIx64 ": aw-bits %u, "
                           "caching-mode %s, device-iotlb %s, pt %s, "
                           "intremap %s, eim %s, x-scalable-mode %s, "
                           "fault-records %u\n",
                           (uint64_t)Q35_HOST_BRIDGE_IOMMU_ADDR, s->aw_bits,
                           s->caching_mode ? "on" : "off",
                           x86->dt_supported ? "on" : "off",
                           x86->pt_supported ? "on" : "off",
                           x86_iommu_ir_supported(x86) ? "on" : "off",
                           FIELD_EX64(s->ecap, ECAP, EIM) ? "on" : "off",
                           s->cfg.scalable ? "on" : "off",
                           s->cfg.fault_records);
    g_string_append_printf(out, "  CAP 0x%016" PRIx64 "  ECAP 0x%016" PRIx64
                           "  GSTS 0x%08" PRIx32 "  FSTS 0x%08" PRIx32 "\n",
                           s->cap, s->ecap, vtd_get_reg32(s, A_GSTS),
                           vtd_get_reg32(s, A_FSTS));
}

static void vtd_info_enabled(GString *out, IntelIOMMUState *s)
{
    uint64_t iqa = vtd_get_reg64(s, A_IQA);
    unsigned shift = vtd_queue_desc_shift(s);

    g_string_append_printf(out, "DMA remapping: %s",
                           vtd_gsts(s, R_GSTS_TE_MASK) ? "on" : "off");
    if (vtd_gsts(s, R_GSTS_SRTP_MASK)) {
        g_string_append_printf(out, ", root table 0x%" PRIx64 " (%s)",
                               FIELD_EX64(s->root_table, RTADDR, RTA) <<
                               VTD_PAGE_SHIFT,
                               FIELD_EX64(s->root_table, RTADDR, TTM) ?
                               "scalable" : "legacy");
    }
    g_string_append_printf(out, "\nQueued invalidation: %s",
                           vtd_gsts(s, R_GSTS_QIE_MASK) ? "on" : "off");
    if (vtd_gsts(s, R_GSTS_QIE_MASK)) {
        g_string_append_printf(out, ", queue 0x%" PRIx64 " (%u %u-bit "
                               "descriptors), head %" PRIu64 ", tail %"
                               PRIu64,
                               FIELD_EX64(iqa, IQA, IQA) << VTD_PAGE_SHIFT,
                               vtd_queue_descriptors(s),
                               8u << shift,
                               vtd_get_reg64(s, A_IQH) >> shift,
                               vtd_get_reg64(s, A_IQT) >> shift);
    }
    g_string_append_printf(out, "\nInterrupt remapping: %s",
                           vtd_gsts(s, R_GSTS_IRE_MASK) ? "on" : "off");
    if (vtd_gsts(s, R_GSTS_SIRTP_MASK)) {
        g_string_append_printf(out, ", table 0x%" PRIx64 " (%u entries, "
                               "%s), compatibility format %s",
                               FIELD_EX64(s->ir_table, IRTA, IRTA) <<
                               VTD_PAGE_SHIFT,
                               2u << FIELD_EX64(s->ir_table, IRTA, S),
                               FIELD_EX64(s->ir_table, IRTA, EIME) ?
                               "x2APIC" : "xAPIC",
                               vtd_gsts(s, R_GSTS_CFI_MASK) ? "allowed" :
                               "blocked");
    }
    g_string_append_c(out, '\n');
}

static void vtd_info_devices(GString *out, IntelIOMMUState *s)
{
    VTDAddressSpace *vas;

    g_string_append(out, "Requesters:\n");
    QLIST_FOREACH(vas, &s->as_list, next) {
        uint8_t bus = vtd_address_space_bus(vas);
        bool cached = qatomic_read(&vas->context_gen) == s->context_gen;
        VTDContext ctx;
        int fault = 0;

        g_string_append_printf(out, "  %02x:%02x.%x  ", bus,
                               PCI_SLOT(vas->devfn), PCI_FUNC(vas->devfn));
        if (cached) {
            ctx = vas->context;
        } else if (vtd_gsts(s, R_GSTS_SRTP_MASK)) {
            fault = vtd_walk_context(s, bus, vas->devfn, &ctx);
        } else {
            fault = VTD_FR_ROOT_NOT_PRESENT;
        }
        if (fault) {
            g_string_append_printf(out, "no context (fault reason 0x%02x)",
                                   VTD_FR_REASON(fault));
        } else {
            g_string_append_printf(out, "domain %u, %s", ctx.did,
                                   vtd_tt_name(ctx.tt));
            if (ctx.tt != VTD_TT_PASS_THROUGH) {
                g_string_append_printf(out, ", %u-level tables at 0x%"
                                       PRIx64, ctx.levels, ctx.table);
            }
            g_string_append(out, cached ? " (cached)" : " (tables)");
        }
        g_string_append_printf(out, "; address space %s",
                               vas->translating ? "translated" :
                               "untranslated");
        if (vas->notifier_flags) {
            g_string_append_printf(out, "; notifiers%s%s%s",
                   vas->notifier_flags & IOMMU_NOTIFIER_MAP ? " map" : "",
                   vas->notifier_flags & IOMMU_NOTIFIER_UNMAP ? " unmap" : "",
                   vas->notifier_flags & IOMMU_NOTIFIER_DEVIOTLB_UNMAP ?
                   " device-iotlb" : "");
        }
        g_string_append_c(out, '\n');
    }
}

static void vtd_info_caches(GString *out, IntelIOMMUState *s)
{
    g_string_append_printf(out, "Context cache: %" PRIu64 " hits, %" PRIu64
                           " misses\n",
                           s->stats.context_hits + s->stats.last_hits,
                           s->stats.context_misses);
    g_string_append_printf(out, "IOTLB: %u entries (4K %u, 2M %u, 1G %u), %"
                           PRIu64 " hits (%" PRIu64 " on the requester's "
                           "recent translations), %" PRIu64 " misses (%"
                           PRIu64 " more entries filled with them)\n",
                           s->iotlb_count, s->iotlb_level_entries[1],
                           s->iotlb_level_entries[2], s->iotlb_level_entries[3],
                           s->stats.iotlb_hits + s->stats.last_hits,
                           s->stats.last_hits, s->stats.iotlb_misses,
                           s->stats.iotlb_line_fills);
    g_string_append_printf(out, "Paging-structure cache: %" PRIu64 " walks "
                           "began at a cached leaf table\n",
                           s->stats.leaf_table_hits);
    if (vtd_gsts(s, R_GSTS_SIRTP_MASK)) {
        g_string_append_printf(out, "Interrupt entry cache: %lu of %u "
                               "entries\n",
                               bitmap_count_one(s->iec_valid, s->iec_entries),
                               s->iec_entries);
    }
    if (s->caching_mode) {
        g_string_append_printf(out, "Caching mode: %" PRIu64 " MAP, %" PRIu64
                               " UNMAP notifications\n",
                               s->stats.shadow_maps, s->stats.shadow_unmaps);
    }
}

static void vtd_info_faults(GString *out, IntelIOMMUState *s)
{
    unsigned n = ARRAY_SIZE(s->fault_log);
    uint64_t first = s->faults_seen > n ? s->faults_seen - n : 0;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    g_string_append_printf(out, "Faults: %" PRIu64 " seen", s->faults_seen);
    if (s->faults_seen) {
        g_string_append(out, ", the last ones:");
    }
    g_string_append_c(out, '\n');
    for (uint64_t i = first; i < s->faults_seen; i++) {
        const struct VTDFaultLogEntry *f = &s->fault_log[i % n];

        g_string_append_printf(out, "  %8.3fs ago  %02x:%02x.%x  reason "
                               "0x%02x  %s 0x%" PRIx64 "%s\n",
                               (now - f->when_ns) / 1e9, f->sid >> 8,
                               PCI_SLOT(f->sid & 0xff),
                               PCI_FUNC(f->sid & 0xff), f->reason,
                               f->reason >= VTD_FR_IR_REQ_RESERVED ?
                               "interrupt" : f->is_write ? "write" : "read",
                               f->reason >= VTD_FR_IR_REQ_RESERVED ?
                               f->addr >> 48 : f->addr,
                               f->recorded ? "" : "  (not recorded: "
                               "overflow)");
    }
}

GString *vtd_info_text(IntelIOMMUState *s)
{
    GString *out = g_string_new("");

    QEMU_LOCK_GUARD(&s->lock);
    vtd_info_config(out, s);
    vtd_info_enabled(out, s);
    vtd_info_devices(out, s);
    vtd_info_caches(out, s);
    vtd_info_faults(out, s);
    return out;
}

static IntelIOMMUState *vtd_find(void)
{
    Object *obj = object_resolve_path_type("", TYPE_INTEL_IOMMU_DEVICE,
                                           NULL);

    return obj ? INTEL_IOMMU_DEVICE(obj) : NULL;
}

HumanReadableText *qmp_x_query_intel_iommu(Error **errp)
{
    IntelIOMMUState *s = vtd_find();
    g_autoptr(GString) out = NULL;

    if (!s) {
        error_setg(errp, "No intel-iommu device");
        return NULL;
    }
    out = vtd_info_text(s);
    return human_readable_text_from_str(out);
}

void hmp_info_intel_iommu(Monitor *mon, const QDict *qdict)
{
    IntelIOMMUState *s = vtd_find();
    g_autoptr(GString) out = NULL;

    if (!s) {
        monitor_printf(mon, "No intel-iommu device\n");
        return;
    }
    out = vtd_info_text(s);
    monitor_puts(mon, out->str);
}
