#!/usr/bin/env bash
# Builds eniroute_<version>_<arch>.deb with dpkg-buildpackage -b and debhelper (`make deb`).
# The source tree is staged under .build-pkg/ (the repository's Package.swift, Sources, Tests, packaging
# and udev, with packaging/debian as debian/), SwiftPM builds in .build-pkg/swift (incremental
# across runs), and the result is copied to .build/deb/. Prints the .deb's path last.
#
# ENIROUTE_DEB_ARCH=arm64 (`make deb ARCH=arm64`) cross-builds the arm64 package on an amd64 machine, from
# Debian's packages only: dpkg-buildpackage -a arm64 runs in an amd64 sid chroot with Debian's
# swiftlang, linking against a Debian 12 arm64 sysroot (packaging/cross/toolchain.sh makes and
# caches both under .build/cross/), in .build-pkg-arm64/. Without ARCH, or with the machine's
# own architecture, nothing of that is used: /opt/swift builds natively.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
host_arch=$(dpkg --print-architecture)
arch=${ENIROUTE_DEB_ARCH:-$host_arch}
case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
cross=
[ "$arch" = "$host_arch" ] || cross=1
work=${ENIROUTE_PKG_WORK:-$root/.build-pkg${cross:+-$arch}}
out=${ENIROUTE_DEB_DIR:-$root/.build/deb}
src=$work/eniroute

version=$(sed -n 's/^public let eniRouteVersion = "\(.*\)"$/\1/p' "$root/Sources/ENIRouteCLI/ENIRoute.swift")
changelog=$(dpkg-parsechangelog -l "$root/packaging/debian/changelog" -SVersion)
if [ "$version" != "$changelog" ]; then
    echo "build-deb: eniRouteVersion is $version but packaging/debian/changelog says $changelog" >&2
    exit 1
fi

rm -rf "$src"
mkdir -p "$src" "$out"
# SwiftPM checks every target of Package.swift, test targets included: stage Tests too.
# ENIROUTE_PKG_REV=<git revision> takes the Swift sources from that commit instead of the work
# tree (read with `git archive`; packaging/ and udev/ still come from the work tree).
if [ -n "${ENIROUTE_PKG_REV:-}" ]; then
    git -C "$root" archive --format=tar "$ENIROUTE_PKG_REV" Package.swift Sources Tests | tar -x -C "$src"
else
    cp -a "$root/Package.swift" "$root/Sources" "$root/Tests" "$src/"
fi
cp -a "$root/packaging" "$root/udev" "$src/"
cp -a "$root/packaging/debian" "$src/debian"
rm -f "$work"/eniroute_*.deb "$work"/eniroute_*.changes "$work"/eniroute_*.buildinfo "$work"/eniroute-dbgsym_*
start=$(date +%s%N)
if [ -z "$cross" ]; then
    (cd "$src" && SWIFT_SCRATCH="$work/swift" dpkg-buildpackage -b -us -uc --no-sign)
    arch=$(dpkg-architecture -qDEB_HOST_ARCH)
else
    "$root/packaging/cross/build.sh" "$arch" "$src" "$work"
fi
deb="eniroute_${version}_${arch}.deb"
cp "$work/$deb" "$out/$deb"
ms=$((($(date +%s%N) - start) / 1000000))
printf "build-deb: %s in %d.%d s\n" "$deb" $((ms / 1000)) $((ms % 1000 / 100)) >&2
echo "$out/$deb"
