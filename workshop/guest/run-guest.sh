#!/bin/bash
# Boot a VT-d test guest and run one guest test in it.
#
# Usage: run-guest.sh [options] [-- extra QEMU arguments]
#   -q, --qemu PATH       QEMU binary ($VTD_QEMU, default build/stock/qemu-system-x86_64)
#   -k, --kernel SERIES   kernel series 6.1 or 6.12 (default 6.12)
#   -t, --test NAME       guest test workshop/guest/tests/NAME.sh (default boot)
#   -a, --append ARGS     extra kernel command-line arguments (repeatable)
#   -i, --iommu[=OPTS]    add -device intel-iommu[,OPTS] before all other devices
#   -n, --nvme[=OPTS]     add an NVMe disk: -device nvme,drive=..,serial=..[,OPTS] (repeatable)
#   -b, --virtio-blk[=OPTS]  add a virtio-blk disk: -device virtio-blk-pci,drive=..[,OPTS] (repeatable)
#   --disk-size MIB       size of the disks made by --nvme/--virtio-blk (default 64)
#   -l, --log FILE        console log (default build/guest-logs/SERIES-TEST-LABEL-TIME.log)
#   -g, --guest-dir DIR   vmlinuz-*/initramfs-* from build-guest.sh ($VTD_GUEST_DIR,
#                         default build/guest; built there if missing or stale)
#   --boot pvh|bzimage    boot the uncompressed vmlinux-SERIES through PVH (default when
#                         present: faster under TCG) or the Debian bzImage vmlinuz-SERIES
#                         ($VTD_GUEST_BOOT)
#   -T, --timeout SEC     kill QEMU and FAIL after SEC seconds ($VTD_GUEST_TIMEOUT, default 300)
#   -L, --label TEXT      name of the configuration in the summary line
#   -p, --payload WHAT    also unpack in the guest the QEMU binary WHAT ("ours",
#                         "stock" or a path) at /opt/qemu (build-qemu-payload.sh),
#                         for nested device assignment; or, with "testpmd", DPDK's
#                         testpmd and its PMDs (build-dpdk-payload.sh)
#   --reboot              let the guest reboot (no -no-reboot): tests that reset
#                         the machine themselves (reboot-loop)
#   -w, --wrap NAME       run QEMU under workshop/guest/NAME-wrapper.* (e.g. testpmd:
#                         a vhost-user NIC with DPDK's testpmd as its backend)
#   -m, --migrate CHAIN@ROUNDS  live-migrate the guest along CHAIN (QEMU binaries,
#                         "stock" or "ours", comma-separated; --qemu is ignored)
#                         after the given rounds of a test run with vtdrounds=N,
#                         e.g. stock,ours,stock@2,4 (migrate-wrapper.py)
#   -v, --verbose         also show the console while the guest runs
#   -s, --shell           interactive: boot to a shell on stdio (no timeout)
#
# The disks made by --nvme/--virtio-blk are raw images in a temporary
# directory, filled with the known pattern the guest checks (vtdpattern=1);
# their guest names are passed as vtddisks=nvme0n1,vda. A virtio-blk disk
# with iommu_platform=on also gets disable-legacy=on unless OPTS set it, and
# one with ats=on but no bus= is put behind its own pcie-root-port (QEMU
# gives a virtio device on the root bus no PCIe/ATS capability). Extra QEMU arguments
# come after the runner's -device intel-iommu and before its disks.
# Environment: VTD_GUEST_ACCEL=kvm uses KVM (-cpu host, kernel-irqchip=split)
# instead of TCG (-cpu qemu64,+rdrand); VTD_GUEST_CPU overrides the -cpu model;
# VTD_GUEST_SMP is the -smp value (default 2);
# VTD_GUEST_QEMU_WRAPPER is put in front of the QEMU command (e.g. "gdb --args").
# Exits 0 only if the console shows "VTD-GUEST-RESULT: PASS <test>"; prints
# one summary line: "run-guest: PASS|FAIL <series> <test> [label] ...".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

die() { echo "run-guest: error: $*" >&2; exit 2; }
usage() {
    sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2
    exit "${1:-2}"
}

