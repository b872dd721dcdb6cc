/*
 * Intel VT-d (Virtualization Technology for Directed I/O) emulation
 *
 * The device itself: QOM type, properties, realize and reset, and the MMIO
 * window at Q35_HOST_BRIDGE_IOMMU_ADDR.  What the registers do lives in
 * intel_iommu/regs.c, the per-requester address spaces in
 * intel_iommu/as.c.
 *
 * Capability values are chosen so that a guest sees the same hardware as
 * with QEMU's previous intel-iommu for the same command line: a guest
 * migrated between the two must not notice.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "hw/qdev-properties.h"
#include "hw/sysbus.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_bus.h"
#include "system/host_iommu_device.h"
#include "hw/pci-host/q35.h"
#include "hw/i386/pc.h"
#include "hw/i386/apic-msidef.h"
#include "system/kvm.h"
#include "kvm/kvm_i386.h"
#include "system/system.h"
#include "hw/i386/intel_iommu_internal.h"
#include "intel_iommu/trace.h"

static uint64_t vtd_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    return vtd_regs_read(opaque, addr, size);
}

static void vtd_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                           unsigned size)
{
    vtd_regs_write(opaque, addr, val, size);
}

static const MemoryRegionOps vtd_mmio_ops = {
    .read = vtd_mmio_read,
    .write = vtd_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    /*
     * Any size at any offset reaches regs.c, which cuts it into registers:
     * a guest cannot find an access that the device does not handle.
     */
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
};

static AddressSpace *vtd_pci_address_space(PCIBus *bus, void *opaque,
                                           int devfn)
{
    IntelIOMMUState *s = opaque;

    return &vtd_address_space_get(s, bus, devfn)->as;
}

/*
 * An assigned device (VFIO) behind the unit: its DMA goes through the host
 * IOMMU with the shadow mappings this device pushes, which needs caching
 * mode, and the host IOMMU must reach every address the guest may map.
 */
static bool vtd_set_iommu_device(PCIBus *bus, void *opaque, int devfn,
                                 HostIOMMUDevice *hiod, Error **errp)
{
    IntelIOMMUState *s = opaque;
    HostIOMMUDeviceClass *hiodc = HOST_IOMMU_DEVICE_GET_CLASS(hiod);
    int host_aw;

    if (!s->caching_mode) {
        error_setg(errp, "intel-iommu: assigned device %02x:%02x.%x needs "
                   "caching-mode=on on the intel-iommu device",
                   pci_bus_num(bus), PCI_SLOT(devfn), PCI_FUNC(devfn));
        return false;
    }
    if (hiodc->get_cap) {
        host_aw = hiodc->get_cap(hiod, HOST_IOMMU_DEVICE_CAP_AW_BITS, errp);
        if (host_aw < 0) {
            return false;
        }
        if (host_aw < s->aw_bits) {
            error_setg(errp, "intel-iommu: aw-bits=%u is wider than the "
                       "%d bits the host IOMMU maps for assigned device "
                       "%02x:%02x.%x: use aw-bits=%d",
                       s->aw_bits, host_aw, pci_bus_num(bus),
                       PCI_SLOT(devfn), PCI_FUNC(devfn),
                       host_aw >= VTD_HOST_AW_48BIT ? VTD_HOST_AW_48BIT :
                       VTD_HOST_AW_39BIT);
            return false;
        }
    }
    return true;
}

static const PCIIOMMUOps vtd_pci_iommu_ops = {
    .get_address_space = vtd_pci_address_space,
    .set_iommu_device = vtd_set_iommu_device,
};

/*
 * 11.4.2: the capability register, from the configuration.  Every field
 * that depends on a property is set here and nowhere else.
 */
