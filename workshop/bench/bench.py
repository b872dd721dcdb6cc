#!/usr/bin/python3
"""Host instruction counts of intel-iommu work, ours against stock
upstream and against no IOMMU, measured with valgrind's callgrind.

Each measurement runs QEMU under the qtest accelerator with an edu device
at 00:04.0, builds legacy-mode tables in guest memory the way a guest
driver does (root, context, 4-level second-stage tables), and has edu do
64-byte DMA reads.  Callgrind counts only the instructions executed
inside one function, inclusively:
  - address_space_rw for a DMA (translation, IOTLB, walk, copy);
  - memory_region_dispatch_write for invalidations (the MMIO write that
    triggers them and all the work it does).
Costs per operation come from two runs that differ only in the measured
operations, so set-up work cancels out.

Benchmarks (see issue "make bench"):
  1 translation: one DMA with an IOTLB hit, with a miss, without IOMMU;
    and the first DMA to each of consecutive pages (ours fills the IOTLB
    a 64-byte line of the leaf table at a time)
  2 capacity: DMA over working sets of 64 .. 64K pages, second pass
  3 invalidation: page-selective and domain-selective invalidations
    with 64 .. 16K cached entries, through registers and the queue

Usage: bench.py [--quick] [--out DIR] OURS STOCK
Prints a table and writes results.csv (and results.png with gnuplot).
"""
import argparse
import concurrent.futures
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

VTD = 0xfed90000
EDU_BAR = 0xfe000000
EDU_CFG = 0x80000000 | (4 << 11)        # 00:04.0 through 0xcf8/0xcfc
ROOT = 0x2000000
CTX = ROOT + 0x1000
L4 = ROOT + 0x2000
QUEUE = 0x1f00000
STATUS = 0x1f80000
TABLES = 0x3000000                      # further tables from here
TARGET = 0x400000                       # every IOVA maps to this page
DID = 1
XFER = 64
PAGE = 4096


class Commands:
    """A qtest command list; tables are written a page at a time."""

    def __init__(self):
        self.lines = []

    def add(self, line):
        self.lines.append(line)

    def writeq(self, addr, val):
        self.add('writeq 0x%x 0x%x' % (addr, val))

    def writel(self, addr, val):
        self.add('writel 0x%x 0x%x' % (addr, val))

    def write_page(self, addr, qwords):
        data = b''.join(q.to_bytes(8, 'little') for q in qwords)
        self.add('write 0x%x 0x%x 0x%s' % (addr, len(data), data.hex()))


def edu_setup(c):
    c.add('outl 0xcf8 0x%x' % (EDU_CFG | 0x10))
    c.add('outl 0xcfc 0x%x' % EDU_BAR)
    c.add('outl 0xcf8 0x%x' % (EDU_CFG | 0x4))
    c.add('outw 0xcfc 0x6')              # memory space, bus master
    c.writeq(EDU_BAR + 0x88, 0x40000)    # into edu's buffer
    c.writeq(EDU_BAR + 0x90, XFER)


def edu_dma(c, iova):
    c.writeq(EDU_BAR + 0x80, iova)
    c.writeq(EDU_BAR + 0x98, 1)          # start, RAM -> edu
    c.add('clock_step 101000000')


