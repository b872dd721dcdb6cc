/*
 * Intel VT-d emulation: IOMMU notifiers (vhost, VFIO) and caching mode
 *
 * Consumers that cache translations outside QEMU's memory API register
 * notifiers on a requester's IOMMU region:
 *   - UNMAP notifiers (vhost) hear about IOTLB invalidations (register or
 *     queue) of their domain, and about context invalidations;
 *   - DEVIOTLB_UNMAP notifiers (vhost's device IOTLB, device-iotlb=on with
 *     ats=on) hear about device-TLB invalidations naming their source-id;
 *   - MAP notifiers (VFIO) keep shadow mappings of the guest's tables.
 *     They need caching mode (CAP.CM, 6.1): the guest then invalidates
 *     after creating mappings too, and each invalidation tells the device
 *     which range to look at again.
 *
 * For each MAP notifier the device keeps a shadow of what it told it (an
 * IOVATree of leaf mappings).  An invalidation walks the guest's tables
 * over the invalidated range only and compares them with the shadow:
 * a leaf that is new or changed is unmapped (if something was there) and
 * mapped, a shadowed leaf that is gone is unmapped, the rest is left
 * alone.  So a consumer never hears of a mapping twice, nor misses one,
 * and a page-selective invalidation costs what that range holds.
 *
 * Notifications go to one notifier at a time, cut to the notifier's range
 * (and into naturally aligned blocks, as IOMMUTLBEntry describes them):
 * the memory core refuses an event that sticks out of the range of a
 * notifier it overlaps.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/iova-tree.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "exec/address-spaces.h"
#include "hw/pci/pci.h"
#include "hw/i386/intel_iommu_internal.h"
#include "trace.h"

#define VTD_ALL_ADDRESSES   UINT64_MAX

int vtd_notify_flag_changed(IOMMUMemoryRegion *iommu_mr,
                            IOMMUNotifierFlag old, IOMMUNotifierFlag new,
                            Error **errp)
{
    VTDAddressSpace *vas = container_of(iommu_mr, VTDAddressSpace, iommu_mr);
    IntelIOMMUState *s = vas->iommu;

    if ((new & IOMMU_NOTIFIER_MAP) && !s->caching_mode) {
        error_setg(errp, "intel-iommu: device %02x:%02x.%x needs MAP "
                   "notifications (an assigned device?), which need "
                   "caching-mode=on on the intel-iommu device",
                   vtd_address_space_bus(vas), PCI_SLOT(vas->devfn),
                   PCI_FUNC(vas->devfn));
        return -ENOTSUP;
    }
    trace_vtd_notify_flags(vtd_address_space_bus(vas), vas->devfn, old, new);
    vas->notifier_flags = new;
    if (old == IOMMU_NOTIFIER_NONE && new != IOMMU_NOTIFIER_NONE) {
        QLIST_INSERT_HEAD(&s->notified_list, vas, notified);
    } else if (old != IOMMU_NOTIFIER_NONE && new == IOMMU_NOTIFIER_NONE) {
        QLIST_REMOVE(vas, notified);
        /* The last consumer left (device unplugged): forget its shadows. */
        g_clear_pointer(&vas->shadows, g_hash_table_destroy);
    }
    return 0;
}

/*
 * Send @type for [start, last] to @n, UNMAP or DEVIOTLB_UNMAP, as one
 * event cut to the notifier's range and to the address width (a device
 * holds no translation above it).  The range need not be a power of two:
 * the memory core sends such UNMAPs itself, and the consumers of these
 * events (vhost, with or without its device IOTLB) take any size.  Cut
 * into aligned pieces instead, a global invalidation took some twenty
 * synchronous messages to a vhost-user back-end for each notifier.
 */
static void vtd_notify_range(VTDAddressSpace *vas, IOMMUNotifier *n,
                             IOMMUNotifierFlag type, uint64_t start,
                             uint64_t last)
{
    IOMMUTLBEvent event = { .type = type };

    start = MAX(start, n->start);
    last = MIN(MIN(last, n->end), vtd_low_bits(vas->iommu->aw_bits));
    if (start > last) {
        return;
    }
    event.entry = (IOMMUTLBEntry) {
        .target_as = &address_space_memory,
        .iova = start,
        .addr_mask = last - start,
        .perm = IOMMU_NONE,
    };
    trace_vtd_notify(vtd_address_space_bus(vas), vas->devfn, type, start,
                     last);
    memory_region_notify_iommu_one(n, &event);
}

