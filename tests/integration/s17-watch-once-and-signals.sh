#!/bin/bash
# S17: `eniroute watch --once` (one IMDS read, one pass; exit codes like apply) and the watcher's
# signals: SIGHUP reloads the configuration (an invalid file is refused and the old one kept),
# SIGINT and SIGTERM end it with exit 0 and nothing removed.
# shellcheck source=../lib/world.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/world.sh"

world_build two-subnets
imds_start

section "watch --once"
check_eniroute "watch --once exits 0" watch --once
check_eni_objects 0
check_eni_objects 1
check "client -> 10.0.2.10" can_ping client 10.0.2.10
check "one line per change" grep -E "^ip rule add from 10\.0\.2\.10 lookup 10001" "$ENIROUTE_OUT"
snapshot "$WORLD_TMP/configured"
check_eniroute "a second watch --once exits 0" watch --once
check_not "and changes nothing" grep -E "^ip " "$ENIROUTE_OUT"

section "watch --once while IMDS fails: exit 75, nothing removed"
check "fault: HTTP 500 on everything" imds_control PUT /_sim/fault '{"path": "/latest/meta-data/*", "status": 500}'
eniroute watch --once
check_eq "watch --once exits 75" 75 "$ENIROUTE_RC"
check "it says why" grep -E "IMDS: .*500" "$ENIROUTE_OUT"
snapshot "$WORLD_TMP/now"
check_same_file "nothing removed" "$WORLD_TMP/configured" "$WORLD_TMP/now"
check "fault removed" imds_control DELETE /_sim/fault

section "watch --once with an ENI whose IMDS data never becomes ready: exit 75, the others configured"
check "IMDS: attach eth2 that never propagates" imds_control POST "/_sim/mac/${ENI_MAC[2]}" \
    "{\"keys\": $(imds_eni_json 2 2 C 10.0.3.10), \"propagation\": {}}"
world_eni 2 C 10.0.3.10
eniroute watch --once --log-level info
check_eq "watch --once exits 75" 75 "$ENIROUTE_RC"
check "it names the ENI that is not ready" grep -E "02:00:00:00:03:0a.*not ready" "$ENIROUTE_OUT"
check_not "eth2 got no rule" rule_present 4 "from 10\.0\.3\.10 "
check "eth1 still configured" rule_present 4 "^10002:[[:space:]]+from 10\.0\.2\.10 lookup 10001 .*$PROTO_RE"
check "IMDS: detach eth2" imds_control DELETE "/_sim/mac/${ENI_MAC[2]}"
world_eni_detach 2

section "SIGHUP: reload the configuration"
watch_start inst --interval 30
CONF=$WORLD_TMP/eniroute-inst.conf
check_within "configured" 3 rule_present 4 "^10001:[[:space:]]+from 10\.0\.1\.10 lookup 10000 .*$PROTO_RE"
echo "watch-interval = soon" >"$CONF"
watch_signal inst HUP
check_within "an invalid file is refused, the old configuration kept" 2 grep -E "^error: SIGHUP: configuration not reloaded: .*watch-interval" "$(watch_log inst)"
check "the watcher is still running" watch_running inst
check "primary's rule still there" rule_present 4 "^10001:[[:space:]]+from 10\.0\.1\.10 lookup 10000 .*$PROTO_RE"
printf 'watch-interval = 20\nprimary-rules = no\n' >"$CONF"
watch_signal inst HUP
check_within "a valid file is taken: primary-rules = no removes the primary's rule" 1 no_rule_matches 4 "from 10\.0\.1\.10 lookup 10000"
check "the reload is logged" grep -E "SIGHUP: configuration reloaded" "$(watch_log inst)"
check "eth1 keeps its rule" rule_present 4 "^10002:[[:space:]]+from 10\.0\.2\.10 lookup 10001 .*$PROTO_RE"
check "client -> 10.0.2.10" can_ping client 10.0.2.10
check "client -> 10.0.1.10" can_ping client 10.0.1.10

section "SIGINT: exit 0, nothing removed"
snapshot "$WORLD_TMP/before-int"
watch_stop inst INT
check_eq "watch exits 0 on SIGINT" 0 "$WATCH_RC"
snapshot "$WORLD_TMP/after-int"
check_same_file "nothing removed" "$WORLD_TMP/before-int" "$WORLD_TMP/after-int"

world_finish
