# shellcheck shell=bash
# VM steps (sourced by vm/ec2/run.sh): a secondary IP moved between two ENIs of the VM (seed
# 004), and an ENI moved to another instance (seed 003).

MAC5=02:00:00:00:05:0a
MAC6=02:00:00:00:06:0a

# watch_deadline: the watcher's poll interval (its start line: "every N s, ±10 %") with its
# jitter, plus 1 s: how long a change that only IMDS shows may take to be in place.
watch_deadline() {
    local every
    every=$(g "journalctl -b -u eniroute-watch.service -o cat --no-pager | grep -o 'following IMDS (every [0-9.]* s' | tail -1 | grep -o '[0-9.]*'")
    awk -v s="${every:-15}" 'BEGIN { printf "%.1f", s * 1.1 + 1 }'
}

# now_s: seconds since the epoch, with fractions.
now_s() { date +%s.%N; }

# reach_within ADDRESS SECONDS: source-checked pings (one every ~0.3 s) until one is answered;
# prints the seconds it took (from now), or nothing.
reach_within() {
    local t0 end src=$EC2_CLIENT4
    t0=$(now_s)
    end=$((SECONDS + $2))
    while [ $SECONDS -le $end ]; do
        if vm_in_ns ping -n -q -c 1 -W 0.3 -I "$src" "$1" >/dev/null 2>&1; then
            awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'
            return 0
        fi
    done
    return 1
}

# step_secondary_ip_move N: ENI 5 (MAC5, 10.0.3.20) is hot-attached in ENI 3's subnet
# 10.0.3.0/24 (a secondary IP only moves within its subnet); 10.0.3.11 is assigned to ENI 3, then
# reassigned to ENI 5: IMDS lists it on ENI 5, the VPC router delivers it to ENI 5's port and
# its source check accepts it there only. Reachable through ENI 5 within the watcher's poll
# + 1 s, gone from ENI 3 (address and rule). ENI 5 is detached at the end (with 10.0.3.11).
step_secondary_ip_move() {
    step_begin "$1 secondary IP moved from ENI 3 to ENI 5 of the VM (same subnet, seed 004)"
    local before keys deadline t_move now
    before=$(managed_snapshot)
    deadline=$(watch_deadline)
    # The router's port for ENI 5: in 10.0.3.0/24, so only host routes to its addresses (the
    # VPC's mapping of an address to an ENI); it answers the gateway 10.0.3.1 there too.
    vm_in_ns ip address add 10.0.3.1/32 dev tap4
    vm_in_ns ip route add 10.0.3.20/32 dev tap4
    ec2_allow 4 10.0.3.20
    keys='{"keys": {"device-number": "4", "interface-id": "eni-0aaaaaaaaaaaaaa05", "local-ipv4s": "10.0.3.20",
      "subnet-id": "subnet-00000000000000003", "subnet-ipv4-cidr-block": "10.0.3.0/24", "vpc-id": "vpc-0123456789abcdef0",
      "vpc-ipv4-cidr-block": "10.0.0.0/16", "vpc-ipv4-cidr-blocks": "10.0.0.0/16"}}'
    vm_sim POST "/_sim/mac/$MAC5" "$keys" >/dev/null || expect_fail "simulator: attach $MAC5"
    ec2_nic_add 4 || expect_fail "QMP hot plug: $VM_QMP_REPLY"
    vm_guest_wait "systemctl is-active -q eniroute@ens7.service && ip -4 rule show | grep -q 'from 10.0.3.20 lookup 10004 proto eniroute'" 120 >/dev/null ||
        expect_fail "ens7 (ENI 5) not configured within 120 s: $(g 'systemctl status --no-pager eniroute@ens7.service; ip -4 rule')"
    # 10.0.3.11 on ENI 3 first.
    ec2_allow 2 10.0.3.11
    vm_sim PUT "/_sim/mac/$MAC3/local-ipv4s" $'10.0.3.10\n10.0.3.11' >/dev/null || expect_fail "simulator: local-ipv4s"
    vm_guest_wait "ip -br -4 address show dev ens5 | grep -q ' 10.0.3.11/24' && ip -4 rule show | grep -qE 'from 10\.0\.3\.11 lookup 10002 proto eniroute'" 60 >/dev/null ||
        expect_fail "10.0.3.11 not configured on ens5 within 60 s: $VM_OUT"
    [ -n "$(reach_within 10.0.3.11 10)" ] || expect_fail "10.0.3.11 not reachable through ENI 3"
    # The move: the VPC first (router and source check), then IMDS, as EC2 does it.
    ec2_disallow 2 10.0.3.11
    ec2_allow 4 10.0.3.11
    vm_in_ns ip route add 10.0.3.11/32 dev tap4
    vm_sim PUT "/_sim/mac/$MAC3/local-ipv4s" '10.0.3.10' >/dev/null || expect_fail "simulator: local-ipv4s"
    vm_sim PUT "/_sim/mac/$MAC5/local-ipv4s" $'10.0.3.20\n10.0.3.11' >/dev/null || expect_fail "simulator: local-ipv4s"
    t_move=$(reach_within 10.0.3.11 60)
    if [ -z "$t_move" ]; then
        expect_fail "10.0.3.11 not reachable through ENI 5 within 60 s: $(g 'ip -br -4 address; ip -4 rule')"
    elif awk -v t="$t_move" -v d="$deadline" 'BEGIN { exit !(t > d) }'; then
        expect_fail "10.0.3.11 reachable through ENI 5 only after $t_move s (watcher poll + 1 s: $deadline s)"
    fi
    vm_guest_wait "ip -br -4 address show dev ens7 | grep -q ' 10.0.3.11/24' && ip -4 rule show | grep -qE 'from 10\.0\.3\.11 lookup 10004 proto eniroute' && ! ip -4 address show dev ens5 | grep -q ' 10.0.3.11/' && ! ip -4 rule show | grep -q 'from 10.0.3.11 lookup 10002'" 5 >/dev/null ||
        expect_fail "after the move: 10.0.3.11 not only on ens7 (address, rule): $(g 'ip -br -4 address; ip -4 rule')"
    # ENI 5 detached with 10.0.3.11: everything as before the step.
    ec2_nic_del 4 || expect_fail "QMP hot unplug: $VM_QMP_REPLY"
    vm_sim DELETE "/_sim/mac/$MAC5" >/dev/null || expect_fail "simulator: detach $MAC5"
    vm_guest_wait "! ip link show ens7 >/dev/null 2>&1 && ! systemctl is-active -q eniroute@ens7.service && ! ip -4 rule show | grep -qE 'lookup 10004|10\.0\.3\.(11|20) ' && [ -z \"\$(ip -4 route show table 10004 2>/dev/null)\" ]" 60 >/dev/null ||
        expect_fail "ens7's objects still there 60 s after the detach: $(g 'ip -4 rule; ip -br -4 address')"
    ec2_disallow 4 10.0.3.11 10.0.3.20
    vm_in_ns ip route del 10.0.3.11/32 dev tap4
    vm_in_ns ip route del 10.0.3.20/32 dev tap4
    now=$(managed_snapshot)
    [ "$now" = "$before" ] || expect_fail "the state differs from before: $(diff <(echo "$before") <(echo "$now"))"
    step_end "10.0.3.11 reachable through ENI 5 ${t_move:-?} s after IMDS moved it (limit: watcher poll + 1 s = $deadline s), gone from ENI 3"
}