def tables_setup(c, pages, iommu=True, stride=1):
    """Map IOVA page i (i < pages, a multiple of @stride) to TARGET and
    enable translation."""
    if not iommu:
        return
    ntables = (pages + 511) // 512
    l1_tables = [TABLES + i * PAGE for i in range(ntables)]
    l2_base = TABLES + ntables * PAGE
    nl2 = (ntables + 511) // 512
    l3 = l2_base + nl2 * PAGE
    rw = 3
    c.write_page(ROOT, [CTX | 1, 0])
    # context entry of devfn 0x20: 4 levels (AW 2), domain DID
    ctx = [0] * 512
    ctx[0x20 * 2] = L4 | 1
    ctx[0x20 * 2 + 1] = 2 | (DID << 8)
    c.write_page(CTX, ctx)
    c.write_page(L4, [l3 | rw])
    c.write_page(l3, [l2_base + i * PAGE | rw for i in range(nl2)])
    for j in range(nl2):
        c.write_page(l2_base + j * PAGE,
                     [l1_tables[i] | rw
                      for i in range(j * 512, min(ntables, j * 512 + 512))])
    for i, t in enumerate(l1_tables):
        n = min(512, pages - i * 512)
        c.write_page(t, [TARGET | rw if j % stride == 0 else 0
                         for j in range(n)])
    c.writeq(VTD + 0x20, ROOT)
    c.writel(VTD + 0x18, 0x40000000)     # SRTP
    c.writel(VTD + 0x18, 0x80000000)     # TE


def queue_setup(c):
    c.writeq(VTD + 0x90, QUEUE | 0)      # IQA: one page of 128-bit
    c.writeq(VTD + 0x88, 0)
    c.writel(VTD + 0x18, 0x80000000 | 0x04000000)   # keep TE, set QIE
    return [0]


def inval_page_reg(c, iova):
    c.writeq(VTD + 0xf0, iova)                      # IVA, AM 0
    c.writeq(VTD + 0xf8, (1 << 63) | (3 << 60) | (DID << 32))


def inval_domain_reg(c):
    c.writeq(VTD + 0xf8, (1 << 63) | (2 << 60) | (DID << 32))


def inval_queue(c, tail, lo, hi):
    data = lo.to_bytes(8, 'little') + hi.to_bytes(8, 'little')
    c.add('write 0x%x 0x10 0x%s' % (QUEUE + tail[0], data.hex()))
    tail[0] = (tail[0] + 16) % PAGE
    c.writeq(VTD + 0x88, tail[0])


def inval_page_queue(c, tail, iova):
    inval_queue(c, tail, 2 | (3 << 4) | (DID << 16), iova)


def inval_domain_queue(c, tail):
    inval_queue(c, tail, 2 | (2 << 4) | (DID << 16), 0)


