/*
 * qtest for intel-iommu's notifiers as vhost consumes them
 *
 * The test plays both ends of a vhost-user virtio-net with
 * iommu_platform=on behind the remapping unit: the guest driver (libqos
 * virtio and intel-iommu drivers) and, in a thread, the vhost-user
 * back-end, which records every IOTLB message QEMU sends it.  vhost is the
 * consumer of the unit's UNMAP notifier (without a device IOTLB) and of
 * its DEVIOTLB_UNMAP notifier (ATS enabled, device-iotlb=on); it turns
 * each event into one IOTLB-invalidate message, so the exact events reach
 * the test.  It also turns the back-end's IOTLB misses into translations
 * through the unit (iommu_ops->translate outside a DMA), whose
 * permissions the test checks.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/sockets.h"
#include <sys/socket.h>
#include <sys/un.h>
#include "libqtest.h"
#include "libqos/libqos-malloc.h"
#include "libqos/pci-pc.h"
#include "libqos/virtio.h"
#include "libqos/virtio-pci.h"
#include "libqos/intel-iommu.h"
#include "hw/pci/pci_regs.h"
#include "standard-headers/linux/vhost_types.h"
#include "standard-headers/linux/virtio_config.h"
#include "intel-iommu-vhost.h"

/* ---- the vhost-user back-end (docs/interop/vhost-user.rst) ------------ */

enum {
    VU_GET_FEATURES = 1,
    VU_GET_VRING_BASE = 11,
    VU_GET_PROTOCOL_FEATURES = 15,
    VU_SET_BACKEND_REQ_FD = 21,
    VU_IOTLB_MSG = 22,
    VU_BACKEND_IOTLB_MSG = 1,
};

#define VU_FLAG_VERSION         0x1
#define VU_FLAG_REPLY           0x4
#define VU_FLAG_NEED_REPLY      0x8
#define VU_F_PROTOCOL_FEATURES  (1ULL << 30)
#define VU_PROTO_REPLY_ACK      (1ULL << 3)
#define VU_PROTO_BACKEND_REQ    (1ULL << 5)

#define IOTLB_MISS              1
#define IOTLB_UPDATE            2
#define IOTLB_INVALIDATE        3

typedef struct VuHeader {
    uint32_t request;
    uint32_t flags;
    uint32_t size;
} QEMU_PACKED VuHeader;

typedef struct VuIotlb {
    uint64_t iova;
    uint64_t size;
    uint64_t uaddr;
    uint8_t perm;
    uint8_t type;
    uint8_t pad[6];
} QEMU_PACKED VuIotlb;

typedef struct VuBackend {
    char *dir;
    char *path;
    int listen_fd;
    int fd;
    int backend_fd;
    GThread *thread;
    GMutex lock;
    GCond cond;
    GArray *events;             /* VuIotlb, updates and invalidations */
    unsigned taken;             /* events the test has looked at */
} VuBackend;

static bool vu_read_all(int fd, void *buf, size_t len)
{
    while (len) {
        ssize_t got = read(fd, buf, len);

        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return false;
        }
        buf = (uint8_t *)buf + got;
        len -= got;
    }
    return true;
}

static void vu_reply(VuBackend *vu, uint32_t request, const void *payload,
                     uint32_t size)
{
    VuHeader hdr = { request, VU_FLAG_VERSION | VU_FLAG_REPLY, size };

    g_assert_cmpint(qemu_send_full(vu->fd, &hdr, sizeof(hdr)), ==,
                    sizeof(hdr));
    g_assert_cmpint(qemu_send_full(vu->fd, payload, size), ==, size);
}

/* One message from QEMU, with its file descriptors; false at EOF. */
static bool vu_receive(VuBackend *vu, VuHeader *hdr, uint8_t *payload,
                       size_t max, int *fds, int *nfds)
{
    char control[CMSG_SPACE(8 * sizeof(int))];
    struct iovec iov = { .iov_base = hdr, .iov_len = sizeof(*hdr) };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = control, .msg_controllen = sizeof(control),
    };
    struct cmsghdr *cmsg;
    ssize_t got = recvmsg(vu->fd, &msg, 0);

    *nfds = 0;
    if (got <= 0) {
        return false;
    }
    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
            *nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            memcpy(fds, CMSG_DATA(cmsg), *nfds * sizeof(int));
        }
    }
    if (got < sizeof(*hdr) &&
        !vu_read_all(vu->fd, (uint8_t *)hdr + got, sizeof(*hdr) - got)) {
        return false;
    }
    g_assert_cmpuint(hdr->size, <=, max);
    return !hdr->size || vu_read_all(vu->fd, payload, hdr->size);
}

