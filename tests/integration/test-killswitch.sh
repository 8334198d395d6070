#!/bin/bash
# SPDX-License-Identifier: MIT
# Root tier, real packets: the tunnel, the kill switch (peer stopped, wg
# interface deleted, wireguard-go killed, traffic rerouted), established flows,
# the host's second layer, DNS, and IPv6 of a v4-only namespace.
# Every "blocked" check has a positive control: the same probe seen without
# the protection (tunnel up, namespace ruleset replaced by accept-all, or
# host guard removed).
# vm-tier: kernel
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lab.sh"
t_require_root
lab_up || { t_fail "lab setup"; t_done; }

I=0
lab_testns A a
lab_client "$A" "$I" || { t_fail "client config"; t_done; }
lab_ini "$A" "$I" ""
CIP=$(client_ip "$I") BR=$(br_ip "$I") NSIP=$(ns_ip "$I")
T4=$LAB_DIR/targets4 T6=$LAB_DIR/targets6 P=$LAB_DIR/probes
obs_default_targets "$I" >"$T4"
obs_default_targets6 "$I" >"$T6"

tunnel_ok() { in_ns "$A" curl -s --max-time "$LAB_T2" "http://$INET_IP:8080/" 2>/dev/null | grep -qx "peer=$CIP"; }
# The lab's observers: HOST veth and bridge ingress (what leaves the namespace).
obs_up() {
	obs_setup "$LAB_HOST" vclveth "veth-$A-br" daddr "$1" &&
		obs_setup "$LAB_HOST" vclbr "$A-br" daddr "$1"
}
obs_clear() { obs_reset "$LAB_HOST" vclveth; obs_reset "$LAB_HOST" vclbr; }
obs_gone() { obs_delete "$LAB_HOST" vclveth; obs_delete "$LAB_HOST" vclbr; }
# zero_out DESC: no IP packet at all was seen on the veth and the bridge
# (ARP and IPv6 neighbour discovery, the kernel's own upkeep, are shown but not
# counted).
zero_out() {
	local v b
	obs_read "$LAB_HOST" vclbr; b=${OBS[allip]}
	obs_read "$LAB_HOST" vclveth; v=${OBS[allip]}
	if [ "$v" = 0 ] && [ "$b" = 0 ]; then t_pass "$1: 0 IP packets on veth-$A-br and $A-br (${OBS[all]} ARP or neighbour discovery)"
	else t_fail "$1: $v IP packets on veth, $b on bridge"; obs_dump "$LAB_HOST" vclveth | sed 's/^/#   /'; fi
}
# seen_all DESC TARGETFILE NAMES...: every probe kind to each NAME was counted.
seen_all() {
	local desc=$1 tf=$2 name kind missing=""; shift 2
	obs_read "$LAB_HOST" vclveth
	for name; do
		for kind in $PROBE_KINDS; do
			[ "${OBS["$name $kind"]:-0}" -gt 0 ] || missing="$missing $name/$kind"
		done
	done
	if [ -z "$missing" ]; then t_pass "$desc"; else t_fail "$desc: not seen:$missing"; fi
}
# none_answered DESC: no probe of the last batch got an answer.
none_answered() {
	local f bad=""
	for f in "$P"/*; do [ "$(cat "$f")" = 0 ] && bad="$bad ${f##*/}"; done
	if [ -z "$bad" ]; then t_pass "$1"; else t_fail "$1: answered:$bad"; fi
}
lines() { wc -l <"$1"; }
# new_lines FILE FROM PATTERN: lines after line FROM matching PATTERN.
new_lines() { tail -n "+$(($2 + 1))" "$1" | grep -c -- "$3"; }
restart_tunnel() { # DESC
	if vc_ok wg-down "$A"; then t_pass "wg-down after $1"; else t_fail "wg-down after $1"; fi
	vc_ok wg-up "$A" && wait_for 8 tunnel_ok
}

# --- up ------------------------------------------------------------------------
t_check "netns-up $A" vc_ok netns-up "$A"
t_check "wg-up $A" vc_ok wg-up "$A"
IMPL=$(lab_expected_impl)
if [ "${VPNC_IMPL:-}" != baseline ]; then
	t_check "status says the tunnel is up with $IMPL WireGuard (asked: ${VPN_TEST_WG_IMPL:-userspace})" impl_is "$A" "$IMPL"
