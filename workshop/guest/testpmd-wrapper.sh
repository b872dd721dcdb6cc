#!/bin/bash
# Run the guest's QEMU with a vhost-user virtio-net whose backend is DPDK's
# testpmd (Debian's dpdk-dev), for the device-IOTLB use case: the NIC has
# iommu_platform=on,ats=on behind a root port, testpmd's vhost PMD has
# iommu-support=1, so every buffer address testpmd touches is an IOVA it
# must translate through QEMU (IOTLB miss -> update), and the guest's
# device-TLB invalidations reach it (invalidate).  testpmd swaps MAC
# addresses and sends each packet back (--forward-mode=macswap).
#
# Used as run-guest.sh's VTD_GUEST_QEMU_WRAPPER (run-guest.sh --wrap
# testpmd): the command after the wrapper is the QEMU command line.  After
# QEMU exits, the wrapper checks QEMU's trace for IOTLB misses answered and
# device-IOTLB invalidations sent, and writes "VTD-HOST-CHECK: PASS|FAIL"
# to the console log, which run-guest.sh takes into the verdict.
set -uo pipefail

console=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    [ "${args[i]}" = -serial ] && console=${args[i + 1]#file:}
done
[ -n "$console" ] || { echo "testpmd-wrapper: no -serial file:" >&2; exit 2; }
if ! command -v dpdk-testpmd >/dev/null; then
    echo "testpmd-wrapper: installing Debian's dpdk-dev (testpmd)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        dpdk-dev librte-net-vhost23 librte-mempool-ring23 >&2 ||
        { echo "testpmd-wrapper: cannot install dpdk-dev" >&2; exit 2; }
fi

tmp=$(mktemp -d)
sock=$tmp/vhost-user.sock
trap 'kill "$tpid" 2>/dev/null; wait "$tpid" 2>/dev/null; rm -rf "$tmp"' EXIT

# Guest RAM must be shared with testpmd: a memfd backend for all of it.
mem=1G
for ((i = 0; i < ${#args[@]}; i++)); do
    [ "${args[i]}" = -m ] && mem=${args[i + 1]}
done

# testpmd reconnects (client=1) until QEMU's socket is up, and runs
# until SIGINT (with --stats-period it does not wait for a key).
dpdk-testpmd --no-huge -m 128 --no-pci --file-prefix "vtd$$" \
    --vdev "net_vhost0,iface=$sock,client=1,iommu-support=1,queues=1" \
    -- --forward-mode=macswap --auto-start --nb-cores=1 --txq=1 --rxq=1 \
    --total-num-mbufs=8192 --stats-period=5 < /dev/null > "$tmp/testpmd.log" 2>&1 &
tpid=$!

"${args[@]}" \
    -object "memory-backend-memfd,id=vtdmem,size=$mem,share=on" \
    -machine memory-backend=vtdmem \
    -chardev "socket,id=vtdvu,path=$sock,server=on,wait=off" \
    -netdev vhost-user,id=vtdvu0,chardev=vtdvu \
    -device pcie-root-port,id=vtdrpvu,chassis=90 \
    -device virtio-net-pci,netdev=vtdvu0,bus=vtdrpvu,disable-legacy=on,iommu_platform=on,ats=on,romfile= \
    -D "$tmp/trace.log" -trace vhost_iotlb_miss -trace vtd_notify
rc=$?

kill -INT "$tpid" 2>/dev/null
wait "$tpid" 2>/dev/null
misses=$(grep -c 'vhost_iotlb_miss .* step 2' "$tmp/trace.log")
devtlb=$(grep -c 'vtd_notify .* event 4 ' "$tmp/trace.log")
{
    echo "testpmd-wrapper: $misses IOTLB misses answered, $devtlb device-IOTLB invalidations sent"
    grep -E 'RX-packets|TX-packets|VHOST_CONFIG.*(IOTLB|iotlb|IOMMU)' "$tmp/testpmd.log" | sort | uniq -c | head -n 20
} >&2
if [ "$misses" -gt 0 ] && [ "$devtlb" -gt 0 ]; then
    echo "VTD-HOST-CHECK: PASS $misses IOTLB misses, $devtlb device-IOTLB invalidations" >> "$console"
else
    echo "VTD-HOST-CHECK: FAIL $misses IOTLB misses, $devtlb device-IOTLB invalidations (both must happen)" >> "$console"
fi
exit $rc
