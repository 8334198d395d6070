#!/bin/bash
# SPDX-License-Identifier: MIT
# Root tier, real packets: the tunnel heals itself (issue 13). Namespace A has
# two configs, the lab's provider (its endpoint a host name, resolved through
# a hosts file of the test's own) and a second provider (lab_provider2), with
# HealthCheckTimeout=10s, FailoverAfter=1 and FailbackAfter=10s; namespace B
# has one config whose endpoint is a slow relay in front of the lab's
# provider (tests/integration/slowpeer.py: every datagram 1 s late, both
# ways: a handshake takes 2 s, well within the 5 s WireGuard waits before it
# tries again, also under an emulated CPU). Both tunnels run under
# `wg-up --foreground`, as wg-up@.service runs them.
#   readiness   wait-online returns only after the first handshake
#   in place    the provider drops everything: detected within the timeout,
#               reconnected in place (same N0 ifindex, namespace, confined
#               process, wireguard-go), 0 packets out of the veth meanwhile
#               (positive control: the same probes without the ruleset),
#               traffic resumes when the provider is back
#   host name   the name points elsewhere: the reconnect follows it
#   failover    the provider dies for good: the second provider, resolv.conf
#               and the DNS rules follow, the confined process's connections
#               go out through it; check passes on the config in use
#   failback    a trial while the first is still dead changes nothing; once
#               it is back, the preference is restored
#   no flapping B, slow but answering, has no recovery over ~2 minutes
#   rebuild     B's peer gone: in place, then a rebuild (a new device), the
#               namespace and its process untouched
#   no uplink   the host loses its uplink: it says so and waits, nothing
#               counted, no failover; back, it reconnects
# vm-tier: auto (a failback trial's device and a reconnect in place on a kernel N0; recoveries timed under an emulated CPU)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lab.sh"
t_require_root
for tool in unshare socat dig curl python3; do
	command -v "$tool" >/dev/null || { t_fail "needs $tool"; t_done; }
done
T_START=$EPOCHREALTIME
lab_up || { t_fail "lab setup"; t_done; }
lab_provider2 || { t_fail "second provider"; t_done; }
IMPL=$(lab_expected_impl)
TIMEOUT=10
# A second address of the lab's provider, for the host name to move to.
INET_IP_B=203.0.113.3
in_inet ip addr add "$INET_IP_B/24" dev eth0 || t_fail "second provider address"

lab_testns A a
lab_testns B b
CIP=$(client_ip 0) CIP2=$(client2_ip 0) BIP=$(client_ip 1)
HOSTS=$LAB_DIR/hosts
echo "$INET_IP vpn1.test" >"$HOSTS"
WG_ENDPOINT=vpn1.test:$WG_PORT lab_client "$A" 0 || t_fail "config 1 of $A"
lab_client2 "$A" 0 || t_fail "config 2 of $A"
lab_ini "$A" 0 "" "WireGuardConfigFile=$LAB_DIR/wg/$A-2.conf" "HealthCheckTimeout=${TIMEOUT}s" \
	"FailoverAfter=1" "FailbackAfter=10s"
RELAY_PORT=51830
WG_ENDPOINT=$INET_IP:$RELAY_PORT lab_client "$B" 1 || t_fail "config of $B"
lab_ini "$B" 1 "" "HealthCheckTimeout=${TIMEOUT}s"
touch "$LAB_DIR/log/slowpeer.log"
lab_bg "$LAB_INET" python3 "$HERE/slowpeer.py" "$INET_IP" "$RELAY_PORT" "$INET_IP" "$WG_PORT" 1 "$LAB_DIR/log/slowpeer.log"
wait_for 5 grep -q ready "$LAB_DIR/log/slowpeer.log" || t_fail "the slow relay starts"

