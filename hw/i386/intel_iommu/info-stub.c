/*
 * Intel VT-d emulation: `info intel-iommu` and x-query-intel-iommu when
 * the device is not built
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-misc-target.h"
#include "monitor/monitor.h"
#include "monitor/hmp-target.h"

void hmp_info_intel_iommu(Monitor *mon, const QDict *qdict)
{
    monitor_printf(mon, "intel-iommu is not built into this QEMU\n");
}

HumanReadableText *qmp_x_query_intel_iommu(Error **errp)
{
    error_setg(errp, "intel-iommu is not built into this QEMU");
    return NULL;
}
