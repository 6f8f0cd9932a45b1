#!/usr/bin/env bash
# bench/run.sh: `make bench` (issue 7). Measures eniroute against the physical limit (B5) and
# against the shell-tool way (B4, bench/baseline.sh) in one run, and prints a Markdown table
# (also written to .build/bench/results.md). No timed assertions: goals are marked met/missed.
#
#   B1  one hot-attached ENI with 10 IPv4 + 2 IPv6: `eniroute apply eth1`, ≥ 30 cold runs
#   B2  boot: 15 ENIs × 50 IPv4 (cold and no-op), then 50 ENIs × 50 (cost growth)
#   B3  the watcher (pending unless `eniroute watch` exists)
#   B4  bench/baseline.sh on the same scenarios
#   B5  the same scenario's bare costs: requests × loopback HTTP round trip + one batched
#       netlink exchange of the same number of messages + start of an empty static Swift binary
#
# NETWORK SAFETY: everything runs inside two network namespaces this script creates and
# deletes (eb<PID>-inst: the instance with the IMDS simulator on 169.254.169.254:80 on its lo;
# eb<PID>-sink: the veth peers of the ENIs). Before configuring a namespace the script checks
# that it is neither the namespace it started in nor PID 1's (when readable).
#
# The binary measured is the test variant of the release build (`make testing`: the shipped
# build's sources and flags plus -DENIROUTE_ACCEPT_VETH, since the ENIs here are veths).
#
# Environment: BENCH_SCRATCH (build directory, default .build/testing), B1_RUNS (30), B2_RUNS (5),
# BASE_B1_RUNS (5), BASE_B2_RUNS (1), BENCH_SKIP_BUILD=1 (use the existing release binaries),
# B3_SECONDS (watcher idle window, default 30), B3_INTERVAL (its IMDS poll interval, default 2).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
BUILD=${BENCH_SCRATCH:-$REPO/.build/testing}
[[ $BUILD == /* ]] || BUILD=$REPO/$BUILD
OUT=$BUILD/bench
B1_RUNS=${B1_RUNS:-30} B2_RUNS=${B2_RUNS:-5} BASE_B1_RUNS=${BASE_B1_RUNS:-5} BASE_B2_RUNS=${BASE_B2_RUNS:-1}
B3_SECONDS=${B3_SECONDS:-30} B3_INTERVAL=${B3_INTERVAL:-2}
COMMAND="make bench"
[[ -n ${BENCH_COMMAND:-} ]] && COMMAND=$BENCH_COMMAND
IMDS4=169.254.169.254
# shellcheck source=bench/gen-scenario.sh
source "$REPO/bench/gen-scenario.sh"

say() { printf '[bench] %s\n' "$*" >&2; }
fail() { printf '[bench] FATAL: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || fail "must run as root (it creates network namespaces)"
for t in ip curl jq strace swiftc awk python3; do
    command -v "$t" >/dev/null || fail "missing tool '$t' (scripts/install-deps.sh)"
done

# ------------------------------------------------------------------------------------------
# Build: release binaries (static Swift stdlib), the measuring helper, an empty Swift binary
# ------------------------------------------------------------------------------------------
mkdir -p "$OUT"
BIN=$BUILD/release/eniroute SIM=$BUILD/release/eniroute-imds-sim
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    say "building release binaries (swift build -c release --static-swift-stdlib -Xswiftc -DENIROUTE_ACCEPT_VETH)"
    for p in eniroute eniroute-imds-sim; do
        swift build -c release --static-swift-stdlib --scratch-path "$BUILD" -Xswiftc -DENIROUTE_ACCEPT_VETH --product "$p" \
            >"$OUT/build-$p.log" 2>&1 ||
            { tail -n 30 "$OUT/build-$p.log" >&2; fail "swift build of $p failed"; }
    done
fi
[[ -x $BIN && -x $SIM ]] || fail "release binaries missing under $BUILD/release"
BT=$OUT/benchtool EMPTY=$OUT/empty-swift
if [[ ! -x $BT || $REPO/bench/benchtool.c -nt $BT ]]; then
    CC=${CC:-$(command -v cc || command -v clang || echo "$(dirname "$(command -v swiftc)")/clang")}
    "$CC" -O2 -Wall -Wextra -Werror -o "$BT" "$REPO/bench/benchtool.c" || fail "$CC benchtool.c"
fi
if [[ ! -x $EMPTY ]]; then
    : >"$OUT/empty.swift"
    (cd "$OUT" && swiftc -O -static-stdlib empty.swift -o "$EMPTY") >"$OUT/build-empty.log" 2>&1 ||
        { cat "$OUT/build-empty.log" >&2; fail "swiftc empty.swift"; }
fi

# ------------------------------------------------------------------------------------------
# Namespaces (never the starting or root namespace)
# ------------------------------------------------------------------------------------------
SELF_NETNS=$(stat -L -c %i /proc/$$/ns/net)
INIT_NETNS=$(stat -L -c %i /proc/1/ns/net 2>/dev/null || true)
PFX=eb$$
INST=$PFX-inst SINK=$PFX-sink
TMP=$(mktemp -d /tmp/eniroute-bench.XXXXXX)
SIM_PID=''
NAMESPACES=()

assert_private_ns() {
    local ino
    ino=$(ip netns exec "$1" stat -L -c %i /proc/self/ns/net 2>/dev/null) || fail "SAFETY: cannot enter namespace $1"
    [[ $ino =~ ^[0-9]+$ ]] || fail "SAFETY: no inode for namespace $1"
    if [[ $ino == "$SELF_NETNS" || $ino == "${INIT_NETNS:-none}" ]]; then
        fail "SAFETY: namespace $1 is the starting/root network namespace; refusing"
    fi
}

# nsx NS CMD…: run a command inside a namespace of ours (asserted private first).
nsx() { local n=$1; shift; assert_private_ns "$n"; ip netns exec "$n" "$@"; }

sim_stop() {
    [[ -n $SIM_PID ]] || return 0
    kill "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
    SIM_PID=''
}

world_delete() {
    sim_stop
    local n p
    for n in "${NAMESPACES[@]}"; do
        for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
        ip netns del "$n" 2>/dev/null || true
    done
    NAMESPACES=()
}

cleanup() {
    local rc=$?
    world_delete
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
set -E
trap 'say "FATAL: command failed at line $LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

# world SPEC…: a fresh instance namespace with one veth ENI per SPEC "V4:V6" (peers in the sink
# namespace), each with its primary IPv4 configured as DHCP would (eth0 also the default route),
# and the IMDS simulator serving gen-scenario.sh SPEC… on 169.254.169.254:80.
world() {
    world_delete
    local n i
    for n in "$INST" "$SINK"; do
        ip netns add "$n" || fail "ip netns add $n"
        NAMESPACES+=("$n")
        assert_private_ns "$n"
        nsx "$n" sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
            net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 >/dev/null
        ip -n "$n" link set lo up
    done
    ENI_COUNT=$#
    {
        for ((i = 0; i < ENI_COUNT; i++)); do
            echo "link add eth$i address $(eni_mac "$i") type veth peer name p$i netns $SINK"
            echo "addr add $(eni_v4 "$i" 0)/24 dev eth$i"
            echo "link set eth$i up"
        done
        echo "addr add $IMDS4/32 dev lo"
    } >"$TMP/world.batch"
    assert_private_ns "$INST"
    ip -n "$INST" -batch "$TMP/world.batch" || fail "instance links"
    for ((i = 0; i < ENI_COUNT; i++)); do echo "link set p$i up"; done >"$TMP/sink.batch"
    assert_private_ns "$SINK"
    ip -n "$SINK" -batch "$TMP/sink.batch" || fail "sink links"
    ip -n "$INST" route add default via 10.0.1.1 dev eth0 || fail "default route"
    "$REPO/bench/gen-scenario.sh" "$@" >"$TMP/scenario.json"
    : >"$TMP/eniroute.conf"
    imds_serve sim-whole
    snapshot "$TMP/pre.state"
}

# imds_serve KIND: (re)starts the IMDS server of the world on 169.254.169.254:80, serving
# $TMP/scenario.json: sim-whole (the simulator, one send() per reply), sim-split (the simulator,
# header block and body in two send() calls) or python (bench/imds-http-server.py on Python's
# http.server, which also writes in two; not the project's code).
imds_serve() {
    sim_stop
    rm -f "$TMP/imds.ready"
    assert_private_ns "$INST"
    case $1 in
    sim-whole | sim-split)
        ip netns exec "$INST" "$SIM" --scenario "$TMP/scenario.json" --listen "$IMDS4:80" --write-mode "${1#sim-}" \
            --ready-file "$TMP/imds.ready" >"$TMP/imds.log" 2>&1 &
        ;;
    python)
        ip netns exec "$INST" python3 "$REPO/bench/imds-http-server.py" "$TMP/scenario.json" "$IMDS4" 80 "$TMP/imds.ready" \
            >"$TMP/imds.log" 2>&1 &
        ;;
    *) fail "imds_serve: unknown server $1" ;;
    esac
    SIM_PID=$!
    local t=0
    # Wait for the server's ready file (written once it listens), bounded by 10 s.
    while [[ ! -s $TMP/imds.ready ]]; do
        kill -0 "$SIM_PID" 2>/dev/null || { cat "$TMP/imds.log" >&2; fail "IMDS server ($1) exited"; }
        ((t++ < 1000)) || fail "IMDS server ($1) not ready after 10 s"
        sleep 0.01
    done
}

# snapshot FILE: the instance's rules, routes (all tables), addresses and link groups.
snapshot() {
    {
        nsx "$INST" ip -4 rule show
        nsx "$INST" ip -6 rule show
        nsx "$INST" ip -4 route show table all
        nsx "$INST" ip -6 route show table all | grep -v '^\(local\|multicast\|anycast\) fe80\|^fe80::/64' || true
        nsx "$INST" ip -o addr show | awk '{ print $2, $3, $4 }'
        nsx "$INST" ip -o link show | grep -oE '^[0-9]+: [^:@]+|group [^ ]+' | paste -sd' ' -
    } >"$1"
}

# reset: back to the state `world` left (eniroute's or the baseline's objects removed) with one
# `ip -batch` per family, then checks it against the snapshot. Not timed.
reset() {
    local r4=$TMP/reset4.batch r6=$TMP/reset6.batch
    {
        nsx "$INST" ip -4 rule show | awk -F: '$1 != 0 && $1 != 32766 && $1 != 32767 { print "rule del priority " $1 }'
        nsx "$INST" ip -4 route show table all | { grep -oE 'table [0-9]+' || true; } | sort -u | sed 's/^/route flush /'
        nsx "$INST" ip -o -4 addr show | awk '{ print $4, $2 }' | while read -r a d; do
            grep -qx "$d inet $a" "$TMP/pre.state" || echo "addr del $a dev $d"
        done
        for ((i = 0; i < ENI_COUNT; i++)); do echo "link set eth$i group default"; done
    } >"$r4"
    {
        nsx "$INST" ip -6 rule show | awk -F: '$1 != 0 && $1 != 32766 && $1 != 32767 { print "rule del priority " $1 }'
        nsx "$INST" ip -6 route show table all | { grep -oE 'table [0-9]+' || true; } | sort -u | sed 's/^/route flush /'
        nsx "$INST" ip -o -6 addr show scope global | awk '{ print $4, $2 }' | while read -r a d; do
            echo "addr del $a dev $d"
        done
    } >"$r6"
    assert_private_ns "$INST"
    ip -n "$INST" -4 -batch "$r4" >/dev/null 2>&1 || true
    ip -n "$INST" -6 -batch "$r6" >/dev/null 2>&1 || true
    snapshot "$TMP/reset.state"
    if ! diff -q "$TMP/pre.state" "$TMP/reset.state" >/dev/null; then
        diff "$TMP/pre.state" "$TMP/reset.state" >&2 || true
        fail "reset did not restore the unconfigured state"
    fi
}

sim() { nsx "$INST" curl -s -f --max-time 5 "$@"; }
stats_reset() { sim -X POST "http://$IMDS4/_sim/stats/reset" >/dev/null || fail "stats reset"; }
# stats → "requests connections"
stats() { sim "http://$IMDS4/_sim/stats" | jq -r '"\(.requests) \(.connections)"' || fail "cannot read the simulator's stats"; }

# run_eniroute TIMES LOG ARGS…: one timed eniroute run in the instance namespace.
run_eniroute() {
    local times=$1 log=$2; shift 2
    nsx "$INST" env ENIROUTE_LOCK="$TMP/eniroute.lock" "$BT" time "$times" "$BIN" "$@" \
        --imds-endpoint "http://$IMDS4" --config "$TMP/eniroute.conf" --log-level info >"$log" 2>&1 ||
        { cat "$log" >&2; fail "eniroute $* failed"; }
}

# run_baseline TIMES LOG ARGS…: one timed bench/baseline.sh run in the instance namespace.
run_baseline() {
    local times=$1 log=$2; shift 2
    nsx "$INST" env IMDS="http://$IMDS4" "$BT" time "$times" "$REPO/bench/baseline.sh" "$@" >"$log" 2>&1 ||
        { cat "$log" >&2; fail "baseline.sh $* failed"; }
}

# q FILE COL P → the P-quantile (0..1) of column COL (nearest rank).
q() { awk -v c="$2" '{ print $c }' "$1" | sort -g | awk -v p="$3" '{ v[NR] = $1 } END { i = int(p * (NR - 1) + 0.5) + 1; print v[i] }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
mark() { if "$@"; then echo "met"; else echo "**missed**"; fi; }
max() { printf '%s\n' "$@" | sort -g | tail -n 1; }
min() { printf '%s\n' "$@" | sort -g | head -n 1; }
# with_p95 MEDIAN P95 (µs) → "M ms (p95 P ms)"
with_p95() { echo "$(ms "$1") ms (p95 $(ms "$2") ms)"; }
# goal GOAL MEASURED CHECK... → a row of the goals table, marked by running CHECK
goal() { echo "| $1 | $2 | $(mark "${@:3}") |"; }

# netlink_line LOG → "messages datagrams received"
netlink_line() { sed -nE 's/.*netlink: ([0-9]+) messages in ([0-9]+) datagrams sent, ([0-9]+) received.*/\1 \2 \3/p' "$1" | tail -n 1; }

# change_counts LOG → "addr4 addr6 rule4 rule6 route4 route6 link" from eniroute's change lines.
change_counts() {
    awk '
        { sub(/^<[0-9]>/, "") }
        /^ip address add /      { a4++ } /^ip -6 address add /      { a6++ }
        /^ip rule add /         { r4++ } /^ip -6 rule add /         { r6++ }
        /^ip route (add|replace) / { t4++ } /^ip -6 route (add|replace) / { t6++ }
        /^ip link set /         { l++ }
        END { printf "%d %d %d %d %d %d %d\n", a4, a6, r4, r6, t4, t6, l }' "$1"
}

LIMIT_START_US=''
# measure_start: process start of the empty static Swift binary (median of 200), once per run.
measure_start() {
    read -r LIMIT_START_US _ _ < <(nsx "$INST" "$BT" repeat 200 "$EMPTY")
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# ==========================================================================================
# B1: one hot-attached ENI with 10 IPv4 + 2 IPv6
# ==========================================================================================
say "B1: world (eth0 primary + eth1 with 10 IPv4, 2 IPv6), $B1_RUNS cold runs of 'eniroute apply eth1'"
world 1:0 10:2
run_eniroute "$TMP/warm.times" "$TMP/warm.log" apply eth1
reset
: >"$TMP/b1.times"; : >"$TMP/b1.stats"
for ((r = 1; r <= B1_RUNS; r++)); do
    reset
    stats_reset
    run_eniroute "$TMP/b1.times" "$TMP/b1.log" apply eth1
    stats >>"$TMP/b1.stats"
done
snapshot "$TMP/b1.after"
read -r B1_NLMSG B1_NLDG _ < <(netlink_line "$TMP/b1.log")
read -r B1_CHANGES < <(change_counts "$TMP/b1.log")
B1_NCHANGES=$(awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }' <<<"$B1_CHANGES")
B1_MED=$(q "$TMP/b1.times" 1 0.5) B1_P95=$(q "$TMP/b1.times" 1 0.95)
B1_CPU=$(q "$TMP/b1.times" 2 0.5) B1_RSS=$(q "$TMP/b1.times" 3 0.5)
B1_REQ=$(q "$TMP/b1.stats" 1 0.5) B1_REQMAX=$(q "$TMP/b1.stats" 1 1) B1_CONN=$(q "$TMP/b1.stats" 2 1)

# No-op re-run of B1 (not a goal; for the record).
: >"$TMP/b1n.times"
for ((r = 1; r <= 10; r++)); do run_eniroute "$TMP/b1n.times" "$TMP/b1n.log" apply eth1; done
B1N_MED=$(q "$TMP/b1n.times" 1 0.5)
grep -q 'no change' "$TMP/b1n.log" || fail "B1 re-run was not a no-op: $(tail -n 3 "$TMP/b1n.log")"

say "B1: child processes (strace -f -e trace=process)"
reset
nsx "$INST" env ENIROUTE_LOCK="$TMP/eniroute.lock" strace -f -qq -e trace=process -o "$TMP/strace.out" \
    "$BIN" apply eth1 --imds-endpoint "http://$IMDS4" --config "$TMP/eniroute.conf" >/dev/null 2>&1 ||
    fail "eniroute under strace failed"
B1_EXECVE=$(grep -c 'execve(' "$TMP/strace.out" || true)
B1_CHILDREN=$(grep -E '(^|[0-9] )(fork|vfork|clone|clone3)\(' "$TMP/strace.out" | grep -vc 'CLONE_THREAD' || true)
B1_THREADS=$(grep -E '(clone|clone3)\(' "$TMP/strace.out" | grep -c 'CLONE_THREAD' || true)

say "B4: baseline.sh eth1, $BASE_B1_RUNS runs"
: >"$TMP/b1b.times"; : >"$TMP/b1b.stats"
for ((r = 1; r <= BASE_B1_RUNS; r++)); do
    reset
    stats_reset
    run_baseline "$TMP/b1b.times" "$TMP/b1b.log" eth1
    stats >>"$TMP/b1b.stats"
done
snapshot "$TMP/b1b.after"
# Same rules and routes as eniroute (addresses too; link groups as well)?
same_objects() { diff <(grep -v '^ *[0-9]*: *\(lo\|eth\)' "$1" | sort) <(grep -v '^ *[0-9]*: *\(lo\|eth\)' "$2" | sort); }
if same_objects "$TMP/b1.after" "$TMP/b1b.after" >"$TMP/b1.objdiff"; then B1_SAME=yes; else B1_SAME="no (see $OUT/b1-objects.diff)"; cp "$TMP/b1.objdiff" "$OUT/b1-objects.diff"; fi
B1B_MED=$(q "$TMP/b1b.times" 1 0.5)
B1B_REQ=$(q "$TMP/b1b.stats" 1 0.5) B1B_CONN=$(q "$TMP/b1b.stats" 2 0.5)

say "B5: loopback HTTP round trip, empty static Swift binary start, batched netlink exchange"
read -r RTT_US RTT_P95 CONNECT_US < <(nsx "$INST" "$BT" http-rtt "$IMDS4" 80 \
    "/latest/meta-data/network/interfaces/macs/$(eni_mac 1)/local-ipv4s" 500)
measure_start
# shellcheck disable=SC2086
read -r B1_NL_US _ B1_NL_MSGS B1_NL_DG < <(nsx "$INST" "$BT" nl-apply 21 $B1_CHANGES $((B1_NLMSG - B1_NCHANGES)) 1)
B1_LIMIT=$(awk -v r="$B1_REQ" -v rtt="$RTT_US" -v nl="$B1_NL_US" -v s="$LIMIT_START_US" 'BEGIN { printf "%.1f", r * rtt + nl + s }')

# ==========================================================================================
# B2: boot, 15 ENIs × 50 IPv4 and 50 ENIs × 50 IPv4
# ==========================================================================================
b2() {
    local n=$1 tag=b2_$1 spec=() i r
    for ((i = 0; i < n; i++)); do spec+=(50:0); done
    say "B2: $n ENIs × 50 IPv4: $B2_RUNS cold and $B2_RUNS no-op runs of 'eniroute apply'"
    world "${spec[@]}"
    run_eniroute "$TMP/warm.times" "$TMP/warm.log" apply
    reset
    : >"$TMP/$tag.times"; : >"$TMP/$tag.stats"; : >"$TMP/$tag.noop.times"; : >"$TMP/$tag.noop.stats"
    for ((r = 1; r <= B2_RUNS; r++)); do
        reset
        stats_reset
        run_eniroute "$TMP/$tag.times" "$TMP/$tag.log" apply
        stats >>"$TMP/$tag.stats"
    done
    for ((r = 1; r <= B2_RUNS; r++)); do
        stats_reset
        run_eniroute "$TMP/$tag.noop.times" "$TMP/$tag.noop.log" apply
        stats >>"$TMP/$tag.noop.stats"
    done
    grep -q 'no change' "$TMP/$tag.noop.log" || fail "B2 re-run was not a no-op: $(tail -n 3 "$TMP/$tag.noop.log")"
    local rules
    rules=$(nsx "$INST" ip -4 rule show | grep -c 'lookup 1[0-9]\{4\}' || true)
    local nlmsg nldg cc nchanges nlnoop
    read -r nlmsg nldg _ < <(netlink_line "$TMP/$tag.log")
    read -r cc < <(change_counts "$TMP/$tag.log")
    nchanges=$(awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }' <<<"$cc")
    read -r nlnoop _ _ < <(netlink_line "$TMP/$tag.noop.log")
    # B5 for this size: the same changes in one batched exchange (fresh namespace), and the
    # no-op's dumps of this populated instance (read-only).
    local nl_us nl_noop_us
    # shellcheck disable=SC2086
    read -r nl_us _ _ _ < <(nsx "$INST" "$BT" nl-apply 5 $cc $((nlmsg - nchanges)) "$n")
    read -r nl_noop_us _ < <(nsx "$INST" "$BT" nl-dump 11 "$nlnoop")
    # Baseline (B4): cold, then its re-run (the shell way re-runs every command).
    local b=0
    if ((n <= 15 || ${BASE_B2_LARGE:-1} == 1)); then
        say "B4: baseline.sh on $n ENIs × 50 ($BASE_B2_RUNS cold + 1 re-run)"
        : >"$TMP/$tag.base.times"; : >"$TMP/$tag.base.stats"; : >"$TMP/$tag.basenoop.times"
        for ((r = 1; r <= BASE_B2_RUNS; r++)); do
            reset
            stats_reset
            run_baseline "$TMP/$tag.base.times" "$TMP/$tag.base.log"
            stats >>"$TMP/$tag.base.stats"
        done
        run_baseline "$TMP/$tag.basenoop.times" "$TMP/$tag.basenoop.log"
        b=1
    fi
    local med p95 nmed cpu rss req conn nreq
    med=$(q "$TMP/$tag.times" 1 0.5) p95=$(q "$TMP/$tag.times" 1 0.95) nmed=$(q "$TMP/$tag.noop.times" 1 0.5)
    cpu=$(q "$TMP/$tag.times" 2 0.5) rss=$(q "$TMP/$tag.times" 3 1)
    req=$(q "$TMP/$tag.stats" 1 0.5) conn=$(q "$TMP/$tag.stats" 2 1) nreq=$(q "$TMP/$tag.noop.stats" 1 0.5)
    local lim lim_noop
    lim=$(awk -v r="$req" -v rtt="$RTT_US" -v nl="$nl_us" -v s="$LIMIT_START_US" 'BEGIN { printf "%.1f", r * rtt + nl + s }')
    lim_noop=$(awk -v r="$nreq" -v rtt="$RTT_US" -v nl="$nl_noop_us" -v s="$LIMIT_START_US" 'BEGIN { printf "%.1f", r * rtt + nl + s }')
    local bmed=NA bnoop=NA breq=NA bconn=NA
    if ((b)); then
        bmed=$(q "$TMP/$tag.base.times" 1 0.5) bnoop=$(q "$TMP/$tag.basenoop.times" 1 0.5) breq=$(q "$TMP/$tag.base.stats" 1 0.5) bconn=$(q "$TMP/$tag.base.stats" 2 0.5)
    fi
    declare -g "B2_${n}_R=$med $p95 $nmed $cpu $rss $req $conn $nreq $nlmsg $nldg $nchanges $nlnoop $nl_us $nl_noop_us $lim $lim_noop $bmed $bnoop $breq $bconn $rules"
    cp "$TMP/$tag.log" "$OUT/$tag-cold.log"
    if ((n == 15)); then b2_servers; fi
}

# b2_servers: the same cold apply ($B2_RUNS runs) against IMDS servers that write each reply's
# header block and body in two send() calls: the simulator in split mode and Python's http.server.
# With BENCH_COMPARE_BIN (another eniroute binary, e.g. a build before a change), that binary is
# timed the same way against all three servers, in the same run.
B2_SERVERS='' B2_COMPARE=''
b2_servers() {
    local kind r
    for kind in sim-whole sim-split python; do
        imds_serve "$kind"
        if [[ $kind != sim-whole ]]; then
            say "B2: 15 ENIs × 50 IPv4 against the IMDS server '$kind': $B2_RUNS cold runs"
            : >"$TMP/b2s.$kind.times"
            for ((r = 1; r <= B2_RUNS; r++)); do
                reset
                run_eniroute "$TMP/b2s.$kind.times" "$TMP/b2s.$kind.log" apply
            done
            B2_SERVERS+="$(q "$TMP/b2s.$kind.times" 1 0.5) $(q "$TMP/b2s.$kind.times" 1 0.95) "
        fi
        [[ -n ${BENCH_COMPARE_BIN:-} ]] || continue
        say "B2: the same with $BENCH_COMPARE_BIN against '$kind'"
        : >"$TMP/b2c.$kind.times"
        for ((r = 1; r <= B2_RUNS; r++)); do
            reset
            BIN=$BENCH_COMPARE_BIN run_eniroute "$TMP/b2c.$kind.times" "$TMP/b2c.$kind.log" apply
        done
        B2_COMPARE+="$(q "$TMP/b2c.$kind.times" 1 0.5) "
    done
    imds_serve sim-whole
}
b2 15
b2 50
world_delete

# ==========================================================================================
# B3: the watcher
# ==========================================================================================
B3_ROWS='' B3_NOTE=''
if "$BIN" --help 2>&1 | grep -qE '^[[:space:]]+watch'; then
    say "B3: 'eniroute watch --interval $B3_INTERVAL' on 3 ENIs, idle window $B3_SECONDS s"
    world 1:0 10:2 3:0
    nsx "$INST" env ENIROUTE_LOCK="$TMP/eniroute.lock" "$BIN" watch --interval "$B3_INTERVAL" --imds-endpoint "http://$IMDS4" \
        --config "$TMP/eniroute.conf" --log-level info >"$TMP/watch.log" 2>&1 &
    WPID=$!
    # The first pass is done when the last ENI's rules are in the kernel (bounded by 30 s).
    t=0
    until nsx "$INST" ip -4 rule show | grep -q 'lookup 10002'; do
        kill -0 "$WPID" 2>/dev/null || { cat "$TMP/watch.log" >&2; fail "eniroute watch exited"; }
        ((t++ < 600)) || { cat "$TMP/watch.log" >&2; fail "eniroute watch: no first pass in 30 s"; }
        sleep 0.05
    done
    # `ip netns exec` may fork: the watcher is the eniroute process inside the namespace.
    WATCH_PID=''
    for p in $(ip netns pids "$INST"); do
        if [[ $(cat "/proc/$p/comm" 2>/dev/null) == eniroute ]]; then WATCH_PID=$p; fi
    done
    [[ -n $WATCH_PID ]] || fail "B3: no eniroute process in $INST"
    read -r ut0 st0 < <(awk '{ print $14, $15 }' "/proc/$WATCH_PID/stat")
    stats_reset
    sleep "$B3_SECONDS"
    read -r ut1 st1 < <(awk '{ print $14, $15 }' "/proc/$WATCH_PID/stat")
    sim "http://$IMDS4/_sim/stats" >"$TMP/watch.stats"
    wreq=$(jq -r .requests "$TMP/watch.stats") wconn=$(jq -r .connections "$TMP/watch.stats")
    polls=$(jq -r '.by_path["/latest/meta-data/network/interfaces/macs/"] // 0' "$TMP/watch.stats")
    rss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$WATCH_PID/status")
    kill "$WATCH_PID" 2>/dev/null || true
    wait "$WPID" 2>/dev/null || true
    hz=$(getconf CLK_TCK)
    cpu_pct=$(awk -v t=$(((ut1 + st1) - (ut0 + st0))) -v hz="$hz" -v s="$B3_SECONDS" 'BEGIN { printf "%.2f", 100 * t / hz / s }')
    per_poll=$(awk -v r="$wreq" -v p="$polls" 'BEGIN { if (p > 0) printf "%.1f", r / p; else print "n/a" }')
    per_eni=$(awk -v r="$wreq" -v p="$polls" 'BEGIN { if (p > 0) printf "%.2f", r / p / 3; else print "n/a" }')
    rss_mib=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
    B3_REQ_OK=$(mark awk -v r="$wreq" -v p="$polls" 'BEGIN { exit !(p > 0 && r / p <= 1 + 4 * 3) }')
    B3_CPU_OK=$(mark le "$cpu_pct" 0.5)
    B3_RSS_OK=$(mark le "$rss_mib" 10)
    B3_ROWS="| B3 watcher, 3 ENIs, idle ${B3_SECONDS} s at --interval $B3_INTERVAL | $polls polls: $per_poll IMDS requests per poll ($per_eni per ENI), $wconn connections; CPU ${cpu_pct} %; RSS $rss_mib MiB | – | – | – | – |"
    B3_NOTE="B3 uses a ${B3_SECONDS} s idle window with polls every ${B3_INTERVAL} s instead of 10 minutes at the default 15 s (more polls per second, so CPU is an upper bound)"
    world_delete
fi

# ==========================================================================================
# Report
# ==========================================================================================
SIZE=$(stat -c %s "$BIN")
LDD=$(ldd "$BIN" 2>&1 | awk '{ print $1 }' | grep -v '^linux-vdso' | paste -sd' ' -)
read -r S_MED S_P95 S_NMED S_CPU S_RSS S_REQ S_CONN S_NREQ S_NLMSG S_NLDG S_NCH S_NLNOOP S_NLUS S_NLNOOPUS S_LIM S_LIMNOOP S_BMED S_BNOOP S_BREQ S_BCONN _ <<<"$B2_15_R"
read -r L_MED L_P95 L_NMED L_CPU L_RSS L_REQ L_CONN L_NREQ L_NLMSG L_NLDG L_NCH L_NLNOOP L_NLUS L_NLNOOPUS L_LIM L_LIMNOOP L_BMED L_BNOOP L_BREQ L_BCONN _ <<<"$B2_50_R"
per() { awk -v t="$1" -v n="$2" -v k="$3" 'BEGIN { printf "%.1f", t / n / k }'; }
read -r SPLIT_MED SPLIT_P95 PY_MED PY_P95 <<<"$B2_SERVERS"
ratio2() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
SPLIT_RATIO=$(ratio2 "$SPLIT_MED" "$S_MED") PY_RATIO=$(ratio2 "$PY_MED" "$S_MED")
B1_SPEED=$(ratio "$B1B_MED" "$B1_MED") S_SPEED=$(ratio "$S_BMED" "$S_MED") S_NSPEED=$(ratio "$S_BNOOP" "$S_NMED")
L_SPEED=$(ratio "$L_BMED" "$L_MED")
B1_LRATIO=$(ratio "$B1_MED" "$B1_LIMIT") S_LRATIO=$(ratio "$S_MED" "$S_LIM") S_NLRATIO=$(ratio "$S_NMED" "$S_LIMNOOP")
L_LRATIO=$(ratio "$L_MED" "$L_LIM") L_NLRATIO=$(ratio "$L_NMED" "$L_LIMNOOP")
S_PERENI=$(per "$S_MED" 15 1000) L_PERENI=$(per "$L_MED" 50 1000)
S_PEROBJ=$(per "$S_MED" "$S_NCH" 1) L_PEROBJ=$(per "$L_MED" "$L_NCH" 1)
S_NPERENI=$(per "$S_NMED" 15 1000) L_NPERENI=$(per "$L_NMED" 50 1000)
GROWTH=$(ratio "$L_PEROBJ" "$S_PEROBJ") NGROWTH=$(ratio "$L_NPERENI" "$S_NPERENI")
S_REQENI=$(awk -v r="$S_REQ" 'BEGIN { printf "%.2f", r / 15 }') L_REQENI=$(awk -v r="$L_REQ" 'BEGIN { printf "%.2f", r / 50 }')
bms() { if [[ $1 == NA ]]; then echo "not run"; else echo "$(ms "$1") ms"; fi; }

{
    echo "## eniroute benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r), load average at start $LOAD0)"
    echo
    echo "Command: \`$COMMAND\` (bench/run.sh; B1 runs: $B1_RUNS, B2 runs: $B2_RUNS cold + $B2_RUNS no-op, baseline runs: B1 $BASE_B1_RUNS, B2 $BASE_B2_RUNS). Release binary: \`swift build -c release --static-swift-stdlib -Xswiftc -DENIROUTE_ACCEPT_VETH\` (the shipped build plus veth links as ENIs). Wall time of the process (fork to exit) inside a private network namespace, IMDS simulator on 169.254.169.254:80 in the same namespace."
    echo
    echo "| scenario | eniroute | baseline (B4) | eniroute faster by | limit (B5) | eniroute / limit |"
    echo "|---|---|---|---|---|---|"
    echo "| B1 hot attach, 1 ENI, 10 IPv4 + 2 IPv6 (median of $B1_RUNS; p95) | $(with_p95 "$B1_MED" "$B1_P95") | $(ms "$B1B_MED") ms | ${B1_SPEED}× | $(ms "$B1_LIMIT") ms | ${B1_LRATIO}× |"
    echo "| B2 boot, 15 ENIs × 50 IPv4, cold (p95) | $(with_p95 "$S_MED" "$S_P95") | $(bms "$S_BMED") | ${S_SPEED}× | $(ms "$S_LIM") ms | ${S_LRATIO}× |"
    echo "| B2 boot, 15 ENIs × 50 IPv4, no-op re-run | $(ms "$S_NMED") ms | $(bms "$S_BNOOP") | ${S_NSPEED}× | $(ms "$S_LIMNOOP") ms | ${S_NLRATIO}× |"
    echo "| B2 boot, 50 ENIs × 50 IPv4, cold (p95) | $(with_p95 "$L_MED" "$L_P95") | $(bms "$L_BMED") | ${L_SPEED}× | $(ms "$L_LIM") ms | ${L_LRATIO}× |"
    echo "| B2 boot, 50 ENIs × 50 IPv4, no-op re-run | $(ms "$L_NMED") ms | $(bms "$L_BNOOP") | $(ratio "$L_BNOOP" "$L_NMED")× | $(ms "$L_LIMNOOP") ms | ${L_NLRATIO}× |"
    if [[ -n $B3_ROWS ]]; then echo "$B3_ROWS"; else echo "| B3 watcher | pending (\`eniroute watch\` not in this build) | | | | |"; fi
    echo
    echo "| B2 boot, 15 ENIs × 50 IPv4, cold, by IMDS server (median of $B2_RUNS; p95) | eniroute | vs one write |"
    echo "|---|---|---|"
    echo "| simulator, one send() per reply | $(with_p95 "$S_MED" "$S_P95") | 1.0× |"
    echo "| simulator \`--write-mode split\`: header block, then body | $(with_p95 "$SPLIT_MED" "$SPLIT_P95") | ${SPLIT_RATIO}× |"
    echo "| Python's http.server (bench/imds-http-server.py; not the project's code) | $(with_p95 "$PY_MED" "$PY_P95") | ${PY_RATIO}× |"
    if [[ -n $B2_COMPARE ]]; then
        read -r C_WHOLE C_SPLIT C_PY <<<"$B2_COMPARE"
        echo "| the same with BENCH_COMPARE_BIN=$BENCH_COMPARE_BIN: one send / split / Python | $(ms "$C_WHOLE") / $(ms "$C_SPLIT") / $(ms "$C_PY") ms | $(ratio2 "$C_SPLIT" "$C_WHOLE")× / $(ratio2 "$C_PY" "$C_WHOLE")× |"
    fi
    echo
    echo "| detail | B1 (1 ENI) | B2 15 × 50 | B2 50 × 50 |"
    echo "|---|---|---|---|"
    echo "| kernel objects changed (cold) | $B1_NCHANGES | $S_NCH | $L_NCH |"
    echo "| IMDS requests / connections (cold) | $B1_REQ / $B1_CONN (max $B1_REQMAX) | $S_REQ / $S_CONN ($S_REQENI per ENI) | $L_REQ / $L_CONN ($L_REQENI per ENI) |"
    echo "| IMDS requests (no-op) | – | $S_NREQ | $L_NREQ |"
    echo "| netlink messages / datagrams sent (cold) | $B1_NLMSG / $B1_NLDG | $S_NLMSG / $S_NLDG | $L_NLMSG / $L_NLDG |"
    echo "| netlink messages (no-op) | – | $S_NLNOOP | $L_NLNOOP |"
    echo "| cost per ENI, cold / no-op | – | $(awk -v v="$S_PERENI" 'BEGIN{printf "%.2f", v}') / $(awk -v v="$S_NPERENI" 'BEGIN{printf "%.2f", v}') ms | $(awk -v v="$L_PERENI" 'BEGIN{printf "%.2f", v}') / $(awk -v v="$L_NPERENI" 'BEGIN{printf "%.2f", v}') ms |"
    echo "| cost per changed object, cold | $(per "$B1_MED" "$B1_NCHANGES" 1) µs | $S_PEROBJ µs | $L_PEROBJ µs (×$GROWTH of 15 × 50) |"
    echo "| CPU time (user+sys) / max RSS, cold | $(ms "$B1_CPU") ms / $((B1_RSS / 1024)) MiB | $(ms "$S_CPU") ms / $((S_RSS / 1024)) MiB | $(ms "$L_CPU") ms / $((L_RSS / 1024)) MiB |"
    echo "| no-op re-run | $(ms "$B1N_MED") ms | $(ms "$S_NMED") ms | $(ms "$L_NMED") ms |"
    echo "| baseline IMDS requests / connections | $B1B_REQ / $B1B_CONN | ${S_BREQ} / ${S_BCONN} | ${L_BREQ} / ${L_BCONN} |"
    echo "| B5 limit: IMDS requests × round trip | $(ms "$(awk -v r="$B1_REQ" -v t="$RTT_US" 'BEGIN{print r*t}')") ms | $(ms "$(awk -v r="$S_REQ" -v t="$RTT_US" 'BEGIN{print r*t}')") ms | $(ms "$(awk -v r="$L_REQ" -v t="$RTT_US" 'BEGIN{print r*t}')") ms |"
    echo "| B5 limit: one batched netlink exchange (same message count) | $(ms "$B1_NL_US") ms ($B1_NL_MSGS msgs, $B1_NL_DG datagrams) | $(ms "$S_NLUS") ms | $(ms "$L_NLUS") ms |"
    echo "| B5 limit: no-op netlink dumps (same message count) | – | $(ms "$S_NLNOOPUS") ms | $(ms "$L_NLNOOPUS") ms |"
    echo "| B5 limit: empty static Swift binary start | $(ms "$LIMIT_START_US") ms | same | same |"
    echo
    echo "Loopback HTTP round trip to the simulator (keep-alive, median of 500 GETs): $RTT_US µs (p95 $RTT_P95 µs; TCP connect $CONNECT_US µs)."
    echo "Child processes of \`eniroute apply\` (strace -f -e trace=process): $B1_CHILDREN (execve: $B1_EXECVE, threads: $B1_THREADS)."
    echo "Baseline installs the same rules, routes, addresses and groups as eniroute (B1): $B1_SAME."
    echo "Release binary: $(awk -v s="$SIZE" 'BEGIN { printf "%.1f MB", s / 1e6 }') ($SIZE bytes), static Swift stdlib; ldd: $LDD."
    if [[ -n $B3_NOTE ]]; then echo "$B3_NOTE."; fi
    echo
    echo "| goal | measured | status |"
    echo "|---|---|---|"
    goal "B1 ≤ 10 ms median" "$(ms "$B1_MED") ms" le "$B1_MED" 10000
    goal "B2 cold ≤ 100 ms (15 × 50)" "$(ms "$S_MED") ms" le "$S_MED" 100000
    goal "B2 no-op ≤ 30 ms (15 × 50)" "$(ms "$S_NMED") ms" le "$S_NMED" 30000
    goal "B2 cost grows linearly (50 × 50 vs 15 × 50: cold per object and no-op per ENI ≤ 1.5×)" "cold ×$GROWTH, no-op ×$NGROWTH" le "$(max "$GROWTH" "$NGROWTH")" 1.5
    goal "within 3× of B5 (B1; B2 cold; B2 no-op)" "${B1_LRATIO}×; ${S_LRATIO}×; ${S_NLRATIO}×" le "$(max "$B1_LRATIO" "$S_LRATIO" "$S_NLRATIO")" 3
    goal "≥ 50× faster than baseline (B1; B2 cold)" "${B1_SPEED}×; ${S_SPEED}×" le 50 "$(min "$B1_SPEED" "$S_SPEED")"
    goal "IMDS ≤ 2 + 8 requests per ENI at attach (B1: ≤ 10)" "$B1_REQ (max $B1_REQMAX)" le "$B1_REQMAX" 10
    goal "B2 against servers writing head and body apart within 1.5× of one write (simulator split; Python)" "${SPLIT_RATIO}×; ${PY_RATIO}×" le "$(max "$SPLIT_RATIO" "$PY_RATIO")" 1.5
    goal "IMDS all on one connection" "B1 $B1_CONN, B2 $S_CONN / $L_CONN" le "$(max "$B1_CONN" "$S_CONN" "$L_CONN")" 1
    goal "no child processes" "$B1_CHILDREN" le "$B1_CHILDREN" 0
    if [[ -n $B3_ROWS ]]; then
        echo "| B3 ≤ 1 + 4 IMDS requests per ENI per poll (3 ENIs: ≤ 13 per poll) | $per_poll per poll | $B3_REQ_OK |"
        echo "| B3 idle CPU ≈ 0 % (≤ 0.5 %) | $cpu_pct % | $B3_CPU_OK |"
        echo "| B3 RSS ≤ 10 MiB | $rss_mib MiB | $B3_RSS_OK |"
    else
        echo "| B3 watcher (≤ 1 + 4 req per ENI per poll; ≈ 0 % CPU; RSS ≤ 10 MiB) | pending | pending |"
    fi
} >"$OUT/results.md"
cat "$OUT/results.md"
say "written to $OUT/results.md"
