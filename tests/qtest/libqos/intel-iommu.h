/*
 * libqos driver for the Intel VT-d remapping unit: the guest side
 *
 * Tests talk to the device the way a guest driver does: through its
 * registers at Q35_HOST_BRIDGE_IOMMU_ADDR and through tables they build
 * in guest memory.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QTEST_LIBQOS_INTEL_IOMMU_H
#define QTEST_LIBQOS_INTEL_IOMMU_H

#include "../libqtest.h"
#include "hw/i386/intel_iommu/bits.h"

#define QVTD_BASE           0xfed90000ULL
#define QVTD_WINDOW_SIZE    0x1000

typedef struct QVTD {
    QTestState *qts;
    uint64_t base;
    uint64_t next_page;             /* bump allocator for tables */
    uint64_t root_table;            /* 0 until qvtd_set_root() */
    uint64_t queue;                 /* invalidation queue, 0 if not used */
    uint32_t queue_tail;            /* byte offset */
    bool queue_wide;                /* 256-bit descriptors */
    uint64_t status_page;           /* wait descriptors write here */
    uint32_t wait_seq;
} QVTD;

/* What a fault-recording register holds (11.4.7.4). */
typedef struct QVTDFault {
    uint64_t addr;
    uint16_t sid;
    uint8_t reason;
    bool is_read;
    bool has_pasid;                 /* PP: a request with PASID */
    uint32_t pasid;                 /* PV */
} QVTDFault;

/* Guest memory the driver uses for its tables: 16 MiB up from here. */
#define QVTD_TABLE_MEMORY   0x2000000ULL

void qvtd_init(QVTD *vtd, QTestState *qts);

static inline uint32_t qvtd_readl(QVTD *vtd, uint32_t offset)
{
    return qtest_readl(vtd->qts, vtd->base + offset);
}

static inline uint64_t qvtd_readq(QVTD *vtd, uint32_t offset)
{
    return qtest_readq(vtd->qts, vtd->base + offset);
}

static inline void qvtd_writel(QVTD *vtd, uint32_t offset, uint32_t val)
{
    qtest_writel(vtd->qts, vtd->base + offset, val);
}

static inline void qvtd_writeq(QVTD *vtd, uint32_t offset, uint64_t val)
{
    qtest_writeq(vtd->qts, vtd->base + offset, val);
}

/*
 * Issue one global command the way 11.4.4.1 prescribes (read GSTS, drop the
 * one-shot bits, set or clear @bit, write GCMD) and wait until GSTS shows
 * it.  Returns false if the status never followed.
 */
bool qvtd_global_command(QVTD *vtd, uint32_t bit, bool set);

/* A zeroed, 4 KiB-aligned page of guest memory for tables. */
uint64_t qvtd_alloc_page(QVTD *vtd);

/* Allocate a root table, point RTADDR at it and latch it with SRTP. */
void qvtd_set_root(QVTD *vtd);

/*
 * Fill the legacy context entry of @bus/@devfn (9.3): translation type
 * @tt, @levels-deep second-stage table at @table, domain @did.
 */
void qvtd_set_context(QVTD *vtd, uint8_t bus, uint8_t devfn, uint16_t did,
                      unsigned tt, unsigned levels, uint64_t table, bool fpd);

/*
 * Map @iova to @addr in the @levels-deep second-stage table @table with a
 * leaf at @leaf_level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB), readable and/or
 * writable.  Intermediate tables are allocated as needed.
 */
void qvtd_map(QVTD *vtd, uint64_t table, unsigned levels, uint64_t iova,
              uint64_t addr, unsigned leaf_level, bool read, bool write);

/*
 * The address of the entry at @level (1: 4 KiB leaves) on @iova's path
 * through the @levels-deep second-stage table @table, whose entries above
 * it must be present.
 */
uint64_t qvtd_entry_addr(QVTD *vtd, uint64_t table, unsigned levels,
                         uint64_t iova, unsigned level);

/* Clear the leaf entry that maps @iova (found by walking the tables). */
void qvtd_unmap(QVTD *vtd, uint64_t table, unsigned levels, uint64_t iova,
                unsigned leaf_level);

/* Queued invalidation (6.5.2): set up and enable the queue. */
/*
 * Scalable mode.  qvtd_set_root_scalable() points the unit at a
 * scalable-mode root table (TTM 01b); qvtd_set_sm_context() writes the
 * 256-bit context entry of @bus/@devfn with a new PASID directory of
 * 2^(@pdts + 7) entries and returns the directory;
 * qvtd_set_pasid_entry() writes @pasid's entry (allocating its table)
 * and qvtd_pasid_entry_addr() says where it is.  qvtd_fs_map() maps a
 * page in first-stage (IA-32e) tables of @levels levels, user-accessible
 * if @user, and returns the address of the leaf entry.
 */
typedef struct QVTDPasidEntry {
    unsigned pgtt;                  /* VTD_PGTT_* */
    uint16_t did;
    unsigned levels;                /* 3-5 second stage, 4-5 first */
    uint64_t table;                 /* first stage for PGTT 1 and 3 */
    bool fpd;
    bool nxe;
    unsigned ss_levels;             /* nested: the second stage's */
    uint64_t ss_table;
} QVTDPasidEntry;

void qvtd_set_root_scalable(QVTD *vtd);
uint64_t qvtd_set_sm_context(QVTD *vtd, uint8_t bus, uint8_t devfn,
                             unsigned pdts, bool dte, bool fpd);
/* Set or clear PASIDE (requests with PASID) in that context entry. */
void qvtd_set_sm_context_paside(QVTD *vtd, uint8_t bus, uint8_t devfn,
                                bool paside);
uint64_t qvtd_pasid_entry_addr(QVTD *vtd, uint64_t dir, uint32_t pasid);
void qvtd_set_pasid_entry(QVTD *vtd, uint64_t dir, uint32_t pasid,
                          const QVTDPasidEntry *e);
uint64_t qvtd_fs_map(QVTD *vtd, uint64_t table, unsigned levels,
                     uint64_t iova, uint64_t addr, unsigned leaf_level,
                     bool write, bool user);

void qvtd_queue_enable(QVTD *vtd, bool wide);
/* Put one descriptor in the queue and move the tail. */
void qvtd_queue_submit(QVTD *vtd, uint64_t lo, uint64_t hi);
/* Submit a wait descriptor with status write; true if it completed. */
bool qvtd_queue_wait(QVTD *vtd);

/*
 * Invalidate the context cache or the IOTLB with granularity @gran
 * (VTD_GRAN_*), through the queue when it is enabled, else through the
 * registers (CCMD, IOTLB register at ECAP.IRO).  Returns the granularity
 * the unit reports having done (registers), or @gran once the queue has
 * completed a wait descriptor after the request; 0 on failure.
 */
unsigned qvtd_invalidate_context(QVTD *vtd, unsigned gran, uint16_t did,
                                 uint16_t sid, unsigned fm);
unsigned qvtd_invalidate_iotlb(QVTD *vtd, unsigned gran, uint16_t did,
                               uint64_t addr, unsigned am);
/* Page-selective, with IH set: the guest changed only leaf entries. */
unsigned qvtd_invalidate_iotlb_leaves(QVTD *vtd, uint16_t did, uint64_t addr,
                                      unsigned am);

/* Read and clear the oldest pending fault record; false if none. */
bool qvtd_fault_pop(QVTD *vtd, QVTDFault *fault);

#endif
