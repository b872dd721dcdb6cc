#!/usr/bin/python3
"""The host side of DPDK in the guest (tests/dpdk-guest.sh).  Used as
run-guest.sh --wrap dpdk: the arguments are the QEMU command line, whose
NIC for DPDK must use netdev=vtddp; this adds that netdev, a UDP socket
pair between QEMU and this script (one Ethernet frame per datagram).

When the console shows "VTD-DPDK: ready" (testpmd forwards on the NIC
in macswap mode), FRAMES frames with numbered random payloads are sent
to the NIC, paced, and each must come back once with its MAC addresses
swapped and its payload intact: the NIC's receive DMA wrote it into a
DPDK buffer at an IOVA VFIO mapped, its transmit DMA read it back out.
Writes "VTD-HOST-CHECK: PASS|FAIL ..." to the console after QEMU exits.
"""
import os
import socket
import subprocess
import sys
import threading
import time

FRAMES = 500
GUEST_MAC = bytes.fromhex('525400123456')
HOST_MAC = bytes.fromhex('020000000001')
ETHERTYPE = bytes.fromhex('88b5')       # IEEE local experimental


def log(msg):
    print('dpdk-wrapper: ' + msg, file=sys.stderr, flush=True)


def wait_console(console, marker, proc):
    while proc.poll() is None:
        try:
            with open(console, 'rb') as f:
                if marker in f.read():
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def traffic(sock, qemu_port, result):
    sent = {}
    echoed = set()
    bad = []
    sock.settimeout(0.01)

    def drain():
        while True:
            try:
                data = sock.recv(4096)
            except socket.timeout:
                return
            seq = int.from_bytes(data[14:18], 'big') if len(data) >= 18 else -1
            want = sent.get(seq)
            if want is None or data != want:
                bad.append('frame %d (%d bytes) is not what was sent' %
                           (seq, len(data)))
            elif seq in echoed:
                bad.append('frame %d came back twice' % seq)
            else:
                echoed.add(seq)

    for seq in range(FRAMES):
        payload = seq.to_bytes(4, 'big') + os.urandom(60 + seq % 1400)
        frame = GUEST_MAC + HOST_MAC + ETHERTYPE + payload
        # testpmd's macswap: destination and source exchanged.
        sent[seq] = HOST_MAC + GUEST_MAC + ETHERTYPE + payload
        sock.sendto(frame, ('127.0.0.1', qemu_port))
        drain()
    deadline = time.time() + 60
    while len(echoed) < FRAMES and time.time() < deadline and not bad:
        drain()
    result['sent'] = FRAMES
    result['echoed'] = len(echoed)
    result['bad'] = bad


def main():
    args = sys.argv[1:]
    console = None
    for i, a in enumerate(args):
        if a == '-serial' and args[i + 1].startswith('file:'):
            console = args[i + 1][5:]
    if not console:
        sys.exit('dpdk-wrapper: needs -serial file:')
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(('127.0.0.1', 0))
    host_port = sock.getsockname()[1]
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(('127.0.0.1', 0))
    qemu_port = probe.getsockname()[1]
    probe.close()
    args += ['-netdev', 'dgram,id=vtddp,local.type=inet,local.host=127.0.0.1,'
             'local.port=%d,remote.type=inet,remote.host=127.0.0.1,'
             'remote.port=%d' % (qemu_port, host_port)]
    proc = subprocess.Popen(args)
    result = {}
    if wait_console(console, b'VTD-DPDK: ready', proc):
        log('testpmd ready, sending %d frames' % FRAMES)
        t = threading.Thread(target=traffic, args=(sock, qemu_port, result))
        t.start()
        t.join()
        log('%d of %d frames echoed intact' %
            (result['echoed'], result['sent']))
    rc = proc.wait()
    if not result:
        verdict = 'FAIL the guest never reported testpmd ready'
    elif result['bad']:
        verdict = 'FAIL %s' % '; '.join(result['bad'][:3])
    elif result['echoed'] != result['sent']:
        verdict = 'FAIL %d of %d frames echoed' % (result['echoed'],
                                                   result['sent'])
    else:
        verdict = 'PASS %d frames through testpmd and back, intact' % \
            result['sent']
    with open(console, 'a') as f:
        f.write('VTD-HOST-CHECK: %s\n' % verdict)
    sys.exit(rc)


if __name__ == '__main__':
    main()
