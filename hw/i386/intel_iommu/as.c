/*
 * Intel VT-d emulation: per-requester DMA address spaces
 *
 * Every (bus, devfn) behind the remapping unit gets its own address space.
 * Its root container holds two views of the same addresses and enables
 * exactly one: an alias of guest memory when requests are not translated
 * (GSTS.TE clear, dma-translation=off, or a pass-through context entry in
 * the context cache), or the IOMMU region that translates each access.
 * Switching between the two is a memory-region enable, so untranslated
 * DMA never pays for a lookup.
 *
 * On top of both sits the interrupt window (0xfee00000-0xfeefffff): 3.14
 * says DMA writes there are interrupt requests, never translated.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "exec/address-spaces.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_bus.h"
#include "hw/i386/intel_iommu_internal.h"
#include "trace.h"

typedef struct VTDRequesterKey {
    PCIBus *bus;
    uint8_t devfn;
} VTDRequesterKey;

static guint vtd_requester_hash(gconstpointer v)
{
    const VTDRequesterKey *key = v;

    return g_direct_hash(key->bus) ^ key->devfn;
}

static gboolean vtd_requester_equal(gconstpointer a, gconstpointer b)
{
    const VTDRequesterKey *ka = a, *kb = b;

    return ka->bus == kb->bus && ka->devfn == kb->devfn;
}

/*
 * Interrupt requests from devices.  Without interrupt remapping they are
 * delivered as written; the remapping path replaces this in the interrupt
 * remapping code.
 */
static MemTxResult vtd_interrupt_write(void *opaque, hwaddr addr,
                                       uint64_t value, unsigned size,
                                       MemTxAttrs attrs)
{
    VTDAddressSpace *vas = opaque;
    MSIMessage from = {
        .address = VTD_INTERRUPT_ADDR_FIRST + addr,
        .data = value,
    }, to;
    uint16_t sid = VTD_SID(vtd_address_space_bus(vas), vas->devfn);

    trace_vtd_interrupt_request(vtd_address_space_bus(vas),
                                PCI_SLOT(vas->devfn), PCI_FUNC(vas->devfn),
                                from.address, value);
    if (vtd_ir_remap(vas->iommu, &from, &to, sid)) {
        return MEMTX_OK;    /* faulted: the interrupt is dropped */
    }
    address_space_stl_le(&address_space_memory, to.address, to.data,
                         attrs, NULL);
    return MEMTX_OK;
}

static MemTxResult vtd_interrupt_read(void *opaque, hwaddr addr,
                                      uint64_t *data, unsigned size,
                                      MemTxAttrs attrs)
{
    qemu_log_mask(LOG_GUEST_ERROR, "intel-iommu: DMA read from the "
                  "interrupt address range at 0x%" HWADDR_PRIx "\n",
                  VTD_INTERRUPT_ADDR_FIRST + addr);
    *data = 0;
    return MEMTX_OK;
}

