#!/bin/bash
# SPDX-License-Identifier: MIT
# Root tier, real packets: teardown leaves the host exactly as before (also
# after a partial up, and netns-up converges instead of doubling); bad inputs
# (PostUp, missing config, unreachable endpoint, name clash) fail with their
# message and leave the host as before; two namespaces at once pass the same
# checks; status --json shows both without key material.
# vm-tier: kernel (bring-up, restart and teardown of a kernel device moved into the namespace)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lab.sh"
t_require_root
lab_up || { t_fail "lab setup"; t_done; }
lines() { wc -l <"$1"; }
new_lines() { tail -n "+$(($2 + 1))" "$1" | grep -c -- "$3"; }
S=$LAB_DIR/snap
mkdir -p "$S"
# ours N: anything of namespace N left anywhere (netns, links in HOST and in
# the root netns, HOST tables, run files, /etc/netns, wireguard sockets).
ours() {
	local n=$1
	[ -e "/run/netns/$n" ] && echo "netns /run/netns/$n"
	in_host ip -o link show | grep -F "$n" | sed 's/^/HOST link: /'
	ip -o link show | grep -F "$n" | sed 's/^/root-netns link: /'
	in_host nft list tables | grep -F "$n" | sed 's/^/HOST table: /'
	find "$VPN_CONFINEMENT_RUNDIR" -mindepth 1 2>/dev/null | grep -F "$n" | sed 's/^/run file: /'
	[ -e "/etc/netns/$n" ] && echo "/etc/netns/$n"
	ls /var/run/wireguard 2>/dev/null | grep -F "$n" | sed 's/^/wireguard socket: /'
	lab_wg_procs
	return 0
}
nothing_left() { # DESC N
	local left; left=$(ours "$2")
	if [ -z "$left" ]; then t_pass "$1"; else t_fail "$1"; echo "$left" | sed 's/^/#   left: /'; fi
}
same_host() { # DESC BEFORE
	host_snapshot "$S/now"
	if diff -u "$2" "$S/now" >"$S/diff"; then t_pass "$1"
	else t_fail "$1"; sed 's/^/#   /' "$S/diff" | head -40; fi
}
tunnel_ok() { # N IDX
	in_ns "$1" curl -s --max-time "$LAB_T2" "http://$INET_IP:8080/" 2>/dev/null | grep -qx "peer=$(client_ip "$2")"
}

host_snapshot "$S/pristine"

# --- Teardown ------------------------------------------------------------------------
I=0
lab_testns C c
lab_client "$C" "$I"
lab_ini "$C" "$I" "" "PortMapping=18080:8080:tcp"
t_check "netns-up $C" vc_ok netns-up "$C"
in_ns "$C" nft list ruleset >"$S/ns1"; in_ns "$C" ip -o addr >"$S/addr1"; in_ns "$C" ip route >"$S/route1"
host_snapshot "$S/up1"
t_check "netns-up $C a second time succeeds (idempotent)" vc_ok netns-up "$C"
in_ns "$C" nft list ruleset >"$S/ns2"; in_ns "$C" ip -o addr >"$S/addr2"; in_ns "$C" ip route >"$S/route2"
t_check "netns-up twice: the namespace ruleset, addresses and routes are not doubled" \
	bash -c "diff -u $S/ns1 $S/ns2 && diff -u $S/addr1 $S/addr2 && diff -u $S/route1 $S/route2"
same_host "netns-up twice: the host's ruleset, links, routes and sysctls are as after the first" "$S/up1"
t_check "wg-up $C" vc_ok wg-up "$C"
t_check "tunnel $C works" wait_for 8 tunnel_ok "$C" "$I"
# A flow through the tunnel, then wg-down: its conntrack entry must go.
in_ns "$C" python3 "$HERE/flow.py" "$INET_IP" 9997 3 2>/dev/null &
flowpid=$!
m=$(lines "$LAB_DIR/log/srv-inet.log")
flow_data() { [ "$(new_lines "$LAB_DIR/log/srv-inet.log" "$m" "tcpdata 9997 $(client_ip "$I")")" -ge 2 ]; }
wait_for 5 flow_data
t_check "control: the namespace's conntrack holds the tunnelled flow before wg-down" \
	bash -c "nsenter --net=/run/netns/$C conntrack -L 2>/dev/null | grep -q 'dport=9997'"
t_check "wg-down $C" vc_ok wg-down "$C"
t_check "wg-down flushed the namespace's conntrack (no entry of the flow)" \
	bash -c "! nsenter --net=/run/netns/$C conntrack -L 2>/dev/null | grep -q 'dport=9997'"
