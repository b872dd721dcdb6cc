#!/usr/bin/env python3
"""What a hung test guest is doing, for run-guest.sh to print before its
timeout kills QEMU: every vCPU's registers, each local APIC, the PIC/IOAPIC
state and intel-iommu's own summary, through QEMU's human monitor on a
UNIX socket.  The instruction pointers are sampled three times, half a
second apart, so that a spinning CPU shows apart from a stuck one; name
them with the System.map of Debian's linux-image-*-dbg package (the guest
boots vmlinux through PVH, without KASLR).

Usage: hang-dump.py MONITOR-SOCKET
"""

import re
import socket
import sys
import time


def monitor(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(path)
    buf = b""

    def until_prompt():
        nonlocal buf
        while b"(qemu) " not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
        out, _, buf = buf.partition(b"(qemu) ")
        return out.decode(errors="replace")

    until_prompt()

    def command(cmd):
        sock.sendall(cmd.encode() + b"\n")
        out = until_prompt()
        # The echo of the command comes first, with terminal escapes.
        lines = out.replace("\r", "").split("\n")[1:]
        return "\n".join(lines).strip("\n")
    return command


def main():
    path = sys.argv[1]
    try:
        command = monitor(path)
    except OSError as e:
        print("hang-dump: no monitor at %s: %s" % (path, e))
        return
    regs = command("info registers -a")
    ncpus = len(re.findall(r"^CPU#\d+", regs, re.M)) or 1
    for _ in range(3):
        # A CPU that moves between samples is running, not stuck.
        for rip in re.findall(r"RIP=([0-9a-f]{16})", regs):
            print("RIP " + rip)
        time.sleep(0.5)
        regs2 = command("info registers -a")
        if regs2 == regs:
            break
        regs = regs2
    print(regs)
    for cpu in range(ncpus):
        command("cpu %d" % cpu)
        print("-- local APIC of CPU %d --" % cpu)
        print(command("info lapic"))
    for cmd in ("info pic", "info intel-iommu"):
        print("-- %s --" % cmd)
        print(command(cmd))


if __name__ == "__main__":
    main()