static const MemoryRegionOps vtd_interrupt_ops = {
    .read_with_attrs = vtd_interrupt_read,
    .write_with_attrs = vtd_interrupt_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

uint8_t vtd_address_space_bus(VTDAddressSpace *vas)
{
    return vas->bus_fixed || !vas->bus ? vas->bus_num : pci_bus_num(vas->bus);
}

bool vtd_address_space_translates(VTDAddressSpace *vas)
{
    IntelIOMMUState *s = vas->iommu;

    return s->cfg.translation && vtd_gsts(s, R_GSTS_TE_MASK);
}

/*
 * Whether accesses of @vas need the IOMMU region: not when translation is
 * off, nor when its context entry (cached, or read now as hardware may
 * prefetch it) says pass-through.  Faults are not reported here; the
 * access that needs the entry reports them.  With x-pasid-mode=on a
 * scalable-mode unit keeps the region: requests with PASID have their own
 * PASID entries, whatever RID_PASID's says.
 */
static bool vtd_address_space_needs_lookup(VTDAddressSpace *vas)
{
    IntelIOMMUState *s = vas->iommu;
    const VTDContext *ctx;

    if (!vtd_address_space_translates(vas)) {
        return false;
    }
    if (s->cfg.pasid && FIELD_EX64(s->root_table, RTADDR, TTM) == 1) {
        return true;
    }
    return vtd_context_get(s, vas, &ctx) ||
           ctx->tt != VTD_TT_PASS_THROUGH;
}

void vtd_address_space_switch(VTDAddressSpace *vas)
{
    bool translate = vtd_address_space_needs_lookup(vas);

    if (translate == vas->translating) {
        return;
    }
    trace_vtd_address_space_switch(vtd_address_space_bus(vas),
                                   PCI_SLOT(vas->devfn),
                                   PCI_FUNC(vas->devfn), translate);
    memory_region_transaction_begin();
    memory_region_set_enabled(MEMORY_REGION(&vas->iommu_mr), translate);
    memory_region_set_enabled(&vas->passthrough, !translate);
    vas->translating = translate;
    memory_region_transaction_commit();
}

void vtd_address_space_switch_all(IntelIOMMUState *s)
{
    VTDAddressSpace *vas;

    memory_region_transaction_begin();
    QLIST_FOREACH(vas, &s->as_list, next) {
        vtd_address_space_switch(vas);
    }
    memory_region_transaction_commit();
}

VTDAddressSpace *vtd_address_space_get(IntelIOMMUState *s, PCIBus *bus,
                                       int devfn)
{
    VTDRequesterKey lookup = { .bus = bus, .devfn = devfn };
    VTDRequesterKey *key;
    VTDAddressSpace *vas;
    g_autofree char *name = NULL;
    g_autofree char *sub = NULL;

    vas = g_hash_table_lookup(s->address_spaces, &lookup);
    if (vas) {
        return vas;
    }

    vas = g_new0(VTDAddressSpace, 1);
    vas->bus = bus;
    vas->devfn = devfn;
    if (bus && pci_bus_is_root(bus)) {
        vas->bus_num = pci_bus_num(bus);
        vas->bus_fixed = true;
    }
    vas->iommu = s;
    name = g_strdup_printf("intel-iommu-%s-%02x.%x",
                           bus ? bus->qbus.name : "platform",
                           PCI_SLOT(devfn), PCI_FUNC(devfn));

    memory_region_init(&vas->root, OBJECT(s), name, UINT64_MAX);
    address_space_init(&vas->as, &vas->root, name);

    sub = g_strdup_printf("%s-translated", name);
    memory_region_init_iommu(&vas->iommu_mr, sizeof(vas->iommu_mr),
                             TYPE_INTEL_IOMMU_MEMORY_REGION, OBJECT(s),
                             sub, UINT64_MAX);
    g_free(sub);
    sub = g_strdup_printf("%s-untranslated", name);
    memory_region_init_alias(&vas->passthrough, OBJECT(s), sub,
                             get_system_memory(), 0,
                             memory_region_size(get_system_memory()));
    g_free(sub);
    sub = g_strdup_printf("%s-interrupts", name);
    memory_region_init_io(&vas->interrupt, OBJECT(s), &vtd_interrupt_ops,
                          vas, sub, VTD_INTERRUPT_ADDR_SIZE);

    memory_region_transaction_begin();
    memory_region_add_subregion_overlap(&vas->root, VTD_INTERRUPT_ADDR_FIRST,
                                        &vas->interrupt, 1);
    memory_region_add_subregion_overlap(&vas->root, 0, &vas->passthrough, 0);
    memory_region_add_subregion_overlap(&vas->root, 0,
                                        MEMORY_REGION(&vas->iommu_mr), 0);
    memory_region_set_enabled(MEMORY_REGION(&vas->iommu_mr), false);
    vas->translating = false;
    vtd_address_space_switch(vas);
    memory_region_transaction_commit();

    key = g_new(VTDRequesterKey, 1);
    *key = lookup;
    g_hash_table_insert(s->address_spaces, key, vas);
    QLIST_INSERT_HEAD(&s->as_list, vas, next);
    return vas;
}

void vtd_address_spaces_init(IntelIOMMUState *s)
{
    s->address_spaces = g_hash_table_new_full(vtd_requester_hash,
                                              vtd_requester_equal,
                                              g_free, NULL);
    QLIST_INIT(&s->as_list);
    QLIST_INIT(&s->notified_list);
}

/*
 * The IOMMU index of a request is its PASID: MemTxAttrs.pid, 1 to 255, of
 * a device that tags its DMA (requests with PASID); 0 for untagged DMA,
 * which goes through RID_PASID (PASID 0 as a PASID of its own would mean
 * the same entry here).  MEMTXATTRS_UNSPECIFIED has pid 0 as well, so
 * every DMA pays for one field read only.
 */
static int vtd_attrs_to_index(IOMMUMemoryRegion *iommu_mr, MemTxAttrs attrs)
{
    return attrs.pid;
}

static int vtd_num_indexes(IOMMUMemoryRegion *iommu_mr)
{
    return 1 << 8;                  /* the width of MemTxAttrs.pid */
}

static void vtd_iommu_memory_region_class_init(ObjectClass *klass,
                                               void *data)
{
    IOMMUMemoryRegionClass *imrc = IOMMU_MEMORY_REGION_CLASS(klass);

    imrc->translate = vtd_translate;
    imrc->attrs_to_index = vtd_attrs_to_index;
    imrc->num_indexes = vtd_num_indexes;
    imrc->notify_flag_changed = vtd_notify_flag_changed;
    imrc->replay = vtd_replay;
}

static const TypeInfo vtd_iommu_memory_region_info = {
    .parent = TYPE_IOMMU_MEMORY_REGION,
    .name = TYPE_INTEL_IOMMU_MEMORY_REGION,
    .class_init = vtd_iommu_memory_region_class_init,
};

static void vtd_as_register_types(void)
{
    type_register_static(&vtd_iommu_memory_region_info);
}

type_init(vtd_as_register_types)
