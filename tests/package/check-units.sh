#!/usr/bin/env bash
# The systemd units, in a root with the package installed (check-install.sh passes its chroot;
# run alone, this script makes one): `systemd-analyze verify --root=<root>` and
# `systemd-analyze security --offline=true` exposure <= 2.0 for each unit, plus the unit
# contract the package relies on (shared runtime directory, retry bound, device binding).
set -uo pipefail
source "$(dirname "$0")/lib.sh"

# Instance used for the template unit.
PKG_INSTANCE=eth1

unit_instance() { [ "$1" = eniroute@.service ] && echo "eniroute@$PKG_INSTANCE.service" || echo "$1"; }

verify_units() {
    local root=$1 out rc u names=()
    for u in "${PKG_UNITS[@]}"; do names+=("$(unit_instance "$u")"); done
    # MANPATH: Documentation=man:eniroute(8) is checked with the host's man against the root's pages.
    out=$(MANPATH=$root/usr/share/man systemd-analyze verify --root="$root" "${names[@]}" 2>&1)
    rc=$?
    [ -z "$out" ] || echo "$out"
    [ "$rc" -eq 0 ] && [ -z "$out" ]
}

exposure_ok() {
    local root=$1 unit=$2 out score
    out=$(systemd-analyze security --offline=true --root="$root" "$unit" 2>&1)
    score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
    [ -n "$score" ] || { echo "$out" | tail -5; return 1; }
    # The lines that cost exposure, for the record.
    grep -E '^✗' <<<"$out" | sed 's/  */ /g'
    echo "exposure $score"
    awk -v s="$score" -v m="$PKG_MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'
}

# unit_has FILE LINE...: each LINE is in the unit file.
unit_has() {
    local f=$1 l
    shift
    for l in "$@"; do grep -qxF -- "$l" "$f" || { echo "$(basename "$f"): missing '$l'"; return 1; }; done
}

check_units() {
    local root=$1 u inst out
    check "systemd-analyze verify --root=<root> ${PKG_UNITS[*]/eniroute@.service/eniroute@$PKG_INSTANCE.service}" verify_units "$root"
    for u in "${PKG_UNITS[@]}"; do
        inst=$(unit_instance "$u")
        if out=$(exposure_ok "$root" "$inst"); then
            ok "$inst: systemd-analyze security --offline=true: $(tail -1 <<<"$out") <= $PKG_MAX_EXPOSURE"
        else
            fail "$inst: systemd-analyze security --offline=true: $(tail -1 <<<"$out") > $PKG_MAX_EXPOSURE"
        fi
        sed '$d;s/^/     | /' <<<"$out"
    done
    local sys=$root/usr/lib/systemd/system
    for u in "${PKG_UNITS[@]}"; do
        check "$u: shares /run/eniroute (RuntimeDirectory, preserved, one dynamic user) and has only CAP_NET_ADMIN" \
            unit_has "$sys/$u" DynamicUser=yes User=eniroute RuntimeDirectory=eniroute RuntimeDirectoryPreserve=yes \
            AmbientCapabilities=CAP_NET_ADMIN CapabilityBoundingSet=CAP_NET_ADMIN \
            "IPAddressAllow=169.254.169.254 fd00:ec2::254" IPAddressDeny=any
    done
    check "eniroute@.service: oneshot apply/remove, bound to its device, retried on 75 at most 5 times in 15 min" \
        unit_has "$sys/eniroute@.service" Type=oneshot RemainAfterExit=yes "ExecStart=/usr/sbin/eniroute apply %i" \
        "ExecStop=/usr/sbin/eniroute remove %i" "BindsTo=sys-subsystem-net-devices-%i.device" \
        Restart=on-failure "RestartPreventExitStatus=1 2" StartLimitIntervalSec=15min StartLimitBurst=5
    check "eniroute.service: boot oneshot after network-online, before cloud-final, bounded" \
        unit_has "$sys/eniroute.service" Type=oneshot "ExecStart=/usr/sbin/eniroute apply" After=network-online.target \
        Before=cloud-final.service TimeoutStartSec=2min WantedBy=multi-user.target
    check "eniroute-watch.service: eniroute watch, restarted on failure" \
        unit_has "$sys/eniroute-watch.service" "ExecStart=/usr/sbin/eniroute watch" Restart=on-failure WantedBy=multi-user.target
}

standalone() {
    source "$(dirname "${BASH_SOURCE[0]}")/check-install.sh"
    require_deb || return
    local root
    root=$(make_root) || { fail "make a bookworm root"; return; }
    PKG_CLEANUP+=("$root")
    in_root "$root" dpkg -i "/tmp/$(basename "$PKG_DEB")" >/dev/null || { fail "dpkg -i"; return; }
    check_units "$root"
}

[[ ${BASH_SOURCE[0]} != "$0" ]] || run_standalone "systemd units" standalone
