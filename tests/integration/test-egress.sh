#!/bin/bash
# SPDX-License-Identifier: MIT
# Root tier, real packets: AllowedEgress= (vpn-confinement.ini(5)). A
# dual-stack namespace may open connections to one LAN service
# (198.51.100.2:9998/tcp), to the host's own LAN address (every port) and
# to the IPv6 LAN (every port), through the bridge, outside the tunnel:
# those are reached, with the tunnel up and down; a neighbouring port and
# a neighbouring host are not, DNS to a resolver inside an allowed
# destination is dropped, and nothing else leaves through the veth
# (counted at the host's end). Each "not reached" is paired with the same
# probe reaching once the namespace ruleset and the host guard are off, and
# each layer is shown to hold alone. Also: the routes survive wg-up, a
# flow to the LAN service survives the tunnel going down, and a
# destination that contains the tunnel's DNS server or endpoint is refused
# (wg-up exits 3, the kill switch holds; check and ruleset say why).
# vm-tier: auto (Debian's older kernel: no per-interface IPv6 forwarding, the conntrack flush that keeps marked flows, concatenated interval sets)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lab.sh"
t_require_root
lab_up || { t_fail "lab setup"; t_done; }

I=4
lab_testns E e
lab_client "$E" "$I" v6 || { t_fail "client config"; t_done; }
LANIN_NEIGHBOUR=198.51.100.3 # another host of the same LAN, not allowed
lab_ini "$E" "$I" v6 "AllowedEgress=$LANIN_IP:9998:tcp" "AllowedEgress=$HOST_LANIN_IP" "AllowedEgress=$LANIN_NET6"
in_lanin ip addr add "$LANIN_NEIGHBOUR/26" dev eth0 || t_fail "a second LAN address"
CIP=$(client_ip "$I") NSIP=$(ns_ip "$I") NSIP6=$(ns_ip6 "$I")
P=$LAB_DIR/probes PP=$LAB_DIR/pp T=$LAB_DIR/targets
LANLOG=$LAB_DIR/log/srv-lanin.log HOSTLOG=$LAB_DIR/log/srv-host.log
lines() { wc -l <"$1"; }
new_lines() { tail -n "+$(($2 + 1))" "$1" | grep -c -- "$3"; }

# Per-interface IPv6 forwarding (force_forwarding) exists since Linux 6.17;
# before, IPv6 to the LAN needs the host to be an IPv6 router, which the
# runtime never makes it (it warns): the test does, as an admin would.
host_fwd_save
if in_host test -e /proc/sys/net/ipv6/conf/all/force_forwarding; then FORCE_FWD=1; else FORCE_FWD=0; fi

t_check "netns-up $E" vc_ok netns-up "$E"
if [ "$FORCE_FWD" = 0 ]; then
	t_check "netns-up warns that IPv6 AllowedEgress= needs net.ipv6.conf.all.forwarding on this kernel" \
		grep -q "no per-interface IPv6 forwarding.*connections to there" "$LAB_DIR/vc.out"
	in_host sysctl -qw net.ipv6.conf.all.forwarding=1
fi
t_check "netns-up: forwarding for AllowedEgress= on the LAN's interface and the bridge" \
	test "$(in_host sysctl -n net.ipv4.conf.lanin0.forwarding net.ipv4.conf.$E-br.forwarding | tr -d '\n')" = 11
t_check "netns-up: no forwarding toward the host's own address (it is local)" \
	test "$(in_host sysctl -n net.ipv4.conf.up0.forwarding)" = 0
t_check "wg-up $E" vc_ok wg-up "$E"
t_check "status says the tunnel is up with $(lab_expected_impl) WireGuard" impl_is "$E" "$(lab_expected_impl)"
eg=$(vc status "$E" --json | python3 -c "import json,sys; print(' '.join(json.load(sys.stdin)['namespaces'][0]['config']['allowed_egress']))")
t_check "status --json lists the AllowedEgress= destinations ($eg)" \
	test "$(wc -w <<<"$eg")" = 3 -a "${eg%% *}" = "$LANIN_IP:9998:tcp"