static gpointer vu_thread(gpointer opaque)
{
    VuBackend *vu = opaque;
    uint8_t payload[4096];
    VuHeader hdr;
    int fds[8], nfds;

    vu->fd = accept(vu->listen_fd, NULL, NULL);
    g_assert_cmpint(vu->fd, >=, 0);
    while (vu_receive(vu, &hdr, payload, sizeof(payload), fds, &nfds)) {
        bool replied = true;
        uint64_t u64;

        switch (hdr.request) {
        case VU_GET_FEATURES:
            u64 = VU_F_PROTOCOL_FEATURES | (1ULL << VIRTIO_F_VERSION_1) |
                  (1ULL << VIRTIO_F_IOMMU_PLATFORM);
            vu_reply(vu, hdr.request, &u64, sizeof(u64));
            break;
        case VU_GET_PROTOCOL_FEATURES:
            u64 = VU_PROTO_REPLY_ACK | VU_PROTO_BACKEND_REQ;
            vu_reply(vu, hdr.request, &u64, sizeof(u64));
            break;
        case VU_GET_VRING_BASE:
            memset(payload + 4, 0, 4);      /* index kept, num 0 */
            vu_reply(vu, hdr.request, payload, 8);
            break;
        case VU_SET_BACKEND_REQ_FD:
            g_assert_cmpint(nfds, ==, 1);
            vu->backend_fd = fds[0];
            nfds = 0;
            replied = false;
            break;
        case VU_IOTLB_MSG: {
            VuIotlb iotlb;

            g_assert_cmpuint(hdr.size, >=, sizeof(iotlb));
            memcpy(&iotlb, payload, sizeof(iotlb));
            g_mutex_lock(&vu->lock);
            g_array_append_val(vu->events, iotlb);
            g_cond_broadcast(&vu->cond);
            g_mutex_unlock(&vu->lock);
            replied = false;
            break;
        }
        default:
            replied = false;
            break;
        }
        while (nfds) {
            close(fds[--nfds]);
        }
        if (!replied && (hdr.flags & VU_FLAG_NEED_REPLY)) {
            u64 = 0;
            vu_reply(vu, hdr.request, &u64, sizeof(u64));
        }
    }
    return NULL;
}

static VuBackend *vu_start(void)
{
    VuBackend *vu = g_new0(VuBackend, 1);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    vu->dir = g_dir_make_tmp("vtd-vhost-XXXXXX", NULL);
    g_assert(vu->dir);
    vu->path = g_strdup_printf("%s/vhost-user.sock", vu->dir);
    g_assert_cmpuint(strlen(vu->path), <, sizeof(addr.sun_path));
    strcpy(addr.sun_path, vu->path);
    vu->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    g_assert_cmpint(vu->listen_fd, >=, 0);
    g_assert_cmpint(bind(vu->listen_fd, (struct sockaddr *)&addr,
                         sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(vu->listen_fd, 1), ==, 0);
    vu->fd = vu->backend_fd = -1;
    vu->events = g_array_new(false, false, sizeof(VuIotlb));
    g_mutex_init(&vu->lock);
    g_cond_init(&vu->cond);
    vu->thread = g_thread_new("vhost-user", vu_thread, vu);
    return vu;
}

static void vu_stop(VuBackend *vu)
{
    /* QEMU has quit: the thread sees EOF. */
    g_thread_join(vu->thread);
    close(vu->fd);
    if (vu->backend_fd >= 0) {
        close(vu->backend_fd);
    }
    close(vu->listen_fd);
    unlink(vu->path);
    rmdir(vu->dir);
    g_array_free(vu->events, true);
    g_mutex_clear(&vu->lock);
    g_cond_clear(&vu->cond);
    g_free(vu->path);
    g_free(vu->dir);
    g_free(vu);
}

/* The next event QEMU sent, waiting up to 5 s; false if none came. */
static bool vu_next(VuBackend *vu, VuIotlb *event)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_TIME_SPAN_SECOND;
    bool found = true;

    g_mutex_lock(&vu->lock);
    while (vu->taken == vu->events->len) {
        if (!g_cond_wait_until(&vu->cond, &vu->lock, deadline)) {
            found = false;
            break;
        }
    }
    if (found) {
        *event = g_array_index(vu->events, VuIotlb, vu->taken++);
        g_test_message("event type %d iova 0x%" PRIx64 " size 0x%" PRIx64
                       " perm %d", event->type, event->iova, event->size,
                       event->perm);
    }
    g_mutex_unlock(&vu->lock);
    return found;
}

