#!/bin/sh
# dma-check: show the VT-d state and do verified DMA on every disk.
#
# Prints whether DMA remapping (DMAR) and interrupt remapping (IR) are
# enabled, the iommu groups and the group of each disk's PCI function, then
# on all disks at once: writes a pseudo-random 4 MiB pattern at MiB 16 with
# O_DIRECT, reads it back with O_DIRECT and compares md5sums. With
# vtdpattern=1 (disks filled with the runner's pattern) it also checks MiB 0
# and the MiBs around the written range.  With vtdrounds=N it does all of
# that N times, printing "VTD-GUEST-ROUND: i" after round i (the migration
# wrapper migrates the guest at given rounds).  Any DMAR fault in the
# kernel log fails the test: verified DMA must not fault.
#
# Expectations, from vtdexpect=a,b on the kernel command line (or the
# VTD_EXPECT environment variable); the test FAILS when one does not hold:
#   dmar    DMA remapping enabled and every disk's function in an iommu group
#   nodmar  DMA remapping not enabled
#   ir      interrupt remapping enabled
#   noir    interrupt remapping not enabled
#   ats     ATS enabled on every disk function that has the capability,
#           and on at least one (QEMU's nvme has no ATS)
# shellcheck source=../rootfs/usr/lib/vtd/common.sh
. /usr/lib/vtd/common.sh

expect=$(vtd_arg vtdexpect)
[ -n "$expect" ] || expect=${VTD_EXPECT:-}
expect=$(echo "$expect" | tr , ' ')
expects() { case " $expect " in *" $1 "*) return 0 ;; esac; return 1; }

section "VT-d state"
dmesg > /tmp/dmesg
grep -E 'DMAR: IOMMU (enabled|disabled)|Intel\(R\) Virtualization Technology for Directed I/O|IRQ remapping|DMAR-IR|x2apic' /tmp/dmesg || true
dmar=no
grep -q 'Intel(R) Virtualization Technology for Directed I/O' /tmp/dmesg && dmar=yes
ir=no
grep -q 'Enabled IRQ remapping' /tmp/dmesg && ir=yes
units=$(cd /sys/class/iommu 2>/dev/null && echo *)
[ "$units" = "*" ] && units=""
echo "DMAR (DMA remapping):       $dmar (iommu units: ${units:-none})"
echo "IR (interrupt remapping):   $ir"
echo "expected:                   ${expect:-nothing}"

section "iommu groups"
list_iommu_groups

section "disks"
disks=$(vtd_disks) || fail "expected disk missing (vtddisks=$(vtd_arg vtddisks))"
[ -n "$disks" ] || fail "no NVMe or virtio-blk disk found"
nogroup=""
noats=""
atson=0
for d in $disks; do
    bdf=$(pci_of "/sys/block/$d")
    g=$(group_of "$bdf")
    ats=none
    [ -n "$bdf" ] && ats=$(pci_ats "$bdf")
    mib=$(( $(cat "/sys/block/$d/size") / 2048 ))
    echo "/dev/$d: ${mib} MiB, pci ${bdf:-?}, iommu group $g, ATS $ats"
    [ "$g" = - ] && nogroup="$nogroup $d"
    [ "$ats" = off ] && noats="$noats $d"
    [ "$ats" = on ] && atson=$((atson + 1))
done

# expectations
expects dmar && [ $dmar != yes ] && fail "DMAR expected enabled but it is not"
expects nodmar && [ $dmar = yes ] && fail "DMAR expected disabled but it is enabled"
expects ir && [ $ir != yes ] && fail "interrupt remapping expected enabled but it is not"
expects noir && [ $ir = yes ] && fail "interrupt remapping expected disabled but it is enabled"
if expects dmar && [ -n "$nogroup" ]; then
    fail "DMAR expected but not in an iommu group:$nogroup"
fi
if expects ats; then
    [ -z "$noats" ] || fail "ATS expected enabled but is off on:$noats"
    [ $atson -gt 0 ] || fail "ATS expected but no disk has it enabled"
fi

section "verified DMA (4 MiB at MiB 16, O_DIRECT)"
pattern=$(vtd_arg vtdpattern)
off=16
if [ "$pattern" = 1 ]; then
    echo "checking the runner's pattern around the written range too"
    pat0=$(pattern_md5 0 1)
    pat_before=$(pattern_md5 $((off - 1)) 1)
    pat_after=$(pattern_md5 $((off + 4)) 1)
fi

# dma_one DISK: writes its verdict ("ok ..." or the failure) to /tmp/dma.DISK
dma_one() {
    d=$1 r=/tmp/dma.$1
    mib=$(( $(cat "/sys/block/$d/size") / 2048 ))
    if [ "$mib" -lt $((off + 5)) ]; then
        echo "/dev/$d is too small (${mib} MiB)" > "$r"; return
    fi
    if [ "$pattern" = 1 ]; then
        got=$(disk_md5 "$d" 0 1) || { echo "read of MiB 0 failed" > "$r"; return; }
        [ "$got" = "$pat0" ] || { echo "MiB 0 does not hold the pattern (md5 $got)" > "$r"; return; }
    fi
    dd if=/dev/urandom of="/tmp/pat.$d" bs=1M count=4 2>/dev/null
    want=$(md5sum < "/tmp/pat.$d" | cut -d' ' -f1)
    if ! dd if="/tmp/pat.$d" of="/dev/$d" bs=1M seek=$off oflag=direct conv=fsync 2>"/tmp/dd.$d"; then
        echo "O_DIRECT write failed: $(tail -n1 "/tmp/dd.$d")" > "$r"; return
    fi
    got=$(disk_md5 "$d" $off 4) || { echo "O_DIRECT read-back failed" > "$r"; return; }
    if [ "$got" != "$want" ]; then
        echo "read back md5 $got, wrote $want" > "$r"; return
    fi
    if [ "$pattern" = 1 ]; then
        for m in "$((off - 1)):$pat_before" "$((off + 4)):$pat_after"; do
            got=$(disk_md5 "$d" "${m%:*}" 1) || { echo "read of MiB ${m%:*} failed" > "$r"; return; }
            [ "$got" = "${m#*:}" ] ||
                { echo "MiB ${m%:*} next to the written range changed (md5 $got)" > "$r"; return; }
        done
    fi
    echo "ok wrote and read back 4 MiB, md5 $want" > "$r"
}

rounds=$(vtd_arg vtdrounds)
[ -n "$rounds" ] || rounds=1
round=1
while [ $round -le "$rounds" ]; do
    for d in $disks; do
        rm -f "/tmp/dma.$d"
        dma_one "$d" &
    done
    wait

    bad=""
    for d in $disks; do
        res=$(cat "/tmp/dma.$d" 2>/dev/null || echo "no result")
        echo "/dev/$d: $res"
        case $res in ok*) ;; *) bad="$bad /dev/$d: $res;" ;; esac
    done
    [ -z "$bad" ] || fail "DMA check failed in round $round:${bad%;}"
    [ "$rounds" = 1 ] || echo "VTD-GUEST-ROUND: $round [$(cut -d' ' -f1 /proc/uptime)s]"
    round=$((round + 1))
done
faults=$(dmesg | grep -c 'DMAR: \[DMA ' || true)
[ "$faults" = 0 ] || fail "$faults DMAR fault(s) during verified DMA: $(dmesg | grep -m1 'DMAR: \[DMA ')"
echo "dma-check: all $(echo "$disks" | wc -w) disk(s) verified (DMAR $dmar, IR $ir) [$(cut -d' ' -f1 /proc/uptime)s]"
