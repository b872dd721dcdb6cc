/*
 * qtest for the Intel VT-d remapping unit (intel-iommu)
 *
 * The tests act as a guest driver would, through tests/qtest/libqos/
 * intel-iommu.h.  Expected register values were observed on QEMU's
 * previous intel-iommu implementation for the same command lines: a guest
 * must see the same hardware on both (workshop/compare-stock.sh checks the
 * same thing side by side against a stock build).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "qobject/qbool.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"
#include "libqos/pci-pc.h"
#include "libqos/fw_cfg.h"
#include "hw/pci/pci_regs.h"
#include "libqos/intel-iommu.h"
#include "qemu/range.h"
#include "intel-iommu-vhost.h"

#define CAP_DEFAULT         0x00d2008c222f0606ULL
#define IVA_OFFSET          0xf0        /* ECAP.IRO * 16 */
#define ECAP_DEFAULT        0x0000000000f00f4aULL

static QTestState *vtd_start(const char *machine, const char *opts,
                             const char *extra)
{
    return qtest_initf("-machine %s -device intel-iommu%s%s %s",
                       machine, opts[0] ? "," : "", opts, extra);
}

/* Start q35 with intel-iommu,@opts and attach the guest driver to it. */
static QTestState *vtd_start_driver(QVTD *vtd, const char *opts)
{
    QTestState *qts = vtd_start("q35", opts, "");

    qvtd_init(vtd, qts);
    return qts;
}

/* ---- properties --------------------------------------------------------- */

typedef struct PropertyExpectation {
    const char *name;
    const char *type;
    const char *default_value;      /* as QMP prints it */
} PropertyExpectation;

static const PropertyExpectation expected_properties[] = {
    { "aw-bits",         "uint8",     "48" },
    { "caching-mode",    "bool",      "false" },
    { "device-iotlb",    "bool",      "false" },
    { "dma-drain",       "bool",      "true" },
    { "dma-translation", "bool",      "true" },
    { "fault-records",   "uint8",     "1" },
    { "eim",             "OnOffAuto", "auto" },
    { "fs1gp",           "bool",      "true" },
    { "intremap",        "OnOffAuto", "auto" },
    { "pt",              "bool",      "true" },
    { "snoop-control",   "bool",      "false" },
    { "stale-tm",        "bool",      "false" },
    { "version",         "uint32",    "0" },
    { "x-buggy-eim",     "bool",      "false" },
    { "x-flts",          "bool",      "false" },
    { "x-nested",        "bool",      "false" },
    { "x-pasid-mode",    "bool",      "false" },
    { "x-scalable-mode", "bool",      "false" },
};

static char *qobject_to_text(QObject *obj)
{
    switch (qobject_type(obj)) {
    case QTYPE_QBOOL:
        return g_strdup(qbool_get_bool(qobject_to(QBool, obj)) ?
                        "true" : "false");
    case QTYPE_QSTRING:
        return g_strdup(qstring_get_str(qobject_to(QString, obj)));
    case QTYPE_QNUM:
        return qnum_to_string(qobject_to(QNum, obj));
    default:
        return g_strdup("?");
    }
}

static void test_properties(void)
{
    QTestState *qts = qtest_init("-machine q35");
    QDict *resp = qtest_qmp(qts, "{'execute': 'device-list-properties',"
                            " 'arguments': {'typename': 'intel-iommu'}}");
    QList *props = qdict_get_qlist(resp, "return");
    unsigned found = 0, i;

    g_assert(props);
    for (i = 0; i < ARRAY_SIZE(expected_properties); i++) {
        const PropertyExpectation *exp = &expected_properties[i];
        QListEntry *e;
        bool seen = false;

        QLIST_FOREACH_ENTRY(props, e) {
            QDict *p = qobject_to(QDict, qlist_entry_obj(e));
            g_autofree char *def = NULL;

            if (strcmp(qdict_get_str(p, "name"), exp->name)) {
                continue;
            }
            seen = true;
            g_assert_cmpstr(qdict_get_str(p, "type"), ==, exp->type);
            g_assert(qdict_haskey(p, "default-value"));
            def = qobject_to_text(qdict_get(p, "default-value"));
            g_assert_cmpstr(def, ==, exp->default_value);
        }
        if (!seen) {
            g_test_message("missing property %s", exp->name);
        }
        g_assert(seen);
        found++;
    }
    g_assert_cmpuint(found, ==, ARRAY_SIZE(expected_properties));
    qobject_unref(resp);
    qtest_quit(qts);
}

/* ---- configuration errors ----------------------------------------------- */

typedef struct RealizeCase {
    const char *args;               /* after -display none -nodefaults */
    const char *error;              /* NULL: must start */
} RealizeCase;

static const RealizeCase realize_cases[] = {
    { "-M q35 -device intel-iommu", NULL },
    { "-M q35 -device intel-iommu,aw-bits=39", NULL },
    { "-M q35 -device intel-iommu,aw-bits=57", NULL },
    { "-M q35 -device intel-iommu,aw-bits=57,x-scalable-mode=on",
      "aw-bits=57 is not supported" },
    { "-M q35 -device intel-iommu,aw-bits=40",
      "aw-bits=40 is not supported" },
    { "-M q35 -device intel-iommu,aw-bits=0",
      "aw-bits=0 is not supported" },
    { "-M q35 -device intel-iommu,aw-bits=256", "aw-bits" },
    { "-M q35 -device intel-iommu,x-flts=on",
      "x-flts=on requires x-scalable-mode=on" },
    { "-M q35 -device intel-iommu,x-pasid-mode=on",
      "x-pasid-mode=on requires x-scalable-mode=on" },
    { "-M q35 -device intel-iommu,x-scalable-mode=on,x-flts=on,aw-bits=39",
      "first-stage tables need aw-bits=48" },
    { "-M q35 -device intel-iommu,x-scalable-mode=on,x-flts=on,aw-bits=57",
      NULL },
    { "-M q35 -device intel-iommu,x-scalable-mode=on,x-pasid-mode=on,"
      "device-iotlb=on", "cannot be combined with device-iotlb=on" },
    { "-M q35 -device intel-iommu,intremap=off,eim=on",
      "eim=on requires intremap=on" },
    { "-M q35 -device intel-iommu,fault-records=8", NULL },
    { "-M q35 -device intel-iommu,fault-records=0",
      "fault-records=0 is out of range" },
    { "-M q35 -device intel-iommu,fault-records=65",
      "fault-records=65 is out of range" },
    { "-M q35 -device intel-iommu,eim=maybe", "eim" },
    { "-M q35 -device intel-iommu,caching-mode=maybe", "caching-mode" },
    { "-M q35 -device intel-iommu -device intel-iommu",
      "multiple vIOMMUs" },
    { "-M pc -device intel-iommu", "intel-iommu" },
    { "-M q35 -device intel-iommu,nonexistent=1", "nonexistent" },
};

/* QEMU with @accel and @args must exit with an error containing @error. */
static void expect_refused(const char *accel, const char *args,
                           const char *error)
{
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *cmd = g_strdup_printf(
        /* timeout: a configuration wrongly accepted must not hang */
        "timeout 60 %s -accel %s -display none -nodefaults -S %s "
        "-qtest null -monitor none -serial none", qemu, accel, args);
    g_autofree char *err = NULL;
    g_auto(GStrv) argv = NULL;
    g_autoptr(GError) gerr = NULL;
    int status;

    g_assert(qemu);
    g_assert(g_shell_parse_argv(cmd, NULL, &argv, NULL));
    g_assert(g_spawn_sync(NULL, argv, NULL,
                          G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                          NULL, NULL, NULL, &err, &status, &gerr));
    g_test_message("%s -> %s", args, err);
    /* QEMU refused the configuration: it exited with an error. */
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), !=, 0);
    g_assert_nonnull(strstr(err, error));
}

static void test_realize_errors(void)
{
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(realize_cases); i++) {
        if (realize_cases[i].error) {   /* the others: valid-configs */
            expect_refused("qtest", realize_cases[i].args,
                           realize_cases[i].error);
        }
    }
}

/*
 * Under KVM, interrupt remapping needs the IOAPIC and MSI routing in QEMU:
 * with the in-kernel irqchip the error says what to use instead.
 */
static void test_realize_errors_kvm(void)
{
    if (!qtest_has_accel("kvm") || access("/dev/kvm", R_OK | W_OK)) {
        g_test_skip("KVM not available");
        return;
    }
    expect_refused("kvm", "-M q35,kernel-irqchip=on "
                   "-device intel-iommu,intremap=on",
                   "kernel-irqchip=on, please use 'split|off'");
}

static void test_valid_configs_start(void)
{
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(realize_cases); i++) {
        QTestState *qts;
        QVTD vtd;

        if (realize_cases[i].error) {
            continue;
        }
        qts = qtest_init(realize_cases[i].args);
        qvtd_init(&vtd, qts);
        g_assert_cmphex(qvtd_readl(&vtd, A_VER), ==, 0x10);
        qtest_quit(qts);
    }
}

/* ---- reset values ------------------------------------------------------- */

typedef struct ResetCase {
    const char *machine;
    const char *opts;
    uint64_t cap;
    uint64_t ecap;
} ResetCase;

static const ResetCase reset_cases[] = {
    { "q35", "", CAP_DEFAULT, ECAP_DEFAULT },
    { "q35", "intremap=on", CAP_DEFAULT, ECAP_DEFAULT },
    { "q35", "intremap=off", CAP_DEFAULT, 0xf42 },
    { "q35", "intremap=on,eim=on", CAP_DEFAULT, 0xf00f5a },
    { "q35", "intremap=on,eim=off", CAP_DEFAULT, ECAP_DEFAULT },
    { "q35", "eim=on", CAP_DEFAULT, 0xf00f5a },
    { "q35", "x-buggy-eim=on", CAP_DEFAULT, 0xf00f5a },
    { "q35", "x-buggy-eim=on,intremap=off", CAP_DEFAULT, 0xf42 },
    { "q35", "caching-mode=on", 0x00d2008c222f0686ULL, ECAP_DEFAULT },
    { "q35", "device-iotlb=on", CAP_DEFAULT, 0xf00f4e },
    { "q35", "pt=off", CAP_DEFAULT, 0xf00f0a },
    { "q35", "aw-bits=39", 0x00d2008c22260206ULL, ECAP_DEFAULT },
    { "q35", "snoop-control=on", CAP_DEFAULT, 0xf00fca },
    { "q35", "dma-drain=off", 0x0012008c222f0606ULL, ECAP_DEFAULT },
    { "q35", "dma-translation=off", 0x00d2008c222f0006ULL, ECAP_DEFAULT },
    { "q35", "stale-tm=on", CAP_DEFAULT, ECAP_DEFAULT },
    /* Opt-in: 5-level tables (SAGAW bit 3, MGAW 56). */
    { "q35", "aw-bits=57", 0x00d2008c22380e06ULL, ECAP_DEFAULT },
    { "q35", "fault-records=8", CAP_DEFAULT | (7ULL << 40), ECAP_DEFAULT },
    { "q35", "intremap=off,device-iotlb=on,pt=off", CAP_DEFAULT, 0xf06 },
    { "q35", "caching-mode=on,dma-drain=off,aw-bits=39",
      0x0012008c22260286ULL, ECAP_DEFAULT },
    { "q35", "x-scalable-mode=on", CAP_DEFAULT, 0x0000480080f00f4aULL },
    { "q35", "x-scalable-mode=on,aw-bits=39", 0x00d2008c22260206ULL,
      0x0000480080f00f4aULL },
    { "q35", "x-scalable-mode=on,device-iotlb=on", CAP_DEFAULT,
      0x0000480080f00f4eULL },
    { "q35", "x-scalable-mode=on,x-pasid-mode=on", CAP_DEFAULT,
      0x0000490080f00f4aULL },
    { "q35", "x-scalable-mode=on,x-flts=on", 0x01d2008c222f0606ULL,
      0x0000880000f00f4aULL },
    { "q35", "x-scalable-mode=on,x-flts=on,fs1gp=off", CAP_DEFAULT,
      0x0000880000f00f4aULL },
    /* Opt-in: 5-level first-stage tables (FS5LP, MGAW 56). */
    { "q35", "x-scalable-mode=on,x-flts=on,aw-bits=57",
      0x11d2008c22380e06ULL, 0x0000880000f00f4aULL },
    { "q35", "x-scalable-mode=on,x-flts=on,caching-mode=on",
      0x01d2008c222f0686ULL, 0x0000880000f00f4aULL },
    { "q35", "dma-translation=off,x-scalable-mode=on,x-flts=on",
      0x01d2008c222f0006ULL, 0x0000880000f00f4aULL },
    /* Machine-type compatibility: older q35 types keep their hardware. */
    { "pc-q35-2.11", "", 0x0012008c22260206ULL, ECAP_DEFAULT },
    { "pc-q35-5.0", "", 0x00d2008c22260206ULL, ECAP_DEFAULT },
    { "pc-q35-9.1", "", 0x00d2008c22260206ULL, ECAP_DEFAULT },
    { "pc-q35-9.2", "", CAP_DEFAULT, ECAP_DEFAULT },
};

/* Every register other than VER/CAP/ECAP after reset (11.4). */
static void check_reset_window(QVTD *vtd, uint64_t cap, uint64_t ecap)
{
    uint32_t off;

    for (off = 0; off < QVTD_WINDOW_SIZE; off += 4) {
        uint32_t expect = 0;

        switch (off) {
        case A_VER:
            expect = 0x10;
            break;
        case A_CAP:
        case A_CAP + 4:
            expect = cap >> ((off - A_CAP) * 8);
            break;
        case A_ECAP:
        case A_ECAP + 4:
            expect = ecap >> ((off - A_ECAP) * 8);
            break;
        case A_FECTL:
        case A_IECTL:
            expect = R_FECTL_IM_MASK;   /* events come out of reset masked */
            break;
        }
        if (qvtd_readl(vtd, off) != expect) {
            g_test_message("offset 0x%x: 0x%08x, expected 0x%08x", off,
                           qvtd_readl(vtd, off), expect);
        }
        g_assert_cmphex(qvtd_readl(vtd, off), ==, expect);
    }
}

static void test_reset_values(void)
{
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(reset_cases); i++) {
        const ResetCase *c = &reset_cases[i];
        QTestState *qts = vtd_start(c->machine, c->opts, "");
        QVTD vtd;

        g_test_message("%s %s", c->machine, c->opts);
        qvtd_init(&vtd, qts);
        g_assert_cmphex(qvtd_readq(&vtd, A_CAP), ==, c->cap);
        g_assert_cmphex(qvtd_readq(&vtd, A_ECAP), ==, c->ecap);
        check_reset_window(&vtd, c->cap, c->ecap);
        qtest_quit(qts);
    }
}

/* ---- register semantics ------------------------------------------------- */

/* Write @val to a register and check what reads back. */
static void assert_write32(QVTD *vtd, uint32_t offset, uint32_t val,
                           uint32_t expect)
{
    qvtd_writel(vtd, offset, val);
    g_assert_cmphex(qvtd_readl(vtd, offset), ==, expect);
}

static void assert_write64(QVTD *vtd, uint32_t offset, uint64_t val,
                           uint64_t expect)
{
    qvtd_writeq(vtd, offset, val);
    g_assert_cmphex(qvtd_readq(vtd, offset), ==, expect);
}

typedef struct WriteMaskCase {
    uint32_t offset;
    unsigned size;
    uint64_t readback;              /* after writing all ones */
} WriteMaskCase;

/* With default properties: aw-bits=48, no EIM, legacy mode. */
static const WriteMaskCase write_mask_cases[] = {
    { A_VER,     4, 0x10 },
    { A_CAP,     8, CAP_DEFAULT },
    { A_ECAP,    8, ECAP_DEFAULT },
    { A_GSTS,    4, 0 },
    { A_RTADDR,  8, 0x0000fffffffffc00ULL },
    { A_FEDATA,  4, 0xffff },
    { A_FEADDR,  4, 0xfffffffc },
    { A_FEUADDR, 4, 0 },                    /* only with EIM */
    { A_AFLOG,   8, 0 },
    { A_PMEN,    4, 0 },
    { A_IQH,     8, 0 },
    { A_IQA,     8, 0x0000fffffffff007ULL }, /* no DW in legacy mode */
    { A_IEDATA,  4, 0xffffffff },
    { A_IEADDR,  4, 0xfffffffc },
    { A_IQERCD,  8, 0 },
    { A_IRTA,    8, 0x0000fffffffff00fULL }, /* no EIME without EIM */
    { IVA_OFFSET, 8, 0x0000fffffffff07fULL },
    { 0x100,     8, 0 },                    /* reserved */
    { 0x230,     8, 0 },                    /* reserved */
    { 0xff8,     8, 0 },                    /* reserved, end of window */
};

static void test_write_masks(void)
{
    QVTD vtd;
    unsigned i;
    QTestState *qts = vtd_start_driver(&vtd, "");

    for (i = 0; i < ARRAY_SIZE(write_mask_cases); i++) {
        const WriteMaskCase *c = &write_mask_cases[i];

        if (c->size == 8) {
            qvtd_writeq(&vtd, c->offset, ~0ULL);
            g_assert_cmphex(qvtd_readq(&vtd, c->offset), ==, c->readback);
        } else {
            qvtd_writel(&vtd, c->offset, ~0U);
            g_assert_cmphex(qvtd_readl(&vtd, c->offset), ==, c->readback);
        }
    }
    /* Masks are restored by reset. */
    qtest_system_reset(qts);
    check_reset_window(&vtd, CAP_DEFAULT, ECAP_DEFAULT);
    qtest_quit(qts);
}

static void test_write_masks_eim(void)
{
    QTestState *qts = vtd_start("q35", "intremap=on,eim=on,"
                                "x-scalable-mode=on", "");
    QVTD vtd;

    qvtd_init(&vtd, qts);
    assert_write32(&vtd, A_FEUADDR, 0xffffffff, 0xffffffff);
    assert_write64(&vtd, A_IRTA, ~0ULL, 0x0000fffffffff80fULL);
    assert_write64(&vtd, A_IQA, ~0ULL, 0x0000fffffffff807ULL);
    qtest_quit(qts);
}

/* Write-1-to-clear and read-only bits of the status and event registers. */
static void test_status_registers(void)
{
    QVTD vtd;
    QTestState *qts = vtd_start_driver(&vtd, "");

    /* Nothing pending: writing ones clears nothing and sets nothing. */
    assert_write32(&vtd, A_FSTS, 0xffffffff, 0);
    assert_write32(&vtd, A_ICS, 0xffffffff, 0);
    /* IM is writable, IP is not. */
    assert_write32(&vtd, A_FECTL, 0, 0);
    assert_write32(&vtd, A_FECTL, R_FECTL_IP_MASK, 0);
    assert_write32(&vtd, A_FECTL, R_FECTL_IM_MASK, R_FECTL_IM_MASK);
    assert_write32(&vtd, A_IECTL, 0xffffffff, R_FECTL_IM_MASK);
    qtest_quit(qts);
}

/* 11.4.4: global commands and the status they produce. */
static void test_global_commands(void)
{
    QVTD vtd;
    QTestState *qts = vtd_start_driver(&vtd, "intremap=on");

    /* SRTP latches the root table pointer and reports it in RTPS. */
    qvtd_writeq(&vtd, A_RTADDR, 0x123000);
    g_assert(qvtd_global_command(&vtd, R_GSTS_SRTP_MASK, true));
    g_assert_cmphex(qvtd_readl(&vtd, A_GCMD), ==, 0);

    /* Enables follow the command, one at a time, and keep each other. */
    g_assert(qvtd_global_command(&vtd, R_GSTS_TE_MASK, true));
    g_assert(qvtd_global_command(&vtd, R_GSTS_QIE_MASK, true));
    g_assert(qvtd_global_command(&vtd, R_GSTS_IRE_MASK, true));
    g_assert_cmphex(qvtd_readl(&vtd, A_GSTS) &
                    (R_GSTS_TE_MASK | R_GSTS_QIE_MASK | R_GSTS_IRE_MASK), ==,
                    R_GSTS_TE_MASK | R_GSTS_QIE_MASK | R_GSTS_IRE_MASK);
    g_assert(qvtd_global_command(&vtd, R_GSTS_QIE_MASK, false));
    g_assert(qvtd_global_command(&vtd, R_GSTS_IRE_MASK, false));
    g_assert(qvtd_global_command(&vtd, R_GSTS_TE_MASK, false));
    g_assert_cmphex(qvtd_readl(&vtd, A_GSTS) & R_GSTS_TE_MASK, ==, 0);

    /* A byte write leaves the enables in the other bytes alone. */
    g_assert(qvtd_global_command(&vtd, R_GSTS_QIE_MASK, true));
    g_assert(qvtd_global_command(&vtd, R_GSTS_TE_MASK, true));
    qtest_writeb(qts, vtd.base + A_GCMD + 2, 0);
    g_assert_cmphex(qvtd_readl(&vtd, A_GSTS) &
                    (R_GSTS_TE_MASK | R_GSTS_QIE_MASK), ==,
                    R_GSTS_TE_MASK | R_GSTS_QIE_MASK);
    /* ... and one to the top byte commands exactly what it holds. */
    qtest_writeb(qts, vtd.base + A_GCMD + 3, R_GSTS_QIE_MASK >> 24);
    g_assert_cmphex(qvtd_readl(&vtd, A_GSTS) &
                    (R_GSTS_TE_MASK | R_GSTS_QIE_MASK), ==, R_GSTS_QIE_MASK);

    /* Reset clears every status bit. */
    qtest_system_reset(qts);
    g_assert_cmphex(qvtd_readl(&vtd, A_GSTS), ==, 0);
    qtest_quit(qts);
}

