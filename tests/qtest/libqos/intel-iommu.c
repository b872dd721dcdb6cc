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
    vtd->qts = qts;
    vtd->base = QVTD_BASE;
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
