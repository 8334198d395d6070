#!/bin/bash
# SPDX-License-Identifier: MIT
# Root tier, real packets: a dual-stack namespace. IPv6 through the tunnel,
# IPv6 to the LAN and bridge blocked, router advertisements ignored; port
# mappings (host:from and namespaceAddress:to, tcp and udp, from the LAN in
# AccessibleFrom, the host, not from the LAN outside it); an unmapped port
# unreachable from everywhere; open VPN ports reachable from the peer only.
# Each "blocked" check is paired with a positive control.
# vm-tier: kernel
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lab.sh"
t_require_root
lab_up || { t_fail "lab setup"; t_done; }

I=1
lab_testns B b
lab_client "$B" "$I" v6 || { t_fail "client config"; t_done; }
lab_ini "$B" "$I" v6 "PortMapping=18080:8080:tcp" "PortMapping=15353:5353:udp" "OpenVPNPort=51413:both"
CIP=$(client_ip "$I") CIP6=$(client_ip6 "$I") NSIP=$(ns_ip "$I") NSIP6=$(ns_ip6 "$I") BR=$(br_ip "$I")
T6=$LAB_DIR/targets6 P=$LAB_DIR/probes PP=$LAB_DIR/pp
obs_default_targets6 "$I" v6 >"$T6"
lines() { wc -l <"$1"; }
new_lines() { tail -n "+$(($2 + 1))" "$1" | grep -c -- "$3"; }

t_check "netns-up $B (dual-stack)" vc_ok netns-up "$B"
cp "$LAB_DIR/vc.out" "$LAB_DIR/netns-up.out"
# Per-interface IPv6 forwarding (force_forwarding) exists since Linux 6.17;
# on older kernels IPv6 port mappings from other hosts need the host to be
# an IPv6 router (all.forwarding), which the runtime never turns on itself.
if in_host test -e /proc/sys/net/ipv6/conf/all/force_forwarding; then FORCE_FWD=1; else FORCE_FWD=0; fi
if [ "$FORCE_FWD" = 0 ]; then
	t_check "netns-up on a kernel without force_forwarding warns that IPv6 port mappings from the LAN need all.forwarding" \
		grep -q "no per-interface IPv6 forwarding.*net.ipv6.conf.all.forwarding=1" "$LAB_DIR/netns-up.out"
fi
t_check "wg-up $B (dual-stack)" vc_ok wg-up "$B"
if [ "${VPNC_IMPL:-}" != baseline ]; then
	t_check "status says the tunnel is up with $(lab_expected_impl) WireGuard" impl_is "$B" "$(lab_expected_impl)"
fi
# The namespace's own servers: mapped (8080 tcp, 5353 udp), unmapped (7777),
# open VPN port (51413).
NSLOG=$LAB_DIR/log/srv-ns.log
touch "$NSLOG"
lab_bg "$B" python3 "$HERE/labsrv.py" "$NSLOG" http:8080 udp:5353 tcp:7777 udp:7777 tcp:51413 udp:51413
wait_for 5 grep -q ready "$NSLOG" || t_fail "namespace server did not start"

# --- IPv6 through the tunnel ------------------------------------------------------
tun6() { in_ns "$B" curl -gs --max-time "$LAB_T2" "http://[$INET_IP6]:8080/" | grep -qx "peer=$CIP6"; }
tun4() { in_ns "$B" curl -s --max-time "$LAB_T2" "http://$INET_IP:8080/" | grep -qx "peer=$CIP"; }
t_check "tunnel (dual-stack): IPv4 HTTP, the server sees $CIP" wait_for 8 tun4
t_check "IPv6 (dual-stack): HTTP over IPv6 goes through the tunnel, the server sees $CIP6" wait_for 4 tun6
t_check "IPv6 (dual-stack): default route via ${B}0" bash -c "nsenter --net=/run/netns/$B ip -6 route show default | grep -q 'dev ${B}0'"

