#!/usr/bin/env bash
# The arm64 package (`make deb ARCH=arm64`), when it has been built: a cheap check of its metadata
# and binary on this machine (nothing is built or run here; `make vm-test VM_ARCH=arm64` runs it
# on an arm64 kernel). Lintian (bookworm's and trixie's), the same file list as the native
# package, an aarch64 static-Swift-stdlib binary needing only libc, libm, libstdc++ and libgcc_s,
# PIE/RELRO/BIND_NOW, no glibc symbol newer than Debian 12's 2.36, and Depends installable there.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/check-deb.sh"

PKG_DEB_ARM64=${ENIROUTE_DEB_ARM64:-$PKG_ROOT/.build/deb/eniroute_${PKG_VERSION}_arm64.deb}

arm64_elf() {
    readelf -h "$(unpacked)/usr/sbin/eniroute" | grep -qE 'Machine:[[:space:]]+AArch64'
}

# The highest GLIBC_ symbol version the binary needs: at most Debian 12's glibc 2.36.
arm64_glibc() {
    local top
    top=$(readelf -V "$(unpacked)/usr/sbin/eniroute" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)
    note "highest symbol version needed: $top"
    [ -n "$top" ] && dpkg --compare-versions "${top#GLIBC_}" le 2.36
}

# Every versioned Depends is satisfied by Debian 12's versions (libc6 2.36, libstdc++6 12.2).
arm64_depends_bookworm() {
    local deps
    deps=$(dpkg-deb -f "$PKG_DEB" Depends)
    note "Depends: $deps"
    tr ',' '\n' <<<"$deps" | sed -n 's/^ *\([a-z0-9.+-]*\) *(>= *\([^)]*\)).*/\1 \2/p' | while read -r pkg min; do
        case $pkg in
        libc6) have=2.36-9 ;; libstdc++6 | libgcc-s1) have=12.2.0-14 ;; *) have=0 ;;
        esac
        dpkg --compare-versions "$have" ge "$min" || { echo "$pkg (>= $min) is newer than Debian 12's $have"; exit 1; }
    done
}

arm64_version() {
    [ "$(dpkg-deb -f "$PKG_DEB" Version)" = "$PKG_VERSION" ] && [ "$(dpkg-deb -f "$PKG_DEB" Architecture)" = arm64 ]
}

check_deb_arm64() {
    if [ ! -f "$PKG_DEB_ARM64" ]; then
        note "no arm64 package ($(basename "$PKG_DEB_ARM64")): skipped (make deb ARCH=arm64 builds it)"
        return 0
    fi
    # The same checks on another package: PKG_DEB and its unpacked tree, restored afterwards.
    local saved_deb=$PKG_DEB saved_unpacked=${PKG_UNPACKED:-}
    PKG_DEB=$PKG_DEB_ARM64 PKG_UNPACKED=
    require_deb || { PKG_DEB=$saved_deb PKG_UNPACKED=$saved_unpacked; return; }
    note "$(basename "$PKG_DEB"): $(stat -c %s "$PKG_DEB") bytes, eniroute $(stat -c %s "$(unpacked)/usr/sbin/eniroute") bytes"
    lintian_check
    trixie_lintian_check
    check "arm64: version $PKG_VERSION, Architecture arm64" arm64_version
    check "arm64: the package ships exactly the expected files" file_list_exact
    check "arm64: eniroute is an AArch64 ELF" arm64_elf
    check "arm64: eniroute needs only libc, libm, libstdc++, libgcc_s (static Swift stdlib)" binary_libraries
    check "arm64: eniroute is PIE with full RELRO, BIND_NOW and a non-executable stack" binary_hardened
    check "arm64: no glibc symbol newer than Debian 12's 2.36" arm64_glibc
    check "arm64: Depends installable on Debian 12" arm64_depends_bookworm
    check "arm64: the packaged units are the ones in packaging/systemd" units_in_package_match_source
    PKG_DEB=$saved_deb PKG_UNPACKED=$saved_unpacked
}

[[ ${BASH_SOURCE[0]} != "$0" ]] || run_standalone "arm64 package" check_deb_arm64
