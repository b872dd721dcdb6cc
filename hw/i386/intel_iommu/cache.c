/*
 * Intel VT-d emulation: the context cache and the IOTLB
 *
 * 6.2 lets a remapping unit cache context entries and translations, and
 * 6.5 makes software invalidate them after changing the tables.  A guest
 * that forgets an invalidation keeps using the old entry, here as on
 * hardware; dropping more than asked is always allowed.
 *
 * Context cache (6.2.2): one entry per requester, kept in its
 * VTDAddressSpace and valid while its generation matches the unit's.  A
 * global invalidation bumps the generation; the selective ones clear the
 * requesters they name.  Only present, valid entries are cached.
 *
 * PASID cache (6.2.1): RID_PASID's entry is the requester's context cache
 * entry; the entries of requests with PASID are kept per requester in a
 * hash table, valid while the generation they were read in is current.
 *
 * IOTLB (6.2.3): one hash table of leaf translations keyed by (domain,
 * PASID, page, level), so a 2 MiB or 1 GiB page is a single entry.  Each
 * entry is also on its domain's list.  A lookup first tries the
 * requester's last hit, then probes each page size the IOTLB holds entries
 * of.  A page-selective invalidation costs the smaller of "pages named"
 * and "entries of that domain", never the size of the whole cache.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/lockable.h"
#include "qemu/rcu.h"
#include "hw/pci/pci.h"
#include "hw/i386/intel_iommu_internal.h"
#include "trace.h"

typedef struct VTDIOTLBDomain {
    QLIST_HEAD(, VTDIOTLBEntry) entries;
    unsigned count;
    unsigned tagged;                /* entries of PASIDs other than 0 */
} VTDIOTLBDomain;

/* A PASID entry of requests with PASID, as the PASID cache keeps it. */
typedef struct VTDPasidContext {
    VTDContext ctx;
    uint32_t gen;                   /* the unit's context_gen when read */
} VTDPasidContext;

typedef QLIST_HEAD(, VTDIOTLBEntry) VTDIOTLBBucket;

/* Entries allocated at a time when the free list is empty. */
#define VTD_IOTLB_CHUNK             256

/* The hash table starts with this many buckets and doubles when full. */
#define VTD_IOTLB_MIN_BUCKET_BITS   10

/* Largest leaf level the walk can return: 1 GiB pages (CAP.SLLPS). */
#define VTD_IOTLB_MAX_LEVEL         3

static unsigned vtd_level_shift(unsigned level)
{
    return (level - 1) * VTD_SS_LEVEL_BITS;     /* in 4 KiB pages */
}

static unsigned vtd_iotlb_bucket(IntelIOMMUState *s, uint64_t page,
                                 uint16_t did, uint32_t pasid, unsigned level)
{
    uint64_t h = page ^ ((uint64_t)did << 40) ^ ((uint64_t)level << 58) ^
                 ((uint64_t)pasid << 20);

    return (h * 0x9e3779b97f4a7c15ULL) >> (64 - s->iotlb_bucket_bits);
}

static void vtd_iotlb_alloc_buckets(IntelIOMMUState *s, unsigned bits)
{
    VTDIOTLBBucket *old = s->iotlb_buckets;
    unsigned old_n = old ? 1u << s->iotlb_bucket_bits : 0, i;
    VTDIOTLBEntry *e, *next;

    s->iotlb_buckets = g_new0(VTDIOTLBBucket, 1u << bits);
    s->iotlb_bucket_bits = bits;
    for (i = 0; i < old_n; i++) {
        QLIST_FOREACH_SAFE(e, &old[i], hash_link, next) {
            QLIST_REMOVE(e, hash_link);
            QLIST_INSERT_HEAD(&((VTDIOTLBBucket *)s->iotlb_buckets)
                              [vtd_iotlb_bucket(s, e->page, e->did,
                                                e->pasid, e->level)],
                              e, hash_link);
        }
    }
    g_free(old);
}

