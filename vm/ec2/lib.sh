# shellcheck shell=bash
# Host side of the EC2-like VM test (sourced by vm/ec2/run.sh after vm/lib.sh, whose namespace,
# simulator, QEMU, QMP, agent and cleanup functions it uses): the "VPC" namespace with its router ports, the DHCP server of
# the primary subnet, the IMDS simulator at 169.254.169.254, QEMU made to look like EC2, and the
# continuous ping.
#
# NETWORK SAFETY: everything lives in one network namespace created here (asserted not to be the
# root namespace or this script's) and deleted at exit: QEMU, its taps, dnsmasq, the simulator
# (169.254.169.254 on that namespace's loopback) and the pings. The root namespace is never
# configured; nothing is routed out of the namespace (it has no route anywhere).
#
# The VPC, one subnet per ENI, each a tap (router side .1, MTU 9001, source/destination check):
#   tap0  10.0.1.0/24  ENI 1, primary, 02:00:00:00:01:0a: 10.0.1.10 by DHCP (dnsmasq, MTU 9001),
#                      secondary IPs 10.0.1.11, 10.0.1.12 (eniroute adds them)
#   tap1  10.0.2.0/24  ENI 2, 02:00:00:00:02:0a: 10.0.2.10 and 2001:db8:2::10 (router fe80:ec2::1)
#   tap2  10.0.3.0/24  ENI 3, 02:00:00:00:03:0a: 10.0.3.10
#   tap3  10.0.4.0/24  ENI 4, 02:00:00:00:04:0a: 10.0.4.10 (hot-attached; later moved to the standby)
#   tap4  (10.0.3.0/24) ENI 5, 02:00:00:00:05:0a: 10.0.3.20, in ENI 3's subnet (host routes only;
#                      hot-attached for the secondary-IP move, vm/ec2/steps-move.sh)
#   sb0, sb1           veths to the standby instance's namespace (ENI 4 moved there)
#   lo    169.254.169.254 (IMDS), 198.51.100.10 and 2001:db8:ff::10 (a client on another network)

EC2_TAPS=5
EC2_MTU=9001
EC2_CLIENT4=198.51.100.10
EC2_CLIENT6=2001:db8:ff::10

# ec2_ns_create: the namespace, asserted private, with the router's ports and source checks.
ec2_ns_create() {
    local i
    vm_ns_add "$VM_NS"
    ip -n "$VM_NS" address add 169.254.169.254/32 dev lo
    ip -n "$VM_NS" address add "$EC2_CLIENT4/32" dev lo
    ip -n "$VM_NS" address add "$EC2_CLIENT6/128" dev lo nodad
    for ((i = 0; i < EC2_TAPS; i++)); do
        ip -n "$VM_NS" tuntap add dev "tap$i" mode tap
        ip -n "$VM_NS" link set "tap$i" mtu "$EC2_MTU" up
        ip -n "$VM_NS" address add "10.0.$((i + 1)).1/24" dev "tap$i"
        ip netns exec "$VM_NS" sysctl -qw "net.ipv6.conf.tap$i.accept_dad=0" "net.ipv6.conf.tap$i.accept_ra=0"
        ip -n "$VM_NS" address add fe80:ec2::1/64 dev "tap$i" nodad
    done
    ip -n "$VM_NS" route add 2001:db8:2::/64 dev tap1
    # The source/destination check: IPv4 from an ENI's own addresses only (DHCP's 0.0.0.0 aside),
    # IPv6 from its addresses, link-local and unspecified (neighbour discovery).
    {
        echo "add table netdev vpc"
        for ((i = 0; i < EC2_TAPS; i++)); do
            echo "add set netdev vpc eni${i}_v4 { type ipv4_addr; }"
            echo "add set netdev vpc eni${i}_v6 { type ipv6_addr; }"
            echo "add chain netdev vpc tap$i { type filter hook ingress device \"tap$i\" priority 0; }"
            echo "add rule netdev vpc tap$i meta protocol ip ip saddr != @eni${i}_v4 ip saddr != 0.0.0.0 counter drop"
            echo "add rule netdev vpc tap$i meta protocol ip6 ip6 saddr != @eni${i}_v6 ip6 saddr != { fe80::/10, :: } counter drop"
        done
    } | ip netns exec "$VM_NS" nft -f - || vm_die "nftables in $VM_NS"
}

# ec2_allow ENI_INDEX ADDRESS... / ec2_disallow: the router's source check accepts ADDRESS from
# that ENI's port (as when the VPC assigns or unassigns the address), or no longer.
ec2_allow() { ec2_source_check add "$@"; }
ec2_disallow() { ec2_source_check delete "$@"; }
ec2_source_check() {
    local verb=$1 i=$2 a family
    shift 2
    for a in "$@"; do
        if [[ $a == *:* ]]; then family=v6; else family=v4; fi
        vm_in_ns nft "$verb" element netdev vpc "eni${i}_$family" "{ $a }"
    done
}

