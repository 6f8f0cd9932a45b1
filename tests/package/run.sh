#!/usr/bin/env bash
# All package checks (`make package-test`, after `make deb`): the .deb, the udev rules, the man
# pages and completion, and the install test with the systemd units. Prints ok/FAIL lines and
# "package: N passed, N failed"; exits non-zero when anything failed. Needs root (chroot,
# namespaces). ENIROUTE_DEB=path checks another .deb; ENIROUTE_IMDS_SIM=path the IMDS simulator
# the veth check runs (default .build/debug/eniroute-imds-sim).
set -uo pipefail
here=$(dirname "$0")
source "$here/lib.sh"
source "$here/check-deb.sh"
source "$here/check-deb-arm64.sh"
source "$here/check-udev.sh"
source "$here/check-man.sh"
source "$here/check-install.sh"
source "$here/check-veth.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "tests/package/run.sh: needs root (chroot, namespaces)" >&2
    exit 1
fi
trap pkg_cleanup EXIT
started=$(date +%s%N)
section ".deb contents"
check_deb
section "arm64 package (only when built)"
check_deb_arm64
section "udev rules"
check_udev
section "man pages and completion"
check_man
section "install test and systemd units"
check_install
section "the shipped binary and veth links"
check_veth
section end
note "(total: $((($(date +%s%N) - started) / 1000000)) ms)"
summary
