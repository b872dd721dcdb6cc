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
 * IOTLB (6.2.3): one hash table of leaf translations keyed by (domain,
 * page, level), so a 2 MiB or 1 GiB page is a single entry.  Each entry is
 * also on its domain's list.  A lookup first tries the requester's last
 * hit, then probes each page size the unit supports.  A page-selective
 * invalidation costs the smaller of "pages named" and "entries of that
 * domain", never the size of the whole cache.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "hw/pci/pci.h"
#include "hw/i386/intel_iommu_internal.h"
#include "trace.h"

typedef struct VTDIOTLBDomain {
    QLIST_HEAD(, VTDIOTLBEntry) entries;
    unsigned count;
} VTDIOTLBDomain;

/* Largest leaf level the walk can return: 1 GiB pages (CAP.SLLPS). */
#define VTD_IOTLB_MAX_LEVEL         3

static unsigned vtd_level_shift(unsigned level)
{
    return (level - 1) * VTD_SS_LEVEL_BITS;     /* in 4 KiB pages */
}

static guint vtd_iotlb_hash(gconstpointer v)
{
    const VTDIOTLBEntry *e = v;
    uint64_t h = e->page ^ ((uint64_t)e->did << 40) ^
                 ((uint64_t)e->level << 58);

    h *= 0x9e3779b97f4a7c15ULL;
    return h >> 32;
}

static gboolean vtd_iotlb_equal(gconstpointer a, gconstpointer b)
{
    const VTDIOTLBEntry *ea = a, *eb = b;

    return ea->page == eb->page && ea->did == eb->did &&
           ea->level == eb->level;
}

void vtd_cache_init(IntelIOMMUState *s)
{
    s->context_gen = 1;
    s->iotlb_gen = 1;
    /* Entries are their own keys; freed by whoever takes them out. */
    s->iotlb = g_hash_table_new_full(vtd_iotlb_hash, vtd_iotlb_equal,
                                     g_free, NULL);
    s->iotlb_domains = g_hash_table_new_full(NULL, NULL, NULL, g_free);
}

void vtd_cache_destroy(IntelIOMMUState *s)
{
    g_clear_pointer(&s->iotlb, g_hash_table_destroy);
    g_clear_pointer(&s->iotlb_domains, g_hash_table_destroy);
}

/* Generations skip 0, which marks an empty slot in a requester. */
static uint32_t vtd_next_gen(uint32_t gen)
{
    return gen + 1 ? gen + 1 : 1;
}

/* Drop everything; callers switch the address spaces afterwards. */
void vtd_cache_flush(IntelIOMMUState *s)
{
    s->context_gen = vtd_next_gen(s->context_gen);
    vtd_iotlb_invalidate_all(s);
}

void vtd_cache_reset(IntelIOMMUState *s)
{
    vtd_cache_flush(s);
    memset(&s->stats, 0, sizeof(s->stats));
}

/* The context entry of @vas, from the cache or the tables. */
int vtd_context_get(IntelIOMMUState *s, VTDAddressSpace *vas,
                    const VTDContext **ctx)
{
    int fault;

    if (likely(vas->context_gen == s->context_gen)) {
        s->stats.context_hits++;
        *ctx = &vas->context;
        return 0;
    }
    s->stats.context_misses++;
    fault = vtd_walk_context(s, vtd_address_space_bus(vas), vas->devfn,
                             &vas->context);
    if (fault) {
        vas->context_gen = 0;
        return fault;
    }
    trace_vtd_context_cache_fill(vtd_address_space_bus(vas), vas->devfn,
                                 vas->context.did, vas->context.tt);
    vas->context_gen = s->context_gen;
    *ctx = &vas->context;
    return 0;
}

/*
 * 6.5.1.1 / 6.5.2.1: @fm masks the low function bits of @sid for
 * device-selective requests (0: none, 1: bit 2, 2: bits 2:1, 3: bits 2:0).
 */
