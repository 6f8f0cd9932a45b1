#!/usr/bin/env bash
# The Debian packages `make vm-test` needs on the host (kept out of scripts/install-deps.sh so
# `make test` does not pull in QEMU). Idempotent; `apt-get update` only when something is missing.
set -euo pipefail
packages=(qemu-system-x86 socat mmdebstrap e2fsprogs nftables iproute2 iputils-ping curl jq dnsmasq-base)
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