/* Forget what came so far. */
static void vu_skip_all(VuBackend *vu)
{
    g_mutex_lock(&vu->lock);
    vu->taken = vu->events->len;
    g_mutex_unlock(&vu->lock);
}

/* Nothing came since the last look (invalidations are synchronous). */
static void vu_assert_quiet(VuBackend *vu)
{
    g_mutex_lock(&vu->lock);
    g_assert_cmpuint(vu->events->len, ==, vu->taken);
    g_mutex_unlock(&vu->lock);
}

static void vu_expect_invalidation(VuBackend *vu, uint64_t iova,
                                   uint64_t size)
{
    VuIotlb ev;

    g_assert(vu_next(vu, &ev));
    g_assert_cmpuint(ev.type, ==, IOTLB_INVALIDATE);
    g_assert_cmphex(ev.iova, ==, iova);
    g_assert_cmphex(ev.size, ==, size);
}

/*
 * Two invalidations, one for each of vhost's notifiers, in either order
 * (the memory core walks notifiers in its list's order).
 */
static void vu_expect_invalidation_pair(VuBackend *vu, uint64_t iova1,
                                        uint64_t size1, uint64_t iova2,
                                        uint64_t size2)
{
    VuIotlb ev[2];

    g_assert(vu_next(vu, &ev[0]));
    g_assert(vu_next(vu, &ev[1]));
    if (ev[0].iova > ev[1].iova) {
        VuIotlb tmp = ev[0];

        ev[0] = ev[1];
        ev[1] = tmp;
    }
    g_assert_cmpuint(ev[0].type, ==, IOTLB_INVALIDATE);
    g_assert_cmpuint(ev[1].type, ==, IOTLB_INVALIDATE);
    g_assert_cmphex(ev[0].iova, ==, iova1);
    g_assert_cmphex(ev[0].size, ==, size1);
    g_assert_cmphex(ev[1].iova, ==, iova2);
    g_assert_cmphex(ev[1].size, ==, size2);
}

static void vu_send_miss(VuBackend *vu, uint64_t iova, uint8_t perm)
{
    VuHeader hdr = { VU_BACKEND_IOTLB_MSG, VU_FLAG_VERSION, sizeof(VuIotlb) };
    VuIotlb miss = { .iova = iova, .perm = perm, .type = IOTLB_MISS };

    g_assert_cmpint(vu->backend_fd, >=, 0);
    g_assert_cmpint(qemu_send_full(vu->backend_fd, &hdr, sizeof(hdr)), ==,
                    sizeof(hdr));
    g_assert_cmpint(qemu_send_full(vu->backend_fd, &miss, sizeof(miss)), ==,
                    sizeof(miss));
}

/* ---- the guest side ---------------------------------------------------- */

#define RP_SLOT             3                    /* pcie-root-port */
#define RP_DEVFN            QPCI_DEVFN(RP_SLOT, 0)
#define NIC_BUS             1
#define NIC_DEVFN           QPCI_DEVFN(0, 0)
#define NIC_SID             ((NIC_BUS << 8) | NIC_DEVFN)
#define PCIE_ECAM           0xb0000000ULL
#define RING_MEMORY         (64 * MiB)           /* the virtqueues */
#define NIC_DID             5
#define IOVA_RW             0x40000000ULL        /* a read-write page */
#define IOVA_RO             0x40001000ULL        /* a read-only page */
#define PA_RW               (80 * MiB)
#define PA_RO               (80 * MiB + 4096)

