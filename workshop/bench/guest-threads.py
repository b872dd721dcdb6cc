#!/usr/bin/python3
"""Where a guest benchmark's time goes, thread by thread.

Boots the Linux test guest once with guest-bench.py's devices and runs
its bench-io rows (workshop/guest/tests/bench-io.sh), with a monitor
socket.  At the start of the rows and after each one it reads:
  - the host CPU time of each QEMU thread (/proc/PID/task/*/stat, with
    -name debug-threads=on): "main" is the main loop, where the devices
    do their DMA and so translate; "vcpu" the TCG vCPU threads, running
    the guest, its IOMMU driver included; "call_rcu" QEMU's RCU thread
    (created before -name is parsed, so named after the binary);
  - `info intel-iommu`'s counters: translations that went the slow way,
    hits on the requester's recent translations, misses.
Each row then prints its rate and, per operation (I/O or packet), the
translations and the microseconds of host CPU per thread, user and
system.  Comparing a configuration with no IOMMU tells how much of the
difference is the device model's and how much the guest's.

Usage: guest-threads.py [--mode none|strict|lazy] [--secs S]
                        [--profile N] [--pairs N] [--log FILE] QEMU
--profile N also prints the guest kernel's N busiest functions per row
(tools/kprofile.c).  --pairs N boots the guest without IOMMU and in
--mode alternately, N times each, and ends with the medians of what
--mode adds per operation, thread by thread, next to 10% of the
operation's time without IOMMU: the machine's noise moves the rates of
single runs by 20% and more.
"""
import argparse
import importlib.util
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    'guest_bench', os.path.join(HERE, 'guest-bench.py'))
guest_bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(guest_bench)

HZ = os.sysconf('SC_CLK_TCK')


def monitor(path, command):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.settimeout(0.5)
    s.sendall(command.encode() + b'\n')
    data = b''
    deadline = time.time() + 2
    while time.time() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            if data:
                break
            continue
        if not chunk:
            break
        data += chunk
    s.close()
    return data.decode(errors='replace')


def counters(path):
    """slow-path translations, recent hits, misses (zeros: no IOMMU)."""
    text = monitor(path, 'info intel-iommu')
    ctx = re.search(r'Context cache: (\d+) hits, (\d+) misses', text)
    tlb = re.search(r'IOTLB: .*?, (\d+) hits \((\d+) on .*?\), (\d+) misses',
                    text)
    if not ctx or not tlb:
        return (0, 0, 0)
    recent = int(tlb.group(2))
    return (int(ctx.group(1)) + int(ctx.group(2)) - recent, recent,
            int(tlb.group(3)))


def thread_times(pid):
    """{class.u|class.s: seconds} over the process's threads."""
    out = {}
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            with open('/proc/%d/task/%s/stat' % (pid, tid)) as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index('(') + 1:st.rindex(')')]
        fields = st[st.rindex(')') + 2:].split()
        if 'CPU' in comm:
            kind = 'vcpu'
        elif int(tid) == pid:
            kind = 'main'
        elif comm.startswith('qemu-system'):
            kind = 'call_rcu'
        else:
            kind = comm.split()[0]
        out[kind + '.u'] = out.get(kind + '.u', 0) + int(fields[11]) / HZ
        out[kind + '.s'] = out.get(kind + '.s', 0) + int(fields[12]) / HZ
    return out


