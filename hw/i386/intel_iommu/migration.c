/*
 * Intel VT-d emulation: migration
 *
 * The stream keeps the section of QEMU's previous intel-iommu ("iommu-intel"
 * version 1), so that a guest migrates between the two implementations in
 * both directions: the register bytes up to the first fault record's end,
 * plus the state that GCMD latched (root and interrupt-remapping table
 * pointers) and the invalidation queue's position, expressed the way that
 * stream expresses them.  Fault records beyond the first, which only the
 * fault-records property creates, travel in a section of their own.
 *
 * Caches (context cache, IOTLB, interrupt entry cache) are not migrated:
 * hardware may drop cached entries at any time (6.1), so the destination
 * starts with them empty and refills from the tables.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "migration/vmstate.h"
#include "hw/i386/intel_iommu_internal.h"
#include "trace.h"

static int vtd_pre_save(void *opaque)
{
    IntelIOMMUState *s = opaque;
    struct VTDMigrationImage *m = &s->mig;
    uint64_t iqa = vtd_get_reg64(s, A_IQA);
    unsigned shift = vtd_queue_desc_shift(s);

    m->root = FIELD_DP64(0, RTADDR, RTA,
                         FIELD_EX64(s->root_table, RTADDR, RTA));
    m->intr_root = FIELD_DP64(0, IRTA, IRTA,
                              FIELD_EX64(s->ir_table, IRTA, IRTA));
    m->intr_eime = FIELD_EX64(s->ir_table, IRTA, EIME);
    /* Nothing was latched yet: the previous implementation says 0. */
    m->intr_size = vtd_gsts(s, R_GSTS_SIRTP_MASK) ?
                   2u << FIELD_EX64(s->ir_table, IRTA, S) : 0;
    m->iq = FIELD_DP64(0, IQA, IQA, FIELD_EX64(iqa, IQA, IQA));
    m->iq_size = vtd_queue_descriptors(s);
    m->iq_head = vtd_get_reg64(s, A_IQH) >> shift;
    m->iq_tail = vtd_get_reg64(s, A_IQT) >> shift;
    m->iq_last_desc_type = s->last_desc_type;
    m->next_frcd_reg = s->next_fault_record;
    m->dmar_enabled = vtd_gsts(s, R_GSTS_TE_MASK);
    m->qi_enabled = vtd_gsts(s, R_GSTS_QIE_MASK);
    m->intr_enabled = vtd_gsts(s, R_GSTS_IRE_MASK);
    return 0;
}

/* The registers a destination computes from its own configuration. */
static bool vtd_same_hardware(IntelIOMMUState *s)
{
    if (vtd_get_reg64(s, A_CAP) != s->cap ||
        vtd_get_reg64(s, A_ECAP) != s->ecap) {
        error_report("intel-iommu: the migration source has CAP 0x%" PRIx64
                     " ECAP 0x%" PRIx64 ", this device CAP 0x%" PRIx64
                     " ECAP 0x%" PRIx64 ": start the destination with the "
                     "source's intel-iommu properties and machine type",
                     vtd_get_reg64(s, A_CAP), vtd_get_reg64(s, A_ECAP),
                     s->cap, s->ecap);
        return false;
    }
    return true;
}

