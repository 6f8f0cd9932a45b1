#!/bin/bash
# `make demo`: eniroute on an emulated two-ENI EC2 instance, entirely inside private network
# namespaces (the machine's own network is not touched). Shows a ping to the second ENI failing
# (the VPC drops the reply that leaves through the wrong ENI), runs `eniroute apply`, prints the
# rules and tables it installed, and shows the same ping succeeding. Cleans up on exit.
# Binaries: ENIROUTE, ENIROUTE_IMDS_SIM (default .build/debug/…; `make demo` passes release ones).
# Exit status: 0 when the ping failed before and succeeds after.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../tests/lib/world.sh
. "$repo/tests/lib/world.sh"

show() { # show ROLE COMMAND…: print a command run in a namespace, and its output
    local role=$1; shift
    printf '   %s# %s\n' "$role" "$*"
    nsx "$role" "$@" 2>&1 | sed 's/^/     /'
    return "${PIPESTATUS[0]}"
}

for b in "$ENIROUTE" "$ENIROUTE_IMDS_SIM"; do
    [[ -x $b ]] || { echo "demo: $b is not built (run 'make demo', or 'make build' and set ENIROUTE/ENIROUTE_IMDS_SIM)" >&2; exit 1; }
done

cat <<'EOF'
eniroute demo: an EC2 instance with two ENIs in a VPC, emulated in network namespaces

   client 198.51.100.10 ── rc [ VPC router ] r0 ── eth0 10.0.1.10  (primary ENI, subnet A)  [ instance ]
                                             r1 ── eth1 10.0.2.10  (second ENI, subnet B)
   The router drops packets entering from an ENI whose source is not that ENI's address
   (the VPC source/destination check). IMDS is simulated at 169.254.169.254 inside the instance.
EOF

world_build two-subnets

section "The instance as the distribution configured it (no policy routing)"
show inst ip -br address show dev eth0
show inst ip -br address show dev eth1
show inst ip route show table main
show inst ip rule show

section "IMDS simulator"
imds_start "$(scenario_file two-eni)"

section "Before: the client pings both ENIs"
show client ping -c 1 -W 1 10.0.1.10
drops=$(srccheck_drops r0 4)
before_ok=1
show client ping -c 1 -W 1 10.0.2.10 && before_ok=0
info "The reply from 10.0.2.10 left through eth0 (main's only default route); the VPC router"
info "dropped it: source-check drops on r0 went from $drops to $(srccheck_drops r0 4)."
if ((before_ok)); then info "=> ping to 10.0.2.10 FAILS before eniroute"; else info "=> unexpected: ping to 10.0.2.10 already works"; fi

section "eniroute apply"
eniroute apply --log-level info
apply_rc=$ENIROUTE_RC

section "What eniroute installed"
show inst ip rule show
show inst ip -6 rule show
show inst ip route show table 10000
show inst ip route show table 10001
show inst ip -br link show group "$ENI_GROUP"
info "(proto 238 = 0xEE, eniroute's tag on everything it creates; the ENIs are in interface group"
info " 10000, so the suppress_ifgroup rule lets main-table routes through other devices, e.g. a"
info " docker bridge, win, while replies from an ENI's address use that ENI's table.)"

section "After: the same ping"
after_ok=0
show client ping -c 1 -W 1 10.0.2.10 && after_ok=1
if ((after_ok)); then info "=> ping to 10.0.2.10 SUCCEEDS after eniroute (the reply now leaves through eth1)"; else info "=> ping to 10.0.2.10 still fails"; fi

section "Cleanup"
info "deleting the namespaces $WORLD_PREFIX-*"
if ((before_ok && after_ok && apply_rc == 0)); then
    echo "demo: ok (failed before, works after)"
    exit 0
fi
echo "demo: FAILED (before failing: $before_ok, apply exit: $apply_rc, after working: $after_ok)"
exit 1
