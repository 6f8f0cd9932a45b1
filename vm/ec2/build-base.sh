#!/usr/bin/env bash
# The cached base root of an EC2-like image (stage 1 of vm/ec2/build-image.sh): mmdebstrap of
# the image's suite with its package list (vm/ec2/images.sh), as a tarball under .build/vm/.
#   vm/ec2/build-base.sh IMAGE    prints the tarball's path last
# Cold: 3-8 min per image on 2 shared cores (downloads ~250 MB); cached afterwards (keyed on the
# suite and the package list).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${ENIROUTE_VM_CACHE:-$repo/.build/vm}
# shellcheck source=vm/ec2/images.sh
source "$here/images.sh"
image_config "${1:?usage: vm/ec2/build-base.sh IMAGE}"
key=$(printf 'v1 %s %s\n' "$IMAGE_SUITE" "$IMAGE_PACKAGES" | sha256sum | cut -c1-12)
base=$cache/base-$1-$key.tar
mkdir -p "$cache"
if [ ! -f "$base" ]; then
    echo "build-base: making $(basename "$base") with mmdebstrap ($IMAGE_SUITE; a few minutes; cached)" >&2
    start=$SECONDS
    mmdebstrap --quiet --variant=minbase --include="$IMAGE_PACKAGES" --format=tar \
        "$IMAGE_SUITE" "$base.tmp.$$" >&2
    mv "$base.tmp.$$" "$base"
    echo "build-base: $(basename "$base") in $((SECONDS - start)) s ($(du -m "$base" | cut -f1) MB)" >&2
fi
echo "$base"
