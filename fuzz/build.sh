#!/bin/bash
# Builds eniroute's libFuzzer targets into .build/fuzz/ (or $FUZZ_OUT): each module the targets
# need is compiled straight from Sources/ with swiftc (-sanitize=fuzzer,address, whole module,
# -enable-testing so that targets reach internal parsers), then each fuzz/targets/<name>.swift is
# linked against them. Rebuilds only what changed. Usage: fuzz/build.sh [TARGET…]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${FUZZ_OUT:-$repo/.build/fuzz}
SWIFTC=${SWIFTC:-swiftc}
CLANG=${CLANG:-$(dirname "$(command -v "$SWIFTC")")/clang}
mkdir -p "$out/modules" "$out/bin" "$out/CRTNetlink"
flags=(-swift-version 6 -O -g -sanitize=fuzzer,address -parse-as-library -I "$out/modules" -I "$out/CRTNetlink")

# newer OUTPUT INPUT…: true if OUTPUT is missing or older than any input.
stale() { local o=$1 f; shift; [[ -e $o ]] || return 0; for f in "$@"; do [[ $f -nt $o ]] && return 0; done; return 1; }

# The C module: a module map for the header and an object for its one function.
cat >"$out/CRTNetlink/module.modulemap.new" <<MAP
module CRTNetlink {
    header "$repo/Sources/CRTNetlink/include/crtnetlink.h"
    export *
}
MAP
cmp -s "$out/CRTNetlink/module.modulemap.new" "$out/CRTNetlink/module.modulemap" 2>/dev/null \
    || mv "$out/CRTNetlink/module.modulemap.new" "$out/CRTNetlink/module.modulemap"
rm -f "$out/CRTNetlink/module.modulemap.new"
if stale "$out/modules/CRTNetlink.o" "$repo"/Sources/CRTNetlink/*.c "$repo"/Sources/CRTNetlink/include/*.h; then
    "$CLANG" -c -O1 -g -fsanitize=fuzzer-no-link,address -I "$repo/Sources/CRTNetlink/include" \
        "$repo/Sources/CRTNetlink/crtnetlink.c" -o "$out/modules/CRTNetlink.o"
fi

# module NAME: compile Sources/NAME/*.swift into one object and a .swiftmodule.
module() {
    local name=$1 srcs=("$repo/Sources/$1"/*.swift)
    shift
    if stale "$out/modules/$name.o" "${srcs[@]}" "$@"; then
        echo "fuzz/build.sh: module $name"
        "$SWIFTC" "${flags[@]}" -module-name "$name" -wmo -enable-testing -emit-module \
            -emit-module-path "$out/modules/$name.swiftmodule" -c "${srcs[@]}" -o "$out/modules/$name.o"
    fi
}
module ENIRouteCore
module ENIRouteSystem "$out/modules/ENIRouteCore.o"
module ENIRouteIMDS "$out/modules/ENIRouteCore.o" "$out/modules/ENIRouteSystem.o"
module ENIRouteNetlink "$out/modules/ENIRouteCore.o" "$out/modules/ENIRouteSystem.o" "$out/modules/CRTNetlink.o"

# target NAME OBJECT…: link fuzz/targets/NAME.swift with the modules it uses.
declare -A uses=(
    [imds_text]="ENIRouteCore"
    [config]="ENIRouteCore"
    [http_response]="ENIRouteCore ENIRouteSystem ENIRouteIMDS"
    [netlink_reader]="ENIRouteCore ENIRouteSystem CRTNetlink ENIRouteNetlink"
)
targets=("$@")
((${#targets[@]})) || targets=(imds_text http_response netlink_reader config)
for t in "${targets[@]}"; do
    [[ -n ${uses[$t]:-} ]] || { echo "fuzz/build.sh: unknown target $t" >&2; exit 2; }
    objs=()
    for m in ${uses[$t]}; do objs+=("$out/modules/$m.o"); done
    if stale "$out/bin/$t" "$repo/fuzz/targets/$t.swift" "${objs[@]}"; then
        echo "fuzz/build.sh: target $t"
        "$SWIFTC" "${flags[@]}" -use-ld=lld -module-name "fuzz_$t" "$repo/fuzz/targets/$t.swift" "${objs[@]}" -o "$out/bin/$t"
    fi
done
