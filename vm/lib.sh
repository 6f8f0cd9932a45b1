# shellcheck shell=bash
# The host side of every VM test (sourced by vm/minimal/run.sh and vm/ec2/run.sh): the inputs, the
# private network namespaces the VMs live in, the IMDS simulator, QEMU, and two channels into QEMU
# over Unix sockets: QMP (hot-plug) and the guest test agent (a virtio-serial port; protocol in
# vm/guest/usr/local/sbin/eniroute-vm-agent). The PASS/FAIL bookkeeping is vm/report.sh.
#
# NETWORK SAFETY: QEMU, its networks, the simulators and the "VPC router" all live in network
# namespaces this file creates (vm_ns_add asserts each is private before anything configures it)
# and deletes at exit. The root namespace is never configured, and the namespaces have no route
# out, so nothing the guests send can leave them.

VM_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VM_NS=${VM_NS:-eniroute-vm-$$}
VM_PIDS=()
VM_NAMESPACES=()

vm_log() { printf '   %s\n' "$*"; }
vm_die() {
    printf 'vm-test: error: %s\n' "$*" >&2
    exit 1
}

# --- the inputs ------------------------------------------------------------------------------

# vm_inputs ARCH: root, the host's packages (vm/install-deps.sh), and the two inputs every VM test
# takes from the environment, made absolute: ENIROUTE_DEB (default .build/deb/eniroute_<version>_
# ARCH.deb, `make deb`) and ENIROUTE_IMDS_SIM (default .build/release/eniroute-imds-sim).
vm_inputs() {
    local repo=$VM_REPO version
    [ "$(id -u)" = 0 ] || vm_die "needs root (network namespaces and tap devices)"
    "$repo/vm/install-deps.sh" "$1" || exit 1
    version=$(sed -n 's/^public let eniRouteVersion = "\(.*\)"$/\1/p' "$repo/Sources/ENIRouteCLI/ENIRoute.swift")
    : "${ENIROUTE_DEB:=$repo/.build/deb/eniroute_${version}_$1.deb}"
    : "${ENIROUTE_IMDS_SIM:=$repo/.build/release/eniroute-imds-sim}"
    [ -f "$ENIROUTE_DEB" ] || vm_die "no package $ENIROUTE_DEB (make deb, or make deb ARCH=arm64)"
    [ -x "$ENIROUTE_IMDS_SIM" ] || vm_die "no simulator $ENIROUTE_IMDS_SIM (make release)"
    ENIROUTE_DEB=$(cd "$(dirname "$ENIROUTE_DEB")" && pwd)/$(basename "$ENIROUTE_DEB")
    ENIROUTE_IMDS_SIM=$(cd "$(dirname "$ENIROUTE_IMDS_SIM")" && pwd)/$(basename "$ENIROUTE_IMDS_SIM")
}

# vm_image IMAGE: builds (or finds cached) the image with vm/build-image.sh (its log in
# .build/vm/build-IMAGE.log); IMG is its directory.
vm_image() {
    local repo=$VM_REPO t0=$SECONDS log
    log=$repo/.build/vm/build-$1.log
    mkdir -p "$repo/.build/vm"
    IMG=$("$repo/vm/build-image.sh" "$1" "$ENIROUTE_DEB" 2>"$log" | tail -1) ||
        { tail -20 "$log"; vm_die "image build failed"; }
    [ -f "$IMG/root.img" ] || vm_die "image build failed"
    echo "vm-test: $1 image $(basename "$IMG") ($((SECONDS - t0)) s): $(tr '\n' ',' <"$IMG/versions" | sed 's/,$//; s/,/, /g')"
}

# vm_run_dir DIR: the run's logs go to DIR (emptied; VM_RUN).
vm_run_dir() {
    VM_RUN=$1
    rm -rf "$VM_RUN"
    mkdir -p "$VM_RUN"
}

# --- the namespaces --------------------------------------------------------------------------

vm_netns_inode() { ip netns exec "$1" stat -L -c %i /proc/self/ns/net; }

# vm_ns_add NAME: a new network namespace, asserted private: not PID 1's, not this script's, not
# VM_NS (unless it is VM_NS). PID 1's namespace may be unreadable in a sandbox: then the one this
# script runs in is the reference (it is PID 1's or a sandbox's own; neither may be configured).
# Its loopback is up; vm_cleanup deletes it.
vm_ns_add() {
    local inode
    ip netns add "$1" || vm_die "ip netns add $1"
    VM_NAMESPACES+=("$1")
    inode=$(vm_netns_inode "$1")
    if [ -z "$inode" ] || [ "$inode" = "$(stat -L -c %i /proc/1/ns/net 2>/dev/null)" ] ||
        [ "$inode" = "$(stat -L -c %i /proc/$$/ns/net)" ] ||
        { [ "$1" != "$VM_NS" ] && [ "$inode" = "$(vm_netns_inode "$VM_NS")" ]; }; then
        vm_die "namespace $1 is not private (inode $inode): refusing to configure it"
    fi
    ip -n "$1" link set lo up
}

# vm_in_ns COMMAND...: run in the namespace.
vm_in_ns() { ip netns exec "$VM_NS" "$@"; }

