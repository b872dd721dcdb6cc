#!/bin/bash
# Configure (once) and build QEMU from SRC into BUILD.
# Usage: build.sh SRC BUILD [ninja targets...]
# VTD_CONFIGURE_EXTRA: more configure options (make check-asan's sanitizers).
set -euo pipefail
src=$(cd "$1" && pwd)
build=$2
shift 2
targets=${*:-qemu-system-x86_64}

flags="--target-list=x86_64-softmmu --disable-docs --disable-install-blobs
--disable-download --enable-slirp --enable-kvm --enable-vhost-user
--disable-gtk --disable-sdl --disable-vnc --disable-opengl --disable-xen
--disable-werror --disable-user --python=/usr/bin/python3
--enable-trace-backends=log"
[ -n "${VTD_CONFIGURE_EXTRA:-}" ] && flags="$flags $VTD_CONFIGURE_EXTRA"

export PATH=/usr/lib/ccache:$PATH
CCACHE_BASEDIR=$(dirname "$src")
export CCACHE_BASEDIR
export CCACHE_NOHASHDIR=1

mkdir -p "$build"
build=$(cd "$build" && pwd)
stamp="$build/.configure-flags"
if [ ! -f "$build/build.ninja" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$src $flags" ]; then
    echo "build: configuring $build"
    (cd "$build" && "$src/configure" $flags >configure.log 2>&1) || {
        tail -n 40 "$build/configure.log" >&2
        exit 1
    }
    echo "$src $flags" > "$stamp"
fi
echo "build: ninja $targets in $build"
ninja -C "$build" $targets

# Debian's +ds source carries no firmware blobs: let binaries run from the
# build tree (and qtests) find Debian's packaged ones in the bundle directory
# that QEMU searches relative to its own binary.
datadir="$build/qemu-bundle/usr/local/share/qemu"
mkdir -p "$datadir"
for fw in /usr/share/seabios/*.bin /usr/lib/ipxe/qemu/*.rom \
          /usr/share/qemu/*.bin /usr/share/qemu/*.rom; do
    [ -e "$fw" ] || continue
    [ -e "$datadir/$(basename "$fw")" ] || ln -s "$fw" "$datadir/"
done
