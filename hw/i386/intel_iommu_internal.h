/*
 * Intel VT-d emulation: declarations shared by the files of the device.
 *
 * Layering, from the bottom up:
 *   intel_iommu/bits.h      the specification's layouts, by name
 *   intel_iommu/regs.c      the register file and its write semantics
 *   intel_iommu/as.c        per-requester address spaces and their switching
 *   intel_iommu.c           QOM type, properties, realize/reset, MMIO dispatch
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_I386_INTEL_IOMMU_INTERNAL_H
#define HW_I386_INTEL_IOMMU_INTERNAL_H

#include "hw/i386/intel_iommu.h"
#include "hw/i386/intel_iommu/bits.h"

/*
 * Where the two floating register blocks sit in the window.  The values are
 * the ones the guest finds in ECAP.IRO and CAP.FRO; they are part of the
 * guest-visible hardware and of the migration stream, so they never change.
 */
#define VTD_IRO_OFFSET              0xf0    /* IVA; IOTLB register at +8 */
#define VTD_FRCD_OFFSET             0x220   /* fault records, 16 bytes each */
#define VTD_FRCD_SIZE               16

/* The register bytes that the migration stream carries verbatim. */
#define VTD_MIGRATED_REGS_SIZE      0x230

/* Architectural constants this implementation reports in CAP (11.4.2). */
#define VTD_CAP_ND_VALUE            6       /* 65536 domains */
#define VTD_CAP_MAMV_VALUE          18      /* 1 GiB worth of 4 KiB pages */
#define VTD_CAP_SLLPS_2M_1G         3
#define VTD_ECAP_MHMV_VALUE         15      /* interrupt handle mask */

/* 2.2: the interrupt address range that is never DMA-translated. */
#define VTD_INTERRUPT_ADDR_FIRST    ((hwaddr)0xfee00000)
#define VTD_INTERRUPT_ADDR_SIZE     ((hwaddr)0x100000)

/* The low @n bits set; unlike MAKE_64BIT_MASK, defined for 0 and 64. */
static inline uint64_t vtd_low_bits(unsigned n)
{
    return n >= 64 ? UINT64_MAX : (1ULL << n) - 1;
}

/* A requester id as the spec writes it: bus[15:8], devfn[7:0]. */
#define VTD_SID(bus, devfn)         ((uint16_t)(((bus) << 8) | (devfn)))

/*
 * The register file (intel_iommu/regs.c).
 *
 * Each architectural register is described once: which bits the guest may
 * write, which are write-1-to-clear, and what a write sets in motion.  The
 * per-device table is derived from the configuration at realize.
 */
typedef struct VTDRegister VTDRegister;
typedef void VTDRegWriteFn(IntelIOMMUState *s, const VTDRegister *reg,
                           uint64_t old, uint64_t written, uint64_t lanes);

struct VTDRegister {
    const char *name;
    uint16_t offset;
    uint8_t size;                   /* 4 or 8 */
    uint64_t rw;                    /* guest-writable bits */
    uint64_t w1c;                   /* write-1-to-clear bits */
    VTDRegWriteFn *write;           /* side effects, after the store */
};

/* Fault-recording registers the fault-records property may ask for. */
#define VTD_MAX_FAULT_RECORDS       64

/* Room for the architectural registers and the fault records. */
#define VTD_MAX_REGISTERS           (32 + 2 * VTD_MAX_FAULT_RECORDS)

void vtd_regs_init(IntelIOMMUState *s);
void vtd_regs_reset(IntelIOMMUState *s);
uint64_t vtd_regs_read(IntelIOMMUState *s, hwaddr addr, unsigned size);
void vtd_regs_write(IntelIOMMUState *s, hwaddr addr, uint64_t val,
                    unsigned size);

static inline uint32_t vtd_get_reg32(IntelIOMMUState *s, hwaddr addr)
{
    return ldl_le_p(&s->regs[addr]);
}

static inline uint64_t vtd_get_reg64(IntelIOMMUState *s, hwaddr addr)
{
    return ldq_le_p(&s->regs[addr]);
}

