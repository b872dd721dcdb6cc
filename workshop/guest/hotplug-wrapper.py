#!/usr/bin/python3
"""Hot-unplug and hot-plug a disk behind the IOMMU while the guest works,
for tests/hotplug.sh.  Used as run-guest.sh --wrap hotplug: the arguments
are the QEMU command line, whose second virtio-blk disk must sit behind
the root port vtdhp with id=vtdhpdisk.

When the console shows "VTD-HOTPLUG: unplug" (the guest has DMA running
on that disk), the disk is removed with device_del; on "VTD-HOTPLUG:
plug" a new virtio-blk with the same image (iommu_platform=on) goes back
into the same port.  Progress goes to stderr.
"""
import os
import subprocess
import sys
import tempfile
import time

from wrapper_qmp import Qmp


def log(msg):
    print('hotplug-wrapper: ' + msg, file=sys.stderr, flush=True)


def main():
    args = sys.argv[1:]
    console = image = None
    for i, a in enumerate(args):
        if a == '-serial' and args[i + 1].startswith('file:'):
            console = args[i + 1][5:]
        if a == '-device' and 'id=vtdhpdisk' in args[i + 1]:
            drive = [o for o in args[i + 1].split(',')
                     if o.startswith('drive=')][0][6:]
            for j, b in enumerate(args):
                if b == '-drive' and ('id=%s,' % drive) in args[j + 1] + ',':
                    image = [o for o in args[j + 1].split(',')
                             if o.startswith('file=')][0][5:]
    if not console or not image:
        sys.exit('hotplug-wrapper: needs -serial file: and a disk '
                 'with id=vtdhpdisk')
    tmp = tempfile.mkdtemp(prefix='vtd-hotplug.')
    qmp_path = os.path.join(tmp, 'qmp.sock')
    proc = subprocess.Popen(args + ['-qmp', 'unix:%s,server=on,wait=off'
                                    % qmp_path], stdin=subprocess.DEVNULL)
    qmp = Qmp(qmp_path, time.time() + 30)
    done = set()
    while proc.poll() is None:
        with open(console, errors='replace') as f:
            text = f.read()
        if 'VTD-HOTPLUG: unplug' in text and 'unplug' not in done:
            done.add('unplug')
            qmp.cmd('device_del', id='vtdhpdisk')
            log('device_del vtdhpdisk')
        if 'VTD-HOTPLUG: plug' in text and 'plug' not in done:
            done.add('plug')
            qmp.cmd('blockdev-add', driver='raw', **{'node-name': 'vtdhp2'},
                    file={'driver': 'file', 'filename': image})
            qmp.cmd('device_add', driver='virtio-blk-pci', id='vtdhpdisk2',
                    bus='vtdhp', drive='vtdhp2', iommu_platform=True,
                    **{'disable-legacy': 'on'})
            log('device_add vtdhpdisk2 with ' + image)
        time.sleep(0.2)
    return proc.returncode


if __name__ == '__main__':
    sys.exit(main())