# hrec N KEY: a value of N's health record ($RUNDIR/N/health).
hrec() { sed -n "s/^$2=//p" "$VPN_CONFINEMENT_RUNDIR/$1/health" 2>/dev/null; }
hstate_is() { [ "$(hrec "$1" state)" = "$2" ]; }
online() { hstate_is "$1" online || hstate_is "$1" checking; }
wgrec() { sed -n "s/^$2=//p" "$VPN_CONFINEMENT_RUNDIR/$1/wg" 2>/dev/null; }
ifindex() { in_ns "$1" ip -o link show "${1}0" 2>/dev/null | cut -d: -f1; }
ino() { stat -L -c %i "$1" 2>/dev/null; }
# sj N EXPR: status --json, EXPR evaluated on its namespace (python).
sj() {
	vc status "$1" --json 2>/dev/null | python3 -c "import json,sys; s=json.load(sys.stdin)['namespaces'][0]; print($2)"
}
lines() { wc -l <"$1"; }
new_lines() { tail -n "+$(($2 + 1))" "$1" | grep -c -- "$3"; }
http_peer() { in_ns "$1" curl -s --max-time "$LAB_T2" "http://$INET_IP:8080/" 2>/dev/null; }
via() { [ "$(http_peer "$1")" = "peer=$2" ]; }
# drop NAME ADDR PORT: the provider at ADDR (any address when "any") PORT
# stops answering: INET drops what comes for it on eth0 and what it sends
# there (the slow relay's own datagrams to the provider, on lo, still pass);
# undrop NAME.
drop() {
	local in=("udp dport $3") out=("udp sport $3")
	[ "$2" = any ] || in=("ip daddr $2 udp dport $3") out=("ip saddr $2 udp sport $3")
	in_inet nft -f - <<-EOF
		table inet $1 {
			chain input { type filter hook input priority -10; iifname "eth0" ${in[0]} drop; }
			chain output { type filter hook output priority -10; oifname "eth0" ${out[0]} drop; }
		}
	EOF
}
undrop() { in_inet nft delete table inet "$1"; }
# fg_start N: wg-up N --foreground in HOST, in a mount namespace of its own
# whose /etc/hosts is $HOSTS (the endpoint's name resolves there, and only
# there), output in $LAB_DIR/fg-N.out.
fg_start() {
	unshare -m --propagation slave sh -c 'mount --bind "$0" /etc/hosts && exec nsenter --net="/run/netns/$1" "$2" wg-up "$3" --foreground' \
		"$HOSTS" "$LAB_HOST" "$BUILD/vpn-confinement" "$1" >"$LAB_DIR/fg-$1.out" 2>&1 &
	printf -v "FG_$1" %s $!
}
said() { grep -qE -- "$2" "$LAB_DIR/fg-$1.out"; }
show_fg() { sed 's/^/#   /' "$LAB_DIR/fg-$1.out" | tail -n 15; }

t_check "netns-up $A" vc_ok netns-up "$A"
t_check "netns-up $B" vc_ok netns-up "$B"

# --- Readiness --------------------------------------------------------------------
# The provider drops everything: the tunnel comes up, but no handshake, and
# wait-online waits; once the provider answers, it returns.
drop vcdrop1 any "$WG_PORT"
fg_start "$A"
fg_start "$B"
t_check "$A: wg-up --foreground brings the tunnel up" wait_for 10 test -e "$VPN_CONFINEMENT_RUNDIR/$A/health"
# (Within HealthCheckTimeout of the start, however slow the machine: no
# recovery may happen here, the next checks count them.)
t_check_not "readiness: wait-online $A --timeout 3 fails while the provider drops everything" \
	vc wait-online "$A" --timeout 3
t_check "readiness: meanwhile the health record has no first handshake (state $(hrec "$A" state))" \
	test "$(hrec "$A" first_handshake)" = 0
undrop vcdrop1
t_check "readiness: wait-online $A returns once the provider answers" vc wait-online "$A" --timeout $((15 * LAB_TIME_SCALE))
handshaken() { [ "$(hrec "$A" first_handshake)" != 0 ]; }
t_check "readiness: ... after a handshake (the health record has the first one)" wait_for 5 handshaken
t_check "$A: online, through the first provider ($CIP)" wait_for 10 via "$A" "$CIP"
t_check "$A: status says $IMPL WireGuard" impl_is "$A" "$IMPL"
t_check "$B: online through the slow relay" wait_for 20 online "$B"

# The confined process: a client loop through the tunnel, every 0.5 s.
lab_bg "$A" python3 -c "
import socket, time
while True:
    try:
        s = socket.create_connection(('$INET_IP', 9998), timeout=1); s.sendall(b'loop\n'); s.recv(100); s.close()
    except OSError:
        pass
    time.sleep(0.5)"
