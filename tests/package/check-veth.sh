#!/usr/bin/env bash
# The .deb's own binary never takes a veth link for an ENI (ENILinkPolicy: only the test variant
# the scenarios run, built with -DENIROUTE_ACCEPT_VETH, does). Runs veth-world.sh, a namespace
# world (tests/lib/world.sh: private namespaces only) whose ENIs are veths that IMDS lists, with the
# unpacked package's /usr/sbin/eniroute. Needs root and the IMDS simulator (ENIROUTE_IMDS_SIM,
# default .build/debug/eniroute-imds-sim).
source "$(dirname "$0")/lib.sh"

check_veth() {
    require_deb || return
    local sim=${ENIROUTE_IMDS_SIM:-$PKG_ROOT/.build/debug/eniroute-imds-sim}
    if [ ! -x "$sim" ]; then
        fail "shipped binary refuses veth links: no IMDS simulator at $sim (swift build --product eniroute-imds-sim)"
        return
    fi
    check "shipped binary leaves veth links with an ENI's MAC alone (apply; apply eth1 refused)" \
        env ENIROUTE="$(unpacked)/usr/sbin/eniroute" ENIROUTE_IMDS_SIM="$sim" \
        timeout --kill-after=10 120 bash "$PKG_ROOT/tests/package/veth-world.sh"
}