kill "$flowpid" 2>/dev/null; wait "$flowpid" 2>/dev/null
t_check "wg-down keeps the namespace and its drop-all kill switch" \
	bash -c "nsenter --net=/run/netns/$C nft list table inet vpn-confinement | grep -q 'policy drop'"
t_check "wg-down removed ${C}0" bash -c "! nsenter --net=/run/netns/$C ip link show ${C}0 >/dev/null 2>&1"
t_check "netns-down $C" vc_ok netns-down "$C"
nothing_left "teardown: no netns, links, tables, run files, sockets or processes of $C left" "$C"
same_host "teardown: the host's ruleset, links, addresses, routes, rules and sysctls are as before" "$S/pristine"

# Down after a partial up: a netns-up that crashed before the host table and
# the veth existed (removed by hand here), and one that got only as far as
# the netns (and its run file).
partial() { # leave only the netns (and the bridge when $1 = keep-bridge)
	in_host nft delete table inet "vpn-confinement-$C"
	in_host ip link del "veth-$C-br"
	[ "$1" = keep-bridge ] || in_host ip link del "$C-br"
}
t_check "netns-up $C (partial state 1)" vc_ok netns-up "$C"
partial keep-bridge
t_check "netns-down after a partial up (no host table, no veth) exits 0" vc_ok netns-down "$C"
nothing_left "netns-down after a partial up: nothing of $C left" "$C"
same_host "netns-down after a partial up: host as before" "$S/pristine"
t_check "netns-up $C (partial state 2)" vc_ok netns-up "$C"
partial only-netns
t_check "netns-up converges over what a crashed netns-up left (only the netns)" vc_ok netns-up "$C"
in_ns "$C" nft list ruleset >"$S/ns3"; in_ns "$C" ip -o addr >"$S/addr3"; in_ns "$C" ip route >"$S/route3"
t_check "... to the same namespace ruleset, addresses and routes as a fresh netns-up" \
	bash -c "diff -u $S/ns1 $S/ns3 && diff -u <(sed -E 's/^[0-9]+: //' $S/addr1) <(sed -E 's/^[0-9]+: //' $S/addr3) && diff -u $S/route1 $S/route3"
same_host "... and the same host state as a fresh netns-up" "$S/up1"
partial only-netns
t_check "netns-down with only the netns left exits 0" vc_ok netns-down "$C"
nothing_left "netns-down with only the netns left: nothing of $C left" "$C"
same_host "netns-down with only the netns left: host as before" "$S/pristine"
# wg-up that fails (bad config) after netns-up, then down.
t_check "netns-up $C (for a failing wg-up)" vc_ok netns-up "$C"
WG_EXTRA="PostUp = touch $LAB_DIR/postup-ran" lab_client "$C" "$I"
vc wg-up "$C" >/dev/null 2>&1
t_check "netns-down after a failed wg-up" vc_ok netns-down "$C"
nothing_left "after a failed wg-up and netns-down: nothing of $C left" "$C"
same_host "after a failed wg-up and netns-down: host as before" "$S/pristine"

