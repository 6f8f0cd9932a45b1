#!/usr/bin/env bash
# make vm-test VM_ARCH=arm64: the arm64 package on an arm64 kernel. An arm64 Debian 13 VM under
# qemu-system-aarch64 (TCG, virt machine, Neoverse N1 = Graviton2's core) with the cross-built
# .deb installed boots with two NICs; then a third NIC is hot-plugged, a secondary IP comes and
# goes, and inside the same VM the namespace scenarios and the fault matrix's kernel and process
# cases run with the arm64 test-variant binaries (qemu-user cannot: it does not translate
# rtnetlink rule messages). Prints one PASS/FAIL line per step and `vm-test: N passed, N failed`.
#
# Environment: ENIROUTE_DEB (default .build/deb/eniroute_<version>_arm64.deb, `make deb
# ARCH=arm64`), ENIROUTE_IMDS_SIM (the host's simulator, default .build/release/eniroute-imds-sim),
# VM_SCENARIOS (default all; or filters of tests/integration such as "s01 s05"),
# VM_FAULTS (filters of tests/faults, default f02 f03: kernel and process; `all` adds f01),
# VM_FAULT_KILL_LOOPS (f03's SIGKILL iterations, default 80), VM_KEEP=1 keeps the
# logs (.build/vm/arm64/last-run; always kept on failure), VM_SMP (default 2). Needs root.
#
# NETWORK SAFETY: vm/lib.sh's private namespace holds QEMU, its user network, the simulator and
# the "VPC router"; the guest's own scenarios make their namespaces inside the guest.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
repo=$(cd "$vm/.." && pwd)
start_all=$SECONDS

[ "$(id -u)" = 0 ] || { echo "vm-test: needs root (network namespaces and tap devices)" >&2; exit 1; }
"$here/install-deps.sh" || exit 1

version=$(sed -n 's/^public let eniRouteVersion = "\(.*\)"$/\1/p' "$repo/Sources/ENIRouteCLI/ENIRoute.swift")
: "${ENIROUTE_DEB:=$repo/.build/deb/eniroute_${version}_arm64.deb}"
: "${ENIROUTE_IMDS_SIM:=$repo/.build/release/eniroute-imds-sim}"
: "${VM_SCENARIOS:=all}"
: "${VM_FAULTS:=f02 f03}"
: "${VM_FAULT_KILL_LOOPS:=80}"
[ -f "$ENIROUTE_DEB" ] || { echo "vm-test: no package $ENIROUTE_DEB (make deb ARCH=arm64)" >&2; exit 1; }
[ -x "$ENIROUTE_IMDS_SIM" ] || { echo "vm-test: no simulator $ENIROUTE_IMDS_SIM (make release)" >&2; exit 1; }
ENIROUTE_IMDS_SIM=$(cd "$(dirname "$ENIROUTE_IMDS_SIM")" && pwd)/$(basename "$ENIROUTE_IMDS_SIM")

img=$("$here/build-image.sh" "$ENIROUTE_DEB" | tail -1) || { echo "vm-test: image build failed" >&2; exit 1; }
[ -f "$img/root.img" ] || { echo "vm-test: image build failed" >&2; exit 1; }
bins=$("$here/build-test-binaries.sh" | tail -1) || { echo "vm-test: test binaries failed" >&2; exit 1; }
[ -x "$bins/eniroute" ] && [ -x "$bins/eniroute-imds-sim" ] || { echo "vm-test: no test binaries in $bins" >&2; exit 1; }
echo "vm-test: arm64 image $img (eniroute $(cat "$img/eniroute-version"), test binaries $(readelf -h "$bins/eniroute" | sed -n "s/^ *Machine: *//p"))"

VM_RUN=$repo/.build/vm/arm64/last-run
rm -rf "$VM_RUN"
mkdir -p "$VM_RUN/payload/bin"
# The payload disk: the arm64 test binaries and the suites, read-only in the guest at /payload.
cp "$bins/eniroute" "$bins/eniroute-imds-sim" "$VM_RUN/payload/bin/"
mkdir -p "$VM_RUN/payload/tests"
cp -a "$repo/tests/integration" "$repo/tests/faults" "$repo/tests/lib" "$repo/tests/scenarios" "$VM_RUN/payload/tests/"
mkfs.ext4 -q -F -L eniroute-payload -E root_owner=0:0 -d "$VM_RUN/payload" "$VM_RUN/payload.img" 256M ||
    { echo "vm-test: payload disk" >&2; exit 1; }
