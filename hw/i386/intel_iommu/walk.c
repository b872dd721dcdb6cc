/*
 * Intel VT-d emulation: table walks
 *
 * Root table -> context entry -> second-stage page table, as chapter 3.4.2
 * and 3.6 describe them, and the first-stage (IA-32e) tables of scalable
 * mode (3.5); pasid.c walks scalable mode's context and PASID structures.
 * Walks read guest memory and return a typed result: either what the
 * tables say, or the fault reason of 7.1.3 that the caller reports.  The
 * only writes are the accessed and dirty bits a first-stage walk sets
 * (3.5.3); the only device state they change is the paging-structure
 * cache of second-stage leaf tables (6.2.4), under s->lock.  The number
 * of levels is bounded by the context or PASID entry, so no table layout
 * can make a walk loop.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "exec/address-spaces.h"
#include "hw/i386/intel_iommu_internal.h"
#include "trace.h"

/*
 * Host pointer to the guest-RAM page @page, or NULL if it is not RAM that
 * can be read directly.  Successive walks mostly read the same upper-level
 * tables, so the page each slot read last is remembered until guest
 * memory's layout changes.  Called under the RCU read lock, which keeps a
 * RAM block mapped while a walk uses it.
 */
static const uint8_t *vtd_table_map(IntelIOMMUState *s, unsigned slot,
                                    hwaddr page)
{
    MemoryRegion *mr;
    hwaddr xlat, len = 1 << VTD_PAGE_SHIFT;

    if (s->table_map_gen != qatomic_read_u64(&s->memory_gen)) {
        memset(s->table_map, 0, sizeof(s->table_map));
        s->table_map_gen = qatomic_read_u64(&s->memory_gen);
    }
    if (s->table_map[slot].host && s->table_map[slot].page == page) {
        return s->table_map[slot].host;
    }
    mr = address_space_translate(&address_space_memory, page, &xlat, &len,
                                 false, MEMTXATTRS_UNSPECIFIED);
    if (len < (1 << VTD_PAGE_SHIFT) ||
        !memory_access_is_direct(mr, false, MEMTXATTRS_UNSPECIFIED)) {
        return NULL;
    }
    s->table_map[slot].page = page;
    s->table_map[slot].host = qemu_map_ram_ptr(mr->ram_block, xlat);
    return s->table_map[slot].host;
}

/* vtd_read_qwords() where the page is not the one @slot read last. */
static bool __attribute__((noinline))
vtd_read_qwords_slow(IntelIOMMUState *s, unsigned slot, hwaddr addr,
                     uint64_t *q, unsigned n)
{
    hwaddr page = addr & ~vtd_low_bits(VTD_PAGE_SHIFT);
    const uint8_t *host = vtd_table_map(s, slot, page);
    uint64_t buf[8];

    assert(n <= ARRAY_SIZE(buf));
    if (host) {
        host += addr - page;
        for (unsigned i = 0; i < n; i++) {
            q[i] = ldq_le_p(host + 8 * i);
        }
        return true;
    }
    /* Not plain RAM: the memory API reads it or says there is nothing. */
    if (address_space_read(&address_space_memory, addr,
                           MEMTXATTRS_UNSPECIFIED, buf, 8 * n)) {
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        q[i] = le64_to_cpu(buf[i]);
    }
    return true;
}

/*
 * Read @n (at most 8) quadwords of an entry at @addr, which entries'
 * alignment keeps within one page; false if there is no memory to read.
 * A walk mostly reads the pages its slots read last: that case has no
 * stack frame of its own.
 */
bool vtd_read_qwords(IntelIOMMUState *s, unsigned slot, hwaddr addr,
                     uint64_t *q, unsigned n)
{
    hwaddr page = addr & ~vtd_low_bits(VTD_PAGE_SHIFT);
    const uint8_t *host = s->table_map[slot].host;

    if (likely(host && s->table_map[slot].page == page &&
               s->table_map_gen == qatomic_read_u64(&s->memory_gen))) {
        host += addr - page;
        for (unsigned i = 0; i < n; i++) {
            q[i] = ldq_le_p(host + 8 * i);
        }
        return true;
    }
    return vtd_read_qwords_slow(s, slot, addr, q, n);
}

