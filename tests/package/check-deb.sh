#!/usr/bin/env bash
# The built .deb: lintian, exactly the expected files and conffiles, the binary (static Swift
# stdlib, hardening, no simulator), one version everywhere, and the shipped config files.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

# Every file the package ships (directories aside); a new file must be added here on purpose.
PKG_EXPECTED_FILES=(
    /etc/cloud/cloud.cfg.d/90_eniroute.cfg
    /etc/eniroute/eniroute.conf
    /etc/iproute2/rt_protos.d/eniroute.conf
    /usr/lib/systemd/system/eniroute-watch.service
    /usr/lib/systemd/system/eniroute.service
    /usr/lib/systemd/system/eniroute@.service
    /usr/lib/systemd/networkd.conf.d/eniroute.conf
    /usr/lib/udev/rules.d/81-eniroute.rules
    /usr/lib/udev/rules.d/90-eniroute-start.rules
    /usr/sbin/eniroute
    /usr/share/bash-completion/completions/eniroute
    /usr/share/doc/eniroute/changelog.gz
    /usr/share/doc/eniroute/copyright
    /usr/share/doc/eniroute/examples/85-eniroute-test-virtio.rules
    /usr/share/lintian/overrides/eniroute
    /usr/share/man/man5/eniroute.conf.5.gz
    /usr/share/man/man8/eniroute.8.gz
)
PKG_EXPECTED_CONFFILES=(
    /etc/cloud/cloud.cfg.d/90_eniroute.cfg
    /etc/eniroute/eniroute.conf
    /etc/iproute2/rt_protos.d/eniroute.conf
)

# lintian's own output (info tags included) is always shown, under the result line.
lintian_check() {
    local out rc
    out=$(lintian --fail-on error,warning --display-info "$PKG_DEB" 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ]; then ok "lintian --fail-on error,warning"; else fail "lintian --fail-on error,warning"; fi
    grep -v '^running with root privileges' <<<"$out" | sed '/^$/d;s/^/     lintian: /'
}

# Debian 13's lintian (the host's is bookworm's): a minimal trixie root with lintian, made once
# with mmdebstrap (about 1-2 min cold, ~358 MB) and kept unpacked under the package cache; lintian
# runs in it by chroot, without network.
PKG_TRIXIE_ROOT=$PKG_CACHE/trixie-lintian
trixie_root() {
    [ -x "$PKG_TRIXIE_ROOT/usr/bin/lintian" ] && return 0
    mkdir -p "$PKG_CACHE"
    rm -rf "$PKG_TRIXIE_ROOT.tmp"
    echo "     making $PKG_TRIXIE_ROOT with mmdebstrap (about 2 min; cached)" >&2
    mmdebstrap --quiet --variant=minbase --include=lintian trixie "$PKG_TRIXIE_ROOT.tmp" >&2 || return 1
    mv "$PKG_TRIXIE_ROOT.tmp" "$PKG_TRIXIE_ROOT"
}

trixie_lintian_check() {
    local out rc deb=/tmp/$(basename "$PKG_DEB") version
    if ! trixie_root; then
        fail "trixie lintian --fail-on error,warning (could not make the trixie root)"
        return
    fi
    cp "$PKG_DEB" "$PKG_TRIXIE_ROOT$deb"
    version=$(chroot "$PKG_TRIXIE_ROOT" dpkg-query -W -f='${Version}' lintian)
    out=$(unshare --net --mount --pid --fork --mount-proc="$PKG_TRIXIE_ROOT/proc" chroot "$PKG_TRIXIE_ROOT" \
        /usr/bin/env -i PATH=/usr/sbin:/usr/bin LC_ALL=C.UTF-8 lintian --fail-on error,warning --display-info "$deb" 2>&1)
    rc=$?
    rm -f "$PKG_TRIXIE_ROOT$deb"
    if [ "$rc" -eq 0 ]; then ok "trixie lintian $version --fail-on error,warning"; else fail "trixie lintian $version --fail-on error,warning"; fi
    grep -v '^running with root privileges' <<<"$out" | sed '/^$/d;s/^/     lintian: /'
}

file_list_exact() {
    diff <(printf '%s\n' "${PKG_EXPECTED_FILES[@]}" | sort) \
        <(dpkg-deb -c "$PKG_DEB" | awk '$1 !~ /^d/ {print substr($6, 2)}' | sort)
}

conffiles_exact() {
    diff <(printf '%s\n' "${PKG_EXPECTED_CONFFILES[@]}" | sort) <(dpkg-deb -f "$PKG_DEB" >/dev/null && dpkg-deb -I "$PKG_DEB" conffiles | sort)
}

