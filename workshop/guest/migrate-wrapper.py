#!/usr/bin/python3
"""Run a guest through a chain of QEMU binaries, live-migrating it from one
to the next while it works.

Used as run-guest.sh's VTD_GUEST_QEMU_WRAPPER:

    VTD_GUEST_QEMU_WRAPPER="migrate-wrapper.py --chain A,B,C --at 2,4" \\
        run-guest.sh ... -a vtdrounds=6 ...

The guest starts on binary A (the command's own binary is ignored).  When
its console shows "VTD-GUEST-ROUND: 2", a QEMU from binary B is started
with the same arguments and -incoming, and the guest migrates to it over a
UNIX socket; at round 4 it moves on to C, and so on.  A and C may be the
same binary.  "stock" and "ours" name the two builds of this repository.

The console goes to the same file from every QEMU (the -serial file: option
becomes an appending chardev).  Progress goes to stderr.  The exit status
is the last QEMU's, or 1 if a migration fails.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

from wrapper_qmp import Qmp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
NAMED = {
    'ours': os.path.join(ROOT, 'build/qemu/qemu-system-x86_64'),
    'stock': os.path.join(ROOT, 'build/stock/qemu-system-x86_64'),
}


def log(msg):
    print('migrate-wrapper: ' + msg, file=sys.stderr, flush=True)


def serial_to_chardev(args):
    """-serial file:PATH -> an appending chardev, so that every QEMU of the
    chain writes the same console log; returns (args, PATH)."""
    out, path = [], None
    i = 0
    while i < len(args):
        if args[i] == '-serial' and i + 1 < len(args) and \
                args[i + 1].startswith('file:'):
            path = args[i + 1][5:]
            out += ['-chardev', 'file,id=vtdserial,append=on,path=' + path,
                    '-serial', 'chardev:vtdserial']
            i += 2
            continue
        out.append(args[i])
        i += 1
    return out, path


def wait_for_round(path, rnd, proc):
    marker = 'VTD-GUEST-ROUND: %d ' % rnd
    while proc.poll() is None:
        with open(path, errors='replace') as f:
            if marker in f.read():
                return True
        time.sleep(0.2)
    return False


def main():
    argv = sys.argv[1:]
    chain, at = ['ours'], []
    while argv and argv[0].startswith('--'):
        opt = argv.pop(0)
        if opt == '--chain':
            chain = argv.pop(0).split(',')
        elif opt == '--at':
            at = [int(x) for x in argv.pop(0).split(',')]
        elif opt == '--':
            break
        else:
            sys.exit('migrate-wrapper: unknown option ' + opt)
    if len(at) != len(chain) - 1:
        sys.exit('migrate-wrapper: --at needs one round per migration')
    binaries = [NAMED.get(b, b) for b in chain]
    args, console = serial_to_chardev(argv[1:])
    if not console:
        sys.exit('migrate-wrapper: the command has no -serial file:')

    tmp = tempfile.mkdtemp(prefix='vtd-migrate.')
    procs = []

    def stop_all(*_):
        for p in procs:
            if p.poll() is None:
                p.kill()
        sys.exit(143)
    signal.signal(signal.SIGTERM, stop_all)

    def start(k):
        qmp = os.path.join(tmp, 'qmp%d.sock' % k)
        extra = ['-qmp', 'unix:%s,server=on,wait=off' % qmp]
        if k:
            extra += ['-incoming', 'unix:' + os.path.join(tmp, 'mig%d' % k)]
        log('starting %s %s' % (chain[k], binaries[k]))
        p = subprocess.Popen([binaries[k]] + args + extra,
                             stdin=subprocess.DEVNULL)
        procs.append(p)
        return p, Qmp(qmp, time.time() + 30)

    cur, cur_qmp = start(0)
    for k in range(1, len(chain)):
        if not wait_for_round(console, at[k - 1], cur):
            log('the guest stopped before round %d' % at[k - 1])
            return cur.wait() or 1
        nxt, nxt_qmp = start(k)
        t0 = time.time()
        cur_qmp.cmd('migrate', uri='unix:' + os.path.join(tmp, 'mig%d' % k))
        while True:
            info = cur_qmp.cmd('query-migrate')
            status = info.get('status')
            if status in ('completed', 'failed', 'cancelled'):
                break
            time.sleep(0.1)
        if status != 'completed':
            log('migration %s -> %s %s: %s' % (chain[k - 1], chain[k], status,
                                              info.get('error-desc', '')))
            stop_all()
        # The destination runs once the stream is in.
        while nxt_qmp.cmd('query-status')['status'] != 'running':
            if nxt.poll() is not None:
                log('the destination exited with %d' % nxt.returncode)
                stop_all()
            time.sleep(0.1)
        log('migrated %s -> %s at round %d in %.1fs (%s MiB sent)' %
            (chain[k - 1], chain[k], at[k - 1], time.time() - t0,
             info.get('ram', {}).get('transferred', 0) >> 20))
        cur_qmp.cmd('quit')
        cur.wait()
        cur, cur_qmp = nxt, nxt_qmp
    return cur.wait()


if __name__ == '__main__':
    sys.exit(main())
