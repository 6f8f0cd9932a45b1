# Shared helpers of the package checks (sourced). Every check prints one "ok ..." or "FAIL ..."
# line; summary prints "package: N passed, N failed" and fails when anything failed.
# shellcheck shell=bash disable=SC2034  # the PKG_ variables are used by the check scripts

PKG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PKG_CACHE=${ENIROUTE_PKG_CACHE:-$PKG_ROOT/.build/package-cache}
PKG_VERSION=$(sed -n 's/^public let eniRouteVersion = "\(.*\)"$/\1/p' "$PKG_ROOT/Sources/ENIRouteCLI/ENIRoute.swift")
PKG_ARCH=$(dpkg --print-architecture)
PKG_DEB=${ENIROUTE_DEB:-$PKG_ROOT/.build/deb/eniroute_${PKG_VERSION}_${PKG_ARCH}.deb}
PKG_UNITS=(eniroute.service eniroute@.service eniroute-watch.service)
PKG_MAX_EXPOSURE=${ENIROUTE_MAX_EXPOSURE:-2.0}
: "${PKG_PASSED:=0}" "${PKG_FAILED:=0}"

ok() {
    echo "ok   $*"
    PKG_PASSED=$((PKG_PASSED + 1))
}

fail() {
    echo "FAIL $*"
    PKG_FAILED=$((PKG_FAILED + 1))
}

# check DESCRIPTION COMMAND...: ok when COMMAND succeeds; its output is shown only on failure.
check() {
    local what=$1 out
    shift
    if out=$("$@" 2>&1); then
        ok "$what"
    else
        fail "$what"
        [ -z "$out" ] || sed 's/^/     | /' <<<"$out"
    fi
}

# note TEXT: an indented detail line under the previous result.
note() { echo "     $*"; }

# section NAME: a heading; the time the previous section took. "section end" closes the last one.
section() {
    local now
    now=$(date +%s%N)
    if [ -n "${PKG_SECTION_START:-}" ]; then
        note "($PKG_SECTION_NAME: $(((now - PKG_SECTION_START) / 1000000)) ms)"
    fi
    PKG_SECTION_START=
    [ "$1" != end ] || return 0
    PKG_SECTION_NAME=$1
    PKG_SECTION_START=$now
    echo "# $1"
}

summary() {
    section end
    echo "package: $PKG_PASSED passed, $PKG_FAILED failed"
    [ "$PKG_FAILED" -eq 0 ]
}

# The package must exist (`make package-test` builds it first, with `make deb`); unpacks it once
# per run into a fresh directory. Call it directly, not in $(...): it sets PKG_UNPACKED.
require_deb() {
    if [ ! -f "$PKG_DEB" ]; then
        fail "package exists: $PKG_DEB (run 'make deb' first)"
        return 1
    fi
    if [ -z "${PKG_UNPACKED:-}" ]; then
        PKG_UNPACKED=$(mktemp -d /tmp/eniroute-pkg.XXXXXX)
        PKG_CLEANUP+=("$PKG_UNPACKED")
        dpkg-deb -x "$PKG_DEB" "$PKG_UNPACKED"
    fi
}

# The directory the package is unpacked in (after require_deb).
unpacked() {
    [ -n "${PKG_UNPACKED:-}" ] || { echo "unpacked: require_deb first" >&2; return 1; }
    echo "$PKG_UNPACKED"
}

# Configuration.keys, read from the Swift source (the Swift test uses the array itself).
config_keys() {
    sed -n '/static let keys/,/^    \]/p' "$PKG_ROOT/Sources/ENIRouteCore/Configuration.swift" |
        sed -n 's/^ *("\([a-z0-9-]*\)", .*/\1/p'
}

PKG_CLEANUP=()
pkg_cleanup() {
    local d
    for d in "${PKG_CLEANUP[@]}"; do
        case $d in /tmp/eniroute-pkg.*) rm -rf --one-file-system "$d" ;; esac
    done
}

# run_standalone NAME FUNCTION: when a check script is run by itself rather than from run.sh.
run_standalone() {
    trap pkg_cleanup EXIT
    section "$1"
    "$2"
    summary
}