static VTDIOTLBEntry *vtd_iotlb_entry_alloc(IntelIOMMUState *s)
{
    VTDIOTLBEntry *e = QLIST_FIRST(&s->iotlb_free);

    if (!e) {
        VTDIOTLBEntry *chunk = g_new(VTDIOTLBEntry, VTD_IOTLB_CHUNK);
        unsigned i;

        g_ptr_array_add(s->iotlb_chunks, chunk);
        for (i = 0; i < VTD_IOTLB_CHUNK; i++) {
            QLIST_INSERT_HEAD(&s->iotlb_free, &chunk[i], hash_link);
        }
        e = QLIST_FIRST(&s->iotlb_free);
    }
    QLIST_REMOVE(e, hash_link);
    e->retired = false;
    return e;
}

/*
 * After 2^32 bumps of a generation, a requester's stamp left from long
 * ago could match again: the requesters forget everything they cached.
 */
static void vtd_forget_stamps(IntelIOMMUState *s)
{
    VTDAddressSpace *vas;

    QLIST_FOREACH(vas, &s->as_list, next) {
        qatomic_set(&vas->context_gen, 0);
        qatomic_set(&vas->last_hit_gen, 0);
        if (vas->pasid_contexts) {
            g_hash_table_remove_all(vas->pasid_contexts);
        }
    }
}

/* Generations skip 0, which marks an empty slot in a requester. */
static void vtd_bump_gen(IntelIOMMUState *s, uint32_t *gen)
{
    if (*gen + 1) {
        qatomic_set(gen, *gen + 1);
        return;
    }
    vtd_forget_stamps(s);
    qatomic_set(gen, 1);
}

/*
 * The entries one invalidation removed, returned to the free list
 * together: one RCU callback per invalidation, not per entry (the RCU
 * thread runs its callbacks under the BQL, and a lazy-mode guest's flush
 * drops hundreds of entries at a time).
 */
typedef struct VTDIOTLBRetired {
    struct rcu_head rcu;
    IntelIOMMUState *owner;
    QLIST_HEAD(, VTDIOTLBEntry) entries;
} VTDIOTLBRetired;

/* RCU callback: no lockless reader can hold the entries any more. */
static void vtd_iotlb_reclaim(VTDIOTLBRetired *batch)
{
    IntelIOMMUState *s = batch->owner;
    VTDIOTLBEntry *e, *next;

    WITH_QEMU_LOCK_GUARD(&s->lock) {
        QLIST_FOREACH_SAFE(e, &batch->entries, hash_link, next) {
            QLIST_REMOVE(e, hash_link);
            QLIST_INSERT_HEAD(&s->iotlb_free, e, hash_link);
        }
    }
    g_free(batch);
}

/*
 * After entries went away: the requesters forget them as recent hits,
 * and they go back to the free list once no lockless reader can hold
 * them.  Only the slots that held them are cleared, so that a strict-mode
 * guest's invalidation of one buffer leaves every device's rings and
 * queues on the fast path.
 */
static void vtd_iotlb_removed(IntelIOMMUState *s)
{
    VTDIOTLBRetired *batch;
    VTDAddressSpace *vas;
    unsigned i;

    if (QLIST_EMPTY(&s->iotlb_retiring)) {
        return;
    }
    QLIST_FOREACH(vas, &s->as_list, next) {
        /*
         * Stale slots are never read, nor cleared here: they may point at
         * entries recycled since.  Current ones point at IOTLB entries,
         * some of them leaving now.
         */
        if (vas->last_hit_gen != s->iotlb_gen) {
            continue;
        }
        if (vas->last_hit && vas->last_hit->retired) {
            qatomic_set(&vas->last_hit, NULL);
        }
        for (i = 0; i < VTD_RECENT_HITS; i++) {
            if (vas->recent_hits[i] && vas->recent_hits[i]->retired) {
                qatomic_set(&vas->recent_hits[i], NULL);
            }
        }
    }
    batch = g_new(VTDIOTLBRetired, 1);
    batch->owner = s;
    QLIST_INIT(&batch->entries);
    QLIST_SWAP(&batch->entries, &s->iotlb_retiring, hash_link);
    call_rcu(batch, vtd_iotlb_reclaim, rcu);
}

void vtd_cache_init(IntelIOMMUState *s)
{
    qemu_rec_mutex_init(&s->lock);
    QLIST_INIT(&s->iotlb_free);
    QLIST_INIT(&s->iotlb_retiring);
    s->iotlb_chunks = g_ptr_array_new_with_free_func(g_free);
    s->context_gen = 1;
    s->iotlb_gen = 1;
    s->leaf_tables_gen = 1;
    vtd_iotlb_alloc_buckets(s, VTD_IOTLB_MIN_BUCKET_BITS);
    s->iotlb_domains = g_hash_table_new_full(NULL, NULL, NULL, g_free);
}