vm_cleanup() {
    local pid ns
    for pid in "${VM_PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${VM_PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    VM_PIDS=()
    for ns in "${VM_NAMESPACES[@]}"; do
        ip netns delete "$ns" 2>/dev/null || true
    done
    VM_NAMESPACES=()
}

# --- the IMDS simulator ----------------------------------------------------------------------

# vm_sim_launch NAME NAMESPACE SCENARIO LISTEN: a simulator in NAMESPACE listening on LISTEN
# (ADDRESS:PORT, port 0: a free one), logging to NAME.log; waits until it is ready. SIM_PID is its
# process, SIM_ADDRESS the ADDRESS:PORT it listens on.
vm_sim_launch() {
    local ready=$VM_RUN/$1.ready i
    rm -f "$ready"
    # Not through a function: $! must be the process itself (ip netns exec execs it).
    ip netns exec "$2" "$ENIROUTE_IMDS_SIM" --scenario "$3" --listen "$4" \
        --ready-file "$ready" --verbose >>"$VM_RUN/$1.log" 2>&1 &
    SIM_PID=$!
    VM_PIDS+=("$SIM_PID")
    for i in $(seq 300); do
        [ -s "$ready" ] && break
        kill -0 "$SIM_PID" 2>/dev/null || vm_die "the simulator $1 exited: $(tail -5 "$VM_RUN/$1.log")"
        sleep 0.05
    done
    [ -s "$ready" ] || vm_die "the simulator $1 did not get ready"
    SIM_ADDRESS=$(cat "$ready")
}

# vm_sim_start SCENARIO LISTEN: the VM's simulator in VM_NS (log sim.log); VM_SIM_PID, VM_SIM_PORT.
vm_sim_start() {
    vm_sim_launch sim "$VM_NS" "$1" "$2"
    VM_SIM_PID=$SIM_PID VM_SIM_ADDRESS=$SIM_ADDRESS VM_SIM_PORT=${SIM_ADDRESS##*:}
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
    vm_in_ns curl "${args[@]}" "http://$VM_SIM_ADDRESS$2"
}

# --- QEMU ------------------------------------------------------------------------------------

# vm_qemu_launch QEMU IMAGE_DIR SERIAL_ADDR ARGUMENT...: QEMU (TCG only: /dev/kvm here is a
# hypervisor a stock kernel hangs under) in VM_NS with the image's kernel, initrd and disk, the
# agent's port on a virtio-serial controller at PCI address SERIAL_ADDR, the QMP socket and the
# serial console in VM_RUN; the ARGUMENTs add the machine, -append, the NICs and the disk's device
# (drive id disk). The disk is used with snapshot=on: the cached image is never written; guest
# writes live until QEMU exits.
vm_qemu_launch() {
    local qemu=$1 img=$2 i
    shift 2
    ip netns exec "$VM_NS" "$qemu" -name eniroute-vm -smp "${VM_SMP:-2}" \
        -nodefaults -no-user-config -display none \
        -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
        -drive "file=$img/root.img,if=none,id=disk,format=raw,snapshot=on" \
        -device "virtio-serial-pci,addr=$1" \
        -chardev "socket,id=agent,path=$VM_RUN/agent.sock,server=on,wait=off" \
        -device virtserialport,chardev=agent,name=org.eniroute.vmtest \
        -chardev "file,id=con,path=$VM_RUN/console.log" -serial chardev:con \
        -qmp "unix:$VM_RUN/qmp.sock,server=on,wait=off" \
        "${@:2}" >>"$VM_RUN/qemu.log" 2>&1 &
    VM_QEMU_PID=$!
    VM_PIDS+=("$VM_QEMU_PID")
    for i in $(seq 200); do
        [ -S "$VM_RUN/qmp.sock" ] && [ -S "$VM_RUN/agent.sock" ] && break
        kill -0 "$VM_QEMU_PID" 2>/dev/null || vm_die "QEMU exited: $(tail -5 "$VM_RUN/qemu.log")"
        sleep 0.05
    done
    [ -S "$VM_RUN/qmp.sock" ] || vm_die "QEMU made no QMP socket"
    vm_qmp_open
    vm_agent_open
}

# vm_nic_add N MAC PLACEMENT / vm_nic_del N: hot attach a virtio NIC (id nicN) on tapN of VM_NS,
# PLACEMENT being the JSON members that say where ("bus":"pci.0","addr":"0x6"); hot detach it.
vm_nic_add() {
    vm_qmp "{\"execute\":\"netdev_add\",\"arguments\":{\"type\":\"tap\",\"id\":\"n$1\",\"ifname\":\"tap$1\",\"script\":\"no\",\"downscript\":\"no\"}}" || return 1
    vm_qmp "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtio-net-pci\",\"id\":\"nic$1\",\"netdev\":\"n$1\",\"mac\":\"$2\",$3}}"
}
vm_nic_del() {
    vm_qmp "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"nic$1\"}}" || return 1
    vm_qmp_wait_event "\"DEVICE_DELETED\".*\"device\": *\"nic$1\"" 60 || return 1
    vm_qmp "{\"execute\":\"netdev_del\",\"arguments\":{\"id\":\"n$1\"}}"
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