# --- Bad inputs -------------------------------------------------------------------------
# bad DESC PATTERN CMD: CMD fails, its message matches PATTERN, and neither
# the host nor the namespace changed.
bad() {
	local desc=$1 pat=$2; shift 2
	host_snapshot "$S/bad-before"
	local nsb="" nsa=""
	[ -e "/run/netns/$C" ] && nsb=$( { in_ns "$C" ip -o link; in_ns "$C" ip route; in_ns "$C" nft list ruleset; } 2>&1 | sed -E 's/link\/ether [0-9a-f:]+//')
	t_check "bad input ($desc): $* fails" vc_fails "$@"
	if grep -qE -- "$pat" "$LAB_DIR/vc.out"; then t_pass "bad input ($desc): the message says so"
	else t_fail "bad input ($desc): message does not match /$pat/:"; sed 's/^/#   /' "$LAB_DIR/vc.out"; fi
	if grep -qF -- "$(cat "$LAB_DIR/keys/$C.key")" "$LAB_DIR/vc.out"; then t_fail "bad input ($desc): the private key appears in the output"; fi
	same_host "bad input ($desc): the host is as before" "$S/bad-before"
	[ -e "/run/netns/$C" ] && nsa=$( { in_ns "$C" ip -o link; in_ns "$C" ip route; in_ns "$C" nft list ruleset; } 2>&1 | sed -E 's/link\/ether [0-9a-f:]+//')
	t_check "bad input ($desc): the namespace is as before" test "$nsb" = "$nsa"
}
t_check "netns-up $C (for bad wg configs)" vc_ok netns-up "$C"
WG_EXTRA="PostUp = touch $LAB_DIR/postup-ran" lab_client "$C" "$I"
bad "PostUp" "$C.conf:[0-9]+: .*PostUp" wg-up "$C"
t_check "bad input (PostUp): the PostUp command never ran" test ! -e "$LAB_DIR/postup-ran"
lab_client "$C" "$I"
mv "$LAB_DIR/wg/$C.conf" "$LAB_DIR/wg/$C.conf.away"
bad "missing config file" "$C.conf.*(No such file|not found|missing)" wg-up "$C"
mv "$LAB_DIR/wg/$C.conf.away" "$LAB_DIR/wg/$C.conf"
WG_ENDPOINT=vpn-endpoint.invalid:$WG_PORT lab_client "$C" "$I"
VPN_CONFINEMENT_RESOLVE_ATTEMPTS=2 bad "unresolvable endpoint" "vpn-endpoint\.invalid" wg-up "$C"
WG_ENDPOINT=$UNREACHABLE_IP:$WG_PORT lab_client "$C" "$I"
VPN_CONFINEMENT_RESOLVE_ATTEMPTS=2 bad "endpoint with no route from the host" "$UNREACHABLE_IP" wg-up "$C"
vc wg-down "$C" >/dev/null 2>&1
lab_client "$C" "$I"
t_check "control: wg-up $C with the good config" vc_ok wg-up "$C"
t_check "control: tunnel $C works" wait_for 8 tunnel_ok "$C" "$I"
vc wg-down "$C" >/dev/null 2>&1
t_check "netns-down $C after the bad inputs" vc_ok netns-down "$C"
# Name clash: a netns named like ours that is not ours ...
ip netns add "$C"
bad "name clash with an existing netns $C" "/run/netns/$C" netns-up "$C"
t_check "bad input (netns clash): the other netns is still there" test -e "/run/netns/$C"
ip netns del "$C"
# ... and a link named like ours that is not ours.
in_host ip link add "$C-br" type veth peer name "clash$LAB_SFX"
bad "name clash with $C-br" "$C-br" netns-up "$C"
t_check "bad input (name clash): the other link is still there" bash -c "nsenter --net=/run/netns/$LAB_HOST ip link show $C-br >/dev/null"
t_check "bad input (name clash): no netns left" test ! -e "/run/netns/$C"
in_host ip link del "$C-br"
same_host "after the bad inputs: host as at the start" "$S/pristine"

# --- Two namespaces ----------------------------------------------------------------------
lab_testns D d
lab_testns E e
lab_client "$D" 2
lab_client "$E" 3
lab_ini "$D" 2 "" "PortMapping=18082:8080:tcp"
# E's AccessibleFrom also covers the VPN's DNS server (the ProtonVPN 10.2.0.1
# in a 10.0.0.0/8 LAN case): DNS must still go through the tunnel.
lab_ini "$E" 3 "" "PortMapping=18083:8080:tcp" "AccessibleFrom=192.0.2.0/24"
t_check "two namespaces: netns-up $D" vc_ok netns-up "$D"
t_check "two namespaces: netns-up $E" vc_ok netns-up "$E"
t_check "two namespaces: wg-up $D" vc_ok wg-up "$D"
t_check "two namespaces: wg-up $E" vc_ok wg-up "$E"
for n in "$D" "$E"; do
	t_check "two namespaces ($n): status says $(lab_expected_impl) WireGuard" impl_is "$n" "$(lab_expected_impl)"