void vtd_cache_destroy(IntelIOMMUState *s)
{
    vtd_iotlb_invalidate_all(s);
    /* Reclaim callbacks touch the chunks and the lock: let them run. */
    drain_call_rcu();
    g_clear_pointer(&s->iotlb_chunks, g_ptr_array_unref);
    g_clear_pointer(&s->iotlb_buckets, g_free);
    g_clear_pointer(&s->iotlb_domains, g_hash_table_destroy);
    qemu_rec_mutex_destroy(&s->lock);
}

/* Drop everything; callers switch the address spaces afterwards. */
void vtd_cache_flush(IntelIOMMUState *s)
{
    QEMU_LOCK_GUARD(&s->lock);
    vtd_bump_gen(s, &s->context_gen);
    vtd_bump_gen(s, &s->iotlb_gen);
    vtd_iotlb_invalidate_all(s);
}

void vtd_leaf_table_fill(IntelIOMMUState *s, hwaddr root, unsigned levels,
                         uint64_t iova, hwaddr table,
                         IOMMUAccessFlags upper_perm)
{
    VTDLeafTable *lt = vtd_leaf_table_slot(s, root, iova);

    lt->root = root;
    lt->region = vtd_leaf_table_region(iova);
    lt->levels = levels;
    lt->table = table;
    lt->upper_perm = upper_perm;
    lt->gen = s->leaf_tables_gen;
}

/*
 * 6.5.1.2 / 6.5.2.3: IOTLB invalidations also invalidate the paging-
 * structure caches of what they cover, except page-selective ones with
 * IH set; context- and PASID-cache invalidations cover the tables below
 * the entries they drop.  Dropping them all is always allowed, and the
 * guests that profit (lazy unmapping) invalidate seldom.
 */
static void vtd_leaf_tables_invalidate_locked(IntelIOMMUState *s)
{
    s->leaf_tables_gen++;
}

void vtd_cache_reset(IntelIOMMUState *s)
{
    vtd_cache_flush(s);
    memset(&s->stats, 0, sizeof(s->stats));
}

/* vtd_context_get_locked() when the context cache misses. */
int vtd_context_fill_locked(IntelIOMMUState *s, VTDAddressSpace *vas,
                            const VTDContext **ctx)
{
    int fault;

    s->stats.context_misses++;
    fault = vtd_walk_context(s, vtd_address_space_bus(vas), vas->devfn,
                             &vas->context);
    if (fault) {
        qatomic_set(&vas->context_gen, 0);
        return fault;
    }
    trace_vtd_context_cache_fill(vtd_address_space_bus(vas), vas->devfn,
                                 vas->context.did, vas->context.tt);
    qatomic_store_release(&vas->context_gen, s->context_gen);
    *ctx = &vas->context;
    return 0;
}

/*
 * The PASID entry of @vas's requests with @pasid (1-255), from the PASID
 * cache or the tables.  Only scalable mode knows PASIDs: in legacy mode
 * such requests are blocked, with no fault to record (VTD_FR_SUPPRESSED).
 */
int vtd_pasid_context_get_locked(IntelIOMMUState *s, VTDAddressSpace *vas,
                                 uint32_t pasid, const VTDContext **ctx)
{
    VTDPasidContext *pc = NULL;
    int fault;

    if (FIELD_EX64(s->root_table, RTADDR, TTM) != 1) {
        return VTD_FR_SUPPRESSED;
    }
    if (vas->pasid_contexts) {
        pc = g_hash_table_lookup(vas->pasid_contexts,
                                 GUINT_TO_POINTER(pasid));
        if (pc && pc->gen == s->context_gen) {
            s->stats.context_hits++;
            *ctx = &pc->ctx;
            return 0;
        }
    } else {
        vas->pasid_contexts = g_hash_table_new_full(NULL, NULL, NULL,
                                                    g_free);
    }
    s->stats.context_misses++;
    if (!pc) {
        pc = g_new0(VTDPasidContext, 1);
        g_hash_table_insert(vas->pasid_contexts, GUINT_TO_POINTER(pasid),
                            pc);
    }
    pc->gen = 0;
    fault = vtd_walk_sm_context(s, vtd_address_space_bus(vas), vas->devfn,
                                pasid, &pc->ctx);
    if (fault) {
        g_hash_table_remove(vas->pasid_contexts, GUINT_TO_POINTER(pasid));
        return fault;
    }
    trace_vtd_pasid_cache_fill(vtd_address_space_bus(vas), vas->devfn,
                               pasid, pc->ctx.did, pc->ctx.tt);
    pc->gen = s->context_gen;
    *ctx = &pc->ctx;
    return 0;
}

