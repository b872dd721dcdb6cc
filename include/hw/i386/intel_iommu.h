/*
 * Intel VT-d (Virtualization Technology for Directed I/O) emulation:
 * the interface the rest of QEMU sees.
 *
 * The q35 machine, ACPI (DMAR table), KVM's MSI routing and VFIO only need
 * the device type, a few configuration fields and the MSI address layout;
 * everything else lives in hw/i386/intel_iommu_internal.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_I386_INTEL_IOMMU_H
#define HW_I386_INTEL_IOMMU_H

#include "hw/i386/x86-iommu.h"
#include "exec/memory.h"
#include "qemu/queue.h"
#include "qemu/thread.h"
#include "qom/object.h"

#define TYPE_INTEL_IOMMU_DEVICE "intel-iommu"
OBJECT_DECLARE_SIMPLE_TYPE(IntelIOMMUState, INTEL_IOMMU_DEVICE)

#define TYPE_INTEL_IOMMU_MEMORY_REGION "intel-iommu-iommu-memory-region"

/* Where q35 maps the remapping unit's registers (reported in ACPI DMAR). */
#define Q35_HOST_BRIDGE_IOMMU_ADDR  0xfed90000ULL

/*
 * Size of the register window.  One 4 KiB page, as on hardware: it holds
 * the architectural registers, the IOTLB registers and the fault records.
 */
#define VTD_MMIO_SIZE               0x1000

/*
 * MSI address split used by KVM's MSI routing (target/i386/kvm/kvm.c): a
 * 64-bit MSI address is carried as address_hi:address_lo.
 */
#define VTD_MSI_ADDR_HI_SHIFT       32
#define VTD_MSI_ADDR_LO_MASK        0xffffffffULL

/* Guest address widths the device can be configured with (aw-bits). */
#define VTD_HOST_AW_39BIT           39
#define VTD_HOST_AW_48BIT           48
#define VTD_HOST_AW_57BIT           57

typedef struct VTDAddressSpace VTDAddressSpace;
typedef struct VTDRegister VTDRegister;
typedef struct VTDLastFault VTDLastFault;
typedef struct VTDIOTLBEntry VTDIOTLBEntry;
/*
 * A second-stage leaf table the paging-structure cache (6.2.4) holds:
 * the table that maps the 2 MiB region @region (IOVA >> 21) below the
 * @levels-level tables at @root, and what the entries above it allow.
 * Valid while @gen is the unit's leaf_tables_gen.
 */
typedef struct VTDLeafTable {
    uint64_t root;
    uint64_t region;
    uint64_t table;
    uint64_t gen;
    uint8_t levels;
    uint8_t upper_perm;             /* IOMMUAccessFlags */
} VTDLeafTable;
#define VTD_LEAF_TABLES 64

/*
 * Recent IOTLB hits a requester keeps for the fast path: room for a
 * multi-queue device's rings (a page or three per queue) besides the
 * buffer pages that come and go.
 */
#define VTD_RECENT_HITS 32

/* What a present context entry says (9.3), as the context cache keeps it. */
typedef struct VTDContext {
    uint16_t did;                   /* domain id */
    uint8_t tt;                     /* translation type */
    uint8_t levels;                 /* table depth: 3, 4 or 5 */
    bool fpd;                       /* fault processing disable */
    uint64_t table;                 /* root of the tables to walk */
    /*
     * Scalable mode: what the PASID entry of the requests without PASID
     * (RID_PASID) says.  @tt is then derived from its PGTT.
     */
    bool scalable;
    bool first_stage;               /* PGTT 1: IA-32e tables at @table */
    bool nxe;                       /* first stage: XD bits in use */
    /*
     * PGTT 3: the first stage's tables and output are guest-physical
     * addresses that these second-stage tables translate (3.8).
     */
    bool nested;
    uint8_t ss_levels;
    uint64_t ss_table;
    uint32_t pasid;                 /* RID_PASID, or the request's PASID */
} VTDContext;

/*
 * One DMA requester (bus, devfn) behind the remapping unit.  Devices see
 * @as, whose root container holds either the @passthrough alias of guest
 * memory (translation off or pass-through) or the @iommu region, plus the
 * @interrupt window at 0xfee00000 that is never translated (VT-d 3.14).
 */