# standby_port ROUTER_PORT ENI_LINK MAC GATEWAY/LEN SOURCE_SET: a veth from the router (in the
# VM test's namespace) to the standby, the standby's end carrying the ENI's MAC, with the
# router's source check on it.
standby_port() {
    vm_in_ns ip link add "$1" mtu "$EC2_MTU" type veth peer name "$2" netns "$STANDBY_NS" || return 1
    ip -n "$STANDBY_NS" link set "$2" address "$3" mtu "$EC2_MTU" up
    vm_in_ns ip address add "$4" dev "$1"
    vm_in_ns ip link set "$1" up
    printf '%s\n' "add chain netdev vpc $1 { type filter hook ingress device \"$1\" priority 0; }" \
        "add rule netdev vpc $1 meta protocol ip ip saddr != @$5 counter drop" \
        "add rule netdev vpc $1 meta protocol ip6 ip6 saddr != { fe80::/10, :: } counter drop" | vm_in_ns nft -f -
}

# step_eni_moved N: ENI 4, hot-detached from the VM (the step before), is attached to a standby
# instance: a namespace with its own primary ENI (MAC6, 10.0.6.10, configured as its DHCP would),
# ENI 4's MAC on a veth as its device 1, its own IMDS simulator, and the test variant of
# eniroute (the one that accepts veth links) running `apply`. 10.0.4.10 answers the client's
# source-checked ping from the standby; the VM has none of ENI 4's objects.
step_eni_moved() {
    step_begin "$1 ENI 4 moved to another instance (seed 003): a standby namespace runs eniroute apply"
    local scen t0 t_apply rc bad left rules
    STANDBY_NS=$VM_NS-standby
    vm_ns_add "$STANDBY_NS"
    ip -n "$STANDBY_NS" address add 169.254.169.254/32 dev lo
    vm_in_ns nft add set netdev vpc standby_v4 '{ type ipv4_addr; }'
    vm_in_ns nft add element netdev vpc standby_v4 '{ 10.0.6.10 }'
    # ENI 4's subnet now ends at the standby: the router's port for it moves from tap3 to sb1.
    vm_in_ns ip address del 10.0.4.1/24 dev tap3
    vm_in_ns ip link set tap3 down
    standby_port sb0 eth0 "$MAC6" 10.0.6.1/24 standby_v4 || expect_fail "standby primary port"
    standby_port sb1 eth1 "$MAC4" 10.0.4.1/24 eni3_v4 || expect_fail "standby ENI 4 port"
    ec2_allow 3 10.0.4.10
    ip -n "$STANDBY_NS" address add 10.0.6.10/24 dev eth0
    ip -n "$STANDBY_NS" route add default via 10.0.6.1 dev eth0
    scen=$VM_RUN/standby.json
    cat >"$scen" <<JSON
{"mac": "$MAC6", "macs": {
  "$MAC6": {"device-number": "0", "interface-id": "eni-0bbbbbbbbbbbbbb06", "mac": "$MAC6", "local-ipv4s": ["10.0.6.10"], "subnet-ipv4-cidr-block": "10.0.6.0/24"},
  "$MAC4": {"device-number": "1", "interface-id": "eni-0aaaaaaaaaaaaaa04", "mac": "$MAC4", "local-ipv4s": ["10.0.4.10"], "subnet-ipv4-cidr-block": "10.0.4.0/24"}}}
JSON
    vm_sim_launch standby-sim "$STANDBY_NS" "$scen" 169.254.169.254:80
    [ -n "$(unreachable 10.0.4.10)" ] || expect_fail "10.0.4.10 answered before the standby configured it"
    : >"$VM_RUN/standby.conf"
    t0=$(now_s)
    ip netns exec "$STANDBY_NS" env ENIROUTE_LOCK="$VM_RUN/standby.lock" timeout 60 "$ENIROUTE_TESTING" apply \
        --imds-endpoint http://169.254.169.254 --config "$VM_RUN/standby.conf" >"$VM_RUN/standby-apply.log" 2>&1
    rc=$?
    t_apply=$(awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.2f", b - a }')
    [ "$rc" = 0 ] || expect_fail "eniroute apply on the standby exited $rc: $(tail -5 "$VM_RUN/standby-apply.log" | tr '\n' ';')"
    vm_log "standby apply: $(grep -c '^ip ' "$VM_RUN/standby-apply.log") changes ($(grep '^ip ' "$VM_RUN/standby-apply.log" | tr '\n' ';' | cut -c1-400))"
    # Read first, then matched: `ip … | grep -q` under pipefail fails when grep exits before ip.
    rules=$(ip -n "$STANDBY_NS" -4 rule show)
    grep -qE 'from 10\.0\.4\.10 lookup 10001 proto (eniroute|238)' <<<"$rules" ||
        expect_fail "standby: no rule from 10.0.4.10 lookup 10001: $(tr '\n' ';' <<<"$rules")"
    bad=$(unreachable 10.0.4.10 10.0.6.10)
    [ -z "$bad" ] || expect_fail "not reachable on the standby: $bad"
    left=$(g "ip -br link | grep -i '$MAC4'; ip -o -4 address | grep ' 10\.0\.4\.'; ip -4 rule | grep -E 'lookup 10003|10\.0\.4\.'; ip -4 route show table 10003 2>/dev/null; ip -4 route | grep '10\.0\.4\.'; systemctl is-active eniroute@ens6.service | grep -vx inactive; true")
    [ -z "$left" ] || expect_fail "the VM still has objects of ENI 4: $left"
    bad=$(unreachable "${ADDRS_BOOT[@]}")
    [ -z "$bad" ] || expect_fail "the VM's addresses not reachable: $bad"
    step_end "10.0.4.10 answers from the standby after its eniroute apply ($t_apply s, exit $rc), the VM has no object of ENI 4, its ${#ADDRS_BOOT[@]} addresses reachable"
}