typedef struct VhostEnv {
    QTestState *qts;
    QVTD vtd;
    VuBackend *vu;
    QPCIBus *pcibus;
    QVirtioPCIDevice *nic;
    QGuestAllocator alloc;
    QVirtQueue *vq[2];
    uint64_t table;
} VhostEnv;

/* Extended configuration space through ECAM (ATS sits above 0x100). */
static uint64_t ecam(int bus, int devfn, int offset)
{
    return PCIE_ECAM + (bus << 20) + (devfn << 12) + offset;
}

static int find_ext_cap(QTestState *qts, int bus, int devfn, uint16_t id)
{
    int offset = 0x100;

    while (offset) {
        uint32_t hdr = qtest_readl(qts, ecam(bus, devfn, offset));

        if ((hdr & 0xffff) == id) {
            return offset;
        }
        offset = (hdr >> 20) & 0xffc;
    }
    return 0;
}

/*
 * What firmware and the PCI core would do: ECAM on, bus 1 behind the root
 * port with a window for the NIC's BARs, and ATS enabled if @ats.
 */
static void vhost_env_pci(VhostEnv *env, bool ats)
{
    QPCIDevice *rp;
    QPCIAddress addr = { .devfn = (NIC_BUS << 8) | NIC_DEVFN };
    int cap;

    env->pcibus = qpci_new_pc(env->qts, NULL);
    rp = qpci_device_find(env->pcibus, 0);
    /* Q35 PCIEXBAR: 256 MiB of ECAM at 0xb0000000, enabled. */
    qpci_config_writel(rp, 0x64, 0);
    qpci_config_writel(rp, 0x60, PCIE_ECAM | 1);
    g_free(rp);

    rp = qpci_device_find(env->pcibus, RP_DEVFN);
    g_assert(rp);
    qpci_config_writeb(rp, PCI_PRIMARY_BUS, 0);
    qpci_config_writeb(rp, PCI_SECONDARY_BUS, NIC_BUS);
    qpci_config_writeb(rp, PCI_SUBORDINATE_BUS, NIC_BUS);
    /* Both windows cover libqos's BAR range, 0xe0000000 up. */
    qpci_config_writel(rp, PCI_MEMORY_BASE, 0xeff0e000);
    qpci_config_writel(rp, PCI_PREF_MEMORY_BASE, 0xeff1e001);
    qpci_config_writel(rp, PCI_PREF_BASE_UPPER32, 0);
    qpci_config_writel(rp, PCI_PREF_LIMIT_UPPER32, 0);
    qpci_config_writew(rp, PCI_COMMAND,
                       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    g_free(rp);

    env->nic = virtio_pci_new(env->pcibus, &addr);
    g_assert(env->nic);
    qvirtio_pci_device_enable(env->nic);

    cap = find_ext_cap(env->qts, NIC_BUS, NIC_DEVFN, PCI_EXT_CAP_ID_ATS);
    if (ats) {
        g_assert(cap);
        qtest_writew(env->qts, ecam(NIC_BUS, NIC_DEVFN, cap + PCI_ATS_CTRL),
                     PCI_ATS_CTRL_ENABLE);
    }
}

/*
 * The NIC in domain NIC_DID with IOVA_RW read-write, IOVA_RO read-only
 * and the rings identity-mapped; translation on.  In scalable mode the
 * tables are the second stage of the NIC's RID_PASID entry.
 */
static void vhost_env_iommu(VhostEnv *env, bool scalable, bool ats)
{
    QVTD *vtd = &env->vtd;

    qvtd_init(vtd, env->qts);
    env->table = qvtd_alloc_page(vtd);
    if (scalable) {
        QVTDPasidEntry e = { .pgtt = VTD_PGTT_SECOND_STAGE, .did = NIC_DID,
                             .levels = 4, .table = env->table };
        uint64_t dir;

        qvtd_set_root_scalable(vtd);
        qvtd_queue_enable(vtd, true);
        dir = qvtd_set_sm_context(vtd, NIC_BUS, NIC_DEVFN, 0, ats, false);
        qvtd_set_pasid_entry(vtd, dir, 0, &e);
    } else {
        qvtd_set_root(vtd);
        qvtd_queue_enable(vtd, false);
        qvtd_set_context(vtd, NIC_BUS, NIC_DEVFN, NIC_DID,
                         VTD_TT_UNTRANSLATED, 4, env->table, false);
    }
    for (uint64_t pa = RING_MEMORY; pa < RING_MEMORY + MiB; pa += 4096) {
        qvtd_map(vtd, env->table, 4, pa, pa, 1, true, true);
    }
    qvtd_map(vtd, env->table, 4, IOVA_RW, PA_RW, 1, true, true);
    qvtd_map(vtd, env->table, 4, IOVA_RO, PA_RO, 1, true, false);
    g_assert(qvtd_global_command(vtd, R_GSTS_TE_MASK, true));
}

/*
 * QEMU with a vhost-user virtio-net (iommu_platform=on, ATS if @ats)
 * behind a root port, intel-iommu with @iommu_opts; the driver brings the
 * NIC up (which starts vhost) with translation on.
 */
static void vhost_env_start(VhostEnv *env, const char *iommu_opts, bool ats,
                            bool scalable)
{
    uint64_t features;

    env->vu = vu_start();
    env->qts = qtest_initf(
        "-machine q35,memory-backend=mem -m 256M "
        "-object memory-backend-memfd,id=mem,size=256M,share=on "
        "-device intel-iommu%s%s "
        "-chardev socket,id=vu,path=%s -netdev vhost-user,id=n0,chardev=vu "
        "-device pcie-root-port,id=rp,chassis=1,addr=%d.0 "
        "-device virtio-net-pci,netdev=n0,bus=rp,disable-legacy=on,"
        "iommu_platform=on,ats=%s,romfile=",
        iommu_opts, scalable ? ",x-scalable-mode=on" : "", env->vu->path,
        RP_SLOT, ats ? "on" : "off");
    vhost_env_pci(env, ats);
    vhost_env_iommu(env, scalable, ats);

    alloc_init(&env->alloc, 0, RING_MEMORY, RING_MEMORY + MiB, 4096);
    qvirtio_start_device(&env->nic->vdev);
    features = qvirtio_get_features(&env->nic->vdev);
    g_assert(features & (1ULL << VIRTIO_F_IOMMU_PLATFORM));
    qvirtio_set_features(&env->nic->vdev,
                         features & ((1ULL << VIRTIO_F_VERSION_1) |
                                     (1ULL << VIRTIO_F_IOMMU_PLATFORM)));
    for (int i = 0; i < 2; i++) {
        env->vq[i] = qvirtqueue_setup(&env->nic->vdev, &env->alloc, i);
    }
    qvirtio_set_driver_ok(&env->nic->vdev);
    /*
     * vhost starts: it asks for the used rings' translations itself.
     * What it was sent until now is not part of the tests.
     */
    qtest_readl(env->qts, QVTD_BASE);
    g_assert(env->vu->backend_fd >= 0);
    vu_skip_all(env->vu);
}

static void vhost_env_stop(VhostEnv *env)
{
    for (int i = 0; i < 2; i++) {
        qvirtqueue_cleanup(env->nic->vdev.bus, env->vq[i], &env->alloc);
    }
    qvirtio_pci_device_disable(env->nic);
    g_free(env->nic->pdev);
    g_free(env->nic);
    qpci_free_pc(env->pcibus);
    alloc_destroy(&env->alloc);
    qtest_quit(env->qts);
    vu_stop(env->vu);
}

/* Device-TLB invalidation (6.5.2.5) of 2^@order pages at @addr. */
static void devtlb_invalidate(VhostEnv *env, uint16_t sid, uint64_t addr,
                              unsigned order)
{
    uint64_t lo = FIELD_DP64(VTD_INV_DEVICE_TLB, INV_DEV, SID, sid);
    uint64_t hi = addr;

    if (order + 12 >= 64) {
        /* S with every address bit but the top one set: everything. */
        hi = (INT64_MAX & ~0xfffULL) | R_INV_DEV_HI_S_MASK;
    } else if (order) {
        /* S: the lowest zero address bit above bit 11 gives the size. */
        uint64_t size = 4096ULL << order;

        hi = (addr & ~(size - 1)) | ((size / 2 - 1) & ~0xfffULL) |
             R_INV_DEV_HI_S_MASK;
    }
    qvtd_queue_submit(&env->vtd, lo, hi);
    g_assert(qvtd_queue_wait(&env->vtd));
}

/* The two notifiers vhost registers: below and above the MSI window. */
#define LOW_END             0xfee00000ULL
#define HIGH_START          0xfef00000ULL
#define AW48_END            (1ULL << 48)

static void test_vhost_device_iotlb(void)
{
    VhostEnv env = {};
    VuIotlb ev;

    vhost_env_start(&env, ",device-iotlb=on", true, false);

    /* Misses: translations with the permissions of the tables. */
    vu_send_miss(env.vu, IOVA_RW + 0x10, VHOST_ACCESS_RW);
    g_assert(vu_next(env.vu, &ev));
    g_assert_cmpuint(ev.type, ==, IOTLB_UPDATE);
    g_assert_cmphex(ev.iova, ==, IOVA_RW);
    g_assert_cmphex(ev.size, ==, 4096);
    g_assert_cmpuint(ev.perm, ==, VHOST_ACCESS_RW);
    vu_send_miss(env.vu, IOVA_RO, VHOST_ACCESS_RO);
    g_assert(vu_next(env.vu, &ev));
    g_assert_cmpuint(ev.type, ==, IOTLB_UPDATE);
    g_assert_cmphex(ev.iova, ==, IOVA_RO);
    g_assert_cmpuint(ev.perm, ==, VHOST_ACCESS_RO);
    /*
     * A write to the read-only page is refused: no update.  Misses are
     * handled in order, so the next one's update comes first.
     */
    vu_send_miss(env.vu, IOVA_RO, VHOST_ACCESS_WO);
    vu_send_miss(env.vu, IOVA_RW, VHOST_ACCESS_RO);
    g_assert(vu_next(env.vu, &ev));
    g_assert_cmphex(ev.iova, ==, IOVA_RW);
    g_assert_cmpuint(ev.perm, ==, VHOST_ACCESS_RW);
    /* So is an address nothing maps. */
    vu_send_miss(env.vu, IOVA_RO + 4096, VHOST_ACCESS_RO);
    vu_send_miss(env.vu, IOVA_RW, VHOST_ACCESS_RO);
    g_assert(vu_next(env.vu, &ev));
    g_assert_cmphex(ev.iova, ==, IOVA_RW);

    /* Device-TLB invalidations, exactly as the guest sized them. */
    devtlb_invalidate(&env, NIC_SID, IOVA_RW, 0);
    vu_expect_invalidation(env.vu, IOVA_RW, 4096);
    vu_assert_quiet(env.vu);
    devtlb_invalidate(&env, NIC_SID, IOVA_RW, 4);
    vu_expect_invalidation(env.vu, IOVA_RW, 16 * 4096);
    vu_assert_quiet(env.vu);
    /* Across the MSI window: each notifier, cut to its range. */
    devtlb_invalidate(&env, NIC_SID, 0xfe000000, 13);
    vu_expect_invalidation_pair(env.vu, 0xfe000000, LOW_END - 0xfe000000,
                                HIGH_START, 0x100000000 - HIGH_START);
    vu_assert_quiet(env.vu);
    /* Everything: cut to the notifiers and to the 48-bit address width. */
    devtlb_invalidate(&env, NIC_SID, 0, 52);
    vu_expect_invalidation_pair(env.vu, 0, LOW_END,
                                HIGH_START, AW48_END - HIGH_START);
    vu_assert_quiet(env.vu);
    /* Another requester's device TLB: not this NIC's. */
    devtlb_invalidate(&env, NIC_SID + 1, IOVA_RW, 0);
    vu_assert_quiet(env.vu);
    /*
     * With a device IOTLB, vhost needs device-TLB invalidations only:
     * IOTLB and context invalidations send it nothing.
     */
    qvtd_unmap(&env.vtd, env.table, 4, IOVA_RW, 1);
    qvtd_invalidate_iotlb(&env.vtd, 3, NIC_DID, IOVA_RW, 0);
    qvtd_invalidate_iotlb(&env.vtd, 1, 0, 0, 0);
    qvtd_invalidate_context(&env.vtd, 1, 0, 0, 0);
    vu_assert_quiet(env.vu);
    /* The unmapped page: a miss gets no translation now. */
    vu_send_miss(env.vu, IOVA_RW, VHOST_ACCESS_RO);
    vu_send_miss(env.vu, IOVA_RO, VHOST_ACCESS_RO);
    g_assert(vu_next(env.vu, &ev));
    g_assert_cmphex(ev.iova, ==, IOVA_RO);

    vhost_env_stop(&env);
}

static void test_vhost_unmap(void)
{
    VhostEnv env = {};
    VuIotlb ev;

    vhost_env_start(&env, "", false, false);

    vu_send_miss(env.vu, IOVA_RW, VHOST_ACCESS_RW);
    g_assert(vu_next(env.vu, &ev));
    g_assert_cmpuint(ev.type, ==, IOTLB_UPDATE);
    g_assert_cmphex(ev.iova, ==, IOVA_RW);

    /* Page-selective, 1 and 16 pages: that range. */
    qvtd_unmap(&env.vtd, env.table, 4, IOVA_RW, 1);
    g_assert_cmpuint(qvtd_invalidate_iotlb(&env.vtd, 3, NIC_DID, IOVA_RW, 0),
                     ==, 3);
    vu_expect_invalidation(env.vu, IOVA_RW, 4096);
    vu_assert_quiet(env.vu);
    qvtd_invalidate_iotlb(&env.vtd, 3, NIC_DID, IOVA_RW, 4);
    vu_expect_invalidation(env.vu, IOVA_RW, 16 * 4096);
    vu_assert_quiet(env.vu);
    /* Another domain's pages: nothing. */
    qvtd_invalidate_iotlb(&env.vtd, 3, NIC_DID + 1, IOVA_RW, 0);
    vu_assert_quiet(env.vu);
    /* Domain-selective and global: all of each notifier's range. */
    g_assert_cmpuint(qvtd_invalidate_iotlb(&env.vtd, 2, NIC_DID, 0, 0), ==,
                     2);
    vu_expect_invalidation_pair(env.vu, 0, LOW_END,
                                HIGH_START, AW48_END - HIGH_START);
    vu_assert_quiet(env.vu);
    qvtd_invalidate_iotlb(&env.vtd, 1, 0, 0, 0);
    vu_expect_invalidation_pair(env.vu, 0, LOW_END,
                                HIGH_START, AW48_END - HIGH_START);
    vu_assert_quiet(env.vu);
    /* A context invalidation: the device may have changed domain. */
    qvtd_invalidate_context(&env.vtd, 1, 0, 0, 0);
    vu_expect_invalidation_pair(env.vu, 0, LOW_END,
                                HIGH_START, AW48_END - HIGH_START);
    vu_assert_quiet(env.vu);

    vhost_env_stop(&env);
}

/*
 * Scalable mode: the NIC's RID_PASID entry holds its tables, and the
 * PASID-granular invalidations reach vhost like their legacy
 * counterparts; another PASID's do not (nothing of it is cached).
 */
static uint64_t pasid_desc(unsigned type, unsigned gran, uint16_t did,
                           uint16_t sid, uint32_t pasid)
{
    uint64_t d = type;

    if (type == VTD_INV_PASID_IOTLB) {
        d = FIELD_DP64(d, INV_PIOTLB, G, gran);
        d = FIELD_DP64(d, INV_PIOTLB, DID, did);
    } else {
        d = FIELD_DP64(d, INV_PDEV, SID, sid);
    }
    return FIELD_DP64(d, INV_PIOTLB, PASID, pasid);
}

static void pasid_invalidate(VhostEnv *env, uint64_t lo, uint64_t hi)
{
    qvtd_queue_submit(&env->vtd, lo, hi);
    g_assert(qvtd_queue_wait(&env->vtd));
}

static void test_vhost_device_iotlb_sm(void)
{
    VhostEnv env = {};
    VuIotlb ev;

    vhost_env_start(&env, ",device-iotlb=on", true, true);
    vu_send_miss(env.vu, IOVA_RO, VHOST_ACCESS_RO);
    g_assert(vu_next(env.vu, &ev));
    g_assert_cmpuint(ev.type, ==, IOTLB_UPDATE);
    g_assert_cmphex(ev.iova, ==, IOVA_RO);
    g_assert_cmpuint(ev.perm, ==, VHOST_ACCESS_RO);
    /* PASID-based device-TLB: S is bit 11; 16 pages at IOVA_RW. */
    pasid_invalidate(&env, pasid_desc(VTD_INV_PASID_DEVICE_TLB, 0, 0,
                                      NIC_SID, 0), IOVA_RW);
    vu_expect_invalidation(env.vu, IOVA_RW, 4096);
    pasid_invalidate(&env, pasid_desc(VTD_INV_PASID_DEVICE_TLB, 0, 0,
                                      NIC_SID, 0),
                     IOVA_RW | 0x7000 | R_INV_PDEV_HI_S_MASK);
    vu_expect_invalidation(env.vu, IOVA_RW, 16 * 4096);
    vu_assert_quiet(env.vu);
    /* The legacy descriptor still works for RID_PASID. */
    devtlb_invalidate(&env, NIC_SID, IOVA_RO, 0);
    vu_expect_invalidation(env.vu, IOVA_RO, 4096);
    /* PASID-based IOTLB invalidations are not for a device IOTLB. */
    pasid_invalidate(&env, pasid_desc(VTD_INV_PASID_IOTLB, VTD_GRAN_PASID,
                                      NIC_DID, 0, 0), 0);
    vu_assert_quiet(env.vu);
    vhost_env_stop(&env);
}

static void test_vhost_unmap_sm(void)
{
    VhostEnv env = {};
    uint64_t pc;

    vhost_env_start(&env, "", false, true);
    pasid_invalidate(&env, pasid_desc(VTD_INV_PASID_IOTLB,
                                      VTD_GRAN_PASID_PAGE, NIC_DID, 0, 0),
                     IOVA_RW | 2);
    vu_expect_invalidation(env.vu, IOVA_RW, 4 * 4096);
    vu_assert_quiet(env.vu);
    /* Another PASID's pages, another domain's: nothing. */
    pasid_invalidate(&env, pasid_desc(VTD_INV_PASID_IOTLB,
                                      VTD_GRAN_PASID_PAGE, NIC_DID, 0, 3),
                     IOVA_RW);
    pasid_invalidate(&env, pasid_desc(VTD_INV_PASID_IOTLB, VTD_GRAN_PASID,
                                      NIC_DID + 1, 0, 0), 0);
    vu_assert_quiet(env.vu);
    pasid_invalidate(&env, pasid_desc(VTD_INV_PASID_IOTLB, VTD_GRAN_PASID,
                                      NIC_DID, 0, 0), 0);
    vu_expect_invalidation_pair(env.vu, 0, LOW_END,
                                HIGH_START, AW48_END - HIGH_START);
    /* A PASID-cache invalidation: the entry may have changed. */
    pc = FIELD_DP64(VTD_INV_PASID_CACHE, INV_PC, G, VTD_PC_GRAN_DOMAIN);
    pasid_invalidate(&env, FIELD_DP64(pc, INV_PC, DID, NIC_DID), 0);
    vu_expect_invalidation_pair(env.vu, 0, LOW_END,
                                HIGH_START, AW48_END - HIGH_START);
    vu_assert_quiet(env.vu);
    vhost_env_stop(&env);
}

void vtd_vhost_add_tests(void)
{
    if (!qtest_has_device("virtio-net-pci") ||
        !qtest_has_device("pcie-root-port")) {
        return;
    }
    qtest_add_func("/intel-iommu/notify/vhost-device-iotlb",
                   test_vhost_device_iotlb);
    qtest_add_func("/intel-iommu/notify/vhost-unmap", test_vhost_unmap);
    qtest_add_func("/intel-iommu/notify/vhost-device-iotlb-sm",
                   test_vhost_device_iotlb_sm);
    qtest_add_func("/intel-iommu/notify/vhost-unmap-sm",
                   test_vhost_unmap_sm);
}
