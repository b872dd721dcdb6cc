/*
 * kprofile: where the guest kernel spent its time, from the kernel's own
 * tick profiler (boot with profile=N, N the log2 of the bucket size).
 *
 * Usage: kprofile reset      zero /proc/profile
 *        kprofile TAG [TOP]  print the TOP (default 25) functions with the
 *                            most samples since the last reset, then one
 *                            "VTD-PROFILE: TAG ..." summary line
 *
 * Under TCG a timer interrupt is taken only where the guest lets it in,
 * so work done with interrupts off (virtio's queueing under a spinlock,
 * DMA mapping included) is counted where it ends, mostly in
 * _raw_spin_unlock_irqrestore: the "iommu" share is a lower bound.
 *
 * /proc/profile holds the bucket size in bytes, then one 32-bit counter
 * per bucket of kernel text from _stext; /proc/kallsyms names the
 * functions (readable addresses need root and kptr_restrict < 2).  Under
 * TCG the samples are guest timer ticks, so they measure where the guest's
 * CPUs were, not host work.
 *
 * The summary groups samples by function name: "iommu" for the IOMMU
 * driver, the IOVA allocator and the DMA-API's IOMMU path (what a guest
 * pays for translated DMA), "idle" for the idle loop, "outside" for
 * samples outside the core kernel's text (modules: the disk and NIC
 * drivers), which some kernels put in the last bucket (others, 6.12
 * among them, drop them).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sym {
    uint64_t addr;
    char name[128];
    uint64_t hits;
};

static struct sym *syms;
static size_t nsyms;

static int by_addr(const void *a, const void *b)
{
    const struct sym *x = a, *y = b;

    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int by_hits(const void *a, const void *b)
{
    const struct sym *x = a, *y = b;

    return x->hits > y->hits ? -1 : x->hits < y->hits;
}

static uint64_t load_symbols(void)
{
    FILE *f = fopen("/proc/kallsyms", "r");
    char line[256], type, name[128];
    unsigned long long addr;
    uint64_t stext = 0;
    size_t cap = 0;

    if (!f) {
        perror("kprofile: /proc/kallsyms");
        exit(1);
    }
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%llx %c %127s", &addr, &type, name) != 3) {
            continue;
        }
        if (!strcmp(name, "_stext")) {
            stext = addr;
        }
        if (type != 't' && type != 'T') {
            continue;
        }
        if (nsyms == cap) {
            cap = cap ? 2 * cap : 65536;
            syms = realloc(syms, cap * sizeof(*syms));
            if (!syms) {
                exit(1);
            }
        }
        syms[nsyms].addr = addr;
        snprintf(syms[nsyms].name, sizeof(syms[nsyms].name), "%s", name);
        syms[nsyms].hits = 0;
        nsyms++;
    }
    fclose(f);
    if (!stext || !nsyms) {
        fprintf(stderr, "kprofile: no kernel symbols (kptr_restrict?)\n");
        exit(1);
    }
    qsort(syms, nsyms, sizeof(*syms), by_addr);
    return stext;
}

static struct sym *lookup(uint64_t addr)
{
    size_t lo = 0, hi = nsyms;

    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;

        if (syms[mid].addr <= addr) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return syms[lo].addr <= addr ? &syms[lo] : NULL;
}

static const char *const iommu_words[] = {
    "iommu", "iova", "dmar", "qi_", "dma_pte", "domain_mapping",
    "domain_flush", "cache_tag", "pasid", "iotlb", "fq_flush", "fq_ring",
    NULL
};

static int is_iommu(const char *name)
{
    for (int i = 0; iommu_words[i]; i++) {
        if (strstr(name, iommu_words[i])) {
            return 1;
        }
    }
    return 0;
}

static int is_idle(const char *name)
{
    return strstr(name, "idle") || strstr(name, "halt");
}

int main(int argc, char **argv)
{
    int fd;
    uint32_t step;
    uint32_t *buf;
    size_t size = 1 << 20, len = 0;
    ssize_t n;
    uint64_t stext, total = 0, iommu = 0, idle = 0, unknown = 0;
    int top = argc > 2 ? atoi(argv[2]) : 25;

    if (argc < 2) {
        fprintf(stderr, "usage: kprofile reset | kprofile TAG [TOP]\n");
        return 2;
    }
    if (!strcmp(argv[1], "reset")) {
        fd = open("/proc/profile", O_WRONLY);
        if (fd < 0 || write(fd, "0\n", 2) != 2) {
            perror("kprofile: reset /proc/profile (boot with profile=N)");
            return 1;
        }
        close(fd);
        return 0;
    }

    fd = open("/proc/profile", O_RDONLY);
    if (fd < 0) {
        perror("kprofile: /proc/profile (boot with profile=N)");
        return 1;
    }
    buf = malloc(size);
    while (buf && (n = read(fd, (char *)buf + len, size - len)) > 0) {
        len += n;
        if (len == size) {
            size *= 2;
            buf = realloc(buf, size);
        }
    }
    close(fd);
    if (!buf || len < 2 * sizeof(uint32_t)) {
        fprintf(stderr, "kprofile: /proc/profile is empty\n");
        return 1;
    }
    step = buf[0];
    stext = load_symbols();

    for (size_t i = 1, last = len / sizeof(uint32_t) - 1; i <= last; i++) {
        struct sym *s;

        if (!buf[i]) {
            continue;
        }
        total += buf[i];
        /* Kernels that clamp samples outside the core text (modules)
         * put them in the last bucket. */
        s = i == last ? NULL : lookup(stext + (uint64_t)(i - 1) * step);
        if (s) {
            s->hits += buf[i];
        } else {
            unknown += buf[i];
        }
    }
    qsort(syms, nsyms, sizeof(*syms), by_hits);
    for (size_t i = 0; i < nsyms && syms[i].hits; i++) {
        int idle_sym = is_idle(syms[i].name);
        int iommu_sym = !idle_sym && is_iommu(syms[i].name);

        idle += idle_sym ? syms[i].hits : 0;
        iommu += iommu_sym ? syms[i].hits : 0;
        if ((int)i < top) {
            printf("kprofile %s: %6llu %5.1f%% %s%s\n", argv[1],
                   (unsigned long long)syms[i].hits,
                   total ? 100.0 * syms[i].hits / total : 0.0, syms[i].name,
                   iommu_sym ? " [iommu]" : "");
        }
    }
    printf("VTD-PROFILE: %s samples=%llu idle=%llu iommu=%llu outside=%llu "
           "iommu_of_busy=%.1f%%\n", argv[1], (unsigned long long)total,
           (unsigned long long)idle, (unsigned long long)iommu,
           (unsigned long long)unknown,
           total > idle ? 100.0 * iommu / (total - idle) : 0.0);
    free(buf);
    return 0;
}
