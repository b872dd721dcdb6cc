/*
 * Intel VT-d emulation: the register file
 *
 * The guest may access the window with any size from 1 to 8 bytes at any
 * offset (11.2 only promises defined results for aligned 32/64-bit accesses,
 * so anything else must still be harmless).  An access is cut into the
 * registers it touches; each register then applies its write mask and its
 * write-1-to-clear bits to the byte lanes that were written, and runs its
 * side effects.  Offsets that hold no register read as zero and ignore
 * writes (reserved, 11.1).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "hw/i386/intel_iommu_internal.h"
#include "trace.h"

#define VTD_ALL_ONES        (~0ULL)

/*
 * 11.4.4.1: the guest writes GCMD with every enable bit it wants set, one
 * change at a time.  GCMD itself reads as zero.
 */
static void vtd_write_gcmd(IntelIOMMUState *s, const VTDRegister *reg,
                           uint64_t old, uint64_t written, uint64_t lanes)
{
    const uint32_t before = vtd_get_reg32(s, A_GSTS);
    uint32_t status = before;
    /*
     * Lanes the guest did not write keep their current enables; one-shot
     * status bits are never taken as commands (11.4.4.1's 96FFFFFFh).
     */
    uint32_t enables = status & ~(R_GSTS_SRTP_MASK | R_GSTS_SIRTP_MASK |
                                  R_GSTS_WBF_MASK | R_GSTS_SFL_MASK);
    uint32_t cmd = (enables & ~lanes) | (written & lanes);
    uint32_t changed = (cmd ^ status) & (R_GSTS_TE_MASK | R_GSTS_QIE_MASK |
                                         R_GSTS_IRE_MASK | R_GSTS_CFI_MASK);
    uint32_t one_shot = cmd & (R_GSTS_SRTP_MASK | R_GSTS_SIRTP_MASK |
                               R_GSTS_WBF_MASK | R_GSTS_SFL_MASK);

    trace_vtd_gcmd(cmd, status);
    if (ctpop32(changed | one_shot) > 1) {
        qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: GCMD 0x%08x changes "
                      "more than one command at once (GSTS 0x%08x)\n",
                      cmd, status);
    }

    if (one_shot & R_GSTS_SRTP_MASK) {
        /* 11.4.5: latch RTADDR; the status bit reports the latch. */
        s->root_table = vtd_get_reg64(s, A_RTADDR);
        status |= R_GSTS_SRTP_MASK;
        trace_vtd_root_table_latch(s->root_table);
        /*
         * Software must invalidate both caches next (11.4.4.1); dropping
         * them now is allowed and keeps entries of the old tables from
         * outliving them.
         */
        vtd_cache_flush(s);
    }
    if (one_shot & R_GSTS_SIRTP_MASK) {
        s->ir_table = vtd_get_reg64(s, A_IRTA);
        status |= R_GSTS_SIRTP_MASK;
        trace_vtd_ir_table_latch(s->ir_table);
        vtd_ir_table_latched(s);
    }
    if (one_shot & R_GSTS_SFL_MASK) {
        /* CAP.AFL is 0: there is no advanced fault log to set. */
        qemu_log_mask(LOG_GUEST_ERROR,
                      "intel-iommu: SFL set without advanced fault logging\n");
    }
    /* CAP.RWBF is 0: write-buffer flushing is a no-op, WBFS stays clear. */

    if (changed & R_GSTS_QIE_MASK) {
        status = deposit32(status, R_GSTS_QIE_SHIFT, 1,
                           !!(cmd & R_GSTS_QIE_MASK));
        /* 6.5.2: enabling resets the head; disabling leaves it at the tail */
        vtd_set_reg64(s, A_IQH, 0);
    }
    if ((changed & R_GSTS_IRE_MASK) &&
        FIELD_EX64(s->ecap, ECAP, IR)) {
        status = deposit32(status, R_GSTS_IRE_SHIFT, 1,
                           !!(cmd & R_GSTS_IRE_MASK));
    }
    if ((changed & R_GSTS_CFI_MASK) &&
        FIELD_EX64(s->ecap, ECAP, IR)) {
        status = deposit32(status, R_GSTS_CFI_SHIFT, 1,
                           !!(cmd & R_GSTS_CFI_MASK));
    }
    if (changed & R_GSTS_TE_MASK) {
        status = deposit32(status, R_GSTS_TE_SHIFT, 1,
                           !!(cmd & R_GSTS_TE_MASK));
    }
    vtd_set_reg32(s, A_GSTS, status);
    if ((one_shot & R_GSTS_SIRTP_MASK) ||
        ((status ^ before) & (R_GSTS_IRE_MASK | R_GSTS_CFI_MASK))) {
        vtd_ir_refresh_users(s);
    }
    if (changed & R_GSTS_TE_MASK) {
        trace_vtd_translation_enable(!!(status & R_GSTS_TE_MASK));
    }
    if ((changed & R_GSTS_TE_MASK) || (one_shot & R_GSTS_SRTP_MASK)) {
        vtd_address_space_switch_all(s);
    }
}

