#!/usr/bin/env bash
# make vm-test / vm-smoke: which VM test to run.
#   vm/test.sh                 debian-13, then debian-12 (the EC2-like images, vm/ec2/run.sh)
#   vm/test.sh debian-13|debian-12 [smoke]
#   vm/test.sh minimal         the minimal bookworm image (vm/minimal/run.sh: networkd without
#                              netplan or cloud-init; its IMDS-down boot step)
# VM_ARCH=arm64 runs the minimal test on arm64 (vm/minimal/run.sh arm64) with the suites inside,
# on Debian 13, or on Debian 12 with `vm/test.sh debian-12`.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
case ${VM_ARCH:-amd64} in
amd64) ;;
arm64) exec "$here/minimal/run.sh" arm64 "${1:-debian-13}" ;;
*)
    echo "vm-test: no VM test for VM_ARCH=$VM_ARCH" >&2
    exit 2
    ;;
esac
case ${1:-} in
"")
    rc=0
    "$here/ec2/run.sh" debian-13 || rc=1
    "$here/ec2/run.sh" debian-12 || rc=1
    exit "$rc"
    ;;
minimal) exec "$here/minimal/run.sh" amd64 ;;
debian-13 | debian-12) exec "$here/ec2/run.sh" "$@" ;;
*)
    echo "vm-test: unknown VM_IMAGE '$1' (debian-13, debian-12, minimal)" >&2
    exit 2
    ;;
esac
