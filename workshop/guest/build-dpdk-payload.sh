#!/bin/bash
# Package Debian's DPDK testpmd for use inside the test guest (DPDK in the
# guest on a vfio-pci NIC): a gzip'd cpio that the kernel unpacks after the
# test initramfs (run-guest.sh --payload testpmd), holding
#   /usr/bin/dpdk-testpmd
#   the PMDs a q35 guest needs (PCI bus, virtio and e1000 NICs, ring
#   mempool) in DPDK's plugin directory, which its EAL loads at start
#   the shared libraries all of these need, at their host paths
# Usage: build-dpdk-payload.sh OUT.cpio.gz
set -euo pipefail

out=$1
testpmd=/usr/bin/dpdk-testpmd
if [ ! -x "$testpmd" ]; then
    echo "dpdk-payload: installing Debian's dpdk-dev (testpmd)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q dpdk-dev >&2 ||
        { echo "dpdk-payload: cannot install dpdk-dev" >&2; exit 1; }
fi
pmddir=$(ls -d /usr/lib/x86_64-linux-gnu/dpdk/pmds-* | tail -n1)
pmds="bus_pci net_virtio net_e1000 mempool_ring"
if [ -s "$out" ] && [ "$out" -nt "$testpmd" ]; then
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Copy PATH into the payload as it is on the host: every symlink on the
# way to the file stays a symlink.  The plugin directory's PMDs are
# symlinks to the libraries testpmd also links (bus_pci): two copies
# would be loaded twice, and DPDK refuses that.
copy() {  # PATH
    local f=$1 t
    while :; do
        mkdir -p "$tmp$(dirname "$f")"
        [ -e "$tmp$f" ] || [ -L "$tmp$f" ] || cp -P "$f" "$tmp$f"
        [ -L "$f" ] || break
        t=$(readlink "$f")
        case $t in /*) f=$t ;; *) f=$(dirname "$f")/$t ;; esac
    done
}
files=("$testpmd")
for p in $pmds; do
    files+=("$pmddir/librte_$p.so")
done
# Every library ldd names for any of them, and the dynamic loader.
for f in "${files[@]}"; do
    echo "$f"
    ldd "$f" | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }'
done | sort -u | while read -r f; do
    copy "$f"
done
(cd "$tmp" && find . -mindepth 1 | cpio -o -H newc --quiet | gzip -1) > "$out.tmp"
mv "$out.tmp" "$out"
echo "dpdk-payload: testpmd and $pmds -> $out ($(( $(stat -c %s "$out") / 1024 )) KiB)" >&2