# DNS over IPv6: the VPN's resolver (DNS= has its IPv6 address) answers
# through the tunnel; another resolver over IPv6 through the tunnel does not.
m=$(lines "$LAB_DIR/log/dns-vpn.log")
a=$(in_ns "$B" dig +time="$LAB_T1" +tries=2 +short "@$WG_SRV_IP6" probe.test)
b=$(in_ns "$B" dig +tcp +time="$LAB_T1" +tries=2 +short "@$WG_SRV_IP6" probe.test)
t_check "DNS over IPv6: the VPN resolver answers udp and tcp from $CIP6 ($a $b)" \
	test "$a $b $(new_lines "$LAB_DIR/log/dns-vpn.log" "$m" "from $CIP6")" = "$DNS_VPN_ANSWER $DNS_VPN_ANSWER 2"
r=$(other_resolver "$B" "$INET_IP6")
t_check "DNS over IPv6: another resolver via the tunnel (udp/53, tcp/53, tcp/853) gets nothing ($r answers)" test "$r" = 0
ns_open "$B"
r=$(other_resolver "$B" "$INET_IP6")
ns_restore "$B"
t_check "control: without the namespace ruleset the same 3 IPv6 queries are answered ($r)" test "$r" = 3

# IPv6 to the LAN and the bridge (routed via the veth) is dropped ...
obs_setup "$LAB_HOST" vclveth "veth-$B-br" daddr "$T6"
probe_batch "$B" "$T6" "$P"
n=$(obs_probe_sum "$LAB_HOST" vclveth)
t_check "IPv6 (dual-stack): probes to the LAN and bridge IPv6 addresses: 0 on the veth ($n)" test "$n" = 0
t_check "IPv6 (dual-stack): tcp/udp/icmp to the internet over IPv6 answered through the tunnel" \
	test "$(cat "$P/inet6.tcp")$(cat "$P/inet6.udp")$(cat "$P/inet6.icmp")" = 000
# ... and leaves via the veth without the namespace ruleset (control).
obs_reset "$LAB_HOST" vclveth
ns_open "$B"
probe_batch "$B" "$T6" "$P"
ns_restore "$B"
missing=""
obs_read "$LAB_HOST" vclveth
for t in lanin6 bridge6; do for k in $PROBE_KINDS; do
	[ "${OBS["$t $k"]:-0}" -gt 0 ] || missing="$missing $t/$k"
done; done
t_check "control: without the namespace ruleset the same IPv6 probes leave via the veth${missing:+ (not seen:$missing)}" test -z "$missing"

# Kill switch over IPv6: the wg interface deleted, no IPv6 probe leaves.
obs_reset "$LAB_HOST" vclveth
in_ns "$B" ip link del "${B}0"
probe_batch "$B" "$T6" "$P"
obs_read "$LAB_HOST" vclveth
n=${OBS[allip]}
t_check "IPv6 kill switch (wg interface deleted): 0 IP packets on the veth ($n; neighbour discovery: ${OBS[nd]})" test "$n" = 0
[ "$n" = 0 ] || obs_dump "$LAB_HOST" vclveth | sed 's/^/#   /'
bad=""; for f in "$P"/*; do [ "$(cat "$f")" = 0 ] && bad="$bad ${f##*/}"; done
t_check "IPv6 kill switch (wg interface deleted): no IPv6 probe answered${bad:+ (answered:$bad)}" test -z "$bad"
vc wg-down "$B" >/dev/null 2>&1
t_check "tunnel back (wg-down, wg-up)" vc_ok wg-up "$B"
t_check "IPv6 tunnel back" wait_for 8 tun6