static int vtd_post_load(void *opaque, int version_id)
{
    IntelIOMMUState *s = opaque;
    struct VTDMigrationImage *m = &s->mig;
    unsigned shift = vtd_queue_desc_shift(s);
    unsigned records = FIELD_EX64(s->cap, CAP, NFR) + 1;
    uint32_t status = 0;

    if (!vtd_same_hardware(s)) {
        return -EINVAL;
    }
    if (m->intr_size && (!is_power_of_2(m->intr_size) ||
                         m->intr_size < 2 || m->intr_size > 65536)) {
        error_report("intel-iommu: invalid interrupt table size %" PRIu32
                     " in the migration stream", m->intr_size);
        return -EINVAL;
    }
    if (m->next_frcd_reg >= records) {
        error_report("intel-iommu: fault record %u in the migration stream, "
                     "this device has %u", m->next_frcd_reg, records);
        return -EINVAL;
    }
    if (m->iq_head >= vtd_queue_descriptors(s)) {
        error_report("intel-iommu: invalidation queue head %u beyond the "
                     "queue in the migration stream", m->iq_head);
        return -EINVAL;
    }

    /*
     * The root table's translation mode is not in the stream: like the
     * previous implementation, take it from RTADDR.
     */
    s->root_table = (m->root & R_RTADDR_RTA_MASK) |
                    FIELD_DP64(0, RTADDR, TTM,
                               FIELD_EX64(vtd_get_reg64(s, A_RTADDR),
                                          RTADDR, TTM));
    s->ir_table = m->intr_root & R_IRTA_IRTA_MASK;
    if (m->intr_size) {
        s->ir_table = FIELD_DP64(s->ir_table, IRTA, S,
                                 ctz32(m->intr_size) - 1);
    }
    s->ir_table = FIELD_DP64(s->ir_table, IRTA, EIME, m->intr_eime);

    /*
     * GCMD reads as 0 (11.4.4.1); the previous implementation kept the
     * last command in its bytes.
     */
    vtd_set_reg32(s, A_GCMD, 0);
    /* The stream's queue position is what the queue resumes from. */
    vtd_set_reg64(s, A_IQH, (uint64_t)m->iq_head << shift);
    s->last_desc_type = m->iq_last_desc_type;
    s->next_fault_record = m->next_frcd_reg;
    s->last_fault_valid = false;

    status |= m->dmar_enabled ? R_GSTS_TE_MASK : 0;
    status |= m->qi_enabled ? R_GSTS_QIE_MASK : 0;
    status |= m->intr_enabled ? R_GSTS_IRE_MASK : 0;
    vtd_update_reg32(s, A_GSTS, R_GSTS_TE_MASK | R_GSTS_QIE_MASK |
                     R_GSTS_IRE_MASK, status);

    trace_vtd_migration_loaded(s->root_table, s->ir_table,
                               m->iq_head, m->iq_tail);
    vtd_ir_table_latched(s);
    vtd_ir_refresh_users(s);
    vtd_cache_flush(s);
    vtd_address_space_switch_all(s);
    /* Consumers (VFIO, vhost) follow the tables that came in. */
    vtd_notify_context_invalidation(s);
    return 0;
}

/*
 * Fault records 1..NFR, which exist only when the fault-records property
 * asks for more than the previous implementation's single record (the
 * main section carries that one with the other registers).  They form a
 * section of their own, registered only on such devices, rather than a
 * subsection: a default device's section then has the previous layout
 * down to its description (-dump-vmstate), so the static checker finds
 * nothing to report in either direction, and a stream with extra records
 * cannot load into a device without them (unknown section).
 */
#define VTD_EXTRA_RECORDS_SIZE \
    ((VTD_MAX_FAULT_RECORDS - 1) * VTD_FRCD_SIZE)

QEMU_BUILD_BUG_ON(VTD_FRCD_OFFSET + VTD_FRCD_SIZE != VTD_MIGRATED_REGS_SIZE);
QEMU_BUILD_BUG_ON(VTD_MIGRATED_REGS_SIZE + VTD_EXTRA_RECORDS_SIZE >
                  VTD_MMIO_SIZE);

static int vtd_fault_records_pre_save(void *opaque)
{
    IntelIOMMUState *s = opaque;

    s->mig.fault_records = s->cfg.fault_records;
    return 0;
}

static int vtd_fault_records_post_load(void *opaque, int version_id)
{
    IntelIOMMUState *s = opaque;

    if (s->mig.fault_records != s->cfg.fault_records) {
        error_report("intel-iommu: the migration source has %u fault "
                     "records, this device %u: set fault-records=%u",
                     s->mig.fault_records, s->cfg.fault_records,
                     s->mig.fault_records);
        return -EINVAL;
    }
    return 0;
}