# ec2_dhcp_start: dnsmasq on every port (no DNS): a lease for the primary ENI only, on tap0, with
# the subnet's router and MTU 9001, as EC2's DHCP gives; a DHCP request on another port finds no
# range and is logged (dhcp.log), which is how a DHCP probe on a secondary ENI is seen.
ec2_dhcp_start() {
    local ifaces=() i
    for ((i = 0; i < EC2_TAPS; i++)); do ifaces+=(--interface="tap$i"); done
    ip netns exec "$VM_NS" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --port=0 \
        --user=root --group=root --bind-interfaces "${ifaces[@]}" --except-interface=lo \
        --dhcp-range=tap0,10.0.1.10,10.0.1.10,255.255.255.0,1h --dhcp-host="$MAC1,10.0.1.10" \
        --dhcp-option=tap0,option:router,10.0.1.1 --dhcp-option=tap0,option:mtu,"$EC2_MTU" \
        --dhcp-authoritative --log-dhcp --log-facility="$VM_RUN/dhcp.log" \
        --dhcp-leasefile="$VM_RUN/dhcp.leases" --pid-file= >>"$VM_RUN/dhcp.out" 2>&1 &
    VM_PIDS+=($!)
}

# ec2_qemu_start IMAGE_DIR: boots the image with the three ENIs of the first boot. DMI says
# Amazon EC2 (system vendor, a product UUID and serial starting with "ec2"), which is what
# cloud-init's ds-identify and Ec2 datasource look at: no datasource_list is forced.
ec2_qemu_start() {
    local img=$1 i nics=()
    for i in 0 1 2; do
        nics+=(-netdev "tap,id=n$i,ifname=tap$i,script=no,downscript=no"
            -device "virtio-net-pci,netdev=n$i,mac=02:00:00:00:0$((i + 1)):0a,addr=0x$((i + 3)),id=nic$i")
    done
    vm_qemu_launch qemu-system-x86_64 "$img" 0x11 -machine pc,accel=tcg -m 1536 \
        -smbios "type=1,manufacturer=Amazon EC2,product=c5.xlarge,serial=ec2d9f0a-1b2c-3d4e-5f60-718293a4b5c6,uuid=ec2d9f0a-1b2c-3d4e-5f60-718293a4b5c6" \
        -append "root=/dev/vda rw console=ttyS0 panic=-1" \
        -device virtio-blk-pci,drive=disk,addr=0x10 "${nics[@]}"
}

# ec2_nic_add N / ec2_nic_del N: hot attach / detach the NIC on tapN (slot 3+N, MAC 02:..:0N+1:0a).
ec2_nic_add() { vm_nic_add "$1" "02:00:00:00:0$(($1 + 1)):0a" "\"bus\":\"pci.0\",\"addr\":\"0x$(($1 + 3))\""; }
ec2_nic_del() { vm_nic_del "$1"; }

# --- the continuous ping ---------------------------------------------------------------------

# ping_start ADDRESS...: one ping per ADDRESS, 10 per second, from the client on another network
# through the router (so a reply needs the guest to send it out of the ENI that owns ADDRESS).
PING_PIDS=()
PING_ADDRS=()
ping_start() {
    local a src
    PING_PIDS=() PING_ADDRS=("$@")
    rm -f "$VM_RUN"/ping-*.log
    for a in "$@"; do
        if [[ $a == *:* ]]; then src=$EC2_CLIENT6; else src=$EC2_CLIENT4; fi
        ip netns exec "$VM_NS" ping -n -O -i 0.1 -W 1 -I "$src" "$a" >"$VM_RUN/ping-$a.log" 2>&1 &
        PING_PIDS+=($!)
    done
}

# ping_settle: waits until every ping has sent 30 more requests (3 s) than when called, so that
# an event's figures always cover a few seconds after it (a condition on the pings, not a sleep).
ping_settle() {
    local a want=() i=0 n end=$((SECONDS + 30))
    for a in "${PING_ADDRS[@]}"; do want+=($(($(ping_seq "$a") + 30))); done
    for a in "${PING_ADDRS[@]}"; do
        while n=$(ping_seq "$a"); [ "$n" -lt "${want[$i]}" ] && [ $SECONDS -lt $end ]; do sleep 0.1; done
        i=$((i + 1))
    done
}
# ping_seq ADDRESS: the highest sequence number its ping has logged.
ping_seq() {
    local n
    n=$(grep -o 'icmp_seq=[0-9]*' "$VM_RUN/ping-$1.log" 2>/dev/null | cut -d= -f2 | sort -n | tail -1)
    echo "${n:-0}"
}

# ping_stop: stops the pings; PING_LOST is "ADDRESS=N ..." (N: requests without a reply, the
# last second's still in flight excluded), PING_LOST_TOTAL the sum, PING_SENT the requests.
ping_stop() {
    local pid a i=0 n max
    ping_settle
    for pid in "${PING_PIDS[@]}"; do kill -INT "$pid" 2>/dev/null; done
    for pid in "${PING_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    PING_LOST= PING_LOST_TOTAL=0 PING_SENT=0
    for a in "${PING_ADDRS[@]}"; do
        max=$(grep -o 'icmp_seq=[0-9]*' "$VM_RUN/ping-$a.log" | cut -d= -f2 | sort -n | tail -1)
        max=$((${max:-0} - 10))
        n=0
        if [ "$max" -gt 0 ]; then
            n=$(awk -v max="$max" '/bytes from/ { if (match($0, /icmp_seq=[0-9]+/)) { s = substr($0, RSTART + 9, RLENGTH - 9) + 0; if (s <= max) got[s] = 1 } }
                END { c = 0; for (i = 1; i <= max; i++) if (!(i in got)) c++; print c }' "$VM_RUN/ping-$a.log")
            PING_SENT=$((PING_SENT + max))
        fi
        PING_LOST+="$a=$n "
        PING_LOST_TOTAL=$((PING_LOST_TOTAL + n))
        i=$((i + 1))
    done
    PING_LOST=${PING_LOST% }
}