fi

# --- Tunnel ------------------------------------------------------------------------
if wait_for 8 tunnel_ok; then t_pass "tunnel: HTTP to the internet server, which sees the tunnel address $CIP"
else t_fail "tunnel: HTTP through the tunnel"; in_ns "$A" curl -sS --max-time "$LAB_T2" "http://$INET_IP:8080/"; fi
t_check "check $A passes with the tunnel up" vc_ok check "$A"

obs_up "$T4" || t_fail "observer tables"

# Control A: tunnel up. Internet probes go through the tunnel (seen by the
# internet's servers from the tunnel address); nothing uses the veth.
m=$(lines "$LAB_DIR/log/srv-inet.log")
obs_clear
probe_batch "$A" "$T4" "$P"
c=$(new_lines "$LAB_DIR/log/srv-inet.log" "$m" " $CIP\$")
[ "$(cat "$P/inet.tcp")" = 0 ] && [ "$(cat "$P/inet.udp")" = 0 ] && [ "$(cat "$P/inet.icmp")" = 0 ] && [ "$c" -ge 2 ]
t_check "control: tcp, udp, icmp to the internet pass through the tunnel with the tunnel up ($c server log lines from $CIP)" test $? = 0
zero_out "tunnel up: probes to internet, LANs, bridge, host addresses"
cp -r "$P" "$LAB_DIR/probes-up"

# Control B: namespace ruleset replaced by accept-all: the same probes to the
# LANs, the bridge and the host's LAN address leave through the veth.
obs_clear
ns_open "$A" || t_fail "ns_open"
probe_batch "$A" "$T4" "$P"
seen_all "control: without the namespace ruleset, tcp/udp/icmp/dns/dns-tcp/853 probes to LANs, bridge and host leave via the veth" \
	"$T4" lanin bridge hostlan
ns_restore "$A" || t_fail "ns_restore"

# --- Kill switch -------------------------------------------------------------
killswitch() { # DESC
	local m; m=$(lines "$LAB_DIR/log/srv-inet.log")
	obs_clear
	probe_batch "$A" "$T4" "$P"
	zero_out "kill switch ($1)"
	none_answered "kill switch ($1): no probe answered"
	local n; n=$(new_lines "$LAB_DIR/log/srv-inet.log" "$m" .)
	t_check "kill switch ($1): internet servers saw nothing ($n)" test "$n" = 0
}

# Peer stopped: the server forgets our peer.
wg set "$LAB_WGSRV" peer "$(cat "$LAB_DIR/keys/$A.pub")" remove
killswitch "peer stopped"
wg set "$LAB_WGSRV" peer "$(cat "$LAB_DIR/keys/$A.pub")" allowed-ips "$CIP/32,$(client_ip6 "$I")/128"
t_check "tunnel back after peer restart" restart_tunnel "peer stopped"

# wg interface deleted.
in_ns "$A" ip link del "${A}0"
killswitch "wg interface deleted"
t_check "check $A fails with the wg interface deleted" vc_fails check "$A"
t_check "tunnel back after wg interface deleted" restart_tunnel "wg interface deleted"

# wireguard-go killed (a kernel tunnel has no process to kill: its death is
# the interface going, above).
pids=$(lab_wg_procs | awk '{print $3}')
if [ "$IMPL" = kernel ]; then
	t_check "kernel WireGuard: no wireguard-go process in the host namespace for $A" test -z "$pids"
elif [ -n "$pids" ]; then
	# shellcheck disable=SC2086
	kill -9 $pids
	for p in $pids; do wait_for 3 test ! -e "/proc/$p"; done
	killswitch "wireguard-go killed"
	t_check "check $A notices wireguard-go's death" vc_fails check "$A"
	t_check "tunnel back after wireguard-go killed" restart_tunnel "wireguard-go killed"
else
	t_fail "no wireguard-go process found in the host namespace for $A"
fi