def run(qemu, mode, secs, profile, log=None):
    """Boot the guest once in @mode; print and return its rows:
    {(device, row): (rate, (slow, recent, miss), {thread: us})} per
    operation, thread one of main, vcpu, call_rcu (user + system)."""
    tmp = tempfile.mkdtemp(prefix='guest-threads-')
    mon = os.path.join(tmp, 'mon.sock')
    log = log or os.path.join(tmp, 'console.log')
    cmd = [guest_bench.RUN_GUEST, '-q', qemu, '-k', '6.12', '-t',
           'bench-io', '-T', '150', '-l', log,
           '-a', 'vtdbenchsecs=%d' % secs]
    if profile:
        cmd += ['-a', 'profile=4', '-a', 'vtdprofile=%d' % profile]
    if mode != 'none':
        cmd += ['--iommu=intremap=on', '-a', 'intel_iommu=on',
                '-a', 'iommu.strict=%d' % (mode == 'strict')]
    cmd += ['--', '-name', 'bench,debug-threads=on',
            '-monitor', 'unix:%s,server=on,wait=off' % mon]
    cmd += guest_bench.DEVICES
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    pid = prev = None
    seen = 0
    rows = {}
    print('%s:' % mode)
    print('%-8s %-8s %9s  %s' % ('device', 'row', 'rate',
                                 'per op: slow recent miss | host us'))
    while proc.poll() is None:
        time.sleep(0.2)
        try:
            with open(log, errors='replace') as f:
                console = f.read()
        except FileNotFoundError:
            continue
        if prev is None:
            if 'disks' not in console or not os.path.exists(mon):
                continue
            r = subprocess.run(['pgrep', '-f', 'unix:%s' % mon],
                               stdout=subprocess.PIPE, text=True)
            pids = [int(p) for p in r.stdout.split()
                    if open('/proc/%s/comm' % p).read().startswith(
                        'qemu-system')]
            if not pids:
                continue
            pid = pids[0]
            prev = (counters(mon), thread_times(pid))
            continue
        lines = [line for line in console.splitlines()
                 if line.startswith('VTD-BENCH: kind=')]
        if len(lines) == seen:
            continue
        try:
            cur = (counters(mon), thread_times(pid))
        except OSError:
            break
        # Rows end one at a time; if two ended since the last look, the
        # first gets the counts of both and the second none.
        for line in lines[seen:]:
            kv = dict(w.split('=', 1) for w in line.split()[1:])
            rate = float(kv.get('iops') or kv.get('pps') or 0)
            ops = rate * secs or 1
            trans = tuple((c - p) / ops for c, p in zip(cur[0], prev[0]))
            cpu = {k: (cur[1][k] - prev[1].get(k, 0)) * 1e6 / ops
                   for k in sorted(cur[1])}
            threads = {}
            for k, v in cpu.items():
                threads[k[:-2]] = threads.get(k[:-2], 0) + v
            rows[(kv['dev'], kv['test'])] = (rate, trans, threads)
            print('%-8s %-8s %9.0f  %s | %s' % (
                kv['dev'], kv['test'], rate,
                ' '.join('%5.2f' % t for t in trans),
                ' '.join('%s %.2f' % (k, v) for k, v in cpu.items())),
                flush=True)
            prev = cur
        seen = len(lines)
    out = proc.stdout.read().strip().splitlines()
    print(out[-1] if out else 'guest-threads: no output from run-guest.sh')
    if profile:
        with open(log, errors='replace') as f:
            for line in f:
                if line.startswith(('kprofile ', 'VTD-PROFILE')):
                    print(line.rstrip())
    return rows if proc.returncode == 0 else None


def compare(pairs, mode):
    """Median over the pairs of (no IOMMU, @mode) runs, per row: the
    rate ratio; the host CPU per operation that @mode adds in QEMU's
    main loop (the devices and their translations) and in the vCPU
    threads (the guest, its IOMMU driver included); and 10% of the
    operation's time without IOMMU, the budget of the lazy target."""
    print('\n%d pairs, medians: %s vs no IOMMU, host us per operation'
          % (len(pairs), mode))
    print('%-8s %-8s %6s %8s %8s %8s %8s' % (
        'device', 'row', 'ratio', '+main', '+vcpu', '+rcu', '10%'))
    for key in pairs[0][0]:
        got = [(base[key], other[key]) for base, other in pairs
               if key in base and key in other]
        if not got:
            continue

        def extra(thread):
            return statistics.median([o[2].get(thread, 0) -
                                      b[2].get(thread, 0) for b, o in got])
        print('%-8s %-8s %6.2f %8.1f %8.1f %8.1f %8.1f' % (
            key[0], key[1],
            statistics.median([o[0] / b[0] for b, o in got]),
            extra('main'), extra('vcpu'), extra('call_rcu'),
            statistics.median([1e5 / b[0] for b, o in got])), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mode', choices=('none', 'strict', 'lazy'),
                    default='lazy')
    ap.add_argument('--secs', type=int, default=4)
    ap.add_argument('--profile', type=int, default=0)
    ap.add_argument('--pairs', type=int, default=0,
                    help='run no IOMMU and --mode alternately, N times '
                         'each, and compare them')
    ap.add_argument('--log')
    ap.add_argument('qemu')
    a = ap.parse_args()
    if not a.pairs:
        return 0 if run(a.qemu, a.mode, a.secs, a.profile, a.log) else 1
    pairs = []
    for _ in range(a.pairs):
        base = run(a.qemu, 'none', a.secs, a.profile)
        other = run(a.qemu, a.mode, a.secs, a.profile)
        if base and other:
            pairs.append((base, other))
    if not pairs:
        return 1
    compare(pairs, a.mode)
    return 0


if __name__ == '__main__':
    sys.exit(main())