void vtd_context_cache_invalidate(IntelIOMMUState *s, unsigned gran,
                                  uint16_t did, uint16_t sid, unsigned fm)
{
    uint16_t sid_mask = ~(uint16_t)(vtd_low_bits(fm) << (3 - fm));
    VTDAddressSpace *vas;

    trace_vtd_context_cache_invalidate(gran, did, sid, fm);
    if (gran == VTD_GRAN_GLOBAL) {
        s->context_gen = vtd_next_gen(s->context_gen);
    }
    memory_region_transaction_begin();
    QLIST_FOREACH(vas, &s->as_list, next) {
        bool cached = vas->context_gen == s->context_gen;
        uint16_t vas_sid = VTD_SID(vtd_address_space_bus(vas), vas->devfn);

        if (gran == VTD_GRAN_DOMAIN && cached && vas->context.did == did) {
            vas->context_gen = 0;
        } else if (gran == VTD_GRAN_DEVICE_OR_PAGE &&
                   (vas_sid & sid_mask) == (sid & sid_mask)) {
            /*
             * Device-selective requests name a domain too; any domain
             * matches here, since invalidating more is always allowed.
             */
            vas->context_gen = 0;
        } else if (gran != VTD_GRAN_GLOBAL) {
            continue;
        }
        /* Pass-through may have started or ended. */
        vtd_address_space_switch(vas);
    }
    memory_region_transaction_commit();
}

static VTDIOTLBDomain *vtd_iotlb_domain(IntelIOMMUState *s, uint16_t did,
                                        bool create)
{
    VTDIOTLBDomain *dom = g_hash_table_lookup(s->iotlb_domains,
                                              GUINT_TO_POINTER(did));

    if (!dom && create) {
        dom = g_new0(VTDIOTLBDomain, 1);
        QLIST_INIT(&dom->entries);
        g_hash_table_insert(s->iotlb_domains, GUINT_TO_POINTER(did), dom);
    }
    return dom;
}

static VTDIOTLBEntry *vtd_iotlb_find(IntelIOMMUState *s, uint16_t did,
                                     uint64_t pfn, unsigned level)
{
    VTDIOTLBEntry key = {
        .page = pfn & ~vtd_low_bits(vtd_level_shift(level)),
        .did = did,
        .level = level,
    };

    return g_hash_table_lookup(s->iotlb, &key);
}

VTDIOTLBEntry *vtd_iotlb_lookup(IntelIOMMUState *s, VTDAddressSpace *vas,
                                uint16_t did, hwaddr iova)
{
    VTDIOTLBEntry *e = vas->last_hit;
    uint64_t pfn = iova >> VTD_PAGE_SHIFT;
    unsigned level;

    if (likely(e && vas->last_hit_gen == s->iotlb_gen && e->did == did &&
               (iova & ~e->mask) == e->iova)) {
        s->stats.iotlb_hits++;
        return e;
    }
    for (level = 1; level <= VTD_IOTLB_MAX_LEVEL; level++) {
        e = vtd_iotlb_find(s, did, pfn, level);
        if (e) {
            s->stats.iotlb_hits++;
            vas->last_hit = e;
            vas->last_hit_gen = s->iotlb_gen;
            return e;
        }
    }
    s->stats.iotlb_misses++;
    return NULL;
}

static void vtd_iotlb_remove(IntelIOMMUState *s, VTDIOTLBDomain *dom,
                             VTDIOTLBEntry *e)
{
    trace_vtd_iotlb_drop(e->did, e->iova, e->level);
    QLIST_REMOVE(e, domain_link);
    dom->count--;
    g_hash_table_remove(s->iotlb, e);       /* frees it */
}