# wg-up --foreground (what wg-up@.service runs) supervises the tunnel: when
# it dies (wireguard-go, its child, killed; or, for a kernel tunnel, the
# interface deleted) it must notice, keep the kill switch and fail (so
# systemd restarts it); SIGTERM takes the tunnel down and exits 0.
fg_gone() { ! kill -0 "$fg" 2>/dev/null; }
if [ "${VPNC_IMPL:-}" != baseline ]; then
	vc wg-down "$A" >/dev/null 2>&1
	nsenter --net="/run/netns/$LAB_HOST" "$BUILD/vpn-confinement" wg-up "$A" --foreground >"$LAB_DIR/fg.out" 2>&1 &
	fg=$!
	t_check "wg-up --foreground: tunnel up" wait_for 8 tunnel_ok
	t_check "wg-up --foreground: status says $IMPL" impl_is "$A" "$IMPL"
	wgpid=$(pgrep -P "$fg" -x wireguard-go)
	death=""
	if [ "$IMPL" = kernel ]; then
		t_check "wg-up --foreground (kernel): no wireguard-go child" test -z "$wgpid"
		in_ns "$A" ip link del "${A}0" && death="its interface deleted"
	elif [ -n "$wgpid" ]; then
		kill -9 "$wgpid" && death="wireguard-go killed"
	else
		t_fail "wg-up --foreground: no wireguard-go child found"
	fi
	if [ -n "$death" ]; then
		if wait_for 5 fg_gone; then
			wait "$fg"; rc=$?
			t_check "wg-up --foreground notices the tunnel's death ($death) and exits 1 (exit $rc)" test "$rc" = 1
		else
			t_fail "wg-up --foreground still running 5 s after $death"
			kill "$fg"; wait "$fg"
		fi
		t_check "wg-up --foreground says why" grep -qE "tunnel died: (wireguard-go .*exited|the interface was deleted)" "$LAB_DIR/fg.out"
		killswitch "wg-up --foreground, $death"
	else
		kill "$fg"; wait "$fg"
	fi
	nsenter --net="/run/netns/$LAB_HOST" "$BUILD/vpn-confinement" wg-up "$A" --foreground >"$LAB_DIR/fg.out" 2>&1 &
	fg=$!
	t_check "wg-up --foreground again: tunnel up" wait_for 8 tunnel_ok
	kill -TERM "$fg"
	wait_for 5 fg_gone
	wait "$fg"; rc=$?
	t_check "wg-up --foreground: SIGTERM takes the tunnel down and exits 0 (exit $rc)" \
		test "$rc" = 0 -a -z "$(in_ns "$A" ip link show "${A}0" 2>/dev/null)"
	t_check "tunnel back after the --foreground tests" vc_ok wg-up "$A"
	wait_for 8 tunnel_ok
fi

# Rerouted: wg gone and default route via the bridge (what a confused or
# hostile process could do): the namespace ruleset still lets nothing out.
in_ns "$A" ip link del "${A}0"
in_ns "$A" ip route replace default via "$BR"
killswitch "wg deleted, default route via the bridge"
obs_clear
ns_open "$A"
probe_batch "$A" "$T4" "$P"
seen_all "control: rerouted and without the namespace ruleset, probes to the internet and host leave via the veth" "$T4" inet hostup
ns_restore "$A"
in_ns "$A" ip route del default via "$BR"
t_check "tunnel back after reroute" restart_tunnel "reroute"

# --- Established flows ----------------------------------------------------------
# A TCP flow through the tunnel; then the wg interface goes and a default
# route via the bridge appears: no packet of the flow may take the veth.
# (The tunnel address goes with the interface, and the kernel will not route
# from an address that is not local, so the flow's address is put back on lo:
# without that the control could never see the flow anywhere.)
# flow_trial OPEN: OPEN=1 replaces the namespace ruleset by accept-all first
# (the control). Prints the flow's packets on the veth within 3 s.
flow_trial() {
	local m flowpid n=0
	m=$(lines "$LAB_DIR/log/srv-inet.log")
	in_ns "$A" python3 "$HERE/flow.py" "$INET_IP" 9997 8 2>/dev/null &
	flowpid=$!
	flow_data() { [ "$(new_lines "$LAB_DIR/log/srv-inet.log" "$m" "tcpdata 9997 $CIP")" -ge 3 ]; }
	if wait_for 5 flow_data; then
		obs_clear
		[ "$1" = 1 ] && ns_open "$A"
		in_ns "$A" ip link del "${A}0"
		in_ns "$A" ip addr add "$CIP/32" dev lo
		in_ns "$A" ip route replace default via "$BR"
		flow_on_veth() { [ "$(obs_count "$LAB_HOST" vclveth flow)" -gt 0 ]; }
		wait_for 3 flow_on_veth # a few retransmission timeouts (200 ms, doubling)
		n=$(obs_count "$LAB_HOST" vclveth flow)
		[ "$1" = 1 ] && ns_restore "$A"
		in_ns "$A" ip route del default via "$BR"
		in_ns "$A" ip addr del "$CIP/32" dev lo
	else
		n=nodata
	fi
	kill "$flowpid" 2>/dev/null; wait "$flowpid" 2>/dev/null
	echo "$n"
}
obs_up "$T4"
n=$(flow_trial 1)
t_check "control: without the namespace ruleset a tunnelled TCP flow goes out via the veth once the wg interface is gone ($n packets)" \
	test "$n" != nodata -a "$n" != 0