/* Hardware-side updates: no write masks, no side effects. */
static inline void vtd_set_reg32(IntelIOMMUState *s, hwaddr addr,
                                 uint32_t val)
{
    stl_le_p(&s->regs[addr], val);
}

static inline void vtd_set_reg64(IntelIOMMUState *s, hwaddr addr,
                                 uint64_t val)
{
    stq_le_p(&s->regs[addr], val);
}

static inline void vtd_update_reg32(IntelIOMMUState *s, hwaddr addr,
                                    uint32_t clear, uint32_t set)
{
    vtd_set_reg32(s, addr, (vtd_get_reg32(s, addr) & ~clear) | set);
}

static inline bool vtd_gsts(IntelIOMMUState *s, uint32_t mask)
{
    return vtd_get_reg32(s, A_GSTS) & mask;
}

/* Per-requester address spaces (intel_iommu/as.c). */
VTDAddressSpace *vtd_address_space_get(IntelIOMMUState *s, PCIBus *bus,
                                       int devfn);
void vtd_address_space_switch(VTDAddressSpace *vas);
void vtd_address_space_switch_all(IntelIOMMUState *s);
bool vtd_address_space_translates(VTDAddressSpace *vas);
uint8_t vtd_address_space_bus(VTDAddressSpace *vas);
void vtd_address_spaces_init(IntelIOMMUState *s);

/*
 * Table walks (intel_iommu/walk.c, pasid.c): 0 or a VTD_FR_* fault
 * reason, with VTD_FR_SUPPRESSED added when a fault processing disable
 * bit on the way says not to record it (7.1.1, qualified faults).
 */
#define VTD_FR_SUPPRESSED   0x100
#define VTD_FR_REASON(f)    ((f) & 0xff)

typedef struct VTDTranslation {
    hwaddr addr;                    /* output address of the access */
    uint64_t page_mask;             /* offset bits of the page found */
    IOMMUAccessFlags perm;
    uint8_t level;                  /* 1: 4 KiB, 2: 2 MiB, 3: 1 GiB */
    /*
     * First stage: writable, but its dirty bit is still clear, so the
     * entry allows reads only and a write walks again to set the bit.
     */
    bool dirty_pending;
    /*
     * Second stage: a 4 KiB leaf whose line the walk read, and what the
     * levels above it allow (for vtd_walk_second_stage_line()).
     */
    bool has_line;
    IOMMUAccessFlags upper_perm;
} VTDTranslation;

/* Leaf entries per 64-byte line of a page table. */
#define VTD_LINE_ENTRIES    8

/* Slots of s->table_map: one per kind of table a walk reads. */
#define VTD_TABLE_ROOT      0
#define VTD_TABLE_CONTEXT   1
#define VTD_TABLE_LEVEL(l)  (1 + (l))       /* paging level 1..5 */
#define VTD_TABLE_PASID_DIR 7
#define VTD_TABLE_PASID     8

void vtd_walk_init(IntelIOMMUState *s);
void vtd_walk_destroy(IntelIOMMUState *s);
bool vtd_read_qwords(IntelIOMMUState *s, unsigned slot, hwaddr addr,
                     uint64_t *q, unsigned n);
uint64_t vtd_haw_mask(IntelIOMMUState *s);
int vtd_walk_context(IntelIOMMUState *s, uint8_t bus, uint8_t devfn,
                     VTDContext *ctx);
/*
 * @line: NULL, or room for VTD_LINE_ENTRIES entries, where a walk that
 * ends in a 4 KiB leaf puts the 64-byte line of the table around it
 * (out->has_line).
 */
int vtd_walk_second_stage(IntelIOMMUState *s, const VTDContext *ctx,
                          uint64_t iova, bool is_write, VTDTranslation *out,
                          uint64_t *line);
unsigned vtd_walk_second_stage_line(IntelIOMMUState *s, uint64_t iova,
                                    const VTDTranslation *t,
                                    const uint64_t *line);

/*
 * What a 4 KiB leaf entry @pte of the line vtd_walk_second_stage() read
 * for @t allows, with the levels above it (R and W are bits 0 and 1 of a
 * second-stage entry, as IOMMU_RO and IOMMU_WO are).
 */