/* ---- shadows of MAP notifiers ------------------------------------------ */

typedef struct VTDLeaf {
    uint64_t iova;
    uint64_t size;
    hwaddr addr;
    IOMMUAccessFlags perm;
} VTDLeaf;

static void vtd_collect_leaf(void *opaque, uint64_t iova, uint64_t size,
                             hwaddr addr, IOMMUAccessFlags perm)
{
    VTDLeaf leaf = { iova, size, addr, perm };

    g_array_append_val(opaque, leaf);
}

/*
 * What @vas maps over [start, last] now, as the device sees it: through
 * its cached context entry, nothing when translation is off, the context
 * is not present or is pass-through (the address space is then an alias
 * of guest memory and consumers see RAM sections instead).  First-stage
 * tables are not shadowed: guests do not invalidate after mapping in
 * them even in caching mode (Linux 6.1), so shadows could not follow.
 */
static GArray *vtd_current_leaves(VTDAddressSpace *vas, uint64_t start,
                                  uint64_t last)
{
    IntelIOMMUState *s = vas->iommu;
    GArray *leaves = g_array_new(false, false, sizeof(VTDLeaf));
    const VTDContext *ctx;

    QEMU_LOCK_GUARD(&s->lock);
    if (vtd_address_space_translates(vas) &&
        !vtd_context_get_locked(s, vas, &ctx) &&
        ctx->tt != VTD_TT_PASS_THROUGH && !ctx->first_stage) {
        vtd_walk_range(s, ctx, start, last, vtd_collect_leaf, leaves);
    }
    return leaves;
}

static IOVATree *vtd_shadow(VTDAddressSpace *vas, IOMMUNotifier *n,
                            bool fresh)
{
    IOVATree *tree;

    if (!vas->shadows) {
        vas->shadows = g_hash_table_new_full(NULL, NULL, NULL,
                                             (GDestroyNotify)iova_tree_destroy);
    }
    if (fresh) {
        g_hash_table_remove(vas->shadows, n);
    }
    tree = g_hash_table_lookup(vas->shadows, n);
    if (!tree) {
        tree = iova_tree_new();
        g_hash_table_insert(vas->shadows, n, tree);
    }
    return tree;
}

static gboolean vtd_shadow_orphaned(gpointer key, gpointer value,
                                    gpointer opaque)
{
    VTDAddressSpace *vas = opaque;
    IOMMUNotifier *n;

    IOMMU_NOTIFIER_FOREACH(n, &vas->iommu_mr) {
        if (n == key && (n->notifier_flags & IOMMU_NOTIFIER_MAP)) {
            return false;
        }
    }
    return true;
}

/* Forget the shadows of notifiers that are gone (their region left). */
static void vtd_shadow_prune(VTDAddressSpace *vas)
{
    if (vas->shadows) {
        g_hash_table_foreach_remove(vas->shadows, vtd_shadow_orphaned, vas);
    }
}

/* The lowest shadowed leaf overlapping [start, last], or NULL. */
static const DMAMap *vtd_shadow_first(IOVATree *tree, uint64_t start,
                                      uint64_t last)
{
    DMAMap range = { .iova = start, .size = last - start };
    const DMAMap *found = iova_tree_find(tree, &range), *lower;

    while (found && found->iova > start) {
        range.size = found->iova - 1 - start;
        lower = iova_tree_find(tree, &range);
        if (!lower) {
            break;
        }
        found = lower;
    }
    return found;
}

/*
 * Unmap, and forget, every shadowed leaf of @n overlapping [start, last],
 * in IOVA order.
 */