static void test_no_ir_without_intremap(void)
{
    QVTD vtd;
    QTestState *qts = vtd_start_driver(&vtd, "intremap=off");

    qvtd_writel(&vtd, A_GCMD, R_GSTS_IRE_MASK);
    g_assert_cmphex(qvtd_readl(&vtd, A_GSTS) & R_GSTS_IRE_MASK, ==, 0);
    qtest_quit(qts);
}

/*
 * Every offset of the window with every access size, aligned or not, read
 * and written: the device answers every one of them and keeps working.
 */
static void test_any_access(void)
{
    QVTD vtd;
    uint32_t off;
    QTestState *qts = vtd_start_driver(&vtd, "");

    for (off = 0; off < QVTD_WINDOW_SIZE; off++) {
        uint64_t addr = vtd.base + off;

        qtest_readb(qts, addr);
        if (off + 2 <= QVTD_WINDOW_SIZE) {
            qtest_readw(qts, addr);
        }
        if (off + 4 <= QVTD_WINDOW_SIZE) {
            qtest_readl(qts, addr);
        }
        if (off + 8 <= QVTD_WINDOW_SIZE) {
            qtest_readq(qts, addr);
        }
    }
    /* Reads of sub-registers agree with the whole register. */
    g_assert_cmphex(qtest_readw(qts, vtd.base + A_CAP + 2), ==,
                    (CAP_DEFAULT >> 16) & 0xffff);
    g_assert_cmphex(qtest_readl(qts, vtd.base + A_CAP + 3), ==,
                    (uint32_t)(CAP_DEFAULT >> 24));
    g_assert_cmphex(qtest_readq(qts, vtd.base + A_VER + 4), ==,
                    (uint64_t)(uint32_t)CAP_DEFAULT << 32);

    for (off = 0; off < QVTD_WINDOW_SIZE; off++) {
        uint64_t addr = vtd.base + off;

        qtest_writeb(qts, addr, 0xa5);
        if (off + 2 <= QVTD_WINDOW_SIZE) {
            qtest_writew(qts, addr, 0x5aa5);
        }
        if (off + 4 <= QVTD_WINDOW_SIZE) {
            qtest_writel(qts, addr, 0x12345678);
        }
        if (off + 8 <= QVTD_WINDOW_SIZE) {
            qtest_writeq(qts, addr, 0x0123456789abcdefULL);
        }
    }
    /* Read-only identification survived; reset brings the rest back. */
    g_assert_cmphex(qvtd_readl(&vtd, A_VER), ==, 0x10);
    g_assert_cmphex(qvtd_readq(&vtd, A_CAP), ==, CAP_DEFAULT);
    g_assert_cmphex(qvtd_readq(&vtd, A_ECAP), ==, ECAP_DEFAULT);
    qtest_system_reset(qts);
    check_reset_window(&vtd, CAP_DEFAULT, ECAP_DEFAULT);
    qtest_quit(qts);
}

/* The 8-byte FECTL write that aborted the previous implementation. */
static void test_event_control_qword(void)
{
    QVTD vtd;
    QTestState *qts = vtd_start_driver(&vtd, "");

    qvtd_writeq(&vtd, A_FECTL, 0x1234567800000000ULL);
    g_assert_cmphex(qvtd_readl(&vtd, A_FECTL), ==, 0);
    g_assert_cmphex(qvtd_readl(&vtd, A_FEDATA), ==, 0x5678);
    assert_write64(&vtd, A_IECTL, 0xffffffff80000000ULL, 0xffffffff80000000ULL);
    qvtd_writeq(&vtd, A_IEADDR, 0xffffffffffffffffULL);
    g_assert_cmphex(qvtd_readl(&vtd, A_IEADDR), ==, 0xfffffffc);
    qtest_quit(qts);
}

/* ---- DMA with translation disabled ------------------------------------- */

#define EDU_DEVFN           QPCI_DEVFN(4, 0)
#define EDU_DMA_SRC         0x80
#define EDU_DMA_DST         0x88
#define EDU_DMA_CNT         0x90
#define EDU_DMA_CMD         0x98
#define EDU_DMA_RUN         0x1
#define EDU_DMA_TO_RAM      0x2
#define EDU_BUFFER          0x40000

/* Request with PASID (patches/0011): the PASID goes in bits 15:8. */
#define EDU_DMA_PASID       0x8
#define EDU_DMA_PASID_SHIFT 8

static void edu_dma_cmd(QTestState *qts, QPCIDevice *dev, QPCIBar bar,
                        uint64_t src, uint64_t dst, uint64_t len,
                        uint64_t cmd)
{
    qpci_io_writeq(dev, bar, EDU_DMA_SRC, src);
    qpci_io_writeq(dev, bar, EDU_DMA_DST, dst);
    qpci_io_writeq(dev, bar, EDU_DMA_CNT, len);
    qpci_io_writeq(dev, bar, EDU_DMA_CMD, EDU_DMA_RUN | cmd);
    /* edu runs its DMA from a 100 ms timer. */
    qtest_clock_step(qts, 200 * 1000 * 1000);
    g_assert_cmphex(qpci_io_readl(dev, bar, EDU_DMA_CMD) & EDU_DMA_RUN, ==,
                    0);
}

static void edu_dma(QTestState *qts, QPCIDevice *dev, QPCIBar bar,
                    uint64_t src, uint64_t dst, uint64_t len, bool to_ram)
{
    edu_dma_cmd(qts, dev, bar, src, dst, len, to_ram ? EDU_DMA_TO_RAM : 0);
}

static void check_passthrough_dma(const char *opts, bool enable_te)
{
    QTestState *qts = vtd_start("q35", opts, "-device edu,addr=04.0");
    QPCIBus *pcibus = qpci_new_pc(qts, NULL);
    QPCIDevice *dev = qpci_device_find(pcibus, EDU_DEVFN);
    uint8_t pattern[256], back[256];
    QPCIBar bar;
    QVTD vtd;
    unsigned i;

    g_assert(dev);
    qvtd_init(&vtd, qts);
    qpci_device_enable(dev);
    bar = qpci_iomap(dev, 0, NULL);
    if (enable_te) {
        g_assert(qvtd_global_command(&vtd, R_GSTS_TE_MASK, true));
    }
    for (i = 0; i < sizeof(pattern); i++) {
        pattern[i] = i * 7 + 3;
    }
    qtest_memwrite(qts, 0x200000, pattern, sizeof(pattern));
    memset(back, 0, sizeof(back));
    qtest_memwrite(qts, 0x300000, back, sizeof(back));

    edu_dma(qts, dev, bar, 0x200000, EDU_BUFFER, sizeof(pattern), false);
    edu_dma(qts, dev, bar, EDU_BUFFER, 0x300000, sizeof(pattern), true);
    qtest_memread(qts, 0x300000, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), pattern, sizeof(pattern));

    g_free(dev);
    qpci_free_pc(pcibus);
    qtest_quit(qts);
}

/* GSTS.TE clear: requests are not translated (3.1). */
static void test_dma_translation_disabled(void)
{
    check_passthrough_dma("", false);
}

/* dma-translation=off: no translation even when the guest sets TE. */
static void test_dma_translation_off_property(void)
{
    check_passthrough_dma("dma-translation=off", true);
}

/* ---- ACPI DMAR table (VT-d chapter 8) ---------------------------------- */

#define DMAR_HEADER_SIZE    48      /* ACPI header + HAW, flags, reserved */

/* Find the DMAR table in the ACPI blob QEMU hands to the firmware. */
static uint8_t *fetch_dmar(QTestState *qts, uint32_t *len)
{
    QFWCFG *fw_cfg = pc_fw_cfg_init(qts);
    size_t blob_size = 1024 * 1024, size, off;
    g_autofree uint8_t *blob = g_malloc0(blob_size);
    uint8_t *dmar = NULL;

    size = qfw_cfg_get_file(fw_cfg, "etc/acpi/tables", blob, blob_size);
    g_assert_cmpuint(size, >, 0);
    g_assert_cmpuint(size, <=, blob_size);
    for (off = 0; off + DMAR_HEADER_SIZE <= size; off++) {
        uint32_t tlen = ldl_le_p(blob + off + 4);

        if (!memcmp(blob + off, "DMAR", 4) && blob[off + 8] == 1 &&
            tlen >= DMAR_HEADER_SIZE && off + tlen <= size) {
            dmar = g_memdup2(blob + off, tlen);
            *len = tlen;
            break;
        }
    }
    pc_fw_cfg_uninit(fw_cfg);
    return dmar;
}

typedef struct DmarCase {
    const char *opts;
    uint8_t haw;                    /* host address width - 1 */
    bool intr_remap;
    bool atsr;
} DmarCase;

static const DmarCase dmar_cases[] = {
    { "", 47, true, false },
    { "intremap=off,aw-bits=39", 38, false, false },
    { "intremap=on,device-iotlb=on", 47, true, true },
};

static void check_dmar(const DmarCase *c)
{
    QTestState *qts = vtd_start("q35", c->opts,
                                "-device edu,addr=04.0 "
                                "-device pcie-root-port,addr=05.0,chassis=9");
    uint32_t len = 0, off, drhd_len;
    g_autofree uint8_t *t = fetch_dmar(qts, &len);
    bool edu_seen = false, bridge_seen = false, atsr_seen = false;

    g_assert(t);
    g_assert_cmpuint(t[36], ==, c->haw);
    g_assert_cmpuint(t[37] & 1, ==, c->intr_remap);

    /* 8.3: one DRHD for the unit, not INCLUDE_PCI_ALL, at its base. */
    off = DMAR_HEADER_SIZE;
    g_assert_cmpuint(lduw_le_p(t + off), ==, 0);
    drhd_len = lduw_le_p(t + off + 2);
    g_assert_cmpuint(off + drhd_len, <=, len);
    g_assert_cmpuint(t[off + 4], ==, 0);
    g_assert_cmpuint(lduw_le_p(t + off + 6), ==, 0);
    g_assert_cmphex(ldq_le_p(t + off + 8), ==, QVTD_BASE);

    /* 8.3.1: the IOAPIC scope comes first, then the PCI devices. */
    g_assert_cmpuint(t[off + 16], ==, 3);
    g_assert_cmpuint(t[off + 17], ==, 8);
    g_assert_cmpuint(t[off + 21], ==, 0xff);
    for (off += 16; off < DMAR_HEADER_SIZE + drhd_len; off += t[off + 1]) {
        g_assert_cmpuint(t[off + 1], >=, 8);
        if (t[off + 5] == 0 && t[off + 6] == 4 && t[off + 7] == 0) {
            g_assert_cmpuint(t[off], ==, 1);        /* PCI endpoint */
            edu_seen = true;
        }
        if (t[off + 5] == 0 && t[off + 6] == 5 && t[off + 7] == 0) {
            g_assert_cmpuint(t[off], ==, 2);        /* PCI sub-hierarchy */
            bridge_seen = true;
        }
    }
    g_assert(edu_seen);
    g_assert(bridge_seen);

    /* 8.5: root-port ATS reporting only with device-iotlb. */
    for (; off + 4 <= len; off += lduw_le_p(t + off + 2)) {
        g_assert_cmpuint(lduw_le_p(t + off + 2), >=, 4);
        if (lduw_le_p(t + off) == 2) {
            g_assert_cmpuint(t[off + 4] & 1, ==, 1);     /* ALL_PORTS */
            atsr_seen = true;
        }
    }
    g_assert_cmpuint(atsr_seen, ==, c->atsr);
    qtest_quit(qts);
}

static void test_acpi_dmar(void)
{
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(dmar_cases); i++) {
        g_test_message("DMAR with '%s'", dmar_cases[i].opts);
        check_dmar(&dmar_cases[i]);
    }
}

/* ---- DMA remapping (legacy mode) ---------------------------------------- */

#define EDU_SID             0x0020          /* 00:04.0 */
#define PA_SRC              0x400000ULL     /* where test data lives */
#define PA_DST              0x500000ULL
#define IOVA_SRC            0x1000000ULL
#define IOVA_DST            0x1100000ULL
#define IOVA_HOLE           0x3000000ULL    /* another 2 MiB region */
#define XFER                256

typedef struct DmaEnv {
    QTestState *qts;
    QPCIBus *pcibus;
    QPCIDevice *dev;
    QPCIBar bar;
    QVTD vtd;
    uint64_t table;
    unsigned levels;
} DmaEnv;

/* The QEMU arguments of a DMA test machine. */
static char *dma_env_args(const char *opts, const char *extra)
{
    return g_strdup_printf("-machine q35 -device intel-iommu%s%s "
                           "-device edu,addr=04.0 %s",
                           opts[0] ? "," : "", opts, extra);
}

/* Find edu on a freshly started (or migrated) machine. */
static void dma_env_attach(DmaEnv *env)
{
    env->pcibus = qpci_new_pc(env->qts, NULL);
    env->dev = qpci_device_find(env->pcibus, EDU_DEVFN);
    g_assert(env->dev);
}

/*
 * As dma_env_start(), with more QEMU arguments (@extra), running the QEMU
 * binary named by the environment variable @binary_var (NULL: the one
 * under test).
 */
static void dma_env_start_from(DmaEnv *env, const char *binary_var,
                               const char *opts, unsigned levels,
                               const char *extra)
{
    g_autofree char *args = dma_env_args(opts, extra);

    env->qts = qtest_init_with_env(binary_var, args, true);
    dma_env_attach(env);
    qpci_device_enable(env->dev);
    env->bar = qpci_iomap(env->dev, 0, NULL);
    qvtd_init(&env->vtd, env->qts);
    env->levels = levels;
    qvtd_set_root(&env->vtd);
    env->table = qvtd_alloc_page(&env->vtd);
}

static void dma_env_start_with(DmaEnv *env, const char *opts, unsigned levels,
                               const char *extra)
{
    dma_env_start_from(env, NULL, opts, levels, extra);
}

static void dma_env_start(DmaEnv *env, const char *opts, unsigned levels)
{
    dma_env_start_with(env, opts, levels, "");
}

static void dma_env_stop(DmaEnv *env)
{
    g_free(env->dev);
    qpci_free_pc(env->pcibus);
    qtest_quit(env->qts);
}

static void assert_contains(const char *text, const char *what)
{
    if (!strstr(text, what)) {
        g_test_message("'%s' not in the output:", what);
        g_test_message("%s", text);
    }
    g_assert(strstr(text, what));
}

static void fill_pattern(QTestState *qts, uint64_t pa, uint8_t seed)
{
    uint8_t buf[XFER];
    unsigned i;

    for (i = 0; i < XFER; i++) {
        buf[i] = seed + i * 13;
    }
    qtest_memwrite(qts, pa, buf, sizeof(buf));
}

static void check_pattern(QTestState *qts, uint64_t pa, uint8_t seed)
{
    uint8_t buf[XFER], expect[XFER];
    unsigned i;

    for (i = 0; i < XFER; i++) {
        expect[i] = seed + i * 13;
    }
    qtest_memread(qts, pa, buf, sizeof(buf));
    g_assert_cmpmem(buf, sizeof(buf), expect, sizeof(expect));
}

/* edu reads @src_iova into its buffer, then writes it to @dst_iova. */
static void edu_copy(DmaEnv *env, uint64_t src_iova, uint64_t dst_iova)
{
    edu_dma(env->qts, env->dev, env->bar, src_iova, EDU_BUFFER, XFER, false);
    edu_dma(env->qts, env->dev, env->bar, EDU_BUFFER, dst_iova, XFER, true);
}

static void expect_fault(DmaEnv *env, uint64_t addr, uint8_t reason,
                         bool is_read)
{
    QVTDFault f;

    g_assert(qvtd_fault_pop(&env->vtd, &f));
    g_assert_cmphex(f.reason, ==, reason);
    g_assert_cmphex(f.sid, ==, EDU_SID);
    g_assert_cmphex(f.addr, ==, addr & ~0xfffULL);
    g_assert_cmpint(f.is_read, ==, is_read);
    /* One request, one fault: no overflow, nothing else pending. */
    g_assert_cmphex(qvtd_readl(&env->vtd, A_FSTS), ==, 0);
    g_assert(!qvtd_fault_pop(&env->vtd, &f));
}

/* edu reads @iova: a read fault with @reason is recorded, nothing else. */
static void expect_read_fault(DmaEnv *env, uint64_t iova, uint8_t reason)
{
    edu_dma(env->qts, env->dev, env->bar, iova, EDU_BUFFER, XFER, false);
    expect_fault(env, iova, reason, true);
}

static void check_translated_copy(const char *opts, unsigned levels,
                                  unsigned leaf_level)
{
    DmaEnv env;
    uint64_t page = 4096ULL << ((leaf_level - 1) * 9);
    uint64_t off = 0x1230 & (page - 1);
    QVTDFault f;

    dma_env_start(&env, opts, levels);
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 1, VTD_TT_UNTRANSLATED, levels,
                     env.table, false);
    /* Source read-only, destination write-only, at different addresses. */
    qvtd_map(&env.vtd, env.table, levels, QEMU_ALIGN_DOWN(IOVA_SRC, page),
             QEMU_ALIGN_DOWN(PA_SRC, page), leaf_level, true, false);
    qvtd_map(&env.vtd, env.table, levels,
             QEMU_ALIGN_DOWN(IOVA_DST, page) + 2 * page,
             QEMU_ALIGN_DOWN(PA_DST, page) + 2 * page, leaf_level,
             false, true);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));

    fill_pattern(env.qts, QEMU_ALIGN_DOWN(PA_SRC, page) + off, 0x11);
    edu_copy(&env, QEMU_ALIGN_DOWN(IOVA_SRC, page) + off,
             QEMU_ALIGN_DOWN(IOVA_DST, page) + 2 * page + off);
    check_pattern(env.qts, QEMU_ALIGN_DOWN(PA_DST, page) + 2 * page + off,
                  0x11);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));

    /* Writing the read-only source is a write fault (reason 5). */
    edu_dma(env.qts, env.dev, env.bar, EDU_BUFFER,
            QEMU_ALIGN_DOWN(IOVA_SRC, page) + off, XFER, true);
    expect_fault(&env, QEMU_ALIGN_DOWN(IOVA_SRC, page) + off,
                 VTD_FR_WRITE_DENIED, false);
    /* Reading the write-only destination is a read fault (reason 6). */
    edu_dma(env.qts, env.dev, env.bar,
            QEMU_ALIGN_DOWN(IOVA_DST, page) + 2 * page + off, EDU_BUFFER,
            XFER, false);
    expect_fault(&env, QEMU_ALIGN_DOWN(IOVA_DST, page) + 2 * page + off,
                 VTD_FR_READ_DENIED, true);
    dma_env_stop(&env);
}

static void test_translate_4level(void)
{
    check_translated_copy("", 4, 1);
}

static void test_translate_3level(void)
{
    check_translated_copy("aw-bits=39", 3, 1);
}

static void test_translate_5level(void)
{
    check_translated_copy("aw-bits=57", 5, 1);
}

static void test_translate_2m(void)
{
    check_translated_copy("", 4, 2);
}

static void test_translate_1g(void)
{
    DmaEnv env;

    /* 1 GiB identity page at 0: iova == pa below 1 GiB. */
    dma_env_start(&env, "", 4);
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 1, VTD_TT_UNTRANSLATED, 4,
                     env.table, false);
    qvtd_map(&env.vtd, env.table, 4, 0, 0, 3, true, true);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));
    fill_pattern(env.qts, PA_SRC + 0x40, 0x22);
    edu_copy(&env, PA_SRC + 0x40, PA_DST + 0x80);
    check_pattern(env.qts, PA_DST + 0x80, 0x22);
    dma_env_stop(&env);
}

