#!/bin/bash
# Fault matrix, process side: a udev storm at boot (16 ENIs: 16 `eniroute apply` started at once,
# 15 of them for one interface each, plus the watcher), the run lock (a held lock makes apply wait
# and change nothing; a lock whose holder was SIGKILLed never blocks), and SIGKILL at random points
# of an apply, 200 times: every rerun converges to the exact intended state, no duplicates.
# The 16 ENIs are veth pairs to the VPC namespace in subnets 10.0.N.0/24 (N = index + 1); these
# cases check the routing state, not packets.
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KILL_LOOPS=${FAULT_KILL_LOOPS:-200}

world_create
INST=$(ns inst) VPC=$(ns vpc)
assert_not_root_ns "$INST"; assert_not_root_ns "$VPC"
for ((i = 0; i < 16; i++)); do
    ip -n "$INST" link add "eth$i" address "${ENI_MAC[i]}" type veth peer name "r$i" address "${RPORT_MAC[i]}" netns "$VPC" \
        || world_abort "veth eth$i"
    ip -n "$VPC" addr add "10.0.$((i + 1)).1/24" dev "r$i"
    ip -n "$VPC" link set "r$i" up
    ip -n "$INST" link set "eth$i" up
    ip -n "$INST" addr add "10.0.$((i + 1)).10/24" dev "eth$i"
done
ip -n "$INST" route add default via 10.0.1.1 dev eth0
fault_main_reference

