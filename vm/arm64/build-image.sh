#!/usr/bin/env bash
# Builds (and caches) the arm64 VM test image of `make vm-test VM_ARCH=arm64`: a Debian 13
# "trixie" arm64 root with the arm64 eniroute .deb installed by `dpkg -i` in a chroot, as an AMI
# build would (the arm64 root's programs run through qemu-user-static, binfmt_misc).
#
#   vm/arm64/build-image.sh DEB    prints the image directory (root.img, vmlinuz, initrd.img) last
#
# Two cached stages under .build/vm/arm64/ (ENIROUTE_VM_CACHE overrides .build/vm):
#  1. base-trixie-arm64-<key>.tar: mmdebstrap --variant=minbase with the kernel, systemd, udev,
#     iproute2 and what the namespace suite and the fault matrix run in the guest (nftables, ping,
#     socat, curl, jq). About 8 min under qemu-user; keyed on the package list.
#  2. image-<key>/: the base unpacked, the .deb installed (no network, policy-rc.d refuses service
#     starts), the package's example rule that makes virtio_net NICs ENIs, vm/guest/rootfs (the
#     test agent, networkd for the primary NIC), then `mkfs.ext4 -d` and the kernel and initrd
#     copied out. Keyed on the base, the .deb and the guest files. Under a minute.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
repo=$(cd "$vm/.." && pwd)
cache=${ENIROUTE_VM_CACHE:-$repo/.build/vm}/arm64
deb=${1:?usage: vm/arm64/build-image.sh DEB}
[ -f "$deb" ] || { echo "build-image: no such package: $deb" >&2; exit 1; }
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
[ "$(dpkg-deb -f "$deb" Architecture)" = arm64 ] || { echo "build-image: $deb is not an arm64 package" >&2; exit 1; }

say() { echo "build-image(arm64): $*" >&2; }

SUITE=trixie
BASE_PACKAGES=linux-image-arm64,systemd-sysv,systemd,udev,iproute2,dbus,procps,kmod,nftables,iputils-ping,socat,curl,jq
base_key=$(printf 'v1 %s %s\n' "$SUITE" "$BASE_PACKAGES" | sha256sum | cut -c1-12)
base=$cache/base-$SUITE-arm64-$base_key.tar
mkdir -p "$cache"

# The arm64 root's maintainer scripts run through qemu-user-static (binfmt_misc, see
# vm/arm64/install-deps.sh).
if [ ! -f "$base" ]; then
    say "making $(basename "$base") with mmdebstrap (about 8 min under qemu-user; cached)"
    start=$SECONDS
    mmdebstrap --quiet --variant=minbase --architectures=arm64 --include="$BASE_PACKAGES" \
        --format=tar "$SUITE" "$base.tmp" >&2
    mv "$base.tmp" "$base"
    say "base root in $((SECONDS - start)) s"
fi

key=$( { echo "v1"; sha256sum "$base" | cut -c1-64; sha256sum "$deb" | cut -c1-64;
         (cd "$vm/guest" && find . -type f -print0 | sort -z | xargs -0 sha256sum); } | sha256sum | cut -c1-16)
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

# in_root COMMAND...: in the chroot, without network, with a private /proc.
in_root() {
    unshare --net --mount --pid --fork --mount-proc="$root/proc" chroot "$root" /usr/bin/env -i \
        PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
cp "$deb" "$root/tmp/"
in_root dpkg -i "/tmp/$(basename "$deb")" >&2
rm -f "$root/tmp/$(basename "$deb")" "$root/usr/sbin/policy-rc.d"
install -m 0644 "$root/usr/share/doc/eniroute/examples/85-eniroute-test-virtio.rules" "$root/etc/udev/rules.d/"

cp -a "$vm/guest/rootfs/." "$root/"
chmod 0755 "$root/usr/local/sbin/eniroute-vm-agent"
# The test payload (the test-variant binaries and tests/) comes on a second disk at each run,
# mounted by vm/arm64/steps.sh when needed.
mkdir -p "$root/payload"
in_root systemctl enable systemd-networkd.service eniroute-vm-agent.service >&2
echo eniroute-vm-arm64 >"$root/etc/hostname"
in_root systemctl mask serial-getty@ttyAMA0.service getty@tty1.service >&2
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
ls -dt "$cache"/image-* 2>/dev/null | tail -n +3 | xargs -r rm -rf
say "image $(basename "$img") in $((SECONDS - start)) s"
echo "$img"