static void test_pass_through(void)
{
    DmaEnv env;

    dma_env_start(&env, "", 4);
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 1, VTD_TT_PASS_THROUGH, 4, 0,
                     false);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));
    fill_pattern(env.qts, PA_SRC, 0x33);
    edu_copy(&env, PA_SRC, PA_DST);
    check_pattern(env.qts, PA_DST, 0x33);
    dma_env_stop(&env);
}

/* 7.1.3: one case per fault reason a legacy-mode walk can find. */
static void test_fault_reasons(void)
{
    DmaEnv env;
    uint64_t ctx_table, l3, l2;

    dma_env_start(&env, "", 4);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));

    /* Empty root table. */
    expect_read_fault(&env, IOVA_SRC, VTD_FR_ROOT_NOT_PRESENT);

    /* Root present, context entry not. */
    qvtd_set_context(&env.vtd, 0, QPCI_DEVFN(7, 0), 9, VTD_TT_UNTRANSLATED,
                     4, env.table, false);
    expect_read_fault(&env, IOVA_SRC, VTD_FR_CONTEXT_NOT_PRESENT);

    /* A depth the unit does not support (5 levels, SAGAW bit 3 clear). */
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 1, VTD_TT_UNTRANSLATED, 5,
                     env.table, false);
    expect_read_fault(&env, IOVA_SRC, VTD_FR_CONTEXT_INVALID);

    /* Reserved translation type 11b. */
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 1, 3, 4, env.table, false);
    expect_read_fault(&env, IOVA_SRC, VTD_FR_CONTEXT_INVALID);

    /* Reserved bits in the context entry. */
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 1, VTD_TT_UNTRANSLATED, 4,
                     env.table, false);
    ctx_table = qtest_readq(env.qts, env.vtd.root_table) & R_ROOT_LO_CTP_MASK;
    qtest_writeq(env.qts, ctx_table + EDU_DEVFN * 16 + 8,
                 qtest_readq(env.qts, ctx_table + EDU_DEVFN * 16 + 8) |
                 (1ULL << 40));
    expect_read_fault(&env, IOVA_SRC, VTD_FR_CONTEXT_RESERVED);

    /* Reserved bits in the root entry. */
    qtest_writeq(env.qts, env.vtd.root_table,
                 qtest_readq(env.qts, env.vtd.root_table) | (1ULL << 5));
    expect_read_fault(&env, IOVA_SRC, VTD_FR_ROOT_RESERVED);
    qtest_writeq(env.qts, env.vtd.root_table,
                 qtest_readq(env.qts, env.vtd.root_table) & ~(1ULL << 5));

    /* A good context entry, nothing mapped: read denied. */
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 1, VTD_TT_UNTRANSLATED, 4,
                     env.table, false);
    expect_read_fault(&env, IOVA_SRC, VTD_FR_READ_DENIED);

    /* Reserved address bits (above the host address width) in a PTE. */
    qvtd_map(&env.vtd, env.table, 4, IOVA_SRC, PA_SRC | (1ULL << 50), 1,
             true, true);
    expect_read_fault(&env, IOVA_SRC, VTD_FR_PAGE_TABLE_RESERVED);

    /* A next-level table pointer to where there is no memory. */
    l3 = qtest_readq(env.qts, env.table) & R_SSPTE_ADDR_MASK;
    l2 = qtest_readq(env.qts, l3) & R_SSPTE_ADDR_MASK;
    qtest_writeq(env.qts, l2 + ((IOVA_HOLE >> 21) & 0x1ff) * 8,
                 0x40000000000ULL | R_SSPTE_R_MASK | R_SSPTE_W_MASK);
    expect_read_fault(&env, IOVA_HOLE, VTD_FR_PAGE_TABLE_INVALID);
    dma_env_stop(&env);
}

/* FPD suppresses qualified faults only (7.1.1). */
static void test_fault_processing_disable(void)
{
    DmaEnv env;
    QVTDFault f;

    dma_env_start(&env, "", 4);
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 1, VTD_TT_UNTRANSLATED, 4,
                     env.table, true);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));
    edu_dma(env.qts, env.dev, env.bar, IOVA_SRC, EDU_BUFFER, XFER, false);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    g_assert_cmphex(qvtd_readl(&env.vtd, A_FSTS), ==, 0);
    dma_env_stop(&env);
}

/* 7.3.1: with one record, a second fault overflows until it is read. */
static void test_fault_overflow_and_event(void)
{
    DmaEnv env;
    QVTDFault f;
    const uint64_t msi = 0x600000;

    dma_env_start(&env, "", 4);
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 1, VTD_TT_UNTRANSLATED, 4,
                     env.table, false);
    /* Fault events land in RAM here, so the test can see them. */
    qvtd_writel(&env.vtd, A_FEADDR, msi);
    qvtd_writel(&env.vtd, A_FEDATA, 0x4242);
    qtest_writel(env.qts, msi, 0);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));

    /* Masked: IP is set, nothing is sent. */
    edu_dma(env.qts, env.dev, env.bar, IOVA_SRC, EDU_BUFFER, XFER, false);
    g_assert(qvtd_readl(&env.vtd, A_FECTL) & R_FECTL_IP_MASK);
    g_assert_cmphex(qtest_readl(env.qts, msi), ==, 0);
    /* A second fault: the only record is busy, PFO. */
    edu_dma(env.qts, env.dev, env.bar, IOVA_DST, EDU_BUFFER, XFER, false);
    g_assert(qvtd_readl(&env.vtd, A_FSTS) & R_FSTS_PFO_MASK);
    /* Unmasking sends the pending event and clears IP. */
    qvtd_writel(&env.vtd, A_FECTL, 0);
    g_assert_cmphex(qtest_readl(env.qts, msi), ==, 0x4242);
    g_assert_cmphex(qvtd_readl(&env.vtd, A_FECTL), ==, 0);

    g_assert(qvtd_fault_pop(&env.vtd, &f));
    g_assert_cmphex(f.addr, ==, IOVA_SRC);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    qvtd_writel(&env.vtd, A_FSTS, R_FSTS_PFO_MASK);
    g_assert_cmphex(qvtd_readl(&env.vtd, A_FSTS), ==, 0);

    /* Unmasked: a new fault is recorded and sent at once. */
    qtest_writel(env.qts, msi, 0);
    edu_dma(env.qts, env.dev, env.bar, IOVA_DST, EDU_BUFFER, XFER, false);
    g_assert_cmphex(qtest_readl(env.qts, msi), ==, 0x4242);
    expect_fault(&env, IOVA_DST, VTD_FR_READ_DENIED, true);
    dma_env_stop(&env);
}

/* ---- invalidation -------------------------------------------------------- */

static void test_register_invalidation(void)
{
    QVTD vtd;
    uint64_t ccmd, iotlb;
    QTestState *qts = vtd_start_driver(&vtd, "");

    qvtd_writeq(&vtd, A_CCMD, R_CCMD_ICC_MASK |
                FIELD_DP64(0, CCMD, CIRG, VTD_GRAN_GLOBAL));
    ccmd = qvtd_readq(&vtd, A_CCMD);
    g_assert_cmphex(ccmd & R_CCMD_ICC_MASK, ==, 0);
    g_assert_cmpuint(FIELD_EX64(ccmd, CCMD, CAIG), ==, VTD_GRAN_GLOBAL);

    qvtd_writeq(&vtd, IVA_OFFSET, 0x123000);
    qvtd_writeq(&vtd, IVA_OFFSET + 8, R_IOTLB_IVT_MASK |
                FIELD_DP64(0, IOTLB, IIRG, VTD_GRAN_DOMAIN) |
                FIELD_DP64(0, IOTLB, DID, 5));
    iotlb = qvtd_readq(&vtd, IVA_OFFSET + 8);
    g_assert_cmphex(iotlb & R_IOTLB_IVT_MASK, ==, 0);
    g_assert_cmpuint(FIELD_EX64(iotlb, IOTLB, IAIG), ==, VTD_GRAN_DOMAIN);
    qtest_quit(qts);
}

static void test_queued_invalidation(void)
{
    QVTD vtd;
    uint64_t head;
    QTestState *qts = vtd_start_driver(&vtd, "");

    qvtd_queue_enable(&vtd, false);
    qvtd_queue_submit(&vtd, VTD_INV_CONTEXT_CACHE |
                      FIELD_DP64(0, INV_CC, G, VTD_GRAN_GLOBAL), 0);
    qvtd_queue_submit(&vtd, VTD_INV_IOTLB |
                      FIELD_DP64(0, INV_IOTLB, G, VTD_GRAN_GLOBAL), 0);
    g_assert(qvtd_queue_wait(&vtd));
    g_assert_cmphex(qvtd_readq(&vtd, A_IQH), ==, qvtd_readq(&vtd, A_IQT));

    /* An invalid descriptor stops the queue on itself (6.5.2.10). */
    head = qvtd_readq(&vtd, A_IQH);
    qvtd_queue_submit(&vtd, 0xf, 0);
    g_assert(qvtd_readl(&vtd, A_FSTS) & R_FSTS_IQE_MASK);
    g_assert_cmphex(qvtd_readq(&vtd, A_IQH), ==, head);
    g_assert(!qvtd_queue_wait(&vtd));
    /* Fixing the descriptor and clearing IQE resumes the queue. */
    qtest_writeq(qts, vtd.queue + head, VTD_INV_IOTLB |
                 FIELD_DP64(0, INV_IOTLB, G, VTD_GRAN_GLOBAL));
    qvtd_writel(&vtd, A_FSTS, R_FSTS_IQE_MASK);
    g_assert_cmphex(qvtd_readq(&vtd, A_IQH), ==, qvtd_readq(&vtd, A_IQT));
    g_assert_cmphex(qtest_readl(qts, vtd.status_page), ==, vtd.wait_seq);

    /* Wait with interrupt: ICS.IWC and an invalidation event. */
    qvtd_writel(&vtd, A_IEADDR, 0x600000);
    qvtd_writel(&vtd, A_IEDATA, 0x77);
    qvtd_writel(&vtd, A_IECTL, 0);
    qtest_writel(qts, 0x600000, 0);
    qvtd_queue_submit(&vtd, VTD_INV_WAIT | R_INV_WAIT_IF_MASK, 0);
    g_assert(qvtd_readl(&vtd, A_ICS) & R_ICS_IWC_MASK);
    g_assert_cmphex(qtest_readl(qts, 0x600000), ==, 0x77);
    qvtd_writel(&vtd, A_ICS, R_ICS_IWC_MASK);
    g_assert_cmphex(qvtd_readl(&vtd, A_ICS), ==, 0);
    qtest_quit(qts);
}

/*
 * Reserved bits make a descriptor invalid (6.5.2.10): the queue stops on
 * it with IQE, whatever the descriptor type.
 */
static void test_queue_reserved_bits(void)
{
    static const struct {
        uint64_t lo, hi, hi2;
        bool wide;
    } bad[] = {
        { VTD_INV_CONTEXT_CACHE | (1ULL << 12) | (1 << 4), 0 },
        { VTD_INV_CONTEXT_CACHE | (1 << 4), 1 },
        { VTD_INV_IOTLB | (1 << 4) | (1ULL << 40), 0 },
        { VTD_INV_IOTLB | (3 << 4), 1 << 8 },
        { VTD_INV_IOTLB | (0 << 4), 0 },                /* granularity 0 */
        { VTD_INV_WAIT | (1ULL << 20), 0 },
        { VTD_INV_WAIT, 1 },
        { VTD_INV_IOTLB | (1 << 4), 0, 1, true },      /* bits 191:128 */
    };
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        QVTD vtd;
        /* 256-bit descriptors exist with scalable mode only (IQA.DW). */
        QTestState *qts = vtd_start_driver(&vtd, bad[i].wide ?
                                           "x-scalable-mode=on" : "");
        uint64_t slot;

        qvtd_queue_enable(&vtd, bad[i].wide);
        slot = vtd.queue + vtd.queue_tail;
        if (bad[i].wide) {
            qtest_writeq(qts, slot + 16, bad[i].hi2);
        }
        qtest_writeq(qts, slot, bad[i].lo);
        qtest_writeq(qts, slot + 8, bad[i].hi);
        vtd.queue_tail += bad[i].wide ? 32 : 16;
        qvtd_writeq(&vtd, A_IQT, vtd.queue_tail);
        g_test_message("descriptor %u: 0x%" PRIx64 " 0x%" PRIx64, i,
                       bad[i].lo, bad[i].hi);
        g_assert(qvtd_readl(&vtd, A_FSTS) & R_FSTS_IQE_MASK);
        g_assert_cmphex(qvtd_readq(&vtd, A_IQH), ==, 0);
        qtest_quit(qts);
    }
}

/* ---- caches -------------------------------------------------------------- */

#define PA_SRC2             0x480000ULL     /* the second source page */
#define PA_SRC3             0x440000ULL     /* a third source page */
#define DID_EDU             1

/* The seed of the data edu reads at @iova now (fill_pattern's first byte). */
static uint8_t edu_reads(DmaEnv *env, uint64_t iova)
{
    qtest_writeb(env->qts, PA_DST, 0);
    edu_copy(env, iova, IOVA_DST);
    return qtest_readb(env->qts, PA_DST);
}

/*
 * edu in domain DID_EDU reads IOVA_SRC, mapped to PA_SRC (seed 0x11), so
 * the context entry and both translations are cached; PA_SRC2 holds seed
 * 0x22 for tests to remap to.
 */
static void cache_env_start(DmaEnv *env, const char *opts, bool queued)
{
    dma_env_start(env, opts, 4);
    if (queued) {
        qvtd_queue_enable(&env->vtd, false);
    }
    qvtd_set_context(&env->vtd, 0, EDU_DEVFN, DID_EDU, VTD_TT_UNTRANSLATED,
                     4, env->table, false);
    qvtd_map(&env->vtd, env->table, 4, IOVA_SRC, PA_SRC, 1, true, false);
    qvtd_map(&env->vtd, env->table, 4, IOVA_DST, PA_DST, 1, false, true);
    fill_pattern(env->qts, PA_SRC, 0x11);
    fill_pattern(env->qts, PA_SRC2, 0x22);
    g_assert(qvtd_global_command(&env->vtd, R_GSTS_TE_MASK, true));
    g_assert_cmphex(edu_reads(env, IOVA_SRC), ==, 0x11);
}

static void cache_env_stop(DmaEnv *env)
{
    QVTDFault f;

    g_assert(!qvtd_fault_pop(&env->vtd, &f));
    dma_env_stop(env);
}

static void remap_source(DmaEnv *env, uint64_t pa)
{
    qvtd_map(&env->vtd, env->table, 4, IOVA_SRC, pa, 1, true, false);
}

/*
 * 6.5.1.2 / 6.5.2.3: a changed translation stays in use until an IOTLB
 * invalidation that covers it; the ones that do not cover it leave it.
 */
static void check_iotlb_invalidation(bool queued)
{
    DmaEnv env;
    QVTD *vtd = &env.vtd;

    cache_env_start(&env, "", queued);
    remap_source(&env, PA_SRC2);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);

    /* Another domain, another page, the page in another domain. */
    g_assert_cmpuint(qvtd_invalidate_iotlb(vtd, VTD_GRAN_DOMAIN,
                                           DID_EDU + 1, 0, 0),
                     ==, VTD_GRAN_DOMAIN);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
    g_assert_cmpuint(qvtd_invalidate_iotlb(vtd, VTD_GRAN_DEVICE_OR_PAGE,
                                           DID_EDU, IOVA_SRC + 0x4000, 2),
                     ==, VTD_GRAN_DEVICE_OR_PAGE);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
    qvtd_invalidate_iotlb(vtd, VTD_GRAN_DEVICE_OR_PAGE, DID_EDU + 1,
                          IOVA_SRC, 0);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);

    /* The page, as part of an aligned 4-page range (AM = 2). */
    qvtd_invalidate_iotlb(vtd, VTD_GRAN_DEVICE_OR_PAGE, DID_EDU,
                          IOVA_SRC + 0x3000, 2);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x22);

    /* Domain-selective. */
    remap_source(&env, PA_SRC);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x22);
    qvtd_invalidate_iotlb(vtd, VTD_GRAN_DOMAIN, DID_EDU, 0, 0);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);

    /* Global. */
    remap_source(&env, PA_SRC2);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
    g_assert_cmpuint(qvtd_invalidate_iotlb(vtd, VTD_GRAN_GLOBAL, 0, 0, 0),
                     ==, VTD_GRAN_GLOBAL);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x22);

    /* An unmapped page stays usable until invalidated, then faults. */
    qvtd_unmap(vtd, env.table, 4, IOVA_SRC, 1);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x22);
    qvtd_invalidate_iotlb(vtd, VTD_GRAN_DEVICE_OR_PAGE, DID_EDU, IOVA_SRC, 0);
    expect_read_fault(&env, IOVA_SRC, VTD_FR_READ_DENIED);
    cache_env_stop(&env);
}

/*
 * dma_env_start() with a second edu at 00:05.0, which is returned,
 * enabled, with its BAR in @bar2.
 */
static QPCIDevice *dma_env_start_two(DmaEnv *env, QPCIBar *bar2)
{
    QPCIDevice *dev2;

    dma_env_start_with(env, "", 4, "-device edu,addr=05.0");
    dev2 = qpci_device_find(env->pcibus, QPCI_DEVFN(5, 0));
    g_assert(dev2);
    qpci_device_enable(dev2);
    *bar2 = qpci_iomap(dev2, 0, NULL);
    return dev2;
}

/* edu_reads() through another edu device. */
static uint8_t edu_reads_via(DmaEnv *env, QPCIDevice *dev, QPCIBar bar,
                             uint64_t iova)
{
    QPCIDevice *first = env->dev;
    QPCIBar first_bar = env->bar;
    uint8_t seed;

    env->dev = dev;
    env->bar = bar;
    seed = edu_reads(env, iova);
    env->dev = first;
    env->bar = first_bar;
    return seed;
}

/*
 * The IOTLB is tagged by domain, not by requester (6.2.3): a second
 * device in the same domain uses what the first one cached, one
 * invalidation covers both, and a device moved to another domain stops
 * sharing.
 */
static void test_iotlb_shared_domain(void)
{
    DmaEnv env;
    QPCIDevice *dev2;
    QPCIBar bar2;
    uint64_t table2;
    QVTDFault f;

    dev2 = dma_env_start_two(&env, &bar2);
    qvtd_queue_enable(&env.vtd, false);
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, DID_EDU, VTD_TT_UNTRANSLATED, 4,
                     env.table, false);
    qvtd_set_context(&env.vtd, 0, QPCI_DEVFN(5, 0), DID_EDU,
                     VTD_TT_UNTRANSLATED, 4, env.table, false);
    qvtd_map(&env.vtd, env.table, 4, IOVA_SRC, PA_SRC, 1, true, false);
    qvtd_map(&env.vtd, env.table, 4, IOVA_DST, PA_DST, 1, false, true);
    fill_pattern(env.qts, PA_SRC, 0x11);
    fill_pattern(env.qts, PA_SRC2, 0x22);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));

    /* The first device caches the source; the second one uses it. */
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
    remap_source(&env, PA_SRC2);
    g_assert_cmphex(edu_reads_via(&env, dev2, bar2, IOVA_SRC), ==, 0x11);
    qvtd_invalidate_iotlb(&env.vtd, VTD_GRAN_DEVICE_OR_PAGE, DID_EDU,
                          IOVA_SRC, 0);
    g_assert_cmphex(edu_reads_via(&env, dev2, bar2, IOVA_SRC), ==, 0x22);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x22);

    /* The second device moves to its own domain and tables. */
    table2 = qvtd_alloc_page(&env.vtd);
    qvtd_map(&env.vtd, table2, 4, IOVA_SRC, PA_SRC, 1, true, false);
    qvtd_map(&env.vtd, table2, 4, IOVA_DST, PA_DST, 1, false, true);
    qvtd_set_context(&env.vtd, 0, QPCI_DEVFN(5, 0), DID_EDU + 1,
                     VTD_TT_UNTRANSLATED, 4, table2, false);
    qvtd_invalidate_context(&env.vtd, VTD_GRAN_DEVICE_OR_PAGE, DID_EDU,
                            EDU_SID + 8, 0);    /* 00:05.0 */
    g_assert_cmphex(edu_reads_via(&env, dev2, bar2, IOVA_SRC), ==, 0x11);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x22);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    g_free(dev2);
    dma_env_stop(&env);
}

static void test_iotlb_invalidation_registers(void)
{
    check_iotlb_invalidation(false);
}

