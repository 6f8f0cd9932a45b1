#!/usr/bin/env bash
# The host side of `make vm-test VM_ARCH=arm64`: the Debian packages (QEMU for aarch64, the
# user-mode emulator mmdebstrap needs to run the arm64 root's maintainer scripts, and the tools
# vm/lib.sh uses), and qemu-aarch64 registered with binfmt_misc (mounted when it is not).
# Idempotent; `apt-get update` only when something is missing.
set -euo pipefail
packages=(qemu-system-arm qemu-user-static binfmt-support arch-test socat mmdebstrap e2fsprogs nftables
    iproute2 iputils-ping curl jq)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ "$(id -u)" -eq 0 ] || { echo "vm/arm64/install-deps: needs root" >&2; exit 1; }
if [ ${#missing[@]} -gt 0 ]; then
    echo "vm/arm64/install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if ! grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null; then
    update-binfmts --enable qemu-aarch64
fi
grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 ||
    { echo "vm/arm64/install-deps: qemu-aarch64 is not registered with binfmt_misc" >&2; exit 1; }
