/*
 * libqos driver for the Intel VT-d remapping unit
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "intel-iommu.h"

/* 11.4.4.1: the one-shot bits of GSTS must not be written back. */
#define QVTD_GSTS_ONE_SHOT  (R_GSTS_SRTP_MASK | R_GSTS_SIRTP_MASK | \
                             R_GSTS_WBF_MASK | R_GSTS_SFL_MASK)

void qvtd_init(QVTD *vtd, QTestState *qts)
{
    memset(vtd, 0, sizeof(*vtd));
    vtd->qts = qts;
    vtd->base = QVTD_BASE;
    vtd->next_page = QVTD_TABLE_MEMORY;
}

uint64_t qvtd_alloc_page(QVTD *vtd)
{
    uint64_t page = vtd->next_page;

    vtd->next_page += 4096;
    qtest_memset(vtd->qts, page, 0, 4096);
    return page;
}

void qvtd_set_root(QVTD *vtd)
{
    vtd->root_table = qvtd_alloc_page(vtd);
    qvtd_writeq(vtd, A_RTADDR, vtd->root_table);
    g_assert(qvtd_global_command(vtd, R_GSTS_SRTP_MASK, true));
}

void qvtd_set_context(QVTD *vtd, uint8_t bus, uint8_t devfn, uint16_t did,
                      unsigned tt, unsigned levels, uint64_t table, bool fpd)
{
    uint64_t root_lo = qtest_readq(vtd->qts, vtd->root_table + bus * 16);
    uint64_t ctx_table, lo, hi;

    if (!(root_lo & R_ROOT_LO_P_MASK)) {
        ctx_table = qvtd_alloc_page(vtd);
        qtest_writeq(vtd->qts, vtd->root_table + bus * 16,
                     ctx_table | R_ROOT_LO_P_MASK);
    } else {
        ctx_table = root_lo & R_ROOT_LO_CTP_MASK;
    }
    lo = FIELD_DP64(0, CTX_LO, P, 1);
    lo = FIELD_DP64(lo, CTX_LO, FPD, fpd);
    lo = FIELD_DP64(lo, CTX_LO, TT, tt);
    lo |= table;
    hi = FIELD_DP64(0, CTX_HI, AW, levels - 2);
    hi = FIELD_DP64(hi, CTX_HI, DID, did);
    qtest_writeq(vtd->qts, ctx_table + devfn * 16, lo);
    qtest_writeq(vtd->qts, ctx_table + devfn * 16 + 8, hi);
}

void qvtd_set_root_scalable(QVTD *vtd)
{
    vtd->root_table = qvtd_alloc_page(vtd);
    qvtd_writeq(vtd, A_RTADDR,
                vtd->root_table | FIELD_DP64(0, RTADDR, TTM, 1));
    g_assert(qvtd_global_command(vtd, R_GSTS_SRTP_MASK, true));
}

/* The 64-bit word at @addr, allocating a page for it to point at if 0. */
static uint64_t qvtd_table_of(QVTD *vtd, uint64_t addr, uint64_t flags)
{
    uint64_t entry = qtest_readq(vtd->qts, addr);

    if (!entry) {
        entry = qvtd_alloc_page(vtd) | flags;
        qtest_writeq(vtd->qts, addr, entry);
    }
    return entry & ~0xfffULL;
}

uint64_t qvtd_set_sm_context(QVTD *vtd, uint8_t bus, uint8_t devfn,
                             unsigned pdts, bool dte, bool fpd)
{
    uint64_t half = vtd->root_table + bus * 16 + (devfn >= 128 ? 8 : 0);
    uint64_t ctx = qvtd_table_of(vtd, half, R_SM_ROOT_P_MASK) +
                   (devfn % 128) * VTD_SM_CTX_SIZE;
    uint64_t dir = qvtd_alloc_page(vtd), lo;

    lo = FIELD_DP64(dir, SM_CTX_LO, P, 1);
    lo = FIELD_DP64(lo, SM_CTX_LO, FPD, fpd);
    lo = FIELD_DP64(lo, SM_CTX_LO, DTE, dte);
    lo = FIELD_DP64(lo, SM_CTX_LO, PDTS, pdts);
    qtest_memset(vtd->qts, ctx, 0, VTD_SM_CTX_SIZE);
    qtest_writeq(vtd->qts, ctx, lo);
    return dir;
}