static void test_iotlb_invalidation_queue(void)
{
    check_iotlb_invalidation(true);
}

/* Beyond CAP.MAMV a page range is done as the whole domain (IAIG). */
static void test_iotlb_invalidation_beyond_mamv(void)
{
    DmaEnv env;
    unsigned mamv;

    cache_env_start(&env, "", false);
    mamv = FIELD_EX64(qvtd_readq(&env.vtd, A_CAP), CAP, MAMV);
    remap_source(&env, PA_SRC2);
    g_assert_cmpuint(qvtd_invalidate_iotlb(&env.vtd, VTD_GRAN_DEVICE_OR_PAGE,
                                           DID_EDU, 0x40000000, mamv + 1),
                     ==, VTD_GRAN_DOMAIN);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x22);
    cache_env_stop(&env);
}

/*
 * 6.5.1.1 / 6.5.2.1: a changed context entry stays in use until a
 * context-cache invalidation that covers it.
 */
static void check_context_invalidation(bool queued)
{
    DmaEnv env;
    QVTD *vtd = &env.vtd;
    uint64_t table2;

    cache_env_start(&env, "", queued);
    /* Domain 2 maps the source to PA_SRC2. */
    table2 = qvtd_alloc_page(vtd);
    qvtd_map(vtd, table2, 4, IOVA_SRC, PA_SRC2, 1, true, false);
    qvtd_map(vtd, table2, 4, IOVA_DST, PA_DST, 1, false, true);
    qvtd_set_context(vtd, 0, EDU_DEVFN, DID_EDU + 1, VTD_TT_UNTRANSLATED, 4,
                     table2, false);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);

    /* The new domain is not the cached one; another device; */
    g_assert_cmpuint(qvtd_invalidate_context(vtd, VTD_GRAN_DOMAIN,
                                             DID_EDU + 1, 0, 0),
                     ==, VTD_GRAN_DOMAIN);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
    g_assert_cmpuint(qvtd_invalidate_context(vtd, VTD_GRAN_DEVICE_OR_PAGE,
                                             DID_EDU, EDU_SID + 8, 0),
                     ==, VTD_GRAN_DEVICE_OR_PAGE);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
    /* ... another function of the same device, without a function mask. */
    qvtd_invalidate_context(vtd, VTD_GRAN_DEVICE_OR_PAGE, DID_EDU,
                            EDU_SID | 7, 0);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
    /* With FM = 3 the function bits are ignored: edu is covered. */
    qvtd_invalidate_context(vtd, VTD_GRAN_DEVICE_OR_PAGE, DID_EDU,
                            EDU_SID | 7, 3);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x22);

    /* Domain-selective, naming the domain now cached. */
    qvtd_set_context(vtd, 0, EDU_DEVFN, DID_EDU, VTD_TT_UNTRANSLATED, 4,
                     env.table, false);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x22);
    qvtd_invalidate_context(vtd, VTD_GRAN_DOMAIN, DID_EDU + 1, 0, 0);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);

    /* Global. */
    qvtd_set_context(vtd, 0, EDU_DEVFN, DID_EDU + 1, VTD_TT_UNTRANSLATED, 4,
                     table2, false);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
    g_assert_cmpuint(qvtd_invalidate_context(vtd, VTD_GRAN_GLOBAL, 0, 0, 0),
                     ==, VTD_GRAN_GLOBAL);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x22);

    /*
     * Nor does the requester's last translation outlive the entry it came
     * from: edu reads the same page just before and just after the change,
     * with no other access in between.
     */
    qvtd_set_context(vtd, 0, EDU_DEVFN, DID_EDU, VTD_TT_UNTRANSLATED, 4,
                     env.table, false);
    qvtd_invalidate_context(vtd, VTD_GRAN_GLOBAL, 0, 0, 0);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
    edu_dma(env.qts, env.dev, env.bar, IOVA_SRC, EDU_BUFFER, XFER, false);
    qvtd_set_context(vtd, 0, EDU_DEVFN, DID_EDU + 1, VTD_TT_UNTRANSLATED, 4,
                     table2, false);
    qvtd_invalidate_context(vtd, VTD_GRAN_DEVICE_OR_PAGE, DID_EDU, EDU_SID,
                            0);
    qtest_writeb(env.qts, PA_DST, 0);
    edu_copy(&env, IOVA_SRC, IOVA_DST);
    g_assert_cmphex(qtest_readb(env.qts, PA_DST), ==, 0x22);
    cache_env_stop(&env);
}

/*
 * A miss on a 4 KiB page also caches the present, well-formed leaves of
 * the same 64-byte line of the table (what a unit reading its tables a
 * line at a time may do, 6.1), and nothing else: not entries that are not
 * present (a page mapped later needs no invalidation), not entries with
 * reserved bits (their access still faults), and with the permissions
 * the entries give.
 */
static void test_iotlb_line_fill(void)
{
    const uint64_t line = IOVA_SRC + 8 * 4096;   /* a line of its own */
    g_autofree char *info = NULL;
    DmaEnv env;
    QVTD *vtd = &env.vtd;

    cache_env_start(&env, "", false);
    fill_pattern(env.qts, PA_SRC3, 0x33);
    qvtd_map(vtd, env.table, 4, line, PA_SRC, 1, true, false);
    qvtd_map(vtd, env.table, 4, line + 0x1000, PA_SRC2, 1, true, false);
    qvtd_map(vtd, env.table, 4, line + 0x2000, PA_SRC | (1ULL << 50), 1,
             true, true);
    qvtd_map(vtd, env.table, 4, line + 0x4000, PA_SRC, 1, true, false);
    qvtd_map(vtd, env.table, 4, line + 0x7000, PA_SRC2, 1, true, true);
    g_assert_cmphex(edu_reads(&env, line), ==, 0x11);
    info = qtest_hmp(env.qts, "info intel-iommu");
    assert_contains(info, "misses (3 more entries filled with them)");

    /* Filled: a changed entry stays in use until it is invalidated. */
    qvtd_map(vtd, env.table, 4, line + 0x1000, PA_SRC3, 1, true, false);
    g_assert_cmphex(edu_reads(&env, line + 0x1000), ==, 0x22);
    qvtd_invalidate_iotlb(vtd, VTD_GRAN_DEVICE_OR_PAGE, DID_EDU,
                          line + 0x1000, 0);
    g_assert_cmphex(edu_reads(&env, line + 0x1000), ==, 0x33);
    /* Not present then: mapped now, in use with no invalidation. */
    qvtd_map(vtd, env.table, 4, line + 0x3000, PA_SRC3, 1, true, false);
    g_assert_cmphex(edu_reads(&env, line + 0x3000), ==, 0x33);
    /* Read-only: a write faults; read-write: a write goes through. */
    edu_dma(env.qts, env.dev, env.bar, EDU_BUFFER, line + 0x4000, XFER,
            true);
    expect_fault(&env, line + 0x4000, VTD_FR_WRITE_DENIED, false);
    edu_dma(env.qts, env.dev, env.bar, EDU_BUFFER, line + 0x7000, XFER,
            true);
    check_pattern(env.qts, PA_SRC2, 0x33);
    /* Reserved bits: faults, as a walk of its own does. */
    expect_read_fault(&env, line + 0x2000, VTD_FR_PAGE_TABLE_RESERVED);
    cache_env_stop(&env);
}

/* edu reads @iova into its buffer, with no other access. */
static void edu_fetch(DmaEnv *env, uint64_t iova)
{
    edu_dma(env->qts, env->dev, env->bar, iova, EDU_BUFFER, XFER, false);
}

/* What edu_fetch() got: the buffer's first byte, through IOVA_DST. */
static uint8_t edu_fetched(DmaEnv *env)
{
    qtest_writeb(env->qts, PA_DST, 0);
    edu_dma(env->qts, env->dev, env->bar, EDU_BUFFER, IOVA_DST, XFER, true);
    return qtest_readb(env->qts, PA_DST);
}

/*
 * The requester's recent translations (vtd_translate()'s fast path) go
 * with the IOTLB entries they came from: a page-selective invalidation
 * drops a page from them whether it was the last one used or not, and
 * leaves the others in use.
 */
static void test_recent_hits_invalidation(void)
{
    const uint64_t next = IOVA_SRC + 0x1000;
    DmaEnv env;
    QVTD *vtd = &env.vtd;

    cache_env_start(&env, "", false);
    fill_pattern(env.qts, PA_SRC3, 0x33);
    qvtd_map(vtd, env.table, 4, next, PA_SRC2, 1, true, false);

    /* The last one. */
    edu_fetch(&env, IOVA_SRC);
    remap_source(&env, PA_SRC3);
    qvtd_invalidate_iotlb(vtd, VTD_GRAN_DEVICE_OR_PAGE, DID_EDU, IOVA_SRC,
                          0);
    edu_fetch(&env, IOVA_SRC);
    g_assert_cmphex(edu_fetched(&env), ==, 0x33);

    /* One before the last (another line, so that it is a miss). */
    qvtd_map(vtd, env.table, 4, IOVA_SRC + 0x9000, PA_SRC2, 1, true, false);
    edu_fetch(&env, IOVA_SRC);
    edu_fetch(&env, IOVA_SRC + 0x9000);
    remap_source(&env, PA_SRC);
    qvtd_invalidate_iotlb(vtd, VTD_GRAN_DEVICE_OR_PAGE, DID_EDU, IOVA_SRC,
                          0);
    edu_fetch(&env, IOVA_SRC);
    g_assert_cmphex(edu_fetched(&env), ==, 0x11);

    /* Filled with the line: not invalidated, still in use. */
    qvtd_map(vtd, env.table, 4, next, PA_SRC3, 1, true, false);
    edu_fetch(&env, next);
    g_assert_cmphex(edu_fetched(&env), ==, 0x22);
    qvtd_invalidate_iotlb(vtd, VTD_GRAN_DOMAIN, DID_EDU, 0, 0);
    edu_fetch(&env, next);
    g_assert_cmphex(edu_fetched(&env), ==, 0x33);
    cache_env_stop(&env);
}

/*
 * Pages the paging-structure cache tests read: in IOVA_SRC's 2 MiB
 * region, each in a line of the leaf table of its own.
 */
#define PSC_PAGE(k)         (IOVA_SRC + (k) * 0x10000ULL)

/* Write @pde, a leaf table's address and R/W bits, above IOVA_SRC. */
static void set_leaf_table(DmaEnv *env, uint64_t pde)
{
    qtest_writeq(env->qts, qvtd_entry_addr(&env->vtd, env->table, 4,
                                            IOVA_SRC, 2), pde);
}

/*
 * Paging-structure cache (6.2.4): walks cache the leaf table of a 2 MiB
 * region with what the entries above it allow.  A guest that changes a
 * non-leaf entry invalidates the IOTLB without IH (page-selective, domain
 * or global) or the context cache, and the next walk reads the new
 * entries.  A page-selective invalidation with IH set says only leaves
 * changed: the cached table may stay in use, and here it does, which
 * shows that the cache is there.  Each step reads a page never read
 * before (a line of its own), so that it walks.
 */
static void check_leaf_table_cache(bool queued)
{
    const uint64_t rw = R_SSPTE_R_MASK | R_SSPTE_W_MASK;
    uint8_t page[4096];
    g_autofree char *info = NULL;
    uint64_t t1, t2;
    DmaEnv env;
    QVTD *vtd = &env.vtd;
    unsigned k;

    cache_env_start(&env, "", queued);
    fill_pattern(env.qts, PA_SRC3, 0x33);
    /* Old table: pages 1-8 read PA_SRC3; new one: a copy reading PA_SRC2. */
    for (k = 1; k <= 8; k++) {
        qvtd_map(vtd, env.table, 4, PSC_PAGE(k), PA_SRC3, 1, true, false);
    }
    t1 = qtest_readq(env.qts, qvtd_entry_addr(vtd, env.table, 4, IOVA_SRC,
                                              2));
    t2 = qvtd_alloc_page(vtd);
    qtest_memread(env.qts, t1 & R_SSPTE_ADDR_MASK, page, sizeof(page));
    qtest_memwrite(env.qts, t2, page, sizeof(page));
    for (k = 1; k <= 8; k++) {
        qtest_writeq(env.qts, t2 + (PSC_PAGE(k) >> 12 & 0x1ff) * 8,
                     PA_SRC2 | R_SSPTE_R_MASK);
    }
    t2 |= rw;

    /* IH set: the table cached by cache_env_start()'s walk stays. */
    set_leaf_table(&env, t2);
    qvtd_invalidate_iotlb_leaves(vtd, DID_EDU, PSC_PAGE(1), 0);
    g_assert_cmphex(edu_reads(&env, PSC_PAGE(1)), ==, 0x33);
    info = qtest_hmp(env.qts, "info intel-iommu");
    assert_contains(info, "Paging-structure cache: 2 walks began");

    /* Page-selective without IH, domain, global, context cache. */
    qvtd_invalidate_iotlb(vtd, VTD_GRAN_DEVICE_OR_PAGE, DID_EDU,
                          PSC_PAGE(2), 0);
    g_assert_cmphex(edu_reads(&env, PSC_PAGE(2)), ==, 0x22);
    set_leaf_table(&env, t1);
    qvtd_invalidate_iotlb(vtd, VTD_GRAN_DOMAIN, DID_EDU, 0, 0);
    g_assert_cmphex(edu_reads(&env, PSC_PAGE(3)), ==, 0x33);
    set_leaf_table(&env, t2);
    qvtd_invalidate_iotlb(vtd, VTD_GRAN_GLOBAL, 0, 0, 0);
    g_assert_cmphex(edu_reads(&env, PSC_PAGE(4)), ==, 0x22);
    set_leaf_table(&env, t1);
    qvtd_invalidate_context(vtd, VTD_GRAN_GLOBAL, 0, 0, 0);
    g_assert_cmphex(edu_reads(&env, PSC_PAGE(5)), ==, 0x33);

    /*
     * What the upper entries allow comes with the cached table: with the
     * level-2 entry read-only, a write to a read-write leaf faults.
     */
    qvtd_map(vtd, env.table, 4, PSC_PAGE(7), PA_SRC3, 1, true, true);
    set_leaf_table(&env, t1 & ~R_SSPTE_W_MASK);
    qvtd_invalidate_iotlb(vtd, VTD_GRAN_DEVICE_OR_PAGE, DID_EDU,
                          PSC_PAGE(6), 0);
    edu_fetch(&env, PSC_PAGE(6));
    edu_dma(env.qts, env.dev, env.bar, EDU_BUFFER, PSC_PAGE(7), XFER, true);
    expect_fault(&env, PSC_PAGE(7), VTD_FR_WRITE_DENIED, false);
    set_leaf_table(&env, t1);
    qvtd_invalidate_iotlb(vtd, VTD_GRAN_DOMAIN, DID_EDU, 0, 0);

    /*
     * A region 64 regions away shares the cache's slot: its own table
     * maps the page at the same index to PA_SRC2.
     */
    qvtd_map(vtd, env.table, 4, PSC_PAGE(8) + 128 * MiB, PA_SRC2, 1, true,
             false);
    g_assert_cmphex(edu_reads(&env, PSC_PAGE(8)), ==, 0x33);
    g_assert_cmphex(edu_reads(&env, PSC_PAGE(8) + 128 * MiB), ==, 0x22);
    cache_env_stop(&env);
}

/*
 * Cached leaf tables belong to the tables they came from: two devices
 * with tables of their own, whose roots share the cache's slot for a
 * region, each read their own mapping of the same page in turn.
 */
static void test_leaf_table_cache_roots(void)
{
    DmaEnv env;
    QPCIDevice *dev2;
    QPCIBar bar2;
    uint64_t table2;
    QVTDFault f;

    dev2 = dma_env_start_two(&env, &bar2);
    /* The cache has 64 slots, indexed by region ^ (root >> 12). */
    do {
        table2 = qvtd_alloc_page(&env.vtd);
    } while ((table2 ^ env.table) >> 12 & (64 - 1));
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, DID_EDU, VTD_TT_UNTRANSLATED, 4,
                     env.table, false);
    qvtd_set_context(&env.vtd, 0, QPCI_DEVFN(5, 0), DID_EDU + 1,
                     VTD_TT_UNTRANSLATED, 4, table2, false);
    qvtd_map(&env.vtd, env.table, 4, IOVA_SRC, PA_SRC, 1, true, false);
    qvtd_map(&env.vtd, env.table, 4, IOVA_DST, PA_DST, 1, false, true);
    qvtd_map(&env.vtd, env.table, 4, PSC_PAGE(1), PA_SRC, 1, true, false);
    qvtd_map(&env.vtd, table2, 4, IOVA_SRC, PA_SRC2, 1, true, false);
    qvtd_map(&env.vtd, table2, 4, IOVA_DST, PA_DST, 1, false, true);
    qvtd_map(&env.vtd, table2, 4, PSC_PAGE(1), PA_SRC2, 1, true, false);
    fill_pattern(env.qts, PA_SRC, 0x11);
    fill_pattern(env.qts, PA_SRC2, 0x22);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));

    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
    g_assert_cmphex(edu_reads_via(&env, dev2, bar2, IOVA_SRC), ==, 0x22);
    g_assert_cmphex(edu_reads(&env, PSC_PAGE(1)), ==, 0x11);
    g_assert_cmphex(edu_reads_via(&env, dev2, bar2, PSC_PAGE(1)), ==, 0x22);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    g_free(dev2);
    dma_env_stop(&env);
}

static void test_leaf_table_cache_registers(void)
{
    check_leaf_table_cache(false);
}

static void test_leaf_table_cache_queue(void)
{
    check_leaf_table_cache(true);
}

static void test_context_invalidation_registers(void)
{
    check_context_invalidation(false);
}

static void test_context_invalidation_queue(void)
{
    check_context_invalidation(true);
}

/*
 * A superpage is cached as one entry (6.2.3): after its leaf is cleared,
 * an address of it that was never accessed still translates, until a
 * page-selective invalidation of any 4 KiB page inside it.
 */
static void test_superpage_cached_whole(void)
{
    DmaEnv env;

    cache_env_start(&env, "", true);
    qvtd_map(&env.vtd, env.table, 4, IOVA_HOLE, PA_SRC, 2, true, false);
    g_assert_cmphex(edu_reads(&env, IOVA_HOLE), ==, 0x11);
    qvtd_unmap(&env.vtd, env.table, 4, IOVA_HOLE, 2);
    g_assert_cmphex(edu_reads(&env, IOVA_HOLE + (PA_SRC2 - PA_SRC)), ==,
                    0x22);
    qvtd_invalidate_iotlb(&env.vtd, VTD_GRAN_DEVICE_OR_PAGE, DID_EDU,
                          IOVA_HOLE + 0x1ff000, 0);
    expect_read_fault(&env, IOVA_HOLE, VTD_FR_READ_DENIED);
    cache_env_stop(&env);
}

/*
 * A pass-through context entry is cached like any other: the device keeps
 * its untranslated view until the entry is invalidated.
 */
static void test_pass_through_cached(void)
{
    DmaEnv env;
    uint64_t ctx_table;

    dma_env_start(&env, "", 4);
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 1, VTD_TT_PASS_THROUGH, 4, 0,
                     false);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));
    fill_pattern(env.qts, PA_SRC, 0x33);
    edu_copy(&env, PA_SRC, PA_DST);
    check_pattern(env.qts, PA_DST, 0x33);

    ctx_table = qtest_readq(env.qts, env.vtd.root_table) & R_ROOT_LO_CTP_MASK;
    qtest_writeq(env.qts, ctx_table + EDU_DEVFN * 16, 0);
    fill_pattern(env.qts, PA_SRC, 0x44);
    edu_copy(&env, PA_SRC, PA_DST);
    check_pattern(env.qts, PA_DST, 0x44);

    qvtd_invalidate_context(&env.vtd, VTD_GRAN_DEVICE_OR_PAGE, 1, EDU_SID, 0);
    expect_read_fault(&env, PA_SRC, VTD_FR_CONTEXT_NOT_PRESENT);

    /* Back to pass-through once the entry is valid and invalidated. */
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 1, VTD_TT_PASS_THROUGH, 4, 0,
                     false);
    qvtd_invalidate_context(&env.vtd, VTD_GRAN_GLOBAL, 0, 0, 0);
    fill_pattern(env.qts, PA_SRC, 0x55);
    edu_copy(&env, PA_SRC, PA_DST);
    check_pattern(env.qts, PA_DST, 0x55);
    dma_env_stop(&env);
}

