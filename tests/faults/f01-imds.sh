#!/bin/bash
# Fault matrix, IMDS side: every fault the IMDS simulator can inject, during an `eniroute apply`
# that would move the instance from state G0 (eth1: 10.0.2.10, 10.0.2.11) to G1 (eth1: 10.0.2.10,
# 10.0.2.12; 10.0.2.11 unassigned). After every case the routing state must be exactly G0 (the
# previous good state) or G1 (the new good state), never a mix; the addresses of that state answer
# pings from the client (never fewer working addresses than before); the main table and the
# primary's default route are untouched; eniroute's objects carry its tag. The exit code and the
# line a user sees are recorded in the results table.
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

world_create
world_eni 0 A 10.0.1.10
world_eni 1 B 10.0.2.10 10.0.2.11 10.0.2.12
world_eni 2 C 10.0.3.10
inst_distro 0 10.0.1.10 default
inst_distro 1 10.0.2.10
inst_distro 2 10.0.3.10
fault_main_reference

scenario() { # scenario NAME ETH1-ADDR…
    local name=$1; shift
    printf '{"mac": "%s", "macs": {%s, %s, %s}}\n' "${ENI_MAC[0]}" \
        "$(eni_json 0 0 10.0.1.0/24 10.0.1.10)" "$(eni_json 1 1 10.0.2.0/24 "$@")" "$(eni_json 2 2 10.0.3.0/24 10.0.3.10)" \
        >"$WORLD_TMP/$name.json"
}
scenario base 10.0.2.10 10.0.2.11
scenario next 10.0.2.10 10.0.2.12
imds_start "$WORLD_TMP/base.json"
fault_conf

section "reference states"
er apply
check_eq "apply (base) exits 0" 0 "$ER_RC"
fault_reference G0
sim_scenario "$WORLD_TMP/next.json"
er apply
check_eq "apply (next) exits 0" 0 "$ER_RC"
fault_reference G1
check_not "G0 and G1 differ" cmp -s "$WORLD_TMP/ref.G0" "$WORLD_TMP/ref.G1"

# to_g0: back to the previous good state (no fault), checked.
to_g0() {
    sim_clear
    FAULT_ENDPOINT=http://$IMDS4
    sim_scenario "$WORLD_TMP/base.json"
    er apply
    fault_state >"$WORLD_TMP/state.g0"
    cmp -s "$WORLD_TMP/ref.G0" "$WORLD_TMP/state.g0" || world_abort "could not return to G0 before a case"
    sim_scenario "$WORLD_TMP/next.json"
}

# working_addresses: the client's pings that the state G0/G1 promises; at least as many as G0 has.
check_working() {
    local want a n=0
    case $FAULT_STATE_SEEN in
    G0) want="10.0.1.10 10.0.2.10 10.0.2.11 10.0.3.10" ;;
    G1) want="10.0.1.10 10.0.2.10 10.0.2.12 10.0.3.10" ;;
    *) want="10.0.1.10 10.0.2.10 10.0.3.10" ;;
    esac
    for a in $want; do can_ping_quick client "$a" >/dev/null 2>&1 && n=$((n + 1)); done
    check_eq "every address of the state answers the client ($want)" "$(wc -w <<<"$want")" "$n"
}

# imds_case NAME FAULT-JSON|- RCs STATEs [LOG-REGEX]: one fault during a G0 → G1 apply.
imds_case() {
    local name=$1 fault=$2 rcs=$3 states=$4 re=${5:-}
    to_g0
    fault_case "$name"
    [[ $fault == - ]] || sim_fault "$fault"
    er apply
    # shellcheck disable=SC2086
    expect_rc $rcs
    # shellcheck disable=SC2086
    expect_state $states
    [[ -z $re ]] || expect_log "$re"
    check_working
    sim_clear
    fault_case_end
}

M1=${ENI_MAC[1]}
META='/latest/meta-data/*'
IPS1="/latest/meta-data/network/interfaces/macs/$M1/local-ipv4s"