t_check "tunnel back after the flow control" restart_tunnel "flow control"
n=$(flow_trial 0)
t_check "established flow: data went through the tunnel, then 0 packets of it on the veth in 3 s after the wg interface went ($n)" \
	test "$n" = 0
t_check "tunnel back after the flow test" restart_tunnel "flow test"

# --- DNS -----------------------------------------------------------------------
m=$(lines "$LAB_DIR/log/dns-vpn.log")
a=$(in_ns "$A" dig +time="$LAB_T1" +tries=2 +short "@$WG_SRV_IP" probe.test)
t_check "DNS: the VPN resolver answers over udp/53 ($a)" test "$a" = "$DNS_VPN_ANSWER"
a=$(in_ns "$A" dig +tcp +time="$LAB_T1" +tries=2 +short "@$WG_SRV_IP" probe.test)
t_check "DNS: the VPN resolver answers over tcp/53 ($a)" test "$a" = "$DNS_VPN_ANSWER"
t_check "DNS: the VPN resolver saw the queries from the tunnel address" \
	test "$(new_lines "$LAB_DIR/log/dns-vpn.log" "$m" "from $CIP")" -ge 2
t_check "DNS: resolv.conf for ip netns exec names the VPN resolver" \
	grep -qx "nameserver $WG_SRV_IP" "/etc/netns/$A/resolv.conf"
# Another resolver via the tunnel: udp/53, tcp/53, tcp/853 dropped ...
m=$(lines "$LAB_DIR/log/dns-other.log") m2=$(lines "$LAB_DIR/log/srv-inet.log")
r=$(other_resolver "$A" "$INET_IP")
n=$(( $(new_lines "$LAB_DIR/log/dns-other.log" "$m" "from $CIP") + $(new_lines "$LAB_DIR/log/srv-inet.log" "$m2" "tcp 853") ))
t_check "DNS: another resolver via the tunnel (udp/53, tcp/53, tcp/853) gets nothing ($r answers, $n seen)" test "$r$n" = 00
# ... and answers without the namespace ruleset (control).
ns_open "$A"
r=$(other_resolver "$A" "$INET_IP")
ns_restore "$A"
t_check "control: without the namespace ruleset the same 3 queries via the tunnel are answered ($r)" test "$r" = 3
# Via the veth (LAN, bridge, host resolvers): zero packets with the tunnel up
# (batch "tunnel up" above), seen without the ruleset (control B above).
bad=""
for t in lanin lanout bridge hostlan hostup; do
	for k in dns dnstcp dot; do [ "$(cat "$LAB_DIR/probes-up/$t.$k")" = 0 ] && bad="$bad $t.$k"; done
done
t_check "DNS: resolvers on the LANs, bridge and host (53, 853) not answered with the tunnel up" test -z "$bad"

