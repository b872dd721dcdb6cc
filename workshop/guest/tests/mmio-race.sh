#!/bin/sh
# mmio-race: MMIO from every vCPU but one while that one changes the
# guest-physical memory map (tools/mmio-race.c), as Linux does when it
# sizes BARs during PCI probing while the other CPUs take timer
# interrupts.  Needs two edu devices (no driver binds them) and at least
# 2 vCPUs: register 0 of the edu with the higher BAR is read, the memory
# decoding of the other, whose BAR comes first in the memory map, is
# turned off and on, which renumbers the map's sections behind it.
# Every read must return edu's identification; QEMU must not abort and
# the guest must not stall.
# shellcheck source=../rootfs/usr/lib/vtd/common.sh
. /usr/lib/vtd/common.sh

section "edu devices"
edus=""
for d in /sys/bus/pci/devices/*; do
    [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
        edus="$edus $(head -n1 "$d/resource" | cut -d' ' -f1) $(basename "$d")"
done
set -- $edus
[ $# = 4 ] || fail "want two edu devices, found:$edus"
if [ $(($1)) -lt $(($3)) ]; then
    toggled=$2 read=$4 lo=$1 hi=$3
else
    toggled=$4 read=$2 lo=$3 hi=$1
fi
echo "reading $read (BAR0 $hi), toggling memory decoding of $toggled (BAR0 $lo)"
echo "$(grep -c ^processor /proc/cpuinfo) CPUs"

section "mmio-race"
dmesg -c > /dev/null
rounds=$(vtd_arg vtdrounds)
mmio-race "/sys/bus/pci/devices/$read/resource0" \
    "/sys/bus/pci/devices/$toggled/config" "${rounds:-1000}" > /tmp/mmio-race.out 2>&1
rc=$?
cat /tmp/mmio-race.out
[ $rc = 0 ] && grep -q '^mmio-race: PASS' /tmp/mmio-race.out ||
    fail "$(grep -m1 'FAIL' /tmp/mmio-race.out || echo "mmio-race exited $rc")"
if dmesg | grep -E 'rcu.*stall|soft lockup|hard LOCKUP'; then
    fail "the kernel reported a stall"
fi
echo "mmio-race: ok"