qemu=${VTD_QEMU:-$root/build/stock/qemu-system-x86_64}
series=6.12
test=boot
append=""
iommu=""
disks=()
disk_mib=64
logfile=""
guest_dir=${VTD_GUEST_DIR:-$root/build/guest}
timeout_s=${VTD_GUEST_TIMEOUT:-300}
label=""
migrate=""
payload=""
wrap=""
reboot=0
verbose=0
shell=0
accel=${VTD_GUEST_ACCEL:-tcg}
boot=${VTD_GUEST_BOOT:-}

need() { [ "$2" -ge 2 ] || die "option $1 needs a value"; }
while [ $# -gt 0 ]; do
    case $1 in
        -q|--qemu) need "$1" $#; qemu=$2; shift 2 ;;
        --qemu=*) qemu=${1#*=}; shift ;;
        -k|--kernel) need "$1" $#; series=$2; shift 2 ;;
        --kernel=*) series=${1#*=}; shift ;;
        -t|--test) need "$1" $#; test=$2; shift 2 ;;
        --test=*) test=${1#*=}; shift ;;
        -a|--append) need "$1" $#; append="$append $2"; shift 2 ;;
        --append=*) append="$append ${1#*=}"; shift ;;
        -i|--iommu) iommu="intel-iommu"; shift ;;
        --iommu=*|-i=*) iommu="intel-iommu,${1#*=}"; shift ;;
        -n|--nvme) disks+=("nvme:"); shift ;;
        --nvme=*|-n=*) disks+=("nvme:${1#*=}"); shift ;;
        -b|--virtio-blk) disks+=("virtio:"); shift ;;
        --virtio-blk=*|-b=*) disks+=("virtio:${1#*=}"); shift ;;
        --disk-size) need "$1" $#; disk_mib=$2; shift 2 ;;
        --disk-size=*) disk_mib=${1#*=}; shift ;;
        -l|--log) need "$1" $#; logfile=$2; shift 2 ;;
        --log=*) logfile=${1#*=}; shift ;;
        -g|--guest-dir) need "$1" $#; guest_dir=$2; shift 2 ;;
        --guest-dir=*) guest_dir=${1#*=}; shift ;;
        --boot) need "$1" $#; boot=$2; shift 2 ;;
        --boot=*) boot=${1#*=}; shift ;;
        -T|--timeout) need "$1" $#; timeout_s=$2; shift 2 ;;
        --timeout=*) timeout_s=${1#*=}; shift ;;
        --reboot) reboot=1; shift ;;
        -w|--wrap) need "$1" $#; wrap=$2; shift 2 ;;
        --wrap=*) wrap=${1#*=}; shift ;;
        -p|--payload) need "$1" $#; payload=$2; shift 2 ;;
        --payload=*) payload=${1#*=}; shift ;;
        -m|--migrate) need "$1" $#; migrate=$2; shift 2 ;;
        --migrate=*) migrate=${1#*=}; shift ;;
        -L|--label) need "$1" $#; label=$2; shift 2 ;;
        --label=*) label=${1#*=}; shift ;;
        -v|--verbose) verbose=1; shift ;;
        -s|--shell) shell=1; test=shell; shift ;;
        -h|--help) usage 0 ;;
        --) shift; break ;;
        *) die "unknown argument '$1' (QEMU arguments go after --)" ;;
    esac
done
extra_qemu=("$@")

