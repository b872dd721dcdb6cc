#!/usr/bin/env python3
"""Run the guest's QEMU with a vhost-user virtio-net whose back-end is this
script: a minimal vhost-user net back-end with a device IOTLB, written for
the tests (run-guest.sh --wrap vhost-echo).

The back-end answers the guest's ICMP echo requests (addresses swapped, type
0) and drops everything else.  It negotiates VIRTIO_F_IOMMU_PLATFORM, so every
ring and buffer address it touches is an IOVA: it translates them only through
its own IOTLB, filled by QEMU's IOTLB updates in answer to the misses it sends
on the back-end channel, and emptied by QEMU's invalidations (the guest's
IOTLB or device-TLB invalidations, through intel-iommu's notifiers).  A
descriptor chain waits while one of its addresses misses; nothing is dropped.

It checks what a back-end can see of the IOMMU:
  - every miss is answered by an update covering the address, with the
    permission asked for, within 5 seconds;
  - updates and invalidations come with the sizes the protocol allows
    (non-zero, not wrapping), updates within guest memory;
  - invalidations arrive (strict mode unmaps every buffer).
After QEMU exits it writes "VTD-HOST-CHECK: PASS|FAIL ..." to the console
log (-serial file:), which run-guest.sh takes into the verdict; the
environment variable VTD_VHOST_ECHO_MIN sets how many echo replies must have
been sent (default 100).

Usage: vhost-echo-wrapper.py QEMU-COMMAND...

SPDX-License-Identifier: GPL-2.0-or-later
"""

import array
import mmap
import os
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time

# Message ids (docs/interop/vhost-user.rst).
GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE = 1, 2, 3, 4, 5
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR = 12, 13, 14
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES = 15, 16
SET_VRING_ENABLE, SET_BACKEND_REQ_FD, IOTLB_MSG = 18, 21, 22
BACKEND_IOTLB_MSG = 1

FLAG_VERSION, FLAG_REPLY, FLAG_NEED_REPLY = 0x1, 0x4, 0x8
IOTLB_MISS, IOTLB_UPDATE, IOTLB_INVALIDATE = 1, 2, 3
PERM_RO, PERM_WO = 1, 2

F_PROTOCOL_FEATURES = 1 << 30
F_VERSION_1 = 1 << 32
F_IOMMU_PLATFORM = 1 << 33
FEATURES = F_PROTOCOL_FEATURES | F_VERSION_1 | F_IOMMU_PLATFORM
PROTO_REPLY_ACK, PROTO_BACKEND_REQ = 1 << 3, 1 << 5
PROTOCOL_FEATURES = PROTO_REPLY_ACK | PROTO_BACKEND_REQ

DESC_F_NEXT, DESC_F_WRITE, DESC_F_INDIRECT = 1, 2, 4
NET_HDR_LEN = 12          # struct virtio_net_hdr_mrg_rxbuf (VERSION_1)
RX_QUEUE, TX_QUEUE = 0, 1
MISS_DEADLINE = 5.0


class Miss(Exception):
    """An address the IOTLB does not cover: a miss was sent, retry later."""