/* A 64- or 128-bit entry (@hi NULL for 64). */
static bool vtd_read_entry(IntelIOMMUState *s, unsigned slot, hwaddr addr,
                           uint64_t *lo, uint64_t *hi)
{
    uint64_t q[2];

    if (!vtd_read_qwords(s, slot, addr, q, hi ? 2 : 1)) {
        return false;
    }
    *lo = q[0];
    if (hi) {
        *hi = q[1];
    }
    return true;
}

/*
 * Set @bits in the 64-bit paging entry at @addr, atomically where it is
 * RAM, as the hardware's locked update of accessed and dirty flags does.
 */
static void vtd_set_entry_bits(hwaddr addr, uint64_t bits)
{
    MemoryRegion *mr;
    hwaddr xlat, len = 8;

    RCU_READ_LOCK_GUARD();
    mr = address_space_translate(&address_space_memory, addr, &xlat, &len,
                                 true, MEMTXATTRS_UNSPECIFIED);
    if (len == 8 && memory_access_is_direct(mr, true,
                                            MEMTXATTRS_UNSPECIFIED)) {
        uint64_t *host = qemu_map_ram_ptr(mr->ram_block, xlat);

        qatomic_or(host, cpu_to_le64(bits));
        memory_region_set_dirty(mr, xlat, 8);
    } else {
        uint64_t val;

        if (!address_space_read(&address_space_memory, addr,
                                MEMTXATTRS_UNSPECIFIED, &val, 8)) {
            val = cpu_to_le64(le64_to_cpu(val) | bits);
            address_space_write(&address_space_memory, addr,
                                MEMTXATTRS_UNSPECIFIED, &val, 8);
        }
    }
}

static void vtd_memory_commit(MemoryListener *listener)
{
    IntelIOMMUState *s = container_of(listener, IntelIOMMUState,
                                      table_listener);

    /* Listeners run under the BQL: this is the only writer. */
    qatomic_set_u64(&s->memory_gen, s->memory_gen + 1);
}

void vtd_walk_init(IntelIOMMUState *s)
{
    s->memory_gen = 1;
    s->table_listener = (MemoryListener) {
        .name = "intel-iommu-tables",
        .commit = vtd_memory_commit,
        .priority = MEMORY_LISTENER_PRIORITY_MIN,
    };
    memory_listener_register(&s->table_listener, &address_space_memory);
}

void vtd_walk_destroy(IntelIOMMUState *s)
{
    memory_listener_unregister(&s->table_listener);
}

/*
 * Address bits a table or page address may use: the host address width
 * (the DMAR table's HAW, aw-bits), at most the 52 bits entries hold.
 */
static unsigned vtd_haw(IntelIOMMUState *s)
{
    return MIN(s->aw_bits, 52);
}

uint64_t vtd_haw_mask(IntelIOMMUState *s)
{
    return MAKE_64BIT_MASK(0, vtd_haw(s));
}