case $series in 6.1|6.12) ;; *) die "unknown kernel series '$series' (6.1 or 6.12)" ;; esac
case $test in ""|*/*) die "bad test name '$test'" ;; esac
[ "$test" = shell ] || [ -f "$here/tests/$test.sh" ] || die "no test $here/tests/$test.sh"
[[ $timeout_s =~ ^[0-9]+$ ]] || die "bad timeout '$timeout_s'"
if ! [[ $disk_mib =~ ^[0-9]+$ ]] || [ "$disk_mib" -lt 1 ]; then
    die "bad disk size '$disk_mib'"
fi
[ -x "$qemu" ] || die "QEMU binary $qemu not found (use --qemu or VTD_QEMU)"

# ---------------------------------------------------------------- guest
kernel="$guest_dir/vmlinuz-$series"
initrd="$guest_dir/initramfs-$series.cpio.gz"
if [ ! -f "$kernel" ] || [ ! -f "$initrd" ] ||
   [ -n "$(find "$here/build-guest.sh" "$here/modules.list" "$here/rootfs" "$here/tests" \
             -newer "$initrd" -type f -print -quit)" ]; then
    "$here/build-guest.sh" --series "$series" "$guest_dir" >&2 ||
        die "build-guest.sh failed"
fi

case $boot in
    "") boot=bzimage; [ -f "$guest_dir/vmlinux-$series" ] && boot=pvh ;;
    pvh) [ -f "$guest_dir/vmlinux-$series" ] || die "no $guest_dir/vmlinux-$series for --boot pvh" ;;
    bzimage) ;;
    *) die "--boot must be pvh or bzimage" ;;
esac
[ "$boot" = pvh ] && kernel="$guest_dir/vmlinux-$series"

# A second archive after the initramfs: the kernel unpacks both.
if [ -n "$payload" ]; then
    case $payload in
        ours) payload=$root/build/qemu/qemu-system-x86_64 ;;
        stock) payload=$root/build/stock/qemu-system-x86_64 ;;
    esac
    pfile="$guest_dir/payload-$(echo "$payload" | md5sum | cut -c1-8).cpio.gz"
    if [ "$payload" = testpmd ]; then
        "$here/build-dpdk-payload.sh" "$pfile" || die "build-dpdk-payload.sh failed"
    else
        "$here/build-qemu-payload.sh" "$payload" "$pfile" || die "build-qemu-payload.sh failed"
    fi
fi

# ---------------------------------------------------------------- log
stamp=$(date +%Y%m%d-%H%M%S)
if [ -z "$logfile" ]; then
    mkdir -p "$root/build/guest-logs"
    logfile="$root/build/guest-logs/$series-$test${label:+-${label//[^A-Za-z0-9_.-]/_}}-$stamp-$$.log"
fi
mkdir -p "$(dirname "$logfile")"
: > "$logfile"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vtd-guest.XXXXXX")
tail_pid=""
qemu_pid=""
cleanup() {
    [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
    [ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "$payload" ]; then
    cat "$initrd" "$pfile" > "$tmp/initrd.cpio.gz"
    initrd=$tmp/initrd.cpio.gz
fi

# ---------------------------------------------------------------- disks
disk_args=()
guest_disks=()
n_nvme=0
n_virtio=0
letters=abcdefghijklmnopqrstuvwxyz
if [ ${#disks[@]} -gt 0 ]; then
    # sector i = "vtd-pattern sector %010d" padded to 511 bytes + "\n";
    # the same program is pattern_mib in rootfs/usr/lib/vtd/common.sh
    awk -v n=$((disk_mib * 2048)) 'BEGIN {
        for (i = 0; i < n; i++) printf "vtd-pattern sector %010d%482s\n", i, "" }' \
        > "$tmp/pattern.img"
fi
i=0
for spec in "${disks[@]}"; do
    kind=${spec%%:*}
    opts=${spec#*:}
    img="$tmp/disk$i.img"
    cp "$tmp/pattern.img" "$img"
    disk_args+=(-drive "file=$img,if=none,id=vtddisk$i,format=raw")
    if [ "$kind" = nvme ]; then
        disk_args+=(-device "nvme,drive=vtddisk$i,serial=vtd$i${opts:+,$opts}")
        guest_disks+=("nvme${n_nvme}n1")
        n_nvme=$((n_nvme + 1))
    else
        [ $n_virtio -lt 26 ] || die "too many virtio disks"
        # iommu_platform=on needs a modern-only device
        case ",$opts," in
            *,iommu_platform=on,*) case ",$opts," in *,disable-legacy=*) ;;
                                   *) opts="disable-legacy=on,$opts" ;; esac ;;
        esac
        # ATS needs a PCIe function, i.e. one behind a root port
        case ",$opts," in
            *,ats=on,*) case ",$opts," in *,bus=*) ;;
                        *) disk_args+=(-device "pcie-root-port,id=vtdrp$i,chassis=$((100 + i))")
                           opts="bus=vtdrp$i,$opts" ;; esac ;;
        esac
        disk_args+=(-device "virtio-blk-pci,drive=vtddisk$i${opts:+,$opts}")
        guest_disks+=("vd${letters:n_virtio:1}")
        n_virtio=$((n_virtio + 1))
    fi
    i=$((i + 1))
done
rm -f "$tmp/pattern.img"

# ---------------------------------------------------------------- command
cmdline="console=ttyS0 panic=-1 quiet vtdtest=$test"
if [ ${#guest_disks[@]} -gt 0 ]; then
    cmdline="$cmdline vtddisks=$(IFS=,; echo "${guest_disks[*]}") vtdpattern=1"
fi
cmdline="$cmdline${append}"

machine="q35"
case $accel in
    # RDRAND lets the guest kernel seed its CRNG at once (reading
    # /dev/urandom otherwise stalls ~1 s under TCG)
    tcg) accel_args=(-accel tcg -cpu "${VTD_GUEST_CPU:-qemu64,+rdrand}") ;;
    kvm) accel_args=(-accel kvm -cpu "${VTD_GUEST_CPU:-host}"); machine="q35,kernel-irqchip=split" ;;
    *) die "VTD_GUEST_ACCEL must be tcg or kvm, not '$accel'" ;;
esac

# firmware from Debian: seabios (BIOS), qemu-system-data (linuxboot_dma.bin,
# pvh.bin), ipxe-qemu (NIC option ROMs); installed here if missing
if [ ! -f /usr/share/seabios/bios-256k.bin ] || [ ! -f /usr/share/qemu/pvh.bin ] ||
   [ ! -f /usr/share/qemu/linuxboot_dma.bin ] || [ ! -d /usr/lib/ipxe/qemu ]; then
    [ "$(id -u)" = 0 ] || die "firmware missing: apt-get install seabios qemu-system-data ipxe-qemu"
    echo "run-guest: installing seabios qemu-system-data ipxe-qemu" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
          --no-install-recommends seabios qemu-system-data ipxe-qemu; } >&2 ||
        die "could not install the firmware packages"
fi
fw=()
for d in /usr/share/seabios /usr/lib/ipxe/qemu /usr/share/qemu; do
    [ -d "$d" ] && fw+=(-L "$d")
done

cmd=("$qemu" -machine "$machine" "${accel_args[@]}" -m 1G -smp "${VTD_GUEST_SMP:-2}"
     -nodefaults -nographic "${fw[@]}"
     -kernel "$kernel" -initrd "$initrd" -append "$cmdline")
[ "$reboot" = 1 ] || cmd+=(-no-reboot)
if [ "$shell" = 1 ]; then
    cmd+=(-serial mon:stdio)
else
    # A monitor for hang-dump.py, which says what a guest that is about
    # to time out was doing.
    cmd+=(-serial "file:$logfile" -monitor "unix:$tmp/hmp.sock,server=on,wait=off")
fi
[ -n "$iommu" ] && cmd+=(-device "$iommu")
cmd+=("${extra_qemu[@]}" "${disk_args[@]}")
# shellcheck disable=SC2206
[ -n "${VTD_GUEST_QEMU_WRAPPER:-}" ] && cmd=($VTD_GUEST_QEMU_WRAPPER "${cmd[@]}")
if [ -n "$wrap" ]; then
    wrapper=$(ls "$here/$wrap-wrapper".* 2>/dev/null | head -n1)
    [ -x "$wrapper" ] || die "no wrapper $here/$wrap-wrapper.*"
    cmd=("$wrapper" "${cmd[@]}")
fi
if [ -n "$migrate" ]; then
    [[ $migrate =~ ^[^@]+@[0-9,]+$ ]] || die "--migrate wants CHAIN@ROUNDS, not '$migrate'"
    cmd=("$here/migrate-wrapper.py" --chain "${migrate%@*}" --at "${migrate#*@}" "${cmd[@]}")
fi

{
    printf 'run-guest: %q' "${cmd[0]}"
    printf ' %q' "${cmd[@]:1}"
    echo
} > "$tmp/cmd"

if [ "$shell" = 1 ]; then
    cat "$tmp/cmd" >&2
    "${cmd[@]}"
    exit $?
fi

# ---------------------------------------------------------------- run
if [ "$verbose" = 1 ]; then
    cat "$tmp/cmd" >&2
    tail -n +1 -F "$logfile" 2>/dev/null &
    tail_pid=$!
fi
t0=$(date +%s.%N)
timeout -k 5 "$timeout_s" "${cmd[@]}" < /dev/null > "$tmp/qemu.out" 2>&1 &
qemu_pid=$!
# A guest that hits "KVM internal error" is paused by QEMU, not stopped:
# end it at once instead of waiting for the timeout.  A guest still
# running 5 s before the timeout gets its state dumped (hang-dump.py).
(
    start=$(date +%s)
    dumped=0
    while kill -0 "$qemu_pid" 2>/dev/null; do
        sleep 1
        if grep -q "KVM internal error" "$tmp/qemu.out" 2>/dev/null; then
            kill "$qemu_pid" 2>/dev/null
            break
        fi
        if [ $dumped = 0 ] && [ -S "$tmp/hmp.sock" ] &&
           [ $(($(date +%s) - start)) -ge $((timeout_s - 5)) ]; then
            dumped=1
            timeout 4 "$here/hang-dump.py" "$tmp/hmp.sock" > "$tmp/hang.txt" 2>&1
        fi
    done
) &
watch_pid=$!
set +e
wait "$qemu_pid" 2>/dev/null
rc=$?
set -e
qemu_pid=""
kill "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
t1=$(date +%s.%N)
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
if [ -n "$tail_pid" ]; then
    sleep 0.3
    kill "$tail_pid" 2>/dev/null || true
    wait "$tail_pid" 2>/dev/null || true
    tail_pid=""
fi

{
    echo
    echo "---- run-guest ----"
    cat "$tmp/cmd"
    echo "qemu exit status $rc after ${wall}s"
    if [ -s "$tmp/qemu.out" ]; then
        echo "---- qemu output ----"
        cat "$tmp/qemu.out"
    fi
    if [ -s "$tmp/hang.txt" ]; then
        echo "---- guest state before the timeout (hang-dump.py) ----"
        cat "$tmp/hang.txt"
    fi
} >> "$logfile"

result=$(tr -d '\r' < "$logfile" | grep -a -E "^VTD-GUEST-RESULT: (PASS|FAIL) " | tail -n1 || true)
times=$(tr -d '\r' < "$logfile" | grep -a -E "^VTD-GUEST-TIME: " | tail -n1 || true)
boot_s=$(echo "$times" | sed -n 's/.* init=\([0-9.]*\)s.*/\1/p')
end_s=$(echo "$times" | sed -n 's/.* end=\([0-9.]*\)s.*/\1/p')

