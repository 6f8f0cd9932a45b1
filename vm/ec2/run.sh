#!/usr/bin/env bash
# make vm-test VM_IMAGE=debian-13|debian-12 (and make vm-smoke): eniroute on an image built like
# Debian's official EC2 images (vm/ec2/build-image.sh), in a VM that looks like EC2 to cloud-init
# (DMI), with IMDS at 169.254.169.254 (the simulator), the primary's address and MTU 9001 from a
# DHCP server, and a source-checking VPC router; all inside one private network namespace.
#
#   vm/ec2/run.sh IMAGE [smoke]    smoke: first boot and one hot attach only
#
# Prints one `vm-test: PASS|FAIL <image> <step> (<s>): <figures>` line per step and
# `vm-test: N passed, N failed`. Environment as vm/run.sh (ENIROUTE_DEB, ENIROUTE_IMDS_SIM,
# VM_KEEP, VM_SMP; ENIROUTE_TESTING: the test variant the standby instance runs). Logs: .build/vm/last-run-IMAGE/. See docs/vm-test.md.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
start_all=$SECONDS
VM_IMAGE=${1:?usage: vm/ec2/run.sh IMAGE [smoke]}
MODE=${2:-all}

[ "$(id -u)" = 0 ] || { echo "vm-test: needs root (network namespaces and tap devices)" >&2; exit 1; }
"$repo/vm/install-deps.sh" || exit 1
version=$(sed -n 's/^public let eniRouteVersion = "\(.*\)"$/\1/p' "$repo/Sources/ENIRouteCLI/ENIRoute.swift")
: "${ENIROUTE_DEB:=$repo/.build/deb/eniroute_${version}_$(dpkg --print-architecture).deb}"
: "${ENIROUTE_IMDS_SIM:=$repo/.build/release/eniroute-imds-sim}"
[ -f "$ENIROUTE_DEB" ] || { echo "vm-test: no package $ENIROUTE_DEB (make deb)" >&2; exit 1; }
[ -x "$ENIROUTE_IMDS_SIM" ] || { echo "vm-test: no simulator $ENIROUTE_IMDS_SIM (make release)" >&2; exit 1; }
# The standby instance of the "ENI moved to another instance" step runs the test variant (it
# accepts the veth links that stand for ENIs there).
: "${ENIROUTE_TESTING:=$repo/.build/testing/release/eniroute}"
[ "$MODE" = smoke ] || [ -x "$ENIROUTE_TESTING" ] || { echo "vm-test: no test variant $ENIROUTE_TESTING (make testing-eniroute)" >&2; exit 1; }
ENIROUTE_DEB=$(cd "$(dirname "$ENIROUTE_DEB")" && pwd)/$(basename "$ENIROUTE_DEB")
ENIROUTE_IMDS_SIM=$(cd "$(dirname "$ENIROUTE_IMDS_SIM")" && pwd)/$(basename "$ENIROUTE_IMDS_SIM")

t0=$SECONDS
mkdir -p "$repo/.build/vm"
IMG=$("$here/build-image.sh" "$VM_IMAGE" "$ENIROUTE_DEB" 2>"$repo/.build/vm/build-$VM_IMAGE.log" | tail -1) ||
    { tail -20 "$repo/.build/vm/build-$VM_IMAGE.log"; echo "vm-test: image build failed" >&2; exit 1; }
[ -f "$IMG/root.img" ] || { echo "vm-test: image build failed" >&2; exit 1; }
echo "vm-test: $VM_IMAGE image $(basename "$IMG") ($((SECONDS - t0)) s): $(tr '\n' ',' <"$IMG/versions" | sed 's/,$//; s/,/, /g')"

VM_RUN=$repo/.build/vm/last-run-$VM_IMAGE
rm -rf "$VM_RUN"
mkdir -p "$VM_RUN"
VM_NS=eniroute-vm-$$
# shellcheck source=vm/lib.sh
source "$repo/vm/lib.sh"
# shellcheck source=vm/ec2/lib.sh
source "$here/lib.sh"
# shellcheck source=vm/ec2/report.sh
source "$here/report.sh"
# shellcheck source=vm/ec2/steps-boot.sh
source "$here/steps-boot.sh"
# shellcheck source=vm/ec2/steps-events.sh
source "$here/steps-events.sh"
# shellcheck source=vm/ec2/steps-package.sh
source "$here/steps-package.sh"
# shellcheck source=vm/ec2/steps-move.sh
source "$here/steps-move.sh"
trap 'standby_ns_delete; vm_cleanup' EXIT
trap 'exit 130' INT TERM

MAC1=02:00:00:00:01:0a MAC2=02:00:00:00:02:0a MAC3=02:00:00:00:03:0a MAC4=02:00:00:00:04:0a

ec2_ns_create
ec2_allow 0 10.0.1.10 10.0.1.11 10.0.1.12
ec2_allow 1 10.0.2.10 2001:db8:2::10
ec2_allow 2 10.0.3.10
ec2_dhcp_start
ec2_sim_start "$here/scenario.json"
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

vm_agent "journalctl -b -0 --no-pager" 60 && printf '%s\n' "$VM_OUT" >"$VM_RUN/journal-last-boot.txt"
vm_agent "cat /var/log/cloud-init.log" 60 && printf '%s\n' "$VM_OUT" >"$VM_RUN/cloud-init.log"
vm_qmp '{"execute":"quit"}' >/dev/null 2>&1
echo "vm-test: $VM_IMAGE: $PASSED passed, $FAILED failed ($((SECONDS - start_all)) s)"
if [ "$FAILED" -gt 0 ] || [ "${VM_KEEP:-0}" = 1 ]; then
    echo "vm-test: logs in $VM_RUN (console.log, agent.log, qmp.log, sim.log, dhcp.log, cloud-init.log)"
fi
[ "$FAILED" -eq 0 ]
