#!/usr/bin/env bash
# The cross half of packaging/build-deb.sh (ENIROUTE_DEB_ARCH=arm64): `dpkg-buildpackage -b -a
# arm64` on the staged source tree SRC in the amd64 build root, with Debian's swiftlang
# targeting aarch64 against the Debian 12 sysroot (packaging/cross/lib.sh). The .deb lands in
# WORK. debian/rules runs the built binary (version, --help) only when qemu-user can.
#
#   packaging/cross/build.sh arm64 SRC WORK
set -euo pipefail
arch=${1:?usage: packaging/cross/build.sh arm64 SRC WORK}
src=${2:?}
work=${3:?}
# shellcheck source=packaging/cross/lib.sh
source "$(dirname "$0")/lib.sh"
cross_setup "$arch" "$work"
options=nocheck
[ -z "$CROSS_BINFMT" ] || options=crossbuildcanrunhostbinaries
echo "cross/build: $CROSS_DESCRIPTION, DEB_BUILD_OPTIONS=$options" >&2
cross_run "cd '$src' && SWIFT=/usr/bin/swift SWIFT_SCRATCH='$work/swift' SWIFT_BIN='$work/swift/$CROSS_TRIPLE/release' \
    SWIFT_CROSS_FLAGS='$CROSS_SWIFT_FLAGS' DEB_BUILD_OPTIONS=$options dpkg-buildpackage -b -a $arch -us -uc --no-sign"