static void vtd_shadow_drop(VTDAddressSpace *vas, IOMMUNotifier *n,
                            IOVATree *tree, uint64_t start, uint64_t last)
{
    const DMAMap *found;

    while ((found = vtd_shadow_first(tree, start, last))) {
        DMAMap old = *found;
        IOMMUTLBEvent event = {
            .type = IOMMU_NOTIFIER_UNMAP,
            .entry = {
                .target_as = &address_space_memory,
                .iova = old.iova,
                .addr_mask = old.size,
                .perm = IOMMU_NONE,
            },
        };

        iova_tree_remove(tree, old);
        trace_vtd_shadow_unmap(vtd_address_space_bus(vas), vas->devfn,
                               old.iova, old.size + 1);
        vas->iommu->stats.shadow_unmaps++;
        memory_region_notify_iommu_one(n, &event);
    }
}

static void vtd_shadow_map(VTDAddressSpace *vas, IOMMUNotifier *n,
                           IOVATree *tree, const VTDLeaf *leaf)
{
    DMAMap map = {
        .iova = leaf->iova,
        .translated_addr = leaf->addr,
        .size = leaf->size - 1,
        .perm = leaf->perm,
    };
    IOMMUTLBEvent event = {
        .type = IOMMU_NOTIFIER_MAP,
        .entry = {
            .target_as = &address_space_memory,
            .iova = leaf->iova,
            .translated_addr = leaf->addr,
            .addr_mask = leaf->size - 1,
            .perm = leaf->perm,
        },
    };

    iova_tree_insert(tree, &map);
    trace_vtd_shadow_map(vtd_address_space_bus(vas), vas->devfn, leaf->iova,
                         leaf->size, leaf->addr, leaf->perm);
    vas->iommu->stats.shadow_maps++;
    memory_region_notify_iommu_one(n, &event);
}

static bool vtd_shadow_holds(IOVATree *tree, const VTDLeaf *leaf)
{
    const DMAMap range = { .iova = leaf->iova, .size = leaf->size - 1 };
    const DMAMap *found = iova_tree_find(tree, &range);

    return found && found->iova == leaf->iova &&
           found->size == leaf->size - 1 &&
           found->translated_addr == leaf->addr && found->perm == leaf->perm;
}

/* Bring @n's shadow over [start, last] in line with @leaves. */
static void vtd_shadow_update(VTDAddressSpace *vas, IOMMUNotifier *n,
                              const GArray *leaves, uint64_t start,
                              uint64_t last)
{
    IOVATree *tree = vtd_shadow(vas, n, false);
    uint64_t next = MAX(start, n->start);

    last = MIN(last, n->end);
    if (next > last) {
        return;
    }
    for (unsigned i = 0; i < leaves->len; i++) {
        const VTDLeaf *leaf = &g_array_index(leaves, VTDLeaf, i);
        uint64_t leaf_last = leaf->iova + leaf->size - 1;

        if (leaf_last < next || leaf->iova > last) {
            continue;
        }
        if (leaf->iova < n->start || leaf_last > n->end) {
            /* A superpage across the interrupt window: DMA can't use it. */
            qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: mapping 0x%" PRIx64
                          "+0x%" PRIx64 " overlaps a range the device cannot"
                          " use; not mapped for its notifier\n",
                          leaf->iova, leaf->size);
            continue;
        }
        if (leaf->iova > next) {
            vtd_shadow_drop(vas, n, tree, next, leaf->iova - 1);
        }
        if (!vtd_shadow_holds(tree, leaf)) {
            vtd_shadow_drop(vas, n, tree, leaf->iova, leaf_last);
            vtd_shadow_map(vas, n, tree, leaf);
        }
        if (leaf_last >= last) {
            return;
        }
        next = leaf_last + 1;
    }
    vtd_shadow_drop(vas, n, tree, next, last);
}

/*
 * Resynchronise over [start, last] what @vas's notifiers were told with
 * the tables: MAP notifiers through their shadows, UNMAP-only notifiers
 * by an UNMAP of the whole range.  @only: that notifier alone.
 */
static void vtd_notify_resync(VTDAddressSpace *vas, uint64_t start,
                              uint64_t last, IOMMUNotifier *only)
{
    g_autoptr(GArray) leaves = NULL;
    IOMMUNotifier *n;

    if (vas->notifier_flags & IOMMU_NOTIFIER_MAP) {
        leaves = vtd_current_leaves(vas, start, last);
        trace_vtd_shadow_resync(vtd_address_space_bus(vas), vas->devfn,
                                start, last, leaves->len);
        vtd_shadow_prune(vas);
    }
    IOMMU_NOTIFIER_FOREACH(n, &vas->iommu_mr) {
        if (only && n != only) {
            continue;
        }
        if (n->notifier_flags & IOMMU_NOTIFIER_MAP) {
            vtd_shadow_update(vas, n, leaves, start, last);
        } else if (n->notifier_flags & IOMMU_NOTIFIER_UNMAP) {
            vtd_notify_range(vas, n, IOMMU_NOTIFIER_UNMAP, start, last);
        }
    }
}

