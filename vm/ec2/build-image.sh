#!/usr/bin/env bash
# Builds (and caches) an EC2-like Debian image for `make vm-test VM_IMAGE=debian-13|debian-12`:
#
#   vm/ec2/build-image.sh IMAGE DEB    prints the image directory (root.img, vmlinuz, initrd.img)
#
#  1. the base root (vm/ec2/build-base.sh): mmdebstrap of the release with what an EC2 image has
#     for networking (vm/ec2/images.sh): networkd, netplan.io, cloud-init with Debian's own
#     cloud.cfg, systemd-resolved on 13; cached.
#  2. image-IMAGE-<key>/ (key: the base, the .deb, vm/ec2/guest/): networkd enabled (as
#     debian-cloud-images' 20-enable-systemd-networkd does); the .deb installed with `dpkg -i` in
#     a chroot without network and with a policy-rc.d that refuses service starts, as an AMI build
#     does; the package's test-only udev rule (virtio_net counts as an EC2 driver here); the test
#     agent; an empty /etc/machine-id and no cloud-init state (a fresh instance boots it); then an
#     ext4 image (`mkfs.ext4 -d`) and the kernel and initrd for -kernel/-initrd (15-40 s).
# Nothing configures the network of the image: cloud-init writes the netplan file for the primary
# NIC at first boot from what the (simulated) IMDS says. Old images of IMAGE are removed (the
# newest 2 stay).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${ENIROUTE_VM_CACHE:-$repo/.build/vm}
name=${1:?usage: vm/ec2/build-image.sh IMAGE DEB}
deb=${2:?usage: vm/ec2/build-image.sh IMAGE DEB}
[ -f "$deb" ] || { echo "build-image: no such package: $deb" >&2; exit 1; }
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
say() { echo "build-image: $*" >&2; }

base=$("$here/build-base.sh" "$name" | tail -1)
key=$( { echo "v1 $name"; sha256sum "$base" | cut -c1-64; sha256sum "$deb" | cut -c1-64;
         (cd "$here/guest" && find . -type f -print0 | sort -z | xargs -0 sha256sum);
         sha256sum "$repo/vm/guest/rootfs/usr/local/sbin/eniroute-vm-agent"; } | sha256sum | cut -c1-16)
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

in_root systemctl enable systemd-networkd.service >&2
# The package, installed as an AMI build installs it.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
cp "$deb" "$root/tmp/"
in_root dpkg -i "/tmp/$(basename "$deb")" >&2
rm -f "$root/tmp/$(basename "$deb")" "$root/usr/sbin/policy-rc.d"
# For the upgrade step: the same package as a newer version (Version +vmtest1, one byte appended to
# the binary so that it is another file), as an AMI user's `apt install ./eniroute_<newer>.deb`.
repack=$work/repack
dpkg-deb -R "$deb" "$repack"
sed -i 's/^Version: \(.*\)$/Version: \1+vmtest1/' "$repack/DEBIAN/control"
printf '\n' >>"$repack/usr/sbin/eniroute"
(cd "$repack" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$repack/DEBIAN/md5sums"
mkdir -p "$root/var/cache/eniroute-vmtest"
dpkg-deb -Zxz --root-owner-group -b "$repack" "$root/var/cache/eniroute-vmtest/eniroute-newer.deb" >&2
# Test only: virtio_net NICs are ENIs here (the rule ships as an example in the package).
install -m 0644 "$root/usr/share/doc/eniroute/examples/85-eniroute-test-virtio.rules" "$root/etc/udev/rules.d/"

# The test agent (the only way in: no password, no getty) and the root file system.
install -D -m 0755 "$repo/vm/guest/rootfs/usr/local/sbin/eniroute-vm-agent" "$root/usr/local/sbin/eniroute-vm-agent"
install -D -m 0644 "$repo/vm/guest/rootfs/etc/systemd/system/eniroute-vm-agent.service" \
    "$root/etc/systemd/system/eniroute-vm-agent.service"
cp -a "$here/guest/." "$root/"
in_root systemctl enable eniroute-vm-agent.service >&2
in_root systemctl mask serial-getty@ttyS0.service getty@tty1.service >&2
# A fresh instance: no machine id (systemd makes one at first boot), no cloud-init state, the
# hostname cloud-init replaces with the one IMDS gives.
: >"$root/etc/machine-id"
rm -rf "$root/var/lib/cloud"
echo localhost >"$root/etc/hostname"
# The system locale of Debian's cloud images; without one, cloud-init 22.4's locale module tries
# to make en_US.UTF-8 the default and fails (update-locale exits 255: not generated).
echo LANG=C.UTF-8 >"$root/etc/default/locale"

kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -1)
initrd=$(ls "$root"/boot/initrd.img-* | sort -V | tail -1)
cp "$kernel" "$work/vmlinuz"
cp "$initrd" "$work/initrd.img"
{
    echo "eniroute $(dpkg-deb -f "$deb" Version)"
    in_root dpkg-query -W -f='${Package} ${Version}\n' systemd cloud-init netplan.io linux-image-amd64 2>/dev/null
} >"$work/versions"
mkfs.ext4 -q -F -L eniroute-vm -E root_owner=0:0 -d "$root" "$work/root.img" 3G
rm -rf "$root"
mkdir -p "$img.tmp"
mv "$work/root.img" "$work/vmlinuz" "$work/initrd.img" "$work/versions" "$img.tmp/"
rm -rf "$img"
mv "$img.tmp" "$img"
ls -dt "$cache/image-$name-"* 2>/dev/null | tail -n +3 | xargs -r rm -rf
say "image $(basename "$img") in $((SECONDS - start)) s"
echo "$img"
