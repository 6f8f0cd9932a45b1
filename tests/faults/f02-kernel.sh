#!/bin/bash
# Fault matrix, kernel side: an interface that disappears in the middle of an apply (at random
# points, repeatedly), rules and routes eniroute wants that already exist in another form, foreign
# routes in eniroute's tables, and lost change notifications (ENOBUFS) on the watcher's event
# socket, which must make it read the whole state again and repair what it missed.
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

world_create
world_eni 0 A 10.0.1.10
world_eni 1 B 10.0.2.10 10.0.2.11
world_eni 2 C 10.0.3.10
inst_distro 0 10.0.1.10 default
inst_distro 1 10.0.2.10
inst_distro 2 10.0.3.10
fault_main_reference
printf '{"mac": "%s", "macs": {%s, %s, %s}}\n' "${ENI_MAC[0]}" "$(eni_json 0 0 10.0.1.0/24 10.0.1.10)" \
    "$(eni_json 1 1 10.0.2.0/24 10.0.2.10 10.0.2.11)" "$(eni_json 2 2 10.0.3.0/24 10.0.3.10)" >"$WORLD_TMP/base.json"
imds_start "$WORLD_TMP/base.json"
fault_conf

section "reference states"
er apply
check_eq "apply exits 0" 0 "$ER_RC"
fault_reference G0
# Without eth2 (IMDS still lists it: its MAC has no interface).
nsx inst ip link del eth2
er apply
check_eq "apply without eth2 exits 0" 0 "$ER_RC"
fault_reference Gno2
fault_main_reference # (eth2's DHCP prefix route left main with it)

eth2_back() {
    world_eni_on inst 2 C 10.0.3.10 >/dev/null
    inst_distro 2 10.0.3.10
}

# --- The interface disappears mid-apply ---
# FAULT_SKIP_MIDAPPLY=1 leaves this case out (make vm-test VM_ARCH=arm64: under emulation an apply
# takes hundreds of ms with as much jitter, and the search for the kernel phase does not fit the
# runner's 300 s). The state it leaves, eth2 gone and Gno2, is the reference states' already.
if [[ ${FAULT_SKIP_MIDAPPLY:-0} == 1 ]]; then
    info "skipped (FAULT_SKIP_MIDAPPLY=1): eth2 deleted at a random point of an apply"
else
    fault_case "eth2 deleted at a random point of an apply (until 3 land in the kernel phase); every rerun converges"
    # eth2's last IMDS answer comes after 30 ms and lists 300 addresses (a kernel phase of 600
    # changes, some milliseconds long), so that the deletion, at a random time within 3 ms of a
    # centre that starts at 37 ms, falls before, during or after the apply's kernel phase (links read
    # → IMDS → observe → changes). The centre follows the machine's speed (a loaded machine shifts the
    # phase by tens of ms): a deletion before the kernel phase (exit 0, no change to eth2 logged)
    # moves it 1 ms later, one after it (exit 0, eth2's changes logged) 1 ms earlier.
    # At least 20 runs, then on until 3 deletions hit the kernel phase (exit 1, ENODEV); 100 at most.
    runs=0 hits=0 bad=0 rcs='' lines='' centre=37 early=0 late=0
    many=$(for ((a = 10; a < 310; a++)); do printf '10.0.3.%d\\n' $((a % 250 + 3)); done)
    while ((runs < 100 && (runs < 20 || hits < 3))); do
        runs=$((runs + 1))
        eth2_back
        sim_fault "{\"path\": \"/latest/meta-data/network/interfaces/macs/${ENI_MAC[2]}/local-ipv4s\", \"delay_ms\": 30, \"count\": 1, \"status\": 200, \"body\": \"10.0.3.10\\n${many%\\n}\"}"
        ms=$((centre - 3 + RANDOM % 7))
        ((ms < 1)) && ms=1
        delay=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
        (
            sleep "$delay"
            ip -n "$(ns inst)" link del eth2
        ) &
        killer=$!
        er apply
        wait "$killer"
        sim_clear
        rcs+="$ER_RC "
        [[ $ER_RC == 0 || $ER_RC == 1 ]] || bad=$((bad + 1))
        if [[ $ER_RC == 1 ]]; then
            hits=$((hits + 1))
            lines=$(grep -m1 '^error: ' "$ER_OUT")
        elif [[ $ER_RC == 0 ]] && grep -q 'dev eth2' "$ER_OUT"; then
            late=$((late + 1)) centre=$((centre - 1))
        elif [[ $ER_RC == 0 ]]; then
            early=$((early + 1)) centre=$((centre + 1))
        fi
        er apply
        fault_state >"$WORLD_TMP/state.now"
        if [[ $ER_RC != 0 ]] || ! cmp -s "$WORLD_TMP/ref.Gno2" "$WORLD_TMP/state.now"; then
            bad=$((bad + 1))
            diff -u "$WORLD_TMP/ref.Gno2" "$WORLD_TMP/state.now" | head -20
        fi
    done
    info "exit codes of the interrupted applies: $rcs"
    info "deletions before the kernel phase: $early, after it: $late; final centre ${centre} ms"
    check_eq "every interrupted apply exited 0 or 1, and every rerun exited 0 with the exact state" 0 "$bad"
    check_gt "some deletions hit the kernel phase (exit 1, ENODEV) in $runs runs" "$hits" 2
    expect_state Gno2
    check "client -> 10.0.2.10 (the other ENIs kept working)" can_ping client 10.0.2.10
    ER_LINE="exit codes:$(tr ' ' '\n' <<<"$rcs" | grep . | sort | uniq -c | awk '{ printf " %s×%s", $1, $2 }'); ${lines:-no error line}"
    fault_case_end
