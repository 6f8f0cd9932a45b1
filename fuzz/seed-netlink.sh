#!/bin/bash
# Regenerates seed inputs for the netlink_reader target from real kernel dumps: inside a private
# network namespace (unshare -n; asserted to differ from the starting one) it creates links,
# addresses, rules and routes like eniroute's and foreign ones, then records every dump datagram
# and every single message (as separate files) into fuzz/corpus/netlink_reader/. Needs root.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
outer=$(stat -L -c %i /proc/self/ns/net)
exec unshare -n bash -s "$repo/fuzz/corpus/netlink_reader" "$outer" <<'INNER'
set -euo pipefail
out=$1 outer=$2
[[ $(stat -L -c %i /proc/self/ns/net) != "$outer" ]] || { echo "SAFETY: not in a new network namespace" >&2; exit 1; }
mkdir -p "$out"
ip link set lo up
ip link add eth1 address 02:00:00:00:02:0a type veth peer name r1
ip link add br0 type bridge
ip link set eth1 up; ip link set eth1 group 10000
ip addr add 10.0.2.10/24 dev eth1
ip addr add 10.0.2.11/24 dev eth1 noprefixroute proto 0xee 2>/dev/null || ip addr add 10.0.2.11/24 dev eth1 noprefixroute
ip -6 addr add 2001:db8:2::10/128 dev eth1 nodad noprefixroute
ip rule add priority 10000 lookup main suppress_ifgroup 10000 proto 0xee
ip rule add priority 10002 from 10.0.2.10 lookup 10001 proto 0xee
ip rule add priority 500 fwmark 0x10/0xff iif eth1 lookup 100 not
ip -6 rule add priority 10002 from 2001:db8:2::10 lookup 10001 proto 0xee
ip route add 10.0.2.0/24 dev eth1 src 10.0.2.10 scope link table 10001 proto 0xee
ip route add default via 10.0.2.1 dev eth1 onlink table 10001 proto 0xee
ip route add 192.0.2.0/24 table 200 nexthop via 10.0.2.1 dev eth1 onlink nexthop via 10.0.2.2 dev eth1 onlink
ip -6 route add 2001:db8:2::/64 dev eth1 table 10001 proto 0xee
ip -6 route add default via fe80:ec2::1 dev eth1 table 10001 proto 0xee
python3 - "$out" <<'PY'
import hashlib, os, socket, struct, sys
out = sys.argv[1]
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
s.bind((0, 0))
def save(data):
    data = data[:8192]
    open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb").write(data)
seq = 1
for mtype, hdr in [(18, struct.pack("=BxHiII", 0, 0, 0, 0, 0)),            # RTM_GETLINK, ifinfomsg
                   (22, struct.pack("=BBBBI", 2, 0, 0, 0, 0)), (22, struct.pack("=BBBBI", 10, 0, 0, 0, 0)),  # GETADDR
                   (34, struct.pack("=BBBBBBBBI", 2, 0, 0, 0, 0, 0, 0, 0, 0)), (34, struct.pack("=BBBBBBBBI", 10, 0, 0, 0, 0, 0, 0, 0, 0)),  # GETRULE
                   (26, struct.pack("=BBBBBBBBI", 2, 0, 0, 0, 0, 0, 0, 0, 0)), (26, struct.pack("=BBBBBBBBI", 10, 0, 0, 0, 0, 0, 0, 0, 0))]:  # GETROUTE
    s.send(struct.pack("=IHHII", 16 + len(hdr), mtype, 0x301, seq, 0) + hdr)
    seq += 1
    done = False
    while not done:
        d = s.recv(65536)
        save(d)
        off = 0
        while off + 16 <= len(d):
            ln, t = struct.unpack_from("=IH", d, off)
            if ln < 16: break
            save(d[off:off + ln])
            if t in (2, 3): done = True
            off += (ln + 3) & ~3
# An NLMSG_ERROR (EEXIST) with an extended ack.
s.setsockopt(270, 11, 1)
req = struct.pack("=IHHII", 16 + 12, 32, 0x405 | 0x200, seq, 0) + struct.pack("=BBBBBBBBI", 2, 0, 0, 0, 0, 0, 0, 1, 0)
s.send(req)
save(s.recv(65536))
PY
INNER