# --- Connection faults ---
to_g0
fault_case "IMDS unreachable (ICMP network unreachable from the VPC router)"
FAULT_ENDPOINT=http://192.0.2.1
er apply
expect_rc 75; expect_state G0; expect_log "nothing changed"
check_working
fault_case_end

to_g0
fault_case "connection refused (nothing listens)"
FAULT_ENDPOINT=http://127.0.0.1:9
er apply
expect_rc 75; expect_state G0; expect_log "refused"
check_working
fault_case_end

# --- The kernel refuses to reach IMDS: a prohibit route (systemd >= 261, systemd.imds.network=locked)
# or an unreachable one. connect() fails at once; retrying until the deadline cannot help. The
# simulator's address is local here, so the local table's rule moves behind the refusing one.
refuse_imds() { # refuse_imds on|off prohibit|unreachable
    assert_not_root_ns "$(ns inst)"
    if [[ $1 == on ]]; then
        nsx inst ip rule add priority 100 lookup local
        nsx inst ip rule del priority 0 lookup local
        nsx inst ip rule add priority 5 to "$IMDS4" lookup 99
        nsx inst ip route add "$2" "$IMDS4" table 99
    else
        nsx inst ip rule del priority 5
        nsx inst ip route flush table 99
        nsx inst ip rule add priority 0 lookup local
        nsx inst ip rule del priority 100 lookup local
    fi
}
for kind in prohibit unreachable; do
    to_g0
    fault_case "a $kind route to IMDS: exit 1 at once, saying the kernel refuses"
    refuse_imds on "$kind"
    er apply
    refuse_imds off "$kind"
    expect_rc 1; expect_state G0; expect_log "kernel refuses"
    check_working
    fault_case_end
done

imds_case "accepts but never answers" "{\"path\": \"$META\", \"hang\": true}" 75 G0 "deadline exceeded|no response"
imds_case "answers one byte per second" "{\"path\": \"$META\", \"bytes_per_second\": 1}" 75 G0 "deadline exceeded|no response"

# --- Status faults ---
imds_case "401 on every request (token included)" '{"path": "/latest/*", "status": 401}' 1 G0 "token request refused with HTTP 401"
imds_case "401 on every GET (a fresh token does not help)" "{\"path\": \"$META\", \"method\": \"GET\", \"status\": 401}" 1 G0 "HTTP status 401"

to_g0
fault_case "401 after 3 requests: the token expires mid-run (debug log: the token is never printed)"
sim_fault "{\"path\": \"$META\", \"method\": \"GET\", \"after\": 3, \"count\": 1, \"expire_tokens\": true}"
tokens_before=$(log_count "$WORLD_TMP/imds.log" 'PUT /latest/api/token -> 200')
er apply --log-level debug
expect_rc 0; expect_state G1
expect_no_log '[A-Za-z0-9_-]{56}'
expect_log "^IMDS: .*HTTP 401, fetching a new token"
check "the simulator answered a 401 and issued a second token" \
    test "$(log_count "$WORLD_TMP/imds.log" 'PUT /latest/api/token -> 200')" -ge $((tokens_before + 2))
check_working
fault_case_end

imds_case "403 on the token request (IMDSv1 not allowed)" '{"path": "/latest/api/token", "status": 403}' 1 G0 "refused with HTTP 403"
imds_case "403 on a GET" "{\"path\": \"$IPS1\", \"status\": 403}" 1 G0 "HTTP status 403"
imds_case "404 on a listed key mid-run (stays 404): left as it is" "{\"path\": \"$IPS1\", \"status\": 404}" 75 G0 "not ready by the deadline"
imds_case "404 on a listed key mid-run (once): re-read" "{\"path\": \"$IPS1\", \"status\": 404, \"count\": 1}" 0 G1
imds_case "500 burst (3 answers)" "{\"path\": \"$META\", \"status\": 500, \"count\": 3}" 0 G1 "^IMDS: GET .*HTTP 500.*; retry 1/"
imds_case "503 burst on the token request (2 answers)" '{"path": "/latest/api/token", "status": 503, "count": 2}' 0 G1
imds_case "500 on every request" "{\"path\": \"$META\", \"status\": 500}" 75 G0 "HTTP 500"

