/*
 * qtest for intel-iommu's notifiers as vhost consumes them
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef INTEL_IOMMU_VHOST_H
#define INTEL_IOMMU_VHOST_H

/* Register the /intel-iommu/notify/vhost-* tests. */
void vtd_vhost_add_tests(void);

#endif