# --- IPv6 of a v4-only namespace --------------------------------------------------
t_check "IPv6 (v4-only): disabled on veth-$A" test "$(in_ns "$A" sysctl -n "net.ipv6.conf.veth-$A.disable_ipv6")" = 1
t_check "IPv6 (v4-only): no global IPv6 address in the namespace" test -z "$(in_ns "$A" ip -6 addr show scope global)"
t_check "IPv6 (v4-only): no IPv6 default route" test -z "$(in_ns "$A" ip -6 route show default)"
obs_gone; obs_up "$T6"
probe_batch "$A" "$T6" "$P"
zero_out "IPv6 (v4-only): probes to internet, LAN, host v6 addresses"
none_answered "IPv6 (v4-only): no IPv6 probe answered"
# A process enables IPv6 on the tunnel and adds an address and a route:
# still nothing out.
in_ns "$A" sysctl -qw "net.ipv6.conf.${A}0.disable_ipv6=0"
in_ns "$A" ip addr add "$(client_ip6 "$I")/128" dev "${A}0" nodad
in_ns "$A" ip -6 route add default dev "${A}0"
m=$(lines "$LAB_DIR/log/srv-inet.log")
tcp6() { in_ns "$A" socat -T"$LAB_T1" /dev/null "TCP:[$INET_IP6]:9998,connect-timeout=$LAB_T1" 2>/dev/null; }
tcp6; r=$?
t_check "IPv6 (v4-only): with an IPv6 address and route added on ${A}0, tcp to the internet does not get through" \
	test "$r" != 0 -a "$(new_lines "$LAB_DIR/log/srv-inet.log" "$m" "$(client_ip6 "$I")")" = 0
ns_open "$A"
tcp6; r=$?
ns_restore "$A"
t_check "control: the same IPv6 tcp through the tunnel without the namespace ruleset gets through" \
	test "$r" = 0 -a "$(new_lines "$LAB_DIR/log/srv-inet.log" "$m" "tcp 9998 $(client_ip6 "$I")")" -ge 1
in_ns "$A" ip -6 route del default dev "${A}0"
in_ns "$A" ip addr del "$(client_ip6 "$I")/128" dev "${A}0"
obs_gone

# --- Second layer ---------------------------------------------------------------
# HOST as a router (the worst case). A root process in the namespace flushes
# the ruleset and routes everything via the bridge: the host guard holds.
host_fwd_save
in_host sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
obs_setup "$LAB_HOST" vclveth "veth-$A-br" daddr "$T4"
obs_from "$LAB_INET" vclfrom eth0 "$(ns_net "$I")" "$CIP/32"
obs_from "$LAB_LANIN" vclfrom eth0 "$(ns_net "$I")" "$CIP/32"
obs_from "$LAB_LANOUT" vclfrom eth0 "$(ns_net "$I")" "$CIP/32"
in_ns "$A" nft flush ruleset
in_ns "$A" ip link del "${A}0" 2>/dev/null
in_ns "$A" ip route replace default via "$BR"
second_layer_seen() { # -> "INET LANIN LANOUT HOSTLOG HOSTDNS"
	echo "$(obs_from_count "$LAB_INET" vclfrom) $(obs_from_count "$LAB_LANIN" vclfrom)" \
		"$(obs_from_count "$LAB_LANOUT" vclfrom)" \
		"$(new_lines "$LAB_DIR/log/srv-host.log" "$1" " $NSIP\$")" \
		"$(new_lines "$LAB_DIR/log/dns-host.log" "$2" "from $NSIP")"
}
m=$(lines "$LAB_DIR/log/srv-host.log") m2=$(lines "$LAB_DIR/log/dns-host.log")
probe_batch "$A" "$T4" "$P"
s=$(second_layer_seen "$m" "$m2")
t_check "second layer: with the namespace ruleset flushed the probes do reach the veth" \
	test "$(obs_count "$LAB_HOST" vclveth all)" -gt 0
t_check "second layer: internet, LANs, host sockets and host DNS see nothing new from the namespace ($s)" test "$s" = "0 0 0 0 0"
none_answered "second layer: no probe answered"
# Control: without the host table the same probes get through.
host_guard_off "$A"
m=$(lines "$LAB_DIR/log/srv-host.log") m2=$(lines "$LAB_DIR/log/dns-host.log")
probe_batch "$A" "$T4" "$P"
s=$(second_layer_seen "$m" "$m2")
host_guard_on "$A"
read -r s1 s2 s3 s4 s5 <<<"$s"
t_check "control: without the host table, internet, both LANs, host sockets and host DNS see the probes ($s)" \
	test "$s1" -gt 0 -a "$s2" -gt 0 -a "$s3" -gt 0 -a "$s4" -gt 0 -a "$s5" -gt 0
host_fwd_restore

# --- down --------------------------------------------------------------------------
obs_delete "$LAB_HOST" vclveth
vc wg-down "$A" >/dev/null 2>&1
t_check "netns-down $A after a flushed namespace ruleset" vc_ok netns-down "$A"
t_done
