# shellcheck shell=bash
# Helpers of the fault matrix (tests/faults/fNN-*.sh), on top of the integration test world
# (tests/lib/world.sh: private namespaces only, every namespace asserted not to be the starting one).
#
# A fault case:
#   fault_case NAME              start a case (its checks follow)
#   er ARGS…                     run eniroute in inst with the fault configuration (short IMDS
#                                deadline), bounded; sets ER_RC and ER_OUT, and ER_LINE (the line
#                                a user sees: the first error, else the first warning, else the last line)
#   expect_rc CODE…              the exit code is one of CODE…
#   expect_state NAME…           inst's routing state (sorted, see fault_state) equals one of the
#                                named reference states (fault_reference NAME saved them)
#   fault_case_end               prints "ok   - case NAME …" or "FAIL - case NAME …" and appends a
#                                row (name, exit code, state, log line) to the results file
# Invariants (fault_invariants, called by fault_case_end): main table of both families and the
# primary ENI's default route as at the start, every rule/route in eniroute's ranges and every
# address eniroute added carries its tag, and the foreign objects the case lists are unchanged.
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

FAULTS_OUT=${FAULTS_OUT:-$WORLD_REPO/.build/faults}
mkdir -p "$FAULTS_OUT"
FAULTS_RESULTS=${FAULTS_RESULTS:-$FAULTS_OUT/results.tsv}
FAULT_NAME='' FAULT_FAILS_AT_START=0 FAULT_STATE_SEEN='' ER_RC='' ER_OUT='' ER_LINE=''
FAULT_ENDPOINT=http://$IMDS4
FAULT_DEADLINE=${FAULT_DEADLINE:-4}
FAULT_REQUEST_TIMEOUT=${FAULT_REQUEST_TIMEOUT:-1}
FAULT_FOREIGN_CMDS=()
CASES_OK=0 CASES_FAILED=0

