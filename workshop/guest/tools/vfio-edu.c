/*
 * vfio-edu: drive QEMU's edu device from user space through VFIO, as a
 * DPDK-style driver does, to check DMA remapping end to end in the guest.
 *
 * Usage: vfio-edu BDF        (edu bound to vfio-pci, e.g. 0000:00:04.0)
 *
 * The program owns the device's IOMMU domain through the type1 VFIO
 * container: every DMA address it gives edu is an IOVA it mapped with
 * VFIO_IOMMU_MAP_DMA, which the guest kernel writes into VT-d page tables.
 *   1. map two buffers read/write, DMA pattern -> edu -> second buffer,
 *      compare;
 *   2. remap the second buffer read-only: edu's write to it must not land;
 *   3. unmap the first buffer: edu's read of it must not see the data.
 * After steps 2 and 3 it prints "vfio-edu: expect-fault <dir> <iova>" for
 * the caller to find the matching DMAR fault in the kernel log, and ends
 * with "vfio-edu: PASS" or "vfio-edu: FAIL <why>".
 *
 * edu (hw/misc/edu.c): 0x80 DMA source, 0x88 destination, 0x90 count,
 * 0x98 command (bit 0 run, bit 1 direction: 0 RAM -> edu, 1 edu -> RAM);
 * its own buffer is at 0x40000.  Its DMA mask is 28 bits.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>

#define EDU_DMA_SRC     0x80
#define EDU_DMA_DST     0x88
#define EDU_DMA_COUNT   0x90
#define EDU_DMA_CMD     0x98
#define EDU_BUFFER      0x40000
#define EDU_RUN         0x1
#define EDU_TO_RAM      0x2

#define PAGE            4096
#define IOVA_SRC        0x100000
#define IOVA_DST        0x200000
#define XFER            256

static volatile uint8_t *bar;

static void die(const char *what)
{
    printf("vfio-edu: FAIL %s: %s\n", what, strerror(errno));
    exit(1);
}

static void fail(const char *why)
{
    printf("vfio-edu: FAIL %s\n", why);
    exit(1);
}

static void edu_write(unsigned off, uint64_t val)
{
    *(volatile uint64_t *)(bar + off) = val;
}

static uint32_t edu_read(unsigned off)
{
    return *(volatile uint32_t *)(bar + off);
}

/* One edu DMA; edu runs it from a 100 ms timer. */
static void edu_dma(uint64_t src, uint64_t dst, uint64_t count, int to_ram)
{
    int i;

    edu_write(EDU_DMA_SRC, src);
    edu_write(EDU_DMA_DST, dst);
    edu_write(EDU_DMA_COUNT, count);
    edu_write(EDU_DMA_CMD, EDU_RUN | (to_ram ? EDU_TO_RAM : 0));
    for (i = 0; i < 1000; i++) {
        if (!(edu_read(EDU_DMA_CMD) & EDU_RUN)) {
            return;
        }
        usleep(10000);
    }
    fail("edu DMA did not complete");
}

static void map(int container, void *va, uint64_t iova, uint32_t flags)
{
    struct vfio_iommu_type1_dma_map m = {
        .argsz = sizeof(m), .flags = flags,
        .vaddr = (uintptr_t)va, .iova = iova, .size = PAGE,
    };

    if (ioctl(container, VFIO_IOMMU_MAP_DMA, &m)) {
        die("VFIO_IOMMU_MAP_DMA");
    }
}

static void unmap(int container, uint64_t iova)
{
    struct vfio_iommu_type1_dma_unmap u = {
        .argsz = sizeof(u), .iova = iova, .size = PAGE,
    };

    if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u) || u.size != PAGE) {
        die("VFIO_IOMMU_UNMAP_DMA");
    }
}

static void *page(void)
{
    void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

    if (p == MAP_FAILED) {
        die("mmap");
    }
    return p;
}