static gboolean vtd_pasid_context_matches(gpointer key, gpointer value,
                                          gpointer opaque)
{
    const VTDPasidContext *pc = value;
    const VTDPasidContext *what = opaque;

    return pc->ctx.did == what->ctx.did &&
           (what->ctx.pasid == VTD_ANY_PASID ||
            GPOINTER_TO_UINT(key) == what->ctx.pasid);
}

/*
 * 6.5.2.2, domain- or PASID-selective: drop the cached PASID entries of
 * requests with PASID in domain @did, of @pasid or of any PASID.
 */
void vtd_pasid_contexts_invalidate(IntelIOMMUState *s, uint16_t did,
                                   uint32_t pasid)
{
    VTDPasidContext what = { .ctx = { .did = did, .pasid = pasid } };
    VTDAddressSpace *vas;

    QEMU_LOCK_GUARD(&s->lock);
    vtd_leaf_tables_invalidate_locked(s);
    QLIST_FOREACH(vas, &s->as_list, next) {
        if (vas->pasid_contexts) {
            g_hash_table_foreach_remove(vas->pasid_contexts,
                                        vtd_pasid_context_matches, &what);
        }
    }
}

/*
 * 6.5.1.1 / 6.5.2.1: @fm masks the low function bits of @sid for
 * device-selective requests (0: none, 1: bit 2, 2: bits 2:1, 3: bits 2:0).
 */
static void vtd_context_cache_drop(IntelIOMMUState *s, unsigned gran,
                                   uint16_t did, uint16_t sid, unsigned fm,
                                   bool with_pasid_entries)
{
    uint16_t sid_mask = ~(uint16_t)(vtd_low_bits(fm) << (3 - fm));
    VTDAddressSpace *vas;

    QEMU_LOCK_GUARD(&s->lock);
    trace_vtd_context_cache_invalidate(gran, did, sid, fm);
    if (gran == VTD_GRAN_GLOBAL) {
        vtd_bump_gen(s, &s->context_gen);
    }
    /* The requesters' last hits were found under the old entries. */
    vtd_bump_gen(s, &s->iotlb_gen);
    vtd_leaf_tables_invalidate_locked(s);
    memory_region_transaction_begin();
    QLIST_FOREACH(vas, &s->as_list, next) {
        bool cached = vas->context_gen == s->context_gen;
        uint16_t vas_sid = VTD_SID(vtd_address_space_bus(vas), vas->devfn);

        if (gran == VTD_GRAN_DOMAIN && cached && vas->context.did == did) {
            qatomic_set(&vas->context_gen, 0);
        } else if (gran == VTD_GRAN_DEVICE_OR_PAGE &&
                   (vas_sid & sid_mask) == (sid & sid_mask)) {
            /*
             * Device-selective requests name a domain too; any domain
             * matches here, since invalidating more is always allowed.
             */
            qatomic_set(&vas->context_gen, 0);
        } else if (gran != VTD_GRAN_GLOBAL) {
            continue;
        }
        /* Its PASID entries hang off the context entry. */
        if (with_pasid_entries && vas->pasid_contexts) {
            g_hash_table_remove_all(vas->pasid_contexts);
        }
        /* Pass-through may have started or ended. */
        vtd_address_space_switch(vas);
    }
    memory_region_transaction_commit();
}

void vtd_context_cache_invalidate(IntelIOMMUState *s, unsigned gran,
                                  uint16_t did, uint16_t sid, unsigned fm)
{
    vtd_context_cache_drop(s, gran, did, sid, fm, true);
}

/*
 * 6.5.2.2 for RID_PASID, whose PASID entry is kept as the requesters'
 * context: drop those of domain @did, not the entries of other PASIDs.
 */
