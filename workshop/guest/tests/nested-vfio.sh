#!/bin/sh
# nested-vfio: nested device assignment, with a QEMU inside the guest.
#
# The guest (L1) binds edu (00:04.0, from the runner's -device edu) to
# vfio-pci and runs the QEMU of its payload (run-guest.sh --payload) as a
# nested machine (L2) with intel-iommu,caching-mode=on and that edu
# assigned, driven through qtest as an L2 guest driver would drive VT-d:
# tables in L2 memory, register invalidations.  The L1 QEMU's VFIO is then
# the consumer of intel-iommu's MAP/UNMAP notifications, and the real edu
# (in L0) does DMA through both IOMMUs.  Checked:
#   - an assigned device without caching-mode=on is refused at start;
#   - enabling translation replays the existing mapping (MAP);
#   - edu copies through it, data lands in L2 memory;
#   - unmapping plus a page invalidation sends UNMAP, and edu's next read
#     of that IOVA is blocked (a DMAR fault in L1's log);
#   - remapping read-only elsewhere sends MAP with the new page and
#     permission; repeating the invalidation sends nothing;
#   - moving the device to another domain (context invalidation) unmaps
#     the old domain's pages and maps the new one's;
#   - pass-through: DMA at guest-physical addresses, no notifications;
#   - the exact MAP/UNMAP sequence, from the L1 QEMU's trace.
# With vtdl2=sm the L2 driver uses scalable mode (RID_PASID's PASID entry,
# queued 256-bit invalidations) for the same steps and the same sequence.
# shellcheck source=../rootfs/usr/lib/vtd/common.sh
. /usr/lib/vtd/common.sh

bdf=0000:00:04.0
# shellcheck source=../rootfs/usr/lib/vtd/l2.sh
. /usr/lib/vtd/l2.sh
out=$L2_OUT

section "edu to vfio-pci"
l2_bind_edu

section "without caching mode"
l2_start
l2_end | l2 intel-iommu > $out 2>&1
cp $out /tmp/l2-nocm.out
if grep -q "needs caching-mode=on" /tmp/l2-nocm.out; then
    echo "refused: $(grep -m1 caching-mode /tmp/l2-nocm.out)"
else
    cat /tmp/l2-nocm.out
    fail "vfio-pci without caching-mode=on was not refused"
fi