int vtd_walk_context(IntelIOMMUState *s, uint8_t bus, uint8_t devfn,
                     VTDContext *ctx)
{
    hwaddr root = FIELD_EX64(s->root_table, RTADDR, RTA) << VTD_PAGE_SHIFT;
    uint64_t rlo, rhi, clo, chi;
    hwaddr ctp;
    unsigned aw;

    if (FIELD_EX64(s->root_table, RTADDR, TTM) == 1) {
        return vtd_walk_sm_context(s, bus, devfn, VTD_NO_PASID, ctx);
    }
    memset(ctx, 0, sizeof(*ctx));
    RCU_READ_LOCK_GUARD();
    if (!vtd_read_entry(s, VTD_TABLE_ROOT, root + bus * 16, &rlo, &rhi)) {
        return VTD_FR_ROOT_TABLE_INVALID;
    }
    if (!FIELD_EX64(rlo, ROOT_LO, P)) {
        return VTD_FR_ROOT_NOT_PRESENT;
    }
    ctp = FIELD_EX64(rlo, ROOT_LO, CTP) << VTD_PAGE_SHIFT;
    if ((rlo & VTD_ROOT_LO_RSVD) || rhi || (ctp & ~vtd_haw_mask(s))) {
        return VTD_FR_ROOT_RESERVED;
    }
    if (!vtd_read_entry(s, VTD_TABLE_CONTEXT, ctp + devfn * 16, &clo,
                        &chi)) {
        return VTD_FR_CONTEXT_TABLE_INVALID;
    }
    if (!FIELD_EX64(clo, CTX_LO, P)) {
        return VTD_FR_CONTEXT_NOT_PRESENT;
    }

    /* Reported from here on only if FPD is clear (7.1.1 qualified). */
    ctx->fpd = FIELD_EX64(clo, CTX_LO, FPD);
    ctx->tt = FIELD_EX64(clo, CTX_LO, TT);
    ctx->did = FIELD_EX64(chi, CTX_HI, DID);
    ctx->table = FIELD_EX64(clo, CTX_LO, SSPTPTR) << VTD_PAGE_SHIFT;
    aw = FIELD_EX64(chi, CTX_HI, AW);
    ctx->levels = aw + 2;

    if ((clo & VTD_CTX_LO_RSVD) || (chi & VTD_CTX_HI_RSVD) ||
        (ctx->table & ~vtd_haw_mask(s))) {
        return VTD_FR_CONTEXT_RESERVED;
    }
    switch (ctx->tt) {
    case VTD_TT_UNTRANSLATED:
        break;
    case VTD_TT_DEVICE_TLB:
        if (!FIELD_EX64(s->ecap, ECAP, DT)) {
            return VTD_FR_CONTEXT_INVALID;
        }
        break;
    case VTD_TT_PASS_THROUGH:
        if (!FIELD_EX64(s->ecap, ECAP, PT)) {
            return VTD_FR_CONTEXT_INVALID;
        }
        return 0;   /* AW and the table pointer are not used */
    default:
        return VTD_FR_CONTEXT_INVALID;
    }
    /* The depth must be one the unit supports (CAP.SAGAW). */
    if (aw > 4 || !(FIELD_EX64(s->cap, CAP, SAGAW) & (1u << aw))) {
        return VTD_FR_CONTEXT_INVALID;
    }
    return 0;
}

/* Reserved bits of a second-stage entry at @level (1 = 4 KiB leaf). */
static uint64_t vtd_ss_reserved(IntelIOMMUState *s, unsigned level,
                                bool leaf)
{
    uint64_t rsvd = vtd_low_bits(52) & ~vtd_low_bits(vtd_haw(s));

    if (leaf && level > 1) {
        /* A superpage's address is aligned to its size. */
        rsvd |= MAKE_64BIT_MASK(VTD_PAGE_SHIFT,
                                (level - 1) * VTD_SS_LEVEL_BITS);
    }
    return rsvd;
}

/*
 * The same conditions have reasons of their own in scalable mode (7.1.3):
 * the second stage's legacy reason and its scalable-mode counterpart.
 */
static int vtd_ss_fault(const VTDContext *ctx, int legacy)
{
    if (!ctx->scalable) {
        return legacy;
    }
    switch (legacy) {
    case VTD_FR_ADDR_BEYOND_AW:
        return VTD_FR_SM_ADDR_BEYOND_AW;
    case VTD_FR_WRITE_DENIED:
        return VTD_FR_SM_WRITE_DENIED;
    case VTD_FR_READ_DENIED:
        return VTD_FR_SM_READ_DENIED;
    case VTD_FR_PAGE_TABLE_INVALID:
        return VTD_FR_SS_TABLE_INVALID;
    default:
        return VTD_FR_SS_RESERVED;
    }
}

int vtd_access_denied(const VTDContext *ctx, bool is_write)
{
    return vtd_ss_fault(ctx, is_write ? VTD_FR_WRITE_DENIED :
                        VTD_FR_READ_DENIED);
}

