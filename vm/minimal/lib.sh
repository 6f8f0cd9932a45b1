# shellcheck shell=bash
# Host side of the minimal VM test (sourced by vm/minimal/run.sh after vm/lib.sh): the router's
# ports in VM_NS and QEMU for the architecture under test. The VM's primary NIC is on QEMU's user
# network (slirp, restrict=on: nothing leaves it) inside VM_NS; slirp forwards the guest's
# 169.254.169.254:80 to the simulator on VM_NS's loopback.

# minimal_ns_create: VM_NS, asserted private, with the VPC router's side of the ENI ports.
#   lo     127.0.0.1 (simulator), 198.51.100.10/32 (a client on another network)
#   tap1   10.0.2.1/24: ENI 2's subnet (the VM's second NIC at boot)
#   tap2   10.0.3.1/24: ENI 3's subnet (hot-plugged)
# Each tap has the VPC's source/destination check: an nftables netdev ingress chain that drops
# IPv4 packets whose source is not one of that ENI's addresses (sets eni1 and eni2).
minimal_ns_create() {
    local i
    vm_ns_add "$VM_NS"
    ip -n "$VM_NS" address add 198.51.100.10/32 dev lo
    for i in 1 2; do
        ip -n "$VM_NS" tuntap add dev "tap$i" mode tap
        ip -n "$VM_NS" address add "10.0.$((i + 1)).1/24" dev "tap$i"
        ip -n "$VM_NS" link set "tap$i" up
    done
    vm_in_ns nft -f - <<'NFT' || vm_die "nftables in $VM_NS"
table netdev vpc {
    set eni1 { type ipv4_addr; elements = { 10.0.2.10 } }
    set eni2 { type ipv4_addr; elements = { 10.0.3.10 } }
    chain tap1 {
        type filter hook ingress device "tap1" priority 0;
        meta protocol ip ip saddr != @eni1 counter drop
    }
    chain tap2 {
        type filter hook ingress device "tap2" priority 0;
        meta protocol ip ip saddr != @eni2 counter drop
    }
}
NFT
}

# vm_ping ADDRESS: 3 pings from the client address 198.51.100.10 (another network) through the
# router port; a reply only comes back if the guest sends it out of the ENI that owns ADDRESS
# (its main table's default route leads to the user-mode network) and passes the source check.
vm_ping() { vm_in_ns ping -n -q -c 3 -i 0.3 -W 2 -I 198.51.100.10 "$1" >/dev/null 2>&1; }

# minimal_qemu_start IMAGE_DIR: boots the image of VM_ARCH with two NICs:
#   1st  02:00:00:00:01:0a  user-mode network 169.254.0.0/16 (DHCP gives 169.254.0.10, gateway
#        169.254.0.1), guestfwd 169.254.169.254:80 -> simulator, guestfwd 169.254.0.7:7 -> echo
#   2nd  02:00:00:00:02:0a  tap1 (router port, 10.0.2.0/24)
# amd64: the pc machine; arm64: the virt machine with a Neoverse N1 (Graviton2's core), a PCIe
# root port for the hot-plugged NIC (virt's root bus has no hot-plug) and the payload disk of
# vm/arm64/steps.sh. NIC_PLACEMENT says where a hot-plugged NIC goes.
minimal_qemu_start() {
    local img=$1 slirp
    slirp="user,id=n0,net=169.254.0.0/16,host=169.254.0.1,dhcpstart=169.254.0.10,ipv6=off,restrict=on"
    slirp+=",guestfwd=tcp:169.254.169.254:80-cmd:socat - TCP:127.0.0.1:$VM_SIM_PORT"
    slirp+=",guestfwd=tcp:169.254.0.7:7-cmd:cat"
    local nics=(-netdev "$slirp" -device "virtio-net-pci,netdev=n0,mac=$MAC1,addr=0x3"
        -netdev tap,id=n1,ifname=tap1,script=no,downscript=no -device "virtio-net-pci,netdev=n1,mac=$MAC2,addr=0x4")
    if [ "$VM_ARCH" = arm64 ]; then
        NIC_PLACEMENT='"bus":"rp5"'
        vm_qemu_launch qemu-system-aarch64 "$img" 0x7 -machine virt,accel=tcg -cpu neoverse-n1 -m 2048 \
            -append "root=/dev/vda rw console=ttyAMA0 panic=-1 systemd.show_status=1" \
            -device virtio-blk-pci,drive=disk,addr=0x6 "${nics[@]}" -device pcie-root-port,id=rp5,chassis=5,addr=0x5 \
            -drive "file=$VM_RUN/payload.img,if=none,id=payload,format=raw,readonly=on" \
            -device virtio-blk-pci,drive=payload,addr=0x8
    else
        NIC_PLACEMENT='"bus":"pci.0","addr":"0x5"'
        vm_qemu_launch qemu-system-x86_64 "$img" 0x7 -machine pc,accel=tcg -m 1024 \
            -append "root=/dev/vda rw console=ttyS0 panic=-1 systemd.show_status=1" \
            -device virtio-blk-pci,drive=disk,addr=0x6 "${nics[@]}"
    fi
}