LOOP=${LAB_PIDS[-1]} LOOP_NS=$(ino "/run/netns/$A")
in_ns_already() { [ "$(ino "/proc/$LOOP/ns/net")" = "$LOOP_NS" ]; }
t_check "the confined process runs in $A ($LOOP)" wait_for 5 in_ns_already
loop_from() { grep -c "^tcp 9998 $1\$" "$LAB_DIR/log/srv-inet.log"; }
loop_more() { [ "$(loop_from "$1")" -gt "$2" ]; }
wait_for 10 loop_more "$CIP" 0
same_process() { kill -0 "$LOOP" 2>/dev/null && [ "$(ino "/proc/$LOOP/ns/net")" = "$LOOP_NS" ]; }

IDX=$(ifindex "$A") NSINO=$(ino "/run/netns/$A") WGO=$(wgrec "$A" pid) EPOCH=$(wgrec "$A" epoch)
T4=$LAB_DIR/targets4
obs_default_targets 0 >"$T4"
obs_setup "$LAB_HOST" vclveth "veth-$A-br" daddr "$T4" || t_fail "observer on veth-$A-br"
in_place_same() { # DESC: N0, the namespace, the process, wireguard-go as before
	t_check "$1: the same ${A}0 (ifindex $IDX)" test "$(ifindex "$A")" = "$IDX"
	t_check "$1: the same namespace" test "$(ino "/run/netns/$A")" = "$NSINO"
	t_check "$1: the confined process is the same, still in it" same_process
	if [ "$IMPL" = userspace ]; then
		t_check "$1: the same wireguard-go ($WGO)" test "$(wgrec "$A" pid)" = "$WGO" -a -e "/proc/$WGO"
	fi
}

# --- In place ---------------------------------------------------------------------
drop vcdrop1 any "$WG_PORT"
t0=${EPOCHREALTIME/[.,]/}
# The probes of the kill-switch tests, during the outage, beside the wait
# for the recovery: on a slow CPU they take longer than a step has to show
# a sign of life, and the provider must be back within it.
R=$(hrec "$A" recoveries)
probe_batch "$A" "$T4" "$LAB_DIR/probes" &
PB=$!
recovered_once() { [ "$(hrec "$A" recoveries)" -gt "$R" ]; }
if wait_for $((4 * TIMEOUT)) recovered_once; then
	dt=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000000))
	t_pass "in place: the dead provider noticed and a recovery started after $dt s"
else
	dt=999
	t_fail "in place: no recovery"; show_fg "$A"
fi
undrop vcdrop1
wait "$PB" || t_fail "in place: the probes during the outage ran"
# HealthCheckTimeout after the last sign of life (the loop's traffic, just
# before the drop), and a look every 2 s; a busy machine may be a little late.
t_check "in place: ... within HealthCheckTimeout=${TIMEOUT}s and a look ($dt s)" test "$dt" -ge $((TIMEOUT - 1)) -a "$dt" -le $((TIMEOUT + 2 + 3 * LAB_TIME_SCALE))
t_check "in place: the step was a reconnect in place, for no sign of life" \
	test "$(hrec "$A" last_action) $(hrec "$A" last_reason)" = "in-place no-sign-of-life"
t_check "in place: the journal says so" said "$A" "no sign of life from the peer for [0-9]+ s \(HealthCheckTimeout=${TIMEOUT}s\); recovery $((R + 1)): reconnecting in place"
t_check "in place: online again once the provider answers" wait_for $((2 * TIMEOUT)) online "$A"
t_check "in place: no failover (config 1, $((R + 1)) recovery, 0 failovers)" \
	test "$(hrec "$A" config) $(hrec "$A" recoveries) $(hrec "$A" failovers)" = "0 $((R + 1)) 0"
in_place_same "in place"
t_check "in place: the tunnel's epoch grew (what set itself up on the tunnel redoes it)" \
	test "$(wgrec "$A" epoch)" -gt "$EPOCH"
m=$(loop_from "$CIP")
t_check "in place: the confined process's connections go out again, from $CIP" wait_for 10 loop_more "$CIP" "$m"
c=$(obs_count "$LAB_HOST" vclveth allip)
t_check "in place: 0 IP packets left through veth-$A-br meanwhile ($c)" test "$c" = 0
ns_open "$A" && probe_batch "$A" "$T4" "$LAB_DIR/probes" && ns_restore "$A"
c=$(obs_probe_sum "$LAB_HOST" vclveth)
t_check "control: the same probes without the namespace ruleset leave through the veth ($c)" test "$c" -gt 0
obs_reset "$LAB_HOST" vclveth
EPOCH=$(wgrec "$A" epoch)