static void vtd_write_ccmd(IntelIOMMUState *s, const VTDRegister *reg,
                           uint64_t old, uint64_t written, uint64_t lanes)
{
    uint64_t val = vtd_get_reg64(s, A_CCMD);

    if (val & R_CCMD_ICC_MASK) {
        vtd_inval_ccmd(s, val);
    }
}

static void vtd_write_iotlb(IntelIOMMUState *s, const VTDRegister *reg,
                            uint64_t old, uint64_t written, uint64_t lanes)
{
    uint64_t val = vtd_get_reg64(s, reg->offset);

    if (val & R_IOTLB_IVT_MASK) {
        vtd_inval_iotlb_reg(s, val);
    }
}

static void vtd_write_iqt(IntelIOMMUState *s, const VTDRegister *reg,
                          uint64_t old, uint64_t written, uint64_t lanes)
{
    vtd_inval_queue_run(s);
}

/* Clearing a status cause may end a pending event or resume the queue. */
static void vtd_write_fsts(IntelIOMMUState *s, const VTDRegister *reg,
                           uint64_t old, uint64_t written, uint64_t lanes)
{
    vtd_fault_status_update(s);
    if ((old & R_FSTS_IQE_MASK) &&
        !(vtd_get_reg32(s, A_FSTS) & R_FSTS_IQE_MASK)) {
        vtd_inval_queue_run(s);
    }
}

static void vtd_write_frcd(IntelIOMMUState *s, const VTDRegister *reg,
                           uint64_t old, uint64_t written, uint64_t lanes)
{
    vtd_fault_status_update(s);
}

static void vtd_write_event_control(IntelIOMMUState *s,
                                    const VTDRegister *reg, uint64_t old,
                                    uint64_t written, uint64_t lanes)
{
    vtd_event_control_written(s, reg->offset);
}

static void vtd_write_ics(IntelIOMMUState *s, const VTDRegister *reg,
                          uint64_t old, uint64_t written, uint64_t lanes)
{
    if (!(vtd_get_reg32(s, A_ICS) & R_ICS_IWC_MASK)) {
        vtd_update_reg32(s, A_IECTL, R_FECTL_IP_MASK, 0);
    }
}

/*
 * The register table.  Write masks that depend on the configuration are
 * narrowed in vtd_regs_init().
 */
