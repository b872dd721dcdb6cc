# Helpers for the guest tests (busybox ash). Source with:
#   . /usr/lib/vtd/common.sh
# shellcheck shell=sh

VTD_REASON_FILE=/tmp/vtd-fail-reason

# vtd_arg NAME: value of the last NAME=VALUE on the kernel command line
# (empty if absent; NAME alone gives "1").
vtd_arg() {
    _v=""
    set -f
    # shellcheck disable=SC2013
    for _a in $(cat /proc/cmdline); do
        case $_a in
            "$1"=*) _v=${_a#*=} ;;
            "$1") _v=1 ;;
        esac
    done
    set +f
    echo "$_v"
}

# fail REASON: print it, record it for /init and exit 1.
fail() {
    echo "FAIL: $*"
    echo "$*" > "$VTD_REASON_FILE"
    exit 1
}

section() { echo; echo "=== $* === [$(cut -d' ' -f1 /proc/uptime)s]"; }

# PCI address (0000:00:03.0) a sysfs device path sits under, or "".
pci_of() {  # SYSFS_PATH
    readlink -f "$1" | tr / '\n' |
        grep -E '^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$' | tail -n1
}

# iommu group number of a PCI device, or "-".
group_of() {  # BDF
    _g=$(readlink "/sys/bus/pci/devices/$1/iommu_group" 2>/dev/null) || { echo -; return; }
    basename "$_g"
}

# Print every device in /sys/kernel/iommu_groups with its group.
list_iommu_groups() {
    if ! ls /sys/kernel/iommu_groups/* >/dev/null 2>&1; then
        echo "(no iommu groups)"
        return 0
    fi
    # shellcheck disable=SC2012  # group names are numbers
    for _g in $(ls /sys/kernel/iommu_groups | sort -n); do
        _t=$(cat "/sys/kernel/iommu_groups/$_g/type" 2>/dev/null || echo "?")
        for _d in /sys/kernel/iommu_groups/"$_g"/devices/*; do
            [ -e "$_d" ] || continue
            _b=$(basename "$_d")
            _drv=$(basename "$(readlink "$_d/driver" 2>/dev/null)" 2>/dev/null)
            printf 'group %-3s %-7s %s %s:%s class %s driver %s\n' "$_g" "$_t" "$_b" \
                "$(sed 's/^0x//' "$_d/vendor" 2>/dev/null)" \
                "$(sed 's/^0x//' "$_d/device" 2>/dev/null)" \
                "$(cat "$_d/class" 2>/dev/null)" "${_drv:--}"
        done
    done
}

# vtd_disks: the disks to test, one name per line (nvme0n1, vda, ...).
# With vtddisks=a,b on the command line: wait up to 30 s for each of them,
# fail if one does not appear. Without: wait up to 3 s for any disk and
# list the NVMe and virtio-blk disks present.
vtd_disks() {
    _want=$(vtd_arg vtddisks | tr , ' ')
    _i=0
    if [ -n "$_want" ]; then
        for _d in $_want; do
            while [ ! -b "/dev/$_d" ] || [ "$(cat "/sys/block/$_d/size" 2>/dev/null || echo 0)" = 0 ]; do
                _i=$((_i + 1))
                [ $_i -le 300 ] || { echo "FAIL: disk /dev/$_d did not appear" >&2; return 1; }
                sleep 0.1
            done
            echo "$_d"
        done
        return 0
    fi
    while [ $_i -lt 30 ] && [ -z "$(_present_disks)" ]; do
        _i=$((_i + 1))
        sleep 0.1
    done
    _present_disks
}

_present_disks() {
    for _p in /sys/block/nvme*n* /sys/block/vd*; do
        [ -e "$_p" ] || continue
        _p=${_p##*/}
        case $_p in nvme*n*p*|vd*[0-9]) continue ;; esac
        echo "$_p"
    done
}

