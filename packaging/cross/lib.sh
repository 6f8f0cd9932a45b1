# shellcheck shell=bash
# Cross building for arm64 with Debian's swiftlang (sourced by packaging/cross/build.sh and
# vm/arm64/build-test-binaries.sh).
#
#   cross_setup arm64 WORK   the toolchain (packaging/cross/toolchain.sh, cached) and the flags:
#                            CROSS_CHROOT, CROSS_SYSROOT, CROSS_TRIPLE, CROSS_SWIFT_FLAGS (for
#                            `swift build`), CROSS_BINFMT (yes when this machine runs the target's
#                            binaries through qemu-user), CROSS_DESCRIPTION
#   cross_run SCRIPT         runs the bash SCRIPT in the build root, in private mount, PID and
#                            network namespaces (no network: the build needs none), with WORK and
#                            the sysroot bind-mounted at their own paths (every path is the same
#                            inside and out)
#
# The flags are the native build's (release, static Swift stdlib, full RELRO, BIND_NOW: the
# callers add those) plus the target's: --triple/--sdk, the sysroot's static Swift runtime as
# resource directory, lld (the host's GNU ld is x86 only), a SHA-1 build id (debhelper's dbgsym
# needs one) and, against a glibc older than 2.38, packaging/cross/c23-shims.c compiled into
# WORK by cross_setup.

CROSS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

cross_setup() {
    local arch=$1 qemu glibc_minor
    CROSS_WORK=$2
    case $arch in
    arm64) CROSS_TRIPLE=aarch64-unknown-linux-gnu qemu=qemu-aarch64 ;;
    *) echo "cross: unsupported architecture $arch" >&2; return 2 ;;
    esac
    [ "$(id -u)" = 0 ] || { echo "cross: needs root (chroot, namespaces)" >&2; return 1; }
    { read -r CROSS_CHROOT; read -r CROSS_SYSROOT; } < <("$CROSS_LIB_DIR/toolchain.sh" "$arch")
    [ -d "${CROSS_CHROOT:-}" ] && [ -d "${CROSS_SYSROOT:-}" ] || { echo "cross: no toolchain" >&2; return 1; }
    mkdir -p "$CROSS_WORK" "$CROSS_CHROOT$CROSS_WORK" "$CROSS_CHROOT$CROSS_SYSROOT"
    local s=$CROSS_SYSROOT
    CROSS_SWIFT_FLAGS="--triple $CROSS_TRIPLE --sdk $s -Xswiftc -sdk -Xswiftc $s"
    CROSS_SWIFT_FLAGS+=" -Xswiftc -resource-dir -Xswiftc $s/usr/lib/swift_static -Xswiftc -use-ld=lld"
    CROSS_SWIFT_FLAGS+=" -Xlinker --build-id=sha1"
    glibc_minor=$(sed -n 's/^#define[[:space:]]*__GLIBC_MINOR__[[:space:]]*\([0-9]*\).*/\1/p' "$s/usr/include/features.h")
    if [ "${glibc_minor:-99}" -lt 38 ]; then
        cp "$CROSS_LIB_DIR/c23-shims.c" "$CROSS_WORK/c23-shims.c"
        cross_run "/usr/libexec/swift/bin/clang --target=${CROSS_TRIPLE/-unknown/} --sysroot=$s -O2 -fPIC \
            -Wall -Werror -c $CROSS_WORK/c23-shims.c -o $CROSS_WORK/c23-shims.o" || return 1
        CROSS_SWIFT_FLAGS+=" -Xlinker $CROSS_WORK/c23-shims.o"
    fi
    CROSS_BINFMT=
    ! grep -qx enabled "/proc/sys/fs/binfmt_misc/$qemu" 2>/dev/null || CROSS_BINFMT=yes
    CROSS_DESCRIPTION="$arch with Debian's $(chroot "$CROSS_CHROOT" dpkg-query -W -f '${Package} ${Version}' swiftlang), sysroot glibc 2.$glibc_minor${glibc_minor:+$([ "$glibc_minor" -lt 38 ] && echo ' + C23 shims')}"
}

cross_run() {
    unshare --mount --pid --net --fork bash -c '
        set -e
        mount --bind "$1" "$3$1"
        mount --bind "$2" "$3$2"
        mount -t proc proc "$3/proc"
        mount --rbind /dev "$3/dev"
        exec chroot "$3" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
            bash -c "$4"' bash "$CROSS_WORK" "$CROSS_SYSROOT" "$CROSS_CHROOT" "$1"
}