# --- The endpoint's name points elsewhere ------------------------------------------
drop vcdrop1 "$INET_IP" "$WG_PORT"
echo "$INET_IP_B vpn1.test" >"$HOSTS"
R=$(hrec "$A" recoveries)
recovered_twice() { [ "$(hrec "$A" recoveries)" -gt "$R" ] && online "$A"; }
t_check "host name: a recovery follows the name to $INET_IP_B, online again" wait_for $((4 * TIMEOUT)) recovered_twice
endpoint_is() { wg show "$(wgrec "$A" tmpname)" endpoints 2>/dev/null | grep -q "$1:$WG_PORT" ||
	in_ns "$A" wg show "${A}0" endpoints 2>/dev/null | grep -q "$1:$WG_PORT"; }
t_check "host name: the device's endpoint is $INET_IP_B:$WG_PORT" endpoint_is "$INET_IP_B"
t_check "host name: the journal says the name was resolved again" said "$A" "endpoint vpn1.test resolved again: $INET_IP_B port $WG_PORT"
t_check "host name: in place, no failover" test "$(hrec "$A" last_action) $(hrec "$A" config)" = "in-place 0"
in_place_same "host name"
t_check "host name: traffic through the tunnel, from $CIP" wait_for 10 via "$A" "$CIP"
undrop vcdrop1

# --- Failover -----------------------------------------------------------------------
drop vcdrop1 any "$WG_PORT"
failed_over() { [ "$(hrec "$A" config)" = 1 ] && online "$A"; }
t_check "failover: to the second provider, online" wait_for $((5 * TIMEOUT)) failed_over
t_check "failover: counted (1 failover), for failed recoveries" \
	test "$(hrec "$A" failovers) $(hrec "$A" last_action) $(hrec "$A" last_reason)" = "1 failover failed-recoveries"
t_check "failover: the journal says from which config to which, and why" \
	said "$A" "failing over from config 1 \(.*/$A.conf\) to config 2 \(.*/$A-2.conf\): 1 failed recovery \(FailoverAfter=1\)"
in_place_same "failover"
t_check "failover: the tunnel's epoch grew" test "$(wgrec "$A" epoch)" -gt "$EPOCH"
t_check "failover: resolv.conf names the second provider's server only" \
	test "$(grep ^nameserver "$VPN_CONFINEMENT_RUNDIR/$A/resolv.conf")" = "nameserver $WG2_SRV_IP"
t_check "failover: so does /etc/netns/$A/resolv.conf" \
	test "$(grep ^nameserver "/etc/netns/$A/resolv.conf")" = "nameserver $WG2_SRV_IP"
a=$(in_ns "$A" dig +time="$LAB_T2" +tries=2 +short "@$WG2_SRV_IP" probe.test)
t_check "failover: the second provider's resolver answers, through the tunnel ($a)" test "$a" = "$DNS_VPN2_ANSWER"
a=$(in_ns "$A" dig +time="$LAB_T1" +tries=1 +short "@$WG_SRV_IP" probe.test | grep -x "$DNS_VPN_ANSWER")
t_check "failover: the first provider's resolver is not allowed any more" test -z "$a"
ns_open "$A"
a=$(in_ns "$A" dig +time="$LAB_T2" +tries=2 +short "@$WG_SRV_IP" probe.test)
ns_restore "$A"
t_check "control: without the namespace ruleset it answers through the second provider ($a)" test "$a" = "$DNS_VPN_ANSWER"
t_check "failover: the DNS rules name the second provider's server only" \
	sh -c "nsenter --net=/run/netns/$A nft list set inet vpn-confinement dns4 | grep -q 'elements = { $WG2_SRV_IP }'"
t_check "failover: HTTP goes out through the second provider ($CIP2)" wait_for 10 via "$A" "$CIP2"
m=$(loop_from "$CIP2")
t_check "failover: the confined process's connections go out through it" wait_for 10 loop_more "$CIP2" "$m"
t_check "failover: check passes on the config in use" vc_ok check "$A"
t_check "failover: ... and warns that it is not the first" grep -q "warning: the tunnel runs on config 2 of 2" "$LAB_DIR/vc.out"
t_check "failover: status --json: health online, config 2 of 2, 1 failover" \
	test "$(sj "$A" "s['health']['state'] in ('online','checking'), s['health']['active_config']['number'], s['health']['active_config']['of'], s['health']['failovers'], s['health']['last_switch']['from_index']")" = "True 2 2 1 0"
