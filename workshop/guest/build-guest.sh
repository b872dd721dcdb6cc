#!/bin/bash
# Build the VT-d test guests from Debian packages only.
#
# Usage: build-guest.sh [--series 6.1|6.12|all] [--force] OUTDIR
#
# For each kernel series writes OUTDIR/vmlinuz-<series> (the package's
# bzImage), OUTDIR/vmlinux-<series> (the same kernel as an uncompressed ELF,
# which QEMU boots via PVH, faster under TCG), OUTDIR/initramfs-<series>.cpio.gz
# and OUTDIR/guest-<series>.txt.
#   6.1  = bookworm's linux-image-amd64 (newest non-backports 6.1.x)
#   6.12 = bookworm-backports' linux-image-amd64
# Packages are fetched with `apt-get download` into the cache
# ($VTD_GUEST_CACHE, default ~/.cache/qemu-vtd/guest-debs) and unpacked with
# dpkg-deb -x there; nothing is installed on the host except missing tools.
# A series whose inputs (package versions, this script, modules.list,
# rootfs/, tests/) did not change is skipped.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${VTD_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/qemu-vtd/guest-debs}

log() { echo "guest: $*" >&2; }
die() { echo "guest: error: $*" >&2; exit 1; }

usage() {
    sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2
    exit "${1:-2}"
}

series_opt=all
force=0
out=""
while [ $# -gt 0 ]; do
    case $1 in
        --series) [ $# -ge 2 ] || usage; series_opt=$2; shift 2 ;;
        --series=*) series_opt=${1#*=}; shift ;;
        --force) force=1; shift ;;
        -h|--help) usage 0 ;;
        -*) die "unknown option $1" ;;
        *) [ -z "$out" ] || usage; out=$1; shift ;;
    esac
done
[ -n "$out" ] || usage
case $series_opt in
    all) series_list="6.1 6.12" ;;
    6.1|6.12) series_list=$series_opt ;;
    *) die "unknown series '$series_opt' (6.1, 6.12 or all)" ;;
esac

# ---------------------------------------------------------------- host tools
apt_updated=0
apt_update_once() {
    [ $apt_updated = 1 ] && return 0
    log "apt-get update"
    apt-get update -qq -o Acquire::Retries=3 >&2
    apt_updated=1
}

ensure_tools() {
    local missing="" pair cmd pkg
    for pair in depmod:kmod modprobe:kmod cpio:cpio gzip:gzip xz:xz-utils \
                zstd:zstd dpkg-deb:dpkg sha256sum:coreutils find:findutils \
                awk:mawk; do
        cmd=${pair%%:*}
        pkg=${pair#*:}
        if ! command -v "$cmd" >/dev/null 2>&1 &&
           ! [ -x "/sbin/$cmd" ] && ! [ -x "/usr/sbin/$cmd" ]; then
            case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
        fi
    done
    [ -z "$missing" ] && return 0
    [ "$(id -u)" = 0 ] || die "missing host tools:$missing (apt-get install them)"
    log "installing host tools:$missing"
    apt_update_once
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2
}

export PATH=$PATH:/usr/sbin:/sbin
command -v apt-get >/dev/null || die "apt-get not found (Debian host required)"
ensure_tools

apt_opts=()
[ "$(id -u)" = 0 ] && apt_opts=(-o APT::Sandbox::User=root)

# --------------------------------------------------------- package handling
# Newest version of a package from `apt-cache madison` (one call for all
# packages: each call costs most of a second), filtered by an awk condition
# on the version ($2) and the archive line ($3).
madison_load() {
    madison_out=$(apt-cache madison linux-image-amd64 busybox-static 2>/dev/null || true)
}
madison_pick() {  # PKG AWK_CONDITION
    echo "$madison_out" | awk -F'|' -v pkg="$1" '
        { gsub(/^ +| +$/, "", $1); gsub(/^ +| +$/, "", $2); gsub(/^ +| +$/, "", $3) }
        $1 == pkg && $3 ~ / Packages$/ && '"$2"' { print $2; exit }'
}

meta_version() {  # SERIES
    local cond
    # shellcheck disable=SC2016  # awk program text
    case $1 in
        6.1)  cond='$2 ~ /^6\.1\./ && $2 !~ /bpo/ && $3 !~ /backports/' ;;
        6.12) cond='$3 ~ /bookworm-backports/ && $2 ~ /^6\.12\./' ;;
    esac
    local v
    v=$(madison_pick linux-image-amd64 "$cond")
    [ -n "$v" ] || die "no linux-image-amd64 for series $1 in the apt lists" \
        "(6.12 needs bookworm-backports in the apt sources; workshop/deps.sh adds it)"
    echo "$v"
}