fi

fault_case "remove --mac of the vanished eth2 (udev remove after the fact)"
er remove --mac "${ENI_MAC[2]}"
expect_rc 0
expect_state Gno2
fault_case_end

eth2_back
er apply
fault_state >"$WORLD_TMP/state.now"
check "back to G0 with eth2" cmp -s "$WORLD_TMP/ref.G0" "$WORLD_TMP/state.now"
fault_main_reference

# --- Objects eniroute wants, already there in another form ---
fault_case "eniroute's own default route in table 10001 with another gateway"
nsx inst ip route replace default via 10.0.2.99 dev eth1 table 10001 proto 0xee onlink
er apply
expect_rc 0; expect_log "^ip route replace default via 10.0.2.1 dev eth1 table 10001"
expect_state G0
fault_case_end

fault_case "eniroute's own rule for 10.0.2.11 at a stray priority"
nsx inst ip rule add from 10.0.2.11 lookup 10001 priority 10050 proto 0xee
er apply
expect_rc 0; expect_log "^ip rule del from 10.0.2.11 lookup 10001 priority 10050"
expect_state G0
fault_case_end

fault_case "a foreign rule identical to one of eniroute's (its own is added beside it; remove leaves it)"
nsx inst ip rule del from 10.0.2.11 lookup 10001 priority 10002 proto 0xee
nsx inst ip rule add from 10.0.2.11 lookup 10001 priority 10002
FAULT_FOREIGN_RE='^10002:.*from 10\.0\.2\.11 lookup 10001 *$'
fault_foreign "nsx inst ip -4 rule show | grep -E '^10002:.*from 10\.0\.2\.11 lookup 10001 *$'"
er apply
expect_rc 0; expect_log "identical rule not made by eniroute"
{ cat "$WORLD_TMP/ref.G0"; nsx inst ip -4 rule show | grep -E '^10002:.*from 10\.0\.2\.11 lookup 10001 *$' | sed 's/^/rule4 /'; } | sort >"$WORLD_TMP/ref.G0+foreign-rule"
expect_state G0+foreign-rule
er remove eth1
check_eq "remove eth1 exits 0" 0 "$ER_RC"
fault_invariants
er apply
check_eq "apply after remove exits 0" 0 "$ER_RC"
fault_invariants
FAULT_FOREIGN_CMDS=()
nsx inst ip rule del from 10.0.2.11 lookup 10001 priority 10002 proto 0
ER_RC=0
expect_state G0
FAULT_FOREIGN_RE='^$'
fault_case_end