void qvtd_set_sm_context_paside(QVTD *vtd, uint8_t bus, uint8_t devfn,
                                bool paside)
{
    uint64_t half = vtd->root_table + bus * 16 + (devfn >= 128 ? 8 : 0);
    uint64_t ctx = qvtd_table_of(vtd, half, R_SM_ROOT_P_MASK) +
                   (devfn % 128) * VTD_SM_CTX_SIZE;

    qtest_writeq(vtd->qts, ctx, FIELD_DP64(qtest_readq(vtd->qts, ctx),
                                           SM_CTX_LO, PASIDE, paside));
}

uint64_t qvtd_pasid_entry_addr(QVTD *vtd, uint64_t dir, uint32_t pasid)
{
    uint64_t table = qvtd_table_of(vtd, dir + (pasid >> 6) * 8,
                                   R_PDIRE_P_MASK);

    return table + (pasid & 0x3f) * VTD_PASID_ENTRY_SIZE;
}

void qvtd_set_pasid_entry(QVTD *vtd, uint64_t dir, uint32_t pasid,
                          const QVTDPasidEntry *e)
{
    uint64_t addr = qvtd_pasid_entry_addr(vtd, dir, pasid);
    uint64_t q[3] = {};

    q[0] = FIELD_DP64(0, PASIDE0, P, 1);
    q[0] = FIELD_DP64(q[0], PASIDE0, FPD, e->fpd);
    q[0] = FIELD_DP64(q[0], PASIDE0, PGTT, e->pgtt);
    q[1] = FIELD_DP64(0, PASIDE1, DID, e->did);
    if (e->pgtt == VTD_PGTT_SECOND_STAGE) {
        q[0] = FIELD_DP64(q[0], PASIDE0, AW, e->levels - 2);
        q[0] |= e->table;
    } else if (e->pgtt == VTD_PGTT_FIRST_STAGE ||
               e->pgtt == VTD_PGTT_NESTED) {
        q[2] = FIELD_DP64(0, PASIDE2, FSPM, e->levels == 5);
        q[2] = FIELD_DP64(q[2], PASIDE2, NXE, e->nxe);
        q[2] |= e->table;
    }
    if (e->pgtt == VTD_PGTT_NESTED) {
        q[0] = FIELD_DP64(q[0], PASIDE0, AW, e->ss_levels - 2);
        q[0] |= e->ss_table;
    }
    qtest_memset(vtd->qts, addr, 0, VTD_PASID_ENTRY_SIZE);
    qtest_writeq(vtd->qts, addr + 8, q[1]);
    qtest_writeq(vtd->qts, addr + 16, q[2]);
    qtest_writeq(vtd->qts, addr, q[0]);
}

uint64_t qvtd_fs_map(QVTD *vtd, uint64_t table, unsigned levels,
                     uint64_t iova, uint64_t addr, unsigned leaf_level,
                     bool write, bool user)
{
    uint64_t dir_flags = R_FSPTE_P_MASK | R_FSPTE_RW_MASK | R_FSPTE_US_MASK;
    uint64_t pte;
    unsigned level;

    for (level = levels; level > leaf_level; level--) {
        unsigned shift = VTD_PAGE_SHIFT + (level - 1) * VTD_SS_LEVEL_BITS;

        table = qvtd_table_of(vtd, table + ((iova >> shift) & 0x1ff) * 8,
                              dir_flags);
    }
    pte = addr | R_FSPTE_P_MASK | (write ? R_FSPTE_RW_MASK : 0) |
          (user ? R_FSPTE_US_MASK : 0) |
          (leaf_level > 1 ? R_FSPTE_PS_MASK : 0);
    table += ((iova >> (VTD_PAGE_SHIFT + (leaf_level - 1) *
                         VTD_SS_LEVEL_BITS)) & 0x1ff) * 8;
    qtest_writeq(vtd->qts, table, pte);
    return table;
}

static uint64_t qvtd_pte_addr(uint64_t table, unsigned level, uint64_t iova)
{
    unsigned shift = VTD_PAGE_SHIFT + (level - 1) * VTD_SS_LEVEL_BITS;

    return table + ((iova >> shift) & 0x1ff) * 8;
}