static inline IOMMUAccessFlags vtd_line_entry_perm(const VTDTranslation *t,
                                                   uint64_t pte)
{
    return t->upper_perm & pte & (R_SSPTE_R_MASK | R_SSPTE_W_MASK);
}
int vtd_walk_first_stage(IntelIOMMUState *s, const VTDContext *ctx,
                         uint64_t iova, bool is_write, VTDTranslation *out);
/* The reason for an access @ctx's translation does not permit. */
int vtd_access_denied(const VTDContext *ctx, bool is_write);

/* Scalable mode (intel_iommu/pasid.c) */
/*
 * The PASID of requests without one (translated through RID_PASID), and
 * "every PASID" for invalidations.  Requests with PASID carry 1 to 255
 * (MemTxAttrs.pid): see vtd_attrs_to_index().
 */
#define VTD_NO_PASID        UINT32_MAX
#define VTD_ANY_PASID       (UINT32_MAX - 1)
int vtd_walk_sm_context(IntelIOMMUState *s, uint8_t bus, uint8_t devfn,
                        uint32_t pasid, VTDContext *ctx);
bool vtd_inval_pasid_cache(IntelIOMMUState *s, unsigned gran, uint16_t did,
                           uint32_t pasid);
/*
 * Every present leaf of @ctx's second-stage tables overlapping [start,
 * last], in IOVA order; entries a DMA would fault on are skipped.  Called
 * under s->lock.  False if the walk stopped early (a hostile table).
 */
typedef void VTDLeafFn(void *opaque, uint64_t iova, uint64_t size,
                       hwaddr addr, IOMMUAccessFlags perm);
bool vtd_walk_range(IntelIOMMUState *s, const VTDContext *ctx,
                    uint64_t start, uint64_t last, VTDLeafFn *fn,
                    void *opaque);

/*
 * Caches (intel_iommu/cache.c).  An IOTLB entry is one leaf translation of
 * a domain: a 4 KiB page or a whole superpage, as the walk found it.
 */
struct VTDIOTLBEntry {
    uint64_t page;                  /* iova >> 12, aligned to the level */
    uint32_t pasid;                 /* 0 for RID_PASID and legacy mode */
    uint16_t did;
    uint8_t level;                  /* 1: 4 KiB, 2: 2 MiB, 3: 1 GiB */
    IOMMUAccessFlags perm;
    IOMMUAccessFlags denied;        /* IOMMU_RW & ~perm, for the fast path */
    bool dirty_pending;             /* see VTDTranslation */
    bool retired;                   /* out of the IOTLB, see cache.c */
    uint64_t mask;                  /* offset bits within the page */
    hwaddr iova;                    /* first input address */
    hwaddr addr;                    /* first output address */
    QLIST_ENTRY(VTDIOTLBEntry) domain_link;
    QLIST_ENTRY(VTDIOTLBEntry) hash_link;   /* or the free list */
};

/* Beyond this many entries the IOTLB starts over (a trace says so). */
#define VTD_IOTLB_MAX_ENTRIES       (1u << 17)

/* The context entry of @vas if the context cache holds it, else NULL. */
static inline const VTDContext *vtd_context_cached(IntelIOMMUState *s,
                                                   VTDAddressSpace *vas)
{
    return likely(qatomic_load_acquire(&vas->context_gen) ==
                  qatomic_read(&s->context_gen)) ? &vas->context : NULL;
}

static inline unsigned vtd_recent_hit_slot(hwaddr iova)
{
    return (iova >> VTD_PAGE_SHIFT) % VTD_RECENT_HITS;
}

/*
 * An IOTLB entry covering @iova that @vas's requests without PASID hit
 * lately.  Entries leaving the IOTLB are cleared from the requesters'
 * slots (vtd_iotlb_removed()), and iotlb_gen moves whenever cached
 * context entries go, so such a hit is still in the IOTLB and belongs to
 * the context entry and domain it was found under.
 */
