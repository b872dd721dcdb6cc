/*
 * net-bench: packet rates of a NIC, for the guest network benchmark
 * (make bench, benchmark 5).  Rates come from the interface's own
 * counters, so they count frames the NIC really moved by DMA.
 *
 * Usage: net-bench IFACE tx HOST PORT SECONDS
 *          UDP datagrams of 64 bytes to HOST:PORT as fast as the stack
 *          takes them: transmit DMA (frames the NIC read)
 *        net-bench IFACE rx HOST PORT SECONDS
 *          reads a TCP stream from HOST:PORT: receive DMA
 * Prints "net-bench: IFACE tx|rx pps N mbps N".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t counter(const char *iface, const char *name)
{
    char path[256];
    unsigned long long v = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s",
             iface, name);
    f = fopen(path, "r");
    if (!f || fscanf(f, "%llu", &v) != 1) {
        perror(path);
        exit(1);
    }
    fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    struct sockaddr_in to = { .sin_family = AF_INET };
    const char *iface, *dir;
    uint64_t p0, b0, p1, b1;
    double start, end, secs;
    char buf[65536];
    int s, tx;

    if (argc != 6) {
        fprintf(stderr, "usage: net-bench IFACE tx|rx HOST PORT SECONDS\n");
        return 2;
    }
    iface = argv[1];
    dir = argv[2];
    tx = !strcmp(dir, "tx");
    to.sin_port = htons(atoi(argv[4]));
    if (inet_pton(AF_INET, argv[3], &to.sin_addr) != 1) {
        fprintf(stderr, "net-bench: bad address %s\n", argv[3]);
        return 2;
    }
    s = socket(AF_INET, tx ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&to, sizeof(to))) {
        perror("net-bench: connect");
        return 1;
    }
    memset(buf, 0x5a, sizeof(buf));
    p0 = counter(iface, tx ? "tx_packets" : "rx_packets");
    b0 = counter(iface, tx ? "tx_bytes" : "rx_bytes");
    start = now();
    end = start + atof(argv[5]);
    while (now() < end) {
        if (tx) {
            /* ICMP unreachable answers surface as errors: ignore them. */
            send(s, buf, 64, 0);
        } else if (read(s, buf, sizeof(buf)) <= 0) {
            break;
        }
    }
    secs = now() - start;
    p1 = counter(iface, tx ? "tx_packets" : "rx_packets");
    b1 = counter(iface, tx ? "tx_bytes" : "rx_bytes");
    printf("net-bench: %s %s pps %.0f mbps %.1f\n", iface, dir,
           (p1 - p0) / secs, (b1 - b0) / secs / 1e6);
    return 0;
}