# Second layer over IPv6: the host routes IPv6 (worst case); a root process in
# the namespace flushes its ruleset and routes IPv6 via the bridge.
host_fwd_save
in_host sysctl -qw net.ipv6.conf.all.forwarding=1
NS6NET=${NSIP6%::*}::/64
obs_from "$LAB_INET" vclfrom eth0 "$NS6NET" "$CIP6/128"
obs_from "$LAB_LANIN" vclfrom eth0 "$NS6NET" "$CIP6/128"
ns_open "$B"
in_ns "$B" ip -6 route replace default via "$(br_ip6 "$I")"
m=$(lines "$LAB_DIR/log/srv-host.log")
probe_batch "$B" "$T6" "$P"
s6="$(obs_from_count "$LAB_INET" vclfrom) $(obs_from_count "$LAB_LANIN" vclfrom) $(new_lines "$LAB_DIR/log/srv-host.log" "$m" " $NSIP6\$")"
t_check "second layer (IPv6): with the namespace ruleset gone, internet, LAN and host sockets see nothing new ($s6)" test "$s6" = "0 0 0"
host_guard_off "$B"
m=$(lines "$LAB_DIR/log/srv-host.log")
probe_batch "$B" "$T6" "$P"
read -r s1 s2 s3 <<<"$(obs_from_count "$LAB_INET" vclfrom) $(obs_from_count "$LAB_LANIN" vclfrom) $(new_lines "$LAB_DIR/log/srv-host.log" "$m" " $NSIP6\$")"
host_guard_on "$B"
t_check "control: without the host table the same IPv6 probes reach the internet, the LAN and host sockets ($s1 $s2 $s3)" \
	test "$s1" -gt 0 -a "$s2" -gt 0 -a "$s3" -gt 0
in_ns "$B" ip -6 route del default via "$(br_ip6 "$I")"
in_ns "$B" ip -6 route add default dev "${B}0"
ns_restore "$B"
host_fwd_restore
obs_delete "$LAB_INET" vclfrom
obs_delete "$LAB_LANIN" vclfrom
t_check "IPv6 tunnel still fine after the second-layer test" wait_for 4 tun6
obs_delete "$LAB_HOST" vclveth

# --- Port mappings: reachable ------------------------------------------------------
pp_clear
pp lanin-from-tcp p_http "$LAB_LANIN" "http://$HOST_LANIN_IP:18080/"
pp lanin-from-udp p_udp "$LAB_LANIN" "$HOST_LANIN_IP" 15353
pp host-from-tcp p_http "$LAB_HOST" "http://$HOST_LANIN_IP:18080/"
pp host-from-udp p_udp "$LAB_HOST" "$HOST_LANIN_IP" 15353
pp host-to-tcp p_http "$LAB_HOST" "http://$NSIP:8080/"
pp host-to-udp p_udp "$LAB_HOST" "$NSIP" 5353
pp lanin-to-tcp p_http "$LAB_LANIN" "http://$NSIP:8080/"
pp lanin-to-udp p_udp "$LAB_LANIN" "$NSIP" 5353
[ "$FORCE_FWD" = 1 ] && pp lanin-to6-tcp p_http "$LAB_LANIN" "http://[$NSIP6]:8080/"
pp peer-open-tcp p_tcp "$LAB_INET" "$CIP" 51413
pp peer-open-udp p_udp "$LAB_INET" "$CIP" 51413
pp_wait
t_check "port mapping: from the LAN in AccessibleFrom, host:18080/tcp reaches the namespace's :8080" pp_ok lanin-from-tcp
t_check "port mapping: from the LAN in AccessibleFrom, host:15353/udp reaches the namespace's :5353" pp_ok lanin-from-udp
t_check "port mapping: the LAN client's own address is what the namespace server sees" grep -q "http 8080 $LANIN_IP\$" "$NSLOG"
t_check "port mapping: from the host itself, host:18080/tcp" pp_ok host-from-tcp
t_check "port mapping: from the host itself, host:15353/udp" pp_ok host-from-udp
t_check "port mapping: namespaceAddress:8080/tcp from the host" pp_ok host-to-tcp
t_check "port mapping: namespaceAddress:5353/udp from the host" pp_ok host-to-udp
t_check "port mapping: namespaceAddress:8080/tcp from the LAN in AccessibleFrom" pp_ok lanin-to-tcp
t_check "port mapping: namespaceAddress:5353/udp from the LAN in AccessibleFrom" pp_ok lanin-to-udp
if [ "$FORCE_FWD" = 1 ]; then
	t_check "port mapping: [namespaceAddressIPv6]:8080/tcp from the IPv6 LAN in AccessibleFrom" pp_ok lanin-to6-tcp