fault_case "a foreign route with the key of eniroute's default route in table 10001"
nsx inst ip route del default table 10001
nsx inst ip route add default via 10.0.2.1 dev eth1 table 10001 proto static
FAULT_FOREIGN_RE='proto static'
fault_foreign "nsx inst ip route show table 10001 proto static"
er apply
expect_rc 0; expect_log "already has a route not made by eniroute: default via 10.0.2.1 dev eth1 table 10001"
sed 's/^\(route4 default via 10.0.2.1 dev eth1 table 10001 proto\) [a-z0-9]*/\1 static/' "$WORLD_TMP/ref.G0" | sort >"$WORLD_TMP/ref.G0-static-default"
expect_state G0-static-default
fault_case_end
nsx inst ip route del default table 10001 proto static
er apply
FAULT_FOREIGN_RE='^$'

fault_case "eniroute's table already holds foreign routes (kept by apply and by remove)"
nsx inst ip route add 192.0.2.0/24 via 10.0.2.1 dev eth1 table 10001 proto static
nsx inst ip route add 198.18.0.0/15 dev eth1 table 10001
FAULT_FOREIGN_RE='192\.0\.2\.0/24|198\.18\.0\.0/15'
fault_foreign "nsx inst ip route show table 10001 | grep -E '192\.0\.2\.0/24|198\.18\.0\.0/15'"
er apply
expect_rc 0
er remove eth1
check_eq "remove eth1 exits 0" 0 "$ER_RC"
fault_invariants
er apply
expect_rc 0
fault_invariants
FAULT_FOREIGN_CMDS=()
nsx inst ip route del 192.0.2.0/24 table 10001
nsx inst ip route del 198.18.0.0/15 table 10001
expect_state G0
fault_case_end
FAULT_FOREIGN_RE='^$'

# --- ENOBUFS on the watcher's notification socket ---
fault_case "ENOBUFS on the watcher's event socket: it reads the whole state again and repairs"
# A rule missing at the start: its return shows that the watcher's first pass is done.
nsx inst ip rule del from 10.0.2.10 lookup 10001 priority 10002
watch_start inst --interval 3600
LOG=$(watch_log inst)
check_within "the watcher's first pass is done (it restored a missing rule)" 10 \
    rule_present 4 "^10002:[[:space:]]+from 10\.0\.2\.10 lookup 10001 .*$PROTO_RE"
pid=${WATCH_PID[inst]}
kill -STOP "$pid"
# While it cannot read: one of its rules goes, and 40 000 route notifications overflow the socket's
# 4 MiB receive buffer (foreign routes in table 500, which must survive).
nsx inst ip rule del from 10.0.2.11 lookup 10001 priority 10002
for ((i = 0; i < 40000; i++)); do printf 'route add 10.%d.%d.%d/32 dev eth1 table 500\n' $((200 + i / 65536)) $((i / 256 % 256)) $((i % 256)); done >"$WORLD_TMP/flood"
nsx inst ip -batch "$WORLD_TMP/flood"
kill -CONT "$pid"
check_within "the watcher logs the lost notifications" 10 grep -qE "notifications were lost \(ENOBUFS\)" "$LOG"
check_within "and restores the rule it missed" 10 rule_present 4 "^10002:[[:space:]]+from 10\.0\.2\.11 lookup 10001 .*$PROTO_RE"
check_eq "the 40 000 foreign routes in table 500 are untouched" 40000 "$(nsx inst ip -4 route show table 500 | wc -l)"
check "the watcher is still running" watch_running inst
watch_stop inst
check_eq "the watcher stops with exit 0" 0 "$WATCH_RC"
nsx inst ip route flush table 500
ER_RC=$WATCH_RC
ER_LINE=$(grep -m1 'ENOBUFS' "$LOG")
expect_state G0
fault_case_end

fault_finish