class VhostEchoBackend:
    def __init__(self, conn):
        self.conn = conn
        self.backend_channel = None
        self.regions = []       # (user_addr, size, mmap, mmap_offset)
        self.iotlb = []         # (iova, size, user_addr, perm)
        self.pending = {}       # (page, perm) -> time the miss was sent
        self.queues = {}
        self.replies = []       # frames waiting for a receive buffer
        self.stats = dict(misses=0, updates=0, invalidations=0,
                          invalidated_bytes=0, tx_frames=0, echoed=0,
                          dropped=0)
        self.errors = []

    # ---- protocol -------------------------------------------------------
    def error(self, msg):
        if len(self.errors) < 20:
            self.errors.append(msg)
        print("vhost-echo: error: " + msg, file=sys.stderr, flush=True)

    def recv_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def recv_message(self):
        fds = array.array("i")
        header, anc, _flags, _addr = self.conn.recvmsg(
            12, socket.CMSG_SPACE(8 * fds.itemsize))
        if not header:
            raise EOFError
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
        if len(header) < 12:
            header += self.recv_exact(12 - len(header))
        request, flags, size = struct.unpack("<III", header)
        payload = self.recv_exact(size) if size else b""
        return request, flags, payload, list(fds)

    def reply(self, request, payload):
        self.conn.sendall(struct.pack("<III", request,
                                      FLAG_VERSION | FLAG_REPLY,
                                      len(payload)) + payload)

    def handle(self, request, flags, payload, fds):
        replied = False
        if request == GET_FEATURES:
            self.reply(request, struct.pack("<Q", FEATURES))
            replied = True
        elif request == GET_PROTOCOL_FEATURES:
            self.reply(request, struct.pack("<Q", PROTOCOL_FEATURES))
            replied = True
        elif request == SET_FEATURES:
            features, = struct.unpack_from("<Q", payload)
            if not features & F_IOMMU_PLATFORM:
                self.error("the driver did not accept IOMMU_PLATFORM")
        elif request == SET_MEM_TABLE:
            self.set_mem_table(payload, fds)
        elif request in (SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ENABLE):
            index, num = struct.unpack_from("<II", payload)
            q = self.queue(index)
            if request == SET_VRING_NUM:
                q["num"] = num
            elif request == SET_VRING_BASE:
                q["last_avail"] = q["used_idx"] = num
            else:
                q["enabled"] = bool(num)
        elif request == SET_VRING_ADDR:
            index, _f, desc, used, avail, _log = struct.unpack_from(
                "<IIQQQQ", payload)
            self.queue(index).update(desc=desc, used=used, avail=avail)
        elif request == GET_VRING_BASE:
            index, _num = struct.unpack_from("<II", payload)
            q = self.queues.pop(index, None) or self.queue(index)
            self.reply(request, struct.pack("<II", index, q["last_avail"]))
            replied = True
        elif request in (SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR):
            arg, = struct.unpack_from("<Q", payload)
            fd = fds.pop(0) if not arg & 0x100 and fds else None
            key = {SET_VRING_KICK: "kick", SET_VRING_CALL: "call",
                   SET_VRING_ERR: "err"}[request]
            q = self.queue(arg & 0xff)
            if q.get(key) is not None:
                os.close(q[key])
            q[key] = fd
        elif request == SET_BACKEND_REQ_FD:
            self.backend_channel = socket.socket(fileno=fds.pop(0))
        elif request == IOTLB_MSG:
            self.iotlb_message(payload)
        for fd in fds:
            os.close(fd)
        if flags & FLAG_NEED_REPLY and not replied:
            self.reply(request, struct.pack("<Q", 0))

    def set_mem_table(self, payload, fds):
        for _ua, _size, mm, _off in self.regions:
            mm.close()
        self.regions = []
        nregions, = struct.unpack_from("<I", payload)
        for i in range(nregions):
            _ga, size, user_addr, offset = struct.unpack_from(
                "<QQQQ", payload, 8 + 32 * i)
            mm = mmap.mmap(fds[i], size + offset, mmap.MAP_SHARED,
                           mmap.PROT_READ | mmap.PROT_WRITE)
            self.regions.append((user_addr, size, mm, offset))
        for fd in fds[:nregions]:
            os.close(fd)
        del fds[:nregions]
        self.iotlb = []

    def queue(self, index):
        return self.queues.setdefault(index, dict(
            num=0, desc=0, used=0, avail=0, last_avail=0, used_idx=0,
            enabled=False, kick=None, call=None, err=None))

    # ---- IOTLB ---------------------------------------------------------
    def iotlb_message(self, payload):
        iova, size, uaddr, perm, kind = struct.unpack_from("<QQQBB", payload)
        if kind == IOTLB_UPDATE:
            self.stats["updates"] += 1
            if not size or iova + size > 1 << 64 or not perm:
                self.error("update iova 0x%x size 0x%x perm %d" %
                           (iova, size, perm))
                return
            if not self.host_range(uaddr, 1) or \
               not self.host_range(uaddr + size - 1, 1):
                self.error("update iova 0x%x size 0x%x: user address 0x%x "
                           "outside guest memory" % (iova, size, uaddr))
                return
            self.iotlb = [e for e in self.iotlb
                          if e[0] + e[1] <= iova or e[0] >= iova + size]
            self.iotlb.append((iova, size, uaddr, perm))
            for key in [k for k in self.pending
                        if iova <= k[0] < iova + size and
                        (perm & k[1]) == k[1]]:
                del self.pending[key]
        elif kind == IOTLB_INVALIDATE:
            self.stats["invalidations"] += 1
            self.stats["invalidated_bytes"] += size
            if not size or iova + size > 1 << 64:
                self.error("invalidation iova 0x%x size 0x%x" % (iova, size))
            self.iotlb = [e for e in self.iotlb
                          if e[0] + e[1] <= iova or e[0] >= iova + size]
        else:
            self.error("IOTLB message of type %d from QEMU" % kind)

    def send_miss(self, iova, perm):
        key = (iova & ~0xfff, perm)
        if key in self.pending:
            return
        if self.backend_channel is None:
            self.error("a miss but no back-end channel")
            return
        self.pending[key] = time.monotonic()
        self.stats["misses"] += 1
        msg = struct.pack("<QQQBB6x", iova, 0, 0, perm, IOTLB_MISS)
        self.backend_channel.sendall(
            struct.pack("<III", BACKEND_IOTLB_MSG, FLAG_VERSION, len(msg)) +
            msg)

    def host_range(self, uaddr, length):
        for user_addr, size, mm, offset in self.regions:
            if user_addr <= uaddr and uaddr + length <= user_addr + size:
                return mm, offset + uaddr - user_addr
        return None

    def chunks(self, iova, length, perm):
        """(mmap, offset, length) pieces of [iova, iova + length)."""
        out = []
        while length:
            for e_iova, e_size, e_uaddr, e_perm in self.iotlb:
                if e_iova <= iova < e_iova + e_size and \
                   (e_perm & perm) == perm:
                    n = min(length, e_iova + e_size - iova)
                    host = self.host_range(e_uaddr + iova - e_iova, n)
                    if host is None:
                        self.error("IOTLB entry 0x%x maps outside memory" %
                                   e_iova)
                        raise Miss()
                    out.append((host[0], host[1], n))
                    iova += n
                    length -= n
                    break
            else:
                self.send_miss(iova, perm)
                raise Miss()
        return out

    def read(self, iova, length):
        return b"".join(mm[off:off + n]
                        for mm, off, n in self.chunks(iova, length, PERM_RO))

    def write(self, iova, data):
        pieces = self.chunks(iova, len(data), PERM_WO)
        pos = 0
        for mm, off, n in pieces:
            mm[off:off + n] = data[pos:pos + n]
            pos += n

    # ---- rings (split virtqueues) --------------------------------------
    def ready(self, q):
        return q and q["enabled"] and q["kick"] is not None and q["num"]

    def next_chain(self, q, want_write):
        """The next available chain as [(addr, len)], without taking it."""
        avail_idx, = struct.unpack("<H", self.read(q["avail"] + 2, 2))
        if avail_idx == q["last_avail"]:
            return None, None
        slot = q["avail"] + 4 + 2 * (q["last_avail"] % q["num"])
        head, = struct.unpack("<H", self.read(slot, 2))
        chain, index = [], head
        for _ in range(q["num"]):
            addr, length, flags, nxt = struct.unpack(
                "<QIHH", self.read(q["desc"] + 16 * index, 16))
            if flags & DESC_F_INDIRECT or bool(flags & DESC_F_WRITE) != \
               want_write:
                self.error("unexpected descriptor flags 0x%x" % flags)
                return head, []
            chain.append((addr, length))
            if not flags & DESC_F_NEXT:
                return head, chain
            index = nxt
        self.error("descriptor loop")
        return head, []

    def push_used(self, q, head, length):
        elem = q["used"] + 4 + 8 * (q["used_idx"] % q["num"])
        self.write(elem, struct.pack("<II", head, length))
        self.write(q["used"] + 2, struct.pack("<H", (q["used_idx"] + 1)
                                              & 0xffff))
        q["used_idx"] = (q["used_idx"] + 1) & 0xffff
        q["last_avail"] = (q["last_avail"] + 1) & 0xffff
        if q["call"] is not None:
            os.write(q["call"], struct.pack("<Q", 1))

    def transmit(self):
        q = self.queues.get(TX_QUEUE)
        while self.ready(q):
            head, chain = self.next_chain(q, False)
            if head is None:
                return
            frame = b"".join(self.read(a, n) for a, n in chain)
            # All read: the used ring may miss too, then all is redone.
            self.push_used(q, head, 0)
            self.stats["tx_frames"] += 1
            reply = echo_reply(frame[NET_HDR_LEN:])
            if reply is not None and len(self.replies) < 256:
                self.replies.append(reply)

    def receive(self):
        q = self.queues.get(RX_QUEUE)
        while self.replies and self.ready(q):
            head, chain = self.next_chain(q, True)
            if head is None:
                return
            data = bytes(NET_HDR_LEN - 2) + struct.pack("<H", 1) + \
                self.replies[0]
            if sum(n for _a, n in chain) < len(data):
                self.error("receive buffer of %d bytes for a %d-byte frame" %
                           (sum(n for _a, n in chain), len(data)))
                self.stats["dropped"] += 1
                self.replies.pop(0)
                continue
            pos = 0
            for addr, n in chain:
                if pos < len(data):
                    self.write(addr, data[pos:pos + n])
                    pos += n
            self.push_used(q, head, len(data))
            self.replies.pop(0)
            self.stats["echoed"] += 1

    def run_rings(self):
        for step in (self.transmit, self.receive):
            try:
                step()
            except Miss:
                pass

    # ---- main loop -----------------------------------------------------
    def run(self):
        while True:
            fds = [self.conn.fileno()]
            kicks = {q["kick"]: i for i, q in self.queues.items()
                     if q["kick"] is not None}
            fds += list(kicks)
            readable, _w, _x = select.select(fds, [], [], 0.2)
            for fd in readable:
                if fd == self.conn.fileno():
                    try:
                        self.handle(*self.recv_message())
                    except (EOFError, ConnectionResetError):
                        return
                else:
                    try:
                        os.read(fd, 8)
                    except BlockingIOError:
                        pass
            self.run_rings()
            now = time.monotonic()
            for key, sent in list(self.pending.items()):
                if now - sent > MISS_DEADLINE:
                    self.error("miss at 0x%x perm %d not answered in %.0f s" %
                               (key[0], key[1], MISS_DEADLINE))
                    del self.pending[key]