t_check "status shows them, via veth-$E" \
	test "$(vc status "$E" | grep -c "^  egress: .* (AllowedEgress=, via veth-$E, not the tunnel)$")" = 3
tunnel_ok() { in_ns "$E" curl -s --max-time "$LAB_T2" "http://$INET_IP:8080/" 2>/dev/null | grep -qx "peer=$CIP"; }
t_check "tunnel: the internet through the tunnel" wait_for 8 tunnel_ok
routed() { in_ns "$E" ip -o route get "$1" | grep -q " dev $2 "; }
t_check "routes: after wg-up, the LAN service via the veth, the LAN neighbour via the veth (AccessibleFrom), DNS via $E to the VPN" \
	bash -c "$(declare -f routed in_ns); E=$E; routed $LANIN_IP veth-$E && routed $LANIN_NEIGHBOUR veth-$E && routed $WG_SRV_IP ${E}0 && routed $LANIN_IP6 veth-$E"
t_check "check $E passes" vc_ok check "$E"

# --- what is reached, and from where it is seen ------------------------------------
# reach_batch: the allowed services, the neighbours, DNS inside an allowed
# destination; results in $PP.
reach_batch() {
	pp_clear
	pp lan p_tcp "$E" "$LANIN_IP" 9998
	pp lan6 p_tcp "$E" "$LANIN_IP6" 9998
	pp lan6-udp p_udp "$E" "$LANIN_IP6" 9999
	pp host p_tcp "$E" "$HOST_LANIN_IP" 9997
	pp host-udp p_udp "$E" "$HOST_LANIN_IP" 9999
	pp lan-port p_tcp "$E" "$LANIN_IP" 9997
	pp lan-udp p_udp "$E" "$LANIN_IP" 9999
	pp neighbour p_tcp "$E" "$LANIN_NEIGHBOUR" 9998
	pp dns-host ns_dns "@$HOST_LANIN_IP"
	pp dns-lan6 ns_dns "@$LANIN_IP6"
	pp inet p_tcp "$E" "$INET_IP" 9998
	pp_wait
}
ns_dns() { local r; r=$(in_ns "$E" dig "$@" +time="$LAB_T1" +tries=1 +short probe.test 2>/dev/null); answered "$r" '[0-9]'; }
m_lan=$(lines "$LANLOG") m_host=$(lines "$HOSTLOG")
# The first connection waits for neighbours on three links: poll for it.
t_check "allowed: the LAN service $LANIN_IP:9998/tcp is reached" wait_for 5 p_tcp "$E" "$LANIN_IP" 9998
reach_batch
t_check "allowed: ... again, with the other probes at once" pp_ok lan
t_check "allowed: ... and sees the host's LAN address (masqueraded: the LAN has no route to the namespace)" \
	test "$(new_lines "$LANLOG" "$m_lan" "^tcp 9998 $HOST_LANIN_IP\$")" -ge 1
t_check "allowed: the host's service on its own LAN address, tcp and udp, seen from the namespace's address" \
	bash -c "[ \"\$(cat $PP/host)\$(cat $PP/host-udp)\" = 00 ] && tail -n +$((m_host + 1)) $HOSTLOG | grep -q '^tcp 9997 $NSIP\$'"
t_check "allowed: the IPv6 LAN, tcp and udp" bash -c "[ \"\$(cat $PP/lan6)\$(cat $PP/lan6-udp)\" = 00 ]"
t_check "allowed: the internet still through the tunnel" pp_ok inet
t_check "not reached: a neighbouring port of the LAN service ($LANIN_IP:9997/tcp, 9999/udp)" \
	bash -c "pp_failed() { [ -n \"\$(cat $PP/\$1)\" ] && [ \"\$(cat $PP/\$1)\" != 0 ]; }; pp_failed lan-port && pp_failed lan-udp"
