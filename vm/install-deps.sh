#!/usr/bin/env bash
# The Debian packages `make vm-test` needs on the host (kept out of scripts/install-deps.sh so
# `make test` does not pull in QEMU). Idempotent; `apt-get update` only when something is missing.
#   vm/install-deps.sh [amd64|arm64]
# arm64 adds QEMU for aarch64 and the user-mode emulator mmdebstrap needs to run the arm64 root's
# maintainer scripts, registered with binfmt_misc (mounted when it is not).
set -euo pipefail
arch=${1:-amd64}
packages=(socat mmdebstrap e2fsprogs nftables iproute2 iputils-ping curl jq)
case $arch in
amd64) packages+=(qemu-system-x86 dnsmasq-base) ;;
arm64) packages+=(qemu-system-arm qemu-user-static binfmt-support arch-test) ;;
*) echo "vm/install-deps: no VM test for $arch" >&2; exit 2 ;;
esac
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || { echo "vm/install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
    echo "vm/install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ "$arch" = arm64 ] || exit 0
[ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null || update-binfmts --enable qemu-aarch64
grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 ||
    { echo "vm/install-deps: qemu-aarch64 is not registered with binfmt_misc" >&2; exit 1; }
