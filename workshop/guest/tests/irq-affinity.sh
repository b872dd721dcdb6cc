#!/bin/sh
# irq-affinity: remapped interrupts of NVMe, virtio and e1000e stay
# delivered while their affinity moves between CPUs under I/O.
#
# Each affinity change makes Linux rewrite the interrupt's IRTE (new
# destination and vector) and invalidate the interrupt entry cache; an
# interrupt that reaches a stale entry is lost (the I/O times out) or
# spurious (no handler on the old vector).
#
# 1. Every MSI/MSI-X interrupt of an NVMe, virtio or e1000e function must
#    be in an IR-PCI-MSI* domain, and at least one IOAPIC line (the serial
#    port's) in IR-IO-APIC: every interrupt goes through the table.
# 2. Verified O_DIRECT I/O loops on every disk and a verified echo loop on
#    every NIC (net-check's user-network echo server) run while the
#    affinity of every movable device interrupt, and of the serial port's
#    IOAPIC line, moves round-robin over the online CPUs: vtdmoves=N
#    changes in all (default 3000).  Interrupts whose affinity the kernel
#    manages (NVMe and virtio queues) cannot be moved by hand: every
#    vtdmoves/vtdcpucycle moves, one CPU goes offline and back online,
#    which moves those.
# 3. With vtdirmode=xapic or x2apic, remapping must run in that mode (with
#    x2apic, the IRTEs carry 32-bit destination ids: EIM).
# 4. FAILS on: a device interrupt that is not remapped; an I/O or echo
#    that fails its checksum or does not complete; ERR in /proc/interrupts
#    going up; kernel messages of timeouts, spurious or unhandled
#    interrupts or interrupt-remapping faults; a moved interrupt that was
#    never delivered to more than one CPU (the moves had no effect).
# shellcheck source=../rootfs/usr/lib/vtd/common.sh
. /usr/lib/vtd/common.sh

moves=$(vtd_arg vtdmoves)
[ -n "$moves" ] || moves=3000
cpucycle=$(vtd_arg vtdcpucycle)
[ -n "$cpucycle" ] || cpucycle=500
ncpus=$(grep -c '^processor' /proc/cpuinfo)
[ "$ncpus" -ge 2 ] || fail "needs at least 2 CPUs, has $ncpus"

# Interrupt lines of our devices: "IRQ NAME CHIP" per line.
device_irqs() {
    awk 'NR > 1 && $1 ~ /^[0-9]+:$/ {
        irq = $1; sub(":", "", irq); name = $NF
        chip = ""
        for (i = 2; i <= NF; i++) if ($i ~ /^[A-Za-z]/) { chip = $i; break }
        if (name ~ /^(nvme|virtio|eth)/ || name == "ttyS0")
            print irq, name, chip
    }' /proc/interrupts
}

# Sum of the per-CPU counts of IRQ, and on how many CPUs it is non-zero.
irq_counts() {  # IRQ
    awk -v irq="$1:" -v n="$ncpus" '$1 == irq {
        s = 0; c = 0
        for (i = 2; i <= n + 1; i++) { s += $i; if ($i > 0) c++ }
        print s, c
    }' /proc/interrupts
}
err_count() { awk '$1 == "ERR:" { print $2 }' /proc/interrupts; }

# NICs request their interrupts when brought up.
net=2
nics=""
for n in /sys/class/net/eth*; do
    [ -e "$n" ] || continue
    i=$(basename "$n")
    nics="$nics $i"
    ifconfig "$i" "10.0.$net.15" netmask 255.255.255.0 up || fail "cannot configure $i"
    net=$((net + 1))
done

section "interrupt remapping"
mode=$(dmesg | sed -n 's/.*Enabled IRQ remapping in \([a-z0-9]*\) mode.*/\1/p' | head -n 1)
echo "remapping mode: ${mode:-not enabled}; CPUs: $ncpus; APIC ids: $(
    awk '/^apicid/ { printf " %s", $3 }' /proc/cpuinfo)"
[ -n "$mode" ] || fail "interrupt remapping is not enabled"
want_mode=$(vtd_arg vtdirmode)
[ -z "$want_mode" ] || [ "$mode" = "$want_mode" ] ||
    fail "interrupt remapping in $mode mode, expected $want_mode"

section "interrupts"
grep -E 'CPU0|IR-|ERR|MIS' /proc/interrupts
device_irqs > /tmp/irqs
[ -s /tmp/irqs ] || fail "no NVMe, virtio, e1000e or serial interrupt found"
notir=$(awk '$3 !~ /^IR-/ { printf " %s(%s on %s)", $1, $2, $3 }' /tmp/irqs)
[ -z "$notir" ] || fail "interrupts not remapped:$notir"
for want in nvme virtio eth; do
    awk -v w="$want" '$2 ~ "^" w && $3 ~ /^IR-PCI-MSI/' /tmp/irqs | grep -q . ||
        fail "no IR-PCI-MSI interrupt for $want"
done
awk '$2 == "ttyS0" && $3 == "IR-IO-APIC"' /tmp/irqs | grep -q . ||
    fail "the serial port's IOAPIC line is not in IR-IO-APIC"

# Which of them can be moved by hand (managed ones refuse with EIO).
movable=""
managed=""
while read -r irq name chip; do
    if echo 0 > "/proc/irq/$irq/smp_affinity_list" 2>/dev/null; then
        movable="$movable $irq"
    else
        managed="$managed $irq"
    fi