else
	t_check_not "port mapping (no force_forwarding): the runtime did not make the host an IPv6 router, [namespaceAddressIPv6]:8080/tcp from the IPv6 LAN does not reach" \
		p_http "$LAB_LANIN" "http://[$NSIP6]:8080/"
	host_fwd_save
	in_host sysctl -qw net.ipv6.conf.all.forwarding=1
	t_check "port mapping (no force_forwarding): with net.ipv6.conf.all.forwarding=1, as the warning says, [namespaceAddressIPv6]:8080/tcp from the IPv6 LAN reaches" \
		p_http "$LAB_LANIN" "http://[$NSIP6]:8080/"
	host_fwd_restore
fi
t_check "open VPN port: the peer reaches 51413/tcp through the tunnel" pp_ok peer-open-tcp
t_check "open VPN port: the peer reaches 51413/udp through the tunnel" pp_ok peer-open-udp
pp_ok lanin-from-tcp && pp_ok lanin-from-udp; lanin_from=$?

# --- blocked: outside AccessibleFrom, unmapped port, open port via the veth ------
blocked_batch() {
	pp_clear
	pp lanout-from-tcp p_http "$LAB_LANOUT" "http://$HOST_LANOUT_IP:18080/"
	pp lanout-from-udp p_udp "$LAB_LANOUT" "$HOST_LANOUT_IP" 15353
	pp lanout-to-tcp p_http "$LAB_LANOUT" "http://$NSIP:8080/"
	pp lanout-to-udp p_udp "$LAB_LANOUT" "$NSIP" 5353
	local w n
	for w in host:$LAB_HOST lanin:$LAB_LANIN lanout:$LAB_LANOUT; do
		n=${w#*:} w=${w%%:*}
		pp "$w-7777-tcp" p_tcp "$n" "$NSIP" 7777
		pp "$w-7777-udp" p_udp "$n" "$NSIP" 7777
	done
	pp peer-7777-tcp p_tcp "$LAB_INET" "$CIP" 7777
	pp peer-7777-udp p_udp "$LAB_INET" "$CIP" 7777
	pp peer-7777-tcp6 p_tcp "$LAB_INET" "$CIP6" 7777
	pp lanin-open-tcp p_tcp "$LAB_LANIN" "$NSIP" 51413
	pp lanin-open-udp p_udp "$LAB_LANIN" "$NSIP" 51413
	pp_wait
}
# The host also routes for the LAN outside AccessibleFrom (worst case: the
# runtime turns forwarding on only where AccessibleFrom needs it).
host_fwd_save
in_host sysctl -qw net.ipv4.conf.lanout0.forwarding=1
m=$(lines "$NSLOG")
blocked_batch
t_check "port mapping: from the LAN outside AccessibleFrom, host:18080/tcp does not reach" pp_failed lanout-from-tcp
t_check "port mapping: from the LAN outside AccessibleFrom, host:15353/udp does not reach" pp_failed lanout-from-udp
t_check "port mapping: from the LAN outside AccessibleFrom, namespaceAddress:8080/tcp does not reach" pp_failed lanout-to-tcp
t_check "port mapping: from the LAN outside AccessibleFrom, namespaceAddress:5353/udp does not reach" pp_failed lanout-to-udp
t_check "port mapping: the namespace servers saw nothing from $LANOUT_IP" test "$(new_lines "$NSLOG" "$m" " $LANOUT_IP\$")" = 0
for w in host lanin lanout peer; do
	t_check "unmapped port 7777/tcp on 0.0.0.0 unreachable from $w" pp_failed "$w-7777-tcp"
	t_check "unmapped port 7777/udp on 0.0.0.0 unreachable from $w" pp_failed "$w-7777-udp"
done
t_check "unmapped port 7777/tcp unreachable from the peer over IPv6" pp_failed peer-7777-tcp6
t_check "unmapped port 7777: the namespace server saw nothing" test "$(new_lines "$NSLOG" "$m" "^[a-z]* 7777 ")" = 0
t_check "open VPN port 51413/tcp not reachable from the LAN via the veth" pp_failed lanin-open-tcp
t_check "open VPN port 51413/udp not reachable from the LAN via the veth" pp_failed lanin-open-udp
# Control: without the namespace ruleset and the host table (and with a route
# back to the LAN outside AccessibleFrom) the same probes get through.
ns_open "$B"
host_guard_off "$B"
in_ns "$B" ip route add "$LANOUT_NET" via "$BR"
blocked_batch
in_ns "$B" ip route del "$LANOUT_NET" via "$BR"
host_guard_on "$B"
ns_restore "$B"
host_fwd_restore
t_check "control: without the namespace ruleset and host table the LAN outside AccessibleFrom reaches namespaceAddress:8080/tcp and :5353/udp" \
	bash -c "[ \"\$(cat $PP/lanout-to-tcp)\$(cat $PP/lanout-to-udp)\" = 00 ]"
t_check "control: the same host:18080/tcp and host:15353/udp probes from the LAN inside AccessibleFrom got through (above)" test "$lanin_from" = 0
missing=""
for w in host lanin lanout peer; do for k in tcp udp; do pp_ok "$w-7777-$k" || missing="$missing $w/$k"; done; done
pp_ok peer-7777-tcp6 || missing="$missing peer/tcp6"
t_check "control: without the namespace ruleset and host table 7777 is reached from host, both LANs and the peer${missing:+ (not:$missing)}" test -z "$missing"
t_check "control: without the namespace ruleset and host table 51413 is reached from the LAN via the veth" \
	bash -c "[ \"\$(cat $PP/lanin-open-tcp)\$(cat $PP/lanin-open-udp)\" = 00 ]"

# --- Router advertisements --------------------------------------------------------
ra_effect() { # anything the RA could have created in the namespace
	in_ns "$B" ip -6 addr show | grep 2001:db8:99:
	in_ns "$B" ip -6 route show | grep -E '2001:db8:99:|via fe80::5'
}
ra_send() { in_host python3 "$HERE/ra.py" "$B-br" 2001:db8:99:: && sleep "$(lab_t 0.3)"; }
ra_send
t_check "IPv6: a router advertisement injected on $B-br creates no address or route" test -z "$(ra_effect)"
# Each layer alone: sysctls hold without the ruleset ...
ns_open "$B"
ra_send
t_check "IPv6: ... also with the namespace ruleset replaced by accept-all (the sysctls hold)" test -z "$(ra_effect)"
# ... and (control) the same RA takes effect with neither.
for k in accept_ra=2 autoconf=1 forwarding=0 disable_ipv6=0; do
	in_ns "$B" sysctl -qw "net.ipv6.conf.veth-$B.$k"
done
ra_send
ra_took() { [ -n "$(ra_effect)" ]; }
t_check "control: with accept-all and accept_ra=2 the same RA creates an address/route" wait_for 3 ra_took
ns_restore "$B"

# --- down ----------------------------------------------------------------------------
kill "${LAB_PIDS[-1]}" 2>/dev/null
t_check "wg-down $B" vc_ok wg-down "$B"
t_check "netns-down $B" vc_ok netns-down "$B"
t_done