static inline VTDIOTLBEntry *vtd_iotlb_last_hit(IntelIOMMUState *s,
                                                VTDAddressSpace *vas,
                                                hwaddr iova)
{
    VTDIOTLBEntry *e;

    /* The generation first: it is stored after the pointers. */
    if (qatomic_load_acquire(&vas->last_hit_gen) !=
        qatomic_read(&s->iotlb_gen)) {
        return NULL;
    }
    e = qatomic_read(&vas->last_hit);
    if (likely(e && (iova ^ e->iova) <= e->mask)) {
        return e;
    }
    e = qatomic_read(&vas->recent_hits[vtd_recent_hit_slot(iova)]);
    if (e && (iova ^ e->iova) <= e->mask) {
        return e;
    }
    return NULL;
}

/*
 * Paging-structure cache (6.2.4) of second-stage walks: the leaf table
 * of a 2 MiB region, so that a miss next to an earlier one reads one
 * entry instead of one per level.  Called with s->lock held.
 */
static inline uint64_t vtd_leaf_table_region(uint64_t iova)
{
    return iova >> (VTD_PAGE_SHIFT + VTD_SS_LEVEL_BITS);
}

static inline VTDLeafTable *vtd_leaf_table_slot(IntelIOMMUState *s,
                                                hwaddr root, uint64_t iova)
{
    return &s->leaf_tables[(vtd_leaf_table_region(iova) ^
                            (root >> VTD_PAGE_SHIFT)) % VTD_LEAF_TABLES];
}

/* The cached leaf table for @iova under @root, or NULL. */
static inline const VTDLeafTable *vtd_leaf_table_lookup(IntelIOMMUState *s,
                                                        hwaddr root,
                                                        unsigned levels,
                                                        uint64_t iova)
{
    const VTDLeafTable *lt = vtd_leaf_table_slot(s, root, iova);

    if (lt->gen == s->leaf_tables_gen && lt->root == root &&
        lt->levels == levels &&
        lt->region == vtd_leaf_table_region(iova)) {
        return lt;
    }
    return NULL;
}

void vtd_leaf_table_fill(IntelIOMMUState *s, hwaddr root, unsigned levels,
                         uint64_t iova, hwaddr table,
                         IOMMUAccessFlags upper_perm);

void vtd_cache_init(IntelIOMMUState *s);
void vtd_cache_destroy(IntelIOMMUState *s);
void vtd_cache_flush(IntelIOMMUState *s);
void vtd_cache_reset(IntelIOMMUState *s);
/* The _locked functions are called with s->lock held. */
int vtd_context_get(IntelIOMMUState *s, VTDAddressSpace *vas,
                    const VTDContext **ctx);
int vtd_context_fill_locked(IntelIOMMUState *s, VTDAddressSpace *vas,
                            const VTDContext **ctx);

/* The context entry of @vas, from the cache or the tables. */
static inline int vtd_context_get_locked(IntelIOMMUState *s,
                                         VTDAddressSpace *vas,
                                         const VTDContext **ctx)
{
    *ctx = vtd_context_cached(s, vas);
    if (likely(*ctx)) {
        s->stats.context_hits++;
        return 0;
    }
    return vtd_context_fill_locked(s, vas, ctx);
}
int vtd_pasid_context_get_locked(IntelIOMMUState *s, VTDAddressSpace *vas,
                                 uint32_t pasid, const VTDContext **ctx);
void vtd_pasid_contexts_invalidate(IntelIOMMUState *s, uint16_t did,
                                   uint32_t pasid);
void vtd_context_cache_invalidate(IntelIOMMUState *s, unsigned gran,
                                  uint16_t did, uint16_t sid, unsigned fm);
void vtd_rid_pasid_cache_invalidate(IntelIOMMUState *s, uint16_t did);
VTDIOTLBEntry *vtd_iotlb_lookup_locked(IntelIOMMUState *s,
                                       VTDAddressSpace *vas, uint16_t did,
                                       uint32_t pasid, hwaddr iova);
bool vtd_iotlb_cached_locked(IntelIOMMUState *s, uint16_t did,
                             uint32_t pasid, hwaddr iova);
VTDIOTLBEntry *vtd_iotlb_insert_locked(IntelIOMMUState *s,
                                       VTDAddressSpace *vas, uint16_t did,
                                       uint32_t pasid, hwaddr iova,
                                       const VTDTranslation *t);