/* fault-records=4: four faults fill four records, the fifth overflows. */
static void test_fault_records(void)
{
    static const uint64_t iova[] = {
        0x1000000, 0x1001000, 0x1002000, 0x1003000, 0x1004000,
    };
    DmaEnv env;
    QVTDFault f;
    unsigned i;

    dma_env_start(&env, "fault-records=4", 4);
    g_assert_cmpuint(FIELD_EX64(qvtd_readq(&env.vtd, A_CAP), CAP, NFR), ==,
                     3);
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 1, VTD_TT_UNTRANSLATED, 4,
                     env.table, false);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));
    for (i = 0; i < ARRAY_SIZE(iova); i++) {
        edu_dma(env.qts, env.dev, env.bar, iova[i], EDU_BUFFER, XFER, false);
    }
    g_assert(qvtd_readl(&env.vtd, A_FSTS) & R_FSTS_PFO_MASK);
    for (i = 0; i < 4; i++) {
        g_assert(qvtd_fault_pop(&env.vtd, &f));
        g_assert_cmphex(f.addr, ==, iova[i]);
        g_assert_cmphex(f.reason, ==, VTD_FR_READ_DENIED);
    }
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    qvtd_writel(&env.vtd, A_FSTS, R_FSTS_PFO_MASK);

    /* Recording resumes at the next index and wraps around. */
    edu_dma(env.qts, env.dev, env.bar, iova[4], EDU_BUFFER, XFER, false);
    g_assert_cmpuint(FIELD_EX32(qvtd_readl(&env.vtd, A_FSTS), FSTS, FRI), ==,
                     0);
    expect_fault(&env, iova[4], VTD_FR_READ_DENIED, true);
    dma_env_stop(&env);
}

/* ---- interrupt remapping ------------------------------------------------ */

#define EDU_RAISE_IRQ       0x60
#define IRT_ENTRIES_LOG2    8           /* IRTA.S = 7: 256 entries */

/* A remappable-format MSI address for interrupt @index (5.1.4). */
static uint32_t ir_msi_address(unsigned index)
{
    return 0xfee00000 | R_IR_ADDR_FORMAT_MASK |
           ((index & 0x7fff) << R_IR_ADDR_HANDLE_SHIFT) |
           ((index >> 15) << R_IR_ADDR_HANDLE_HI_SHIFT);
}

static void edu_msi(DmaEnv *env, uint32_t address, uint16_t data)
{
    uint8_t cap = qpci_find_capability(env->dev, PCI_CAP_ID_MSI, 0);
    uint16_t flags;

    g_assert(cap);
    qpci_config_writel(env->dev, cap + PCI_MSI_ADDRESS_LO, address);
    flags = qpci_config_readw(env->dev, cap + PCI_MSI_FLAGS);
    if (flags & PCI_MSI_FLAGS_64BIT) {
        qpci_config_writel(env->dev, cap + PCI_MSI_ADDRESS_HI, 0);
        qpci_config_writew(env->dev, cap + PCI_MSI_DATA_64, data);
    } else {
        qpci_config_writew(env->dev, cap + PCI_MSI_DATA_32, data);
    }
    qpci_config_writew(env->dev, cap + PCI_MSI_FLAGS,
                       flags | PCI_MSI_FLAGS_ENABLE);
    qpci_io_writel(env->dev, env->bar, EDU_RAISE_IRQ, 1);
}

static void set_irte(DmaEnv *env, uint64_t irt, unsigned index, uint64_t lo,
                     uint64_t hi)
{
    qtest_writeq(env->qts, irt + index * 16, lo);
    qtest_writeq(env->qts, irt + index * 16 + 8, hi);
}

/* 6.5.2.7: drop the cached entry @index (or all, @index < 0). */
static void iec_invalidate(DmaEnv *env, int index)
{
    uint64_t lo = VTD_INV_INTERRUPT_ENTRY;

    if (index >= 0) {
        lo = FIELD_DP64(lo, INV_IEC, G, 1);
        lo = FIELD_DP64(lo, INV_IEC, IIDX, index);
    }
    qvtd_queue_submit(&env->vtd, lo, 0);
    g_assert(qvtd_queue_wait(&env->vtd));
}

/*
 * edu with interrupt remapping on: an empty table latched by SIRTP, the
 * invalidation queue enabled for IEC descriptors.  Returns the table.
 */
static uint64_t ir_env_start(DmaEnv *env)
{
    uint64_t irt;

    dma_env_start(env, "intremap=on", 4);
    irt = qvtd_alloc_page(&env->vtd);
    qvtd_writeq(&env->vtd, A_IRTA, irt | (IRT_ENTRIES_LOG2 - 1));
    g_assert(qvtd_global_command(&env->vtd, R_GSTS_SIRTP_MASK, true));
    qvtd_queue_enable(&env->vtd, false);
    g_assert(qvtd_global_command(&env->vtd, R_GSTS_IRE_MASK, true));
    return irt;
}

/* Every interrupt-remapping fault reason from a device's MSI (7.1.3). */
static void test_ir_faults(void)
{
    DmaEnv env;
    uint64_t irt, good;
    QVTDFault f;

    irt = ir_env_start(&env);

    good = R_IRTE_LO_P_MASK | FIELD_DP64(0, IRTE_LO, V, 0x40) |
           FIELD_DP64(0, IRTE_LO, DST, 0 << 8);

    /* Compatibility format while CFIS is clear: blocked. */
    edu_msi(&env, 0xfee00000, 0x40);
    expect_fault(&env, 0, VTD_FR_IR_COMPAT_BLOCKED, false);
    /* An index past the table. */
    edu_msi(&env, ir_msi_address(300), 0);
    expect_fault(&env, 300ULL << 48, VTD_FR_IR_INDEX_OVER, false);
    /* An entry that is not present. */
    edu_msi(&env, ir_msi_address(5), 0);
    expect_fault(&env, 5ULL << 48, VTD_FR_IR_ENTRY_NOT_PRESENT, false);
    /* ... unless FPD asks for silence. */
    set_irte(&env, irt, 5, R_IRTE_LO_FPD_MASK, 0);
    edu_msi(&env, ir_msi_address(5), 0);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    /* Reserved bits, and the posted format without CAP.PI. */
    set_irte(&env, irt, 6, good | (1ULL << 13), 0);
    edu_msi(&env, ir_msi_address(6), 0);
    expect_fault(&env, 6ULL << 48, VTD_FR_IR_ENTRY_RESERVED, false);
    set_irte(&env, irt, 6, good | R_IRTE_LO_IM_MASK, 0);
    edu_msi(&env, ir_msi_address(6), 0);
    expect_fault(&env, 6ULL << 48, VTD_FR_IR_ENTRY_RESERVED, false);
    /* Source-id verification against another requester. */
    set_irte(&env, irt, 7, good, FIELD_DP64(0, IRTE_HI, SVT, 1) |
             FIELD_DP64(0, IRTE_HI, SID, EDU_SID + 8));
    edu_msi(&env, ir_msi_address(7), 0);
    expect_fault(&env, 7ULL << 48, VTD_FR_IR_SID_MISMATCH, false);
    /* The same entry naming the right requester, or its bus: delivered. */
    set_irte(&env, irt, 7, good, FIELD_DP64(0, IRTE_HI, SVT, 1) |
             FIELD_DP64(0, IRTE_HI, SID, EDU_SID));
    iec_invalidate(&env, 7);
    edu_msi(&env, ir_msi_address(7), 0);
    set_irte(&env, irt, 8, good, FIELD_DP64(0, IRTE_HI, SVT, 2) |
             FIELD_DP64(0, IRTE_HI, SID, 0x0000));
    edu_msi(&env, ir_msi_address(8), 0);
    /* Subhandles: the MSI data adds to the handle (SHV). */
    set_irte(&env, irt, 12, good, 0);
    edu_msi(&env, ir_msi_address(10) | R_IR_ADDR_SHV_MASK, 2);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    g_assert_cmphex(qvtd_readl(&env.vtd, A_FSTS), ==, 0);
    /* With CFIS set, compatibility format passes. */
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_CFI_MASK, true));
    edu_msi(&env, 0xfee00000, 0x40);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    dma_env_stop(&env);
}

/*
 * The interrupt entry cache (6.2.5): a rewritten entry takes effect only
 * once an IEC invalidation covers it, index-selective (with IM) or global.
 */
static void test_ir_entry_cache(void)
{
    DmaEnv env;
    uint64_t irt, good, wrong_sid;
    QVTDFault f;

    irt = ir_env_start(&env);
    good = R_IRTE_LO_P_MASK | FIELD_DP64(0, IRTE_LO, V, 0x41);
    wrong_sid = FIELD_DP64(0, IRTE_HI, SVT, 1) |
                FIELD_DP64(0, IRTE_HI, SID, EDU_SID + 8);

    /* Entry 9 is used, so cached; then it is taken away. */
    set_irte(&env, irt, 9, good, 0);
    edu_msi(&env, ir_msi_address(9), 0);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    set_irte(&env, irt, 9, 0, 0);
    edu_msi(&env, ir_msi_address(9), 0);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    /* Another index, and a range (IM = 2: 4..7) that misses 9: cached. */
    iec_invalidate(&env, 8);
    qvtd_queue_submit(&env.vtd, VTD_INV_INTERRUPT_ENTRY |
                      FIELD_DP64(0, INV_IEC, G, 1) |
                      FIELD_DP64(0, INV_IEC, IIDX, 5) |
                      FIELD_DP64(0, INV_IEC, IM, 2), 0);
    g_assert(qvtd_queue_wait(&env.vtd));
    edu_msi(&env, ir_msi_address(9), 0);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    /* A range that covers it (IM = 3: 8..15): the entry is gone. */
    qvtd_queue_submit(&env.vtd, VTD_INV_INTERRUPT_ENTRY |
                      FIELD_DP64(0, INV_IEC, G, 1) |
                      FIELD_DP64(0, INV_IEC, IIDX, 12) |
                      FIELD_DP64(0, INV_IEC, IM, 3), 0);
    g_assert(qvtd_queue_wait(&env.vtd));
    edu_msi(&env, ir_msi_address(9), 0);
    expect_fault(&env, 9ULL << 48, VTD_FR_IR_ENTRY_NOT_PRESENT, false);

    /* Global invalidation; the source check uses the cached entry too. */
    set_irte(&env, irt, 9, good, 0);
    iec_invalidate(&env, 9);
    edu_msi(&env, ir_msi_address(9), 0);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    set_irte(&env, irt, 9, good, wrong_sid);
    edu_msi(&env, ir_msi_address(9), 0);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    iec_invalidate(&env, -1);
    edu_msi(&env, ir_msi_address(9), 0);
    expect_fault(&env, 9ULL << 48, VTD_FR_IR_SID_MISMATCH, false);

    /* A new table pointer (SIRTP) starts with an empty cache. */
    set_irte(&env, irt, 9, good, 0);
    iec_invalidate(&env, 9);
    edu_msi(&env, ir_msi_address(9), 0);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    set_irte(&env, irt, 9, 0, 0);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_SIRTP_MASK, true));
    edu_msi(&env, ir_msi_address(9), 0);
    expect_fault(&env, 9ULL << 48, VTD_FR_IR_ENTRY_NOT_PRESENT, false);
    dma_env_stop(&env);
}

/* ---- delivered interrupts ---------------------------------------------- */

/* Whether @vector is pending (IRR) in the local APIC of CPU @cpu. */
static bool lapic_irr_has(QTestState *qts, unsigned cpu, unsigned vector)
{
    g_autofree char *out = qtest_hmp(qts, "info lapic %u", cpu);
    g_autofree char *want = g_strdup_printf(" %u ", vector);
    char *irr = strstr(out, "IRR\t");
    char *end;

    g_assert(irr);
    end = strchr(irr, '\n');
    g_assert(end);
    *end = '\0';
    return strstr(irr + 3, want);
}

/*
 * IOAPIC pin @pin in remappable format (5.1.5.1): format bit 48,
 * interrupt index [14:0] in bits 63:49 and [15] in bit 11, the vector
 * field repeating the IRTE's, edge triggered, unmasked.
 */
#define IOAPIC_BASE         0xfec00000ULL
#define IOAPIC_SID          0xff00      /* Q35_PSEUDO_BUS_PLATFORM, devfn 0 */
static void ioapic_remappable(QTestState *qts, unsigned pin, unsigned index,
                              uint8_t vector)
{
    uint64_t rte = vector | (1ULL << 48) |
                   ((uint64_t)(index & 0x7fff) << 49) |
                   ((uint64_t)(index >> 15) << 11);

    qtest_writel(qts, IOAPIC_BASE, 0x10 + pin * 2);
    qtest_writel(qts, IOAPIC_BASE + 0x10, rte);
    qtest_writel(qts, IOAPIC_BASE, 0x11 + pin * 2);
    qtest_writel(qts, IOAPIC_BASE + 0x10, rte >> 32);
}

/* An edge on IOAPIC input @pin. */
static void ioapic_pulse(QTestState *qts, unsigned pin)
{
    qtest_set_irq_in(qts, "/machine/q35/ioapic", NULL, pin, 1);
    qtest_set_irq_in(qts, "/machine/q35/ioapic", NULL, pin, 0);
}

/*
 * Interrupts arrive where the IRTE says: an edu MSI and an IOAPIC pin,
 * both in remappable format, raise the IRTE's vector in the IRTE's
 * destination CPU only; a rewritten IRTE takes effect after its IEC
 * invalidation, not before.
 */
static void test_ir_delivered(void)
{
    uint64_t irt, entry;
    DmaEnv env;
    QVTDFault f;

    dma_env_start_with(&env, "intremap=on", 4, "-smp 2");
    irt = qvtd_alloc_page(&env.vtd);
    qvtd_writeq(&env.vtd, A_IRTA, irt | (IRT_ENTRIES_LOG2 - 1));
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_SIRTP_MASK, true));
    qvtd_queue_enable(&env.vtd, false);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_IRE_MASK, true));

    /* MSI: entry 20, vector 0x61, physical destination APIC 1 (xAPIC). */
    entry = R_IRTE_LO_P_MASK | FIELD_DP64(0, IRTE_LO, V, 0x61) |
            FIELD_DP64(0, IRTE_LO, DST, 1 << 8);
    set_irte(&env, irt, 20, entry, 0);
    edu_msi(&env, ir_msi_address(20), 0);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    g_assert(lapic_irr_has(env.qts, 1, 0x61));
    g_assert(!lapic_irr_has(env.qts, 0, 0x61));

    /* Vector 0x62 in the table; the cached entry still says 0x61. */
    set_irte(&env, irt, 20, FIELD_DP64(entry, IRTE_LO, V, 0x62), 0);
    edu_msi(&env, ir_msi_address(20), 0);
    g_assert(!lapic_irr_has(env.qts, 1, 0x62));
    iec_invalidate(&env, 20);
    edu_msi(&env, ir_msi_address(20), 0);
    g_assert(lapic_irr_has(env.qts, 1, 0x62));

    /* IOAPIC pin 5: entry 21, vector 0x63, destination APIC 0. */
    set_irte(&env, irt, 21, R_IRTE_LO_P_MASK |
             FIELD_DP64(0, IRTE_LO, V, 0x63), 0);
    ioapic_remappable(env.qts, 5, 21, 0x63);
    ioapic_pulse(env.qts, 5);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    g_assert(lapic_irr_has(env.qts, 0, 0x63));
    g_assert(!lapic_irr_has(env.qts, 1, 0x63));

    /*
     * The IOAPIC requests with the source id the DMAR table gives its
     * scope (bus 0xff, devfn 0): an entry that names it (SVT 1, all
     * bits) delivers, one naming edu is a source-id fault for it.
     */
    set_irte(&env, irt, 22, R_IRTE_LO_P_MASK |
             FIELD_DP64(0, IRTE_LO, V, 0x66),
             FIELD_DP64(0, IRTE_HI, SVT, 1) |
             FIELD_DP64(0, IRTE_HI, SID, IOAPIC_SID));
    ioapic_remappable(env.qts, 6, 22, 0x66);
    ioapic_pulse(env.qts, 6);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    g_assert(lapic_irr_has(env.qts, 0, 0x66));

    set_irte(&env, irt, 23, R_IRTE_LO_P_MASK |
             FIELD_DP64(0, IRTE_LO, V, 0x67),
             FIELD_DP64(0, IRTE_HI, SVT, 1) |
             FIELD_DP64(0, IRTE_HI, SID, EDU_SID));
    ioapic_remappable(env.qts, 7, 23, 0x67);
    ioapic_pulse(env.qts, 7);
    g_assert(qvtd_fault_pop(&env.vtd, &f));
    g_assert_cmphex(f.reason, ==, VTD_FR_IR_SID_MISMATCH);
    g_assert_cmphex(f.sid, ==, IOAPIC_SID);
    g_assert_cmphex(f.addr, ==, 23ULL << 48);
    g_assert(!lapic_irr_has(env.qts, 0, 0x67));
    dma_env_stop(&env);
}

/*
 * Firmware for KVM tests: the boot CPU turns on x2APIC mode and software-
 * enables its local APIC (SVR = 0x1ff) through MSRs, which real mode
 * allows, then halts with interrupts off so that whatever arrives stays
 * in IRR for "info lapic" to see.  Under KVM the local APIC lives in the
 * kernel and takes no fixed interrupt until software-enabled; qtest
 * cannot write its registers, so the CPU has to.
 */
static char *kvm_apic_firmware(void)
{
    static const uint8_t code[] = {
        0x66, 0xb9, 0x1b, 0x00, 0x00, 0x00,     /* mov ecx, IA32_APIC_BASE */
        0x0f, 0x32,                             /* rdmsr */
        0x66, 0x0d, 0x00, 0x0c, 0x00, 0x00,     /* or eax, EN | EXTD */
        0x0f, 0x30,                             /* wrmsr */
        0x66, 0xb9, 0x0f, 0x08, 0x00, 0x00,     /* mov ecx, x2APIC SVR */
        0x66, 0xb8, 0xff, 0x01, 0x00, 0x00,     /* mov eax, 0x1ff */
        0x66, 0x31, 0xd2,                       /* xor edx, edx */
        0x0f, 0x30,                             /* wrmsr */
        0xfa,                                   /* cli */
        0xf4,                                   /* 1: hlt */
        0xeb, 0xfd,                             /* jmp 1b */
    };
    /* 64 KiB at 0xf0000; the reset vector jumps to its start. */
    g_autofree uint8_t *image = g_malloc(64 * KiB);
    static const uint8_t reset[] = { 0xea, 0x00, 0x00, 0x00, 0xf0 };
    char *path = NULL;
    int fd = g_file_open_tmp("vtd-kvm-fw-XXXXXX.bin", &path, NULL);

    g_assert(fd >= 0);
    memset(image, 0xf4, 64 * KiB);
    memcpy(image, code, sizeof(code));
    memcpy(image + 0xfff0, reset, sizeof(reset));
    g_assert(write(fd, image, 64 * KiB) == 64 * KiB);
    close(fd);
    return path;
}

static void lapic_wait_enabled(QTestState *qts)
{
    for (int i = 0; i < 500; i++) {
        g_autofree char *out = qtest_hmp(qts, "info lapic 0");

        if (strstr(out, "APIC enabled")) {
            return;
        }
        g_usleep(10 * 1000);
    }
    g_assert_not_reached();
}

/*
 * KVM with kernel-irqchip=split: the IOAPIC in QEMU delivers through KVM
 * GSI routes that it translated through the IRTE when the guest wrote
 * the pin.  A rewritten IRTE must reach the route when the guest
 * invalidates its entry, and a newly latched table at once: the device
 * tells the IOAPIC (and KVM's MSI routes) to translate again.
 */
