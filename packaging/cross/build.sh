#!/usr/bin/env bash
# The cross half of packaging/build-deb.sh (ARCH=arm64): runs `dpkg-buildpackage -b -a arm64` on
# the staged source tree SRC in the amd64 build root of packaging/cross/toolchain.sh, with
# Debian's swiftlang targeting aarch64 against the Debian 12 sysroot. The .deb lands in WORK.
#
#   packaging/cross/build.sh arm64 SRC WORK
#
# The chroot runs in private mount, PID and network namespaces (no network: the build needs
# none); WORK and the sysroot are bind-mounted at their own paths, so every path is the same
# inside and out. Same compiler flags as the native build (release, static Swift stdlib, full
# RELRO, BIND_NOW) plus the target's: --triple/--sdk, the sysroot's static Swift runtime as
# resource directory, lld (the target's linker), a SHA-1 build id (debhelper's dbgsym needs one),
# and, against a glibc older than 2.38, packaging/cross/c23-shims.c.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
arch=${1:?usage: packaging/cross/build.sh arm64 SRC WORK}
src=${2:?}
work=${3:?}
case $arch in
arm64) triple=aarch64-unknown-linux-gnu qemu=qemu-aarch64 ;;
*) echo "cross/build: unsupported architecture $arch" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "cross/build: needs root (chroot, namespaces)" >&2; exit 1; }

{ read -r chroot; read -r sysroot; } < <("$here/toolchain.sh" "$arch")
[ -d "$chroot" ] && [ -d "$sysroot" ] || { echo "cross/build: no toolchain" >&2; exit 1; }

glibc_minor=$(sed -n 's/^#define[[:space:]]*__GLIBC_MINOR__[[:space:]]*\([0-9]*\).*/\1/p' "$sysroot/usr/include/features.h")
flags="--triple $triple --sdk $sysroot -Xswiftc -sdk -Xswiftc $sysroot"
flags+=" -Xswiftc -resource-dir -Xswiftc $sysroot/usr/lib/swift_static -Xswiftc -use-ld=lld"
flags+=" -Xlinker --build-id=sha1"
shim_build=
if [ "${glibc_minor:-99}" -lt 38 ]; then
    flags+=" -Xlinker $work/c23-shims.o"
    # The staged tree (under WORK, seen by the chroot) has packaging/cross/ too.
    shim_build="/usr/libexec/swift/bin/clang --target=${triple/-unknown/} --sysroot=$sysroot -O2 -fPIC -Wall -Werror"
    shim_build+=" -c $src/packaging/cross/c23-shims.c -o $work/c23-shims.o"
fi
options=nocheck
if grep -qx enabled "/proc/sys/fs/binfmt_misc/$qemu" 2>/dev/null; then
    options=crossbuildcanrunhostbinaries
fi
echo "cross/build: $arch with $(chroot "$chroot" dpkg-query -W -f '${Package} ${Version}' swiftlang), sysroot glibc 2.$glibc_minor, DEB_BUILD_OPTIONS=$options" >&2

script="set -e
${shim_build}
cd '$src'
exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
    SWIFT=/usr/bin/swift SWIFT_SCRATCH='$work/swift' SWIFT_BIN='$work/swift/$triple/release' \
    SWIFT_CROSS_FLAGS='$flags' DEB_BUILD_OPTIONS=$options \
    dpkg-buildpackage -b -a $arch -us -uc --no-sign"
mkdir -p "$chroot$work" "$chroot$sysroot"
unshare --mount --pid --net --fork bash -c '
    set -e
    mount --bind "$1" "$3$1"
    mount --bind "$2" "$3$2"
    mount -t proc proc "$3/proc"
    mount --rbind /dev "$3/dev"
    exec chroot "$3" bash -c "$4"' bash "$work" "$sysroot" "$chroot" "$script"
