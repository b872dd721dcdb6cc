#!/bin/sh
# net-vhost: traffic through a vhost-user virtio-net with a device IOTLB.
#
# Run with run-guest.sh --wrap testpmd (testpmd-wrapper.sh): the guest's
# only NIC is a virtio-net (iommu_platform=on, ats=on) whose backend is
# DPDK's testpmd, which sends every packet back with the MAC addresses
# swapped.  The test checks that ATS is enabled on the NIC, sends ICMP
# echo requests to a neighbour with a static ARP entry until 200 came
# back on the receive side; nothing may fault.  The wrapper checks on the
# host side that testpmd's IOTLB misses were answered and the guest's
# device-TLB invalidations reached it.
# shellcheck source=../rootfs/usr/lib/vtd/common.sh
. /usr/lib/vtd/common.sh

count=200

section "NIC"
vhost_nic
[ "$ats" = on ] || fail "ATS is not enabled on $nic"

section "traffic"
vhost_neighbour
stat() { cat "/sys/class/net/$nic/statistics/$1"; }
rx0=$(stat rx_packets)
tx0=$(stat tx_packets)
# testpmd sends each request back as it is: the guest counts it and drops
# it.  DPDK's vhost drops a packet whose buffer address misses its IOTLB
# (it asks QEMU and goes on), and in strict mode every unmap invalidates
# the device TLB: keep sending until $count came back, or $max went out.
max=$((count * 10))
rx=0
tx=0
while [ $rx -lt $count ] && [ $tx -lt $max ]; do
    ping -c 50 -i 0.02 -W 1 10.9.0.2 > /dev/null 2>&1
    sleep 0.5
    rx=$(($(stat rx_packets) - rx0))
    tx=$(($(stat tx_packets) - tx0))
done
echo "$nic: sent $tx packets, $rx came back"
[ "$rx" -ge $count ] || fail "only $rx of $tx packets came back through testpmd"
faults=$(dmesg | grep -c 'DMAR: \[DMA ' || true)
[ "$faults" = 0 ] || fail "$faults DMAR fault(s): $(dmesg | grep -m1 'DMAR: \[DMA ')"
echo "net-vhost: $rx packets through vhost-user with the device IOTLB [$(cut -d' ' -f1 /proc/uptime)s]"