static uint64_t vtd_compute_cap(IntelIOMMUState *s)
{
    uint64_t cap = 0;
    unsigned sagaw = 0;

    if (s->cfg.translation) {
        sagaw = VTD_SAGAW_39BIT;
        if (s->aw_bits >= VTD_HOST_AW_48BIT) {
            sagaw |= VTD_SAGAW_48BIT;
        }
        if (s->aw_bits >= VTD_HOST_AW_57BIT) {
            sagaw |= VTD_SAGAW_57BIT;
        }
    }
    cap = FIELD_DP64(cap, CAP, ND, VTD_CAP_ND_VALUE);
    cap = FIELD_DP64(cap, CAP, CM, s->caching_mode);
    cap = FIELD_DP64(cap, CAP, SAGAW, sagaw);
    cap = FIELD_DP64(cap, CAP, MGAW, s->aw_bits - 1);
    cap = FIELD_DP64(cap, CAP, FRO, VTD_FRCD_OFFSET / 16);
    cap = FIELD_DP64(cap, CAP, SLLPS, VTD_CAP_SLLPS_2M_1G);
    cap = FIELD_DP64(cap, CAP, PSI, 1);
    cap = FIELD_DP64(cap, CAP, NFR, s->cfg.fault_records - 1);
    cap = FIELD_DP64(cap, CAP, MAMV, VTD_CAP_MAMV_VALUE);
    cap = FIELD_DP64(cap, CAP, DWD, s->cfg.drain);
    cap = FIELD_DP64(cap, CAP, DRD, s->cfg.drain);
    cap = FIELD_DP64(cap, CAP, FS1GP, (s->cfg.first_stage || s->cfg.nested) &&
                     s->cfg.fs_1g_pages);
    cap = FIELD_DP64(cap, CAP, FS5LP, s->cfg.first_stage &&
                     s->aw_bits >= VTD_HOST_AW_57BIT);
    return cap;
}

/* 11.4.3: the extended capability register. */
static uint64_t vtd_compute_ecap(IntelIOMMUState *s, bool eim)
{
    X86IOMMUState *x86 = X86_IOMMU_DEVICE(s);
    bool ir = x86_iommu_ir_supported(x86);
    uint64_t ecap = 0;

    ecap = FIELD_DP64(ecap, ECAP, QI, 1);
    ecap = FIELD_DP64(ecap, ECAP, DT, x86->dt_supported);
    ecap = FIELD_DP64(ecap, ECAP, IR, ir);
    ecap = FIELD_DP64(ecap, ECAP, EIM, ir && eim);
    ecap = FIELD_DP64(ecap, ECAP, PT, x86->pt_supported);
    ecap = FIELD_DP64(ecap, ECAP, SC, s->cfg.snoop_control);
    ecap = FIELD_DP64(ecap, ECAP, IRO, VTD_IRO_OFFSET / 16);
    ecap = FIELD_DP64(ecap, ECAP, MHMV, ir ? VTD_ECAP_MHMV_VALUE : 0);
    if (s->cfg.scalable) {
        ecap = FIELD_DP64(ecap, ECAP, SMTS, 1);
        if (s->cfg.nested) {
            /* 3.8: both stages, and PGTT 3 (first over second). */
            ecap = FIELD_DP64(ecap, ECAP, FSTS, 1);
            ecap = FIELD_DP64(ecap, ECAP, SSTS, 1);
            ecap = FIELD_DP64(ecap, ECAP, NEST, 1);
        } else if (s->cfg.first_stage) {
            ecap = FIELD_DP64(ecap, ECAP, FSTS, 1);
        } else {
            ecap = FIELD_DP64(ecap, ECAP, SSTS, 1);
            ecap = FIELD_DP64(ecap, ECAP, SRS, 1);
        }
        ecap = FIELD_DP64(ecap, ECAP, PASID, s->cfg.pasid);
    }
    return ecap;
}

/*
 * Extended interrupt mode (x2APIC destinations, 5.1.4).  "auto" turns it
 * on where interrupts are remapped in QEMU's split irqchip under KVM, or
 * always for old machine types (x-buggy-eim).
 */