vc status "$A" >"$LAB_DIR/status.txt"
t_check "failover: status says which config is active and why it switched" \
	sh -c "grep -q 'config 2 of 2' $LAB_DIR/status.txt && grep -q 'last: failover' $LAB_DIR/status.txt && grep -q 'failed-recoveries' $LAB_DIR/status.txt"
vc status --format=prometheus "$A" >"$LAB_DIR/metrics.txt"
t_check "failover: the metrics: config index 1, 1 failover, bytes from the second provider's peer" \
	sh -c "grep -qx 'vpn_confinement_active_config_index{namespace=\"$A\"} 1' $LAB_DIR/metrics.txt &&
		grep -qx 'vpn_confinement_failovers_total{namespace=\"$A\"} 1' $LAB_DIR/metrics.txt &&
		grep -qx 'vpn_confinement_recoveries_total{namespace=\"$A\"} $(hrec "$A" recoveries)' $LAB_DIR/metrics.txt &&
		grep -Eqx 'vpn_confinement_peer_receive_bytes_total\{namespace=\"$A\",peer=\"0\"\} [1-9][0-9]*' $LAB_DIR/metrics.txt"
t_check "failover: the metrics' state is the record's ($(hrec "$A" state))" \
	grep -qx "vpn_confinement_health_state{namespace=\"$A\",state=\"$(hrec "$A" state)\"} 1" "$LAB_DIR/metrics.txt"
c=$(obs_count "$LAB_HOST" vclveth allip)
t_check "failover: 0 IP packets left through veth-$A-br meanwhile ($c)" test "$c" = 0
t_check "the rulesets are replaced, never missing: the namespace ruleset is the full one" \
	sh -c "nsenter --net=/run/netns/$A nft list chain inet vpn-confinement output | grep -q 'oifname \"${A}0\"'"

# --- No flapping (B, slow but answering) --------------------------------------------
t=$(in_ns "$B" curl -s -o /dev/null -w '%{time_total}' --max-time 30 "http://$INET_IP:8080/")
t_check "no flapping: $B's tunnel is slow (HTTP took $t s) but answers" \
	python3 -c "import sys; sys.exit(0 if float('$t') >= 3 else 1)"
t_check "no flapping: the relay carried $B's tunnel ($(grep -c '^down' "$LAB_DIR/log/slowpeer.log") datagrams back)" \
	test "$(grep -c '^down' "$LAB_DIR/log/slowpeer.log")" -gt 10
BUP=$(( (${EPOCHREALTIME/[.,]/} - ${T_START/[.,]/}) / 1000000 ))
t_check "no flapping: $B had no recovery in ${BUP} s (more than $((BUP / TIMEOUT)) timeouts)" \
	test "$(hrec "$B" recoveries) $(hrec "$B" failed)" = "0 0"
t_check "no flapping: $B is online" online "$B"

# --- Failback, and a rebuild of B meanwhile -------------------------------------------
# A: the first trial finds the first provider still dead: nothing changes.
t_check "failback: a trial while the first provider is dead changes nothing" \
	wait_for $((6 * TIMEOUT)) said "$A" "did not answer the trial handshake; staying on config 2"
t_check "failback: ... still on config 2, through the second provider" test "$(hrec "$A" config)" = 1
t_check "failback: the trial device is gone from the host" \
	sh -c "! nsenter --net=/run/netns/$LAB_HOST ip -o link show | grep -q 'vc-$A-'"
undrop vcdrop1
# B: its relay stops answering.
BIDX=$(ifindex "$B")
drop vcdropb any "$RELAY_PORT"
lab_bg "$B" sleep 600
BPROC=${LAB_PIDS[-1]} BNS=$(ino "/run/netns/$B")
b_in_ns() { [ "$(ino "/proc/$BPROC/ns/net")" = "$BNS" ]; }
t_check "rebuild: a process runs in $B ($BPROC)" wait_for 5 b_in_ns
failed_back() { [ "$(hrec "$A" config) $(hrec "$A" failbacks)" = "0 1" ] && online "$A"; }
t_check "failback: once the first provider answers a trial, back to config 1, online" wait_for $((6 * TIMEOUT)) failed_back
t_check "failback: the journal says so" said "$A" "failing back from config 2 .* to config 1 .*: its peer answered a trial handshake"
t_check "failback: resolv.conf names the first provider's server again" \
	test "$(grep ^nameserver "$VPN_CONFINEMENT_RUNDIR/$A/resolv.conf")" = "nameserver $WG_SRV_IP"