static const VTDRegister vtd_register_template[] = {
    { "VER",      A_VER,      4 },
    { "CAP",      A_CAP,      8 },
    { "ECAP",     A_ECAP,     8 },
    { "GCMD",     A_GCMD,     4, .write = vtd_write_gcmd },
    { "GSTS",     A_GSTS,     4 },
    { "RTADDR",   A_RTADDR,   8, .rw = MAKE_64BIT_MASK(10, 54) },
    { "CCMD",     A_CCMD,     8, .write = vtd_write_ccmd,
      .rw = R_CCMD_ICC_MASK | R_CCMD_CIRG_MASK | R_CCMD_FM_MASK |
            R_CCMD_SID_MASK | R_CCMD_DID_MASK },
    { "FSTS",     A_FSTS,     4, .write = vtd_write_fsts,
      .w1c = R_FSTS_PFO_MASK | R_FSTS_AFO_MASK | R_FSTS_APF_MASK |
             R_FSTS_IQE_MASK | R_FSTS_ICE_MASK | R_FSTS_ITE_MASK },
    { "FECTL",    A_FECTL,    4, .rw = R_FECTL_IM_MASK,
      .write = vtd_write_event_control },
    { "FEDATA",   A_FEDATA,   4, .rw = 0xffff },
    { "FEADDR",   A_FEADDR,   4, .rw = 0xfffffffc },
    { "FEUADDR",  A_FEUADDR,  4 },
    { "AFLOG",    A_AFLOG,    8 },
    { "PMEN",     A_PMEN,     4 },
    { "PLMBASE",  A_PLMBASE,  4 },
    { "PLMLIMIT", A_PLMLIMIT, 4 },
    { "PHMBASE",  A_PHMBASE,  8 },
    { "PHMLIMIT", A_PHMLIMIT, 8 },
    { "IQH",      A_IQH,      8 },
    { "IQT",      A_IQT,      8, .rw = R_IQT_QT_MASK,
      .write = vtd_write_iqt },
    { "IQA",      A_IQA,      8, .rw = R_IQA_IQA_MASK | R_IQA_QS_MASK },
    { "ICS",      A_ICS,      4, .w1c = R_ICS_IWC_MASK,
      .write = vtd_write_ics },
    { "IECTL",    A_IECTL,    4, .rw = R_FECTL_IM_MASK,
      .write = vtd_write_event_control },
    { "IEDATA",   A_IEDATA,   4, .rw = 0xffffffff },
    { "IEADDR",   A_IEADDR,   4, .rw = 0xfffffffc },
    { "IEUADDR",  A_IEUADDR,  4 },
    { "IQERCD",   A_IQERCD,   8 },
    { "IRTA",     A_IRTA,     8, .rw = R_IRTA_IRTA_MASK | R_IRTA_S_MASK },
    { "IVA",      VTD_IRO_OFFSET, 8,
      .rw = R_IVA_ADDR_MASK | R_IVA_IH_MASK | R_IVA_AM_MASK },
    { "IOTLB",    VTD_IRO_OFFSET + 8, 8, .write = vtd_write_iotlb,
      .rw = R_IOTLB_IVT_MASK | R_IOTLB_IIRG_MASK | R_IOTLB_DR_MASK |
            R_IOTLB_DW_MASK | R_IOTLB_DID_MASK },
};

static void vtd_regs_add(IntelIOMMUState *s, const VTDRegister *reg)
{
    unsigned i;

    assert(s->nr_registers < VTD_MAX_REGISTERS);
    s->registers[s->nr_registers] = *reg;
    for (i = reg->offset / 4; i < (reg->offset + reg->size) / 4; i++) {
        assert(!s->register_at[i]);
        s->register_at[i] = &s->registers[s->nr_registers];
    }
    s->nr_registers++;
}

static VTDRegister *vtd_regs_find(IntelIOMMUState *s, hwaddr offset)
{
    return s->register_at[offset / 4];
}

void vtd_regs_init(IntelIOMMUState *s)
{
    bool eim = FIELD_EX64(s->ecap, ECAP, EIM);
    bool scalable = FIELD_EX64(s->ecap, ECAP, SMTS);
    VTDRegister *reg;
    unsigned i;

    g_free(s->registers);
    g_free(s->register_at);
    s->registers = g_new0(VTDRegister, VTD_MAX_REGISTERS);
    s->register_at = g_new0(VTDRegister *, VTD_MMIO_SIZE / 4);
    s->nr_registers = 0;
    for (i = 0; i < ARRAY_SIZE(vtd_register_template); i++) {
        vtd_regs_add(s, &vtd_register_template[i]);
    }
    /* 11.4.7.4: fault records; only F (bit 127) is guest-writable (RW1C). */
    for (i = 0; i <= FIELD_EX64(s->cap, CAP, NFR); i++) {
        VTDRegister lo = { "FRCD_LO", VTD_FRCD_OFFSET + i * VTD_FRCD_SIZE, 8 };
        VTDRegister hi = { "FRCD_HI", lo.offset + 8, 8,
                           .w1c = R_FRCD_HI_F_MASK,
                           .write = vtd_write_frcd };

        vtd_regs_add(s, &lo);
        vtd_regs_add(s, &hi);
    }

    /* Upper address halves and x2APIC table mode exist only with EIM. */
    if (eim) {
        vtd_regs_find(s, A_FEUADDR)->rw = 0xffffffff;
        vtd_regs_find(s, A_IEUADDR)->rw = 0xffffffff;
        vtd_regs_find(s, A_IRTA)->rw |= R_IRTA_EIME_MASK;
    }
    /* 256-bit descriptors and the scalable-mode root table: 11.4.9.3. */
    if (scalable) {
        vtd_regs_find(s, A_IQA)->rw |= R_IQA_DW_MASK;
    }
    /* Addresses are limited to the host address width. */
    reg = vtd_regs_find(s, A_RTADDR);
    reg->rw &= MAKE_64BIT_MASK(0, s->aw_bits) | R_RTADDR_TTM_MASK;
    vtd_regs_find(s, A_IQA)->rw &= MAKE_64BIT_MASK(0, s->aw_bits);
    vtd_regs_find(s, A_IRTA)->rw &= MAKE_64BIT_MASK(0, s->aw_bits);
    /* Invalidation addresses are DMA addresses: bits above MGAW are ignored */
    vtd_regs_find(s, VTD_IRO_OFFSET)->rw &= MAKE_64BIT_MASK(0, s->aw_bits);
}