struct VTDAddressSpace {
    PCIBus *bus;                    /* NULL for platform requesters */
    /*
     * The bus number of platform requesters (IOAPIC) and of devices on
     * root buses never changes: it is kept here.  Behind bridges the
     * guest may renumber buses, so it is asked for each time.
     */
    bool bus_fixed;
    uint8_t bus_num;
    uint8_t devfn;
    IntelIOMMUState *iommu;
    AddressSpace as;
    MemoryRegion root;
    IOMMUMemoryRegion iommu_mr;
    MemoryRegion passthrough;
    MemoryRegion interrupt;
    bool translating;               /* which of the two is enabled */
    QLIST_ENTRY(VTDAddressSpace) next;

    /* Context cache (6.2.2): valid while context_gen matches the unit's */
    VTDContext context;
    uint32_t context_gen;
    /*
     * PASID cache (6.2.1) of the requests with PASID (x-pasid-mode=on):
     * PASID -> VTDPasidContext, created on the first such request.
     */
    GHashTable *pasid_contexts;
    /*
     * The IOTLB entries this requester's requests without PASID hit
     * lately, valid while last_hit_gen is the unit's iotlb_gen: the last
     * one, and one per page number modulo VTD_RECENT_HITS (a device's
     * rings and buffers take turns).
     */
    VTDIOTLBEntry *last_hit;
    VTDIOTLBEntry *recent_hits[VTD_RECENT_HITS];
    uint32_t last_hit_gen;

    /* IOMMU notifiers registered on @iommu_mr (VFIO, vhost) */
    IOMMUNotifierFlag notifier_flags;
    QLIST_ENTRY(VTDAddressSpace) notified;
    GHashTable *shadows;            /* MAP notifier -> what it was told */
};

struct IntelIOMMUState {
    X86IOMMUState x86_iommu;
    MemoryRegion mmio;
    PCIBus *bus;                    /* the root bus we serve */

    /* Used by the machine (pc.c) and ACPI (DMAR): kept at the top level. */
    uint8_t aw_bits;                /* aw-bits: host address width */
    bool caching_mode;              /* caching-mode: CAP.CM */

    /*
     * The rest of the configuration, as set by properties; see
     * docs/system/devices/intel-iommu.rst for each property.
     */
    struct {
        OnOffAuto eim;              /* eim: x2APIC interrupt destinations */
        bool eim_unchecked;         /* x-buggy-eim: old machines' "auto" */
        bool scalable;              /* x-scalable-mode */
        bool first_stage;           /* x-flts: first-stage tables */
        bool nested;                /* x-nested: both stages, nested */
        bool fs_1g_pages;           /* fs1gp: CAP.FS1GP */
        bool pasid;                 /* x-pasid-mode */
        bool snoop_control;         /* snoop-control: ECAP.SC */
        bool drain;                 /* dma-drain: CAP.DRD/DWD */
        bool translation;           /* dma-translation: any SAGAW at all */
        bool stale_tm;              /* stale-tm: IOAPIC trigger mode */
        uint8_t fault_records;      /* fault-records: CAP.NFR + 1 */
        uint32_t ignored_version;   /* version: accepted, no effect */
    } cfg;

    /* Register file, little-endian, as the guest sees it. */
    uint8_t regs[VTD_MMIO_SIZE];
    uint64_t cap;                   /* CAP value computed at realize */
    uint64_t ecap;                  /* ECAP value computed at realize */
    VTDRegister *registers;         /* what each register does */
    VTDRegister **register_at;      /* register at each 4-byte slot */
    unsigned nr_registers;

    /* Latched by GCMD.SRTP and GCMD.SIRTP */
    uint64_t root_table;            /* RTADDR when SRTP was last set */
    uint64_t ir_table;              /* IRTA when SIRTP was last set */
    unsigned next_fault_record;     /* where the next fault goes (7.3.1) */
    struct VTDLastFault {
        uint64_t page;
        uint32_t pasid;
        uint16_t sid;
        uint8_t reason;
        bool is_write;
        unsigned index;             /* its fault record */
    } last_fault;                   /* to record one fault per request */
    bool last_fault_valid;

    /*
     * Interrupt entry cache (6.2.5): the present, well-formed entries of
     * the table latched by SIRTP, valid while their bit is set.
     */
    uint64_t (*iec)[2];
    unsigned long *iec_valid;
    unsigned iec_entries;

