#!/usr/bin/env bash
# make vm-test / vm-smoke: which VM test to run.
#   vm/test.sh                 debian-13, then debian-12 (the EC2-like images, vm/ec2/run.sh)
#   vm/test.sh debian-13|debian-12 [smoke]
#   vm/test.sh minimal         the hand-made bookworm image (vm/run.sh: networkd without netplan
#                              or cloud-init; its IMDS-down boot step)
# VM_ARCH=<arch> (not amd64) runs vm/<arch>/run.sh with the same arguments when it exists.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ "${VM_ARCH:-amd64}" != amd64 ]; then
    [ -x "$here/${VM_ARCH}/run.sh" ] || { echo "vm-test: no VM test for VM_ARCH=$VM_ARCH" >&2; exit 2; }
    exec "$here/${VM_ARCH}/run.sh" "$@"
fi
case ${1:-} in
"")
    rc=0
    "$here/ec2/run.sh" debian-13 || rc=1
    "$here/ec2/run.sh" debian-12 || rc=1
    exit "$rc"
    ;;
minimal) exec "$here/run.sh" ;;
debian-13 | debian-12) exec "$here/ec2/run.sh" "$@" ;;
*)
    echo "vm-test: unknown VM_IMAGE '$1' (debian-13, debian-12, minimal)" >&2
    exit 2
    ;;
esac
