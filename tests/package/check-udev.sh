#!/usr/bin/env bash
# The udev rules: `udevadm verify` (udev >= 254; bookworm has 252, which lacks it, so udev from
# bookworm-backports is downloaded with a private apt configuration - the machine's apt sources
# and state are not touched - cached under .build/package-cache/, and unpacked into a temporary
# folder), plus the rules' contract: no RUN+=, and SYSTEMD_WANTS only for ENIROUTE_MANAGED=1.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

# Prints the path of a udevadm that has `verify` (LD_LIBRARY_PATH set by the caller via udevadm_run).
PKG_UDEVADM=
PKG_UDEVADM_LIBS=
fetch_udevadm() {
    if command -v udevadm >/dev/null && udevadm verify --help >/dev/null 2>&1; then
        PKG_UDEVADM=$(command -v udevadm)
        return 0
    fi
    local debs=$PKG_CACHE/udev-backports apt tmp
    if ! ls "$debs"/udev_*.deb >/dev/null 2>&1; then
        apt=$(mktemp -d /tmp/eniroute-pkg.XXXXXX)
        PKG_CLEANUP+=("$apt")
        mkdir -p "$apt"/etc/sources.list.d "$apt"/etc/preferences.d "$apt"/lists/partial \
            "$apt"/cache/archives/partial "$debs.tmp"
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main" \
            >"$apt/etc/sources.list"
        local opts=(-o "Dir::Etc::SourceList=$apt/etc/sources.list" -o "Dir::Etc::SourceParts=$apt/etc/sources.list.d"
            -o "Dir::Etc::Preferences=$apt/etc/preferences" -o "Dir::Etc::PreferencesParts=$apt/etc/preferences.d"
            -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "APT::Sandbox::User=root")
        apt-get -qq "${opts[@]}" update >&2 || return 1
        (cd "$debs.tmp" && apt-get -qq "${opts[@]}" download \
            udev/bookworm-backports libsystemd-shared/bookworm-backports libudev1/bookworm-backports >&2) || return 1
        rm -rf "$debs"
        mv "$debs.tmp" "$debs"
    fi
    tmp=$(mktemp -d /tmp/eniroute-pkg.XXXXXX)
    PKG_CLEANUP+=("$tmp")
    local d
    for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$tmp"; done
    PKG_UDEVADM=$(find "$tmp" -path '*bin/udevadm' -type f | head -1)
    PKG_UDEVADM_LIBS=$(dirname "$(find "$tmp" -name 'libsystemd-shared-*.so' | head -1)")
    [ -x "$PKG_UDEVADM" ]
}

udevadm_run() { LD_LIBRARY_PATH=$PKG_UDEVADM_LIBS "$PKG_UDEVADM" "$@"; }

no_run_key() {
    ! grep -nE '^[^#]*\bRUN\b' "$@"
}

wants_only_when_managed() {
    local f=$PKG_ROOT/udev/90-eniroute-start.rules
    # The one SYSTEMD_WANTS line, after the guards that skip non-net, remove and unmarked devices
    # (not only add: a hot-plugged NIC's rename sends a move event, and systemd uses that one).
    [ "$(cat "$PKG_ROOT"/udev/*.rules | grep -c SYSTEMD_WANTS)" = "$(grep -c SYSTEMD_WANTS "$f")" ] &&
        grep -q '^ENV{ENIROUTE_MANAGED}!="1", GOTO="eniroute_start_end"$' "$f" &&
        grep -q '^ACTION=="remove", GOTO="eniroute_start_end"$' "$f" &&
        grep -q '^TAG+="systemd", ENV{SYSTEMD_WANTS}+="eniroute@$name.service"$' "$f" &&
        grep -q 'ENV{ID_NET_DRIVER}=="ena|ixgbevf|vif", ENV{ENIROUTE_MANAGED}="1"' "$PKG_ROOT/udev/81-eniroute.rules"
}

sorts_after_net_setup_link() {
    [ "$(printf '%s\n' 80-net-setup-link.rules 81-eniroute.rules 85-eniroute-test-virtio.rules 90-eniroute-start.rules | LC_ALL=C sort | tr '\n' ' ')" = \
        "80-net-setup-link.rules 81-eniroute.rules 85-eniroute-test-virtio.rules 90-eniroute-start.rules " ]
}

check_udev() {
    if fetch_udevadm; then
        ok "udevadm with verify: $(udevadm_run --version) ($PKG_UDEVADM)"
        check "udevadm verify udev/*.rules udev/test/*.rules" udevadm_run verify "$PKG_ROOT"/udev/*.rules "$PKG_ROOT"/udev/test/*.rules
        if [ -f "$PKG_DEB" ] && require_deb; then
            check "udevadm verify on the packaged rules" udevadm_run verify "$(unpacked)"/usr/lib/udev/rules.d/*.rules
        fi
    else
        fail "udevadm >= 254 from bookworm-backports (download failed)"
    fi
    check "no RUN+= in eniroute's rules" no_run_key "$PKG_ROOT"/udev/*.rules "$PKG_ROOT"/udev/test/*.rules
    check "SYSTEMD_WANTS=eniroute@\$name.service only with ENIROUTE_MANAGED=1, never on remove" wants_only_when_managed
    check "81-eniroute.rules sorts after 80-net-setup-link.rules, the start rule after the opt-in/out window" sorts_after_net_setup_link
}

[[ ${BASH_SOURCE[0]} != "$0" ]] || run_standalone "udev rules" check_udev
