#!/usr/bin/env bash
# Builds (and caches) a VM test image (vm/images.sh names them):
#
#   vm/build-image.sh IMAGE DEB    prints the image directory (root.img, vmlinuz, initrd.img,
#                                  versions) last
#
# Two cached stages under .build/vm/ (ENIROUTE_VM_CACHE overrides):
#  1. base-IMAGE-<key>.tar (key: suite and package list): mmdebstrap --variant=minbase from
#     deb.debian.org. Cold: 3-8 min for amd64, about 16 min for arm64 (its maintainer scripts run
#     under qemu-user) on 2 shared cores.
#  2. image-IMAGE-<key>/ (key: the base, the .deb, the guest files): the .deb installed with
#     `dpkg -i` in a chroot without network and with a policy-rc.d that refuses service starts,
#     as an AMI build does; the package's test-only udev rule (virtio_net counts as an EC2 driver
#     here); the test agent (vm/guest: the only way in, no password, no getty); the image kind's
#     own files; then an ext4 image (`mkfs.ext4 -d`) and the kernel and initrd copied out for
#     -kernel/-initrd (15-40 s).
#     - ec2: networkd enabled (as debian-cloud-images' 20-enable-systemd-networkd does); the same
#       package repacked as a newer version for the upgrade step; an empty /etc/machine-id and no
#       cloud-init state (a fresh instance). Nothing configures the network: cloud-init writes the
#       netplan file for the primary NIC at first boot from what the (simulated) IMDS says.
#     - minimal: vm/minimal/guest (networkd takes the primary NIC by DHCP), a fixed machine id (the
#       journal of earlier boots stays readable), a /payload mount point (vm/arm64).
# Old images of IMAGE are removed (the newest 2 stay).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${ENIROUTE_VM_CACHE:-$repo/.build/vm}
name=${1:?usage: vm/build-image.sh IMAGE DEB}
deb=${2:?usage: vm/build-image.sh IMAGE DEB}
[ -f "$deb" ] || { echo "build-image: no such package: $deb" >&2; exit 1; }
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
say() { echo "build-image: $*" >&2; }
# shellcheck source=vm/images.sh
source "$here/images.sh"
image_config "$name"
[ "$(dpkg-deb -f "$deb" Architecture)" = "$IMAGE_ARCH" ] || { say "$deb is not an $IMAGE_ARCH package"; exit 1; }
mkdir -p "$cache"

# Stage 1: the base root.
base=$cache/base-$name-$(printf 'v1 %s %s\n' "$IMAGE_SUITE" "$IMAGE_PACKAGES" | sha256sum | cut -c1-12).tar
if [ ! -f "$base" ]; then
    say "making $(basename "$base") with mmdebstrap ($IMAGE_SUITE $IMAGE_ARCH; minutes; cached)"
    start=$SECONDS
    mmdebstrap --quiet --variant=minbase --architectures="$IMAGE_ARCH" --include="$IMAGE_PACKAGES" \
        --format=tar "$IMAGE_SUITE" "$base.tmp.$$" >&2
    mv "$base.tmp.$$" "$base"
    say "$(basename "$base") in $((SECONDS - start)) s ($(du -m "$base" | cut -f1) MB)"
fi

# Stage 2: the image.
guest_dirs=("$here/guest" "$here/$IMAGE_KIND/guest")
key=$( { echo "v2 $name"; sha256sum "$base" | cut -c1-64; sha256sum "$deb" | cut -c1-64;
         find "${guest_dirs[@]}" -type f -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-16)
img=$cache/image-$name-$key
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

# The guest files: the test agent, the kind's own.
for d in "${guest_dirs[@]}"; do cp -a "$d/." "$root/"; done
chmod 0755 "$root/usr/local/sbin/eniroute-vm-agent"
in_root systemctl enable systemd-networkd.service eniroute-vm-agent.service >&2
in_root systemctl mask "serial-getty@$IMAGE_CONSOLE.service" getty@tty1.service >&2

if [ "$IMAGE_KIND" = ec2 ]; then
    # For the upgrade step: the same package as a newer version (Version +vmtest1, one byte
    # appended to the binary so that it is another file), as an AMI user's `apt install ./…deb`.
    repack=$work/repack
    dpkg-deb -R "$deb" "$repack"
    sed -i 's/^Version: \(.*\)$/Version: \1+vmtest1/' "$repack/DEBIAN/control"
    printf '\n' >>"$repack/usr/sbin/eniroute"
    (cd "$repack" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$repack/DEBIAN/md5sums"
    mkdir -p "$root/var/cache/eniroute-vmtest"
    dpkg-deb -Zxz --root-owner-group -b "$repack" "$root/var/cache/eniroute-vmtest/eniroute-newer.deb" >&2
    # A fresh instance: no machine id (systemd makes one at first boot), no cloud-init state, the
    # hostname cloud-init replaces with the one IMDS gives.
    : >"$root/etc/machine-id"
    rm -rf "$root/var/lib/cloud"
    echo localhost >"$root/etc/hostname"
    # The system locale of Debian's cloud images; without one, cloud-init 22.4's locale module
    # tries to make en_US.UTF-8 the default and fails (update-locale exits 255: not generated).
    echo LANG=C.UTF-8 >"$root/etc/default/locale"
else
    echo "eniroute-$name" >"$root/etc/hostname"
    in_root systemd-machine-id-setup >&2
    mkdir -p "$root/payload"
fi

kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -1)
initrd=$(ls "$root"/boot/initrd.img-* | sort -V | tail -1)
cp "$kernel" "$work/vmlinuz"
cp "$initrd" "$work/initrd.img"
{
    echo "eniroute $(dpkg-deb -f "$deb" Version)"
    in_root dpkg-query -W -f='${Package} ${Version}\n' systemd cloud-init netplan.io "linux-image-$IMAGE_ARCH" 2>/dev/null || true
} >"$work/versions"
mkfs.ext4 -q -F -L eniroute-vm -E root_owner=0:0 -d "$root" "$work/root.img" "$IMAGE_SIZE"
rm -rf "$root"
mkdir -p "$img.tmp"
mv "$work/root.img" "$work/vmlinuz" "$work/initrd.img" "$work/versions" "$img.tmp/"
rm -rf "$img"
mv "$img.tmp" "$img"
ls -dt "$cache/image-$name-"* 2>/dev/null | tail -n +3 | xargs -r rm -rf
say "image $(basename "$img") in $((SECONDS - start)) s"
echo "$img"