# Download NAME=VERSION into the cache unless present; print the .deb path.
fetch_deb() {  # NAME VERSION
    local name=$1 ver=$2 enc f tmp
    enc=${ver//:/%3a}
    for f in "$cache/${name}_${enc}"_*.deb; do
        [ -s "$f" ] && { echo "$f"; return 0; }
    done
    log "downloading $name=$ver"
    tmp=$(mktemp -d "$cache/.dl.XXXXXX")
    if ! (cd "$tmp" && apt-get "${apt_opts[@]}" download -qq "$name=$ver" >&2); then
        apt_update_once
        (cd "$tmp" && apt-get "${apt_opts[@]}" download -qq "$name=$ver" >&2) ||
            { rm -rf "$tmp"; die "apt-get download $name=$ver failed"; }
    fi
    for f in "$tmp"/*.deb; do
        [ -s "$f" ] || continue
        mv "$f" "$cache/"
        echo "$cache/$(basename "$f")"
    done
    rm -rf "$tmp"
}

# "linux-image-6.1.0-56-amd64 (= 6.1.192-2)" -> "NAME VERSION"
deb_dep() {  # DEB
    local dep
    dep=$(dpkg-deb -f "$1" Depends | cut -d, -f1 | cut -d'|' -f1)
    echo "$dep" | sed -n 's/^ *\([^ ]*\) *(= *\([^)]*\)).*/\1 \2/p'
}

# Unpack a .deb once into the cache; print the directory.
unpack_deb() {  # DEB
    local deb=$1 dir
    dir="$cache/extract/$(basename "$deb" .deb)"
    if [ ! -f "$dir/.unpacked" ]; then
        log "unpacking $(basename "$deb")"
        rm -rf "$dir"
        mkdir -p "$dir"
        dpkg-deb -x "$deb" "$dir"
        touch "$dir/.unpacked"
    fi
    echo "$dir"
}

# Unpacked kernel: make sure modules.dep exists (the package does not ship
# it); print the kernel release.
kernel_release() {  # DIR
    local dir=$1 rel
    if [ ! -d "$dir/lib/modules" ] && [ -d "$dir/usr/lib/modules" ]; then
        ln -s usr/lib "$dir/lib"
    fi
    rel=$(find "$dir/lib/modules/" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort | head -n1)
    [ -n "$rel" ] || die "no lib/modules/* in $dir"
    [ -f "$dir/boot/vmlinuz-$rel" ] || die "no boot/vmlinuz-$rel in $dir"
    if [ ! -f "$dir/.depmod" ]; then
        log "depmod $rel (package tree)"
        depmod -b "$dir" "$rel"
        touch "$dir/.depmod"
    fi
    echo "$rel"
}

# Uncompressed ELF vmlinux from a bzImage (like the kernel's
# scripts/extract-vmlinux): QEMU boots it through the PVH entry point,
# which skips the slow in-guest decompression under TCG.
extract_vmlinux() {  # BZIMAGE CONFIG OUT
    local img=$1 config=$2 dst=$3 magic dec off
    grep -q '^CONFIG_PVH=y' "$config" || { log "no CONFIG_PVH in $config"; return 1; }
    for magic in '\xfd7zXZ\x00:xz -dcq --single-stream' \
                 '\x28\xb5\x2f\xfd:zstd -dcq' '\x1f\x8b\x08:gzip -dcq'; do
        dec=${magic#*:}
        for off in $(LC_ALL=C grep -obUaP "${magic%%:*}" "$img" | cut -d: -f1 | head -n 3); do
            # shellcheck disable=SC2086
            tail -c +$((off + 1)) "$img" | $dec > "$dst" 2>/dev/null || true
            if [ "$(head -c 4 "$dst" | od -A n -t x1 | tr -d ' ')" = 7f454c46 ]; then
                return 0
            fi
        done
    done
    rm -f "$dst"
    return 1
}

# ------------------------------------------------------------ initramfs
decompress_to() {  # SRC DST
    case $1 in
        *.ko.xz)  xz -dc -- "$1" > "$2" ;;
        *.ko.zst) zstd -qdc -- "$1" > "$2" ;;
        *.ko.gz)  gzip -dc -- "$1" > "$2" ;;
        *.ko)     cp -- "$1" "$2" ;;
        *) die "unexpected module file $1" ;;
    esac
}

