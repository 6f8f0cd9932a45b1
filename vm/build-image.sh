#!/usr/bin/env bash
# Builds (and caches) the VM test image of `make vm-test`: a bookworm root as an AMI build would
# make it, with the freshly built eniroute .deb installed by `dpkg -i` in a chroot.
#
#   vm/build-image.sh DEB    prints the image directory (root.img, vmlinuz, initrd.img) last
#
# Two cached stages under .build/vm/ (ENIROUTE_VM_CACHE overrides):
#  1. base-<key>.tar: mmdebstrap --variant=minbase of bookworm with the kernel, systemd, udev,
#     iproute2 and dbus (about 75 s; keyed on the package list and this stage's version).
#  2. image-<key>/: the base unpacked, the .deb installed with `dpkg -i` in a chroot without
#     network (policy-rc.d refuses every service start, as in an image build), the test-only udev
#     rule from the package's examples (virtio_net counts as an EC2 driver), systemd-networkd
#     managing the primary NIC by DHCP, the guest test agent; then an ext4 image with
#     `mkfs.ext4 -d` and the kernel and initrd copied out for -kernel/-initrd (a few seconds;
#     keyed on the base, the .deb and the files in vm/guest/).
# Old images are removed when a new one is made (the newest 2 stay).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${ENIROUTE_VM_CACHE:-$repo/.build/vm}
deb=${1:?usage: vm/build-image.sh DEB}
[ -f "$deb" ] || { echo "build-image: no such package: $deb" >&2; exit 1; }
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")

say() { echo "build-image: $*" >&2; }

BASE_PACKAGES=linux-image-amd64,systemd-sysv,systemd,udev,iproute2,dbus,procps,kmod
base_key=$(printf 'v1 %s\n' "$BASE_PACKAGES" | sha256sum | cut -c1-12)
base=$cache/base-bookworm-$base_key.tar
mkdir -p "$cache"

if [ ! -f "$base" ]; then
    say "making $(basename "$base") with mmdebstrap (about 75 s; cached)"
    start=$SECONDS
    mmdebstrap --quiet --variant=minbase --include="$BASE_PACKAGES" --format=tar bookworm "$base.tmp" >&2
    mv "$base.tmp" "$base"
    say "base root in $((SECONDS - start)) s"
fi

key=$( { echo "v1"; sha256sum "$base" | cut -c1-64; sha256sum "$deb" | cut -c1-64;
         (cd "$here/guest" && find . -type f -print0 | sort -z | xargs -0 sha256sum); } | sha256sum | cut -c1-16)
img=$cache/image-$key
if [ -f "$img/root.img" ] && [ -f "$img/vmlinuz" ] && [ -f "$img/initrd.img" ]; then
    say "cached image $(basename "$img")"
    echo "$img"
    exit 0
fi

start=$SECONDS
work=$(mktemp -d "$cache/tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir "$root"
tar -C "$root" -xf "$base"

# in_root COMMAND...: in the chroot, without network (a new, empty network namespace), with a
# private /proc; nothing can reach a mirror or a running system.
in_root() {
    unshare --net --mount --pid --fork --mount-proc="$root/proc" chroot "$root" /usr/bin/env -i \
        PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# The package, installed as an AMI build installs it.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
cp "$deb" "$root/tmp/"
in_root dpkg -i "/tmp/$(basename "$deb")" >&2
rm -f "$root/tmp/$(basename "$deb")" "$root/usr/sbin/policy-rc.d"
# Test only: virtio_net NICs are ENIs here (the rule ships as an example in the package).
install -m 0644 "$root/usr/share/doc/eniroute/examples/85-eniroute-test-virtio.rules" "$root/etc/udev/rules.d/"

# The guest side of the test: networkd for the primary NIC, the agent, fstab, hostname.
cp -a "$here/guest/rootfs/." "$root/"
chmod 0755 "$root/usr/local/sbin/eniroute-vm-agent"
in_root systemctl enable systemd-networkd.service eniroute-vm-agent.service >&2
echo eniroute-vm >"$root/etc/hostname"
# No root password and no login prompt are needed: the agent is the only way in.
in_root systemctl mask serial-getty@ttyS0.service getty@tty1.service >&2
# The same machine-id on every boot of this image (journal of earlier boots readable).
in_root systemd-machine-id-setup >&2

kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -1)
initrd=$(ls "$root"/boot/initrd.img-* | sort -V | tail -1)
cp "$kernel" "$work/vmlinuz"
cp "$initrd" "$work/initrd.img"
mkfs.ext4 -q -F -L eniroute-vm -E root_owner=0:0 -d "$root" "$work/root.img" 2G
rm -rf "$root"
mkdir -p "$img.tmp"
mv "$work/root.img" "$work/vmlinuz" "$work/initrd.img" "$img.tmp/"
dpkg-deb -f "$deb" Version >"$img.tmp/eniroute-version"
rm -rf "$img"
mv "$img.tmp" "$img"
# Keep the newest two images.
ls -dt "$cache"/image-* 2>/dev/null | tail -n +3 | xargs -r rm -rf
say "image $(basename "$img") in $((SECONDS - start)) s"
echo "$img"
