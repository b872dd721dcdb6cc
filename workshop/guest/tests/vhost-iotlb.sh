#!/bin/sh
# vhost-iotlb: ICMP echo through a vhost-user virtio-net whose back-end
# translates every address through its device IOTLB.
#
# Run with run-guest.sh --wrap vhost-echo (vhost-echo-wrapper.py): the
# guest's only NIC is a virtio-net with iommu_platform=on behind a root
# port, and its back-end answers ICMP echo requests to any address.  The
# test pings a neighbour with a static ARP entry, with small, full-size
# and fragmented (8000-byte) requests: every request must be answered,
# and the kernel drops a reply whose checksum does not match, so the data
# went through the IOMMU's translations intact.  Nothing may fault.  With
# vtdats=on (or off) the NIC's ATS must be enabled (or not): with ATS,
# the guest's device-TLB invalidations reach the back-end, without it its
# IOTLB invalidations do.  The wrapper checks the back-end's side: misses
# answered, invalidations received.
# shellcheck source=../rootfs/usr/lib/vtd/common.sh
. /usr/lib/vtd/common.sh

want_ats=$(vtd_arg vtdats)

section "NIC"
vhost_nic
[ -z "$want_ats" ] || [ "$ats" = "$want_ats" ] ||
    fail "ATS is $ats on $nic, not $want_ats"

section "echo"
vhost_neighbour
total=0
for run in 56:100 1400:50 8000:20; do
    size=${run%:*}
    count=${run#*:}
    out=$(ping -c "$count" -s "$size" -i 0.02 -W 5 10.9.0.2 2>&1)
    got=$(echo "$out" | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
    echo "$size-byte requests: ${got:-0} of $count answered"
    [ "${got:-0}" = "$count" ] ||
        fail "$size-byte echo: ${got:-0} of $count answered ($(echo "$out" | tail -n 2 | tr '\n' ' '))"
    total=$((total + count))
done
faults=$(dmesg | grep -c 'DMAR: \[DMA ' || true)
[ "$faults" = 0 ] || fail "$faults DMAR fault(s): $(dmesg | grep -m1 'DMAR: \[DMA ')"
echo "vhost-iotlb: $total echo requests answered through the back-end's IOTLB [$(cut -d' ' -f1 /proc/uptime)s]"
