# shellcheck shell=bash
# Host side of `make vm-test` (sourced by vm/run.sh): the private network namespace the VM lives
# in, the IMDS simulator, QEMU, and two channels into QEMU over Unix sockets: QMP (hot-plug) and
# the guest test agent (a virtio-serial port; protocol in vm/guest/rootfs/usr/local/sbin/
# eniroute-vm-agent).
#
# NETWORK SAFETY: QEMU, its user-mode network (slirp) with the guestfwd helpers, the simulator
# and the "VPC router" all live in one network namespace this file creates and deletes
# (vm_ns_create asserts it is not the root namespace before configuring it). The root namespace
# is never configured. The guest's 169.254.169.254:80 is forwarded by slirp to the simulator on
# the namespace's own loopback; slirp runs with restrict=on, and the namespace has no route
# anywhere, so nothing the guest sends can leave it.

VM_NS=${VM_NS:-eniroute-vm-$$}
VM_RUN=${VM_RUN:?}
VM_PIDS=()

vm_log() { printf '   %s\n' "$*"; }
vm_die() {
    printf 'vm-test: error: %s\n' "$*" >&2
    exit 1
}

# --- the namespace ---------------------------------------------------------------------------

vm_netns_inode() { ip netns exec "$1" stat -L -c %i /proc/self/ns/net; }

# vm_ns_create: the namespace, asserted private, with the VPC router's side of the ENI ports.
#   lo     127.0.0.1 (simulator), 198.51.100.10/32 (a client on another network)
#   tap1   10.0.2.1/24: ENI 2's subnet (the VM's second NIC at boot)
#   tap2   10.0.3.1/24: ENI 3's subnet (hot-plugged)
# Each tap has the VPC's source/destination check: an nftables netdev ingress chain that drops
# IPv4 packets whose source is not one of that ENI's addresses (sets eni1 and eni2).
vm_ns_create() {
    ip netns add "$VM_NS" || vm_die "ip netns add $VM_NS"
    local inode
    inode=$(vm_netns_inode "$VM_NS")
    # PID 1's namespace may be unreadable in a sandbox: then the one this script runs in is the
    # reference (it is PID 1's or a sandbox's own; neither may be configured).
    if [ -z "$inode" ] || [ "$inode" = "$(stat -L -c %i /proc/1/ns/net 2>/dev/null)" ] ||
        [ "$inode" = "$(stat -L -c %i /proc/$$/ns/net)" ]; then
        vm_die "namespace $VM_NS is not private (inode $inode): refusing to configure it"
    fi
    ip -n "$VM_NS" link set lo up
    ip -n "$VM_NS" address add 198.51.100.10/32 dev lo
    local i
    for i in 1 2; do
        ip -n "$VM_NS" tuntap add dev "tap$i" mode tap
        ip -n "$VM_NS" address add "10.0.$((i + 1)).1/24" dev "tap$i"
        ip -n "$VM_NS" link set "tap$i" up
    done
    ip netns exec "$VM_NS" nft -f - <<'NFT' || vm_die "nftables in $VM_NS"
table netdev vpc {
    set eni1 { type ipv4_addr; elements = { 10.0.2.10 } }
    set eni2 { type ipv4_addr; elements = { 10.0.3.10 } }
    chain tap1 {
        type filter hook ingress device "tap1" priority 0;
        meta protocol ip ip saddr != @eni1 counter drop
    }
    chain tap2 {
        type filter hook ingress device "tap2" priority 0;
        meta protocol ip ip saddr != @eni2 counter drop
    }
}
NFT
}

# vm_in_ns COMMAND...: run in the namespace.
vm_in_ns() { ip netns exec "$VM_NS" "$@"; }

# vm_ping ADDRESS: 3 pings from the client address 198.51.100.10 (another network) through the
# router port; a reply only comes back if the guest sends it out of the ENI that owns ADDRESS
# (its main table's default route leads to the user-mode network) and passes the source check.
vm_ping() { vm_in_ns ping -n -q -c 3 -i 0.3 -W 2 -I 198.51.100.10 "$1" >/dev/null 2>&1; }

vm_cleanup() {
    local pid
    for pid in "${VM_PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${VM_PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    VM_PIDS=()
    ip netns delete "$VM_NS" 2>/dev/null || true
}

# --- the IMDS simulator ----------------------------------------------------------------------

