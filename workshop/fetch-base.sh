#!/bin/bash
# Fetch the pinned Debian source package of the base into the cache and
# extract it (with Debian's patches applied) as the pristine base tree.
# Usage: fetch-base.sh CACHE_DIR PRISTINE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/base.env"
cache=$1
pristine=$2
mkdir -p "$cache"

verify() {
    (cd "$cache" &&
     echo "$BASE_ORIG_SHA256  $BASE_ORIG" | sha256sum -c --quiet - &&
     echo "$BASE_DEBIAN_SHA256  $BASE_DEBIAN" | sha256sum -c --quiet - &&
     echo "$BASE_DSC_SHA256  $BASE_DSC" | sha256sum -c --quiet -) 2>/dev/null
}

if ! verify; then
    echo "base: downloading qemu=$BASE_VERSION source"
    if ! (cd "$cache" && apt-get source --download-only "qemu=$BASE_VERSION" >/dev/null); then
        echo "*************************************************************" >&2
        echo "WARNING: pinned qemu $BASE_VERSION is not in the archive;" >&2
        echo "WARNING: falling back to the newest trixie qemu 10.0.x." >&2
        echo "*************************************************************" >&2
        (cd "$cache" && apt-get source --download-only -t trixie qemu >/dev/null)
        dsc=$(ls -t "$cache"/qemu_10.0.*.dsc | head -n1)
        [ -n "$dsc" ] || { echo "base: no qemu 10.0.x source found" >&2; exit 1; }
        BASE_DSC=$(basename "$dsc")
    elif ! verify; then
        echo "base: sha256 mismatch for the pinned source package" >&2
        exit 1
    fi
fi

stamp="$pristine/.base-stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$BASE_DSC" ]; then
    exit 0
fi
rm -rf "$pristine"
tmp=$(mktemp -d "$cache/extract.XXXXXX")
dpkg-source --no-check -x "$cache/$BASE_DSC" "$tmp/src" >/dev/null
mkdir -p "$(dirname "$pristine")"
mv "$tmp/src" "$pristine"
rm -rf "$tmp"
echo "$BASE_DSC" > "$stamp"
echo "base: extracted $BASE_DSC into $pristine"
