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
} QVTD;

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

#endif
