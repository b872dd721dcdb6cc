# Helpers for tests that run a nested machine (L2) with the QEMU of the
# payload (run-guest.sh --payload), edu assigned to it through vfio-pci,
# driven through qtest as an L2 guest driver would drive VT-d (busybox
# ash).  Source after common.sh, with bdf set to edu's PCI address:
#   . /usr/lib/vtd/l2.sh
# shellcheck shell=sh

qemu=/opt/qemu/qemu-system-x86_64
L2_OUT=/tmp/l2.out
L2_VTD=0xfed90000        # L2's VT-d registers
L2_EDU=0xe0000000        # edu BAR0 in L2

# edu to vfio-pci: prints the group.
l2_bind_edu() {
    [ -x $qemu ] || fail "no QEMU payload (run-guest.sh --payload)"
    [ -e "/sys/bus/pci/devices/$bdf" ] || fail "no edu at $bdf"
    echo vfio-pci > "/sys/bus/pci/devices/$bdf/driver_override"
    echo "$bdf" > /sys/bus/pci/drivers_probe
    _g=$(basename "$(readlink "/sys/bus/pci/devices/$bdf/iommu_group")")
    [ -e "/dev/vfio/$_g" ] || fail "edu is not bound to vfio-pci (group $_g)"
    echo "edu $bdf: vfio-pci, iommu group $_g"
}

# The nested machine: intel-iommu options, then QEMU options; qtest
# commands on stdin.  intel-iommu comes before the devices it covers.
# l2 assigns edu at 00:04.0; l2_empty starts without it.
l2_empty() {  # IOMMU-OPTIONS QEMU-OPTIONS...
    _iommu=$1
    shift
    $qemu -M q35 -accel qtest -qtest stdio -display none -nodefaults -m 128 \
        -L /opt/qemu/share -pidfile /tmp/l2.pid -device "$_iommu" "$@"
}
l2() {  # IOMMU-OPTIONS QEMU-OPTIONS...
    _iommu=$1
    shift
    l2_empty "$_iommu" -device vfio-pci,host="$bdf",addr=04.0 "$@"
}

# The nested machine's human monitor, on a pair of FIFOs: pass
# $L2_MON_ARGS to l2/l2_empty and call l2_mon_start before; hmp (from the
# command writer) sends one command and waits for the next prompt.  What
# the monitor printed is in $L2_MON.log.
L2_MON=/tmp/l2mon
L2_MON_ARGS="-chardev pipe,id=l2mon,path=$L2_MON -mon chardev=l2mon,mode=readline"
l2_mon_start() {
    rm -f $L2_MON.in $L2_MON.out $L2_MON.log
    mkfifo $L2_MON.in $L2_MON.out
    cat $L2_MON.out > $L2_MON.log &
    hmp_sent=0
}
hmp() {  # COMMAND
    l2_sync
    echo "$1" > $L2_MON.in
    hmp_sent=$((hmp_sent + 1))
    _t=0
    while [ "$(grep -o '(qemu)' $L2_MON.log | wc -l)" -le $hmp_sent ]; do
        [ $_t -ge 3000 ] && return
        sleep 0.01
        _t=$((_t + 1))
    done
}

# The command writer (a subshell feeding l2's stdin, which writes its
# replies to $L2_OUT) keeps count of what it sent: l2_sync waits until
# QEMU has answered all of it, or has exited; l2_end then ends QEMU
# (nothing in qtest tells a machine to quit).  Start each session with
# l2_start.
l2_start() {
    rm -f /tmp/l2.pid $L2_OUT
    sent=0
}
cmds() {  # one qtest command per argument
    for _c in "$@"; do
        echo "$_c"
        sent=$((sent + 1))
    done
}
l2_sync() {
    _t=0
    while [ "$(grep -c -E '^(OK|FAIL|ERR)' $L2_OUT 2>/dev/null)" -lt $sent ]; do
        [ -s /tmp/l2.pid ] && ! kill -0 "$(cat /tmp/l2.pid)" 2>/dev/null && return
        [ $_t -ge 6000 ] && return
        sleep 0.01
        _t=$((_t + 1))
    done
}
l2_end() {
    l2_sync
    [ -s /tmp/l2.pid ] && kill "$(cat /tmp/l2.pid)" 2>/dev/null
    true
}

# PCI: edu's BAR0 at $L2_EDU, memory and bus master on.
l2_edu_setup() {
    cmds "outl 0xcf8 0x80002010" "outl 0xcfc $L2_EDU" \
         "outl 0xcf8 0x80002004" "outl 0xcfc 0x6" "readl $L2_EDU"
}

# SRC DST LEN CMD: edu DMA, then let L0's edu run it.
l2_dma() {
    cmds "writeq $((L2_EDU + 0x80)) $1" "writeq $((L2_EDU + 0x88)) $2" \
         "writeq $((L2_EDU + 0x90)) $3" "writeq $((L2_EDU + 0x98)) $4"
    l2_sync
    sleep 0.5
    cmds "readl $((L2_EDU + 0x98))"
}

# Page-selective IOTLB invalidation of IOVA $1 in domain $2 (registers).
l2_psi() {
    cmds "writeq $((L2_VTD + 0xf0)) $1" \
         "writeq $((L2_VTD + 0xf8)) $((0xb000000000000000 | ($2 << 32)))"
}