# --- Transfer faults ---
imds_case "connection reset mid-body (twice)" "{\"path\": \"$IPS1\", \"reset\": true, \"count\": 2}" 0 G1
imds_case "connection reset mid-body (always)" "{\"path\": \"$IPS1\", \"reset\": true}" 75 G0 "reset|connection closed"
imds_case "Content-Length claims 100 bytes more (twice)" "{\"path\": \"$IPS1\", \"content_length_extra\": 100, \"count\": 2}" 0 G1
imds_case "Content-Length claims 100 bytes more (always)" "{\"path\": \"$IPS1\", \"content_length_extra\": 100}" 75 G0 "middle of the response body"
imds_case "chunked encoding on every answer" "{\"path\": \"/latest/*\", \"chunked\": true}" 0 G1
imds_case "10 MB body" "{\"path\": \"$IPS1\", \"status\": 200, \"body\": \"10.0.2.10\\n\", \"body_size\": 10485760}" 1 G0 "too large"
imds_case "10 MB chunked body" "{\"path\": \"$IPS1\", \"status\": 200, \"body\": \"10.0.2.10\\n\", \"body_size\": 10485760, \"chunked\": true}" 1 G0 "too large"

# --- Content faults ---
b64() { printf '%b' "$1" | base64 -w0; }
imds_case "non-UTF-8 bytes in local-ipv4s" "{\"path\": \"$IPS1\", \"status\": 200, \"body_base64\": \"$(b64 '10.0.2.10\n10.0.2.\xff\xfe')\"}" 1 G0 "malformed local-ipv4s"
imds_case "non-UTF-8 bytes in the MAC listing" "{\"path\": \"/latest/meta-data/network/interfaces/macs/\", \"status\": 200, \"body_base64\": \"$(b64 "${ENI_MAC[0]}/\n\xc3\x28\xa0\xa1/")\"}" 1 G0 "not a MAC address"
imds_case "garbage CIDR (10.0.2.0/33)" "{\"path\": \"/latest/meta-data/network/interfaces/macs/$M1/subnet-ipv4-cidr-block\", \"status\": 200, \"body\": \"10.0.2.0/33\"}" 1 G0 "malformed subnet-ipv4-cidr-block"
imds_case "garbage CIDR (text)" "{\"path\": \"/latest/meta-data/network/interfaces/macs/$M1/subnet-ipv4-cidr-block\", \"status\": 200, \"body\": \"<html>oops</html>\"}" 1 G0 "malformed subnet-ipv4-cidr-block"
imds_case "garbage address (10.0.2.256)" "{\"path\": \"$IPS1\", \"status\": 200, \"body\": \"10.0.2.10\\n10.0.2.256\"}" 1 G0 "malformed local-ipv4s"
imds_case "address outside its subnet" "{\"path\": \"$IPS1\", \"status\": 200, \"body\": \"10.0.2.10\\n10.0.9.9\"}" 1 G0 "outside its subnet"
M2DIR=/latest/meta-data/network/interfaces/macs/${ENI_MAC[2]}
imds_case "one address listed on two ENIs" "[{\"path\": \"$M2DIR/subnet-ipv4-cidr-block\", \"status\": 200, \"body\": \"10.0.2.0/24\"}, {\"path\": \"$M2DIR/local-ipv4s\", \"status\": 200, \"body\": \"10.0.2.20\\n10.0.2.12\"}]" 1 G0 "listed on both"
imds_case "a delegated prefix 0.0.0.0/0 (would capture every source)" "[{\"path\": \"/latest/meta-data/network/interfaces/macs/$M1/\", \"status\": 200, \"body\": \"device-number\\ninterface-id\\nipv4-prefix\\nlocal-ipv4s\\nmac\\nsubnet-ipv4-cidr-block\"}, {\"path\": \"/latest/meta-data/network/interfaces/macs/$M1/ipv4-prefix\", \"status\": 200, \"body\": \"0.0.0.0/0\"}]" 1 G0 "lists 0\\.0\\.0\\.0/0 on .* outside its subnet"
imds_case "the MAC listing names eth1 twice (upper and lower case)" "{\"path\": \"/latest/meta-data/network/interfaces/macs/\", \"status\": 200, \"body\": \"${ENI_MAC[0]}/\\n$M1/\\n${M1^^}/\\n${ENI_MAC[2]}/\"}" 0 G1

