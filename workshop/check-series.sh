#!/bin/bash
# Check the deliverable: the series from make-series.py applies with
# `git am` on a git repository of the pristine base, gives exactly the tree
# the workshop builds, and builds.
# Usage: check-series.sh SERIES-DIR SERIES-WORKDIR PREPARED-TREE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
series=$(cd "$1" && pwd)
workdir=$(cd "$2" && pwd)
prepared=$(cd "$3" && pwd)
check="$workdir/check"

# Apply the series to a fresh clone of the base in am/.
rm -rf "$check/am"
mkdir -p "$check"
git clone -q "$workdir/base.git" "$check/am"
git -C "$check/am" config gc.auto 0
git -C "$check/am" -c user.name=check -c user.email=check@invalid \
    am -q "$series"/*.patch
echo "series: $(ls "$series"/*.patch | wc -l) patches applied with git am"

# python/wheels and qemu-iotests/scratch are made in the tree by configure.
if ! diff -rq -x .git -x .base-stamp -x .series-base-stamp -x wheels \
        -x scratch "$check/am" "$prepared" >"$check/diff.txt"; then
    echo "series: the series does not give the prepared tree:" >&2
    head -n 20 "$check/diff.txt" >&2
    exit 1
fi
echo "series: the result is identical to the prepared tree"
# Build it in src/ next to build/, like build/src and build/qemu, so ccache
# sees the same relative compile commands; files whose content did not
# change keep their time stamps, so a warm check rebuilds little.
mkdir -p "$check/src"
rsync -rlc --delete --exclude=/.git "$check/am/" "$check/src/"
rm -rf "$check/am"
"$here/build.sh" "$check/src" "$check/build" qemu-system-x86_64 \
    tests/qtest/intel-iommu-test
echo "series: builds"
