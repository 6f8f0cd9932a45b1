#!/usr/bin/env bash
# Installs the Debian packages eniroute's build, tests and demo need. Idempotent: does nothing
# when everything is present; runs `apt-get update` only when something must be installed.
set -euo pipefail
packages=(iproute2 nftables iputils-ping socat procps curl jq strace
    # make bench: Python's http.server as an IMDS server that is not the project's.
    python3
    # make deb, make package-test: debhelper, lintian, systemd-analyze, man, readelf, mmdebstrap.
    debhelper dpkg-dev lintian systemd man-db groff-base binutils mmdebstrap)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: need root to install: ${missing[*]}" >&2
        exit 1
    fi
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