    /* Requesters, created on first use by the PCI core. */
    GHashTable *address_spaces;     /* VTDAddressSpace by (bus, devfn) */
    QLIST_HEAD(, VTDAddressSpace) as_list;
    QLIST_HEAD(, VTDAddressSpace) notified_list; /* with IOMMU notifiers */

    /*
     * Caches (intel_iommu/cache.c).  Devices in iothreads translate
     * without the BQL: changes to the caches take @lock; the fast path of
     * a translation reads without it, and entries are freed after an RCU
     * grace period.
     */
    QemuRecMutex lock;
    uint32_t context_gen;           /* bumped by global invalidations */
    void *iotlb_buckets;            /* hash of VTDIOTLBEntry lists */
    unsigned iotlb_bucket_bits;     /* log2 of the number of buckets */
    unsigned iotlb_count;
    /*
     * Entries come from chunks and return to a free list one RCU grace
     * period after they leave the IOTLB: a fill does not call malloc.
     */
    QLIST_HEAD(, VTDIOTLBEntry) iotlb_free;
    QLIST_HEAD(, VTDIOTLBEntry) iotlb_retiring;     /* see vtd_iotlb_remove */
    GPtrArray *iotlb_chunks;
    GHashTable *iotlb_domains;      /* each domain's entries, by id */
    /*
     * Bumped whenever cached context entries are invalidated: the
     * requesters' recent hits (VTDAddressSpace) are valid while it stays.
     * IOTLB entries that go away are cleared from them one by one.
     */
    uint32_t iotlb_gen;
    unsigned iotlb_level_entries[4]; /* entries per leaf level (1-3) */
    /*
     * Paging-structure cache, direct-mapped (vtd_leaf_table_slot()).
     * Every invalidation that may concern paging structures bumps
     * leaf_tables_gen: all but IOTLB page invalidations with IH set.
     * 64 bits, as a guest can invalidate 2^32 times in hours.
     */
    VTDLeafTable leaf_tables[VTD_LEAF_TABLES];
    uint64_t leaf_tables_gen;
    void *last_domain;              /* the domain of the last fill ... */
    uint16_t last_domain_id;        /* ... and its id */

    /*
     * Host pointers of the table pages the last walk read, one per
     * table level (root, context, second-stage 5..1), valid while
     * table_map_gen matches memory_gen: any change of guest memory's
     * layout bumps memory_gen (table_listener).
     */
    struct {
        hwaddr page;
        const uint8_t *host;
    } table_map[10];
    uint64_t table_map_gen;
    uint64_t memory_gen;            /* 64 bits: never comes round again */
    MemoryListener table_listener;
    struct {
        uint64_t context_hits, context_misses;
        uint64_t iotlb_hits, iotlb_misses;
        uint64_t iotlb_line_fills;  /* entries filled next to a miss */
        uint64_t leaf_table_hits;   /* walks that began at a leaf table */
        /* vtd_translate()'s fast path: a context and an IOTLB hit each */
        uint64_t last_hits;
        uint64_t shadow_maps, shadow_unmaps;    /* caching-mode events */
    } stats;

    /*
     * The last faults seen, recorded or dropped, for `info intel-iommu`:
     * the guest's driver clears its fault records, this stays.
     */
    struct VTDFaultLogEntry {
        int64_t when_ns;            /* QEMU_CLOCK_VIRTUAL */
        uint64_t addr;
        uint16_t sid;
        uint8_t reason;
        bool is_write;
        bool recorded;              /* false: dropped for overflow */
    } fault_log[16];
    uint64_t faults_seen;           /* next slot: faults_seen % 16 */

    /* Type of the last descriptor the invalidation queue fetched. */
    uint8_t last_desc_type;

    /*
     * The device state in the layout of the migration stream
     * (intel_iommu/migration.c): filled before a save, applied after a
     * load.  Nothing else reads it.
     */
    struct VTDMigrationImage {
        uint64_t root;              /* latched root table address */
        uint64_t intr_root;         /* latched IRT address */
        uint64_t iq;                /* invalidation queue address */
        uint32_t intr_size;         /* IRT entries */
        uint16_t iq_head;           /* in descriptors of the queue's width */
        uint16_t iq_tail;
        uint16_t iq_size;           /* descriptors the queue holds */
        uint16_t next_frcd_reg;
        uint8_t iq_last_desc_type;
        bool dmar_enabled;
        bool qi_enabled;
        bool intr_enabled;
        bool intr_eime;
        uint8_t fault_records;      /* with the extra fault records */
    } mig;
};

#endif