void qvtd_map(QVTD *vtd, uint64_t table, unsigned levels, uint64_t iova,
              uint64_t addr, unsigned leaf_level, bool read, bool write)
{
    unsigned level;
    uint64_t pte;

    for (level = levels; level > leaf_level; level--) {
        uint64_t slot = qvtd_pte_addr(table, level, iova);

        pte = qtest_readq(vtd->qts, slot);
        if (!(pte & (R_SSPTE_R_MASK | R_SSPTE_W_MASK))) {
            pte = qvtd_alloc_page(vtd) | R_SSPTE_R_MASK | R_SSPTE_W_MASK;
            qtest_writeq(vtd->qts, slot, pte);
        }
        table = pte & R_SSPTE_ADDR_MASK;
    }
    pte = addr | (read ? R_SSPTE_R_MASK : 0) | (write ? R_SSPTE_W_MASK : 0);
    if (leaf_level > 1) {
        pte |= R_SSPTE_PS_MASK;
    }
    qtest_writeq(vtd->qts, qvtd_pte_addr(table, leaf_level, iova), pte);
}

uint64_t qvtd_entry_addr(QVTD *vtd, uint64_t table, unsigned levels,
                         uint64_t iova, unsigned level)
{
    unsigned l;

    for (l = levels; l > level; l--) {
        table = qtest_readq(vtd->qts, qvtd_pte_addr(table, l, iova)) &
                R_SSPTE_ADDR_MASK;
    }
    return qvtd_pte_addr(table, level, iova);
}

void qvtd_unmap(QVTD *vtd, uint64_t table, unsigned levels, uint64_t iova,
                unsigned leaf_level)
{
    qtest_writeq(vtd->qts,
                 qvtd_entry_addr(vtd, table, levels, iova, leaf_level), 0);
}

void qvtd_queue_enable(QVTD *vtd, bool wide)
{
    vtd->queue = qvtd_alloc_page(vtd);
    vtd->status_page = qvtd_alloc_page(vtd);
    vtd->queue_tail = 0;
    vtd->queue_wide = wide;
    qvtd_writeq(vtd, A_IQT, 0);
    /* One page: QS = 0. */
    qvtd_writeq(vtd, A_IQA, vtd->queue | (wide ? R_IQA_DW_MASK : 0));
    g_assert(qvtd_global_command(vtd, R_GSTS_QIE_MASK, true));
    g_assert_cmphex(qvtd_readq(vtd, A_IQH), ==, 0);
}

void qvtd_queue_submit(QVTD *vtd, uint64_t lo, uint64_t hi)
{
    unsigned size = vtd->queue_wide ? 32 : 16;
    uint64_t slot = vtd->queue + vtd->queue_tail;

    qtest_memset(vtd->qts, slot, 0, size);
    qtest_writeq(vtd->qts, slot, lo);
    qtest_writeq(vtd->qts, slot + 8, hi);
    vtd->queue_tail = (vtd->queue_tail + size) % 4096;
    qvtd_writeq(vtd, A_IQT, vtd->queue_tail);
}

bool qvtd_queue_wait(QVTD *vtd)
{
    uint32_t seq = ++vtd->wait_seq;
    uint64_t lo = VTD_INV_WAIT;

    lo = FIELD_DP64(lo, INV_WAIT, SW, 1);
    lo = FIELD_DP64(lo, INV_WAIT, SDATA, seq);
    qvtd_queue_submit(vtd, lo, vtd->status_page);
    return qtest_readl(vtd->qts, vtd->status_page) == seq;
}

unsigned qvtd_invalidate_context(QVTD *vtd, unsigned gran, uint16_t did,
                                 uint16_t sid, unsigned fm)
{
    uint64_t cmd;

    if (vtd->queue) {
        cmd = FIELD_DP64(VTD_INV_CONTEXT_CACHE, INV_CC, G, gran);
        cmd = FIELD_DP64(cmd, INV_CC, DID, did);
        cmd = FIELD_DP64(cmd, INV_CC, SID, sid);
        cmd = FIELD_DP64(cmd, INV_CC, FM, fm);
        qvtd_queue_submit(vtd, cmd, 0);
        return qvtd_queue_wait(vtd) ? gran : 0;
    }
    cmd = FIELD_DP64(R_CCMD_ICC_MASK, CCMD, CIRG, gran);
    cmd = FIELD_DP64(cmd, CCMD, DID, did);
    cmd = FIELD_DP64(cmd, CCMD, SID, sid);
    cmd = FIELD_DP64(cmd, CCMD, FM, fm);
    qvtd_writeq(vtd, A_CCMD, cmd);
    cmd = qvtd_readq(vtd, A_CCMD);
    g_assert(!(cmd & R_CCMD_ICC_MASK));
    return FIELD_EX64(cmd, CCMD, CAIG);
}