void vtd_regs_reset(IntelIOMMUState *s)
{
    memset(s->regs, 0, sizeof(s->regs));
    vtd_set_reg32(s, A_VER, 0x10);              /* version 1.0 */
    vtd_set_reg64(s, A_CAP, s->cap);
    vtd_set_reg64(s, A_ECAP, s->ecap);
    /* 11.4.7.2, 11.4.9.5: event interrupts come out of reset masked. */
    vtd_set_reg32(s, A_FECTL, R_FECTL_IM_MASK);
    vtd_set_reg32(s, A_IECTL, R_FECTL_IM_MASK);
    s->root_table = 0;
    s->ir_table = 0;
    vtd_ir_table_latched(s);
    s->next_fault_record = 0;
    s->last_fault_valid = false;
    s->last_desc_type = 0;
}

uint64_t vtd_regs_read(IntelIOMMUState *s, hwaddr addr, unsigned size)
{
    uint64_t val;

    if (addr + size > VTD_MMIO_SIZE) {
        /* The memory core keeps accesses inside the window. */
        return 0;
    }
    val = ldn_le_p(&s->regs[addr], size);
    trace_vtd_reg_read(addr, size, val);
    return val;
}

/* Apply the bytes @part (already shifted to the register) on @lanes. */
static void vtd_register_store(IntelIOMMUState *s, const VTDRegister *reg,
                               uint64_t part, uint64_t lanes)
{
    uint64_t old = ldn_le_p(&s->regs[reg->offset], reg->size);
    uint64_t written = (old & ~lanes) | (part & lanes);
    uint64_t writable = reg->rw & lanes;
    uint64_t val = (old & ~writable) | (part & writable);

    val &= ~(part & reg->w1c & lanes);
    stn_le_p(&s->regs[reg->offset], reg->size, val);
    if (reg->write) {
        reg->write(s, reg, old, written, lanes);
    }
}

void vtd_regs_write(IntelIOMMUState *s, hwaddr addr, uint64_t val,
                    unsigned size)
{
    trace_vtd_reg_write(addr, size, val);
    if (addr + size > VTD_MMIO_SIZE) {
        return;
    }
    if (addr & (size - 1)) {
        qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: unaligned %u-byte "
                      "register write at 0x%" HWADDR_PRIx "\n", size, addr);
    }
    while (size) {
        const VTDRegister *reg = vtd_regs_find(s, addr);
        unsigned in_reg, shift;
        uint64_t lanes;

        if (!reg) {
            /* Reserved: skip to the next 4-byte slot. */
            in_reg = MIN(size, 4 - (addr & 3));
            qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: write to reserved "
                          "offset 0x%" HWADDR_PRIx " ignored\n", addr);
        } else {
            in_reg = MIN(size, reg->offset + reg->size - addr);
            shift = (addr - reg->offset) * 8;
            lanes = MAKE_64BIT_MASK(shift, in_reg * 8);
            vtd_register_store(s, reg, val << shift, lanes);
        }
        addr += in_reg;
        size -= in_reg;
        val = in_reg < 8 ? val >> (in_reg * 8) : 0;
    }
}