static void test_ir_kvm_split_routes(void)
{
    g_autofree char *firmware = NULL;
    g_autofree char *extra = NULL;
    uint64_t irt, irt2, entry;
    DmaEnv env;
    QVTDFault f;

    if (!qtest_has_accel("kvm") || access("/dev/kvm", R_OK | W_OK)) {
        g_test_skip("KVM not available");
        return;
    }
    firmware = kvm_apic_firmware();
    extra = g_strdup_printf("-accel kvm -machine kernel-irqchip=split "
                            "-cpu qemu64,+x2apic -bios %s", firmware);
    dma_env_start_with(&env, "intremap=on", 4, extra);
    lapic_wait_enabled(env.qts);

    irt = qvtd_alloc_page(&env.vtd);
    qvtd_writeq(&env.vtd, A_IRTA, irt | (IRT_ENTRIES_LOG2 - 1));
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_SIRTP_MASK, true));
    qvtd_queue_enable(&env.vtd, false);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_IRE_MASK, true));

    /* Pin 5 through entry 21: vector 0x63 on CPU 0. */
    entry = R_IRTE_LO_P_MASK | FIELD_DP64(0, IRTE_LO, V, 0x63);
    set_irte(&env, irt, 21, entry, 0);
    ioapic_remappable(env.qts, 5, 21, 0x63);
    ioapic_pulse(env.qts, 5);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    g_assert(lapic_irr_has(env.qts, 0, 0x63));

    /* Rewritten entry: the route keeps the cached translation... */
    set_irte(&env, irt, 21, FIELD_DP64(entry, IRTE_LO, V, 0x64), 0);
    ioapic_pulse(env.qts, 5);
    g_assert(!lapic_irr_has(env.qts, 0, 0x64));
    /* ...until the entry is invalidated. */
    iec_invalidate(&env, 21);
    ioapic_pulse(env.qts, 5);
    g_assert(lapic_irr_has(env.qts, 0, 0x64));

    /* A new table latched by SIRTP: vector 0x65 from its entry 21. */
    irt2 = qvtd_alloc_page(&env.vtd);
    set_irte(&env, irt2, 21, FIELD_DP64(entry, IRTE_LO, V, 0x65), 0);
    qvtd_writeq(&env.vtd, A_IRTA, irt2 | (IRT_ENTRIES_LOG2 - 1));
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_SIRTP_MASK, true));
    ioapic_pulse(env.qts, 5);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    g_assert(lapic_irr_has(env.qts, 0, 0x65));
    dma_env_stop(&env);
    unlink(firmware);
}

/* ---- migration --------------------------------------------------------- */

/* The register bytes that the stream carries verbatim (csr). */
#define VTD_MIGRATED_BYTES  0x230

/* make check points this at the stock build of the same base. */
#define STOCK_BINARY_VAR    "QTEST_QEMU_BINARY_STOCK"

/* Wait for @qts's migration to end; "completed" or "failed". */
static char *migration_wait(QTestState *qts)
{
    for (;;) {
        QDict *rsp = qtest_qmp_assert_success_ref(qts,
                                    "{ 'execute': 'query-migrate' }");
        const char *status = qdict_get_try_str(rsp, "status");
        char *result = NULL;

        if (status && (!strcmp(status, "completed") ||
                       !strcmp(status, "failed"))) {
            result = g_strdup(status);
        }
        qobject_unref(rsp);
        if (result) {
            return result;
        }
        g_usleep(10 * 1000);
    }
}

/*
 * Save @env's machine to a file and load it into a new QEMU, from the
 * binary named by @dst_var, started with intel-iommu,@dst_opts.  On
 * success @env continues on the destination; if the destination refuses
 * the stream, the source resumes and this returns false.
 */
static bool migrate_env(DmaEnv *env, const char *dst_var,
                        const char *dst_opts)
{
    g_autofree char *path = g_strdup_printf("%s/vtd-migration-%d.bin",
                                            g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("file:%s", path);
    g_autofree char *args = dma_env_args(dst_opts, "-incoming defer");
    g_autofree char *src_status = NULL, *dst_status = NULL;
    QTestState *dst;

    qtest_qmp_assert_success(env->qts, "{ 'execute': 'migrate', "
                             "'arguments': { 'uri': %s } }", uri);
    src_status = migration_wait(env->qts);
    g_assert_cmpstr(src_status, ==, "completed");

    dst = qtest_init_with_env(dst_var, args, true);
    qtest_qmp_assert_success(dst, "{ 'execute': 'migrate-incoming', "
                             "'arguments': { 'uri': %s, "
                             "'exit-on-error': false } }", uri);
    dst_status = migration_wait(dst);
    unlink(path);
    if (strcmp(dst_status, "completed")) {
        qtest_quit(dst);
        /* As a management layer would: the source runs on. */
        qtest_qmp_assert_success(env->qts, "{ 'execute': 'cont' }");
        return false;
    }
    g_free(env->dev);
    qpci_free_pc(env->pcibus);
    qtest_quit(env->qts);
    env->qts = dst;
    env->vtd.qts = dst;
    /* edu has no migration state: set it up again, as after a reset. */
    dma_env_attach(env);
    qpci_device_enable(env->dev);
    env->bar = qpci_iomap(env->dev, 0, NULL);
    return true;
}

static void read_migrated_registers(QVTD *vtd, uint32_t *regs)
{
    for (unsigned off = 0; off < VTD_MIGRATED_BYTES; off += 4) {
        regs[off / 4] = qvtd_readl(vtd, off);
    }
}

/*
 * A machine that translates DMA (read-only source, write-only
 * destination), remaps interrupts (entry 3 present), runs the invalidation
 * queue and has a fault waiting in its record migrates from the QEMU named
 * by @src_var to the one named by @dst_var (NULL: the one under test), and
 * the destination carries on with all of it.
 */
static void check_migration(const char *src_var, const char *dst_var)
{
    uint32_t before[VTD_MIGRATED_BYTES / 4], after[VTD_MIGRATED_BYTES / 4];
    uint64_t irt, good = R_IRTE_LO_P_MASK | FIELD_DP64(0, IRTE_LO, V, 0x42);
    DmaEnv env;
    QVTDFault f;

    if ((src_var || dst_var) && !getenv(STOCK_BINARY_VAR)) {
        g_test_skip(STOCK_BINARY_VAR " names no stock QEMU to migrate with");
        return;
    }
    dma_env_start_from(&env, src_var, "intremap=on", 4, "");
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 1, VTD_TT_UNTRANSLATED, 4,
                     env.table, false);
    qvtd_map(&env.vtd, env.table, 4, IOVA_SRC, PA_SRC, 1, true, false);
    qvtd_map(&env.vtd, env.table, 4, IOVA_DST, PA_DST, 1, false, true);
    qvtd_queue_enable(&env.vtd, false);
    irt = qvtd_alloc_page(&env.vtd);
    set_irte(&env, irt, 3, good, 0);
    qvtd_writeq(&env.vtd, A_IRTA, irt | (IRT_ENTRIES_LOG2 - 1));
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_SIRTP_MASK, true));
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_IRE_MASK, true));
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));

    fill_pattern(env.qts, PA_SRC, 0x21);
    edu_copy(&env, IOVA_SRC, IOVA_DST);
    check_pattern(env.qts, PA_DST, 0x21);
    edu_msi(&env, ir_msi_address(3), 0);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    /* A fault the guest has not read yet travels in its record. */
    edu_dma(env.qts, env.dev, env.bar, IOVA_SRC + 0x10000, EDU_BUFFER, XFER,
            false);
    read_migrated_registers(&env.vtd, before);

    g_assert(migrate_env(&env, dst_var, "intremap=on"));

    read_migrated_registers(&env.vtd, after);
    for (unsigned i = 0; i < ARRAY_SIZE(before); i++) {
        if (before[i] != after[i]) {
            g_test_message("register 0x%03x: 0x%08" PRIx32 " on the source, "
                           "0x%08" PRIx32 " on the destination",
                           i * 4, before[i], after[i]);
        }
    }
    g_assert_cmpmem(before, sizeof(before), after, sizeof(after));
    expect_fault(&env, IOVA_SRC + 0x10000, VTD_FR_READ_DENIED, true);
    /*
     * Same tables, same permissions.  (The read comes first: with the
     * write's translation cached, stock blocks the read without recording
     * a fault.)
     */
    expect_read_fault(&env, IOVA_DST, VTD_FR_READ_DENIED);
    fill_pattern(env.qts, PA_SRC, 0x37);
    edu_copy(&env, IOVA_SRC, IOVA_DST);
    check_pattern(env.qts, PA_DST, 0x37);
    /* The queue goes on from where it stood (a wait descriptor's status). */
    g_assert_cmpuint(qvtd_invalidate_iotlb(&env.vtd, VTD_GRAN_GLOBAL, 0, 0,
                                           0), ==, VTD_GRAN_GLOBAL);
    /* Same interrupt-remapping table. */
    edu_msi(&env, ir_msi_address(3), 0);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    edu_msi(&env, ir_msi_address(4), 0);
    expect_fault(&env, 4ULL << 48, VTD_FR_IR_ENTRY_NOT_PRESENT, false);
    dma_env_stop(&env);
}

static void test_migration(void)
{
    check_migration(NULL, NULL);
}

static void test_migration_from_stock(void)
{
    check_migration(STOCK_BINARY_VAR, NULL);
}

static void test_migration_to_stock(void)
{
    check_migration(NULL, STOCK_BINARY_VAR);
}

/*
 * Fault records beyond the first travel in a subsection, which only a
 * destination with as many records accepts.
 */
static void test_migration_fault_records(void)
{
    DmaEnv env;

    dma_env_start(&env, "fault-records=4", 4);
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 1, VTD_TT_UNTRANSLATED, 4,
                     env.table, false);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));
    for (unsigned i = 0; i < 3; i++) {
        edu_dma(env.qts, env.dev, env.bar, IOVA_HOLE + i * 0x1000,
                EDU_BUFFER, XFER, false);
    }
    g_assert(!migrate_env(&env, NULL, ""));
    g_assert(migrate_env(&env, NULL, "fault-records=4"));
    for (unsigned i = 0; i < 3; i++) {
        QVTDFault f;

        g_assert(qvtd_fault_pop(&env.vtd, &f));
        g_assert_cmphex(f.addr, ==, IOVA_HOLE + i * 0x1000);
        g_assert_cmphex(f.reason, ==, VTD_FR_READ_DENIED);
    }
    dma_env_stop(&env);
}

/* A destination that shows the guest other hardware refuses the stream. */
static void test_migration_other_hardware(void)
{
    DmaEnv env;

    dma_env_start(&env, "aw-bits=39", 3);
    g_assert(!migrate_env(&env, NULL, ""));
    g_assert(!migrate_env(&env, NULL, "aw-bits=39,caching-mode=on"));
    g_assert(migrate_env(&env, NULL, "aw-bits=39"));
    dma_env_stop(&env);
}

/* ---- observability ---------------------------------------------------- */

/*
 * `info intel-iommu` (and x-query-intel-iommu) shows what the guest set
 * up, each requester's context, the caches, and faults even after the
 * guest cleared them.
 */
static void test_info_hmp(void)
{
    g_autofree char *info = NULL, *expect = NULL;
    QDict *rsp;
    DmaEnv env;

    ir_env_start(&env);
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 7, VTD_TT_UNTRANSLATED, 4,
                     env.table, false);
    qvtd_map(&env.vtd, env.table, 4, IOVA_SRC, PA_SRC, 1, true, false);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));
    edu_dma(env.qts, env.dev, env.bar, IOVA_SRC, EDU_BUFFER, XFER, false);
    expect_read_fault(&env, IOVA_SRC + 0x3000, VTD_FR_READ_DENIED);

    info = qtest_hmp(env.qts, "info intel-iommu");
    assert_contains(info, "aw-bits 48, caching-mode off");
    assert_contains(info, "intremap on");
    assert_contains(info, "DMA remapping: on, root table");
    assert_contains(info, "Queued invalidation: on");
    assert_contains(info, "Interrupt remapping: on");
    expect = g_strdup_printf("00:04.0  domain 7, translated, 4-level tables "
                             "at 0x%" PRIx64 " (cached); address space "
                             "translated", env.table);
    assert_contains(info, expect);
    assert_contains(info, "IOTLB: 1 entries (4K 1, 2M 0, 1G 0)");
    assert_contains(info, "Faults: 1 seen");
    g_free(expect);
    expect = g_strdup_printf("00:04.0  reason 0x06  read 0x%" PRIx64,
                             (uint64_t)(IOVA_SRC + 0x3000));
    assert_contains(info, expect);

    /* The same text through QMP. */
    rsp = qtest_qmp_assert_success_ref(env.qts,
                                       "{ 'execute': 'x-query-intel-iommu' }");
    assert_contains(qdict_get_str(rsp, "human-readable-text"), expect);
    qobject_unref(rsp);
    dma_env_stop(&env);
}

/* ---- robustness ------------------------------------------------------- */

/*
 * Where the random test lets the device write: event MSIs and wait
 * descriptors' status writes land in guest RAM below this, never in
 * MMIO (a write into MMCONFIG could move edu's BAR under the test).
 */
#define RANDOM_RAM_LIMIT    0x8000000ULL

/* An entry for a table: mostly plausible, sometimes anything at all. */
static uint64_t random_entry(GRand *rand, uint64_t target)
{
    uint64_t any = ((uint64_t)g_rand_int(rand) << 32) | g_rand_int(rand);

    switch (g_rand_int_range(rand, 0, 4)) {
    case 0:
        return any;
    case 1:
        return 0;
    case 2:     /* points back into the test's own tables: loops */
        return target | (any & 0xfff);
    default:    /* present, somewhere in RAM, random low flag bits */
        return (any & (RANDOM_RAM_LIMIT - 1) & ~0xfffULL) | (any & 0xf8f) | 3;
    }
}

static void random_register_write(DmaEnv *env, GRand *rand)
{
    static const unsigned sizes[] = { 1, 2, 4, 8 };
    unsigned size = sizes[g_rand_int_range(rand, 0, 4)];
    uint32_t off = g_rand_int_range(rand, 0, QVTD_WINDOW_SIZE) & ~(size - 1);
    uint64_t val = ((uint64_t)g_rand_int(rand) << 32) | g_rand_int(rand);
    uint64_t addr = env->vtd.base + off;

    /* Event addresses stay in RAM (see RANDOM_RAM_LIMIT). */
    if (ranges_overlap(off, size, A_FEDATA, A_FEUADDR + 4 - A_FEDATA) ||
        ranges_overlap(off, size, A_IEDATA, A_IEUADDR + 4 - A_IEDATA)) {
        return;
    }
    switch (size) {
    case 1:
        qtest_writeb(env->qts, addr, val);
        break;
    case 2:
        qtest_writew(env->qts, addr, val);
        break;
    case 4:
        qtest_writel(env->qts, addr, val);
        break;
    default:
        qtest_writeq(env->qts, addr, val);
        break;
    }
}

static void random_descriptor(DmaEnv *env, GRand *rand)
{
    uint64_t lo = ((uint64_t)g_rand_int(rand) << 32) | g_rand_int(rand);
    uint64_t hi = ((uint64_t)g_rand_int(rand) << 32) | g_rand_int(rand);
    uint64_t slot = env->vtd.queue + env->vtd.queue_tail;

    /*
     * Half of them well formed, with random fields; the others mostly a
     * real type with random bits.  A wait descriptor's status goes to RAM.
     */
    switch (g_rand_int_range(rand, 0, 10)) {
    case 0:
        lo = FIELD_DP64(VTD_INV_CONTEXT_CACHE, INV_CC, G,
                        g_rand_int_range(rand, 1, 4));
        lo = FIELD_DP64(lo, INV_CC, DID, g_rand_int_range(rand, 0, 3));
        lo = FIELD_DP64(lo, INV_CC, SID, g_rand_boolean(rand) ? EDU_SID
                        : g_rand_int(rand));
        lo = FIELD_DP64(lo, INV_CC, FM, g_rand_int_range(rand, 0, 4));
        hi = 0;
        break;
    case 1:
    case 2:
        lo = FIELD_DP64(VTD_INV_IOTLB, INV_IOTLB, G,
                        g_rand_int_range(rand, 1, 4));
        lo = FIELD_DP64(lo, INV_IOTLB, DID, g_rand_int_range(rand, 0, 3));
        hi = FIELD_DP64(0, INV_IOTLB_HI, AM, g_rand_int_range(rand, 0, 40));
        hi = FIELD_DP64(hi, INV_IOTLB_HI, ADDR, g_rand_boolean(rand) ?
                        IOVA_SRC >> 12 : g_rand_int(rand));
        break;
    case 3:
        lo = FIELD_DP64(VTD_INV_INTERRUPT_ENTRY, INV_IEC, G,
                        g_rand_boolean(rand));
        lo = FIELD_DP64(lo, INV_IEC, IM, g_rand_int_range(rand, 0, 32));
        lo = FIELD_DP64(lo, INV_IEC, IIDX, g_rand_int(rand));
        hi = 0;
        break;
    case 4:
        lo = FIELD_DP64(VTD_INV_WAIT, INV_WAIT, SW, 1);
        lo = FIELD_DP64(lo, INV_WAIT, IF, g_rand_boolean(rand));
        break;
    default:
        lo = (lo & ~0xfULL) | g_rand_int_range(rand, 1, 8);
        break;
    }
    if ((lo & 0xf) == VTD_INV_WAIT) {
        hi &= (RANDOM_RAM_LIMIT - 1) & ~3ULL;
    }
    qtest_writeq(env->qts, slot, lo);
    qtest_writeq(env->qts, slot + 8, hi);
    env->vtd.queue_tail = (env->vtd.queue_tail + 16) % 4096;
    qvtd_writeq(&env->vtd, A_IQT, env->vtd.queue_tail);
}

/*
 * Hostile guest input, seeded: random entries in the root, context, page
 * and interrupt tables (including loops and pointers outside RAM), random
 * writes of every size to every register, random invalidation
 * descriptors, while edu does DMA at random addresses and sends random
 * MSIs.  QEMU must stay up, and after a system reset the device must
 * come back as new and translate and remap as before.
 * QTEST_VTD_RANDOM_STEPS (default 600) sets the length; the seed is the
 * test's (--seed, printed at the start).
 */
static void test_random_guest(void)
{
    const char *env_steps = getenv("QTEST_VTD_RANDOM_STEPS");
    unsigned steps = env_steps ? atoi(env_steps) : 600;
    uint32_t seed = g_test_rand_int();
    g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
    uint64_t tables[8], irt, cap, ecap, iova;
    unsigned ntables = 0;
    DmaEnv env;
    QVTDFault f;

    g_test_message("seed %" PRIu32 ", %u steps", seed, steps);
    dma_env_start(&env, "intremap=on", 4);
    cap = qvtd_readq(&env.vtd, A_CAP);
    ecap = qvtd_readq(&env.vtd, A_ECAP);
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 1, VTD_TT_UNTRANSLATED, 4,
                     env.table, false);
    qvtd_map(&env.vtd, env.table, 4, IOVA_SRC, PA_SRC, 1, true, true);
    qvtd_queue_enable(&env.vtd, false);
    irt = qvtd_alloc_page(&env.vtd);
    qvtd_writeq(&env.vtd, A_IRTA, irt | (IRT_ENTRIES_LOG2 - 1));
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_SIRTP_MASK, true));
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_IRE_MASK, true));
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));
    qvtd_writel(&env.vtd, A_FEADDR, 0xfee00000);
    qvtd_writel(&env.vtd, A_IEADDR, 0xfee00000);
    /* Every page the driver allocated: root, context, page tables. */
    for (uint64_t pa = QVTD_TABLE_MEMORY; pa < env.vtd.next_page &&
         ntables < ARRAY_SIZE(tables); pa += 4096) {
        tables[ntables++] = pa;
    }

    for (unsigned i = 0; i < steps; i++) {
        uint64_t page = tables[g_rand_int_range(rand, 0, ntables)];

        switch (g_rand_int_range(rand, 0, 11)) {
        case 0:
        case 1:
            qtest_writeq(env.qts, page + g_rand_int_range(rand, 0, 512) * 8,
                         random_entry(rand, tables[g_rand_int_range(rand, 0,
                                                              ntables)]));
            break;
        case 2:
            random_register_write(&env, rand);
            break;
        case 3:
            random_descriptor(&env, rand);
            if (g_rand_boolean(rand)) {
                /* Clear IQE/ITE/ICE so that the queue goes on. */
                qvtd_writel(&env.vtd, A_FSTS, 0x7f);
            }
            break;
        case 4:
            set_irte(&env, irt, g_rand_int_range(rand, 0, 300),
                     random_entry(rand, irt), random_entry(rand, irt));
            break;
        case 5:
            /* Mostly remappable format, any handle. */
            edu_msi(&env, 0xfee00000 | (g_rand_int(rand) & 0xffffc) |
                    (g_rand_int_range(rand, 0, 4) ? R_IR_ADDR_FORMAT_MASK
                                                  : 0),
                    g_rand_int(rand));
            break;
        case 6:
            /* Table pointers and global commands, any combination. */
            if (g_rand_int_range(rand, 0, 4)) {
                /* Mostly back to the real tables. */
                qvtd_writeq(&env.vtd, A_RTADDR, tables[0]);
                qvtd_writeq(&env.vtd, A_IRTA, irt | (IRT_ENTRIES_LOG2 - 1));
            } else {
                qvtd_writeq(&env.vtd, g_rand_boolean(rand) ? A_RTADDR : A_IRTA,
                            random_entry(rand, tables[0]));
            }
            qvtd_writel(&env.vtd, A_GCMD, g_rand_int(rand) &
                        (R_GSTS_TE_MASK | R_GSTS_SRTP_MASK | R_GSTS_QIE_MASK |
                         R_GSTS_IRE_MASK | R_GSTS_SIRTP_MASK |
                         R_GSTS_CFI_MASK));
            break;
        case 7:
            /* What a fault handler does: clear the record and status. */
            qvtd_writel(&env.vtd, FIELD_EX64(cap, CAP, FRO) * 16 + 12,
                        R_FRCD_HI_F_MASK >> 32);
            qvtd_writel(&env.vtd, A_FSTS, 0xff);
            break;
        default:
            iova = g_rand_boolean(rand) ? IOVA_SRC + (g_rand_int(rand) & 0xfff)
                   : ((uint64_t)g_rand_int(rand) << 20) ^ g_rand_int(rand);
            edu_dma(env.qts, env.dev, env.bar,
                    g_rand_boolean(rand) ? iova : EDU_BUFFER,
                    g_rand_boolean(rand) ? EDU_BUFFER : iova, 64,
                    g_rand_boolean(rand));
            break;
        }
    }
    /* Still there. */
    g_assert_cmphex(qvtd_readl(&env.vtd, A_VER), ==, 0x10);

    /* After a reset: the device as new, and working. */
    qtest_system_reset(env.qts);
    check_reset_window(&env.vtd, cap, ecap);
    qpci_device_enable(env.dev);
    env.bar = qpci_iomap(env.dev, 0, NULL);
    qvtd_init(&env.vtd, env.qts);
    qvtd_set_root(&env.vtd);
    env.table = qvtd_alloc_page(&env.vtd);
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 1, VTD_TT_UNTRANSLATED, 4,
                     env.table, false);
    qvtd_map(&env.vtd, env.table, 4, IOVA_SRC, PA_SRC, 1, true, false);
    qvtd_map(&env.vtd, env.table, 4, IOVA_DST, PA_DST, 1, false, true);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));
    fill_pattern(env.qts, PA_SRC, 0x5a);
    edu_copy(&env, IOVA_SRC, IOVA_DST);
    check_pattern(env.qts, PA_DST, 0x5a);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    expect_read_fault(&env, IOVA_DST, VTD_FR_READ_DENIED);
    dma_env_stop(&env);
}

