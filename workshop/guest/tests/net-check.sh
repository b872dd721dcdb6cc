#!/bin/sh
# net-check: checksum-verified network transfers on every NIC, through
# the IOMMU when DMA remapping is on.
#
# Each NIC sits on its own QEMU user-mode network whose guestfwd runs
# `cat` on the host for each connection: an echo server.  For each NIC the
# test sends 4 MiB of random data to 10.0.N.100:7777 (transmit DMA reads)
# and reads it back (receive DMA writes), then compares md5sums.  The
# runner passes, per NIC, "-netdev user,id=nN,net=10.0.N.0/24,
# guestfwd=tcp:10.0.N.100:7777-cmd:cat" (N = 2, 3, ...) in the order of
# the NICs' PCI addresses.
#
# Expectations (vtdexpect=, as in dma-check): dmar = DMA remapping on and
# every NIC in an iommu group; vtdnics=N = how many NICs must be found.
# shellcheck source=../rootfs/usr/lib/vtd/common.sh
. /usr/lib/vtd/common.sh

expect=$(vtd_arg vtdexpect | tr , ' ')
want_nics=$(vtd_arg vtdnics)
size_mib=4

# The PCI function of a NIC (virtio NICs hang off a virtioN device).
nic_pci() {  # IFACE
    _d=$(readlink -f "/sys/class/net/$1/device")
    case $(basename "$_d") in virtio*) _d=$(dirname "$_d") ;; esac
    basename "$_d"
}

section "NICs"
nics=""
for n in /sys/class/net/*; do
    [ -e "$n/device" ] || continue
    nics="$nics $(basename "$n")"
done
[ -n "$nics" ] || fail "no NIC found"
# In PCI address order: the order of the runner's -netdev options.
nics=$(for i in $nics; do
    echo "$(nic_pci "$i") $i"
done | sort | cut -d' ' -f2)
count=$(echo $nics | wc -w)
[ -z "$want_nics" ] || [ "$count" = "$want_nics" ] ||
    fail "found $count NIC(s) ($nics), expected $want_nics"

dd if=/dev/urandom of=/tmp/pattern bs=1M count=$size_mib 2>/dev/null
want=$(md5sum < /tmp/pattern | cut -d' ' -f1)
bytes=$((size_mib * 1024 * 1024))
net=2
bad=""
for i in $nics; do
    bdf=$(nic_pci "$i")
    drv=$(basename "$(readlink -f /sys/class/net/$i/device/driver)")
    g=$(group_of "$bdf")
    case " $expect " in
    *" dmar "*) [ "$g" != - ] || bad="$bad $i: not in an iommu group;" ;;
    esac
    ifconfig "$i" "10.0.$net.15" netmask 255.255.255.0 up ||
        fail "cannot configure $i"
    echo_roundtrip "10.0.$net.100" /tmp/pattern "/tmp/echo.$i"
    got=$(md5sum < "/tmp/echo.$i" | cut -d' ' -f1)
    echo "$i ($drv, pci $bdf, iommu group $g): sent $bytes bytes md5 $want, echoed $(wc -c < "/tmp/echo.$i") bytes md5 $got"
    [ "$got" = "$want" ] || bad="$bad $i ($drv): echo differs;"
    ifconfig "$i" down
    net=$((net + 1))
done
[ -z "$bad" ] || fail "network check failed:${bad%;}"
echo "net-check: $count NIC(s) verified ($(echo $nics)) [$(cut -d' ' -f1 /proc/uptime)s]"
