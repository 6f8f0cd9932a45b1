#!/usr/bin/env bash
# make vm-test VM_IMAGE=debian-13|debian-12 (and make vm-smoke): eniroute on an image built like
# Debian's official EC2 images (vm/build-image.sh), in a VM that looks like EC2 to cloud-init
# (DMI), with IMDS at 169.254.169.254 (the simulator), the primary's address and MTU 9001 from a
# DHCP server, and a source-checking VPC router; all inside one private network namespace.
#
#   vm/ec2/run.sh IMAGE [smoke]    smoke: first boot and one hot attach only
#
# Prints one `vm-test: PASS|FAIL <image> <step> (<s>): <figures>` line per step and
# `vm-test: <image>: N passed, N failed (S s)`. Environment: ENIROUTE_DEB, ENIROUTE_IMDS_SIM
# (vm/lib.sh's vm_inputs), ENIROUTE_TESTING (the test variant the standby instance runs), VM_KEEP=1
# (keep the logs in .build/vm/last-run-IMAGE/ also when all passed), VM_SMP. See docs/vm-test.md.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
VM_IMAGE=${1:?usage: vm/ec2/run.sh IMAGE [smoke]}
MODE=${2:-all}
VM_LABEL=$VM_IMAGE
# shellcheck source=vm/lib.sh
source "$repo/vm/lib.sh"
# shellcheck source=vm/report.sh
source "$repo/vm/report.sh"
# shellcheck source=vm/ec2/lib.sh
source "$here/lib.sh"
# shellcheck source=vm/ec2/state.sh
source "$here/state.sh"
# shellcheck source=vm/ec2/steps-boot.sh
source "$here/steps-boot.sh"
# shellcheck source=vm/ec2/steps-events.sh
source "$here/steps-events.sh"
# shellcheck source=vm/ec2/steps-package.sh
source "$here/steps-package.sh"
# shellcheck source=vm/ec2/steps-move.sh
source "$here/steps-move.sh"

vm_inputs amd64
# The standby instance of the "ENI moved to another instance" step runs the test variant (it
# accepts the veth links that stand for ENIs there).
: "${ENIROUTE_TESTING:=$repo/.build/testing/release/eniroute}"
[ "$MODE" = smoke ] || [ -x "$ENIROUTE_TESTING" ] || vm_die "no test variant $ENIROUTE_TESTING (make testing-eniroute)"
vm_image "$VM_IMAGE"
vm_run_dir "$repo/.build/vm/last-run-$VM_IMAGE"
trap 'vm_cleanup' EXIT
trap 'exit 130' INT TERM

MAC1=02:00:00:00:01:0a MAC2=02:00:00:00:02:0a MAC3=02:00:00:00:03:0a MAC4=02:00:00:00:04:0a

ec2_ns_create
ec2_allow 0 10.0.1.10 10.0.1.11 10.0.1.12
ec2_allow 1 10.0.2.10 2001:db8:2::10
ec2_allow 2 10.0.3.10
ec2_dhcp_start
vm_sim_start "$here/scenario.json" 169.254.169.254:80
vm_log "namespace $VM_NS, IMDS simulator at 169.254.169.254:80 inside it, logs in $VM_RUN"

ADDRS_NOW=("${ADDRS_BOOT[@]}")
if step_first_boot; then
    step_hot_attach
    ADDRS_NOW=("${ADDRS_BOOT[@]}" 10.0.4.10)
    if [ "$MODE" != smoke ]; then
        step_mtu 3
        step_network_event 4 "netplan apply"
        step_network_event 5 "networkctl reconfigure ens3"
        step_network_event 6 "systemctl restart systemd-networkd"
        step_network_event 7 "networkctl renew ens3"
        step_secondary_ips 8
        step_secondary_ip_move 9
        step_hot_detach 10
        step_eni_moved 11
        step_reboot 12
        step_upgrade 13
        step_purge 14
    fi
fi

vm_agent "cat /var/log/cloud-init.log" 60 && printf '%s\n' "$VM_OUT" >"$VM_RUN/cloud-init.log"
vm_finish "console.log, agent.log, qmp.log, sim.log, dhcp.log, cloud-init.log"