static bool vtd_decide_eim(IntelIOMMUState *s, Error **errp)
{
    X86IOMMUState *x86 = X86_IOMMU_DEVICE(s);
    bool ir = x86_iommu_ir_supported(x86);

    if (s->cfg.eim == ON_OFF_AUTO_ON && !ir) {
        error_setg(errp, "eim=on requires intremap=on");
        return false;
    }
    if (s->cfg.eim == ON_OFF_AUTO_AUTO) {
        s->cfg.eim = ir && (s->cfg.eim_unchecked || kvm_irqchip_is_split()) ?
                      ON_OFF_AUTO_ON : ON_OFF_AUTO_OFF;
    }
    if (s->cfg.eim == ON_OFF_AUTO_ON && !s->cfg.eim_unchecked &&
        kvm_irqchip_is_split() && !kvm_enable_x2apic()) {
        error_setg(errp, "eim=on requires x2APIC support in KVM "
                   "(KVM_CAP_X2APIC_API); use eim=off");
        return false;
    }
    return true;
}

static bool vtd_check_config(IntelIOMMUState *s, Error **errp)
{
    X86IOMMUState *x86 = X86_IOMMU_DEVICE(s);

    if (s->cfg.fault_records < 1 ||
        s->cfg.fault_records > VTD_MAX_FAULT_RECORDS) {
        error_setg(errp, "fault-records=%u is out of range: use 1 to %u",
                   s->cfg.fault_records, VTD_MAX_FAULT_RECORDS);
        return false;
    }

    if (s->cfg.first_stage && !s->cfg.scalable) {
        error_setg(errp, "x-flts=on requires x-scalable-mode=on");
        return false;
    }
    if (s->cfg.nested && !s->cfg.scalable) {
        error_setg(errp, "x-nested=on requires x-scalable-mode=on");
        return false;
    }
    if (s->cfg.nested && s->aw_bits != VTD_HOST_AW_48BIT) {
        error_setg(errp, "aw-bits=%u is not supported with x-nested=on: "
                   "use aw-bits=48", s->aw_bits);
        return false;
    }
    if (s->cfg.pasid && !s->cfg.scalable) {
        error_setg(errp, "x-pasid-mode=on requires x-scalable-mode=on");
        return false;
    }
    if (s->cfg.pasid && x86->dt_supported) {
        error_setg(errp, "x-pasid-mode=on cannot be combined with "
                   "device-iotlb=on: PASID-granular device-TLB "
                   "invalidation is not offered");
        return false;
    }
    if (s->cfg.scalable && s->cfg.first_stage) {
        /*
         * 4-level first-stage tables, or 5-level ones (CAP.FS5LP) with
         * aw-bits=57, which the previous implementation refused, so only
         * a guest that asks for it sees it.
         */
        if (s->aw_bits != VTD_HOST_AW_48BIT &&
            s->aw_bits != VTD_HOST_AW_57BIT) {
            error_setg(errp, "aw-bits=%u is not supported with x-flts=on: "
                       "first-stage tables need aw-bits=48 (or 57 for "
                       "5-level tables)", s->aw_bits);
            return false;
        }
    } else if (s->aw_bits != VTD_HOST_AW_39BIT &&
               s->aw_bits != VTD_HOST_AW_48BIT &&
               !(s->aw_bits == VTD_HOST_AW_57BIT && !s->cfg.scalable)) {
        /*
         * 57 (5-level second-stage tables) is an addition the previous
         * implementation refused, so only a guest that asks for it sees
         * it; scalable mode does not offer it yet.
         */
        error_setg(errp, "aw-bits=%u is not supported: use 39 or 48%s",
                   s->aw_bits, s->cfg.scalable ? "" : " (or 57)");
        return false;
    }
    return vtd_decide_eim(s, errp);
}