done
for x in "$D:2" "$E:3"; do
	n=${x%:*} i=${x#*:}
	touch "$LAB_DIR/log/srv-$n.log"
	lab_bg "$n" python3 "$HERE/labsrv.py" "$LAB_DIR/log/srv-$n.log" http:8080
done
for x in "$D:2:18082" "$E:3:18083"; do
	n=${x%%:*} r=${x#*:} i=${r%%:*} port=${r#*:}
	cip=$(client_ip "$i")
	wait_for 5 grep -q ready "$LAB_DIR/log/srv-$n.log"
	t_check "two namespaces ($n): tunnel, the server sees $cip" wait_for 8 tunnel_ok "$n" "$i"
	t_check "two namespaces ($n): check passes" vc_ok check "$n"
	m=$(lines "$LAB_DIR/log/dns-vpn.log")
	a=$(in_ns "$n" dig +time="$LAB_T1" +tries=2 +short "@$WG_SRV_IP" probe.test)
	b=$(in_ns "$n" dig +tcp +time="$LAB_T1" +tries=2 +short "@$WG_SRV_IP" probe.test)
	t_check "two namespaces ($n): the VPN resolver answers udp and tcp, through the tunnel (from $cip)" \
		test "$a $b $(new_lines "$LAB_DIR/log/dns-vpn.log" "$m" "from $cip")" = "$DNS_VPN_ANSWER $DNS_VPN_ANSWER 2"
	a=$(in_ns "$n" dig +time="$LAB_T1" +tries=1 +short "@$INET_IP" probe.test | grep -x "$DNS_INET_ANSWER")
	t_check "two namespaces ($n): another resolver via the tunnel is not answered" test -z "$a"
	ns_open "$n"
	a=$(in_ns "$n" dig +time="$LAB_T1" +tries=1 +short "@$INET_IP" probe.test)
	ns_restore "$n"
	t_check "control ($n): without the namespace ruleset it is answered" test "$a" = "$DNS_INET_ANSWER"
	t_check "two namespaces ($n): from the LAN, host:$port reaches the namespace's :8080" \
		p_http "$LAB_LANIN" "http://$HOST_LANIN_IP:$port/"
	t_check "two namespaces ($n): the namespace server saw the LAN client" grep -q "http 8080 $LANIN_IP\$" "$LAB_DIR/log/srv-$n.log"
done
t_check "two namespaces ($E): the VPN DNS server in AccessibleFrom is routed via ${E}0" \
	bash -c "nsenter --net=/run/netns/$E ip route get $WG_SRV_IP | grep -q 'dev ${E}0'"
t_check "control ($E): other addresses of that AccessibleFrom range go via the bridge" \
	bash -c "nsenter --net=/run/netns/$E ip route get 192.0.2.200 | grep -q 'dev veth-$E'"

vc status >"$S/status.txt" 2>&1
vc status --json >"$S/status.json" 2>&1
t_check "status --json is JSON" python3 -m json.tool "$S/status.json" >/dev/null
t_check "status and status --json name both namespaces" \
	bash -c "grep -q $D $S/status.txt && grep -q $E $S/status.txt && grep -q $D $S/status.json && grep -q $E $S/status.json"
leak=0
for n in "$D" "$E"; do
	grep -qF "$(cat "$LAB_DIR/keys/$n.key")" "$S/status.txt" "$S/status.json" && leak=1
done
t_check "status shows no private key" test $leak = 0

# Kill switch per namespace: one's tunnel dies, it sends nothing out of its
# veth, the other is unaffected (and sees nothing of it on its own veth).
for x in "$D:2:$E:3" "$E:3:$D:2"; do
	IFS=: read -r n i o oi <<<"$x"
	T4=$LAB_DIR/targets4-$n
	obs_default_targets "$i" >"$T4"
	obs_setup "$LAB_HOST" vclveth "veth-$n-br" daddr "$T4"
	obs_setup "$LAB_HOST" vclvetho "veth-$o-br" daddr "$T4"
	in_ns "$n" ip link del "${n}0"
	probe_batch "$n" "$T4" "$LAB_DIR/probes"
	c=$(obs_count "$LAB_HOST" vclveth allip)
	t_check "two namespaces: $n with its tunnel gone sends 0 IP packets out of veth-$n-br ($c)" test "$c" = 0
	[ "$c" = 0 ] || obs_dump "$LAB_HOST" vclveth | sed 's/^/#   /'
	t_check "two namespaces: $o's tunnel still works meanwhile" tunnel_ok "$o" "$oi"
	ns_open "$n"
	probe_batch "$n" "$T4" "$LAB_DIR/probes"
	ns_restore "$n"
	t_check "control: without $n's ruleset the same probes leave via veth-$n-br" \
		test "$(obs_probe_sum "$LAB_HOST" vclveth)" -gt 0
	t_check "two namespaces: nothing of $n's probes on veth-$o-br" test "$(obs_probe_sum "$LAB_HOST" vclvetho)" = 0
	obs_delete "$LAB_HOST" vclveth
	obs_delete "$LAB_HOST" vclvetho
	vc wg-down "$n" >/dev/null 2>&1
	t_check "two namespaces: $n's tunnel back (wg-down, wg-up)" vc_ok wg-up "$n"
	wait_for 8 tunnel_ok "$n" "$i"
done

# Both down: the host as at the start.
for pid in "${LAB_PIDS[@]: -2}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
t_check "two namespaces: wg-down $D" vc_ok wg-down "$D"
t_check "two namespaces: wg-down $E" vc_ok wg-down "$E"
t_check "two namespaces: netns-down $D" vc_ok netns-down "$D"
t_check "two namespaces: netns-down $E" vc_ok netns-down "$E"
nothing_left "two namespaces: nothing of $D left" "$D"
nothing_left "two namespaces: nothing of $E left" "$E"
same_host "two namespaces down: host as at the start" "$S/pristine"
t_done