/*
 * @line: see vtd_walk_second_stage(); NULL where the caller does not
 * want it.  A walk that reaches a 4 KiB leaf caches the leaf table with
 * what the levels above allow, and a later walk in the same 2 MiB region
 * begins there, as long as no invalidation has dropped it.
 */
static int vtd_walk_second_stage_legacy(IntelIOMMUState *s,
                                        const VTDContext *ctx, uint64_t iova,
                                        bool is_write, VTDTranslation *out,
                                        uint64_t *line)
{
    unsigned level = ctx->levels;
    unsigned width = VTD_PAGE_SHIFT + level * VTD_SS_LEVEL_BITS;
    IOMMUAccessFlags upper_perm = IOMMU_RW;
    /* Reserved at every level: address bits beyond the HAW. */
    uint64_t rsvd = vtd_ss_reserved(s, 1, false);
    hwaddr table = ctx->table;
    bool readable = true, writable = true;
    const VTDLeafTable *lt;

    out->has_line = false;
    RCU_READ_LOCK_GUARD();
    /* 3.6: the input address must fit the width the context selects. */
    if (width < 64 && (iova >> MIN(width, s->aw_bits))) {
        return VTD_FR_ADDR_BEYOND_AW;
    }

    lt = vtd_leaf_table_lookup(s, table, level, iova);
    if (lt) {
        upper_perm = lt->upper_perm;
        readable = upper_perm & IOMMU_RO;
        writable = upper_perm & IOMMU_WO;
        table = lt->table;
        level = 1;
        s->stats.leaf_table_hits++;
        trace_vtd_walk_leaf_table(iova, table, upper_perm);
    }

    for (;;) {
        unsigned shift = VTD_PAGE_SHIFT + (level - 1) * VTD_SS_LEVEL_BITS;
        unsigned index = (iova >> shift) & MAKE_64BIT_MASK(0,
                                                           VTD_SS_LEVEL_BITS);
        uint64_t pte;
        bool leaf;

        if (level == 1 && line) {
            /* The leaf with the line around it: one read. */
            if (!vtd_read_qwords(s, VTD_TABLE_LEVEL(1),
                                 table + (index & ~(VTD_LINE_ENTRIES - 1)) *
                                 8, line, VTD_LINE_ENTRIES)) {
                return VTD_FR_PAGE_TABLE_INVALID;
            }
            pte = line[index % VTD_LINE_ENTRIES];
        } else if (!vtd_read_entry(s, VTD_TABLE_LEVEL(level),
                                   table + index * 8, &pte, NULL)) {
            return VTD_FR_PAGE_TABLE_INVALID;
        }
        trace_vtd_walk_level(iova, level, pte);
        readable &= FIELD_EX64(pte, SSPTE, R);
        writable &= FIELD_EX64(pte, SSPTE, W);
        if (!FIELD_EX64(pte, SSPTE, R) && !FIELD_EX64(pte, SSPTE, W)) {
            /* Not present. */
            return is_write ? VTD_FR_WRITE_DENIED : VTD_FR_READ_DENIED;
        }

        /* Superpages: 2 MiB at level 2, 1 GiB at level 3 (CAP.SLLPS). */
        leaf = level == 1;
        if (level > 1 && FIELD_EX64(pte, SSPTE, PS)) {
            if (level > 3 ||
                !(FIELD_EX64(s->cap, CAP, SLLPS) & (1u << (level - 2)))) {
                return VTD_FR_PAGE_TABLE_RESERVED;
            }
            leaf = true;
        }
        if (pte & (leaf && level > 1 ? vtd_ss_reserved(s, level, leaf) :
                   rsvd)) {
            return VTD_FR_PAGE_TABLE_RESERVED;
        }
        if (leaf) {
            out->page_mask = MAKE_64BIT_MASK(0, shift);
            out->addr = (pte & MAKE_64BIT_MASK(shift, 52 - shift)) |
                        (iova & out->page_mask);
            out->perm = (readable ? IOMMU_RO : 0) |
                        (writable ? IOMMU_WO : 0);
            out->level = level;
            if (level == 1 && line) {
                out->has_line = true;
                out->upper_perm = upper_perm;
            }
            break;
        }
        upper_perm = (readable ? IOMMU_RO : 0) | (writable ? IOMMU_WO : 0);
        table = FIELD_EX64(pte, SSPTE, ADDR) << VTD_PAGE_SHIFT;
        level--;
        if (level == 1) {
            vtd_leaf_table_fill(s, ctx->table, ctx->levels, iova, table,
                                upper_perm);
        }
    }
    /* The caller checks the access against out->perm (cached or not). */
    return 0;
}