/*
 * memory_region_iommu_replay(): tell @n everything mapped now.  A
 * consumer replaying again holds what its shadow says: unmap exactly that
 * first, so that every mapping is then sent once.  A notifier just
 * registered (VFIO replays right after registering) has no shadow and
 * gets no UNMAP: an UNMAP of its whole range would ask VFIO to unmap up
 * to 2^64 bytes, in blocks, while it may not have attached its device yet.
 */
void vtd_replay(IOMMUMemoryRegion *iommu_mr, IOMMUNotifier *n)
{
    VTDAddressSpace *vas = container_of(iommu_mr, VTDAddressSpace, iommu_mr);
    IOVATree *told;

    if (!(n->notifier_flags & IOMMU_NOTIFIER_MAP)) {
        return;
    }
    trace_vtd_replay(vtd_address_space_bus(vas), vas->devfn, n->start,
                     n->end);
    vtd_shadow_prune(vas);
    told = vas->shadows ? g_hash_table_lookup(vas->shadows, n) : NULL;
    if (told) {
        vtd_shadow_drop(vas, n, told, n->start, n->end);
    }
    vtd_shadow(vas, n, true);
    vtd_notify_resync(vas, n->start, n->end, n);
}

/*
 * An IOTLB invalidation of 2^@am pages at @addr in domain @did; @did < 0
 * for all domains, @am above 52 for all addresses.
 */
void vtd_notify_iotlb_invalidation(IntelIOMMUState *s, int did, hwaddr addr,
                                   unsigned am)
{
    uint64_t last = am + VTD_PAGE_SHIFT >= 64 ? VTD_ALL_ADDRESSES :
                    addr + vtd_low_bits(am + VTD_PAGE_SHIFT);
    VTDAddressSpace *vas, *next;

    QLIST_FOREACH_SAFE(vas, &s->notified_list, notified, next) {
        const VTDContext *ctx;

        if (!(vas->notifier_flags & (IOMMU_NOTIFIER_UNMAP |
                                     IOMMU_NOTIFIER_MAP))) {
            continue;
        }
        if (did >= 0 &&
            (vtd_context_get(s, vas, &ctx) || ctx->did != did)) {
            continue;
        }
        vtd_notify_resync(vas, addr, last, NULL);
    }
}

/*
 * A context-cache invalidation: a device may have changed domain, tables,
 * translation type or presence.  The consumers of every device with
 * notifiers look at their whole range again (context invalidations are
 * rare: device attach and detach).
 */
void vtd_notify_context_invalidation(IntelIOMMUState *s)
{
    VTDAddressSpace *vas, *next;

    QLIST_FOREACH_SAFE(vas, &s->notified_list, notified, next) {
        vtd_notify_resync(vas, 0, VTD_ALL_ADDRESSES, NULL);
    }
}

/* A device-TLB invalidation for requester @sid (6.5.2.5). */
void vtd_notify_device_iotlb(IntelIOMMUState *s, uint16_t sid, hwaddr addr,
                             uint64_t mask)
{
    VTDAddressSpace *vas;

    QLIST_FOREACH(vas, &s->notified_list, notified) {
        IOMMUNotifier *n;

        if (!(vas->notifier_flags & IOMMU_NOTIFIER_DEVIOTLB_UNMAP) ||
            VTD_SID(vtd_address_space_bus(vas), vas->devfn) != sid) {
            continue;
        }
        IOMMU_NOTIFIER_FOREACH(n, &vas->iommu_mr) {
            if (n->notifier_flags & IOMMU_NOTIFIER_DEVIOTLB_UNMAP) {
                vtd_notify_range(vas, n, IOMMU_NOTIFIER_DEVIOTLB_UNMAP,
                                 addr, addr + mask);
            }
        }
    }
}