static void vtd_realize(DeviceState *dev, Error **errp)
{
    IntelIOMMUState *s = INTEL_IOMMU_DEVICE(dev);
    MachineState *ms = MACHINE(qdev_get_machine());
    PCMachineState *pcms =
        PC_MACHINE(object_dynamic_cast(OBJECT(ms), TYPE_PC_MACHINE));
    PCIBus *bus = pcms ? pcms->pcibus : NULL;
    VTDAddressSpace *ioapic;

    if (!bus || !object_dynamic_cast(OBJECT(BUS(bus)->parent),
                                     TYPE_Q35_HOST_DEVICE)) {
        error_setg(errp, "intel-iommu is only available on the q35 "
                   "machine; use -machine q35");
        return;
    }
    if (!vtd_check_config(s, errp)) {
        return;
    }

    s->bus = bus;
    s->cap = vtd_compute_cap(s);
    s->ecap = vtd_compute_ecap(s, s->cfg.eim == ON_OFF_AUTO_ON);
    vtd_regs_init(s);
    vtd_cache_init(s);
    vtd_walk_init(s);
    vtd_regs_reset(s);
    vtd_address_spaces_init(s);

    memory_region_init_io(&s->mmio, OBJECT(s), &vtd_mmio_ops, s,
                          "intel-iommu", VTD_MMIO_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(s), &s->mmio);
    sysbus_mmio_map(SYS_BUS_DEVICE(s), 0, Q35_HOST_BRIDGE_IOMMU_ADDR);
    pci_setup_iommu(bus, &vtd_pci_iommu_ops, s);

    /*
     * The IOAPIC sends its interrupts as requester Q35_PSEUDO_BUS_PLATFORM:
     * Q35_PSEUDO_DEVFN_IOAPIC, the scope the DMAR table gives it, through
     * the interrupt window like any device.
     */
    ioapic = vtd_address_space_get(s, NULL, Q35_PSEUDO_DEVFN_IOAPIC);
    ioapic->bus_num = Q35_PSEUDO_BUS_PLATFORM;
    ioapic->bus_fixed = true;
    X86_MACHINE(ms)->ioapic_as = &ioapic->as;
    vtd_migration_init(s);
    trace_vtd_realize(s->cap, s->ecap);
}

static void vtd_unrealize(DeviceState *dev)
{
    IntelIOMMUState *s = INTEL_IOMMU_DEVICE(dev);

    vtd_migration_destroy(s);
    g_clear_pointer(&s->address_spaces, g_hash_table_destroy);
    vtd_walk_destroy(s);
    vtd_ir_destroy(s);
    vtd_cache_destroy(s);
    g_clear_pointer(&s->registers, g_free);
    g_clear_pointer(&s->register_at, g_free);
}

static void vtd_reset_hold(Object *obj, ResetType type)
{
    IntelIOMMUState *s = INTEL_IOMMU_DEVICE(obj);

    vtd_regs_reset(s);
    vtd_cache_reset(s);
    vtd_address_space_switch_all(s);
}

/* Property names, types and defaults are the ones users and libvirt know. */
#define VTD_PROP_BOOL(name, field, def) \
    DEFINE_PROP_BOOL(name, IntelIOMMUState, field, def)

