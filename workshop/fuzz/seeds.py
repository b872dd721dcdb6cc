#!/usr/bin/python3
"""Seed inputs for the intel-iommu generic-fuzz configurations
(workshop/fuzz.sh).  Without them libFuzzer starts from empty inputs and
needs hours to grow one long enough to program the unit; these do what a
guest driver does first, and the fuzzer mutates from there.

generic-fuzz reads an input as commands separated by "FUZZ", each an
opcode byte and its operands (tests/qtest/fuzz/generic_fuzz.c): a write
is {size, region index, offset, value}, the region index counting the
configuration's fuzzable MMIO ranges.  Which index is the VT-d unit's
and which is edu's is found by asking the fuzzer itself: a probe input
reads offset 0 of every index, logged through qtest, giving each index's
address; the unit's is 0xfed90000.  A second probe reads offset 0xffffc
(generic-fuzz takes offsets modulo the range's size): edu's BAR is the
1 MiB range, so only there does it land 0xffffc past the start.

Usage: seeds.py FUZZER CONFIG OUTDIR
"""
import os
import re
import struct
import subprocess
import sys

OP_READ, OP_WRITE, OP_ADD_DMA_PATTERN, OP_CLOCK_STEP = 2, 3, 7, 9
BYTE, WORD, LONG, QUAD = range(4)
SEP = b'FUZZ'
VTD = 0xfed90000

# VT-d registers (10.4) and GCMD bits.
GCMD, RTADDR, CCMD, IQT, IQA, IRTA = 0x18, 0x20, 0x28, 0x88, 0x90, 0xb8
IOTLB = 0x108
TE, SRTP, QIE, IRE, SIRTP = 1 << 31, 1 << 30, 1 << 26, 1 << 25, 1 << 24


def write(base, offset, value, size=QUAD):
    return bytes([OP_WRITE]) + struct.pack('<BBxxIQ', size, base, offset,
                                           value)


def read(base, offset, size=LONG):
    return bytes([OP_READ]) + struct.pack('<BBxxI', size, base, offset)


def pattern(data, index=0, stride=0):
    return bytes([OP_ADD_DMA_PATTERN, index, stride]) + data


def clock():
    return bytes([OP_CLOCK_STEP])


def probe(fuzzer, config, offset, count=32):
    """Where reads of @offset in each region index land (a region too
    small for a 4-byte read there logs nothing)."""
    path = os.path.join(os.path.dirname(os.path.abspath(fuzzer)),
                        'vtd-fuzz-probe.bin')
    with open(path, 'wb') as f:
        f.write(SEP.join(read(i, offset) for i in range(count)))
    env = dict(os.environ, QTEST_LOG='1', FUZZ_SERIALIZE_QTEST='1',
               ASAN_OPTIONS='detect_leaks=0')
    out = subprocess.run([fuzzer, '--fuzz-target=generic-fuzz-' + config,
                          path], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True,
                         errors='replace').stdout
    os.unlink(path)
    return [int(a, 16) for a in
            re.findall(r'\[R \+[0-9.]+\] readl (0x[0-9a-f]+)', out)]


def seeds(vtd, edu):
    # Entries the unit reads come from DMA patterns: a 16-byte pattern
    # whose low quadword is present (bit 0 only: root entries reserve bits
    # 11:1) and points at 0x101000 and whose high quadword gives domain 1
    # and a 4-level (48-bit) table serves as root, context and page table
    # (read-only) at once.
    entry = pattern(struct.pack('<QQ', 0x101001, 0x102))
    edu_dma = [write(edu, 0x80, 0x1000), write(edu, 0x88, 0x40000),
               write(edu, 0x90, 64), write(edu, 0x98, 1), clock(), clock()]
    edu_back = [write(edu, 0x80, 0x40000), write(edu, 0x88, 0x2000),
                write(edu, 0x90, 64), write(edu, 0x98, 3), clock(), clock()]
    translate = [entry, write(vtd, RTADDR, 0x100000),
                 write(vtd, GCMD, SRTP, LONG),
                 write(vtd, GCMD, TE, LONG)] + edu_dma + edu_back
    # Register invalidations: global context, global IOTLB, then a DMA.
    reg_inval = translate + [write(vtd, CCMD, 0xa000000000000000),
                             write(vtd, IOTLB, 0x9000000000000000)] + edu_dma
    # Queued invalidation: a queue at 0x200000, one descriptor (a wait
    # with a status write, from the pattern), the tail moved past it.
    queue = translate + [
        pattern(struct.pack('<QQ', 0x25 | (1 << 32), 0x300000)),
        write(vtd, IQA, 0x200000), write(vtd, GCMD, TE | QIE, LONG),
        write(vtd, IQT, 0x10), write(vtd, IQT, 0x40)] + edu_dma
    # Interrupt remapping: a table at 0x400000 (256 entries), remapping
    # on; an IRTE-shaped pattern (present, vector 0x40) for its reads.
    irq = [pattern(struct.pack('<QQ', 0x400001, 0)),
           write(vtd, IRTA, 0x400007), write(vtd, GCMD, SIRTP, LONG),
           write(vtd, GCMD, IRE, LONG), write(edu, 0x60, 1), clock()]
    return {'translate': translate, 'register-inval': reg_inval,
            'queue': queue, 'interrupts': irq,
            'all': translate + queue[len(translate):] + irq}


def main():
    fuzzer, config, outdir = sys.argv[1:4]
    regions = probe(fuzzer, config, 0)
    ends = probe(fuzzer, config, 0xffffc)
    vtd = [i for i, a in enumerate(regions) if a == VTD]
    edu = [i for i, a in enumerate(regions)
           if a + 0xffffc in ends and a & 0xfffff == 0]
    if not vtd or not edu:
        sys.exit('seeds: no VT-d unit (%s) or edu (%s) among %d regions' %
                 (vtd, edu, len(regions)))
    os.makedirs(outdir, exist_ok=True)
    for name, cmds in seeds(vtd[0], edu[0]).items():
        with open(os.path.join(outdir, 'seed-' + name), 'wb') as f:
            f.write(SEP.join(cmds))
    print('seeds: %s: VT-d unit is region %d, edu region %d; %d seeds' %
          (config, vtd[0], edu[0], len(seeds(0, 0))))


if __name__ == '__main__':
    main()