int vtd_walk_second_stage(IntelIOMMUState *s, const VTDContext *ctx,
                          uint64_t iova, bool is_write, VTDTranslation *out,
                          uint64_t *line)
{
    int fault = vtd_walk_second_stage_legacy(s, ctx, iova, is_write, out,
                                             line);

    out->dirty_pending = false;
    return fault ? vtd_ss_fault(ctx, fault) : 0;
}

QEMU_BUILD_BUG_ON(R_SSPTE_R_MASK != (uint64_t)IOMMU_RO ||
                  R_SSPTE_W_MASK != (uint64_t)IOMMU_WO);

/*
 * After vtd_walk_second_stage() found @t for @iova, a 4 KiB leaf in
 * @line: the other leaves of the line that a walk would find present and
 * well-formed, as a mask of their indexes in @line.
 */
unsigned vtd_walk_second_stage_line(IntelIOMMUState *s, uint64_t iova,
                                    const VTDTranslation *t,
                                    const uint64_t *line)
{
    uint64_t rsvd = vtd_ss_reserved(s, 1, true);
    unsigned i, found = 0;

    assert(t->has_line);
    for (i = 0; i < VTD_LINE_ENTRIES; i++) {
        found |= (vtd_line_entry_perm(t, line[i]) && !(line[i] & rsvd)) << i;
    }
    return found & ~(1u << ((iova >> VTD_PAGE_SHIFT) % VTD_LINE_ENTRIES));
}

/* Reserved bits of a first-stage entry at @level (3.5, IA-32e paging). */
static uint64_t vtd_fs_reserved(IntelIOMMUState *s, const VTDContext *ctx,
                                unsigned level, bool leaf)
{
    /* Address bits from the host address width up to bit 51. */
    uint64_t rsvd = vtd_low_bits(52) & ~vtd_low_bits(vtd_haw(s));

    if (!ctx->nxe) {
        rsvd |= R_FSPTE_XD_MASK;
    }
    if (level >= 4) {
        rsvd |= R_FSPTE_PS_MASK;        /* no pages at PML4 and PML5 */
    }
    if (leaf && level > 1) {
        /* Bit 12 is PAT; the rest below the page size must be clear. */
        rsvd |= MAKE_64BIT_MASK(VTD_PAGE_SHIFT + 1,
                                (level - 1) * VTD_SS_LEVEL_BITS - 1);
    }
    return rsvd;
}

/*
 * 3.8: in nested translation, a guest-physical address the first stage
 * uses (a table entry, or its output) goes through the second stage.
 * @refused: the reason when the second stage does not allow the access
 * (0: the second stage's own reasons, for the output address).
 */
static int vtd_nested_gpa(IntelIOMMUState *s, const VTDContext *ctx,
                          hwaddr gpa, bool is_write, int refused,
                          VTDTranslation *t)
{
    VTDContext ss = {
        .scalable = true,
        .levels = ctx->ss_levels,
        .table = ctx->ss_table,
    };
    int fault = vtd_walk_second_stage_legacy(s, &ss, gpa, is_write, t,
                                             NULL);

    if (!fault && !(t->perm & (is_write ? IOMMU_WO : IOMMU_RO))) {
        fault = is_write ? VTD_FR_WRITE_DENIED : VTD_FR_READ_DENIED;
    }
    if (fault) {
        return refused ? refused : vtd_ss_fault(&ss, fault);
    }
    return 0;
}

/*
 * 3.5: first-stage translation of a request without PASID, which the
 * RID_PASID entry's tables translate as a user-mode request (no
 * RID_PRIV): every level must allow user access, and writes need
 * write permission at every level.  Accessed flags are set on the way
 * down, the dirty flag on the leaf for a write (3.5.3).
 */