done < /tmp/irqs
echo "movable by hand:$movable"
echo "kernel-managed (moved by CPU offline/online):${managed:- none}"
[ -n "$movable" ] || fail "no interrupt can be moved"
err_before=$(err_count)
dmesg -c > /dev/null

section "I/O and network loops"
disks=$(vtd_disks) || fail "expected disk missing"
[ -n "$disks" ] || fail "no disk"
rm -f /tmp/stop /tmp/io.*
dd if=/dev/urandom of=/tmp/pat bs=256k count=1 2>/dev/null
want=$(md5sum < /tmp/pat | cut -d' ' -f1)
for d in $disks; do
    (
        n=0
        while [ ! -e /tmp/stop ]; do
            off=$((16 + n % 32))
            dd if=/tmp/pat of="/dev/$d" bs=256k seek=$((off * 4)) count=1 \
                oflag=direct conv=fsync 2>/dev/null || { echo "write failed at round $n" > "/tmp/io.$d"; exit; }
            got=$(dd if="/dev/$d" bs=256k skip=$((off * 4)) count=1 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
            [ "$got" = "$want" ] || { echo "read back md5 $got at round $n" > "/tmp/io.$d"; exit; }
            n=$((n + 1))
            echo "ok $n" > "/tmp/io.$d.count"
        done
        echo "ok $n rounds" > "/tmp/io.$d"
    ) &
done
# The link comes up a moment after the NIC does.
for i in $nics; do
    t=0
    while [ "$(cat "/sys/class/net/$i/carrier" 2>/dev/null)" != 1 ] && [ $t -lt 100 ]; do
        sleep 0.1
        t=$((t + 1))
    done
done
net=2
for i in $nics; do
    (
        k=0
        while [ ! -e /tmp/stop ]; do
            echo_roundtrip "10.0.$net.100" /tmp/pat "/tmp/echo.$i"
            got=$(md5sum < "/tmp/echo.$i" | cut -d' ' -f1)
            [ "$got" = "$want" ] || { echo "echo md5 $got at round $k" > "/tmp/io.$i"; exit; }
            k=$((k + 1))
        done
        echo "ok $k rounds" > "/tmp/io.$i"
    ) &
    net=$((net + 1))
done
echo "disks: $(echo $disks); NICs:${nics:- none}"

section "moving affinities: $moves changes, a CPU offline/online every $cpucycle"
start=$(cut -d' ' -f1 /proc/uptime)
m=0
cycles=0
while [ $m -lt "$moves" ]; do
    for irq in $movable; do
        echo $(( (m + irq) % ncpus )) > "/proc/irq/$irq/smp_affinity_list" 2>/dev/null ||
            fail "cannot move IRQ $irq to CPU $(( (m + irq) % ncpus ))"
        m=$((m + 1))
    done
    if [ $((m / cpucycle)) -gt $cycles ]; then
        cycles=$((m / cpucycle))
        cpu=$(( 1 + cycles % (ncpus - 1) ))
        echo 0 > "/sys/devices/system/cpu/cpu$cpu/online" || fail "cannot offline CPU $cpu"
        sleep 0.2
        echo 1 > "/sys/devices/system/cpu/cpu$cpu/online" || fail "cannot online CPU $cpu"
        echo "$m moves, CPU $cpu offline and back [$(cut -d' ' -f1 /proc/uptime)s]"
    fi
    # Let interrupts happen between rounds of moves.
    [ $((m % 100)) -lt "$(echo $movable | wc -w)" ] && sleep 0.05
done
end=$(cut -d' ' -f1 /proc/uptime)
touch /tmp/stop
wait

section "results"
bad=""
for x in $disks $nics; do
    r=$(cat "/tmp/io.$x" 2>/dev/null || echo "no result")
    echo "$x: $r"
    case $r in ok*) ;; *) bad="$bad $x: $r;" ;; esac
done
grep -E 'CPU0|IR-|ERR|MIS' /proc/interrupts
err_after=$(err_count)
echo "ERR before $err_before, after $err_after"
[ "$err_after" = "$err_before" ] || bad="$bad ERR count went from $err_before to $err_after;"
for irq in $movable; do
    set -- $(irq_counts "$irq")
    name=$(awk -v i="$irq" '$1 == i { print $2 }' /tmp/irqs)
    echo "IRQ $irq ($name): $1 interrupts on $2 CPUs"
    # Device queues that saw traffic must have landed on several CPUs.
    if [ "${1:-0}" -gt 50 ] && [ "${2:-0}" -lt 2 ]; then
        bad="$bad IRQ $irq ($name) stayed on one CPU;"
    fi
done
dmesg > /tmp/dmesg
grep -iE 'timeout|timed out|spurious|nobody cared|no irq handler|DMAR-IR|INTR-REMAP|DMAR: \[' /tmp/dmesg > /tmp/bad-msgs
if [ -s /tmp/bad-msgs ]; then
    head -n 5 /tmp/bad-msgs
    bad="$bad kernel: $(head -n 1 /tmp/bad-msgs);"
fi
[ -z "$bad" ] || fail "irq-affinity:${bad%;}"
echo "irq-affinity: $m affinity changes and $cycles CPU offline/online cycles in $(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }') s, no lost or spurious interrupt [$(cut -d' ' -f1 /proc/uptime)s]"