/*
 * The main section's field names and sizes are the stream's, not this
 * device's member names: name each field explicitly.
 */
#define VTD_FIELD(_name, _member, _info, _type) {                       \
    .name = (_name),                                                    \
    .offset = offsetof(IntelIOMMUState, _member) +                      \
              type_check(_type, typeof_field(IntelIOMMUState, _member)), \
    .size = sizeof(_type),                                              \
    .info = &(_info),                                                   \
    .flags = VMS_SINGLE,                                                \
}

#define VTD_REG_BYTES(_name, _first, _count) {                          \
    .name = (_name),                                                    \
    .offset = offsetof(IntelIOMMUState, regs) + (_first),               \
    .num = (_count),                                                    \
    .size = 1,                                                          \
    .info = &vmstate_info_uint8,                                        \
    .flags = VMS_ARRAY,                                                 \
}

static const VMStateDescription vtd_vmstate_fault_records = {
    .name = "iommu-intel-fault-records",
    .version_id = 1,
    .minimum_version_id = 1,
    .priority = MIG_PRI_IOMMU,
    .pre_save = vtd_fault_records_pre_save,
    .post_load = vtd_fault_records_post_load,
    .fields = (const VMStateField[]) {
        VTD_FIELD("fault_records", mig.fault_records, vmstate_info_uint8,
                  uint8_t),
        VTD_REG_BYTES("records", VTD_MIGRATED_REGS_SIZE,
                      VTD_EXTRA_RECORDS_SIZE),
        VMSTATE_END_OF_LIST()
    },
};

const VMStateDescription vtd_vmstate = {
    .name = "iommu-intel",
    .version_id = 1,
    .minimum_version_id = 1,
    .priority = MIG_PRI_IOMMU,
    .pre_save = vtd_pre_save,
    .post_load = vtd_post_load,
    .fields = (const VMStateField[]) {
        VTD_FIELD("root", mig.root, vmstate_info_uint64, uint64_t),
        VTD_FIELD("intr_root", mig.intr_root, vmstate_info_uint64, uint64_t),
        VTD_FIELD("iq", mig.iq, vmstate_info_uint64, uint64_t),
        VTD_FIELD("intr_size", mig.intr_size, vmstate_info_uint32, uint32_t),
        VTD_FIELD("iq_head", mig.iq_head, vmstate_info_uint16, uint16_t),
        VTD_FIELD("iq_tail", mig.iq_tail, vmstate_info_uint16, uint16_t),
        VTD_FIELD("iq_size", mig.iq_size, vmstate_info_uint16, uint16_t),
        VTD_FIELD("next_frcd_reg", mig.next_frcd_reg, vmstate_info_uint16,
                  uint16_t),
        VTD_REG_BYTES("csr", 0, VTD_MIGRATED_REGS_SIZE),
        VTD_FIELD("iq_last_desc_type", mig.iq_last_desc_type,
                  vmstate_info_uint8, uint8_t),
        VMSTATE_UNUSED(1),
        VTD_FIELD("dmar_enabled", mig.dmar_enabled, vmstate_info_bool, bool),
        VTD_FIELD("qi_enabled", mig.qi_enabled, vmstate_info_bool, bool),
        VTD_FIELD("intr_enabled", mig.intr_enabled, vmstate_info_bool, bool),
        VTD_FIELD("intr_eime", mig.intr_eime, vmstate_info_bool, bool),
        VMSTATE_END_OF_LIST()
    },
};

void vtd_migration_init(IntelIOMMUState *s)
{
    if (s->cfg.fault_records > 1) {
        vmstate_register(VMSTATE_IF(s), VMSTATE_INSTANCE_ID_ANY,
                         &vtd_vmstate_fault_records, s);
    }
}

void vtd_migration_destroy(IntelIOMMUState *s)
{
    if (s->cfg.fault_records > 1) {
        vmstate_unregister(VMSTATE_IF(s), &vtd_vmstate_fault_records, s);
    }
}
