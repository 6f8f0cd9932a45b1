#!/usr/bin/env bash
# The arm64 binaries the namespace scenarios and the fault matrix run inside the arm64 VM:
# eniroute's test variant (-DENIROUTE_ACCEPT_VETH: it takes the scenarios' veth links for ENIs;
# the packaged binary never does) and the IMDS simulator, cross-built like the package
# (packaging/cross/lib.sh: Debian's swiftlang, Debian 12 sysroot, the same release flags) in
# .build-pkg-arm64-test/ (incremental). Prints the directory holding both last.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${ENIROUTE_ARM64_TEST_WORK:-$repo/.build-pkg-arm64-test}
# shellcheck source=packaging/cross/lib.sh
source "$repo/packaging/cross/lib.sh"
cross_setup arm64 "$work"
rm -rf "$work/src"
mkdir -p "$work/src"
cp -a "$repo/Package.swift" "$repo/Sources" "$repo/Tests" "$work/src/"
echo "build-test-binaries: $CROSS_DESCRIPTION, -DENIROUTE_ACCEPT_VETH" >&2
flags="-c release --static-swift-stdlib --scratch-path $work/swift -Xswiftc -DENIROUTE_ACCEPT_VETH"
flags+=" -Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now $CROSS_SWIFT_FLAGS"
cross_run "cd $work/src && swift build $flags --product eniroute >&2 && swift build $flags --product eniroute-imds-sim >&2"
echo "$work/swift/$CROSS_TRIPLE/release"