int vtd_walk_first_stage(IntelIOMMUState *s, const VTDContext *ctx,
                         uint64_t iova, bool is_write, VTDTranslation *out)
{
    unsigned level = ctx->levels;
    unsigned width = VTD_PAGE_SHIFT + level * VTD_SS_LEVEL_BITS;
    hwaddr table = ctx->table;
    bool writable = true, user = true;

    RCU_READ_LOCK_GUARD();
    /* Canonical: the bits above the width repeat its top bit. */
    if (sextract64(iova, 0, width) != (int64_t)iova) {
        return VTD_FR_SM_NOT_CANONICAL;
    }
    for (;;) {
        unsigned shift = VTD_PAGE_SHIFT + (level - 1) * VTD_SS_LEVEL_BITS;
        unsigned index = (iova >> shift) & MAKE_64BIT_MASK(0,
                                                           VTD_SS_LEVEL_BITS);
        hwaddr entry = table + index * 8;
        uint64_t pte, set = 0;
        bool leaf;
        int fault;

        if (ctx->nested) {
            VTDTranslation t;

            fault = vtd_nested_gpa(s, ctx, entry, false,
                                   level == ctx->levels ?
                                   VTD_FR_NESTED_ROOT_DENIED :
                                   VTD_FR_NESTED_ENTRY_DENIED, &t);
            if (fault) {
                return fault;
            }
            entry = t.addr;
        }
        if (!vtd_read_entry(s, VTD_TABLE_LEVEL(level), entry, &pte, NULL)) {
            return VTD_FR_FS_TABLE_INVALID;
        }
        trace_vtd_walk_level(iova, level, pte);
        if (!FIELD_EX64(pte, FSPTE, P)) {
            return VTD_FR_FS_NOT_PRESENT;
        }
        leaf = level == 1 || (level <= 3 && FIELD_EX64(pte, FSPTE, PS));
        if (leaf && level == 3 && !FIELD_EX64(s->cap, CAP, FS1GP)) {
            return VTD_FR_FS_RESERVED;  /* 1 GiB pages not offered */
        }
        if (pte & vtd_fs_reserved(s, ctx, level, leaf)) {
            return VTD_FR_FS_RESERVED;
        }
        writable &= FIELD_EX64(pte, FSPTE, RW);
        user &= FIELD_EX64(pte, FSPTE, US);
        if (leaf) {
            if (!user) {
                return VTD_FR_SM_USER_DENIED;
            }
            if (is_write && !writable) {
                return VTD_FR_SM_WRITE_DENIED;
            }
        }
        if (!FIELD_EX64(pte, FSPTE, A)) {
            set |= R_FSPTE_A_MASK;
        }
        if (leaf && is_write && !FIELD_EX64(pte, FSPTE, D)) {
            set |= R_FSPTE_D_MASK;
        }
        if (set) {
            if (ctx->nested) {
                VTDTranslation t;

                /* The flags are written through the second stage. */
                fault = vtd_nested_gpa(s, ctx, table + index * 8, true,
                                       VTD_FR_NESTED_AD_DENIED, &t);
                if (fault) {
                    return fault;
                }
            }
            vtd_set_entry_bits(entry, set);
            pte |= set;
        }
        if (leaf) {
            bool dirty = FIELD_EX64(pte, FSPTE, D);

            out->page_mask = MAKE_64BIT_MASK(0, shift);
            out->addr = (pte & MAKE_64BIT_MASK(shift, 52 - shift)) |
                        (iova & out->page_mask);
            out->perm = IOMMU_RO | (writable && dirty ? IOMMU_WO : 0);
            out->dirty_pending = writable && !dirty;
            out->level = level;
            if (ctx->nested) {
                VTDTranslation t;

                /* The output is guest-physical too: the smaller page. */
                fault = vtd_nested_gpa(s, ctx, out->addr, is_write, 0, &t);
                if (fault) {
                    return fault;
                }
                out->perm &= t.perm;
                if (t.page_mask < out->page_mask) {
                    out->page_mask = t.page_mask;
                    out->level = t.level;
                }
                out->addr = t.addr;
            }
            return 0;
        }
        table = pte & MAKE_64BIT_MASK(VTD_PAGE_SHIFT,
                                      vtd_haw(s) - VTD_PAGE_SHIFT);
        level--;
    }
}