# vm_sim_start SCENARIO: the simulator on the namespace's 127.0.0.1, a free port (VM_SIM_PORT).
vm_sim_start() {
    rm -f "$VM_RUN/sim.ready"
    # Not through a function: $! must be the process itself (ip netns exec execs it).
    ip netns exec "$VM_NS" "$ENIROUTE_IMDS_SIM" --scenario "$1" --listen 127.0.0.1:0 \
        --ready-file "$VM_RUN/sim.ready" --verbose >>"$VM_RUN/sim.log" 2>&1 &
    VM_SIM_PID=$!
    VM_PIDS+=("$VM_SIM_PID")
    local i
    for i in $(seq 300); do
        [ -s "$VM_RUN/sim.ready" ] && break
        kill -0 "$VM_SIM_PID" 2>/dev/null || vm_die "the simulator exited: $(tail -5 "$VM_RUN/sim.log")"
        sleep 0.05
    done
    [ -s "$VM_RUN/sim.ready" ] || vm_die "the simulator did not get ready"
    local ready
    ready=$(cat "$VM_RUN/sim.ready")
    VM_SIM_PORT=${ready##*:}
}

vm_sim_stop() {
    kill "$VM_SIM_PID" 2>/dev/null
    wait "$VM_SIM_PID" 2>/dev/null
    VM_SIM_PID=
}

# vm_sim METHOD PATH [BODY]: a control request (docs/simulator.md); prints the answer.
vm_sim() {
    local args=(-sS --fail-with-body -m 10 -X "$1")
    [ $# -lt 3 ] || args+=(--data-binary "$3")
    vm_in_ns curl "${args[@]}" "http://127.0.0.1:$VM_SIM_PORT$2"
}

# --- QEMU ------------------------------------------------------------------------------------

# vm_qemu_start IMAGE_DIR: boots the image with two NICs:
#   ens3  02:00:00:00:01:0a  user-mode network 169.254.0.0/16 (DHCP gives 169.254.0.10, gateway
#         169.254.0.1), guestfwd 169.254.169.254:80 -> simulator, guestfwd 169.254.0.7:7 -> echo
#   ens4  02:00:00:00:02:0a  tap1 (router port, 10.0.2.0/24)
# TCG only (/dev/kvm here is a hypervisor a stock kernel hangs under). The disk is used with
# snapshot=on: the cached image is never written; guest writes live until QEMU exits.
vm_qemu_start() {
    local img=$1
    local slirp="user,id=n0,net=169.254.0.0/16,host=169.254.0.1,dhcpstart=169.254.0.10,ipv6=off,restrict=on"
    slirp+=",guestfwd=tcp:169.254.169.254:80-cmd:socat - TCP:127.0.0.1:$VM_SIM_PORT"
    slirp+=",guestfwd=tcp:169.254.0.7:7-cmd:cat"
    ip netns exec "$VM_NS" qemu-system-x86_64 -name eniroute-vm -machine pc,accel=tcg -smp "${VM_SMP:-2}" -m 1024 \
        -nodefaults -no-user-config -display none \
        -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
        -append "root=/dev/vda rw console=ttyS0 panic=-1 systemd.show_status=1" \
        -drive "file=$img/root.img,if=none,id=disk,format=raw,snapshot=on" \
        -device virtio-blk-pci,drive=disk,addr=0x6 \
        -netdev "$slirp" -device virtio-net-pci,netdev=n0,mac=02:00:00:00:01:0a,addr=0x3 \
        -netdev tap,id=n1,ifname=tap1,script=no,downscript=no \
        -device virtio-net-pci,netdev=n1,mac=02:00:00:00:02:0a,addr=0x4 \
        -device virtio-serial-pci,addr=0x7 \
        -chardev "socket,id=agent,path=$VM_RUN/agent.sock,server=on,wait=off" \
        -device virtserialport,chardev=agent,name=org.eniroute.vmtest \
        -chardev "file,id=con,path=$VM_RUN/console.log" -serial chardev:con \
        -qmp "unix:$VM_RUN/qmp.sock,server=on,wait=off" \
        >>"$VM_RUN/qemu.log" 2>&1 &
    VM_QEMU_PID=$!
    VM_PIDS+=("$VM_QEMU_PID")
    local i
    for i in $(seq 200); do
        [ -S "$VM_RUN/qmp.sock" ] && [ -S "$VM_RUN/agent.sock" ] && break
        kill -0 "$VM_QEMU_PID" 2>/dev/null || vm_die "QEMU exited: $(tail -5 "$VM_RUN/qemu.log")"
        sleep 0.05
    done
    [ -S "$VM_RUN/qmp.sock" ] || vm_die "QEMU made no QMP socket"
    vm_qmp_open
    vm_agent_open
}

# vm_channel NAME SOCKET: socat between the Unix socket and two FIFOs; the caller's fds
# (opened read-write, so nothing blocks) are NAME.in for writing and NAME.out for reading.
vm_channel() {
    mkfifo "$VM_RUN/$1.in" "$VM_RUN/$1.out"
    socat -b 1048576 "UNIX-CONNECT:$2" - <>"$VM_RUN/$1.in" >"$VM_RUN/$1.out" 2>>"$VM_RUN/$1.err" &
    VM_PIDS+=($!)
}

# --- QMP -------------------------------------------------------------------------------------

vm_qmp_open() {
    vm_channel qmp "$VM_RUN/qmp.sock"
    exec {VM_QMP_W}>"$VM_RUN/qmp.in" {VM_QMP_R}<"$VM_RUN/qmp.out"
    local line
    read -r -t 30 -u "$VM_QMP_R" line || vm_die "no QMP greeting"
    echo "$line" >>"$VM_RUN/qmp.log"
    vm_qmp '{"execute":"qmp_capabilities"}' || vm_die "qmp_capabilities: $VM_QMP_REPLY"
}

# vm_qmp JSON: one command; VM_QMP_REPLY is the answer. Events seen meanwhile go to qmp.events.
vm_qmp() {
    local line
    echo ">> $1" >>"$VM_RUN/qmp.log"
    printf '%s\n' "$1" >&"$VM_QMP_W"
    while read -r -t 60 -u "$VM_QMP_R" line; do
        echo "$line" >>"$VM_RUN/qmp.log"
        case $line in
        '{"return"'*) VM_QMP_REPLY=$line && return 0 ;;
        '{"error"'*) VM_QMP_REPLY=$line && return 1 ;;
        *'"event"'*) echo "$line" >>"$VM_RUN/qmp.events" ;;
        esac
    done
    VM_QMP_REPLY="(no answer)"
    return 1
}