int main(int argc, char **argv)
{
    struct vfio_group_status status = { .argsz = sizeof(status) };
    struct vfio_region_info region = { .argsz = sizeof(region) };
    char path[PATH_MAX], link[PATH_MAX];
    int container, group, device, i;
    uint8_t *src, *dst;
    uint16_t cmd;
    ssize_t n;

    if (argc != 2) {
        fprintf(stderr, "usage: vfio-edu BDF\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
             argv[1]);
    n = readlink(path, link, sizeof(link) - 1);
    if (n < 0) {
        die("iommu_group");
    }
    link[n] = '\0';
    snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);

    container = open("/dev/vfio/vfio", O_RDWR);
    if (container < 0) {
        die("/dev/vfio/vfio");
    }
    if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
        !ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)) {
        fail("no type1v2 VFIO IOMMU");
    }
    group = open(path, O_RDWR);
    if (group < 0) {
        die(path);
    }
    if (ioctl(group, VFIO_GROUP_GET_STATUS, &status) ||
        !(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
        fail("group not viable (all its devices must be bound to vfio-pci)");
    }
    if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
        ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
        die("VFIO container");
    }
    device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[1]);
    if (device < 0) {
        die("VFIO_GROUP_GET_DEVICE_FD");
    }
    region.index = VFIO_PCI_BAR0_REGION_INDEX;
    if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &region) ||
        !(region.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
        fail("BAR0 cannot be mapped");
    }
    bar = mmap(NULL, region.size, PROT_READ | PROT_WRITE, MAP_SHARED,
               device, region.offset);
    if (bar == MAP_FAILED) {
        die("mmap BAR0");
    }
    if (edu_read(0) != 0x010000ed) {
        fail("BAR0 is not edu's");
    }
    /* Bus mastering, through the config space region. */
    region.index = VFIO_PCI_CONFIG_REGION_INDEX;
    if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &region) ||
        pread(device, &cmd, 2, region.offset + 4) != 2) {
        die("config space");
    }
    cmd |= 0x4;
    if (pwrite(device, &cmd, 2, region.offset + 4) != 2) {
        die("bus master enable");
    }
    printf("vfio-edu: %s in %s, BAR0 mapped, bus master on\n", argv[1], path);

    /* 1. Through two mapped pages. */
    src = page();
    dst = page();
    for (i = 0; i < XFER; i++) {
        src[i] = i * 7 + 3;
    }
    map(container, src, IOVA_SRC, VFIO_DMA_MAP_FLAG_READ |
        VFIO_DMA_MAP_FLAG_WRITE);
    map(container, dst, IOVA_DST, VFIO_DMA_MAP_FLAG_READ |
        VFIO_DMA_MAP_FLAG_WRITE);
    edu_dma(IOVA_SRC, EDU_BUFFER, XFER, 0);
    edu_dma(EDU_BUFFER, IOVA_DST, XFER, 1);
    if (memcmp(src, dst, XFER)) {
        fail("data copied through the IOMMU differs");
    }
    printf("vfio-edu: %d bytes IOVA 0x%x -> edu -> IOVA 0x%x verified\n",
           XFER, IOVA_SRC, IOVA_DST);

    /* 2. The destination read-only: edu's write must not land. */
    unmap(container, IOVA_DST);
    memset(dst, 0, XFER);
    map(container, dst, IOVA_DST, VFIO_DMA_MAP_FLAG_READ);
    printf("vfio-edu: expect-fault write 0x%x\n", IOVA_DST);
    edu_dma(EDU_BUFFER, IOVA_DST, XFER, 1);
    for (i = 0; i < XFER; i++) {
        if (dst[i]) {
            fail("edu wrote through a read-only mapping");
        }
    }
    printf("vfio-edu: write to read-only IOVA 0x%x blocked\n", IOVA_DST);

    /* 3. The source unmapped: edu must not read the pattern any more. */
    unmap(container, IOVA_SRC);
    for (i = 0; i < XFER; i++) {
        src[i] = 0x5a;
    }
    printf("vfio-edu: expect-fault read 0x%x\n", IOVA_SRC);
    edu_dma(IOVA_SRC, EDU_BUFFER, XFER, 0);
    unmap(container, IOVA_DST);
    map(container, dst, IOVA_DST, VFIO_DMA_MAP_FLAG_READ |
        VFIO_DMA_MAP_FLAG_WRITE);
    edu_dma(EDU_BUFFER, IOVA_DST, XFER, 1);
    for (i = 0; i < XFER; i++) {
        if (dst[i] == 0x5a) {
            fail("edu read through an unmapped IOVA");
        }
    }
    printf("vfio-edu: read of unmapped IOVA 0x%x blocked\n", IOVA_SRC);
    printf("vfio-edu: PASS\n");
    return 0;
}
