#!/usr/bin/env bash
# Install test: a minimal bookworm root (mmdebstrap --variant=minbase with systemd, udev and
# procps, as on an AMI; the tarball is cached under .build/package-cache/), `dpkg -i` of the
# package in a chroot inside a private network namespace (no network at all) with a policy-rc.d
# that logs and refuses every start. Checks every file, the conffiles, the enabled units, that
# nothing was started, that the installed binary runs there and accepts the shipped
# configuration (also with every default uncommented) and rejects a bad one naming file, line
# and key; the units (check-units.sh); then remove keeps only the conffiles and purge leaves the
# root exactly as it was before the install (dpkg's own bookkeeping aside).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/check-units.sh"

PKG_ROOT_INCLUDE=systemd,udev,procps
PKG_ROOT_TARBALL=$PKG_CACHE/bookworm-minbase-${PKG_ROOT_INCLUDE//,/-}.tar

# Prints the path of a fresh root with the package copied to /tmp and a logging policy-rc.d.
make_root() {
    if [ ! -f "$PKG_ROOT_TARBALL" ]; then
        mkdir -p "$PKG_CACHE"
        echo "     making $PKG_ROOT_TARBALL with mmdebstrap (about a minute; cached)" >&2
        mmdebstrap --quiet --variant=minbase --include="$PKG_ROOT_INCLUDE" --format=tar bookworm \
            "$PKG_ROOT_TARBALL.tmp" >&2 || return 1
        mv "$PKG_ROOT_TARBALL.tmp" "$PKG_ROOT_TARBALL"
    fi
    local root
    root=$(mktemp -d /tmp/eniroute-pkg.XXXXXX)
    tar -C "$root" -xf "$PKG_ROOT_TARBALL" || return 1
    cat >"$root/usr/sbin/policy-rc.d" <<'POLICY'
#!/bin/sh
# Test root: record every request to start, stop or restart a service, and refuse it.
echo "$*" >>/var/log/policy-rc.d.log
exit 101
POLICY
    chmod 0755 "$root/usr/sbin/policy-rc.d"
    cp "$PKG_DEB" "$root/tmp/"
    echo "$root"
}

# in_root ROOT COMMAND...: run in the chroot, in new network (only a down loopback), mount and
# PID namespaces, with a private /proc (Swift reads its arguments from /proc/self/cmdline: without
# /proc, eniroute sees none and prints its help).
in_root() {
    local root=$1
    shift
    unshare --net --mount --pid --fork --mount-proc="$root/proc" chroot "$root" /usr/bin/env -i \
        PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# A listing of the root for before/after comparisons: path, type, mode, symlink target.
# dpkg's and debconf's bookkeeping and logs change by design and are left out.
root_listing() {
    (cd "$1" && find . -xdev \( -path ./var/lib/dpkg -o -path ./var/log -o -path ./var/cache/debconf \
        -o -path ./tmp -o -path ./proc -o -path ./run \) -prune -o -printf '%p %y %m %l\n' | sort)
}

installed_and_verified() {
    [ "$(in_root "$1" dpkg-query -W -f='${db:Status-Abbrev}' eniroute)" = "ii " ] && [ -z "$(in_root "$1" dpkg --verify eniroute)" ]
}

files_installed() {
    local root=$1 line mode path missing=0
    while read -r mode _ _ _ _ path _; do
        path=${path#.}
        [ "$path" = / ] && continue
        if [ "${mode:0:1}" = d ]; then
            [ -d "$root$path" ] || { echo "missing directory $path"; missing=1; }
        else
            [ -f "$root$path" ] || { echo "missing $path"; missing=1; continue; }
            [ "$(stat -c %A "$root$path")" = "$mode" ] || { echo "$path: $(stat -c %A "$root$path"), package says $mode"; missing=1; }
        fi
    done < <(dpkg-deb -c "$PKG_DEB")
    return "$missing"
}

conffiles_registered() {
    local got
    got=$(in_root "$1" dpkg-query -W -f='${Conffiles}\n' eniroute | awk 'NF {print $1, NF}' | sort)
    diff <(printf '%s 2\n' /etc/cloud/cloud.cfg.d/90_eniroute.cfg /etc/eniroute/eniroute.conf \
        /etc/iproute2/rt_protos.d/eniroute.conf) - <<<"$got"
}

units_enabled() {
    local root=$1 u
    for u in eniroute.service eniroute-watch.service; do
        # deb-systemd-helper links to the first existing of /lib/... and /usr/lib/... (on a
        # merged-/usr system both name the same file).
        case $(readlink "$root/etc/systemd/system/multi-user.target.wants/$u") in
        "/lib/systemd/system/$u" | "/usr/lib/systemd/system/$u") ;;
        *) echo "$u is not enabled in multi-user.target.wants"; return 1 ;;
        esac
        [ "$(systemctl --root="$root" is-enabled "$u")" = enabled ] || { echo "systemctl is-enabled $u"; return 1; }
    done
    # The template is started by udev, never enabled; nothing else of eniroute's is linked.
    [ "$(find "$root/etc/systemd" -name 'eniroute*' | wc -l)" = 2 ] || { find "$root/etc/systemd" -name 'eniroute*'; return 1; }
}

nothing_started() {
    local root=$1 p
    if [ -s "$root/var/log/policy-rc.d.log" ]; then
        echo "policy-rc.d was asked: $(tr '\n' ';' <"$root/var/log/policy-rc.d.log")"
        return 1
    fi
    [ ! -e "$root/run/eniroute" ] || { echo "/run/eniroute exists"; return 1; }
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" != "$root" ] || { echo "process $(cat "$p/comm") runs in the root"; return 1; }
    done
}

binary_runs() {
    [ "$(in_root "$1" eniroute version)" = "eniroute $PKG_VERSION" ] && in_root "$1" eniroute --help >/dev/null
}

# `eniroute status` reads the configuration first, then (read-only) the kernel's state of the
# private, empty network namespace: exit 0 means the file was accepted.
shipped_config_accepted() {
    local out
    out=$(in_root "$1" eniroute status --config /etc/eniroute/eniroute.conf 2>&1) || { echo "$out"; return 1; }
    ! grep -q '^Usage:' <<<"$out" || { echo "eniroute saw no arguments: $out"; return 1; }
}

uncommented_config_accepted() {
    sed -E 's/^# ([a-z0-9-]+ =( .*)?)$/\1/' "$1/etc/eniroute/eniroute.conf" >"$1/tmp/all.conf"
    [ "$(grep -cE '^[a-z]' "$1/tmp/all.conf")" = "$(config_keys | wc -l)" ] || { echo "not every key uncommented"; return 1; }
    local out
    out=$(in_root "$1" eniroute status --config /tmp/all.conf 2>&1) || { echo "$out"; return 1; }
    ! grep -q '^Usage:' <<<"$out" || { echo "eniroute saw no arguments: $out"; return 1; }
}

bad_config_rejected() {
    local out rc line
    { cat "$1/tmp/all.conf"; echo "frobnicate = 1"; } >"$1/tmp/bad.conf"
    line=$(wc -l <"$1/tmp/bad.conf")
    out=$(in_root "$1" eniroute status --config /tmp/bad.conf 2>&1)
    rc=$?
    echo "$out"
    [ "$rc" = 1 ] && grep -q "/tmp/bad.conf:$line: frobnicate: unknown key" <<<"$out"
}

removed_keeps_conffiles() {
    local root=$1 f
    [ "$(in_root "$root" dpkg-query -W -f='${db:Status-Abbrev}' eniroute)" = "rc " ] || { echo "status not rc"; return 1; }
    for f in /etc/eniroute/eniroute.conf /etc/iproute2/rt_protos.d/eniroute.conf /etc/cloud/cloud.cfg.d/90_eniroute.cfg; do
        [ -f "$root$f" ] || { echo "$f removed"; return 1; }
    done
    for f in /usr/sbin/eniroute /usr/lib/systemd/system/eniroute.service /usr/lib/udev/rules.d/81-eniroute.rules; do
        [ ! -e "$root$f" ] || { echo "$f still there"; return 1; }
    done
}

check_install() {
    require_deb || return
    local root before
    if ! root=$(make_root); then
        fail "a minimal bookworm root (mmdebstrap)"
        return
    fi
    PKG_CLEANUP+=("$root")
    ok "a minimal bookworm root from $(basename "$PKG_ROOT_TARBALL") ($(du -sm "$PKG_ROOT_TARBALL" | cut -f1) MB)"
    before=$(root_listing "$root")

    check "dpkg -i in a chroot without network" in_root "$root" dpkg -i "/tmp/$(basename "$PKG_DEB")"
    check "dpkg reports eniroute installed, dpkg --verify clean" installed_and_verified "$root"
    check "every file of the package is installed with its mode" files_installed "$root"
    check "conffiles registered: eniroute.conf, rt_protos.d, cloud.cfg.d" conffiles_registered "$root"
    check "eniroute.service and eniroute-watch.service enabled; eniroute@.service not" units_enabled "$root"
    check "nothing started: policy-rc.d never asked, no /run/eniroute, no process in the root" nothing_started "$root"
    check "the installed eniroute runs on a clean bookworm (version, --help)" binary_runs "$root"
    check "the installed eniroute accepts the shipped eniroute.conf" shipped_config_accepted "$root"
    check "... and the same file with every '# key = default' uncommented" uncommented_config_accepted "$root"
    check "... and rejects an unknown key naming file, line and key (exit 1)" bad_config_rejected "$root"

    check_units "$root"

    check "dpkg -r" in_root "$root" dpkg -r eniroute
    check "after remove: conffiles stay, everything else is gone" removed_keeps_conffiles "$root"
    check "dpkg -P" in_root "$root" dpkg -P eniroute
    check "after purge: the root is as before the install" diff <(echo "$before") <(root_listing "$root")
    check "nothing started during remove and purge" nothing_started "$root"
}

[[ ${BASH_SOURCE[0]} != "$0" ]] || run_standalone "install test" check_install