class Runner:
    def __init__(self, binaries, workdir):
        self.binaries = binaries
        self.workdir = workdir
        self.seq = itertools.count(1)   # next() is atomic: runs overlap

    def run(self, build, commands, iommu, function):
        """Instructions executed inside @function during @commands."""
        out = os.path.join(self.workdir, 'cg.%d' % next(self.seq))
        args = ['valgrind', '--tool=callgrind', '--callgrind-out-file=' + out,
                '--collect-atstart=no', '--toggle-collect=' + function,
                self.binaries[build], '-machine', 'q35', '-m', '256',
                '-accel', 'qtest', '-display', 'none', '-nodefaults',
                '-device', 'edu,addr=04.0', '-qtest', 'stdio']
        if iommu:
            args[-4:-4] = ['-device', 'intel-iommu']
        proc = subprocess.Popen(args, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        replies = []

        def reader():
            for line in proc.stdout:
                if line.startswith(('OK', 'FAIL', 'ERR')):
                    replies.append(line.strip())
        t = threading.Thread(target=reader)
        t.start()
        proc.stdin.write('\n'.join(commands.lines) + '\n')
        proc.stdin.flush()
        while len(replies) < len(commands.lines) and proc.poll() is None:
            time.sleep(0.05)
        # qtest has no quit command: SIGTERM shuts QEMU down cleanly and
        # callgrind writes its profile.
        proc.terminate()
        proc.wait()
        t.join()
        bad = [r for r in replies if not r.startswith('OK')]
        if len(replies) < len(commands.lines) or bad:
            sys.exit('bench: %s: qtest failed (%d/%d replies) %s' %
                     (build, len(replies), len(commands.lines), bad[:3]))
        with open(out) as f:
            text = f.read()
        os.unlink(out)
        m = re.search(r'^summary:\s+(\d+)', text, re.M)
        if not m:
            m = re.search(r'^totals:\s+(\d+)', text, re.M)
        return int(m.group(1)) if m else 0


def per_op(runner, build, make, n, iommu, function):
    """(cost of make(n) - cost of make(0)) / n.  The two runs go side by
    side, one per core of the 2-core machines this runs on: instruction
    counts do not depend on what else runs (bench-quick: 329 s -> 199 s)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        base = pool.submit(runner.run, build, make(0), iommu, function)
        full = pool.submit(runner.run, build, make(n), iommu, function)
        return (full.result() - base.result()) / n


def bench_translation(runner, build, rounds):
    res = {}

    def hit(n):
        c = Commands()
        edu_setup(c)
        tables_setup(c, 1, build != 'none')
        edu_dma(c, 0)                   # fills the IOTLB
        for _ in range(n):
            edu_dma(c, 0)
        return c
    res['hit'] = per_op(runner, build, hit, rounds, build != 'none',
                        'address_space_rw')
    if build == 'none':
        return res

    # Each page once: always a miss.  Isolated pages, one per 64-byte
    # line of the leaf table, so that ours walks for every one of them;
    # then consecutive pages, of which ours walks one per line.
    def miss(stride):
        def make(n):
            c = Commands()
            edu_setup(c)
            tables_setup(c, rounds * stride, True, stride)
            for i in range(n):
                edu_dma(c, i * stride * PAGE)
            return c
        return make
    res['miss'] = per_op(runner, build, miss(8), rounds, True,
                         'address_space_rw')
    res['first'] = per_op(runner, build, miss(1), rounds, True,
                          'address_space_rw')
    return res


def bench_capacity(runner, build, pages):
    """Cost per DMA of a second pass over @pages pages."""
    def passes(n):
        c = Commands()
        edu_setup(c)
        tables_setup(c, pages, build != 'none')
        for i in range(pages):
            edu_dma(c, i * PAGE)
        if n:
            for i in range(pages):
                edu_dma(c, i * PAGE)
        return c
    return per_op(runner, build, lambda n: passes(n), 1, build != 'none',
                  'address_space_rw') / pages


def bench_invalidation(runner, build, entries, kind, queued, rounds):
    """Cost per invalidation with @entries cached translations."""
    def make(n):
        c = Commands()
        edu_setup(c)
        tables_setup(c, entries)
        tail = queue_setup(c) if queued else None
        for i in range(entries):
            edu_dma(c, i * PAGE)
        for i in range(n):
            # pages far from the cached ones: nothing to drop, so every
            # round sees the same cache
            iova = (0x8000000 + i * PAGE)
            if kind == 'page':
                if queued:
                    inval_page_queue(c, tail, iova)
                else:
                    inval_page_reg(c, iova)
            else:
                # domain: a domain id with nothing cached, same reason
                if queued:
                    inval_queue(c, tail, 2 | (2 << 4) | ((DID + 1) << 16), 0)
                else:
                    c.writeq(VTD + 0xf8,
                             (1 << 63) | (2 << 60) | ((DID + 1) << 32))
        return c
    return per_op(runner, build, make, rounds, True,
                  'memory_region_dispatch_write')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--out', default='build/bench-results')
    ap.add_argument('--only', default='123',
                    help='benchmarks to run, e.g. 12')
    ap.add_argument('ours')
    ap.add_argument('stock')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    runner = Runner({'ours': a.ours, 'stock': a.stock, 'none': a.ours},
                    tempfile.mkdtemp(prefix='vtd-bench-'))
    rows = []
    start = time.time()

    def row(bench, case, values, note=''):
        rows.append((bench, case, values, note))
        o, s, n = (values.get(k) for k in ('ours', 'stock', 'none'))
        fmt = lambda v: '%9.0f' % v if v is not None else '        -'
        ratio = lambda x, y: ('%6.2fx' % (x / y)) if x and y else '      -'
        print('%-14s %-22s %s %s %s  %s %s %s' %
              (bench, case, fmt(o), fmt(s), fmt(n), ratio(o, s),
               ratio(o, n), ratio(s, n)), flush=True)

    print('%-14s %-22s %9s %9s %9s  %7s %7s %7s' %
          ('benchmark', 'case', 'ours', 'stock', 'no-iommu', 'o/s',
           'o/none', 's/none'))
    rounds = 50 if a.quick else 200
    if '1' in a.only:
        bench1(runner, row, rounds)
    if '2' in a.only:
        bench2(runner, row, a.quick)
    if '3' in a.only:
        bench3(runner, row, a.quick)
    write_results(a.out, rows, start)


def bench1(runner, row, rounds):
    t = {b: bench_translation(runner, b, rounds)
         for b in ('ours', 'stock', 'none')}
    row('1-translation', 'IOTLB hit (instr/DMA)',
        {b: t[b]['hit'] for b in t})
    row('1-translation', 'IOTLB miss (instr/DMA)',
        {'ours': t['ours']['miss'], 'stock': t['stock']['miss'],
         'none': t['none']['hit']})
    row('1-translation', 'first touch, seq. pages',
        {'ours': t['ours']['first'], 'stock': t['stock']['first'],
         'none': t['none']['hit']})



def bench2(runner, row, quick):
    sizes = [64, 1024, 4096, 16384] + ([] if quick else [256, 65536])
    sizes.sort()
    for pages in sizes:
        row('2-capacity', '%d pages (instr/DMA)' % pages,
            {b: bench_capacity(runner, b, pages)
             for b in ('ours', 'stock', 'none')})



def bench3(runner, row, quick):
    sizes = [64, 4096] + ([] if quick else [512, 16384])
    sizes.sort()
    for queued in (False, True):
        for kind in ('page', 'domain'):
            for entries in sizes:
                row('3-invalidation', '%s %s, %d cached' %
                    ('queue' if queued else 'register', kind, entries),
                    {b: bench_invalidation(runner, b, entries, kind, queued,
                                           200)
                     for b in ('ours', 'stock')})


def write_results(out, rows, start):
    csv = os.path.join(out, 'results.csv')
    with open(csv, 'w') as f:
        f.write('benchmark,case,ours,stock,no_iommu\n')
        for bench, case, v, _ in rows:
            f.write('%s,"%s",%s,%s,%s\n' % (
                bench, case, *('%.0f' % v[k] if v.get(k) is not None else ''
                               for k in ('ours', 'stock', 'none'))))
    print('wrote %s (%.0f s)' % (csv, time.time() - start))
    plot(out, rows)


def plot(out, rows):
    """Capacity curve (benchmark 2) as results.png, if gnuplot is here."""
    if not shutil.which('gnuplot'):
        print('gnuplot not installed: no plot')
        return
    if not any(bench == '2-capacity' for bench, _, _, _ in rows):
        return                          # --only without benchmark 2
    data = os.path.join(out, 'capacity.dat')
    with open(data, 'w') as f:
        for bench, case, v, _ in rows:
            if bench == '2-capacity':
                f.write('%s %.0f %.0f %.0f\n' % (case.split()[0], v['ours'],
                                                 v['stock'], v['none']))
    script = '''set terminal png size 800,500
set output "%s/results.png"
set logscale x 2
set xlabel "working set (4 KiB pages)"
set ylabel "host instructions per 64-byte DMA"
set key top left
plot "%s" using 1:2 with linespoints title "ours", \\
     "" using 1:3 with linespoints title "stock upstream", \\
     "" using 1:4 with linespoints title "no IOMMU"
''' % (out, data)
    subprocess.run(['gnuplot'], input=script, text=True, check=True)
    print('wrote %s/results.png' % out)


if __name__ == '__main__':
    main()