static unsigned qvtd_invalidate_iotlb_ih(QVTD *vtd, unsigned gran,
                                         uint16_t did, uint64_t addr,
                                         unsigned am, bool ih)
{
    uint32_t iro = FIELD_EX64(qvtd_readq(vtd, A_ECAP), ECAP, IRO) * 16;
    uint64_t cmd, iva;

    iva = FIELD_DP64(addr & R_IVA_ADDR_MASK, IVA, AM, am);
    iva = FIELD_DP64(iva, IVA, IH, ih);
    if (vtd->queue) {
        cmd = FIELD_DP64(VTD_INV_IOTLB, INV_IOTLB, G, gran);
        cmd = FIELD_DP64(cmd, INV_IOTLB, DID, did);
        qvtd_queue_submit(vtd, cmd, iva);
        return qvtd_queue_wait(vtd) ? gran : 0;
    }
    qvtd_writeq(vtd, iro, iva);
    cmd = FIELD_DP64(R_IOTLB_IVT_MASK, IOTLB, IIRG, gran);
    cmd = FIELD_DP64(cmd, IOTLB, DID, did);
    qvtd_writeq(vtd, iro + 8, cmd);
    cmd = qvtd_readq(vtd, iro + 8);
    g_assert(!(cmd & R_IOTLB_IVT_MASK));
    return FIELD_EX64(cmd, IOTLB, IAIG);
}

unsigned qvtd_invalidate_iotlb(QVTD *vtd, unsigned gran, uint16_t did,
                               uint64_t addr, unsigned am)
{
    return qvtd_invalidate_iotlb_ih(vtd, gran, did, addr, am, false);
}

unsigned qvtd_invalidate_iotlb_leaves(QVTD *vtd, uint16_t did, uint64_t addr,
                                      unsigned am)
{
    return qvtd_invalidate_iotlb_ih(vtd, VTD_GRAN_DEVICE_OR_PAGE, did, addr,
                                    am, true);
}

bool qvtd_fault_pop(QVTD *vtd, QVTDFault *fault)
{
    uint32_t fsts = qvtd_readl(vtd, A_FSTS);
    uint32_t frcd;
    uint64_t lo, hi;

    if (!(fsts & R_FSTS_PPF_MASK)) {
        return false;
    }
    frcd = FIELD_EX64(qvtd_readq(vtd, A_CAP), CAP, FRO) * 16 +
           FIELD_EX32(fsts, FSTS, FRI) * 16;
    lo = qvtd_readq(vtd, frcd);
    hi = qvtd_readq(vtd, frcd + 8);
    g_assert(hi & R_FRCD_HI_F_MASK);
    fault->addr = lo;
    fault->sid = FIELD_EX64(hi, FRCD_HI, SID);
    fault->reason = FIELD_EX64(hi, FRCD_HI, FR);
    fault->is_read = FIELD_EX64(hi, FRCD_HI, T1);
    fault->has_pasid = FIELD_EX64(hi, FRCD_HI, PP);
    fault->pasid = FIELD_EX64(hi, FRCD_HI, PV);
    /* F is write-1-to-clear. */
    qvtd_writel(vtd, frcd + 12, R_FRCD_HI_F_MASK >> 32);
    return true;
}

bool qvtd_global_command(QVTD *vtd, uint32_t bit, bool set)
{
    uint32_t status = qvtd_readl(vtd, A_GSTS) & ~QVTD_GSTS_ONE_SHOT;
    uint32_t cmd = set ? status | bit : status & ~bit;
    int tries;

    qvtd_writel(vtd, A_GCMD, cmd);
    for (tries = 0; tries < 1000; tries++) {
        if (!!(qvtd_readl(vtd, A_GSTS) & bit) == set) {
            return true;
        }
    }
    return false;
}