t_check "not reached: a neighbouring host of the LAN ($LANIN_NEIGHBOUR:9998, routed to the veth for AccessibleFrom)" pp_failed neighbour
t_check "not reached: DNS to the host's resolver on its allowed address" pp_failed dns-host
t_check "not reached: DNS to the LAN resolver inside the allowed IPv6 LAN" pp_failed dns-lan6
others=$(tail -n "+$((m_lan + 1))" "$LANLOG" | grep -v "^tcp 9998 $HOST_LANIN_IP\$" | grep -vc " $HOST_LANIN_IP6\$")
t_check "not reached: the LAN's servers logged nothing but the allowed connections ($others others)" test "$others" = 0

# Nothing else leaves through the veth: every IP packet counted there is
# one of the allowed flows (probes of every kind to every lab target).
T_ALL=$LAB_DIR/targets-all
{ obs_default_targets "$I"; obs_default_targets6 "$I" v6; echo "neighbour $LANIN_NEIGHBOUR"; } >"$T_ALL"
allowed_only() { # DESC
	local allowed sum=0 k extra=""
	obs_read "$LAB_HOST" vclveth
	for k in "lanin tcp" "hostlan tcp" "hostlan udp" "hostlan icmp" "lanin6 tcp" "lanin6 udp" "lanin6 icmp"; do
		sum=$((sum + ${OBS[$k]:-0}))
	done
	for k in "${!OBS[@]}"; do
		case $k in "lanin tcp" | "hostlan tcp" | "hostlan udp" | "hostlan icmp" | "lanin6 tcp" | "lanin6 udp" | "lanin6 icmp" | all | allip | nd | flow) ;;
		*) [ "${OBS[$k]}" -gt 0 ] && extra="$extra $k=${OBS[$k]}" ;; esac
	done
	allowed="${OBS[lanin tcp]:-0}/${OBS[hostlan tcp]:-0}/${OBS[lanin6 tcp]:-0}"
	if [ "${OBS[allip]}" = "$sum" ] && [ -z "$extra" ] && [ "${OBS[lanin tcp]:-0}" -gt 0 ] &&
		[ "${OBS[hostlan tcp]:-0}" -gt 0 ] && [ "${OBS[lanin6 tcp]:-0}" -gt 0 ]; then
		t_pass "$1: every IP packet on the veth ($sum) is an allowed flow (lan/host/lan6 tcp: $allowed)"
	else
		t_fail "$1: ${OBS[allip]} IP packets on the veth, $sum of allowed flows (lan/host/lan6 tcp: $allowed)${extra:+; others:$extra}"
		obs_dump "$LAB_HOST" vclveth | sed 's/^/#   /'
	fi
}
obs_setup "$LAB_HOST" vclveth "veth-$E-br" daddr "$T_ALL"
probe_batch "$E" "$T_ALL" "$P"
allowed_only "tunnel up, probes of every kind to every target"

# --- each layer alone, and the positive control ---------------------------------------
# With the namespace ruleset open, the host guard alone keeps the
# neighbouring port, the neighbouring host and DNS from the LAN; with the
# guard gone, the namespace ruleset alone; with both gone, all get through.
# (The host table's masquerade goes with the guard: the lab's LAN routes
# back to the namespace through HOST, as an admin's would.)
blocked_four() { pp_ok lan-port || pp_ok neighbour || pp_ok dns-host || pp_ok dns-lan6; }
ns_open "$E"
reach_batch
ns_restore "$E"
t_check "guard alone: with the namespace ruleset open, the neighbouring port, the neighbouring host and DNS still do not get through" \
	bash -c "$(declare -f pp_ok blocked_four); PP=$PP; ! blocked_four"
t_check "guard alone: ... the allowed LAN service does" pp_ok lan
host_guard_off "$E"
reach_batch
t_check "namespace alone: with the host table gone, the neighbouring port, the neighbouring host and DNS do not get through" \
	bash -c "$(declare -f pp_ok blocked_four); PP=$PP; ! blocked_four"