# --- ENIs and interfaces that do not match ---
to_g0
fault_case "a MAC listed in IMDS with no interface"
imds_control POST "/_sim/mac/02:00:00:00:09:0a" '{"device-number": "3", "local-ipv4s": "10.0.9.10", "subnet-ipv4-cidr-block": "10.0.9.0/24"}' >/dev/null
er apply
expect_rc 0; expect_state G1
check_working
fault_case_end

to_g0
fault_case "an interface with no IMDS entry (MAC unknown to IMDS, with a foreign address)"
nsx inst ip link add eth8 address 02:00:00:00:08:0a type veth peer name eth8p
nsx inst ip addr add 10.0.8.10/24 dev eth8 noprefixroute
nsx inst ip link set eth8 up
fault_foreign "nsx inst ip -o addr show dev eth8 | sed -E 's/ +valid_lft.*//'; nsx inst ip -d link show dev eth8 | grep -o 'group [^ ]*'"
er apply
expect_rc 0
fault_invariants
FAULT_FOREIGN_CMDS=()
nsx inst ip link del eth8
expect_state G1
check_working
fault_case_end

to_g0
fault_case "two interfaces with eth1's MAC: eth1 is left alone"
nsx inst ip link add eth9 address "$M1" type veth peer name eth9p
er apply
expect_rc 0; expect_log "matches several interfaces"
nsx inst ip link del eth9
expect_state G0
check_working
fault_case_end

# --- Scale ---
to_g0
fault_case "10 000 addresses on eth1 (subnet 10.0.0.0/18)"
for ((i = 0; i < 10000; i++)); do printf '10.0.%d.%d\n' $((16 + i / 250)) $((i % 250 + 1)); done >"$WORLD_TMP/big"
printf '10.0.2.10\n%s' "$(cat "$WORLD_TMP/big")" >"$WORLD_TMP/big.body"
check "IMDS: 10 001 addresses in eth1's local-ipv4s" sim_put_file PUT "/_sim/mac/$M1/local-ipv4s" "$WORLD_TMP/big.body"
check "IMDS: eth1's subnet is 10.0.0.0/18" imds_control PUT "/_sim/mac/$M1/subnet-ipv4-cidr-block" "10.0.0.0/18"
vpc_allow 1 10.0.16.1
nsx vpc ip addr add 10.0.0.1/32 dev r1 # the /18's router
t0=$(now_s)
er apply
took=$(elapsed_since "$t0")
expect_rc 0
info "apply of 10 001 addresses took $took s"
check_eq "10 001 rules from eth1's addresses" 10001 "$(nsx inst ip -4 rule show | grep -cE "^10002:.* lookup 10001 .*$PROTO_RE")"
check_eq "10 000 addresses added to eth1 (plus the DHCP one)" 10001 "$(nsx inst ip -4 -o addr show dev eth1 | grep -c inet)"
er apply
check_eq "second apply: no change" 0 "$(grep -cE '^ip ' "$ER_OUT")"
FAULT_STATE_SEEN=G1-10000
check_working
check "client -> 10.0.16.1 (one of the 10 000)" can_ping client 10.0.16.1
ER_LINE="apply of 10 001 addresses in $took s; second apply: no change"
fault_case_end
nsx vpc ip addr del 10.0.0.1/32 dev r1
to_g0
check "back to G0 from 10 000 addresses" cmp -s "$WORLD_TMP/ref.G0" "$WORLD_TMP/state.g0"

fault_finish
