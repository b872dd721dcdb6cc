#!/bin/bash
# Package a QEMU binary for use inside the test guest (nested device
# assignment): a gzip'd cpio that the kernel unpacks after the test
# initramfs (run-guest.sh --payload), holding
#   /opt/qemu/qemu-system-x86_64   the binary, stripped
#   /opt/qemu/share/               the SeaBIOS image q35 loads (and kvmvapic)
#   the shared libraries the binary needs, at their host paths
# The guest's userland is busybox; the binary runs on the host's glibc,
# which comes along.
#
# Usage: build-qemu-payload.sh QEMU-BINARY OUT.cpio.gz
# Rebuilds only when the binary is newer than OUT.
set -euo pipefail

qemu=$1
out=$2
[ -x "$qemu" ] || { echo "payload: no QEMU binary $qemu" >&2; exit 1; }
if [ -s "$out" ] && [ "$out" -nt "$qemu" ]; then
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/opt/qemu/share"
objcopy --strip-debug "$qemu" "$tmp/opt/qemu/qemu-system-x86_64"
cp /usr/share/seabios/bios-256k.bin "$tmp/opt/qemu/share/"
[ -f /usr/share/qemu/kvmvapic.bin ] && cp /usr/share/qemu/kvmvapic.bin "$tmp/opt/qemu/share/"
# Every library ldd names, and the dynamic loader, at the same path.
ldd "$qemu" | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }' |
while read -r lib; do
    mkdir -p "$tmp$(dirname "$lib")"
    cp -L "$lib" "$tmp$lib"
done
(cd "$tmp" && find . -mindepth 1 | cpio -o -H newc --quiet | gzip -1) > "$out.tmp"
mv "$out.tmp" "$out"
echo "payload: $(basename "$qemu") -> $out ($(( $(stat -c %s "$out") / 1024 )) KiB)" >&2