ns_open "$E"
reach_batch
ns_restore "$E"
host_guard_on "$E"
missing=""
for k in lan-port lan-udp neighbour dns-host dns-lan6; do pp_ok "$k" || missing="$missing $k"; done
t_check "control: with neither, the same probes get through${missing:+ (not:$missing)}" test -z "$missing"
t_check "control: ... and the tunnel still works once both are back" tunnel_ok

# --- a flow to the LAN service survives the tunnel going down -----------------------------
FIFO=$LAB_DIR/flow.fifo
mkfifo "$FIFO"
exec 3<>"$FIFO" # a writer first, so that the reader's open does not block
# (It opens the FIFO itself: a background job's stdin is /dev/null.)
lab_bg "$E" python3 -c "
import socket
s = socket.create_connection(('$LANIN_IP', 9998), timeout=30)
s.recv(100)
for line in open('$FIFO'):
    s.sendall(line.encode())
"
echo "egress-before" >&3
flow_line() { grep -q "^tcpdata 9998 $HOST_LANIN_IP $1\$" "$LANLOG"; }
t_check "flow: a connection to the LAN service carries a line" wait_for 5 flow_line egress-before

# --- tunnel down -------------------------------------------------------------------------
t_check "wg-down $E" vc_ok wg-down "$E"
echo "egress-after" >&3
t_check "tunnel down: the connection opened before still carries a line (its conntrack entry stayed)" wait_for 5 flow_line egress-after
exec 3>&-
t_check "tunnel down: the namespace holds its base ruleset, with AllowedEgress=" \
	bash -c "nsenter --net=/run/netns/$E nft list set inet vpn-confinement egress_ports4 | grep -q '$LANIN_IP . tcp . 9998'"
t_check "tunnel down: the routes are still via the veth" routed "$LANIN_IP" "veth-$E"
t_check "tunnel down: check's ruleset and route checks agree (only the tunnel is reported)" \
	bash -c "$(declare -f vc in_host); BUILD=$BUILD LAB_HOST=$LAB_HOST; ! vc check $E 2>&1 | grep -v 'tunnel is down' | grep -q ."
m_lan=$(lines "$LANLOG")
reach_batch
t_check "tunnel down: the allowed LAN service is reached" pp_ok lan
t_check "tunnel down: the host's service and the IPv6 LAN are reached" bash -c "[ \"\$(cat $PP/host)\$(cat $PP/lan6)\" = 00 ]"
t_check "tunnel down: the internet is not" pp_failed inet
t_check "tunnel down: nor the neighbouring port, the neighbouring host or DNS" \
	bash -c "$(declare -f pp_ok blocked_four); PP=$PP; ! blocked_four"
obs_reset "$LAB_HOST" vclveth
probe_batch "$E" "$T_ALL" "$P"
allowed_only "tunnel down, probes of every kind to every target"
# Control for the tunnel-down probes: with the namespace ruleset and the
# guard off, the internet's address leaves through the veth (its default
# route there) and the neighbours are reached.
host_guard_off "$E"
ns_open "$E"
in_ns "$E" ip route add default via "$(br_ip "$I")"
in_host sysctl -qw net.ipv4.conf.up0.forwarding=1
reach_batch
in_ns "$E" ip route del default via "$(br_ip "$I")"
ns_restore "$E"
host_guard_on "$E"
in_host sysctl -qw net.ipv4.conf.up0.forwarding=0
t_check "control: tunnel down, without the namespace ruleset and the guard the same internet, neighbour and DNS probes get through" \
	bash -c "[ \"\$(cat $PP/inet)\$(cat $PP/neighbour)\$(cat $PP/lan-port)\$(cat $PP/dns-host)\" = 0000 ]"

