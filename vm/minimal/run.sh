#!/usr/bin/env bash
# make vm-test VM_IMAGE=minimal, and make vm-test VM_ARCH=arm64: eniroute as an AMI user gets it,
# in a real Debian VM (QEMU TCG) whose only network manager is systemd-networkd (no netplan, no
# cloud-init): the .deb installed into the image, udev, systemd, NIC hot-plug, a networkd
# restart, reboots, a boot without IMDS (the one step the EC2-like images of vm/ec2 do not have).
#
#   vm/minimal/run.sh [amd64|arm64 [debian-13|debian-12]]
#
# amd64: bookworm on the pc machine. arm64: the arm64 package (make deb ARCH=arm64) on trixie
# (or bookworm) arm64 under qemu-system-aarch64 (virt machine, Neoverse N1 = Graviton2's core), the same steps,
# then the namespace scenarios and the kernel and process faults inside the VM with the arm64
# test variant (vm/arm64/steps.sh, docs/arm64.md).
# Prints one `vm-test: PASS|FAIL <label> <step> (<s>)` line per step and `vm-test: <label>: N
# passed, N failed (S s)`; exits 1 if any failed. Environment: ENIROUTE_DEB, ENIROUTE_IMDS_SIM
# (vm/lib.sh's vm_inputs), VM_KEEP=1 keeps the logs (.build/vm/last-run-<image>/) also when
# everything passed (they are always kept on failure), VM_SMP (guest CPUs, default 2). Needs root.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
VM_ARCH=${1:-amd64}
case $VM_ARCH in
amd64) image=minimal VM_LABEL=minimal SLOW=1 ;;
arm64)
    case ${2:-debian-13} in
    debian-13) image=minimal-arm64 VM_LABEL=arm64 ;;
    debian-12) image=minimal-arm64-12 VM_LABEL=arm64-debian-12 ;;
    *) echo "vm-test: no arm64 VM test for '$2' (debian-13, debian-12)" >&2 && exit 2 ;;
    esac
    SLOW=2
    ;;
*) echo "vm-test: no minimal VM test for $VM_ARCH" >&2 && exit 2 ;;
esac
# shellcheck source=vm/lib.sh
source "$repo/vm/lib.sh"
# shellcheck source=vm/report.sh
source "$repo/vm/report.sh"
# shellcheck source=vm/minimal/lib.sh
source "$here/lib.sh"
# shellcheck source=vm/minimal/steps.sh
source "$here/steps.sh"
# shellcheck source=vm/arm64/steps.sh
source "$repo/vm/arm64/steps.sh"

vm_inputs "$VM_ARCH"
vm_image "$image"
vm_run_dir "$repo/.build/vm/last-run-$image"
[ "$VM_ARCH" != arm64 ] || arm64_payload
trap 'vm_cleanup' EXIT
trap 'exit 130' INT TERM

minimal_ns_create
vm_sim_start "$here/scenario.json" 127.0.0.1:0
vm_log "namespace $VM_NS, simulator on $VM_SIM_ADDRESS (inside it), logs in $VM_RUN"

STEP_NO=0
if step_cold_boot $((++STEP_NO)); then
    step_hot_plug $((++STEP_NO))
    step_secondary_ip $((++STEP_NO))
    [ "$VM_ARCH" != arm64 ] || step_apply_timing $((++STEP_NO))
    step_networkd $((++STEP_NO))
    step_hot_unplug $((++STEP_NO))
    step_reboot $((++STEP_NO))
    step_no_imds $((++STEP_NO))
    [ "$VM_ARCH" != arm64 ] || arm64_suites
fi
vm_finish "console.log, agent.log, qmp.log, sim.log$([ "$VM_ARCH" != arm64 ] || echo ', suites/')"
rc=$?
[ "$rc" != 0 ] || [ "${VM_KEEP:-0}" = 1 ] || rm -f "$VM_RUN/payload.img"
exit "$rc"