void vtd_rid_pasid_cache_invalidate(IntelIOMMUState *s, uint16_t did)
{
    vtd_context_cache_drop(s, VTD_GRAN_DOMAIN, did, 0, 0, false);
}

int vtd_context_get(IntelIOMMUState *s, VTDAddressSpace *vas,
                    const VTDContext **ctx)
{
    QEMU_LOCK_GUARD(&s->lock);
    return vtd_context_get_locked(s, vas, ctx);
}

static inline VTDIOTLBDomain *vtd_iotlb_domain(IntelIOMMUState *s,
                                               uint16_t did, bool create)
{
    VTDIOTLBDomain *dom;

    if (s->last_domain && s->last_domain_id == did) {
        return s->last_domain;
    }
    dom = g_hash_table_lookup(s->iotlb_domains, GUINT_TO_POINTER(did));
    if (!dom && create) {
        dom = g_new0(VTDIOTLBDomain, 1);
        QLIST_INIT(&dom->entries);
        g_hash_table_insert(s->iotlb_domains, GUINT_TO_POINTER(did), dom);
    }
    if (dom) {
        s->last_domain = dom;
        s->last_domain_id = did;
    }
    return dom;
}

static void vtd_iotlb_domain_drop(IntelIOMMUState *s, uint16_t did)
{
    s->last_domain = NULL;
    g_hash_table_remove(s->iotlb_domains, GUINT_TO_POINTER(did));
}

static VTDIOTLBEntry *vtd_iotlb_find(IntelIOMMUState *s, uint16_t did,
                                     uint32_t pasid, uint64_t pfn,
                                     unsigned level)
{
    uint64_t page = pfn & ~vtd_low_bits(vtd_level_shift(level));
    VTDIOTLBBucket *b = &((VTDIOTLBBucket *)s->iotlb_buckets)
                        [vtd_iotlb_bucket(s, page, did, pasid, level)];
    VTDIOTLBEntry *e;

    QLIST_FOREACH(e, b, hash_link) {
        if (e->page == page && e->did == did && e->level == level &&
            e->pasid == pasid) {
            return e;
        }
    }
    return NULL;
}

/* @e, which @iova hit, becomes @vas's last and one of its recent hits. */
static void vtd_iotlb_set_last_hit(IntelIOMMUState *s, VTDAddressSpace *vas,
                                   hwaddr iova, VTDIOTLBEntry *e)
{
    unsigned i;

    if (vas->last_hit_gen != s->iotlb_gen) {
        /*
         * The others may be gone: no lockless reader may trust a slot
         * until they are cleared (generations are never 0).
         */
        qatomic_set(&vas->last_hit_gen, 0);
        smp_wmb();      /* the 0 is seen before any slot is changed */
        for (i = 0; i < VTD_RECENT_HITS; i++) {
            qatomic_set(&vas->recent_hits[i], NULL);
        }
    }
    /* The pointers before the generation: see vtd_iotlb_last_hit(). */
    qatomic_set(&vas->last_hit, e);
    qatomic_set(&vas->recent_hits[vtd_recent_hit_slot(iova)], e);
    qatomic_store_release(&vas->last_hit_gen, s->iotlb_gen);
}

/* The entry translating @iova for @did and @pasid, at any page size. */
static VTDIOTLBEntry *vtd_iotlb_find_any(IntelIOMMUState *s, uint16_t did,
                                         uint32_t pasid, hwaddr iova)
{
    VTDIOTLBEntry *e;
    unsigned level;

    for (level = 1; level <= VTD_IOTLB_MAX_LEVEL; level++) {
        /* Most domains use one page size: skip the others. */
        if (!s->iotlb_level_entries[level]) {
            continue;
        }
        e = vtd_iotlb_find(s, did, pasid, iova >> VTD_PAGE_SHIFT, level);
        if (e) {
            return e;
        }
    }
    return NULL;
}

/* Whether the IOTLB translates @iova for @did and @pasid (no statistics). */
bool vtd_iotlb_cached_locked(IntelIOMMUState *s, uint16_t did,
                             uint32_t pasid, hwaddr iova)
{
    return vtd_iotlb_find_any(s, did, pasid, iova);
}

/*
 * Only translations of requests without PASID become the requester's
 * last hit: vtd_translate()'s fast path serves those alone.
 */
