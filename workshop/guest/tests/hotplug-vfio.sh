#!/bin/sh
# hotplug-vfio: hot-plug and hot-unplug of an assigned device behind the
# nested machine's IOMMU.
#
# The guest (L1) binds edu to vfio-pci and runs the QEMU of its payload
# (run-guest.sh --payload) as a nested machine (L2) driven through qtest,
# with an ioh3420 root port whose slot uses native PCIe hot-plug (ACPI
# hot-plug off).  L2's monitor adds edu to the slot through vfio-pci and
# removes it again; qtest plays the guest's part (slot power, bus numbers,
# VT-d tables).  Checked:
#   - without caching-mode=on, and with aw-bits wider than L1's IOMMU
#     maps, device_add fails with an error saying why, and the machine
#     goes on;
#   - with caching mode, translation already on, the added device's
#     notifiers are registered and replayed (MAP of the one mapping), and
#     edu copies through it;
#   - powering the slot off after device_del removes the device: its
#     notifiers are dropped (flags back to none), and an invalidation of
#     a changed mapping notifies no one;
#   - adding it again registers fresh notifiers whose replay maps the
#     mapping as it is now, and edu copies through the new page;
#   - the exact notifier sequence, from L2's trace.
# shellcheck source=../rootfs/usr/lib/vtd/common.sh
. /usr/lib/vtd/common.sh

bdf=0000:00:04.0
# shellcheck source=../rootfs/usr/lib/vtd/l2.sh
. /usr/lib/vtd/l2.sh

V=$L2_VTD
RP=0x80002800          # the root port, 00:05.0, in config address form
EDU_CFG=0x80010000     # edu in the slot, 01:00.0
SLTCTL=0xa8            # ioh3420's PCIe capability (0x90) + slot control
SLOT_ON=0x0100         # power indicator on, power controller on
SLOT_OFF=0x0700        # power indicator off, power controller off
machine="-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off
         -device ioh3420,id=rp,chassis=1,slot=1,addr=05.0"
add="device_add vfio-pci,host=$bdf,bus=rp,id=hp"

section "edu to vfio-pci"
l2_bind_edu

# IOMMU-OPTIONS EXPECTED-ERROR: device_add refused, the machine goes on.
refused() {
    l2_start
    l2_mon_start
    # shellcheck disable=SC2086 # $machine and $L2_MON_ARGS are word lists
    {
        hmp "$add"
        cmds "readl $V"
        l2_end
    } | l2_empty "$1" $machine $L2_MON_ARGS > $L2_OUT 2>&1
    wait
    grep -q "$2" $L2_MON.log || {
        cat $L2_MON.log $L2_OUT
        fail "device_add with $1 was not refused with '$2'"
    }
    grep -q '^OK 0x0*10$' $L2_OUT || fail "L2 did not go on after the refusal"
    echo "$1: $(grep -m1 "$2" $L2_MON.log | tr -d '\r')"
}

section "refused hot-plug"
refused intel-iommu "caching-mode=on"
# L1's IOMMU maps 48 bits (its default aw-bits); L2 asks for 57.
refused intel-iommu,caching-mode=on,aw-bits=57 "aw-bits=57 is wider"