# --- refused: a destination around the tunnel's DNS server or endpoint -------------------
cp "$VPN_CONFINEMENT_CONFDIR/$E.ini" "$LAB_DIR/good.ini"
echo "AllowedEgress=192.0.2.0/24" >>"$VPN_CONFINEMENT_CONFDIR/$E.ini"
line=$(grep -n '^AllowedEgress=192.0.2.0/24$' "$VPN_CONFINEMENT_CONFDIR/$E.ini" | cut -d: -f1)
vc_run "$LAB_DIR/refused.out" wg-up "$E"
rc=$?
t_check "refused: wg-up with AllowedEgress= around the VPN's DNS server exits 3 (not retried)" test "$rc" = 3
t_check "refused: ... naming the ini's line, the server and the wg config" \
	grep -qF "$E.ini:$line: AllowedEgress: 192.0.2.0/24 contains DNS server $WG_SRV_IP of $LAB_DIR/wg/$E.conf" "$LAB_DIR/refused.out"
t_check_not "refused: ... no tunnel was made" bash -c "nsenter --net=/run/netns/$E ip link show ${E}0 2>/dev/null"
t_check "refused: ... the base ruleset (the kill switch) holds" \
	bash -c "nsenter --net=/run/netns/$E nft list chain inet vpn-confinement output | grep -q 'policy drop'"
t_check "refused: check says why" bash -c "$BUILD/vpn-confinement check $E 2>&1 | grep -qF 'contains DNS server $WG_SRV_IP'"
sed -i 's|^AllowedEgress=192.0.2.0/24$|AllowedEgress=203.0.113.0/24:8080|' "$VPN_CONFINEMENT_CONFDIR/$E.ini"
vc_run "$LAB_DIR/refused.out" ruleset "$E"
rc=$?
t_check "refused: ruleset with AllowedEgress= around the endpoint exits 3 and names it" \
	bash -c "[ $rc = 3 ] && grep -qF 'contains the endpoint $INET_IP of the peer at $LAB_DIR/wg/$E.conf:' $LAB_DIR/refused.out"
cp "$LAB_DIR/good.ini" "$VPN_CONFINEMENT_CONFDIR/$E.ini"
t_check "control: with the ini as it was, wg-up brings the tunnel up" vc_ok wg-up "$E"
t_check "control: ... and the internet is reached through it" wait_for 8 tunnel_ok

# --- a service in another namespace ----------------------------------------------------------
# Its NamespaceAddress and mapped port, with this namespace's subnet in its
# AccessibleFrom=: the flow leaves with this host's bridge address there.
lab_testns F f
lab_client "$F" $((I + 1)) || t_fail "client config of $F"
lab_ini "$F" $((I + 1)) "" "AccessibleFrom=$(ns_net "$I")" "PortMapping=18080:8080:tcp"
echo "AllowedEgress=$(ns_ip $((I + 1))):8080:tcp" >>"$VPN_CONFINEMENT_CONFDIR/$E.ini"
FLOG=$LAB_DIR/log/srv-f.log
touch "$FLOG"
# (A changed [Namespace] takes the namespace's units again: netns-up for
# the route and the host table, wg-up for the namespace ruleset.)
t_check "another namespace: netns-up $E again (the route, the host table)" vc_ok netns-up "$E"
t_check "another namespace: wg-up $E again (its ruleset)" vc_ok wg-up "$E"
t_check "another namespace: netns-up $F" vc_ok netns-up "$F"
t_check "another namespace: wg-up $F" vc_ok wg-up "$F"
lab_bg "$F" python3 "$HERE/labsrv.py" "$FLOG" http:8080
wait_for 5 grep -q ready "$FLOG"
t_check "another namespace: its service is reached" wait_for 5 p_http "$E" "http://$(ns_ip $((I + 1))):8080/"
t_check "another namespace: ... and sees $F's bridge address (masqueraded)" grep -q "^http 8080 $(br_ip $((I + 1)))\$" "$FLOG"

# --- down ------------------------------------------------------------------------------------
t_check "wg-down $E" vc_ok wg-down "$E"
t_check "netns-down $E" vc_ok netns-down "$E"
t_check "netns-down $F" vc_ok netns-down "$F"
t_check "netns-down gave the LAN's interface its forwarding back" test "$(in_host sysctl -n net.ipv4.conf.lanin0.forwarding)" = 0
host_fwd_restore
t_done