# md5 of COUNT MiB of /dev/DISK starting at MiB SKIP, read with O_DIRECT;
# returns non-zero (and prints dd's error) if the read fails or is short.
disk_md5() {  # DISK SKIP COUNT
    _f=/tmp/.md5.$1.$$
    if ! dd if="/dev/$1" of="$_f" bs=1M skip="$2" count="$3" iflag=direct 2>"$_f.err"; then
        cat "$_f.err" >&2
        rm -f "$_f" "$_f.err"
        return 1
    fi
    _n=$(wc -c < "$_f")
    if [ "$_n" != $(($3 * 1048576)) ]; then
        echo "short read from /dev/$1: $_n bytes" >&2
        rm -f "$_f" "$_f.err"
        return 1
    fi
    md5sum "$_f" | cut -d' ' -f1
    rm -f "$_f" "$_f.err"
}

# The runner's disk pattern: 512-byte sector i (counted from the start of
# the disk) is "vtd-pattern sector %010d" padded with spaces to 511 bytes
# plus "\n". run-guest.sh generates its images with the same awk program.
# pattern_mib FIRST_MIB COUNT prints COUNT MiB of it starting at FIRST_MIB.
pattern_mib() {
    awk -v a=$(($1 * 2048)) -v n=$(($2 * 2048)) 'BEGIN {
        for (i = a; i < a + n; i++) printf "vtd-pattern sector %010d%482s\n", i, "" }'
}

pattern_md5() {  # FIRST_MIB COUNT
    pattern_mib "$1" "$2" | md5sum | cut -d' ' -f1
}

# ATS state of a PCI function from its extended capabilities:
# "on" (ATS capability, Enable set), "off" (capability, not enabled) or
# "none" (no ATS capability, or no extended config space).
pci_ats() {  # BDF
    _cfg=/sys/bus/pci/devices/$1/config
    _off=256
    _n=0
    while [ "$_off" -ge 256 ] && [ $_n -lt 64 ]; do
        _h=$(od -A n -t x4 -j "$_off" -N 4 "$_cfg" 2>/dev/null | tr -d ' ')
        [ -n "$_h" ] || break
        _v=$((0x$_h))
        { [ $_v = 0 ] || [ $_v = 4294967295 ]; } && break
        if [ $((_v & 0xffff)) = 15 ]; then
            _c=$(od -A n -t x2 -j $((_off + 6)) -N 2 "$_cfg" | tr -d ' ')
            if [ $((0x$_c & 0x8000)) != 0 ]; then echo on; else echo off; fi
            return 0
        fi
        _off=$(((_v >> 20) & 0xffc))
        _n=$((_n + 1))
    done
    echo none
}

# echo_roundtrip HOST IN OUT: send file IN to the runner's echo server
# (guestfwd ... -cmd:cat) at HOST:7777 and write what comes back to OUT.
# nc may keep running after stdin's end: wait until all of IN has come
# back, nc has ended, or 60 s have passed.
echo_roundtrip() {
    _want=$(wc -c < "$2")
    : > "$3"
    nc "$1" 7777 < "$2" >> "$3" 2>/dev/null &
    _pid=$!
    _t=0
    while [ "$(wc -c < "$3")" -lt "$_want" ] && [ $_t -lt 600 ]; do
        kill -0 $_pid 2>/dev/null || break
        sleep 0.1
        _t=$((_t + 1))
    done
    kill $_pid 2>/dev/null
    wait $_pid 2>/dev/null
    true
}

# The vhost tests' only NIC (a vhost-user virtio-net): sets nic, bdf and
# ats (pci_ats) and says what it found.
vhost_nic() {
    nic=""
    for _n in /sys/class/net/*; do
        [ -e "$_n/device" ] && nic=$(basename "$_n")
    done
    [ -n "$nic" ] || fail "no NIC"
    bdf=$(basename "$(dirname "$(readlink -f "/sys/class/net/$nic/device")")")
    ats=$(pci_ats "$bdf")
    echo "$nic: pci $bdf, iommu group $(group_of "$bdf"), ATS $ats"
}

# $nic at 10.9.0.1, with 10.9.0.2 (the back-end's side) as a static
# neighbour: no ARP goes through the back-end.
vhost_neighbour() {
    ifconfig "$nic" 10.9.0.1 netmask 255.255.255.0 up ||
        fail "cannot configure $nic"
    arp -s 10.9.0.2 02:00:00:00:00:02 2>/dev/null ||
        ip neigh add 10.9.0.2 lladdr 02:00:00:00:00:02 dev "$nic" ||
        fail "cannot add a static ARP entry"
}