rm -rf "$VM_RUN/payload"

# shellcheck source=vm/lib.sh
source "$vm/lib.sh"
# shellcheck source=vm/arm64/steps.sh
source "$here/steps.sh"
trap 'vm_cleanup' EXIT
trap 'exit 130' INT TERM

# vm_qemu_start (arm64): the virt machine, the same NICs and channels as vm/lib.sh's x86 VM; the
# third NIC is hot-plugged into a PCIe root port (the root bus of virt has no hot-plug).
vm_qemu_start() {
    local img=$1
    local slirp="user,id=n0,net=169.254.0.0/16,host=169.254.0.1,dhcpstart=169.254.0.10,ipv6=off,restrict=on"
    slirp+=",guestfwd=tcp:169.254.169.254:80-cmd:socat - TCP:127.0.0.1:$VM_SIM_PORT"
    slirp+=",guestfwd=tcp:169.254.0.7:7-cmd:cat"
    ip netns exec "$VM_NS" qemu-system-aarch64 -name eniroute-vm-arm64 -machine virt,accel=tcg -cpu neoverse-n1 \
        -smp "${VM_SMP:-2}" -m 2048 -nodefaults -no-user-config -display none \
        -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
        -append "root=/dev/vda rw console=ttyAMA0 panic=-1 systemd.show_status=1" \
        -drive "file=$img/root.img,if=none,id=disk,format=raw,snapshot=on" -device virtio-blk-pci,drive=disk,addr=0x6 \
        -drive "file=$VM_RUN/payload.img,if=none,id=payload,format=raw,readonly=on" \
        -device virtio-blk-pci,drive=payload,addr=0x8 \
        -netdev "$slirp" -device virtio-net-pci,netdev=n0,mac=$MAC1,addr=0x3 \
        -netdev tap,id=n1,ifname=tap1,script=no,downscript=no -device virtio-net-pci,netdev=n1,mac=$MAC2,addr=0x4 \
        -device pcie-root-port,id=rp5,chassis=5,addr=0x5 \
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

vm_ns_create
vm_sim_start "$vm/scenario.json"
vm_log "namespace $VM_NS, simulator on 127.0.0.1:$VM_SIM_PORT (inside it), logs in $VM_RUN"

step_cold_boot || {
    echo "vm-test: $PASSED passed, $((FAILED + 1)) failed (no boot)"
    exit 1
}
step_hot_plug
step_secondary_ip
step_apply_timing
for s in $( (cd "$repo/tests/integration" && ls s[0-9][0-9]-*.sh) ); do
    name=${s%.sh}
    [ "$VM_SCENARIOS" = all ] || grep -qw "${name%%-*}" <<<"$VM_SCENARIOS" || continue
    step_suite integration "$name"
done
for f in $( (cd "$repo/tests/faults" && ls f[0-9][0-9]-*.sh) ); do
    name=${f%.sh}
    [ "$VM_FAULTS" = all ] || grep -qw "${name%%-*}" <<<"$VM_FAULTS" || continue
    step_suite faults "$name"
done

vm_agent "journalctl -b -0 --no-pager" 60 && printf '%s\n' "$VM_OUT" >"$VM_RUN/journal.txt"
vm_qmp '{"execute":"quit"}' >/dev/null 2>&1
echo "vm-test: $PASSED passed, $FAILED failed ($((SECONDS - start_all)) s)"
if [ "$FAILED" -gt 0 ] || [ "${VM_KEEP:-0}" = 1 ]; then
    echo "vm-test: logs in $VM_RUN (console.log, agent.log, qmp.log, sim.log, suites/)"
else
    rm -f "$VM_RUN/payload.img"
fi
[ "$FAILED" -eq 0 ]
