#!/bin/bash
# S3: three secondary IPv4s on one ENI. IMDS lists 10.0.2.10 (primary), .11, .12, .13 for eth1;
# the instance has only 10.0.2.10 (as DHCP would configure). eniroute adds the three missing
# addresses (noprefixroute) and rules for each; every address answers ping and TCP.
# Also run with strict reverse-path filtering on the instance (CIS-hardened images):
# also-with: WORLD_RP_FILTER=1
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

world_up secondary-ipv4s
secondaries=(10.0.2.11 10.0.2.12 10.0.2.13)

section "before eniroute"
check_not "client -> 10.0.2.11 fails (address missing)" can_ping client 10.0.2.11
check_not "eth1 lacks 10.0.2.12" addr_present eth1 "inet 10\.0\.2\.12/"

section "eniroute apply"
check_eniroute "eniroute apply exits 0" apply

section "after eniroute"
for a in "${secondaries[@]}"; do
    check "eth1 has $a/24 noprefixroute" addr_present eth1 "inet ${a//./\\.}/24 .*noprefixroute"
done
check "10.0.2.10/24 (from 'DHCP') kept as it was" addr_present eth1 "inet 10\.0\.2\.10/24 "
for a in 10.0.2.10 "${secondaries[@]}"; do
    check "client -> $a" can_ping client "$a"
    check "client -> $a TCP" can_tcp client "$a"
done
check "client -> 10.0.1.10" can_ping client 10.0.1.10
check_eni_objects 1
check_eni_objects 0

world_finish