# The L2 driver's side, in legacy mode (register invalidations) or, with
# vtdl2=sm on the kernel command line, in scalable mode: RID_PASID's
# PASID entry points at the same second-stage tables and everything goes
# through the invalidation queue with 256-bit descriptors (PASID cache,
# PASID-based IOTLB).  The notifications VFIO gets must be the same.
mode=$(vtd_arg vtdl2)
section "caching mode${mode:+ ($mode)}"
V=$L2_VTD
Q=0x120000               # L2's invalidation queue (scalable mode)
dma() { l2_dma "$@"; }
# Second-stage tables, both modes.  Domain 1: IOVA 0x1000000 -> 0x400000
# and 0x1001000 -> 0x401000, 4-level tables at 0x102000.  Domain 2: IOVA
# 0x2000000 -> 0x600000, tables at 0x112000.
tables() {
    cmds "writeq 0x102000 0x103003" "writeq 0x103000 0x104003" \
         "writeq 0x104040 0x105003" "writeq 0x105000 0x400003" \
         "writeq 0x105008 0x401003"
    cmds "writeq 0x112000 0x113003" "writeq 0x113000 0x114003" \
         "writeq 0x114080 0x115003" "writeq 0x115000 0x600003"
}
if [ "$mode" = sm ]; then
    iommu=intel-iommu,caching-mode=on,x-scalable-mode=on
    qdesc() {  # LO [HI]: one 256-bit descriptor, then the new tail
        cmds "writeq $((Q + qt)) $1" "writeq $((Q + qt + 8)) ${2:-0}" \
             "writeq $((Q + qt + 16)) 0" "writeq $((Q + qt + 24)) 0"
        qt=$((qt + 32))
        cmds "writeq $((V + 0x88)) $qt"
    }
    pasid_entry() {  # Q0 DID: RID_PASID's (PASID 0) entry
        cmds "writeq 0x107000 $1" "writeq 0x107008 $2"
    }
    setup() {
        qt=0
        # Root 0x100000 (lower context table 0x101000), context entry of
        # 00:04.0 (PASID directory 0x106000, 128 entries), directory
        # entry 0 -> PASID table 0x107000; RID_PASID: second stage
        # (PGTT 2), 4 levels (AW 2), tables 0x102000, domain 1.
        cmds "writeq 0x100000 0x101001" "writeq 0x101400 0x106001" \
             "writeq 0x106000 0x107001"
        pasid_entry $((0x102000 | (2 << 6) | (2 << 2) | 1)) 1
        tables
        # Queue of 256-bit descriptors (IQA.DW), enabled; the scalable
        # root table (TTM 01b); context, PASID-cache and IOTLB global
        # invalidations; translation on.
        cmds "writeq $((V + 0x90)) $((Q | 0x800))" \
             "writel $((V + 0x18)) 0x04000000" \
             "writeq $((V + 0x20)) 0x100400" "writel $((V + 0x18)) 0x44000000"
        qdesc 0x11 && qdesc 0x37 && qdesc 0x12
        cmds "writel $((V + 0x18)) 0x84000000" "readl $((V + 0x1c))"
    }
    psi() {  # IOVA DID: PASID-based IOTLB, page of RID_PASID
        qdesc $((0x36 | ($2 << 16))) "$1"
    }
    to_domain2() {
        pasid_entry $((0x112000 | (2 << 6) | (2 << 2) | 1)) 2
        qdesc $((0x17 | (1 << 16))) && qdesc $((0x26 | (1 << 16)))
    }
    to_passthrough() {  # PGTT 4
        pasid_entry $(((4 << 6) | 1)) 2
        qdesc $((0x17 | (2 << 16))) && qdesc $((0x26 | (2 << 16)))
    }
else
    iommu=intel-iommu,caching-mode=on
    setup() {
        cmds "writeq 0x100000 0x101001" \
             "writeq 0x101200 0x102001" "writeq 0x101208 0x102"
        tables
        # Root table, global context and IOTLB invalidation, translation
        # on.
        cmds "writeq $((V + 0x20)) 0x100000" \
             "writel $((V + 0x18)) 0x40000000" \
             "writeq $((V + 0x28)) 0xa000000000000000" \
             "writeq $((V + 0xf8)) 0x9000000000000000" \
             "writel $((V + 0x18)) 0xc0000000" "readl $((V + 0x1c))"
    }
    psi() { l2_psi "$@"; }
    to_domain2() {  # context entry, device-selective invalidation
        cmds "writeq 0x101200 0x112001" "writeq 0x101208 0x202" \
             "writeq $((V + 0x28)) $((0xe000000000000000 | (0x20 << 16)))"
    }
    to_passthrough() {  # TT 2
        cmds "writeq 0x101200 0x9" \
             "writeq $((V + 0x28)) $((0xe000000000000000 | (0x20 << 16)))"
    }
fi
l2_start
{
    l2_edu_setup
    setup
    cmds "write 0x400000 16 0x00112233445566778899aabbccddeeff"
    dma 0x1000000 0x40000 16 1
    dma 0x40000 0x1000100 16 3
    cmds "read 0x400100 16"
    # Unmap the page, invalidate it: UNMAP; edu's read is blocked.
    cmds "writeq 0x105000 0" && psi 0x1000000 1
    dma 0x1000000 0x40000 16 1
    # Read-only, another page: MAP; the same invalidation again: nothing.
    cmds "write 0x500000 16 0xffeeddccbbaa99887766554433221100" \
         "writeq 0x105000 0x500001" && psi 0x1000000 1 && psi 0x1000000 1
    dma 0x1000000 0x40000 16 1
    dma 0x40000 0x1001000 16 3
    cmds "read 0x401000 16"
    # ... and edu cannot write the read-only page.
    dma 0x40000 0x1000000 16 3
    # Domain 2 for the device.
    cmds "write 0x600000 16 0x0123456789abcdef0123456789abcdef"
    to_domain2
    dma 0x2000000 0x40000 16 1
    dma 0x40000 0x2000100 16 3
    cmds "read 0x600100 16"
    # Domain 1's pages are gone for the device.
    dma 0x1001000 0x40000 16 1
    # Pass-through: the address space becomes an alias of L2's memory,
    # VFIO maps that itself; no notifications.
    to_passthrough
    dma 0x600000 0x40000 16 1
    dma 0x40000 0x600200 16 3
    cmds "read 0x600200 16"
    l2_end
} | l2 $iommu -D /tmp/l2.trace \
       -trace vtd_replay -trace vtd_shadow_map -trace vtd_shadow_unmap \
       > $out 2> /tmp/l2.err