static const Property vtd_properties[] = {
    /* DMA remapping */
    DEFINE_PROP_UINT8("aw-bits", IntelIOMMUState, aw_bits,
                      VTD_HOST_AW_48BIT),
    VTD_PROP_BOOL("dma-translation", cfg.translation, true),
    VTD_PROP_BOOL("caching-mode", caching_mode, false),
    VTD_PROP_BOOL("dma-drain", cfg.drain, true),
    VTD_PROP_BOOL("snoop-control", cfg.snoop_control, false),
    /*
     * Not in the previous implementation, which had one record: more
     * records are guest-visible (CAP.NFR), so they are opt-in.
     */
    DEFINE_PROP_UINT8("fault-records", IntelIOMMUState, cfg.fault_records, 1),
    /* Scalable mode */
    VTD_PROP_BOOL("x-scalable-mode", cfg.scalable, false),
    VTD_PROP_BOOL("x-flts", cfg.first_stage, false),
    VTD_PROP_BOOL("fs1gp", cfg.fs_1g_pages, true),
    /*
     * Not in the previous implementation: nested translation (ECAP.NEST,
     * both stages) is guest-visible, so it is opt-in.
     */
    VTD_PROP_BOOL("x-nested", cfg.nested, false),
    VTD_PROP_BOOL("x-pasid-mode", cfg.pasid, false),
    /* Interrupt remapping (intremap itself belongs to x86-iommu) */
    DEFINE_PROP_ON_OFF_AUTO("eim", IntelIOMMUState, cfg.eim,
                            ON_OFF_AUTO_AUTO),
    VTD_PROP_BOOL("x-buggy-eim", cfg.eim_unchecked, false),
    VTD_PROP_BOOL("stale-tm", cfg.stale_tm, false),
    /* Accepted for command-line compatibility; it changes nothing. */
    DEFINE_PROP_UINT32("version", IntelIOMMUState, cfg.ignored_version, 0),
};

/* What `-device intel-iommu,help` says of each property. */
static const struct {
    const char *name;
    const char *description;
} vtd_property_help[] = {
    { "aw-bits", "host address width: 39, 48 or 57 bits "
      "(3-, 4- or 5-level tables)" },
    { "caching-mode", "CAP.CM: the guest invalidates new mappings too "
      "(needed by assigned devices)" },
    { "dma-translation", "DMA remapping at all (off: interrupt "
      "remapping only)" },
    { "dma-drain", "CAP.DRD/DWD: read and write draining" },
    { "snoop-control", "ECAP.SC: snoop control" },
    { "fault-records", "number of fault recording registers (1-64)" },
    { "x-scalable-mode", "scalable mode: PASID tables, second-stage or "
      "pass-through translation (experimental)" },
    { "x-flts", "first-stage translation in scalable mode (experimental)" },
    { "x-nested", "first- and second-stage translation, and nested "
      "(first over second), in scalable mode (experimental)" },
    { "fs1gp", "1 GiB first-stage pages (CAP.FS1GP)" },
    { "x-pasid-mode", "PASID support (experimental)" },
    { "eim", "x2APIC interrupt destinations (extended interrupt mode)" },
    { "x-buggy-eim", "old machine types' eim=auto behaviour" },
    { "stale-tm", "IOAPIC interrupts keep the entry's trigger mode "
      "(old machine types)" },
    { "version", "accepted for compatibility, no effect" },
};

static void vtd_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);
    X86IOMMUClass *x86_class = X86_IOMMU_DEVICE_CLASS(klass);

    rc->phases.hold = vtd_reset_hold;
    device_class_set_props(dc, vtd_properties);
    for (unsigned i = 0; i < ARRAY_SIZE(vtd_property_help); i++) {
        object_class_property_set_description(klass,
                                              vtd_property_help[i].name,
                                              vtd_property_help[i].description);
    }
    dc->hotpluggable = false;
    dc->unrealize = vtd_unrealize;
    dc->vmsd = &vtd_vmstate;
    dc->desc = "Intel IOMMU (VT-d) DMA Remapping device";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    x86_class->realize = vtd_realize;
    x86_class->int_remap = vtd_ir_int_remap;
}

static const TypeInfo vtd_info = {
    .name = TYPE_INTEL_IOMMU_DEVICE,
    .parent = TYPE_X86_IOMMU_DEVICE,
    .instance_size = sizeof(IntelIOMMUState),
    .class_init = vtd_class_init,
};

static void vtd_register_types(void)
{
    type_register_static(&vtd_info);
}

type_init(vtd_register_types)