VTDIOTLBEntry *vtd_iotlb_lookup_locked(IntelIOMMUState *s,
                                       VTDAddressSpace *vas, uint16_t did,
                                       uint32_t pasid, hwaddr iova)
{
    /* vtd_translate() tried the recent hits already: go to the table. */
    VTDIOTLBEntry *e = vtd_iotlb_find_any(s, did, pasid, iova);

    if (!e) {
        s->stats.iotlb_misses++;
        return NULL;
    }
    s->stats.iotlb_hits++;
    if (!pasid) {
        vtd_iotlb_set_last_hit(s, vas, iova, e);
    }
    return e;
}

/*
 * Unlink @e from everything; lockless readers may still hold it, so it
 * waits on iotlb_retiring for the caller's vtd_iotlb_removed().
 */
static void vtd_iotlb_remove(IntelIOMMUState *s, VTDIOTLBDomain *dom,
                             VTDIOTLBEntry *e)
{
    trace_vtd_iotlb_drop(e->did, e->pasid, e->iova, e->level);
    QLIST_REMOVE(e, domain_link);
    QLIST_REMOVE(e, hash_link);
    dom->count--;
    dom->tagged -= e->pasid != 0;
    s->iotlb_level_entries[e->level]--;
    s->iotlb_count--;
    e->retired = true;
    QLIST_INSERT_HEAD(&s->iotlb_retiring, e, hash_link);
}

VTDIOTLBEntry *vtd_iotlb_insert_locked(IntelIOMMUState *s,
                                       VTDAddressSpace *vas, uint16_t did,
                                       uint32_t pasid, hwaddr iova,
                                       const VTDTranslation *t)
{
    VTDIOTLBEntry *e;
    VTDIOTLBDomain *dom;

    if (s->iotlb_count >= VTD_IOTLB_MAX_ENTRIES) {
        trace_vtd_iotlb_full(s->iotlb_count);
        vtd_iotlb_invalidate_all(s);
    } else if (s->iotlb_count >= 1u << s->iotlb_bucket_bits) {
        vtd_iotlb_alloc_buckets(s, s->iotlb_bucket_bits + 1);
    }
    e = vtd_iotlb_entry_alloc(s);
    e->level = t->level;
    e->did = did;
    e->pasid = pasid;
    e->mask = t->page_mask;
    e->iova = iova & ~t->page_mask;
    e->page = e->iova >> VTD_PAGE_SHIFT;
    e->addr = t->addr & ~t->page_mask;
    e->perm = t->perm;
    e->denied = IOMMU_RW & ~t->perm;
    e->dirty_pending = t->dirty_pending;

    /*
     * Callers insert after vtd_iotlb_lookup_locked() found nothing at any
     * level under the same lock, so the key is not in the table yet.
     */
    dom = vtd_iotlb_domain(s, did, true);
    QLIST_INSERT_HEAD(&((VTDIOTLBBucket *)s->iotlb_buckets)
                      [vtd_iotlb_bucket(s, e->page, did, pasid, e->level)],
                      e, hash_link);
    QLIST_INSERT_HEAD(&dom->entries, e, domain_link);
    dom->count++;
    dom->tagged += pasid != 0;
    s->iotlb_level_entries[e->level]++;
    s->iotlb_count++;
    if (!pasid) {
        vtd_iotlb_set_last_hit(s, vas, iova, e);
    }
    trace_vtd_iotlb_fill(did, pasid, e->iova, e->addr, e->level, e->perm);
    return e;
}

/* Drop @e alone: its translation is about to be walked again. */
void vtd_iotlb_drop_locked(IntelIOMMUState *s, VTDIOTLBEntry *e)
{
    uint16_t did = e->did;
    VTDIOTLBDomain *dom = vtd_iotlb_domain(s, did, false);

    vtd_iotlb_remove(s, dom, e);
    if (!dom->count) {
        vtd_iotlb_domain_drop(s, did);
    }
    vtd_iotlb_removed(s);
}

static gboolean vtd_iotlb_drop_domain_entries(gpointer key, gpointer value,
                                              gpointer opaque)
{
    IntelIOMMUState *s = opaque;
    VTDIOTLBDomain *dom = value;
    VTDIOTLBEntry *e, *next;

    QLIST_FOREACH_SAFE(e, &dom->entries, domain_link, next) {
        vtd_iotlb_remove(s, dom, e);
    }
    return true;
}