# vm_qmp_wait_event REGEX SECONDS: until an event line matching REGEX arrived (also earlier).
vm_qmp_wait_event() {
    local end=$((SECONDS + $2)) line
    while ! grep -qE "$1" "$VM_RUN/qmp.events" 2>/dev/null; do
        [ $SECONDS -lt $end ] || return 1
        if read -r -t 1 -u "$VM_QMP_R" line; then
            echo "$line" >>"$VM_RUN/qmp.log"
            case $line in *'"event"'*) echo "$line" >>"$VM_RUN/qmp.events" ;; esac
        fi
    done
}

# --- the guest agent -------------------------------------------------------------------------

VM_BOOT_ID=

vm_agent_open() {
    vm_channel agent "$VM_RUN/agent.sock"
    exec {VM_AGENT_W}>"$VM_RUN/agent.in" {VM_AGENT_R}<"$VM_RUN/agent.out"
}

# vm_agent_wait_ready SECONDS: until the agent of a new boot (a boot id other than VM_BOOT_ID)
# says READY; sets VM_BOOT_ID.
vm_agent_wait_ready() {
    local end=$((SECONDS + $1)) line verb id
    while [ $SECONDS -lt $end ]; do
        read -r -t 5 -u "$VM_AGENT_R" line || {
            kill -0 "$VM_QEMU_PID" 2>/dev/null || return 1
            continue
        }
        read -r verb id _ <<<"$line"
        echo "<< ${line:0:200}" >>"$VM_RUN/agent.log"
        if [ "$verb" = READY ] && [ "$id" != "$VM_BOOT_ID" ]; then
            VM_BOOT_ID=$id
            return 0
        fi
    done
    return 1
}

# vm_agent SCRIPT [SECONDS]: runs the bash SCRIPT in the guest as root; VM_OUT is its output
# (stdout and stderr), the return value its exit code (255: no answer in time, default 120 s).
vm_agent() {
    local id=${EPOCHREALTIME/./}$RANDOM end=$((SECONDS + ${2:-120})) line verb got rc b64
    printf '>> [%s] %s\n' "$id" "$1" >>"$VM_RUN/agent.log"
    printf 'RUN %s %s\n' "$id" "$(printf '%s' "$1" | base64 -w0)" >&"$VM_AGENT_W"
    while [ $SECONDS -lt $end ]; do
        read -r -t 5 -u "$VM_AGENT_R" line || continue
        read -r verb got rc b64 <<<"$line"
        if [ "$verb" = DONE ] && [ "$got" = "$id" ]; then
            VM_OUT=$(printf '%s' "$b64" | base64 -d)
            printf '<< [%s] rc=%s\n%s\n' "$id" "$rc" "$VM_OUT" >>"$VM_RUN/agent.log"
            return "$rc"
        fi
        echo "<< (unexpected) ${line:0:200}" >>"$VM_RUN/agent.log"
    done
    VM_OUT="(no answer from the guest agent within ${2:-120} s)"
    echo "<< [$id] $VM_OUT" >>"$VM_RUN/agent.log"
    return 255
}

# vm_guest_wait CONDITION SECONDS: in the guest, until the bash CONDITION holds (checked every
# 0.2 s); VM_OUT is the condition's last output.
vm_guest_wait() {
    vm_agent "end=\$((SECONDS + $2)); while :; do out=\$( { $1 ; } 2>&1) && { echo \"\$out\"; exit 0; }; [ \$SECONDS -lt \$end ] || break; sleep 0.2; done; echo \"\$out\"; exit 1" $(($2 + 60))
}