/* ---- scalable mode ------------------------------------------------------- */

#define SM_OPTS             "x-scalable-mode=on"
#define SM_FS_OPTS          "x-scalable-mode=on,x-flts=on"
/* edu's DMA addresses are 28 bits wide unless told otherwise. */
#define SM_EDU_64BIT        "-global edu.dma_mask=0xffffffffffffffff"

/*
 * edu behind a scalable-mode root table: its context entry points at a
 * PASID directory of 128 entries, and RID_PASID (0) at @e, whose table
 * pointer is env->table unless @e gives one.  Translation on.
 */
static uint64_t sm_env_start(DmaEnv *env, const char *opts,
                             QVTDPasidEntry *e)
{
    uint64_t dir;

    dma_env_start_with(env, opts, e->levels ? e->levels : 4, SM_EDU_64BIT);
    qvtd_set_root_scalable(&env->vtd);
    dir = qvtd_set_sm_context(&env->vtd, 0, EDU_DEVFN, 0, false, false);
    if (!e->table && e->pgtt != VTD_PGTT_PASS_THROUGH) {
        e->table = env->table;
    }
    qvtd_set_pasid_entry(&env->vtd, dir, 0, e);
    g_assert(qvtd_global_command(&env->vtd, R_GSTS_TE_MASK, true));
    return dir;
}

/* PGTT 2: second-stage tables as in legacy mode, scalable-mode reasons. */
static void test_sm_second_stage(void)
{
    DmaEnv env;
    QVTDPasidEntry e = { .pgtt = VTD_PGTT_SECOND_STAGE, .did = 3,
                         .levels = 4 };
    QVTDFault f;

    sm_env_start(&env, SM_OPTS, &e);
    qvtd_map(&env.vtd, env.table, 4, IOVA_SRC, PA_SRC, 1, true, false);
    qvtd_map(&env.vtd, env.table, 4, IOVA_DST, PA_DST, 1, false, true);
    fill_pattern(env.qts, PA_SRC, 0x44);
    edu_copy(&env, IOVA_SRC, IOVA_DST);
    check_pattern(env.qts, PA_DST, 0x44);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));

    edu_dma(env.qts, env.dev, env.bar, EDU_BUFFER, IOVA_SRC, XFER, true);
    expect_fault(&env, IOVA_SRC, VTD_FR_SM_WRITE_DENIED, false);
    expect_read_fault(&env, IOVA_DST, VTD_FR_SM_READ_DENIED);
    expect_read_fault(&env, IOVA_HOLE, VTD_FR_SM_READ_DENIED);
    qvtd_map(&env.vtd, env.table, 4, IOVA_HOLE, PA_SRC | (1ULL << 50), 1,
             true, true);
    expect_read_fault(&env, IOVA_HOLE, VTD_FR_SS_RESERVED);
    dma_env_stop(&env);
}

/* PGTT 4: untranslated. */
static void test_sm_pass_through(void)
{
    DmaEnv env;
    QVTDPasidEntry e = { .pgtt = VTD_PGTT_PASS_THROUGH, .did = 3 };

    sm_env_start(&env, SM_OPTS, &e);
    fill_pattern(env.qts, PA_SRC, 0x55);
    edu_copy(&env, PA_SRC, PA_DST);
    check_pattern(env.qts, PA_DST, 0x55);
    dma_env_stop(&env);
}

/*
 * PGTT 1: IA-32e tables, requests without PASID as user-mode requests.
 * Accessed flags are set on the way, the dirty flag on a write only.
 */
static void test_sm_first_stage(void)
{
    DmaEnv env;
    QVTDPasidEntry e = { .pgtt = VTD_PGTT_FIRST_STAGE, .did = 4,
                         .levels = 4 };
    uint64_t src_pte, dst_pte, pml4e, big_pte, next_pte;
    QVTDFault f;

    sm_env_start(&env, SM_FS_OPTS, &e);
    src_pte = qvtd_fs_map(&env.vtd, env.table, 4, IOVA_SRC, PA_SRC, 1,
                          false, true);
    dst_pte = qvtd_fs_map(&env.vtd, env.table, 4, IOVA_DST, PA_DST, 1,
                          true, true);
    /* The next page, in the same line of the table: untouched. */
    next_pte = qvtd_fs_map(&env.vtd, env.table, 4, IOVA_SRC + 0x1000,
                           PA_SRC2, 1, false, true);
    pml4e = env.table;              /* both IOVAs sit under entry 0 */
    fill_pattern(env.qts, PA_SRC, 0x66);
    edu_copy(&env, IOVA_SRC, IOVA_DST);
    check_pattern(env.qts, PA_DST, 0x66);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    g_assert(qtest_readq(env.qts, pml4e) & R_FSPTE_A_MASK);
    g_assert(qtest_readq(env.qts, src_pte) & R_FSPTE_A_MASK);
    g_assert(!(qtest_readq(env.qts, next_pte) & R_FSPTE_A_MASK));
    g_assert(!(qtest_readq(env.qts, src_pte) & R_FSPTE_D_MASK));
    g_assert(qtest_readq(env.qts, dst_pte) & R_FSPTE_D_MASK);

    /* A read of a writable page leaves it clean; the first write not. */
    qtest_writeq(env.qts, dst_pte, PA_DST | R_FSPTE_P_MASK |
                 R_FSPTE_RW_MASK | R_FSPTE_US_MASK);
    qvtd_invalidate_iotlb(&env.vtd, VTD_GRAN_GLOBAL, 0, 0, 0);
    edu_dma(env.qts, env.dev, env.bar, IOVA_DST, EDU_BUFFER, XFER, false);
    g_assert(qtest_readq(env.qts, dst_pte) & R_FSPTE_A_MASK);
    g_assert(!(qtest_readq(env.qts, dst_pte) & R_FSPTE_D_MASK));
    edu_dma(env.qts, env.dev, env.bar, EDU_BUFFER, IOVA_DST, XFER, true);
    g_assert(qtest_readq(env.qts, dst_pte) & R_FSPTE_D_MASK);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));

    /* Writing the read-only page; a supervisor-only page; no page. */
    edu_dma(env.qts, env.dev, env.bar, EDU_BUFFER, IOVA_SRC, XFER, true);
    expect_fault(&env, IOVA_SRC, VTD_FR_SM_WRITE_DENIED, false);
    qvtd_fs_map(&env.vtd, env.table, 4, IOVA_HOLE, PA_SRC, 1, true, false);
    expect_read_fault(&env, IOVA_HOLE, VTD_FR_SM_USER_DENIED);
    expect_read_fault(&env, IOVA_HOLE + 4096, VTD_FR_FS_NOT_PRESENT);
    /* XD without NXE in the PASID entry is a reserved bit. */
    qtest_writeq(env.qts, src_pte,
                 qtest_readq(env.qts, src_pte) | R_FSPTE_XD_MASK);
    qvtd_invalidate_iotlb(&env.vtd, VTD_GRAN_GLOBAL, 0, 0, 0);
    expect_read_fault(&env, IOVA_SRC, VTD_FR_FS_RESERVED);
    /* Not canonical for 4 levels: bit 47 set, bits 63:48 clear. */
    expect_read_fault(&env, 1ULL << 47, VTD_FR_SM_NOT_CANONICAL);
    /* A 2 MiB page, and a 1 GiB one (fs1gp is on by default). */
    big_pte = qvtd_fs_map(&env.vtd, env.table, 4, 0x40000000ULL, PA_SRC, 2,
                          true, true);
    fill_pattern(env.qts, PA_SRC + 0x100, 0x77);
    edu_copy(&env, 0x40000000ULL + 0x100, IOVA_DST);
    check_pattern(env.qts, PA_DST, 0x77);
    g_assert(qtest_readq(env.qts, big_pte) & R_FSPTE_A_MASK);
    qvtd_fs_map(&env.vtd, env.table, 4, 0x80000000ULL, 0, 3, true, true);
    edu_copy(&env, 0x80000000ULL + PA_SRC + 0x100, IOVA_DST);
    check_pattern(env.qts, PA_DST, 0x77);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    dma_env_stop(&env);
}

/*
 * 5-level first-stage tables (aw-bits=57 gives CAP.FS5LP): an address
 * with bit 47 set, not canonical for 4 levels, translates.
 */
static void test_sm_first_stage_5level(void)
{
    DmaEnv env;
    QVTDPasidEntry e = { .pgtt = VTD_PGTT_FIRST_STAGE, .did = 4,
                         .levels = 5, .nxe = true };
    const uint64_t high = 1ULL << 47;

    sm_env_start(&env, SM_FS_OPTS ",aw-bits=57", &e);
    qvtd_fs_map(&env.vtd, env.table, 5, high | IOVA_SRC, PA_SRC, 1, false,
                true);
    qvtd_fs_map(&env.vtd, env.table, 5, IOVA_DST, PA_DST, 1, true, true);
    /* With NXE, XD is no reserved bit (Linux sets it everywhere). */
    qtest_writeq(env.qts, env.table,
                 qtest_readq(env.qts, env.table) | R_FSPTE_XD_MASK);
    fill_pattern(env.qts, PA_SRC, 0x5a);
    edu_copy(&env, high | IOVA_SRC, IOVA_DST);
    check_pattern(env.qts, PA_DST, 0x5a);
    expect_read_fault(&env, 1ULL << 56, VTD_FR_SM_NOT_CANONICAL);
    /* Without FS5LP, a 5-level entry is invalid programming. */
    dma_env_stop(&env);
    sm_env_start(&env, SM_FS_OPTS, &e);
    expect_read_fault(&env, IOVA_SRC, VTD_FR_SM_PASIDE_INVALID);
    dma_env_stop(&env);
}

/*
 * PGTT 3 (x-nested=on): first-stage tables over second-stage ones.  The
 * first stage's tables sit at the same guest- and host-physical
 * addresses (the second stage maps them one to one); its output, GPA_SRC
 * and GPA_DST, is guest-physical and the second stage moves it to PA_SRC
 * and PA_DST.
 */
#define GPA_SRC             0x7000000ULL
#define GPA_DST             0x7100000ULL

static void test_sm_nested(void)
{
    DmaEnv env;
    QVTDPasidEntry e = { .pgtt = VTD_PGTT_NESTED, .did = 6, .levels = 4,
                         .ss_levels = 4 };
    uint64_t fs_root, pdpt_page, first = QVTD_TABLE_MEMORY;
    QVTDFault f;

    dma_env_start_with(&env, SM_OPTS ",x-nested=on", 4, SM_EDU_64BIT);
    fs_root = qvtd_alloc_page(&env.vtd);
    e.table = fs_root;
    e.ss_table = env.table;
    qvtd_set_root_scalable(&env.vtd);
    qvtd_set_pasid_entry(&env.vtd,
                         qvtd_set_sm_context(&env.vtd, 0, EDU_DEVFN, 0,
                                             false, false), 0, &e);
    qvtd_fs_map(&env.vtd, fs_root, 4, IOVA_SRC, GPA_SRC, 1, true, true);
    qvtd_fs_map(&env.vtd, fs_root, 4, IOVA_DST, GPA_DST, 1, true, true);
    pdpt_page = qtest_readq(env.qts, fs_root) & ~0xfffULL;
    /* The first stage's pages, one to one, then its output. */
    for (uint64_t pa = first; pa < first + 64 * 4096; pa += 4096) {
        qvtd_map(&env.vtd, env.table, 4, pa, pa, 1, true, true);
    }
    qvtd_map(&env.vtd, env.table, 4, GPA_SRC, PA_SRC, 1, true, false);
    qvtd_map(&env.vtd, env.table, 4, GPA_DST, PA_DST, 1, true, true);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));

    fill_pattern(env.qts, PA_SRC, 0x3c);
    edu_copy(&env, IOVA_SRC, IOVA_DST);
    check_pattern(env.qts, PA_DST, 0x3c);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));

    /* The first stage allows the write, the second does not. */
    edu_dma(env.qts, env.dev, env.bar, EDU_BUFFER, IOVA_SRC, XFER, true);
    expect_fault(&env, IOVA_SRC, VTD_FR_SM_WRITE_DENIED, false);
    /* The second stage has nothing at the first stage's output. */
    qvtd_fs_map(&env.vtd, fs_root, 4, IOVA_HOLE, GPA_SRC + 0x200000, 1,
                true, true);
    expect_read_fault(&env, IOVA_HOLE, VTD_FR_SM_READ_DENIED);
    /* ... at the root table; at a lower table; read-only tables. */
    qvtd_invalidate_iotlb(&env.vtd, VTD_GRAN_GLOBAL, 0, 0, 0);
    qvtd_unmap(&env.vtd, env.table, 4, pdpt_page, 1);
    expect_read_fault(&env, IOVA_SRC, VTD_FR_NESTED_ENTRY_DENIED);
    qvtd_unmap(&env.vtd, env.table, 4, fs_root, 1);
    expect_read_fault(&env, IOVA_SRC, VTD_FR_NESTED_ROOT_DENIED);
    qvtd_map(&env.vtd, env.table, 4, fs_root, fs_root, 1, true, false);
    qvtd_map(&env.vtd, env.table, 4, pdpt_page, pdpt_page, 1, true, true);
    qtest_writeq(env.qts, fs_root,
                 qtest_readq(env.qts, fs_root) & ~R_FSPTE_A_MASK);
    expect_read_fault(&env, IOVA_SRC, VTD_FR_NESTED_AD_DENIED);
    dma_env_stop(&env);
}

/* 7.1.3: the scalable-mode reasons of the context and PASID structures. */
static void test_sm_fault_reasons(void)
{
    DmaEnv env;
    QVTDPasidEntry e = { .pgtt = VTD_PGTT_SECOND_STAGE, .did = 3,
                         .levels = 4 };
    uint64_t dir, pe, ctx;
    QVTDFault f;

    dma_env_start_with(&env, SM_OPTS, 4, SM_EDU_64BIT);
    qvtd_set_root_scalable(&env.vtd);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));
    expect_read_fault(&env, IOVA_SRC, VTD_FR_SM_ROOT_NOT_PRESENT);
    /* A context table for another function: edu's entry is not there. */
    qvtd_set_sm_context(&env.vtd, 0, QPCI_DEVFN(7, 0), 0, false, false);
    expect_read_fault(&env, IOVA_SRC, VTD_FR_SM_CONTEXT_NOT_PRESENT);
    dir = qvtd_set_sm_context(&env.vtd, 0, EDU_DEVFN, 0, false, false);
    ctx = (qtest_readq(env.qts, env.vtd.root_table) & ~0xfffULL) +
          EDU_DEVFN * VTD_SM_CTX_SIZE;
    expect_read_fault(&env, IOVA_SRC, VTD_FR_SM_PDIRE_NOT_PRESENT);
    qtest_writeq(env.qts, ctx + 16, 1);     /* reserved quadword 2 */
    expect_read_fault(&env, IOVA_SRC, VTD_FR_SM_CONTEXT_RESERVED);
    qtest_writeq(env.qts, ctx + 16, 0);
    qtest_writeq(env.qts, env.vtd.root_table,
                 qtest_readq(env.qts, env.vtd.root_table) | (1ULL << 4));
    expect_read_fault(&env, IOVA_SRC, VTD_FR_SM_ROOT_RESERVED);
    qtest_writeq(env.qts, env.vtd.root_table,
                 qtest_readq(env.qts, env.vtd.root_table) & ~(1ULL << 4));

    /* A PASID table without entry 0. */
    pe = qvtd_pasid_entry_addr(&env.vtd, dir, 0);
    expect_read_fault(&env, IOVA_SRC, VTD_FR_SM_PASIDE_NOT_PRESENT);
    qtest_writeq(env.qts, dir, qtest_readq(env.qts, dir) | (1ULL << 3));
    expect_read_fault(&env, IOVA_SRC, VTD_FR_SM_PDIRE_RESERVED);
    qtest_writeq(env.qts, dir, qtest_readq(env.qts, dir) & ~(1ULL << 3));

    /* Nested (no ECAP.NEST) and reserved types; a depth not in SAGAW. */
    e.pgtt = VTD_PGTT_NESTED;
    qvtd_set_pasid_entry(&env.vtd, dir, 0, &e);
    expect_read_fault(&env, IOVA_SRC, VTD_FR_SM_PASIDE_INVALID);
    e.pgtt = 5;
    qvtd_set_pasid_entry(&env.vtd, dir, 0, &e);
    expect_read_fault(&env, IOVA_SRC, VTD_FR_SM_PASIDE_INVALID);
    e.pgtt = VTD_PGTT_SECOND_STAGE;
    e.levels = 5;
    qvtd_set_pasid_entry(&env.vtd, dir, 0, &e);
    expect_read_fault(&env, IOVA_SRC, VTD_FR_SM_PASIDE_INVALID);
    /* First stage on a unit without it (x-flts=off). */
    e.pgtt = VTD_PGTT_FIRST_STAGE;
    e.levels = 4;
    qvtd_set_pasid_entry(&env.vtd, dir, 0, &e);
    expect_read_fault(&env, IOVA_SRC, VTD_FR_SM_PASIDE_INVALID);
    e.pgtt = VTD_PGTT_SECOND_STAGE;
    qvtd_set_pasid_entry(&env.vtd, dir, 0, &e);
    qtest_writeq(env.qts, pe, qtest_readq(env.qts, pe) | (1ULL << 10));
    expect_read_fault(&env, IOVA_SRC, VTD_FR_SM_PASIDE_RESERVED);

    /*
     * FPD on an entry suppresses the faults past it, its own "not
     * present" included: the PASID entry's, the directory entry's.
     */
    qtest_writeq(env.qts, pe, R_PASIDE0_FPD_MASK);
    edu_dma(env.qts, env.dev, env.bar, IOVA_SRC, EDU_BUFFER, XFER, false);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    qtest_writeq(env.qts, dir, R_PDIRE_FPD_MASK);
    edu_dma(env.qts, env.dev, env.bar, IOVA_SRC, EDU_BUFFER, XFER, false);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    /* Not the context entry's reserved bits, which come before. */
    qtest_writeq(env.qts, ctx, qtest_readq(env.qts, ctx) |
                 R_SM_CTX_LO_FPD_MASK | (1ULL << 5));
    expect_read_fault(&env, IOVA_SRC, VTD_FR_SM_CONTEXT_RESERVED);
    g_assert_cmphex(qvtd_readl(&env.vtd, A_FSTS), ==, 0);
    dma_env_stop(&env);
}