void vtd_iotlb_invalidate_all(IntelIOMMUState *s)
{
    QEMU_LOCK_GUARD(&s->lock);
    trace_vtd_iotlb_invalidate_all(s->iotlb_count);
    vtd_leaf_tables_invalidate_locked(s);
    s->last_domain = NULL;
    g_hash_table_foreach_remove(s->iotlb_domains,
                                vtd_iotlb_drop_domain_entries, s);
    vtd_iotlb_removed(s);
}

/* Domain @did's entries, of @pasid only unless it is VTD_ANY_PASID. */
void vtd_iotlb_invalidate_domain(IntelIOMMUState *s, uint16_t did,
                                 uint32_t pasid)
{
    VTDIOTLBDomain *dom;
    VTDIOTLBEntry *e, *next;

    QEMU_LOCK_GUARD(&s->lock);
    vtd_leaf_tables_invalidate_locked(s);
    dom = vtd_iotlb_domain(s, did, false);
    if (!dom) {
        return;
    }
    trace_vtd_iotlb_invalidate_domain(did, pasid, dom->count);
    QLIST_FOREACH_SAFE(e, &dom->entries, domain_link, next) {
        if (pasid == VTD_ANY_PASID || e->pasid == pasid) {
            vtd_iotlb_remove(s, dom, e);
        }
    }
    if (!dom->count) {
        vtd_iotlb_domain_drop(s, did);
    }
    vtd_iotlb_removed(s);
}

/*
 * 6.5.1.2 page-selective: the 2^@am pages from @addr (aligned to that
 * size), and any superpage that overlaps them; of @pasid, or of every
 * PASID (VTD_ANY_PASID).
 */
void vtd_iotlb_invalidate_pages(IntelIOMMUState *s, uint16_t did,
                                uint32_t pasid, hwaddr addr, unsigned am,
                                bool leaves_only)
{
    uint64_t first = (addr >> VTD_PAGE_SHIFT) & ~vtd_low_bits(am);
    uint64_t last = first + vtd_low_bits(am);
    uint64_t probes = 0;
    VTDIOTLBDomain *dom;
    VTDIOTLBEntry *e, *next;
    unsigned level;

    QEMU_LOCK_GUARD(&s->lock);
    if (!leaves_only) {
        vtd_leaf_tables_invalidate_locked(s);
    }
    dom = vtd_iotlb_domain(s, did, false);
    if (!dom) {
        return;
    }
    for (level = 1; level <= VTD_IOTLB_MAX_LEVEL; level++) {
        if (s->iotlb_level_entries[level]) {
            probes += ((last - first) >> vtd_level_shift(level)) + 1;
        }
    }
    trace_vtd_iotlb_invalidate_pages(did, pasid, first << VTD_PAGE_SHIFT,
                                     am, dom->count, probes);

    /*
     * Probing finds the entries of one PASID: for all of them, probe for
     * PASID 0 when the domain has no others.
     */
    if (pasid == VTD_ANY_PASID && !dom->tagged) {
        pasid = 0;
    }
    if (probes > dom->count || pasid == VTD_ANY_PASID) {
        /* Fewer entries than pages named: look at each entry. */
        QLIST_FOREACH_SAFE(e, &dom->entries, domain_link, next) {
            uint64_t e_last = e->page +
                              vtd_low_bits(vtd_level_shift(e->level));

            if (e->page <= last && e_last >= first &&
                (pasid == VTD_ANY_PASID || e->pasid == pasid)) {
                vtd_iotlb_remove(s, dom, e);
            }
        }
    } else {
        for (level = 1; level <= VTD_IOTLB_MAX_LEVEL; level++) {
            uint64_t step = 1ULL << vtd_level_shift(level);
            uint64_t pfn = first & ~(step - 1);

            if (!s->iotlb_level_entries[level]) {
                continue;
            }
            for (; pfn <= last; pfn += step) {
                e = vtd_iotlb_find(s, did, pasid, pfn, level);
                if (e) {
                    vtd_iotlb_remove(s, dom, e);
                }
            }
        }
    }
    if (!dom->count) {
        vtd_iotlb_domain_drop(s, did);
    }
    vtd_iotlb_removed(s);
}