VTDIOTLBEntry *vtd_iotlb_insert(IntelIOMMUState *s, VTDAddressSpace *vas,
                                uint16_t did, hwaddr iova,
                                const VTDTranslation *t)
{
    VTDIOTLBEntry *e, *old;
    VTDIOTLBDomain *dom;

    if (g_hash_table_size(s->iotlb) >= VTD_IOTLB_MAX_ENTRIES) {
        trace_vtd_iotlb_full(g_hash_table_size(s->iotlb));
        vtd_iotlb_invalidate_all(s);
    }
    e = g_new(VTDIOTLBEntry, 1);
    e->level = t->level;
    e->did = did;
    e->mask = t->page_mask;
    e->iova = iova & ~t->page_mask;
    e->page = e->iova >> VTD_PAGE_SHIFT;
    e->addr = t->addr & ~t->page_mask;
    e->perm = t->perm;

    dom = vtd_iotlb_domain(s, did, true);
    old = g_hash_table_lookup(s->iotlb, e);
    if (old) {
        /* Only a lookup that missed inserts, so this is unexpected. */
        vtd_iotlb_remove(s, dom, old);
        s->iotlb_gen = vtd_next_gen(s->iotlb_gen);
    }
    g_hash_table_add(s->iotlb, e);
    QLIST_INSERT_HEAD(&dom->entries, e, domain_link);
    dom->count++;
    vas->last_hit = e;
    vas->last_hit_gen = s->iotlb_gen;
    trace_vtd_iotlb_fill(did, e->iova, e->addr, e->level, e->perm);
    return e;
}

void vtd_iotlb_invalidate_all(IntelIOMMUState *s)
{
    trace_vtd_iotlb_invalidate_all(g_hash_table_size(s->iotlb));
    /* Domains first: their lists point into the entries. */
    g_hash_table_remove_all(s->iotlb_domains);
    g_hash_table_remove_all(s->iotlb);
    s->iotlb_gen = vtd_next_gen(s->iotlb_gen);
}

void vtd_iotlb_invalidate_domain(IntelIOMMUState *s, uint16_t did)
{
    VTDIOTLBDomain *dom = vtd_iotlb_domain(s, did, false);
    VTDIOTLBEntry *e, *next;

    if (!dom) {
        return;
    }
    trace_vtd_iotlb_invalidate_domain(did, dom->count);
    QLIST_FOREACH_SAFE(e, &dom->entries, domain_link, next) {
        g_hash_table_remove(s->iotlb, e);
    }
    g_hash_table_remove(s->iotlb_domains, GUINT_TO_POINTER(did));
    s->iotlb_gen = vtd_next_gen(s->iotlb_gen);
}

/*
 * 6.5.1.2 page-selective: the 2^@am pages from @addr (aligned to that
 * size), and any superpage that overlaps them.
 */
void vtd_iotlb_invalidate_pages(IntelIOMMUState *s, uint16_t did,
                                hwaddr addr, unsigned am)
{
    VTDIOTLBDomain *dom = vtd_iotlb_domain(s, did, false);
    uint64_t first = (addr >> VTD_PAGE_SHIFT) & ~vtd_low_bits(am);
    uint64_t last = first + vtd_low_bits(am);
    uint64_t probes = 0;
    VTDIOTLBEntry *e, *next;
    unsigned level;

    if (!dom) {
        return;
    }
    for (level = 1; level <= VTD_IOTLB_MAX_LEVEL; level++) {
        probes += ((last - first) >> vtd_level_shift(level)) + 1;
    }
    trace_vtd_iotlb_invalidate_pages(did, first << VTD_PAGE_SHIFT, am,
                                     dom->count, probes);

    if (probes > dom->count) {
        /* Fewer entries than pages named: look at each entry. */
        QLIST_FOREACH_SAFE(e, &dom->entries, domain_link, next) {
            uint64_t e_last = e->page +
                              vtd_low_bits(vtd_level_shift(e->level));

            if (e->page <= last && e_last >= first) {
                vtd_iotlb_remove(s, dom, e);
            }
        }
    } else {
        for (level = 1; level <= VTD_IOTLB_MAX_LEVEL; level++) {
            uint64_t step = 1ULL << vtd_level_shift(level);
            uint64_t pfn = first & ~(step - 1);

            for (; pfn <= last; pfn += step) {
                e = vtd_iotlb_find(s, did, pfn, level);
                if (e) {
                    vtd_iotlb_remove(s, dom, e);
                }
            }
        }
    }
    if (!dom->count) {
        g_hash_table_remove(s->iotlb_domains, GUINT_TO_POINTER(did));
    }
    s->iotlb_gen = vtd_next_gen(s->iotlb_gen);
}