grep -v '^\[[RSI] ' /tmp/l2.err || true
replies=$(grep -c '^OK' /tmp/l2.out)
echo "L2 qtest: $replies replies"
grep -q 'FAIL' /tmp/l2.out && { cat /tmp/l2.out; fail "a qtest command failed"; }
edu_id=$(grep '^OK 0x' /tmp/l2.out | head -n1 | cut -d' ' -f2)
echo "edu id through vfio-pci: $edu_id"
case $edu_id in *10000ed) ;; *) fail "edu not visible in L2 (id $edu_id)" ;; esac
reads=$(grep -E '^OK 0x[0-9a-f]{32}$' /tmp/l2.out | cut -d' ' -f2)
echo "data read back in L2: $(echo "$reads" | tr "\n" " ")"
[ "$(echo "$reads" | sed -n 1p)" = 0x00112233445566778899aabbccddeeff ] ||
    fail "edu's copy through the shadow mapping did not arrive"
[ "$(echo "$reads" | sed -n 2p)" = 0xffeeddccbbaa99887766554433221100 ] ||
    fail "edu's copy after the read-only remap did not arrive"
[ "$(echo "$reads" | sed -n 3p)" = 0x0123456789abcdef0123456789abcdef ] ||
    fail "edu's copy in domain 2 did not arrive"
[ "$(echo "$reads" | sed -n 4p)" = 0x0123456789abcdef0123456789abcdef ] ||
    fail "edu's copy in pass-through did not arrive"

section "MAP/UNMAP sequence"
sed -n 's/^[0-9.:@ ]*\(vtd_[a-z_]*\) bus 0x00 devfn 0x20 /\1 /p' /tmp/l2.trace |
    sed 's/ size 0x\([0-9a-f]*\)/ size 0x\1/' > /tmp/l2.events
cat /tmp/l2.events
cat > /tmp/l2.expected <<'EOF'
vtd_replay 0x0..0xfedfffff
vtd_shadow_map MAP iova 0x1000000 size 0x1000 -> 0x400000 perm 3
vtd_shadow_map MAP iova 0x1001000 size 0x1000 -> 0x401000 perm 3
vtd_replay 0xfef00000..0xffffffffffffffff
vtd_shadow_unmap UNMAP iova 0x1000000 size 0x1000
vtd_shadow_map MAP iova 0x1000000 size 0x1000 -> 0x500000 perm 1
vtd_shadow_unmap UNMAP iova 0x1000000 size 0x1000
vtd_shadow_unmap UNMAP iova 0x1001000 size 0x1000
vtd_shadow_map MAP iova 0x2000000 size 0x1000 -> 0x600000 perm 3
EOF
diff /tmp/l2.expected /tmp/l2.events || fail "unexpected MAP/UNMAP sequence"

section "faults in L1"
dmesg | grep 'DMAR: \[DMA' || true
dmesg | grep -q 'DMAR: \[DMA Read.*00:04.0\] fault addr 0x1000000 ' ||
    fail "edu's read of the unmapped IOVA was not blocked"
dmesg | grep -q 'DMAR: \[DMA Write.*00:04.0\] fault addr 0x1000000 ' ||
    fail "edu's write to the read-only IOVA was not blocked"
dmesg | grep -q 'DMAR: \[DMA Read.*00:04.0\] fault addr 0x1001000 ' ||
    fail "edu read domain 1's page after the switch to domain 2"
echo "nested-vfio: shadow mappings followed the L2 tables [$(cut -d' ' -f1 /proc/uptime)s]"
