# shellcheck shell=bash
# The guest state the EC2-like VM steps compare (sourced by vm/ec2/run.sh after vm/report.sh).

# The guest's routing state: rules, routes of every table but local, addresses (no lifetimes),
# MTUs and interface groups, sorted.
SNAPSHOT='ip -4 rule show; ip -6 rule show; echo "# routes"; { ip -4 route show table all; ip -6 route show table all; } | grep -v "table local" | grep -v "^multicast\|fe80::/64\|^local " | sort
echo "# addresses"; ip -o address show | awk "\$4 !~ /^fe80:/ {print \$2, \$4}" | sort
echo "# links"; ip -o link show | sed -n "s/^[0-9]*: \([^:@]*\)[:@].* mtu \([0-9]*\) .* group \([^ ]*\).*/\1 mtu \2 group \3/p" | sort'
snapshot() { vm_agent "$SNAPSHOT" && printf '%s\n' "$VM_OUT"; }

# The same without the main table's routes (those are networkd's and the kernel's; eniroute's are
# in its own tables): what a networkd or netplan event must leave exactly as it was.
# Routes eniroute mirrors from main into an ENI's table (they carry main's metric) follow main by
# design and are left out too; mirrored() lists them.
MANAGED_SNAPSHOT=${SNAPSHOT/'| grep -v "table local" |'/'| grep -v "table local" | grep " table " | grep -v " metric " |'}
mirrored() { g "ip -4 route show table all | grep ' table 1[0-9]\{4\} ' | grep ' metric ' | sort"; }
managed_snapshot() { vm_agent "$MANAGED_SNAPSHOT" && printf '%s\n' "$VM_OUT"; }
main_routes() { g "ip -4 route show table main; ip -6 route show table main | grep -v '^fe80\|^multicast'"; }
