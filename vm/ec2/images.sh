# shellcheck shell=bash
# The images `make vm-test VM_IMAGE=...` builds (sourced by vm/ec2/build-image.sh and run.sh):
# what debian-cloud-images puts into an EC2 image that matters for networking, nothing of the
# desktop or the tools an AMI adds for people logging in. Recommends are not installed (as
# mmdebstrap does by default); the DHCP client cloud-init uses is named explicitly.
#
#   suite     the Debian release
#   packages  linux-image-amd64 (the generic kernel: the cloud kernel's virtio drivers would do,
#             but the test agent needs virtio_console), systemd with networkd (enabled, as
#             debian-cloud-images' 20-enable-systemd-networkd does), udev, netplan.io and
#             cloud-init with the distribution's own /etc/cloud/cloud.cfg, no ifupdown;
#             Debian 13 adds systemd-resolved (split out of systemd) and dhcpcd-base (the client
#             cloud-init 25 runs for its ephemeral DHCP); Debian 12's cloud-init 22.4 uses
#             isc-dhcp-client.

# image_config NAME: sets IMAGE_SUITE and IMAGE_PACKAGES; fails for an unknown NAME.
image_config() {
    local common=linux-image-amd64,systemd-sysv,systemd,udev,dbus,iproute2,procps,kmod,netplan.io,cloud-init,iputils-ping,ca-certificates,apt,e2fsprogs
    case $1 in
    debian-13)
        IMAGE_SUITE=trixie
        IMAGE_PACKAGES=$common,systemd-resolved,dhcpcd-base
        ;;
    debian-12)
        IMAGE_SUITE=bookworm
        IMAGE_PACKAGES=$common,isc-dhcp-client
        ;;
    *)
        echo "unknown VM_IMAGE '$1' (debian-13, debian-12, minimal)" >&2
        return 1
        ;;
    esac
}
