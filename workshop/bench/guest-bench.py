#!/usr/bin/python3
"""Guest I/O and network rates and caching-mode churn (make bench,
benchmarks 4, 5 and 6).  Benchmarks 4 and 5: the Linux
test guest under TCG, with null-backed NVMe and virtio-blk
(iommu_platform=on) disks and virtio-net and e1000e NICs on user-mode
networks, reading and sending as fast as it can (guest tests/bench-io.sh,
tools io-bench.c and net-bench.c).

Configurations: no IOMMU; our intel-iommu and stock upstream's, each with
the guest in strict (iommu.strict=1) and lazy (iommu.strict=0) mode.
Each configuration boots --runs times, rounds interleaved so that load on
the machine spreads over all of them; each row reports the median rate
with min and max, and the ratios of medians.

Targets (issue "make bench"): strict, ours at least as fast as stock on
every row; lazy, ours within 10% of no IOMMU.

Benchmark 6: the guest (caching-mode=on) runs the QEMU under test as a
nested machine with edu assigned through vfio-pci (tests/bench-cm.sh);
the nested guest maps and unmaps 256 pages eight times, each change
followed by a page-selective invalidation.  Reported: VFIO notifications
per invalidation, and the nested QEMU's time per notification: qtest's
log stamps each command on arrival and on reply, so each invalidating
register write is timed on its own (median over the stream), less the
median time of a write to a scratch register in the same stream.

Usage: guest-bench.py [--runs N] [--secs S] [--out DIR] OURS STOCK
Prints a table, writes guest.csv and guest.png (gnuplot) under DIR.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RUN_GUEST = os.path.join(HERE, '..', 'guest', 'run-guest.sh')

DEVICES = [
    '-drive', 'driver=null-co,size=1G,id=nb0,if=none',
    '-device', 'nvme,drive=nb0,serial=b0,addr=04.0',
    '-drive', 'driver=null-co,size=1G,id=nb1,if=none',
    '-device', 'virtio-blk-pci,drive=nb1,addr=05.0,disable-legacy=on,'
               'iommu_platform=on',
    '-netdev', 'user,id=n2,net=10.0.2.0/24,'
               'guestfwd=tcp:10.0.2.100:7778-cmd:head -c 100000000000 /dev/zero',
    '-device', 'virtio-net-pci,netdev=n2,addr=06.0,disable-legacy=on,'
               'iommu_platform=on,romfile=',
    '-netdev', 'user,id=n3,net=10.0.3.0/24,'
               'guestfwd=tcp:10.0.3.100:7778-cmd:head -c 100000000000 /dev/zero',
    '-device', 'e1000e,netdev=n3,addr=07.0,romfile=',
]

# name, binary key, strict (None: no IOMMU)
CONFIGS = [
    ('none', 'ours', None),
    ('ours-strict', 'ours', 1),
    ('stock-strict', 'stock', 1),
    ('ours-lazy', 'ours', 0),
    ('stock-lazy', 'stock', 0),
]

ROWS = [
    ('4-block', 'nvme0n1', 'rand4k', 'iops', 'NVMe 4 KiB random read (IOPS)'),
    ('4-block', 'nvme0n1', 'seq128k', 'mbps', 'NVMe 128 KiB seq read (MB/s)'),
    ('4-block', 'vda', 'rand4k', 'iops', 'virtio-blk 4 KiB random (IOPS)'),
    ('4-block', 'vda', 'seq128k', 'mbps', 'virtio-blk 128 KiB seq (MB/s)'),
    ('5-network', 'eth0', 'tx', 'pps', 'virtio-net TX 64 B (pkt/s)'),
    ('5-network', 'eth0', 'rx', 'pps', 'virtio-net RX TCP (pkt/s)'),
    ('5-network', 'eth1', 'tx', 'pps', 'e1000e TX 64 B (pkt/s)'),
    ('5-network', 'eth1', 'rx', 'pps', 'e1000e RX TCP (pkt/s)'),
]


def run_once(binary, strict, secs, log):
    cmd = [RUN_GUEST, '-q', binary, '-k', '6.12', '-t', 'bench-io',
           '-T', '90', '-l', log, '-a', 'vtdbenchsecs=%d' % secs]
    if strict is not None:
        cmd += ['--iommu=intremap=on', '-a', 'intel_iommu=on',
                '-a', 'iommu.strict=%d' % strict]
    cmd += ['--'] + DEVICES
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    values = {}
    if r.returncode:
        # A configuration that hangs or breaks the guest loses that run's
        # rows, and says so; the others are still measured.
        print('guest-bench: run failed (%s): %s' %
              (log, r.stdout.strip().splitlines()[-1][:300]), flush=True)
    with open(log, errors='replace') as f:
        for line in f:
            if not line.startswith('VTD-BENCH: '):
                continue
            kv = dict(w.split('=', 1) for w in line.split()[1:])
            for metric in ('iops', 'mbps', 'pps'):
                if metric in kv:
                    values[(kv['dev'], kv['test'], metric)] = float(kv[metric])
    return values


def run_cm(l0, payload, log):
    """The machine itself runs our build (@l0); @payload is the QEMU
    under test, inside it."""
    cmd = [RUN_GUEST, '-q', l0, '-k', '6.12', '-t', 'bench-cm', '-T', '600',
           '-l', log, '--payload=%s' % payload, '--iommu=caching-mode=on',
           '-a', 'intel_iommu=on', '--', '-device', 'edu,addr=04.0']
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if r.returncode:
        sys.exit('guest-bench: run failed: %s' % r.stdout.strip()[-500:])
    with open(log, errors='replace') as f:
        for line in f:
            if line.startswith('VTD-BENCH: kind=cm'):
                kv = dict(w.split('=', 1) for w in line.split()[1:])
                n = int(kv['maps']) + int(kv['unmaps'])
                return {'per_inval': n / int(kv['invalidations']),
                        'us': float(kv['us_per_notification']),
                        'us_map': float(kv['us_map']),
                        'us_unmap': float(kv['us_unmap']),
                        'us_base': float(kv['us_base'])}
    sys.exit('guest-bench: no result in %s' % log)


# Benchmark 6's rows: notifications per invalidation, then the nested
# QEMU's time for one write of L2's IOTLB register (median over the
# stream): after a PTE was set (a MAP), after it was cleared (an UNMAP),
# and for a write of a scratch register (no invalidation); the last row is
# the invalidation's share per notification.
CM_ROWS = (('per_inval', 'notifications per invalidation'),
           ('us_map', 'us per invalidating write, MAP'),
           ('us_unmap', 'us per invalidating write, UNMAP'),
           ('us_base', 'us per scratch register write'),
           ('us', 'host us per notification'))


def cm_stat(cm, name, key):
    vals = [s[key] for s in cm[name]]
    return statistics.median(vals), min(vals), max(vals)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--secs', type=int, default=4)
    ap.add_argument('--out', default='build/bench-results')
    ap.add_argument('ours')
    ap.add_argument('stock')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    binaries = {'ours': a.ours, 'stock': a.stock}
    samples = {c[0]: [] for c in CONFIGS}
    start = time.time()
    cm = {'ours': [], 'stock': []}
    for r in range(a.runs):
        for name in cm:
            log = os.path.join(a.out, 'guest-cm-%s-%d.log' % (name, r))
            cm[name].append(run_cm(a.ours, binaries[name], log))
        for name, binary, strict in CONFIGS:
            log = os.path.join(a.out, 'guest-%s-%d.log' % (name, r))
            samples[name].append(run_once(binaries[binary], strict, a.secs,
                                          log))
        print('guest-bench: round %d of %d done (%.0f s)' %
              (r + 1, a.runs, time.time() - start), flush=True)

    def stat(name, key):
        vals = [s[key] for s in samples[name] if key in s]
        if not vals:
            return None
        return statistics.median(vals), min(vals), max(vals)

    for c in CONFIGS:
        lost = sum(1 for s in samples[c[0]] if not s)
        if lost:
            print('guest-bench: %s: %d of %d runs failed (see its logs)' %
                  (c[0], lost, a.runs))

    table = []
    print('%-32s %s' % ('row (median, min-max)',
                        ' '.join('%-20s' % c[0] for c in CONFIGS)))
    for bench, dev, test, metric, label in ROWS:
        st = {c[0]: stat(c[0], (dev, test, metric)) for c in CONFIGS}
        cells = []
        for c in CONFIGS:
            s = st[c[0]]
            cells.append('%-20s' % ('%.0f (%.0f-%.0f)' % s if s else '-'))
        print('%-32s %s' % (label, ' '.join(cells)), flush=True)
        table.append((bench, label, st))

    print()
    print('%-32s %9s %9s %9s %9s' % ('ratios of medians', 'strict o/s',
                                      'lazy o/s', 'lazy o/none',
                                      'strict o/none'))
    met_strict = met_lazy = True
    for bench, label, st in table:
        def r(x, y):
            return st[x][0] / st[y][0] if st[x] and st[y] else None
        so, lo, ln, sn = (r('ours-strict', 'stock-strict'),
                          r('ours-lazy', 'stock-lazy'),
                          r('ours-lazy', 'none'), r('ours-strict', 'none'))
        met_strict &= so is not None and so >= 1.0
        met_lazy &= ln is not None and ln >= 0.9
        print('%-32s %9s %9s %9s %9s' % (label, *(
            '%.2fx' % v if v is not None else '-' for v in (so, lo, ln, sn))))
    print('target strict: ours >= stock on every row: %s' %
          ('met' if met_strict else 'NOT met'))
    print('target lazy: ours >= 0.9 x no IOMMU on every row: %s' %
          ('met' if met_lazy else 'NOT met'))

    csv = os.path.join(a.out, 'guest.csv')
    with open(csv, 'w') as f:
        f.write('benchmark,row,' + ','.join(
            '%s_median,%s_min,%s_max' % (c[0], c[0], c[0])
            for c in CONFIGS) + '\n')
        for bench, label, st in table:
            f.write('%s,"%s",%s\n' % (bench, label, ','.join(
                ','.join('%.0f' % v for v in st[c[0]]) if st[c[0]]
                else ',,' for c in CONFIGS)))
    print()
    for key, label in CM_ROWS:
        o, s_ = cm_stat(cm, 'ours', key), cm_stat(cm, 'stock', key)
        print('6-caching-mode %-38s ours %.2f (%.2f-%.2f)  stock %.2f '
              '(%.2f-%.2f)  o/s %.2fx' % (label, *o, *s_, o[0] / s_[0]))
    with open(os.path.join(a.out, 'guest-cm.csv'), 'w') as f:
        f.write('benchmark,row,ours_median,ours_min,ours_max,'
                'stock_median,stock_min,stock_max\n')
        for key, label in CM_ROWS:
            f.write('6-caching-mode,"%s",%s\n' % (label, ','.join(
                '%.2f' % v for n in ('ours', 'stock')
                for v in cm_stat(cm, n, key))))
    print('wrote %s and guest-cm.csv (%.0f s)' % (csv, time.time() - start))
    plot(a.out, table)


def plot(out, table):
    """Each row's medians relative to no IOMMU, as guest.png."""
    if not shutil.which('gnuplot'):
        print('gnuplot not installed: no plot')
        return
    data = os.path.join(out, 'guest.dat')
    with open(data, 'w') as f:
        for i, (bench, label, st) in enumerate(table):
            base = st['none'][0] if st['none'] else None
            vals = [st[c][0] / base if st[c] and base else 0
                    for c in ('ours-strict', 'stock-strict', 'ours-lazy',
                              'stock-lazy')]
            f.write('%d "%s" %s\n' % (i, label.split(' (')[0],
                                      ' '.join('%.3f' % v for v in vals)))
    script = '''set terminal png size 1000,500
set output "%s/guest.png"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8
set ylabel "rate relative to no IOMMU (median)"
set yrange [0:*]
set xtics rotate by -30 font ",8"
set key top right
plot "%s" using 3:xtic(2) title "ours strict", \\
     "" using 4 title "stock strict", \\
     "" using 5 title "ours lazy", \\
     "" using 6 title "stock lazy"
''' % (out, data)
    subprocess.run(['gnuplot'], input=script, text=True, check=True)
    print('wrote %s/guest.png' % out)


if __name__ == '__main__':
    main()