binary_libraries() {
    local needed
    needed=$(readelf -d "$(unpacked)/usr/sbin/eniroute" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    note "NEEDED: $(tr '\n' ' ' <<<"$needed")"
    ! grep -vxE 'libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1' <<<"$needed"
}

binary_hardened() {
    local bin
    bin=$(unpacked)/usr/sbin/eniroute
    readelf -h "$bin" | grep -q 'Type: *DYN' || { echo "not PIE"; return 1; }
    readelf -lW "$bin" | grep -q GNU_RELRO || { echo "no RELRO"; return 1; }
    readelf -d "$bin" | grep -qE 'BIND_NOW|FLAGS_1.*NOW' || { echo "no BIND_NOW"; return 1; }
    readelf -lW "$bin" | grep GNU_STACK | grep -qv RWE || { echo "executable stack"; return 1; }
}

no_simulator() {
    ! dpkg-deb -c "$PKG_DEB" | grep -i 'imds-sim\|IMDSSimulator'
}

one_version() {
    local deb changelog binary
    deb=$(dpkg-deb -f "$PKG_DEB" Version)
    changelog=$(dpkg-parsechangelog -l "$PKG_ROOT/packaging/debian/changelog" -SVersion)
    binary=$("$(unpacked)/usr/sbin/eniroute" version)
    note "eniRouteVersion $PKG_VERSION, changelog $changelog, .deb $deb, binary '$binary'"
    [ "$deb" = "$PKG_VERSION" ] && [ "$changelog" = "$PKG_VERSION" ] && [ "$binary" = "eniroute $PKG_VERSION" ]
}

conffile_lists_every_key() {
    local conf keys missing=0 key n
    conf=$(unpacked)/etc/eniroute/eniroute.conf
    keys=$(config_keys)
    [ -n "$keys" ] || { echo "no keys found in Configuration.swift"; return 1; }
    for key in $keys; do
        n=$(grep -cE "^# $key =( |\$)" "$conf")
        [ "$n" = 1 ] || { echo "key $key: $n '# $key = default' lines"; missing=1; }
    done
    # And nothing else looks like a commented key.
    while read -r key; do
        grep -qx "$key" <<<"$keys" || { echo "unknown key in the conffile: $key"; missing=1; }
    done < <(sed -n 's/^# \([a-z0-9-]*\) = .*/\1/p;s/^# \([a-z0-9-]*\) =$/\1/p' "$conf")
    # No line is active: the file documents the defaults only.
    if grep -vE '^(#|[[:space:]]*$)' "$conf"; then echo "active lines above"; missing=1; fi
    return "$missing"
}

rt_protos_matches_core() {
    local core
    core=$(sed -n 's/.*static let routeProtocol: UInt8 = \(0x[0-9A-Fa-f]*\).*/\1/p' "$PKG_ROOT/Sources/ENIRouteCore/KernelObjects.swift")
    [ -n "$core" ] || { echo "routeProtocol not found"; return 1; }
    grep -qxP "$((core))\teniroute" "$(unpacked)/etc/iproute2/rt_protos.d/eniroute.conf"
}

cloud_init_dropin() {
    # datasource: -> Ec2: -> apply_full_imds_network_config: false, nothing else active.
    diff <(grep -vE '^(#|[[:space:]]*$)' "$(unpacked)/etc/cloud/cloud.cfg.d/90_eniroute.cfg") - <<'YAML'
datasource:
  Ec2:
    apply_full_imds_network_config: false
YAML
}

networkd_dropin() {
    diff <(grep -vE '^(#|[[:space:]]*$)' "$(unpacked)/usr/lib/systemd/networkd.conf.d/eniroute.conf") - <<'INI'
[Network]
ManageForeignRoutingPolicyRules=no
ManageForeignRoutes=no
INI
}

units_in_package_match_source() {
    local u
    for u in "${PKG_UNITS[@]}"; do
        cmp "$PKG_ROOT/packaging/systemd/$u" "$(unpacked)/usr/lib/systemd/system/$u" || return 1
    done
}

check_deb() {
    require_deb || return
    note "$(basename "$PKG_DEB"): $(stat -c %s "$PKG_DEB") bytes, installed $(dpkg-deb -f "$PKG_DEB" Installed-Size) KiB"
    lintian_check
    trixie_lintian_check
    check "the package ships exactly the expected files" file_list_exact
    check "conffiles: eniroute.conf, rt_protos.d, cloud.cfg.d drop-in" conffiles_exact
    check "eniroute needs only libc, libm, libstdc++, libgcc_s (static Swift stdlib)" binary_libraries
    check "eniroute is PIE with full RELRO, BIND_NOW and a non-executable stack" binary_hardened
    check "the IMDS simulator is not shipped" no_simulator
    check "one version: eniRouteVersion = debian/changelog = .deb = eniroute version" one_version
    check "Depends: only libc6, libgcc-s1, libstdc++6 and procps" \
        bash -c "dpkg-deb -f '$PKG_DEB' Depends | tr ',' '\n' | sed 's/ *(.*//;s/^ *//' | grep -vxE 'libc6|libgcc-s1|libstdc\+\+6|procps' | grep . && exit 1 || exit 0"
    check "eniroute.conf lists every Configuration key once, commented, and nothing else" conffile_lists_every_key
    check "rt_protos.d names the core's protocol number 'eniroute'" rt_protos_matches_core
    check "cloud-init drop-in: datasource.Ec2.apply_full_imds_network_config false" cloud_init_dropin
    check "networkd.conf.d drop-in: ManageForeign{RoutingPolicyRules,Routes}=no" networkd_dropin
    check "the packaged units are the ones in packaging/systemd" units_in_package_match_source
}

[[ ${BASH_SOURCE[0]} != "$0" ]] || run_standalone ".deb contents" check_deb
