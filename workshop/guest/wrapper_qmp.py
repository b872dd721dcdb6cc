"""A QMP client for the guest runner's wrappers (migrate-wrapper.py,
hotplug-wrapper.py): the few commands they need, over a UNIX socket, with
no dependency beyond Python's standard library."""
import json
import socket
import time


class Qmp:
    def __init__(self, path, deadline):
        """Connect to the QMP socket at @path, retrying until @deadline
        (time.time()) while QEMU starts, and leave capabilities mode."""
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.file = self.sock.makefile('rw')
        self.read()                         # greeting
        self.cmd('qmp_capabilities')

    def read(self):
        line = self.file.readline()
        if not line:
            raise EOFError('QMP connection closed')
        return json.loads(line)

    def cmd(self, name, **args):
        """Run command @name; its return value, or RuntimeError."""
        self.file.write(json.dumps({'execute': name, 'arguments': args}))
        self.file.flush()
        while True:
            msg = self.read()
            if 'return' in msg:
                return msg['return']
            if 'error' in msg:
                raise RuntimeError('%s: %s' % (name, msg['error']['desc']))