def checksum_add(a, b):
    s = a + b
    return (s & 0xffff) + (s >> 16)


def echo_reply(frame):
    """The ICMP echo reply to an IPv4 echo request frame, or None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return None
    ihl = (frame[14] & 0xf) * 4
    frag = struct.unpack_from(">H", frame, 20)[0]
    out = bytearray(frame)
    out[0:6], out[6:12] = frame[6:12], frame[0:6]
    out[26:30], out[30:34] = frame[30:34], frame[26:30]
    if frame[23] != 1:
        return None
    if frag & 0x1fff == 0:
        icmp = 14 + ihl
        if len(frame) < icmp + 4 or frame[icmp] != 8:
            return None
        out[icmp] = 0
        # RFC 1624: HC' = ~(~HC + ~m + m'), m = 0x0800, m' = 0.
        csum = struct.unpack_from(">H", frame, icmp + 2)[0]
        csum = checksum_add(checksum_add(~csum & 0xffff, ~0x0800 & 0xffff), 0)
        struct.pack_into(">H", out, icmp + 2, ~csum & 0xffff)
    return bytes(out)


def main():
    args = sys.argv[1:]
    console = None
    mem = "1G"
    for i, a in enumerate(args[:-1]):
        if a == "-serial" and args[i + 1].startswith("file:"):
            console = args[i + 1][5:]
        if a == "-m":
            mem = args[i + 1]
    if console is None:
        sys.exit("vhost-echo-wrapper: no -serial file:")
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "vhost-user.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    qemu = subprocess.Popen(args + [
        "-object", "memory-backend-memfd,id=vtdmem,size=%s,share=on" % mem,
        "-machine", "memory-backend=vtdmem",
        "-chardev", "socket,id=vtdvu,path=" + path,
        "-netdev", "vhost-user,id=vtdvu0,chardev=vtdvu",
        "-device", "pcie-root-port,id=vtdrpvu,chassis=90",
        "-device", "virtio-net-pci,netdev=vtdvu0,bus=vtdrpvu,"
        "disable-legacy=on,iommu_platform=on,ats=%s,romfile=" %
        os.environ.get("VTD_VHOST_ATS", "on")])
    listener.settimeout(30)
    backend = None
    try:
        conn, _ = listener.accept()
        backend = VhostEchoBackend(conn)
        backend.run()
    except socket.timeout:
        pass
    rc = qemu.wait()
    os.unlink(path)
    os.rmdir(tmp)

    minimum = int(os.environ.get("VTD_VHOST_ECHO_MIN", "100"))
    problems = []
    if backend is None:
        problems.append("QEMU never connected")
        stats = {}
    else:
        stats = backend.stats
        problems += backend.errors
        for key in ("misses", "updates", "invalidations"):
            if not stats[key]:
                problems.append("no IOTLB %s" % key)
        if stats["echoed"] < minimum:
            problems.append("%d echo replies, fewer than %d" %
                            (stats["echoed"], minimum))
    summary = " ".join("%s=%d" % kv for kv in stats.items())
    print("vhost-echo-wrapper: %s" % summary, file=sys.stderr)
    with open(console, "a") as f:
        if problems:
            f.write("VTD-HOST-CHECK: FAIL %s: %s\n" %
                    ("; ".join(problems[:5]), summary))
        else:
            f.write("VTD-HOST-CHECK: PASS %s\n" % summary)
    sys.exit(rc)


if __name__ == "__main__":
    main()