# A wrapper's own verdict on what it saw from the host side.
host_check=$(tr -d '\r' < "$logfile" | grep -a -E "^VTD-HOST-CHECK: " | tail -n1 || true)

status=FAIL
reason=""
if [ "${host_check#VTD-HOST-CHECK: FAIL }" != "$host_check" ]; then
    reason="host side: ${host_check#VTD-HOST-CHECK: FAIL }"
elif [ "$result" = "VTD-GUEST-RESULT: PASS $test" ]; then
    status=PASS
elif grep -q "KVM internal error" "$tmp/qemu.out"; then
    reason="KVM internal error: $(grep -a -m1 -E 'emulation failure|Suberror' "$tmp/qemu.out")"
elif [ $rc = 124 ] || [ $rc = 137 ]; then
    reason="timeout after ${timeout_s}s"
elif [ -n "$result" ]; then
    reason=${result#VTD-GUEST-RESULT: FAIL }
    reason=${reason#"$test" }
elif grep -a -q "Kernel panic" "$logfile"; then
    reason=$(tr -d '\r' < "$logfile" | grep -a -o -m1 'Kernel panic.*')
elif [ $rc != 0 ]; then
    reason="qemu exit status $rc: $(grep -v '^$' "$tmp/qemu.out" | head -n1)"
else
    reason="no result line on the console"
fi

summary="run-guest: $status $series $test${label:+ [$label]} wall=${wall}s"
[ -n "$boot_s" ] && summary="$summary guest-init=${boot_s}s guest-end=${end_s}s"
[ $status = PASS ] || summary="$summary reason: $reason"
echo "$summary log=$logfile"
[ $status = PASS ]