# scenario FILE SPEC…: SPEC is IDX=ADDR-SUFFIX,… (addresses 10.0.IDX+1.SUFFIX).
scenario() {
    local file=$1 spec idx list a addrs first=1
    shift
    {
        printf '{"mac": "%s", "macs": {' "${ENI_MAC[0]}"
        for spec in "$@"; do
            idx=${spec%%=*} list=${spec#*=} addrs=()
            for a in ${list//,/ }; do addrs+=("10.0.$((idx + 1)).$a"); done
            ((first)) || printf ', '
            first=0
            eni_json "$idx" "$idx" "10.0.$((idx + 1)).0/24" "${addrs[@]}"
        done
        printf '}}\n'
    } >"$file"
}
all=()
for ((i = 0; i < 16; i++)); do all+=("$i=10,$((20 + i % 3)),$((30 + i % 2))"); done
scenario "$WORLD_TMP/all.json" "${all[@]}"
# A → B and back: addresses, rules, routes, a whole ENI (eth2) and 150 addresses of eth3 come and
# go, so that the kernel phase of each apply (~600 changes) is long enough for kills to land in it.
scenario "$WORLD_TMP/A.json" 0=10 1=10,11 2=10 "3=$(seq -s, 10 160)"
scenario "$WORLD_TMP/B.json" 0=10 1=10,12 3=10
imds_start "$WORLD_TMP/all.json"
fault_conf

# er_bg NAME ARGS…: eniroute in the background (output $WORLD_TMP/bg.NAME.log, exit code in .rc).
er_bg() {
    local name=$1; shift
    (
        ip netns exec "$INST" env ENIROUTE_LOCK="$WORLD_TMP/eniroute.lock" timeout -k 5 90 "$ENIROUTE" "$@" \
            --imds-endpoint "http://$IMDS4" --config "$WORLD_TMP/fault.conf" --log-level info >"$WORLD_TMP/bg.$name.log" 2>&1
        echo $? >"$WORLD_TMP/bg.$name.rc"
    ) &
    BG_WAIT+=("$!")
}

# --- The udev storm ---
fault_case "udev storm: 16 applies at once (15 ENIs + all) and the watcher"
BG_WAIT=()
watch_start inst --interval 3600
for ((i = 1; i < 16; i++)); do er_bg "eth$i" apply "eth$i"; done
er_bg all apply
for p in "${BG_WAIT[@]}"; do wait "$p"; done
rcs=$(cat "$WORLD_TMP"/bg.*.rc | sort | uniq -c | awk '{ printf "%s×%s ", $1, $2 }')
info "exit codes: $rcs"
check_eq "all 16 applies exit 0" "16×0 " "$rcs"
waited=$(cat "$WORLD_TMP"/bg.*.log | grep -c "waiting for another eniroute run")
check_gt "runs that waited for the lock (they serialise)" "$waited" 0
check_not "no apply logged an error" grep -l '^error: ' "$WORLD_TMP"/bg.*.log
# The watcher may still be doing its pass: wait until it says nothing more is to be done.
check_within "the plan is empty (no change) once the watcher is done too" 20 \
    bash -c "ip netns exec '$INST' '$ENIROUTE' plan --imds-endpoint http://$IMDS4 --config '$WORLD_TMP/fault.conf' | grep -qx 'no change'"
check_not "the watcher logged no error" grep -E '^error: ' "$(watch_log inst)"
watch_stop inst
fault_state >"$WORLD_TMP/state.storm"
check_eq "no duplicate rule, route or address" "" "$(uniq -d "$WORLD_TMP/state.storm")"
check_eq "one IPv4 rule per address (16 ENIs, 48 addresses) and the suppress rule" 49 \
    "$(nsx inst ip -4 rule show | grep -cE "$PROTO_RE")"
# The exact state: what one clean apply gives after everything of eniroute's is removed.
for ((i = 0; i < 16; i++)); do er remove "eth$i"; done
check_eq "nothing of eniroute's left after 16 removes" 0 "$( { nsx inst ip rule show; nsx inst ip route show table all; } | grep -cE "$PROTO_RE")"
er apply
fault_reference storm-clean
ER_RC=0 ER_LINE="16×exit 0; $waited runs waited for the lock; final state = one clean apply"
fault_state >"$WORLD_TMP/state.now"
check_same_file "the storm's state equals one clean apply's" "$WORLD_TMP/ref.storm-clean" "$WORLD_TMP/state.storm"
FAULT_STATE_SEEN=exact
fault_case_end

# --- The lock ---
fault_case "a held lock: apply waits, changes nothing, then proceeds"
sim_scenario "$WORLD_TMP/A.json"
er apply
fault_reference A
sim_scenario "$WORLD_TMP/B.json"
exec {lockfd}>"$WORLD_TMP/eniroute.lock"
flock "$lockfd"
BG_WAIT=()
er_bg held apply
check_within "apply says it waits for another run" 10 grep -q "waiting for another eniroute run" "$WORLD_TMP/bg.held.log"
expect_state A
flock -u "$lockfd"
exec {lockfd}>&-
wait "${BG_WAIT[@]}"
ER_RC=$(cat "$WORLD_TMP/bg.held.rc") ER_OUT=$WORLD_TMP/bg.held.log
ER_LINE=$(grep -m1 "waiting for another" "$ER_OUT")
expect_rc 0
fault_reference B
FAULT_STATE_SEEN=B
fault_case_end

fault_case "a stale lock: its holder (an apply stuck on IMDS) was SIGKILLed"
sim_scenario "$WORLD_TMP/A.json"
sim_fault '{"path": "/latest/*", "hang": true}'
BG_WAIT=()
er_bg stuck apply
check_within "the stuck apply holds the lock (IMDS hangs)" 10 grep -q -- "-> hanging" "$WORLD_TMP/imds.log"
# The eniroute process we started (by PID: the one in inst whose command line starts with it).
for p in $(ip netns pids "$INST"); do
    [[ $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null) == "$ENIROUTE apply"* ]] && kill -KILL "$p"
done
wait "${BG_WAIT[@]}"
check_eq "the holder died of SIGKILL" 137 "$(cat "$WORLD_TMP/bg.stuck.rc")"
sim_clear
t0=$(now_s)
er apply --log-level info
expect_rc 0
expect_no_log "waiting for another eniroute run"
info "apply after the holder's death took $(elapsed_since "$t0") s"
expect_state A
fault_case_end

# --- SIGKILL at random points of an apply ---
fault_case "SIGKILL at a random point of an apply, $KILL_LOOPS times; the rerun converges"
sim_scenario "$WORLD_TMP/B.json"
er apply
fault_reference B
sim_scenario "$WORLD_TMP/A.json"
t0=$(now_s)
ip netns exec "$INST" env ENIROUTE_LOCK="$WORLD_TMP/eniroute.lock" timeout -s KILL 60 \
    "$ENIROUTE" apply --imds-endpoint "http://$IMDS4" --config "$WORLD_TMP/fault.conf" >/dev/null 2>&1
took=$(elapsed_since "$t0")
fault_reference A
# Kill points spread over the whole run: up to 1.2 × one apply (B → A), at least 10 ms.
window=$(awk -v t="$took" 'BEGIN { w = int(t * 1200); print (w < 10 ? 10 : w) }')
info "one apply B → A takes $took s; kill points uniform in 1…$window ms"
killed=0 finished=0 partial=0 bad=0
for ((i = 1; i <= KILL_LOOPS; i++)); do
    if ((i % 2)); then target=B; else target=A; fi
    previous=A
    [[ $target == A ]] && previous=B
    sim_scenario "$WORLD_TMP/$target.json"
    ms=$((1 + RANDOM % window))
    ip netns exec "$INST" env ENIROUTE_LOCK="$WORLD_TMP/eniroute.lock" timeout -s KILL "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))" \
        "$ENIROUTE" apply --imds-endpoint "http://$IMDS4" --config "$WORLD_TMP/fault.conf" >/dev/null 2>&1
    rc=$?
    if ((rc == 137)); then killed=$((killed + 1)); else finished=$((finished + 1)); fi
    fault_state >"$WORLD_TMP/state.killed"
    if ! cmp -s "$WORLD_TMP/state.killed" "$WORLD_TMP/ref.$previous" && ! cmp -s "$WORLD_TMP/state.killed" "$WORLD_TMP/ref.$target"; then
        partial=$((partial + 1))
    fi
    er apply
    fault_state >"$WORLD_TMP/state.now"
    if [[ $ER_RC != 0 ]] || ! cmp -s "$WORLD_TMP/state.now" "$WORLD_TMP/ref.$target"; then
        bad=$((bad + 1))
        echo "iteration $i (kill at $ms ms, rc $rc): rerun exit $ER_RC"
        diff -u "$WORLD_TMP/ref.$target" "$WORLD_TMP/state.now" | head -20
    fi
done
info "$killed runs killed ($partial left a partial state), $finished finished before the kill"
check_eq "every rerun exited 0 with exactly the intended state (no duplicates)" 0 "$bad"
check_gt "some kills landed in the middle of an apply (partial state seen)" "$partial" 0
expect_state "$target"
ER_RC=0 ER_LINE="$killed killed ($partial mid-apply), $finished finished; $bad reruns off"
fault_case_end

fault_finish
