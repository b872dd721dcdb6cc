/*
 * mmio-race: read a device register from every CPU but one while that
 * one changes the guest-physical memory map, and check every read.
 *
 * Usage: mmio-race RESOURCE CONFIG COUNT
 *   RESOURCE  sysfs resource file of the BAR to read (e.g.
 *             /sys/bus/pci/devices/0000:00:07.0/resource0), a device with
 *             no driver whose register 0 reads the same value every time
 *             (edu's identification register)
 *   CONFIG    sysfs config file of another device without a driver, whose
 *             memory decoding is turned off and on COUNT times
 *
 * Each change of the memory map makes QEMU build a new dispatch table and
 * queue a TLB flush for every vCPU, which a vCPU runs only when it leaves
 * the translation block it is in.  The readers do 64 reads in a row with
 * no branch in between, so they are usually in such a block when the map
 * changes, and the BQL they wait for on each read (the map change holds
 * it) lets the change land between two reads.  A TCG whose TLB entries
 * are looked up in the wrong dispatch sends the next read to another
 * region (a wrong value here) or past the table (QEMU aborts).
 *
 * Prints "mmio-race: PASS ..." or "mmio-race: FAIL <why>".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PCI_COMMAND         0x04
#define PCI_COMMAND_MEMORY  0x2
#define MAX_READERS         63

static volatile uint32_t *reg;
static uint32_t expected;
static volatile int stop;

struct reader {
    pthread_t thread;
    int cpu;
    unsigned long batches;
    uint32_t bad_bits;
};

static void fail(const char *why)
{
    printf("mmio-race: FAIL %s\n", why);
    exit(1);
}

static void pin(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set)) {
        fprintf(stderr, "mmio-race: cannot pin to CPU %d: %s\n", cpu,
                strerror(errno));
    }
}

#define READ1   (bad |= *reg ^ expected)
#define READ8   READ1; READ1; READ1; READ1; READ1; READ1; READ1; READ1
#define READ64  READ8; READ8; READ8; READ8; READ8; READ8; READ8; READ8

static void *reader_main(void *opaque)
{
    struct reader *r = opaque;

    pin(r->cpu);
    while (!stop) {
        uint32_t bad = 0;

        READ64;
        r->batches++;
        if (bad) {
            r->bad_bits |= bad;
            break;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct reader readers[MAX_READERS];
    int ncpus = sysconf(_SC_NPROCESSORS_ONLN);
    int nreaders = ncpus - 1;
    unsigned long count, i, toggled, total = 0;
    uint16_t cmd, off, on;
    int fd, cfg, failed = 0;
    void *map;

    if (argc != 4) {
        fprintf(stderr, "usage: mmio-race RESOURCE CONFIG COUNT\n");
        return 2;
    }
    count = strtoul(argv[3], NULL, 0);
    if (nreaders < 1 || nreaders > MAX_READERS) {
        fail("needs 2 to 64 CPUs");
    }

    fd = open(argv[1], O_RDWR | O_SYNC);
    if (fd < 0) {
        fail("cannot open the BAR's resource file");
    }
    map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        fail("cannot map the BAR");
    }
    reg = map;
    expected = *reg;
    if (expected == 0xffffffff) {
        fail("register 0 reads all ones: BAR not decoded");
    }

    cfg = open(argv[2], O_RDWR);
    if (cfg < 0 || pread(cfg, &cmd, 2, PCI_COMMAND) != 2) {
        fail("cannot read the command register of the toggled device");
    }
    off = cmd & ~PCI_COMMAND_MEMORY;
    on = cmd | PCI_COMMAND_MEMORY;

    pin(0);
    for (i = 0; i < (unsigned long)nreaders; i++) {
        readers[i] = (struct reader) { .cpu = i + 1 };
        if (pthread_create(&readers[i].thread, NULL, reader_main,
                           &readers[i])) {
            fail("cannot start a reader thread");
        }
    }
    usleep(100000);
    for (i = 0; i < count && !failed; i++) {
        if (pwrite(cfg, &off, 2, PCI_COMMAND) != 2 ||
            pwrite(cfg, &on, 2, PCI_COMMAND) != 2) {
            fail("cannot write the command register");
        }
        for (int j = 0; j < nreaders; j++) {
            failed |= readers[j].bad_bits != 0;
        }
    }
    toggled = i;
    stop = 1;
    for (i = 0; i < (unsigned long)nreaders; i++) {
        pthread_join(readers[i].thread, NULL);
        total += readers[i].batches * 64;
        printf("mmio-race: reader on CPU %d: %lu reads%s\n", readers[i].cpu,
               readers[i].batches * 64,
               readers[i].bad_bits ? ", WRONG VALUE" : "");
        if (readers[i].bad_bits) {
            printf("mmio-race: FAIL CPU %d read a value differing from "
                   "%#x in bits %#x within %lu map changes\n",
                   readers[i].cpu, expected, readers[i].bad_bits,
                   2 * toggled);
            failed = 1;
        }
    }
    if (failed) {
        return 1;
    }
    if (total == 0) {
        fail("the readers read nothing");
    }
    printf("mmio-race: PASS %lu map changes, %lu reads of %#x, all right\n",
           2 * count, total, expected);
    return 0;
}