/*
 * Walks over a range, for the shadow mappings of caching mode (notify.c).
 * A guest can point every entry of a table at the same lower table, so the
 * number of entries one walk reads is bounded: past the budget the walk
 * stops and says so, and the caller treats the rest as unmapped.
 */
#define VTD_RANGE_WALK_BUDGET   (1u << 22)

typedef struct VTDRangeWalk {
    IntelIOMMUState *s;
    uint64_t start;
    uint64_t last;
    VTDLeafFn *fn;
    void *opaque;
    uint32_t budget;
} VTDRangeWalk;

static bool vtd_walk_range_level(VTDRangeWalk *w, hwaddr table,
                                 unsigned level, uint64_t base,
                                 bool readable, bool writable)
{
    IntelIOMMUState *s = w->s;
    unsigned shift = VTD_PAGE_SHIFT + (level - 1) * VTD_SS_LEVEL_BITS;
    unsigned entries = 1u << VTD_SS_LEVEL_BITS;
    uint64_t first = w->start > base ? (w->start - base) >> shift : 0;
    uint64_t last = MIN((w->last - base) >> shift, entries - 1);

    for (uint64_t i = first; i <= last; i++) {
        uint64_t iova = base + (i << shift), pte;
        bool r, wr, leaf;

        if (!w->budget--) {
            qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: more than %u "
                          "table entries under domain tables 0x%" PRIx64
                          ": the rest is not shadowed\n",
                          VTD_RANGE_WALK_BUDGET, table);
            return false;
        }
        if (!vtd_read_entry(s, VTD_TABLE_LEVEL(level), table + i * 8, &pte,
                            NULL)) {
            continue;
        }
        if (!FIELD_EX64(pte, SSPTE, R) && !FIELD_EX64(pte, SSPTE, W)) {
            continue;
        }
        r = readable && FIELD_EX64(pte, SSPTE, R);
        wr = writable && FIELD_EX64(pte, SSPTE, W);
        leaf = level == 1;
        if (level > 1 && FIELD_EX64(pte, SSPTE, PS)) {
            if (level > 3 ||
                !(FIELD_EX64(s->cap, CAP, SLLPS) & (1u << (level - 2)))) {
                continue;           /* a DMA here faults: nothing mapped */
            }
            leaf = true;
        }
        if (pte & vtd_ss_reserved(s, level, leaf)) {
            continue;
        }
        if (!leaf) {
            if (!vtd_walk_range_level(w, FIELD_EX64(pte, SSPTE, ADDR) <<
                                      VTD_PAGE_SHIFT, level - 1, iova,
                                      r, wr)) {
                return false;
            }
        } else if (r || wr) {
            w->fn(w->opaque, iova, 1ULL << shift,
                  pte & MAKE_64BIT_MASK(shift, 52 - shift),
                  (r ? IOMMU_RO : 0) | (wr ? IOMMU_WO : 0));
        }
    }
    return true;
}

bool vtd_walk_range(IntelIOMMUState *s, const VTDContext *ctx,
                    uint64_t start, uint64_t last, VTDLeafFn *fn,
                    void *opaque)
{
    unsigned width = MIN(VTD_PAGE_SHIFT + ctx->levels * VTD_SS_LEVEL_BITS,
                         s->aw_bits);
    VTDRangeWalk w = {
        .s = s,
        .start = start,
        .last = MIN(last, vtd_low_bits(width)),
        .fn = fn,
        .opaque = opaque,
        .budget = VTD_RANGE_WALK_BUDGET,
    };

    RCU_READ_LOCK_GUARD();
    if (w.start > w.last) {
        return true;
    }
    return vtd_walk_range_level(&w, ctx->table, ctx->levels, 0, true, true);
}