section "hot-plug with caching mode"
# Slot power and edu's BAR: what pciehp and the PCI core would do.
slot() { cmds "outl 0xcf8 $((RP | SLTCTL))" "outw 0xcfc $1"; }
edu_setup() {
    slot $SLOT_ON
    cmds "outl 0xcf8 $((EDU_CFG | 0x10))" "outl 0xcfc $L2_EDU" \
         "outl 0xcf8 $((EDU_CFG | 0x04))" "outl 0xcfc 0x6" \
         "readl $L2_EDU"
}
# Wait until L2's trace has COUNT lines matching PATTERN (10 s at most).
until_traced() {  # PATTERN COUNT
    _t=0
    while [ "$(grep -c "$1" /tmp/l2.trace 2>/dev/null)" -lt "$2" ]; do
        [ $_t -ge 1000 ] && return
        sleep 0.01
        _t=$((_t + 1))
    done
}
rm -f /tmp/l2.trace
l2_start
l2_mon_start
# shellcheck disable=SC2086 # $machine and $L2_MON_ARGS are word lists
{
    # The root port: bus 1 behind it, edu's BAR in its window.
    cmds "outl 0xcf8 $((RP | 0x18))" "outl 0xcfc 0x00010100" \
         "outl 0xcf8 $((RP | 0x20))" "outl 0xcfc 0xe000e000" \
         "outl 0xcf8 $((RP | 0x04))" "outl 0xcfc 0x6"
    # Bus 1's root entry; 01:00.0 in domain 1, IOVA 0x1000000 -> 0x400000.
    cmds "writeq 0x100010 0x101001" \
         "writeq 0x101000 0x102001" "writeq 0x101008 0x102" \
         "writeq 0x102000 0x103003" "writeq 0x103000 0x104003" \
         "writeq 0x104040 0x105003" "writeq 0x105000 0x400003"
    cmds "writeq $((V + 0x20)) 0x100000" "writel $((V + 0x18)) 0x40000000" \
         "writeq $((V + 0x28)) 0xa000000000000000" \
         "writeq $((V + 0xf8)) 0x9000000000000000" \
         "writel $((V + 0x18)) 0xc0000000" "readl $((V + 0x1c))"
    cmds "write 0x400000 16 0x00112233445566778899aabbccddeeff"
    hmp "$add"
    edu_setup
    l2_dma 0x1000000 0x40000 16 1
    l2_dma 0x40000 0x1000100 16 3
    cmds "read 0x400100 16"
    # Unplug: the request, then the slot powered off as pciehp does.  The
    # device goes at once; VFIO lets go of the address space when the
    # device is finalized, after an RCU grace period: wait for that.
    hmp "device_del hp"
    slot $SLOT_OFF
    cmds "outl 0xcf8 $EDU_CFG" "inl 0xcfc"
    l2_sync
    until_traced 'flags 0x3 -> 0x0' 1
    # The mapping moves while nobody listens: no notification.
    cmds "write 0x500000 16 0xffeeddccbbaa99887766554433221100" \
         "writeq 0x105000 0x500003"
    l2_psi 0x1000000 1
    hmp "$add"
    edu_setup
    l2_dma 0x1000000 0x40000 16 1
    l2_dma 0x40000 0x1000200 16 3
    cmds "read 0x500200 16"
    l2_end
} | l2_empty intel-iommu,caching-mode=on $machine $L2_MON_ARGS \
        -D /tmp/l2.trace -trace vtd_notify_flags -trace vtd_replay \
        -trace vtd_shadow_resync -trace vtd_shadow_map -trace vtd_shadow_unmap \
        > $L2_OUT 2> /tmp/l2.err
wait
grep -v '^\[[RSI] ' /tmp/l2.err || true
tr -d '\r' < $L2_MON.log | grep -v '^(qemu) \|^QEMU ' || true
echo "L2 qtest: $(grep -c '^OK' $L2_OUT) replies"
grep -q 'FAIL' $L2_OUT && { cat $L2_OUT; fail "a qtest command failed"; }
ids=$(grep -c -E '^OK 0x0*10000ed$' $L2_OUT)
[ "$ids" = 2 ] || { cat $L2_OUT; fail "edu seen in the slot $ids times, not 2"; }
grep -q '^OK 0x0*ffffffff$' $L2_OUT ||
    fail "edu still answers config reads after its unplug"
reads=$(grep -E '^OK 0x[0-9a-f]{32}$' $L2_OUT | cut -d' ' -f2)
echo "data read back in L2: $(echo "$reads" | tr "\n" " ")"
[ "$(echo "$reads" | sed -n 1p)" = 0x00112233445566778899aabbccddeeff ] ||
    fail "edu's copy through the first plug's mapping did not arrive"
[ "$(echo "$reads" | sed -n 2p)" = 0xffeeddccbbaa99887766554433221100 ] ||
    fail "edu's copy after the second plug did not arrive"

section "notifier sequence"
sed -n 's/^[0-9.:@ ]*\(vtd_[a-z_]*\) bus 0x01 devfn 0x00 /\1 /p' /tmp/l2.trace \
    > /tmp/l2.events
cat /tmp/l2.events
cat > /tmp/l2.expected <<'EOF'
vtd_notify_flags notifier flags 0x0 -> 0x3
vtd_replay 0x0..0xfedfffff
vtd_shadow_resync 0x0..0xfedfffff: 1 mappings in the tables
vtd_shadow_map MAP iova 0x1000000 size 0x1000 -> 0x400000 perm 3
vtd_replay 0xfef00000..0xffffffffffffffff
vtd_shadow_resync 0xfef00000..0xffffffffffffffff: 0 mappings in the tables
vtd_notify_flags notifier flags 0x3 -> 0x0
vtd_notify_flags notifier flags 0x0 -> 0x3
vtd_replay 0x0..0xfedfffff
vtd_shadow_resync 0x0..0xfedfffff: 1 mappings in the tables
vtd_shadow_map MAP iova 0x1000000 size 0x1000 -> 0x500000 perm 3
vtd_replay 0xfef00000..0xffffffffffffffff
vtd_shadow_resync 0xfef00000..0xffffffffffffffff: 0 mappings in the tables
EOF
diff /tmp/l2.expected /tmp/l2.events || fail "unexpected notifier sequence"

section "faults in L1"
if dmesg | grep 'DMAR: \[DMA'; then
    fail "DMA faults in L1"
fi
echo "hotplug-vfio: notifiers followed edu in and out of the slot [$(cut -d' ' -f1 /proc/uptime)s]"
