# shellcheck shell=bash
# The VM test images (sourced by vm/build-image.sh): one table, so that every image is built by
# the same steps (mmdebstrap base, the .deb installed as an AMI build does, the guest files, ext4).
# Recommends are not installed (mmdebstrap's default); what matters is named explicitly.
#
#   debian-13, debian-12   built like Debian's official EC2 images for networking (kind ec2):
#                          linux-image-amd64 (the generic kernel: the cloud kernel's virtio drivers
#                          would do, but the test agent needs virtio_console), systemd with
#                          networkd (enabled, as debian-cloud-images' 20-enable-systemd-networkd
#                          does), udev, netplan.io and cloud-init with the distribution's own
#                          /etc/cloud/cloud.cfg, no ifupdown; Debian 13 adds systemd-resolved (split
#                          out of systemd) and dhcpcd-base (the client cloud-init 25 runs for its
#                          ephemeral DHCP); Debian 12's cloud-init 22.4 uses isc-dhcp-client.
#   minimal                bookworm amd64 with networkd and nothing else that touches the network
#                          (kind minimal: vm/minimal/guest gives networkd the primary NIC).
#   minimal-arm64          the same on trixie arm64, with what the namespace scenarios and the
#                          fault matrix need in the guest (nftables, ping, socat, curl, jq); its
#                          maintainer scripts run through qemu-user-static (vm/install-deps.sh).
#   minimal-arm64-12       the same on bookworm arm64 (the oldest release the package supports).

# image_config NAME: sets IMAGE_SUITE, IMAGE_ARCH, IMAGE_PACKAGES, IMAGE_KIND (ec2 or minimal),
# IMAGE_CONSOLE (the serial console's tty) and IMAGE_SIZE; fails for an unknown NAME.
image_config() {
    local ec2=linux-image-amd64,systemd-sysv,systemd,udev,dbus,iproute2,procps,kmod,netplan.io,cloud-init,iputils-ping,ca-certificates,apt,e2fsprogs
    local minimal=systemd-sysv,systemd,udev,iproute2,dbus,procps,kmod
    IMAGE_ARCH=amd64 IMAGE_KIND=ec2 IMAGE_CONSOLE=ttyS0 IMAGE_SIZE=3G
    case $1 in
    debian-13)
        IMAGE_SUITE=trixie
        IMAGE_PACKAGES=$ec2,systemd-resolved,dhcpcd-base
        ;;
    debian-12)
        IMAGE_SUITE=bookworm
        IMAGE_PACKAGES=$ec2,isc-dhcp-client
        ;;
    minimal)
        IMAGE_SUITE=bookworm IMAGE_KIND=minimal IMAGE_SIZE=2G
        IMAGE_PACKAGES=linux-image-amd64,$minimal
        ;;
    minimal-arm64 | minimal-arm64-12)
        IMAGE_SUITE=trixie IMAGE_ARCH=arm64 IMAGE_KIND=minimal IMAGE_CONSOLE=ttyAMA0 IMAGE_SIZE=2G
        [ "$1" = minimal-arm64 ] || IMAGE_SUITE=bookworm
        IMAGE_PACKAGES=linux-image-arm64,$minimal,nftables,iputils-ping,socat,curl,jq
        ;;
    *)
        echo "unknown VM image '$1' (debian-13, debian-12, minimal, minimal-arm64, minimal-arm64-12)" >&2
        return 1
        ;;
    esac
}
