#!/usr/bin/python3
"""Run QEMU under the qtest accelerator, send qtest commands read from
stdin, print each reply's value (or ERROR: <message> if QEMU refused to
start), then stop QEMU.  Used to observe a device from outside, as a guest
would, without a test harness.

Usage: qtest-probe.py QEMU [QEMU ARGS...] < commands
"""
import subprocess
import sys


def main():
    cmds = [line.strip() for line in sys.stdin if line.strip()]
    proc = subprocess.Popen(sys.argv[1:] + ['-qtest', 'stdio'],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out = []
    try:
        for cmd in cmds:
            proc.stdin.write(cmd + '\n')
            proc.stdin.flush()
            while True:
                line = proc.stdout.readline()
                if not line:
                    err = proc.stderr.read().strip().splitlines()
                    err = [e for e in err if 'warning' not in e]
                    print('ERROR: ' + (err[-1] if err else 'no answer'))
                    return 1
                if line.startswith('OK') or line.startswith('FAIL') \
                        or line.startswith('ERR'):
                    out.append(line.split()[1] if ' ' in line.strip()
                               else line.strip())
                    break
    except BrokenPipeError:
        err = proc.stderr.read().strip().splitlines()
        print('ERROR: ' + (err[-1] if err else 'no answer'))
        return 1
    finally:
        proc.kill()
        proc.wait()
    print(' '.join(out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
