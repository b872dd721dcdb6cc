#!/bin/bash
# Install what the workshop needs from Debian's apt, only when missing.
# Adds deb-src for trixie (the base source) and bookworm-backports (meson)
# using the URI of the machine's existing Debian apt configuration.
set -euo pipefail

want_pkgs="build-essential ninja-build pkg-config libglib2.0-dev libpixman-1-dev
libslirp-dev libfdt-dev zlib1g-dev flex bison python3-venv dpkg-dev ccache
seabios ipxe-qemu qemu-system-data busybox-static cpio xz-utils git
python3-tomli rsync kmod zstd ${VTD_EXTRA_PKGS:-}"
guest_pkgs=""

debian_uri() {
    local uri=""
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk '/^URIs:/ && /debian\/?$/ && !/security/ {print $2; exit}' "$f")
        [ -n "$uri" ] && break
    done
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1=="deb" && $2 ~ /debian\/?$/ && $2 !~ /security/ {print $2; exit}' \
              /etc/apt/sources.list)
    fi
    [ -n "$uri" ] || { echo "deps: no Debian URI found in apt configuration" >&2; exit 1; }
    echo "$uri"
}

ensure_sources() {
    local f=/etc/apt/sources.list.d/qemu-vtd-workshop.sources
    [ -f "$f" ] && return 1
    local uri
    uri=$(debian_uri)
    cat > "$f" <<SRC
Types: deb-src
URIs: $uri
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    # Only meson is taken from backports; everything else stays bookworm.
    cat > /etc/apt/preferences.d/qemu-vtd-workshop <<PREF
Package: *
Pin: release n=bookworm-backports
Pin-Priority: 100
PREF
    return 0
}

updated=0
apt_update() {
    [ $updated = 1 ] && return
    apt-get update -qq -o Acquire::Retries=3
    updated=1
}

if ensure_sources; then
    apt_update
fi

missing=""
for p in $want_pkgs $guest_pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    apt_update
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi

meson_ok() {
    command -v /usr/bin/meson >/dev/null &&
        dpkg --compare-versions "$(/usr/bin/meson --version)" ge 1.5
}
if ! meson_ok; then
    apt_update
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -t bookworm-backports meson
fi
echo "deps: ok (meson $(/usr/bin/meson --version))"
