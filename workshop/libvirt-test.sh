#!/bin/bash
# libvirt with our QEMU: Debian's libvirt (TCG domain type "qemu") starts
# the test guest with <iommu model='intel'> and every driver attribute
# this libvirt accepts for it, and the guest checks that DMA and interrupt
# remapping are on and does verified DMA on a virtio disk behind the IOMMU.
# Also: `virsh domcapabilities` must describe our binary as it describes
# the stock build.
#
# libvirtd runs privileged (qemu:///system) with the QEMU driver's
# configuration replaced for the test: QEMU as root, no security driver,
# no relabelling, QEMU's output to a file rather than virtlogd (no daemon
# of that kind runs here).  The machine's qemu.conf is put back at exit.
# Usage: libvirt-test.sh OUR-QEMU STOCK-QEMU GUEST-DIR
# Prints "N passed, N failed" last.
set -uo pipefail
ours=$(realpath "$1")
stock=$(realpath "$2")
guest=$(realpath "$3")
pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
give_up() { echo "libvirt-test: $*"; echo "0 passed, 1 failed"; exit 1; }

if ! command -v virsh >/dev/null || ! getent passwd libvirt-qemu >/dev/null; then
    echo "libvirt-test: installing libvirt" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients >&2 ||
        give_up "cannot install libvirt"
fi
pgrep -x libvirtd >/dev/null && give_up "a libvirtd is already running"

tmp=$(mktemp -d /tmp/vtd-libvirt.XXXXXX)
chmod 755 "$tmp"
uri=qemu:///system
conf=/etc/libvirt/qemu.conf
[ -f $conf ] && cp -p $conf "$tmp/qemu.conf.saved"
mkdir -p /etc/libvirt
printf '%s\n' 'user = "root"' 'group = "root"' 'dynamic_ownership = 0' \
    'remember_owner = 0' 'security_driver = "none"' 'stdio_handler = "file"' > $conf
cleanup() {
    virsh -q -c $uri destroy vtd-test >/dev/null 2>&1
    [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
    if [ -f "$tmp/qemu.conf.saved" ]; then
        cp -p "$tmp/qemu.conf.saved" $conf
    else
        rm -f $conf
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
/usr/sbin/libvirtd > "$tmp/libvirtd.log" 2>&1 &
daemon=$!
for _ in $(seq 150); do
    virsh -q -c $uri list >/dev/null 2>&1 && break
    sleep 0.2
done
if ! virsh -q -c $uri list >/dev/null 2>&1; then
    tail -n 5 "$tmp/libvirtd.log"
    give_up "libvirtd did not start"
fi

# domcapabilities: the same for both binaries, but for the paths.
caps() {
    virsh -q -c $uri domcapabilities --emulatorbin "$1" --virttype qemu \
        --machine q35 --arch x86_64 2>&1 | sed "s#$1#EMULATOR#"
}
caps "$ours" > "$tmp/caps.ours"
caps "$stock" > "$tmp/caps.stock"
if grep -q '<domainCapabilities>' "$tmp/caps.ours" &&
   diff -u "$tmp/caps.stock" "$tmp/caps.ours" > "$tmp/caps.diff"; then
    ok "domcapabilities: ours as stock ($(wc -l < "$tmp/caps.ours") lines)"
else
    bad "domcapabilities differ:"; head -n 20 "$tmp/caps.diff"
fi
grep -A4 "<iommu" "$tmp/caps.ours" | head -n 6

truncate -s 64M "$tmp/disk.img"
cat > "$tmp/domain.xml" <<EOF
<domain type='qemu'>
  <name>vtd-test</name>
  <memory unit='MiB'>1024</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$guest/vmlinux-6.12</kernel>
    <initrd>$guest/initramfs-6.12.cpio.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet vtdtest=dma-check vtddisks=vda intel_iommu=on iommu.strict=1 vtdexpect=dmar,ir</cmdline>
  </os>
  <features><acpi/><apic/><ioapic driver='qemu'/></features>
  <cpu mode='custom' match='exact'>
    <model fallback='forbid'>qemu64</model>
    <feature policy='require' name='rdrand'/>
    <feature policy='require' name='x2apic'/>
  </cpu>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$ours</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' iommu='on'/>
      <source file='$tmp/disk.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='file'>
      <source path='$tmp/console.log'/>
      <target port='0'/>
    </serial>
    <iommu model='intel'>
      <driver intremap='on' caching_mode='on' eim='on' iotlb='on' aw_bits='48'/>
    </iommu>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
if virsh -q -c $uri create "$tmp/domain.xml" > "$tmp/create.log" 2>&1; then
    ok "virsh create with <iommu model='intel'> and all driver attributes"
else
    bad "virsh create:"; cat "$tmp/create.log"
fi
qlog=/var/log/libvirt/qemu/vtd-test.log
for _ in $(seq 400); do
    grep -q "VTD-GUEST-RESULT" "$tmp/console.log" 2>/dev/null && break
    virsh -q -c $uri domstate vtd-test >/dev/null 2>&1 || break
    sleep 0.5
done
sleep 1
iommu_arg=$(grep -o -- "-device '{\"driver\":\"intel-iommu\"[^']*'" "$qlog" | head -n1)
echo "libvirt ran: $(grep -o -- '-machine [^ ]*' "$qlog" | head -n1) $iommu_arg"
case $iommu_arg in
    *'"intremap":"on"'*'"caching-mode":true'*'"eim":"on"'*'"device-iotlb":true'*'"aw-bits":48'*)
        ok "libvirt passes every attribute as the property of the same name" ;;
    *) bad "unexpected intel-iommu arguments: $iommu_arg" ;;
esac
if grep -q -- '-machine [^ ]*kernel_irqchip=split' "$qlog"; then
    ok "<ioapic driver='qemu'/> gives kernel_irqchip=split"
else
    bad "no kernel_irqchip=split on the command line"
fi
grep -a -E "DMAR \(DMA|IR \(interrupt|x2apic|dma-check:|VTD-GUEST-RESULT" "$tmp/console.log"
if grep -a -q "VTD-GUEST-RESULT: PASS dma-check" "$tmp/console.log"; then
    ok "guest: DMA and interrupt remapping on, verified DMA on vda"
else
    bad "guest did not pass:"; tail -n 20 "$tmp/console.log"
fi
echo "libvirt-test: $pass passed, $fail failed"
[ $fail = 0 ]
