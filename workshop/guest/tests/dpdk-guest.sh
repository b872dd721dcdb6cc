#!/bin/sh
# dpdk-guest: DPDK in the guest.  The NIC at vtddpdkbdf (default
# 0000:00:05.0, its netdev from dpdk-wrapper.py) is bound to vfio-pci and
# Debian's dpdk-testpmd (run-guest.sh --payload testpmd) drives it from
# user space in macswap mode: each frame the host sends is received by the
# NIC's DMA into an mbuf at an IOVA that DPDK mapped through VFIO (VT-d
# page tables written by the guest kernel), and sent back from there.
#
# The guest prints "VTD-DPDK: ready" once testpmd forwards, then waits
# until testpmd has received and sent vtddpdkframes frames (default 500,
# as the wrapper sends); the wrapper checks that every frame came back
# intact.  FAILS if the NIC is not in an iommu group, testpmd does not
# start or does not forward every frame, or the kernel logs a DMAR fault.
# shellcheck source=../rootfs/usr/lib/vtd/common.sh
. /usr/lib/vtd/common.sh

bdf=$(vtd_arg vtddpdkbdf)
[ -n "$bdf" ] || bdf=0000:00:05.0
frames=$(vtd_arg vtddpdkframes)
[ -n "$frames" ] || frames=500
command -v dpdk-testpmd > /dev/null || fail "no testpmd (run-guest.sh --payload testpmd)"

section "NIC to vfio-pci"
[ -e "/sys/bus/pci/devices/$bdf" ] || fail "no NIC at $bdf"
echo "$bdf: $(cat /sys/bus/pci/devices/$bdf/vendor):$(cat /sys/bus/pci/devices/$bdf/device), iommu group $(group_of "$bdf")"
[ "$(group_of "$bdf")" != - ] || fail "$bdf is not in an iommu group"
if [ -e "/sys/bus/pci/devices/$bdf/driver" ]; then
    echo "$bdf" > "/sys/bus/pci/devices/$bdf/driver/unbind"
fi
echo vfio-pci > "/sys/bus/pci/devices/$bdf/driver_override"
echo "$bdf" > /sys/bus/pci/drivers_probe
drv=$(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")")
[ "$drv" = vfio-pci ] || fail "$bdf is bound to ${drv:-nothing}, not vfio-pci"
echo 64 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
mkdir -p /dev/hugepages /var/run
# DPDK refuses to load its PMDs below a world-writable directory, and the
# initramfs root is one.
chmod 755 /
mount -t hugetlbfs none /dev/hugepages || fail "cannot mount hugetlbfs"
echo "hugepages: $(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) x 2 MiB"
dmesg -c > /dev/null

section "testpmd"
dpdk-testpmd -l 0-1 -n 1 -a "$bdf" --file-prefix vtd -- \
    --forward-mode=macswap --auto-start --stats-period=1 --nb-cores=1 \
    --rxq=1 --txq=1 --total-num-mbufs=2048 < /dev/null > /tmp/testpmd.log 2>&1 &
pid=$!
t=0
until grep -q 'Port statistics' /tmp/testpmd.log; do
    kill -0 $pid 2>/dev/null || { wait $pid; rc=$?; cat /tmp/testpmd.log; fail "testpmd exited with status $rc"; }
    [ $t -lt 600 ] || { cat /tmp/testpmd.log; fail "testpmd did not start forwarding"; }
    sleep 0.2
    t=$((t + 1))
done
grep -E 'EAL: (Probe|VFIO|Selected IOVA)|Port 0:|Configuring Port' /tmp/testpmd.log | head -n 8
echo "VTD-DPDK: ready"

# testpmd's periodic port statistics: wait for every frame both ways.
last() { tr -d '\033' < /tmp/testpmd.log | grep -o "$1-packets: *[0-9]*" | tail -n 1 | grep -o '[0-9]*$'; }
t=0
while :; do
    rx=$(last RX) tx=$(last TX)
    [ "${rx:-0}" -ge "$frames" ] && [ "${tx:-0}" -ge "$frames" ] && break
    kill -0 $pid 2>/dev/null || fail "testpmd exited after RX ${rx:-0}, TX ${tx:-0}"
    [ $t -lt 300 ] || fail "testpmd forwarded RX ${rx:-0}, TX ${tx:-0} of $frames frames in 300 s"
    sleep 1
    t=$((t + 1))
done
kill -INT $pid
wait $pid
tr -d '\033' < /tmp/testpmd.log | grep -E 'RX-packets|TX-packets|RX-errors|RX-missed' | tail -n 4
faults=$(dmesg | grep -c 'DMAR: \[DMA ' || true)
[ "$faults" = 0 ] || fail "$faults DMAR fault(s) while DPDK forwarded: $(dmesg | grep -m1 'DMAR: \[DMA ')"
echo "dpdk-guest: testpmd on vfio-pci forwarded $frames frames both ways (RX $rx, TX $tx) [$(cut -d' ' -f1 /proc/uptime)s]"
