/*
 * io-bench: O_DIRECT read throughput of a block device, for the guest
 * I/O benchmark (make bench, benchmark 4).  Every read is a DMA write by
 * the disk into a buffer the kernel maps (and, strict, unmaps) in the
 * IOMMU for that read.
 *
 * Usage: io-bench DEVICE rand4k|seq128k SECONDS
 *   rand4k   4 KiB reads at random aligned offsets, 8 threads
 *   seq128k  128 KiB sequential reads, 1 thread
 * Prints "io-bench: DEVICE MODE iops N mbps N".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

struct job {
    int fd;
    size_t block;
    uint64_t span;
    int random;
    unsigned seed;
    double end;
    uint64_t reads;
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *run(void *opaque)
{
    struct job *j = opaque;
    uint64_t blocks = j->span / j->block, next = 0;
    void *buf;

    if (posix_memalign(&buf, 4096, j->block)) {
        return NULL;
    }
    while (now() < j->end) {
        uint64_t b = j->random ? rand_r(&j->seed) % blocks : next++ % blocks;

        if (pread(j->fd, buf, j->block, b * j->block) != (ssize_t)j->block) {
            perror("io-bench: pread");
            exit(1);
        }
        j->reads++;
    }
    free(buf);
    return NULL;
}

int main(int argc, char **argv)
{
    struct job jobs[8];
    pthread_t threads[8];
    uint64_t size, reads = 0;
    int fd, random, n, i;
    double start, secs;
    size_t block;

    if (argc != 4) {
        fprintf(stderr, "usage: io-bench DEVICE rand4k|seq128k SECONDS\n");
        return 2;
    }
    random = !strcmp(argv[2], "rand4k");
    if (!random && strcmp(argv[2], "seq128k")) {
        fprintf(stderr, "io-bench: unknown mode %s\n", argv[2]);
        return 2;
    }
    block = random ? 4096 : 128 * 1024;
    n = random ? 8 : 1;
    fd = open(argv[1], O_RDONLY | O_DIRECT);
    if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size)) {
        perror(argv[1]);
        return 1;
    }
    start = now();
    for (i = 0; i < n; i++) {
        jobs[i] = (struct job) {
            .fd = fd, .block = block, .span = size, .random = random,
            .seed = 12345 + i, .end = start + atof(argv[3]),
        };
        pthread_create(&threads[i], NULL, run, &jobs[i]);
    }
    for (i = 0; i < n; i++) {
        pthread_join(threads[i], NULL);
        reads += jobs[i].reads;
    }
    secs = now() - start;
    printf("io-bench: %s %s iops %.0f mbps %.1f\n", argv[1], argv[2],
           reads / secs, reads * block / secs / 1e6);
    return 0;
}
