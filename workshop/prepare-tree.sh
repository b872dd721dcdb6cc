#!/bin/bash
# Lay the project over the pristine base:
#   1. start from the pristine tree (hard links, so this is cheap),
#   2. delete upstream's intel-iommu implementation,
#   3. copy our overlay files (hw/ include/ tests/ docs/ of this repo),
#   4. apply patches/*.patch to base files, in order,
#   5. sync the result into OUT, touching only files whose content changed
#      so that ninja rebuilds only what really changed.
# Usage: prepare-tree.sh REPO PRISTINE OUT
set -euo pipefail
repo=$(cd "$1" && pwd)
pristine=$(cd "$2" && pwd)
out=$3

# Upstream's implementation, removed before our files are laid on top.
upstream_files="hw/i386/intel_iommu.c hw/i386/intel_iommu_internal.h
include/hw/i386/intel_iommu.h tests/qtest/intel-iommu-test.c"

stage="$out.stage"
rm -rf "$stage"
cp -al "$pristine" "$stage"
for f in $upstream_files; do
    rm -f "$stage/$f"
done

overlay_files() {
    if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
        # Tracked and untracked-but-not-ignored files: what a commit would hold.
        git -C "$repo" ls-files --cached --others --exclude-standard -- \
            hw include tests docs | while read -r f; do
            [ -f "$repo/$f" ] && echo "$f"
        done
    else
        (cd "$repo" && find hw include tests docs -type f 2>/dev/null)
    fi
}
overlay_files | sort -u | while read -r f; do
    mkdir -p "$stage/$(dirname "$f")"
    cp --remove-destination "$repo/$f" "$stage/$f"
done

for p in "$repo"/patches/*.patch; do
    [ -e "$p" ] || continue
    # Break hard links first so the pristine tree is never modified.
    (cd "$stage" && git apply --numstat "$p" | cut -f3) | while read -r f; do
        if [ -f "$stage/$f" ]; then
            cp "$stage/$f" "$stage/$f.unlink" && mv "$stage/$f.unlink" "$stage/$f"
        fi
    done
    if ! (cd "$stage" && git apply --whitespace=nowarn "$p"); then
        echo "prepare: $(basename "$p") does not apply to the base" >&2
        exit 1
    fi
done

mkdir -p "$out"
rsync -rlc --delete --exclude=/.base-stamp "$stage/" "$out/"
rm -rf "$stage"