# More ENIs than world.sh's five (indexes 5…15) for the process cases: MAC 02:00:00:00:NN:0a.
for ((_i = ${#ENI_MAC[@]}; _i <= 15; _i++)); do
    ENI_MAC+=("$(printf '02:00:00:00:%02x:0a' $((_i + 1)))")
    RPORT_MAC+=("$(printf '02:00:00:00:%02x:01' $((_i + 1)))")
done

# fault_conf [KEY=VALUE…]: the configuration eniroute runs with (short deadline so that faults
# end in seconds); extra lines replace nothing, they are appended.
fault_conf() {
    {
        echo "imds-deadline = $FAULT_DEADLINE"
        echo "imds-request-timeout = $FAULT_REQUEST_TIMEOUT"
        local kv
        for kv in "$@"; do echo "$kv"; done
    } >"$WORLD_TMP/fault.conf"
}

# er ARGS…: eniroute in inst (60 s at most), against FAULT_ENDPOINT.
er() {
    local INST; INST=$(ns inst)
    assert_not_root_ns "$INST"
    [[ -s $WORLD_TMP/fault.conf ]] || fault_conf
    ENIROUTE_RUNS=$((ENIROUTE_RUNS + 1))
    ER_OUT=$WORLD_TMP/er.$ENIROUTE_RUNS.log
    ip netns exec "$INST" env ENIROUTE_LOCK="$WORLD_TMP/eniroute.lock" timeout -k 5 60 "$ENIROUTE" "$@" \
        --imds-endpoint "$FAULT_ENDPOINT" --config "$WORLD_TMP/fault.conf" >"$ER_OUT" 2>&1
    ER_RC=$?
    ER_LINE=$(grep -m1 '^error: ' "$ER_OUT" || grep -m1 '^warning: ' "$ER_OUT" \
        || grep -m1 -E '^(apply|plan|remove)( |:)' "$ER_OUT" || tail -n 1 "$ER_OUT")
    ER_LINE=${ER_LINE:0:200}
    if [[ ${FAULTS_VERBOSE:-0} == 1 ]]; then sed 's/^/   | /' "$ER_OUT"; fi
    info "eniroute $* → exit $ER_RC: $ER_LINE"
    return 0
}

# fault_state FILE: inst's routing state, sorted (so that the order the kernel lists rules of one
# priority in does not matter; duplicates still show as repeated lines): rules, routes of every
# table but local, addresses (without lifetimes) and link groups, of links named eth*.
fault_state() {
    {
        nsx inst ip -4 rule show | sed 's/^/rule4 /'
        nsx inst ip -6 rule show | sed 's/^/rule6 /'
        nsx inst ip -4 route show table all | grep -v 'table local' | sed 's/^/route4 /'
        nsx inst ip -6 route show table all | grep -v 'table local' | sed 's/^/route6 /'
        nsx inst ip -o addr show | awk '$2 ~ /^(eth[0-9]+|lo)$/' | sed -E 's/ +valid_lft.*//; s/^[0-9]+: /addr /'
        nsx inst ip -o -d link show | awk -F': ' '$2 ~ /^eth[0-9]+(@|$)/ { split($2, n, "@"); g = "default"; if (match($0, / group [^ ]+/)) g = substr($0, RSTART + 7, RLENGTH - 7); print "link " n[1] " group " g }'
    } | sort
}

# fault_reference NAME: saves the current state as reference NAME.
fault_reference() { fault_state >"$WORLD_TMP/ref.$1"; }

# fault_main_reference: the main tables and the primary default route at the start, once the
# kernel has settled them: it adds a link's fe80::/64 route when the link's carrier comes up,
# asynchronously (on an emulated arm64 Debian 12 kernel, seconds after `ip link set up` returned
# for 16 links), so the reference waits, at most 10 s, until every link that is up, with carrier
# and IPv6 on, has that route.
fault_main_reference() {
    local end=$((SECONDS + 10)) dev missing
    while :; do
        missing=
        for dev in $(nsx inst ip -o link show up | awk -F': ' '$2 != "lo" && /LOWER_UP/ { sub(/@.*/, "", $2); print $2 }'); do
            [ "$(nsx inst cat "/proc/sys/net/ipv6/conf/$dev/disable_ipv6" 2>/dev/null)" = 0 ] || continue
            nsx inst ip -6 route show table main dev "$dev" | grep -q '^fe80::/64 ' || missing+=" $dev"
        done
        [ -z "$missing" ] || [ $SECONDS -ge $end ] || { sleep 0.1; continue; }
        break
    done
    [ -z "$missing" ] || echo "   (main reference taken without the link-local route of:$missing)"
    snapshot_main "$WORLD_TMP/main.ref"
}

# fault_foreign CMD…: a command whose output lists foreign objects that must survive the case.
fault_foreign() {
    FAULT_FOREIGN_CMDS+=("$*")
    eval "$*" >"$WORLD_TMP/foreign.${#FAULT_FOREIGN_CMDS[@]}" 2>&1
}

fault_case() {
    FAULT_NAME=$1 FAULT_FAILS_AT_START=$CHECKS_FAILED FAULT_STATE_SEEN='' ER_RC='' ER_LINE=''
    FAULT_FOREIGN_CMDS=()
    section "case: $1"
}

# expect_rc CODE…
expect_rc() {
    local c
    for c in "$@"; do
        if [[ $ER_RC == "$c" ]]; then _check_result ok "exit $ER_RC (expected: $*)"; return 0; fi
    done
    _check_result FAIL "exit $ER_RC, expected one of: $*" "$ER_OUT"
}

# expect_state NAME…: the state is one of the references (records which one).
expect_state() {
    local r
    fault_state >"$WORLD_TMP/state.now"
    for r in "$@"; do
        if cmp -s "$WORLD_TMP/ref.$r" "$WORLD_TMP/state.now"; then
            FAULT_STATE_SEEN=$r
            _check_result ok "routing state is '$r' (allowed: $*)"
            return 0
        fi
    done
    FAULT_STATE_SEEN=other
    diff -u "$WORLD_TMP/ref.$1" "$WORLD_TMP/state.now" >"$WORLD_TMP/check.out"
    _check_result FAIL "routing state is none of: $* (diff against '$1')" "$WORLD_TMP/check.out"
}

# expect_log REGEX: eniroute's output has a line matching REGEX.
expect_log() { check "log matches /$1/" grep -Eq -- "$1" "$ER_OUT"; }

# expect_no_log REGEX
expect_no_log() { check_not "no log line matches /$1/" grep -Eq -- "$1" "$ER_OUT"; }

# fault_invariants: main tables as at the start, tags on eniroute's objects, foreign objects kept.
fault_invariants() {
    snapshot_main "$WORLD_TMP/main.now"
    check_same_file "invariant: main table (both families) and primary default route unchanged" \
        "$WORLD_TMP/main.ref" "$WORLD_TMP/main.now"
    check "invariant: every rule at eniroute's priorities and every route in eniroute's tables is tagged" _fault_tags
    local i
    for ((i = 1; i <= ${#FAULT_FOREIGN_CMDS[@]}; i++)); do
        eval "${FAULT_FOREIGN_CMDS[i - 1]}" >"$WORLD_TMP/foreign.now" 2>&1
        check_same_file "invariant: foreign objects unchanged: ${FAULT_FOREIGN_CMDS[i - 1]}" \
            "$WORLD_TMP/foreign.$i" "$WORLD_TMP/foreign.now"
    done
}

# Rules at priorities 10000…10099 and routes in tables 10000…10099 are eniroute's unless the case
# placed foreign ones there (FAULT_FOREIGN_RE matches those lines); secondary addresses added by
# eniroute (noprefixroute, not from "DHCP") carry proto 0xee when the kernel reports it.
FAULT_FOREIGN_RE='^$'
_fault_tags() {
    local bad
    bad=$({
        nsx inst ip -4 rule show; nsx inst ip -6 rule show
    } | awk -F: '$1 >= 10000 && $1 < 10100' | grep -Ev -- "$PROTO_RE" | grep -Ev -- "$FAULT_FOREIGN_RE")
    bad+=$({
        local t
        for t in $(nsx inst ip -4 route show table all | grep -oE 'table 100[0-9][0-9]' | sort -u | cut -d' ' -f2); do
            nsx inst ip -4 route show table "$t" | sed "s/^/table $t: /"
        done
        for t in $(nsx inst ip -6 route show table all | grep -oE 'table 100[0-9][0-9]' | sort -u | cut -d' ' -f2); do
            nsx inst ip -6 route show table "$t" | sed "s/^/table $t: /"
        done
    } | grep -Ev -- "$PROTO_RE" | grep -Ev -- "$FAULT_FOREIGN_RE")
    [[ -z $bad ]] || { echo "untagged: $bad"; return 1; }
}

fault_case_end() {
    fault_invariants
    local verdict=ok
    ((CHECKS_FAILED > FAULT_FAILS_AT_START)) && verdict=FAIL
    if [[ $verdict == ok ]]; then CASES_OK=$((CASES_OK + 1)); else CASES_FAILED=$((CASES_FAILED + 1)); fi
    printf '%-4s - case %s (exit %s, state %s): %s\n' "$verdict" "$FAULT_NAME" "${ER_RC:--}" "${FAULT_STATE_SEEN:--}" "$ER_LINE"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(basename "$0" .sh)" "$FAULT_NAME" "$verdict" "${ER_RC:--}" "${FAULT_STATE_SEEN:--}" \
        "$(tr '\t' ' ' <<<"$ER_LINE")" >>"$FAULTS_RESULTS"
}

# fault_finish: like world_finish, for the cases.
fault_finish() {
    printf '%s: %d cases ok, %d failed\n' "$(basename "$0" .sh)" "$CASES_OK" "$CASES_FAILED"
    world_finish
}

# sim_fault JSON: add a fault (bounded control request); sim_clear: remove every fault.
sim_fault() { imds_control PUT /_sim/fault "$1" >/dev/null || world_abort "cannot add fault $1"; }
sim_clear() { imds_control DELETE /_sim/fault >/dev/null || world_abort "cannot clear faults"; }
# sim_put_file METHOD PATH FILE: a control request whose body is FILE (any size), bounded by 10 s.
sim_put_file() {
    local INST; INST=$(ns inst)
    assert_not_root_ns "$INST"
    # shellcheck disable=SC2016
    ip netns exec "$INST" timeout 10 bash -c '
        exec 3<>"/dev/tcp/$1/80" || exit 1
        printf "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" \
            "$2" "$3" "$1" "$(stat -c %s "$4")" >&3
        cat "$4" >&3
        IFS=" " read -r _ status _ <&3
        [ "$status" = 200 ]' _ "$IMDS4" "$1" "$2" "$3"
}
# sim_scenario FILE: serve FILE's scenario from now on.
sim_scenario() { sim_put_file PUT /_sim/scenario "$1" || world_abort "cannot load scenario $1"; }

# eni_json IDX DEVICE SUBNET-CIDR ADDR…: one ENI's entry of a scenario's "macs" object (IPv4).
eni_json() { printf '"%s": %s' "${ENI_MAC[$1]}" "$(imds_eni_json "$@")"; }
