#!/usr/bin/env bash
# The cross toolchain of `make deb ARCH=arm64`, made from Debian's packages only and cached under
# .build/cross/ (ENIROUTE_CROSS_CACHE overrides). Prints two lines: the chroot and the sysroot.
#
#   packaging/cross/toolchain.sh arm64
#
# 1. chroot-<key>/: an amd64 sid root (mmdebstrap --variant=buildd) with Debian's swiftlang
#    (6.2.3: tools-version 6.2, treatAllWarnings), debhelper, binutils for aarch64 and the arm64
#    libc6/libstdc++6/libgcc-s1 that dpkg-shlibdeps reads. sid's Release file may be past its
#    Valid-Until on a mirror: not checked. About 1.5 min once.
# 2. sysroot-<key>/: the target's libraries and headers, unpacked (mmdebstrap --variant=extract)
#    from Debian 12 "bookworm" arm64, so the binary needs no newer glibc than Debian 12's; absolute
#    symlinks made relative (else libm.so dangles and libm.a is linked); and swiftlang:arm64's
#    static Swift runtime (lib/swift_static, lib/clang) of the compiler's exact version. Seconds
#    once the .deb is downloaded.
# Host packages: mmdebstrap (make deps). Needs root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
arch=${1:?usage: packaging/cross/toolchain.sh arm64}
[ "$arch" = arm64 ] || { echo "toolchain: only arm64 is supported (not $arch)" >&2; exit 2; }
cache=${ENIROUTE_CROSS_CACHE:-$repo/.build/cross}
mkdir -p "$cache"

say() { echo "toolchain: $*" >&2; }

SUITE=sid
SYSROOT_SUITE=bookworm
CHROOT_PACKAGES=swiftlang,debhelper,dpkg-dev,binutils-aarch64-linux-gnu,libc6:arm64,libstdc++6:arm64,libgcc-s1:arm64
SYSROOT_PACKAGES=libc6,libc6-dev,libgcc-s1,libgcc-12-dev,libstdc++6,libstdc++-12-dev,linux-libc-dev,libcrypt-dev,libcrypt1,gcc-12-base
APT_OPTS=(--aptopt='Acquire::Check-Valid-Until "false"' --aptopt='Acquire::Retries "3"')

chroot_key=$(printf 'v1 %s %s\n' "$SUITE" "$CHROOT_PACKAGES" | sha256sum | cut -c1-12)
chroot=$cache/chroot-$SUITE-$chroot_key
# (/usr/bin/swift is an absolute symlink: test the file it names inside the root.)
if [ ! -x "$chroot/usr/libexec/swift/bin/swift" ]; then
    say "making the $SUITE amd64 build root with swiftlang (about 1.5 min; cached)"
    start=$SECONDS
    rm -rf "$chroot.tmp"
    mmdebstrap --quiet --variant=buildd --architectures=amd64,arm64 "${APT_OPTS[@]}" \
        --include="$CHROOT_PACKAGES" "$SUITE" "$chroot.tmp" >&2
    rm -rf "$chroot"
    mv "$chroot.tmp" "$chroot"
    say "build root in $((SECONDS - start)) s: swiftlang $(chroot "$chroot" dpkg-query -W -f '${Version}' swiftlang)"
fi

# The Swift runtime for the target must be the compiler's own version.
swift_version=$(chroot "$chroot" dpkg-query -W -f '${Version}' swiftlang)
sysroot_key=$(printf 'v1 %s %s %s\n' "$SYSROOT_SUITE" "$SYSROOT_PACKAGES" "$swift_version" | sha256sum | cut -c1-12)
sysroot=$cache/sysroot-$SYSROOT_SUITE-$arch-$sysroot_key
if [ ! -f "$sysroot/usr/lib/swift_static/linux/static-stdlib-args.lnk" ]; then
    say "making the $SYSROOT_SUITE $arch sysroot with swiftlang:$arch $swift_version's static runtime (cached)"
    start=$SECONDS
    rm -rf "$sysroot.tmp"
    mmdebstrap --quiet --variant=extract --architectures="$arch" --include="$SYSROOT_PACKAGES" \
        "$SYSROOT_SUITE" "$sysroot.tmp" >&2
    # Absolute symlinks point into the host from outside a chroot: make them relative.
    find "$sysroot.tmp" -type l -lname '/*' -print0 | while IFS= read -r -d '' link; do
        target=$(readlink "$link")
        ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$sysroot.tmp$target")" "$link"
    done
    # swiftlang:arm64, downloaded by the build root's apt (cached beside it), unpacked aside.
    debs=$cache/debs
    mkdir -p "$debs"
    deb=$(ls "$debs"/swiftlang_"${swift_version//:/%3a}"_"$arch".deb 2>/dev/null || true)
    if [ -z "$deb" ]; then
        mkdir -p "$chroot/tmp/debs"
        chroot "$chroot" sh -c "cd /tmp/debs && apt-get -q -o 'Acquire::Check-Valid-Until=false' update >/dev/null &&
            apt-get -q download swiftlang:$arch=$swift_version" >&2
        mv "$chroot"/tmp/debs/swiftlang_*_"$arch".deb "$debs/"
        deb=$(ls "$debs"/swiftlang_*_"$arch".deb | head -n 1)
    fi
    unpacked=$cache/swiftlang-$arch.tmp
    rm -rf "$unpacked"
    dpkg-deb -x "$deb" "$unpacked"
    swift_lib=$(dirname "$(find "$unpacked" -type d -name swift_static -print -quit)")
    [ -d "$swift_lib/swift_static" ] || { say "no swift_static in $deb"; exit 1; }
    cp -a "$swift_lib/swift_static" "$sysroot.tmp/usr/lib/"
    [ ! -d "$swift_lib/clang" ] || cp -a "$swift_lib/clang" "$sysroot.tmp/usr/lib/"
    rm -rf "$unpacked"
    rm -rf "$sysroot"
    mv "$sysroot.tmp" "$sysroot"
    say "sysroot in $((SECONDS - start)) s"
fi
echo "$chroot"
echo "$sysroot"