/* A 256-bit descriptor, then a wait: false if the queue stopped (IQE). */
static bool sm_submit(DmaEnv *env, uint64_t lo, uint64_t hi)
{
    qvtd_queue_submit(&env->vtd, lo, hi);
    return qvtd_queue_wait(&env->vtd);
}

static uint64_t pc_desc(unsigned gran, uint16_t did, uint32_t pasid)
{
    uint64_t d = FIELD_DP64(VTD_INV_PASID_CACHE, INV_PC, G, gran);

    d = FIELD_DP64(d, INV_PC, DID, did);
    return FIELD_DP64(d, INV_PC, PASID, pasid);
}

static uint64_t piotlb_desc(unsigned gran, uint16_t did, uint32_t pasid)
{
    uint64_t d = FIELD_DP64(VTD_INV_PASID_IOTLB, INV_PIOTLB, G, gran);

    d = FIELD_DP64(d, INV_PIOTLB, DID, did);
    return FIELD_DP64(d, INV_PIOTLB, PASID, pasid);
}

/*
 * A PASID entry stays cached until a PASID-cache invalidation names it:
 * edu's entry moves from domain 1 (IOVA_SRC -> PA_SRC) to domain 2
 * (IOVA_SRC -> PA_SRC2), with one granularity per round.
 */
static void test_sm_pasid_cache(void)
{
    static const struct {
        unsigned gran;
        uint16_t did;               /* of an invalidation that misses */
    } rounds[] = {
        { VTD_PC_GRAN_DOMAIN, 7 },
        { VTD_PC_GRAN_PASID, 7 },
        { VTD_PC_GRAN_GLOBAL, 0 },
    };

    for (unsigned i = 0; i < ARRAY_SIZE(rounds); i++) {
        DmaEnv env;
        QVTDPasidEntry e = { .pgtt = VTD_PGTT_SECOND_STAGE, .did = 1,
                             .levels = 4 };
        uint64_t dir, table2;

        dir = sm_env_start(&env, SM_OPTS, &e);
        qvtd_queue_enable(&env.vtd, true);
        table2 = qvtd_alloc_page(&env.vtd);
        qvtd_map(&env.vtd, env.table, 4, IOVA_SRC, PA_SRC, 1, true, false);
        qvtd_map(&env.vtd, env.table, 4, IOVA_DST, PA_DST, 1, true, true);
        qvtd_map(&env.vtd, table2, 4, IOVA_SRC, PA_SRC2, 1, true, false);
        qvtd_map(&env.vtd, table2, 4, IOVA_DST, PA_DST, 1, true, true);
        fill_pattern(env.qts, PA_SRC, 0x11);
        fill_pattern(env.qts, PA_SRC2, 0x22);
        g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);

        e.did = 2;
        e.table = table2;
        qvtd_set_pasid_entry(&env.vtd, dir, 0, &e);
        g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
        /* Another domain, another PASID: still the old entry. */
        if (rounds[i].gran != VTD_PC_GRAN_GLOBAL) {
            g_assert(sm_submit(&env, pc_desc(rounds[i].gran,
                                             rounds[i].did, 0), 0));
            g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
        }
        g_assert(sm_submit(&env, pc_desc(VTD_PC_GRAN_PASID, 1, 5), 0));
        g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
        /* This one: the new entry, in domain 2. */
        g_assert(sm_submit(&env, pc_desc(rounds[i].gran, 1, 0), 0));
        g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x22);
        dma_env_stop(&env);
    }
}

/*
 * PASID-based IOTLB invalidation (first stage): a remapped page stays
 * cached until a page-selective or PASID-selective invalidation of its
 * domain and PASID covers it.
 */
static void test_sm_pasid_iotlb(void)
{
    DmaEnv env;
    QVTDPasidEntry e = { .pgtt = VTD_PGTT_FIRST_STAGE, .did = 4,
                         .levels = 4 };
    uint64_t src_pte;

    sm_env_start(&env, SM_FS_OPTS, &e);
    qvtd_queue_enable(&env.vtd, true);
    src_pte = qvtd_fs_map(&env.vtd, env.table, 4, IOVA_SRC, PA_SRC, 1,
                          false, true);
    qvtd_fs_map(&env.vtd, env.table, 4, IOVA_DST, PA_DST, 1, true, true);
    fill_pattern(env.qts, PA_SRC, 0x11);
    fill_pattern(env.qts, PA_SRC2, 0x22);
    for (unsigned gran = VTD_GRAN_PASID; gran <= VTD_GRAN_PASID_PAGE;
         gran++) {
        uint64_t to = gran == VTD_GRAN_PASID ? PA_SRC2 : PA_SRC;
        uint8_t old = gran == VTD_GRAN_PASID ? 0x11 : 0x22;

        g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, old);
        qtest_writeq(env.qts, src_pte, to | R_FSPTE_P_MASK |
                     R_FSPTE_US_MASK | R_FSPTE_A_MASK);
        g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, old);
        /* Another domain; another PASID; another page. */
        g_assert(sm_submit(&env, piotlb_desc(gran, 5, 0), IOVA_SRC));
        g_assert(sm_submit(&env, piotlb_desc(gran, 4, 9), IOVA_SRC));
        if (gran == VTD_GRAN_PASID_PAGE) {
            g_assert(sm_submit(&env, piotlb_desc(gran, 4, 0),
                               IOVA_SRC + 4096));
        }
        g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, old);
        g_assert(sm_submit(&env, piotlb_desc(gran, 4, 0), IOVA_SRC));
        g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, old ^ 0x33);
    }
    dma_env_stop(&env);
}

#define SM_PASID_OPTS       "x-scalable-mode=on,x-flts=on,x-pasid-mode=on"

static uint64_t edu_pasid_cmd(uint32_t pasid, bool to_ram)
{
    return EDU_DMA_PASID | (uint64_t)pasid << EDU_DMA_PASID_SHIFT |
           (to_ram ? EDU_DMA_TO_RAM : 0);
}

/*
 * edu reads @iova with PASID @pasid into its buffer, which a request
 * without PASID then writes to IOVA_DST (PA_DST): the first byte read.
 */
static uint8_t edu_reads_pasid(DmaEnv *env, uint64_t iova, uint32_t pasid)
{
    qtest_writeb(env->qts, PA_DST, 0);
    edu_dma_cmd(env->qts, env->dev, env->bar, iova, EDU_BUFFER, XFER,
                edu_pasid_cmd(pasid, false));
    edu_dma(env->qts, env->dev, env->bar, EDU_BUFFER, IOVA_DST, XFER, true);
    return qtest_readb(env->qts, PA_DST);
}

/* A request with PASID @pasid at @iova: one fault recording it. */
static void expect_pasid_fault(DmaEnv *env, uint64_t iova, uint32_t pasid,
                               bool to_ram, uint8_t reason)
{
    QVTDFault f;

    edu_dma_cmd(env->qts, env->dev, env->bar, to_ram ? EDU_BUFFER : iova,
                to_ram ? iova : EDU_BUFFER, XFER,
                edu_pasid_cmd(pasid, to_ram));
    g_assert(qvtd_fault_pop(&env->vtd, &f));
    g_assert_cmphex(f.reason, ==, reason);
    g_assert_cmphex(f.sid, ==, EDU_SID);
    g_assert_cmphex(f.addr, ==, iova & ~0xfffULL);
    g_assert_cmpint(f.is_read, ==, !to_ram);
    g_assert(f.has_pasid);
    g_assert_cmpuint(f.pasid, ==, pasid);
    g_assert_cmphex(qvtd_readl(&env->vtd, A_FSTS), ==, 0);
    g_assert(!qvtd_fault_pop(&env->vtd, &f));
}

/*
 * Requests with PASID (x-pasid-mode=on; edu tags its DMA through
 * patches/0011): each PASID has its own PASID entry, the context entry's
 * PASIDE lets them in, their faults carry the PASID, and the IOTLB and
 * PASID cache tag their entries with it.  RID_PASID (0, requests without
 * PASID) and PASID 5 have first-stage tables of their own in domain 1.
 */
static void test_sm_pasid_dma(void)
{
    DmaEnv env;
    QVTDPasidEntry rid = { .pgtt = VTD_PGTT_FIRST_STAGE, .did = 1,
                           .levels = 4 };
    QVTDPasidEntry p5 = { .pgtt = VTD_PGTT_FIRST_STAGE, .did = 1,
                          .levels = 4 };
    uint64_t dir, pte5;
    QVTDFault f;

    dir = sm_env_start(&env, SM_PASID_OPTS, &rid);
    qvtd_queue_enable(&env.vtd, true);
    qvtd_fs_map(&env.vtd, env.table, 4, IOVA_SRC, PA_SRC, 1, false, true);
    qvtd_fs_map(&env.vtd, env.table, 4, IOVA_DST, PA_DST, 1, true, true);
    p5.table = qvtd_alloc_page(&env.vtd);
    pte5 = qvtd_fs_map(&env.vtd, p5.table, 4, IOVA_SRC, PA_SRC2, 1, false,
                       true);
    qvtd_set_pasid_entry(&env.vtd, dir, 5, &p5);
    fill_pattern(env.qts, PA_SRC, 0x11);
    fill_pattern(env.qts, PA_SRC2, 0x22);
    fill_pattern(env.qts, PA_SRC3, 0x33);

    /* PASIDE clear: blocked (SCT.6), the PASID in the record. */
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
    expect_pasid_fault(&env, IOVA_SRC, 5, false, VTD_FR_SM_PASID_DISABLED);

    /* PASIDE set: PASID 5 reads through its own tables. */
    qvtd_set_sm_context_paside(&env.vtd, 0, EDU_DEVFN, true);
    g_assert(qvtd_invalidate_context(&env.vtd, VTD_GRAN_GLOBAL, 0, 0, 0));
    g_assert_cmphex(edu_reads_pasid(&env, IOVA_SRC, 5), ==, 0x22);
    g_assert(qtest_readq(env.qts, pte5) & R_FSPTE_A_MASK);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));

    /* Its faults: no PASID entry (SPT.2); a write to a read-only page. */
    expect_pasid_fault(&env, IOVA_SRC, 7, false, VTD_FR_SM_PASIDE_NOT_PRESENT);
    expect_pasid_fault(&env, IOVA_SRC, 5, true, VTD_FR_SM_WRITE_DENIED);
    expect_pasid_fault(&env, IOVA_HOLE, 5, false, VTD_FR_FS_NOT_PRESENT);

    /*
     * The IOTLB tags translations with their PASID: remap both PASIDs'
     * IOVA_SRC; each invalidation drops its own PASID's only.
     */
    qtest_writeq(env.qts, pte5, PA_SRC3 | R_FSPTE_P_MASK | R_FSPTE_US_MASK |
                 R_FSPTE_A_MASK);
    qvtd_fs_map(&env.vtd, env.table, 4, IOVA_SRC, PA_SRC2, 1, false, true);
    g_assert(sm_submit(&env, piotlb_desc(VTD_GRAN_PASID, 1, 6), 0));
    g_assert(sm_submit(&env, piotlb_desc(VTD_GRAN_PASID, 2, 5), 0));
    g_assert_cmphex(edu_reads_pasid(&env, IOVA_SRC, 5), ==, 0x22);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
    g_assert(sm_submit(&env, piotlb_desc(VTD_GRAN_PASID_PAGE, 1, 5),
                       IOVA_SRC));
    g_assert_cmphex(edu_reads_pasid(&env, IOVA_SRC, 5), ==, 0x33);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
    g_assert(sm_submit(&env, piotlb_desc(VTD_GRAN_PASID, 1, 0), 0));
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x22);
    g_assert_cmphex(edu_reads_pasid(&env, IOVA_SRC, 5), ==, 0x33);

    /*
     * The PASID cache: PASID 5's entry moves to domain 3 and new tables;
     * it stays cached until a PASID-cache invalidation names it.
     */
    p5.did = 3;
    p5.table = qvtd_alloc_page(&env.vtd);
    qvtd_fs_map(&env.vtd, p5.table, 4, IOVA_SRC, PA_SRC, 1, false, true);
    qvtd_set_pasid_entry(&env.vtd, dir, 5, &p5);
    g_assert(sm_submit(&env, pc_desc(VTD_PC_GRAN_PASID, 1, 6), 0));
    g_assert(sm_submit(&env, pc_desc(VTD_PC_GRAN_DOMAIN, 2, 0), 0));
    g_assert(sm_submit(&env, pc_desc(VTD_PC_GRAN_PASID, 1, 0), 0));
    g_assert_cmphex(edu_reads_pasid(&env, IOVA_SRC, 5), ==, 0x33);
    g_assert(sm_submit(&env, pc_desc(VTD_PC_GRAN_PASID, 1, 5), 0));
    g_assert_cmphex(edu_reads_pasid(&env, IOVA_SRC, 5), ==, 0x11);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x22);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    dma_env_stop(&env);

    /* Legacy mode knows no PASID: such a request is blocked, silently. */
    dma_env_start(&env, "", 4);
    qvtd_set_context(&env.vtd, 0, EDU_DEVFN, 1, VTD_TT_UNTRANSLATED, 4,
                     env.table, false);
    qvtd_map(&env.vtd, env.table, 4, IOVA_SRC, PA_SRC, 1, true, false);
    qvtd_map(&env.vtd, env.table, 4, IOVA_DST, PA_DST, 1, true, true);
    g_assert(qvtd_global_command(&env.vtd, R_GSTS_TE_MASK, true));
    fill_pattern(env.qts, PA_SRC, 0x11);
    g_assert_cmphex(edu_reads_pasid(&env, IOVA_SRC, 5), ==, 0);
    g_assert_cmphex(edu_reads(&env, IOVA_SRC), ==, 0x11);
    g_assert(!qvtd_fault_pop(&env.vtd, &f));
    dma_env_stop(&env);
}

/* PASID-granular descriptors: 256-bit, and on scalable units only. */
static void test_sm_descriptors(void)
{
    static const char *const units[] = { "", SM_OPTS };

    for (unsigned i = 0; i < ARRAY_SIZE(units); i++) {
        for (unsigned wide = 0; wide <= 1; wide++) {
            QVTD vtd;
            QTestState *qts = vtd_start_driver(&vtd, units[i]);
            bool valid = i == 1 && wide;

            if (wide && i == 0) {
                qtest_quit(qts);     /* IQA.DW is not writable there */
                continue;
            }
            qvtd_queue_enable(&vtd, wide);
            qvtd_queue_submit(&vtd, pc_desc(VTD_PC_GRAN_GLOBAL, 0, 0), 0);
            g_assert(qvtd_queue_wait(&vtd) == valid);
            g_assert_cmpint(!!(qvtd_readl(&vtd, A_FSTS) & R_FSTS_IQE_MASK),
                            ==, !valid);
            qtest_quit(qts);
        }
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/intel-iommu/properties", test_properties);
    qtest_add_func("/intel-iommu/realize/errors", test_realize_errors);
    qtest_add_func("/intel-iommu/realize/errors-kvm",
                   test_realize_errors_kvm);
    qtest_add_func("/intel-iommu/realize/valid", test_valid_configs_start);
    qtest_add_func("/intel-iommu/regs/reset-values", test_reset_values);
    qtest_add_func("/intel-iommu/regs/write-masks", test_write_masks);
    qtest_add_func("/intel-iommu/regs/write-masks-eim",
                   test_write_masks_eim);
    qtest_add_func("/intel-iommu/regs/status", test_status_registers);
    qtest_add_func("/intel-iommu/regs/global-commands",
                   test_global_commands);
    qtest_add_func("/intel-iommu/regs/no-ir-without-intremap",
                   test_no_ir_without_intremap);
    qtest_add_func("/intel-iommu/regs/any-access", test_any_access);
    qtest_add_func("/intel-iommu/regs/event-control-qword",
                   test_event_control_qword);
    qtest_add_func("/intel-iommu/acpi/dmar", test_acpi_dmar);
    qtest_add_func("/intel-iommu/dma/translation-disabled",
                   test_dma_translation_disabled);
    qtest_add_func("/intel-iommu/dma/translation-off-property",
                   test_dma_translation_off_property);
    qtest_add_func("/intel-iommu/dma/translate-4level", test_translate_4level);
    qtest_add_func("/intel-iommu/dma/translate-3level", test_translate_3level);
    qtest_add_func("/intel-iommu/dma/translate-5level", test_translate_5level);
    qtest_add_func("/intel-iommu/dma/translate-2m", test_translate_2m);
    qtest_add_func("/intel-iommu/dma/translate-1g", test_translate_1g);
    qtest_add_func("/intel-iommu/dma/pass-through", test_pass_through);
    qtest_add_func("/intel-iommu/fault/reasons", test_fault_reasons);
    qtest_add_func("/intel-iommu/fault/fpd", test_fault_processing_disable);
    qtest_add_func("/intel-iommu/fault/overflow-and-event",
                   test_fault_overflow_and_event);
    qtest_add_func("/intel-iommu/fault/records", test_fault_records);
    qtest_add_func("/intel-iommu/inval/registers",
                   test_register_invalidation);
    qtest_add_func("/intel-iommu/inval/queue", test_queued_invalidation);
    qtest_add_func("/intel-iommu/inval/queue-reserved-bits",
                   test_queue_reserved_bits);
    qtest_add_func("/intel-iommu/cache/iotlb-registers",
                   test_iotlb_invalidation_registers);
    qtest_add_func("/intel-iommu/cache/iotlb-queue",
                   test_iotlb_invalidation_queue);
    qtest_add_func("/intel-iommu/cache/iotlb-shared-domain",
                   test_iotlb_shared_domain);
    qtest_add_func("/intel-iommu/cache/iotlb-beyond-mamv",
                   test_iotlb_invalidation_beyond_mamv);
    qtest_add_func("/intel-iommu/cache/line-fill", test_iotlb_line_fill);
    qtest_add_func("/intel-iommu/cache/recent-hits",
                   test_recent_hits_invalidation);
    qtest_add_func("/intel-iommu/cache/leaf-tables-registers",
                   test_leaf_table_cache_registers);
    qtest_add_func("/intel-iommu/cache/leaf-tables-queue",
                   test_leaf_table_cache_queue);
    qtest_add_func("/intel-iommu/cache/leaf-tables-roots",
                   test_leaf_table_cache_roots);
    qtest_add_func("/intel-iommu/cache/context-registers",
                   test_context_invalidation_registers);
    qtest_add_func("/intel-iommu/cache/context-queue",
                   test_context_invalidation_queue);
    qtest_add_func("/intel-iommu/cache/superpage",
                   test_superpage_cached_whole);
    qtest_add_func("/intel-iommu/cache/pass-through",
                   test_pass_through_cached);
    qtest_add_func("/intel-iommu/migration/same", test_migration);
    qtest_add_func("/intel-iommu/migration/from-stock",
                   test_migration_from_stock);
    qtest_add_func("/intel-iommu/migration/to-stock",
                   test_migration_to_stock);
    qtest_add_func("/intel-iommu/migration/fault-records",
                   test_migration_fault_records);
    qtest_add_func("/intel-iommu/migration/other-hardware",
                   test_migration_other_hardware);
    qtest_add_func("/intel-iommu/info/hmp", test_info_hmp);
    qtest_add_func("/intel-iommu/robustness/random-guest",
                   test_random_guest);
    qtest_add_func("/intel-iommu/ir/faults", test_ir_faults);
    qtest_add_func("/intel-iommu/ir/entry-cache", test_ir_entry_cache);
    qtest_add_func("/intel-iommu/ir/delivered", test_ir_delivered);
    qtest_add_func("/intel-iommu/ir/kvm-split-routes",
                   test_ir_kvm_split_routes);
    qtest_add_func("/intel-iommu/sm/second-stage", test_sm_second_stage);
    qtest_add_func("/intel-iommu/sm/pass-through", test_sm_pass_through);
    qtest_add_func("/intel-iommu/sm/first-stage", test_sm_first_stage);
    qtest_add_func("/intel-iommu/sm/first-stage-5level",
                   test_sm_first_stage_5level);
    qtest_add_func("/intel-iommu/sm/nested", test_sm_nested);
    qtest_add_func("/intel-iommu/sm/fault-reasons", test_sm_fault_reasons);
    qtest_add_func("/intel-iommu/sm/pasid-cache", test_sm_pasid_cache);
    qtest_add_func("/intel-iommu/sm/pasid-iotlb", test_sm_pasid_iotlb);
    qtest_add_func("/intel-iommu/sm/descriptors", test_sm_descriptors);
    qtest_add_func("/intel-iommu/sm/pasid-dma", test_sm_pasid_dma);
    vtd_vhost_add_tests();
    return g_test_run();
}