build_initramfs() {  # SERIES KDIR KREL BUSYBOX OUTFILE INFOFILE
    local series=$1 kdir=$2 krel=$3 bb=$4 outfile=$5 info=$6
    local stage line m optional deps path rel dst loaded="" builtin=""
    stage=$(mktemp -d "$out/.initramfs-$series.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$stage'" EXIT

    mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc/modprobe.d,root,tests}
    mkdir -p "$stage/lib/modules/$krel"
    cp "$bb" "$stage/bin/busybox"
    chmod 755 "$stage/bin/busybox"
    # one symlink per applet (perl-base is Essential: no fork per link)
    "$bb" --list-full | grep -v -x bin/busybox |
        (cd "$stage" && perl -ne 'chomp; symlink("/bin/busybox", $_) or die "$_: $!\n"')

    # modules and their dependencies
    local -A seen=()
    while read -r line; do
        line=${line%%#*}
        m=$(echo "$line" | tr -d '[:space:]')
        [ -n "$m" ] || continue
        optional=0
        case $m in \?*) optional=1; m=${m#\?} ;; esac
        if ! deps=$(modprobe -C "$stage/etc/modprobe.d" -d "$kdir" -S "$krel" \
                      --show-depends "$m" 2>&1); then
            [ $optional = 1 ] && { log "$series: optional module $m not available"; continue; }
            die "$series: module $m not found in $krel: $deps"
        fi
        if echo "$deps" | grep -q '^builtin '; then
            builtin="$builtin $m"
            continue
        fi
        while read -r kw path _; do
            [ "$kw" = insmod ] || continue
            rel=${path#"$kdir/lib/modules/$krel/"}
            rel=${rel%.xz}; rel=${rel%.zst}; rel=${rel%.gz}
            [ -n "${seen[$rel]:-}" ] && continue
            seen[$rel]=1
            dst="$stage/lib/modules/$krel/$rel"
            mkdir -p "$(dirname "$dst")"
            decompress_to "$path" "$dst"
        done <<< "$deps"
        loaded="$loaded $m"
    done < "$here/modules.list"
    for f in modules.builtin modules.builtin.modinfo modules.order; do
        [ -f "$kdir/lib/modules/$krel/$f" ] && cp "$kdir/lib/modules/$krel/$f" "$stage/lib/modules/$krel/"
    done
    depmod -b "$stage" "$krel"
    # shellcheck disable=SC2086
    printf '%s\n' $loaded > "$stage/etc/vtd-modules"

    # init, helpers, tests
    cp -a "$here/rootfs/." "$stage/"
    chmod 755 "$stage/init"
    cp "$here"/tests/*.sh "$stage/tests/"
    chmod 755 "$stage"/tests/*.sh
    # user-space test programs (static: the guest has no libc)
    for src in "$here"/tools/*.c; do
        [ -e "$src" ] || continue
        gcc -static -O2 -Wall -Werror -o "$stage/usr/bin/$(basename "$src" .c)" "$src" ||
            die "cannot build $(basename "$src")"
    done
    # the kernel's built-in initramfs has /dev/console too; this is a spare
    if [ "$(id -u)" = 0 ]; then
        mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
    fi

    {
        echo "series=$series"
        echo "kernel_release=$krel"
        echo "kernel_package=$kpkg=$kver"
        echo "busybox_package=busybox-static=$bbver"
        echo "modules=${loaded# }"
        echo "builtin=${builtin# }"
    } > "$stage/etc/vtd-guest-info"
    cp "$stage/etc/vtd-guest-info" "$info.tmp.$$"

    # fixed timestamps: the same inputs give the same archive
    find "$stage" -exec touch -h -d @0 {} +
    (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
        cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -6n > "$outfile.tmp.$$"
    mv "$outfile.tmp.$$" "$outfile"
    mv "$info.tmp.$$" "$info"
    rm -rf "$stage"
    trap - EXIT
}

# ------------------------------------------------------------------ main
mkdir -p "$cache" "$out"
out=$(cd "$out" && pwd)

# shellcheck disable=SC2016  # awk program text
bb_cond='$3 !~ /backports/ && $3 !~ /trixie|sid|forky/'
madison_load
if [ -z "$(madison_pick busybox-static "$bb_cond")" ] ||
   { [ "$series_opt" != 6.1 ] &&
     [ -z "$(madison_pick linux-image-amd64 "\$3 ~ /bookworm-backports/")" ]; }; then
    apt_update_once
    madison_load
fi
bbver=$(madison_pick busybox-static "$bb_cond")
[ -n "$bbver" ] || die "busybox-static not in the apt lists"
bbdir=$(unpack_deb "$(fetch_deb busybox-static "$bbver")")
bb="$bbdir/bin/busybox"
[ -x "$bb" ] || die "no bin/busybox in busybox-static $bbver"

src_hash=$(cd "$here" && find build-guest.sh modules.list rootfs tests tools -type f -print0 |
           LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)

keep=" $(basename "$bbdir") "
for series in $series_list; do
    t0=$(date +%s.%N)
    meta=$(fetch_deb linux-image-amd64 "$(meta_version "$series")")
    read -r kpkg kver <<< "$(deb_dep "$meta")"
    [ -n "${kpkg:-}" ] || die "cannot parse Depends of $(basename "$meta")"
    kdeb=$(fetch_deb "$kpkg" "$kver")
    kdir="$cache/extract/$(basename "$kdeb" .deb)"
    keep="$keep$(basename "$kdir") "
    stamp="$out/.stamp-$series"
    key="$kpkg=$kver busybox-static=$bbver src=$src_hash"
    if [ $force = 0 ] && [ -f "$out/vmlinuz-$series" ] &&
       [ -f "$out/initramfs-$series.cpio.gz" ] && [ -f "$out/guest-$series.txt" ] &&
       [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
        log "$series: up to date ($kpkg $kver)"
        # newer than the sources again (run-guest.sh compares mtimes)
        touch "$out/initramfs-$series.cpio.gz"
        continue
    fi
    log "$series: building from $kpkg $kver"
    rm -f "$stamp"
    kdir=$(unpack_deb "$kdeb")
    krel=$(kernel_release "$kdir")
    case $krel in
        "$series".*) ;;
        *) die "$kpkg has kernel release $krel, expected series $series" ;;
    esac
    build_initramfs "$series" "$kdir" "$krel" "$bb" \
        "$out/initramfs-$series.cpio.gz" "$out/guest-$series.txt"
    kstamp="$out/.kernel-$series"
    if [ ! -f "$out/vmlinuz-$series" ] || [ "$(cat "$kstamp" 2>/dev/null)" != "$kpkg=$kver" ]; then
        rm -f "$kstamp"
        cp "$kdir/boot/vmlinuz-$krel" "$out/vmlinuz-$series.tmp.$$"
        mv "$out/vmlinuz-$series.tmp.$$" "$out/vmlinuz-$series"
        if extract_vmlinux "$out/vmlinuz-$series" "$kdir/boot/config-$krel" \
                           "$out/vmlinux-$series.tmp.$$"; then
            mv "$out/vmlinux-$series.tmp.$$" "$out/vmlinux-$series"
        else
            log "$series: could not extract an ELF vmlinux; run-guest.sh will boot the bzImage"
            rm -f "$out/vmlinux-$series"
        fi
        echo "$kpkg=$kver" > "$kstamp"
    fi
    echo "$key" > "$stamp"
    size=$(du -k "$out/initramfs-$series.cpio.gz" | cut -f1)
    log "$series: $krel -> $out/vmlinuz-$series, initramfs-$series.cpio.gz (${size} KiB)" \
        "in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"
done

# Drop unpacked trees and kernel packages that the current packages replaced.
if [ "$series_opt" = all ] && [ -d "$cache/extract" ]; then
    for d in "$cache/extract"/*/; do
        d=$(basename "$d")
        case $keep in *" $d "*) continue ;; esac
        log "pruning old $d"
        rm -rf "${cache:?}/extract/$d" "$cache/$d.deb"
    done
fi