void vtd_iotlb_drop_locked(IntelIOMMUState *s, VTDIOTLBEntry *e);
void vtd_iotlb_invalidate_all(IntelIOMMUState *s);
void vtd_iotlb_invalidate_domain(IntelIOMMUState *s, uint16_t did,
                                 uint32_t pasid);
/* @leaves_only: the request's IH (only leaf entries changed). */
void vtd_iotlb_invalidate_pages(IntelIOMMUState *s, uint16_t did,
                                uint32_t pasid, hwaddr addr, unsigned am,
                                bool leaves_only);

/* IOMMU notifiers (intel_iommu/notify.c). */
int vtd_notify_flag_changed(IOMMUMemoryRegion *iommu_mr,
                            IOMMUNotifierFlag old, IOMMUNotifierFlag new,
                            Error **errp);
void vtd_replay(IOMMUMemoryRegion *iommu_mr, IOMMUNotifier *n);
void vtd_notify_context_invalidation(IntelIOMMUState *s);
void vtd_notify_iotlb_invalidation(IntelIOMMUState *s, int did, hwaddr addr,
                                   unsigned am);
void vtd_notify_device_iotlb(IntelIOMMUState *s, uint16_t sid, hwaddr addr,
                             uint64_t mask);

/* Faults and events (intel_iommu/fault.c). */
void vtd_fault_record(IntelIOMMUState *s, uint16_t sid, uint32_t pasid,
                      uint64_t addr, unsigned reason, bool is_write);
void vtd_fault_queue_error(IntelIOMMUState *s, unsigned code);
void vtd_fault_status_update(IntelIOMMUState *s);
void vtd_event_raise(IntelIOMMUState *s, hwaddr ctl);
void vtd_event_control_written(IntelIOMMUState *s, hwaddr ctl);

/* Invalidation (intel_iommu/inval.c). */
/*
 * The invalidation queue as IQA describes it (6.5.2): log2 of a
 * descriptor's size in bytes (128 or 256 bits), and how many fit.
 * IQH/IQT count bytes; the migration stream and `info` count descriptors.
 */
static inline unsigned vtd_queue_desc_shift(IntelIOMMUState *s)
{
    return FIELD_EX64(vtd_get_reg64(s, A_IQA), IQA, DW) ? 5 : 4;
}

static inline unsigned vtd_queue_descriptors(IntelIOMMUState *s)
{
    return (4096u << FIELD_EX64(vtd_get_reg64(s, A_IQA), IQA, QS)) >>
           vtd_queue_desc_shift(s);
}

void vtd_inval_ccmd(IntelIOMMUState *s, uint64_t ccmd);
void vtd_inval_iotlb_reg(IntelIOMMUState *s, uint64_t cmd);
void vtd_inval_queue_run(IntelIOMMUState *s);

/* Interrupt remapping (intel_iommu/ir.c): 0, or -EINVAL to drop it. */
int vtd_ir_remap(IntelIOMMUState *s, MSIMessage *src, MSIMessage *dst,
                 uint16_t sid);
void vtd_ir_invalidate(IntelIOMMUState *s, bool global, uint16_t index,
                       unsigned im);
void vtd_ir_table_latched(IntelIOMMUState *s);
void vtd_ir_refresh_users(IntelIOMMUState *s);
void vtd_ir_destroy(IntelIOMMUState *s);
int vtd_ir_int_remap(X86IOMMUState *x86, MSIMessage *src, MSIMessage *dst,
                     uint16_t sid);

/* `info intel-iommu` (intel_iommu/info.c): the text it prints. */
GString *vtd_info_text(IntelIOMMUState *s);

/* The migration stream (intel_iommu/migration.c). */
extern const VMStateDescription vtd_vmstate;
void vtd_migration_init(IntelIOMMUState *s);
void vtd_migration_destroy(IntelIOMMUState *s);

/* DMA translation of one access (intel_iommu/translate.c). */
IOMMUTLBEntry vtd_translate(IOMMUMemoryRegion *iommu_mr, hwaddr addr,
                            IOMMUAccessFlags flag, int iommu_idx);

#endif