t_check "failback: HTTP through the first provider ($CIP)" wait_for 10 via "$A" "$CIP"
in_place_same "failback"
rebuilt() { [ "$(hrec "$B" last_action)" = rebuild ] && [ "$(hrec "$B" recoveries)" -ge 2 ]; }
t_check "rebuild: $B's peer gone, in place did not help, the tunnel was rebuilt" wait_for $((5 * TIMEOUT)) rebuilt
t_check "rebuild: the journal says so" said "$B" "the tunnel was rebuilt .*the confined services were not touched"
t_check "rebuild: a new ${B}0 (ifindex $(ifindex "$B") was $BIDX)" test -n "$(ifindex "$B")" -a "$(ifindex "$B")" != "$BIDX"
t_check "rebuild: the namespace and its process are untouched" \
	test "$(ino "/proc/$BPROC/ns/net")" = "$BNS" -a "$(ino "/run/netns/$B")" = "$BNS"
undrop vcdropb
t_check "rebuild: $B online again once its relay answers" wait_for $((3 * TIMEOUT)) online "$B"
t_check "rebuild: the kill switch held: the namespace ruleset is the full one again" \
	sh -c "nsenter --net=/run/netns/$B nft list chain inet vpn-confinement output | grep -q 'oifname \"${B}0\"'"

# --- No uplink -----------------------------------------------------------------------
R0=$(hrec "$A" recoveries) F0=$(hrec "$A" failovers)
in_host ip link set up0 down
t_check "no uplink: the host's uplink gone, $A says so and waits" wait_for $((4 * TIMEOUT)) hstate_is "$A" no-uplink
t_check "no uplink: the journal says why" said "$A" "no sign of life, but the host has no default route and no route to the endpoint $INET_IP_B: waiting for the uplink, not cycling through servers"
sleep "$TIMEOUT"
t_check "no uplink: a timeout later: still waiting, nothing counted, no failover" \
	test "$(hrec "$A" state) $(hrec "$A" recoveries) $(hrec "$A" failovers) $(hrec "$A" config)" = "no-uplink $R0 $F0 0"
t_check "no uplink: check says so" sh -c "nsenter --net=/run/netns/$LAB_HOST $BUILD/vpn-confinement check $A | grep -q 'the host no uplink'"
in_host ip link set up0 up
in_host ip addr replace "$HOST_INET_IP6/64" dev up0 nodad
t_check "no uplink: back, online again" wait_for $((3 * TIMEOUT)) online "$A"
t_check "no uplink: ... on config 1, at most one more recovery, no failover" \
	sh -c "[ $(hrec "$A" config) = 0 ] && [ $(hrec "$A" recoveries) -le $((R0 + 1)) ] && [ $(hrec "$A" failovers) = $F0 ]"
t_check "no uplink: HTTP through the first provider" wait_for 10 via "$A" "$CIP"

# --- Down -------------------------------------------------------------------------------
for n in "$A" "$B"; do
	v="FG_$n"
	kill "${!v}"
	wait "${!v}"
	t_check "$n: SIGTERM: wg-up --foreground takes the tunnel down and exits 0" test $? = 0
	t_check "$n: no health record, no trial device left" \
		sh -c "! test -e $VPN_CONFINEMENT_RUNDIR/$n/health && ! nsenter --net=/run/netns/$LAB_HOST ip -o link show | grep -q 'vc-$n-'"
	t_check "$n: netns-down" vc_ok netns-down "$n"
done
echo "# test-health: $(( (${EPOCHREALTIME/[.,]/} - ${T_START/[.,]/}) / 1000000 )) s"
if [ "$T_FAIL" != 0 ]; then
	for n in "$A" "$B"; do
		echo "# the supervisor of $n said:"
		sed 's/^/#   /' "$LAB_DIR/fg-$n.out"
	done
fi
t_done
