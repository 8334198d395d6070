#!/bin/bash
# Root tier. Every golden case's rulesets (base, full, host, and the default
# output) pass `nft -c` and really load, inside a throwaway network namespace;
# re-applying is idempotent and touches no other table. Then real packets
# against the full and base rulesets in a small lab of namespaces, with a
# positive control for every "blocked" probe.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cases.sh"
t_require_root

tag=$$$RANDOM
NS=rsn$tag
work=$(mktemp -d)
pids=()
netnses=()
cleanup() {
	local p n
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	for n in "${netnses[@]}"; do ip netns del "$n"; done
	rm -rf "$work"
}
trap cleanup EXIT
addns() { ip netns add "$1" && netnses+=("$1"); }
in_ns() { local n=$1; shift; nsenter --net=/run/netns/"$n" "$@"; }
quiet() { "$@" >/dev/null; }

addns "$NS" || { t_fail "create netns"; t_done; }
# Someone else's table: it must survive everything we load.
in_ns "$NS" nft -f - <<'NFT'
table inet sentinel {
	chain c {
		type filter hook input priority 10; policy accept;
	}
}
NFT

for case_dir in "$CASES_DIR"/*/; do
	case_dir=${case_dir%/}
	name=$(basename "$case_dir")
	out=$work/$name
	render_case "$case_dir" "$work"
	rc=$?
	if [ $rc -ne 0 ]; then
		t_fail "$name: renders (exit $rc)"
		continue
	fi
	for form in base full host default; do
		if in_ns "$NS" nft -c -f "$out/$form.nft"; then
			t_pass "$name/$form: nft -c"
		else
			t_fail "$name/$form: nft -c"
		fi
	done
	# Load for real, in the order netns-up and wg-up do.
	t_check "$name: base loads" in_ns "$NS" nft -f "$out/base.nft"
	t_check "$name: base listed with policy drop" \
		test "$(in_ns "$NS" nft list table inet vpn-confinement | grep -c 'policy drop;')" = 3
	t_check "$name: host loads" in_ns "$NS" nft -f "$out/host.nft"
	t_check "$name: full replaces base" in_ns "$NS" nft -f "$out/full.nft"
	in_ns "$NS" nft -s list table inet vpn-confinement >"$out/live-full.1"
	in_ns "$NS" nft -s list table inet "vpn-confinement-$name" >"$out/live-host.1"
	t_check "$name: full listed (dns-restrict present)" grep -q 'chain dns-restrict' "$out/live-full.1"
	t_check "$name: both loaded again at once (default output)" in_ns "$NS" nft -f "$out/default.nft"
	in_ns "$NS" nft -s list table inet vpn-confinement >"$out/live-full.2"
	in_ns "$NS" nft -s list table inet "vpn-confinement-$name" >"$out/live-host.2"
	t_check "$name: re-applying is idempotent (namespace table)" cmp -s "$out/live-full.1" "$out/live-full.2"
	t_check "$name: re-applying is idempotent (host table)" cmp -s "$out/live-host.1" "$out/live-host.2"
	t_check "$name: counters are listable" quiet in_ns "$NS" nft list counter inet vpn-confinement output_drop
	t_check "$name: tables: ours and the sentinel, nothing else" \
		test "$(in_ns "$NS" nft list tables | sort | tr '\n' ' ')" = \
		"table inet sentinel table inet vpn-confinement table inet vpn-confinement-$name "
	in_ns "$NS" nft delete table inet vpn-confinement
	in_ns "$NS" nft delete table inet "vpn-confinement-$name"
done
t_check "the sentinel table survived" quiet in_ns "$NS" nft list table inet sentinel

# ---- Packets. The "proton" case: AccessibleFrom=10.0.0.0/8, DNS 10.2.0.1,
# PortMapping=9091:9091, OpenVPNPort=51413:both. The tunnel is played by a
# veth named proton0 (the rules match names), its far end is "VPN" with the
# DNS server 10.2.0.1 and a non-DNS host 10.2.0.3; the namespace's veth-proton
# leads to "LAN" holding the bridge address and two client addresses, one in
# AccessibleFrom (10.1.1.1) and one outside (172.30.0.1).
IN=rsi$tag LAN=rsl$tag VPN=rsv$tag
addns "$IN" && addns "$LAN" && addns "$VPN" || { t_fail "lab namespaces"; t_done; }
set -e
ip -n "$IN" link set lo up
ip -n "$LAN" link set lo up
ip -n "$VPN" link set lo up
ip -n "$IN" link add veth-proton type veth peer name lanif netns "$LAN"
ip -n "$IN" link add proton0 type veth peer name vpnif netns "$VPN"
ip -n "$IN" addr add 192.168.15.1/24 dev veth-proton
ip -n "$IN" addr add 10.2.0.2/24 dev proton0
ip -n "$IN" link set veth-proton up
ip -n "$IN" link set proton0 up
ip -n "$IN" route add default via 10.2.0.1 dev proton0
ip -n "$IN" route add 10.0.0.0/8 via 192.168.15.5 dev veth-proton
ip -n "$IN" route add 172.30.0.0/16 via 192.168.15.5 dev veth-proton
ip -n "$LAN" addr add 192.168.15.5/24 dev lanif
ip -n "$LAN" addr add 10.1.1.1/32 dev lanif
ip -n "$LAN" addr add 172.30.0.1/32 dev lanif
ip -n "$LAN" link set lanif up
ip -n "$VPN" addr add 10.2.0.1/24 dev vpnif
ip -n "$VPN" addr add 10.2.0.3/24 dev vpnif
ip -n "$VPN" link set vpnif up
# WireGuard links have no neighbour discovery; these veths playing N0 get
# static neighbours so the rulesets (which allow no ND on N0) are what is
# tested. static_neigh NS_A IF_A NS_B IF_B ADDR_A ADDR_B
static_neigh() {
	local mac_a mac_b
	mac_a=$(ip -n "$1" -br link show "$2" | awk '{ print $3 }')
	mac_b=$(ip -n "$3" -br link show "$4" | awk '{ print $3 }')
	ip -n "$1" neigh replace "$6" lladdr "$mac_b" dev "$2" nud permanent
	ip -n "$3" neigh replace "$5" lladdr "$mac_a" dev "$4" nud permanent
}
# IPv6 on the tunnel's link, though the proton wg config has no IPv6 address.
ip -n "$IN" addr add fd42::2/64 dev proton0 nodad
ip -n "$VPN" addr add fd42::1/64 dev vpnif nodad
ip -n "$IN" -6 route add default via fd42::1 dev proton0
static_neigh "$IN" proton0 "$VPN" vpnif fd42::2 fd42::1
set +e

serve() { # netns proto port [address]: answers "ok" to anything
	local n=$1 proto=$2 port=$3 bind=""
	# UDP answers must come from the address asked.
	[ -n "${4:-}" ] && bind=",bind=$4"
	if [ "$proto" = tcp6 ]; then
		nsenter --net=/run/netns/"$n" socat TCP6-LISTEN:"$port",ipv6only=1,reuseaddr,fork SYSTEM:'read -r x; echo ok' &
	elif [ "$proto" = udp6 ]; then
		nsenter --net=/run/netns/"$n" socat -T1 UDP6-RECVFROM:"$port",ipv6only=1,reuseaddr,fork$bind SYSTEM:'read -r x; echo ok' &
	elif [ "$proto" = tcp ]; then
		nsenter --net=/run/netns/"$n" socat TCP-LISTEN:"$port",reuseaddr,fork$bind SYSTEM:'read -r x; echo ok' &
	else
		nsenter --net=/run/netns/"$n" socat -T1 UDP-RECVFROM:"$port",reuseaddr,fork$bind SYSTEM:'read -r x; echo ok' &
	fi
	pids+=($!)
}
serve "$IN" tcp 9091
serve "$IN" tcp 9092
serve "$IN" tcp 51413
serve "$IN" tcp 51414
serve "$LAN" tcp 8000
serve "$VPN" udp 53 10.2.0.1
serve "$VPN" udp 53 10.2.0.3
serve "$VPN" udp 5353 10.2.0.3
serve "$VPN" tcp 80
serve "$VPN" tcp6 80
sleep 0.5
# probe FROM_NS PROTO ADDR PORT [SOURCE]: succeeds when "ok" comes back.
probe() {
	local n=$1 proto=$2 addr=$3 port=$4 src=${5:-} opt=""
	[ -n "$src" ] && opt=",bind=$src"
	if [ "$proto" = tcp ] || [ "$proto" = tcp6 ]; then
		in_ns "$n" timeout 3 socat -T2 - "${proto^^}":"$addr":"$port",connect-timeout=2$opt </dev/null 2>/dev/null | grep -q ok
	elif [ "$proto" = udp6 ]; then
		echo q | in_ns "$n" timeout 3 socat -T2 - UDP6:"$addr":"$port"$opt 2>/dev/null | grep -q ok
	else
		echo q | in_ns "$n" timeout 3 socat -T2 - UDP:"$addr":"$port"$opt 2>/dev/null | grep -q ok
	fi
}
counter() { in_ns "$IN" nft list counter inet vpn-confinement "$1" | awk '/packets/ { print $2 }'; }

# Controls with no ruleset: every probe below gets through.
t_check "control: namespace reaches the LAN (no ruleset)" probe "$IN" tcp 192.168.15.5 8000
t_check "control: LAN reaches an unmapped port (no ruleset)" probe "$LAN" tcp 192.168.15.1 9092
t_check "control: a client outside AccessibleFrom reaches 9091 (no ruleset)" probe "$LAN" tcp 192.168.15.1 9091 172.30.0.1
t_check "control: VPN side reaches a non-open port (no ruleset)" probe "$VPN" tcp 10.2.0.2 51414
t_check "control: DNS to a non-VPN server on 53 (no ruleset)" probe "$IN" udp 10.2.0.3 53
t_check "control: IPv6 through the tunnel link (no ruleset)" probe "$IN" tcp6 '[fd42::1]' 80

t_check "base loads" in_ns "$IN" nft -f "$work/proton/base.nft"
t_check "base: lo works" probe "$IN" tcp 127.0.0.1 9091
t_check_not "base: nothing leaves through the tunnel" probe "$IN" tcp 10.2.0.1 80
t_check_not "base: nothing comes in from the LAN" probe "$LAN" tcp 192.168.15.1 9091

t_check "full loads" in_ns "$IN" nft -f "$work/proton/full.nft"
t_check "full: new connections out through the tunnel" probe "$IN" tcp 10.2.0.1 80
t_check_not "full: no new connection out through the veth" probe "$IN" tcp 192.168.15.5 8000
t_check "full: mapped port from the bridge subnet" probe "$LAN" tcp 192.168.15.1 9091
t_check "full: mapped port from AccessibleFrom" probe "$LAN" tcp 192.168.15.1 9091 10.1.1.1
t_check_not "full: mapped port not from outside AccessibleFrom" probe "$LAN" tcp 192.168.15.1 9091 172.30.0.1
t_check_not "full: unmapped port closed to the LAN" probe "$LAN" tcp 192.168.15.1 9092
t_check "full: open VPN port from the tunnel" probe "$VPN" tcp 10.2.0.2 51413
t_check_not "full: other ports closed to the tunnel" probe "$VPN" tcp 10.2.0.2 51414
t_check_not "full: mapped port not from the tunnel" probe "$VPN" tcp 10.2.0.2 9091
t_check "full: DNS to the VPN's server through the tunnel" probe "$IN" udp 10.2.0.1 53
t_check "full: other UDP through the tunnel" probe "$IN" udp 10.2.0.3 5353
before=$(counter output_drop)
t_check_not "full: no IPv6 out for a config without an IPv6 address" probe "$IN" tcp6 '[fd42::1]' 80
t_check "full: ... dropped by the output chain" test "$(counter output_drop)" -gt "$before"
before=$(counter dns_drop)
t_check_not "full: DNS to another server through the tunnel is dropped" probe "$IN" udp 10.2.0.3 53
t_check "full: ... by dns-restrict (counter $before -> $(counter dns_drop))" test "$(counter dns_drop)" -gt "$before"
# The ProtonVPN trap: the VPN's DNS address routed to the LAN side.
ip -n "$IN" route add 10.2.0.1/32 via 192.168.15.5 dev veth-proton
before=$(counter dns_drop)
t_check_not "full: the VPN's DNS address is not asked via the veth" probe "$IN" udp 10.2.0.1 53
t_check "full: ... dropped by dns-restrict" test "$(counter dns_drop)" -gt "$before"
ip -n "$IN" route del 10.2.0.1/32
t_check "full: output drops are counted" test "$(counter output_drop)" -gt 0
t_check "full: input drops are counted" test "$(counter input_drop)" -gt 0

# Established flows stay on their interface: a TCP connection through the
# tunnel keeps sending while its route moves to the veth (as when N0
# vanishes and a LAN route covers the address). The LAN counts what arrives.
nsenter --net=/run/netns/"$VPN" socat -u TCP-LISTEN:81,reuseaddr,fork OPEN:/dev/null &
pids+=($!)
in_ns "$LAN" nft -f - <<'NFT'
table inet watch {
	counter leaked { }
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		tcp dport 81 counter name "leaked"
	}
}
NFT
leaked() { in_ns "$LAN" nft list counter inet watch leaked | awk '/packets/ { print $2 }'; }
printf '#!/bin/sh\nwhile true; do echo x; sleep 0.05; done\n' >"$work/sender.sh"
chmod +x "$work/sender.sh"
flow_moves() { # starts a sender, moves its route, prints what the LAN saw
	local sender before
	nsenter --net=/run/netns/"$IN" socat -u EXEC:"$work/sender.sh" TCP:10.2.0.1:81 &
	sender=$!
	sleep 0.5
	before=$(leaked)
	ip -n "$IN" route replace 10.2.0.1/32 via 192.168.15.5 dev veth-proton
	sleep 1
	kill "$sender"
	wait "$sender" 2>/dev/null
	ip -n "$IN" route del 10.2.0.1/32
	echo $(($(leaked) - before))
}
in_ns "$IN" nft delete table inet vpn-confinement
n=$(flow_moves)
t_check "control: without the ruleset the flow continues on the veth ($n packets)" test "$n" -gt 0
in_ns "$IN" nft -f "$work/proton/full.nft"
n=$(flow_moves)
t_check "full: not one packet of the tunnel flow on the veth ($n)" test "$n" -eq 0
t_check "full: ... dropped by the output chain" test "$(counter output_drop)" -gt 0

# ---- The named counters count the packets their rules drop, and only those
# (the metrics read them: vpn-confinement(8), METRICS). DNS: the VPN's
# server asked through the tunnel is not a dns_drop. Forward: the namespace
# made a router (only root outside the confinement could), a packet from the
# LAN to the VPN side is forwarded without the ruleset and dropped and
# counted with it, base or full; a packet for the namespace itself is not.
before=$(counter dns_drop)
t_check "counters: DNS to the VPN's server is answered" probe "$IN" udp 10.2.0.1 53
t_check "counters: ... and not counted by dns_drop" test "$(counter dns_drop)" = "$before"
in_ns "$IN" sysctl -qw net.ipv4.ip_forward=1
ip -n "$LAN" route add 10.2.0.0/24 via 192.168.15.1 dev lanif
ip -n "$VPN" route add 192.168.15.0/24 via 10.2.0.2 dev vpnif
in_ns "$IN" nft delete table inet vpn-confinement
t_check "control: without the ruleset, the LAN reaches the VPN side through the namespace" probe "$LAN" tcp 10.2.0.1 80
for form in base full; do
	in_ns "$IN" nft -f "$work/proton/$form.nft"
	before=$(counter forward_drop)
	t_check_not "$form: nothing is forwarded through the namespace" probe "$LAN" tcp 10.2.0.1 80
	t_check "$form: ... counted by forward_drop ($before -> $(counter forward_drop))" test "$(counter forward_drop)" -gt "$before"
done
before=$(counter forward_drop)
t_check "full: a mapped port (delivered, not forwarded) is reached" probe "$LAN" tcp 192.168.15.1 9091
t_check "full: ... and not counted by forward_drop" test "$(counter forward_drop)" = "$before"
in_ns "$IN" sysctl -qw net.ipv4.ip_forward=0
ip -n "$LAN" route del 10.2.0.0/24
ip -n "$VPN" route del 192.168.15.0/24

# ---- IPv6 with the "dual" case: dual-stack tunnel (dual0), IPv6 bridge
# addresses, AccessibleFrom=fd00:1::/64, PortMapping=9091:9091:tcp.
IN=rs6i$tag LAN=rs6l$tag VPN=rs6v$tag
addns "$IN" && addns "$LAN" && addns "$VPN" || { t_fail "IPv6 lab namespaces"; t_done; }
set -e
for n in "$IN" "$LAN" "$VPN"; do ip -n "$n" link set lo up; done
ip -n "$IN" link add veth-dual type veth peer name lanif netns "$LAN"
ip -n "$IN" link add dual0 type veth peer name vpnif netns "$VPN"
ip -n "$IN" addr add 192.168.15.1/24 dev veth-dual
ip -n "$IN" addr add fd93:9701:1d00::2/64 dev veth-dual nodad
ip -n "$IN" addr add 10.66.1.2/24 dev dual0
ip -n "$IN" addr add fc00:bbbb:bbbb:bb01::1:2/64 dev dual0 nodad
ip -n "$IN" link set veth-dual up
ip -n "$IN" link set dual0 up
ip -n "$IN" route add default via 10.66.1.1 dev dual0
ip -n "$IN" -6 route add default via fc00:bbbb:bbbb:bb01::1 dev dual0
ip -n "$IN" -6 route add fd00:1::/64 via fd93:9701:1d00::1 dev veth-dual
ip -n "$IN" -6 route add fd00:9::/64 via fd93:9701:1d00::1 dev veth-dual
ip -n "$LAN" addr add fd93:9701:1d00::1/64 dev lanif nodad
ip -n "$LAN" addr add fd00:1::1/128 dev lanif nodad
ip -n "$LAN" addr add fd00:9::1/128 dev lanif nodad
ip -n "$LAN" link set lanif up
ip -n "$VPN" addr add 10.66.1.1/24 dev vpnif
ip -n "$VPN" addr add fc00:bbbb:bbbb:bb01::1/64 dev vpnif nodad
ip -n "$VPN" link set vpnif up
static_neigh "$IN" dual0 "$VPN" vpnif fc00:bbbb:bbbb:bb01::1:2 fc00:bbbb:bbbb:bb01::1
set +e
serve "$IN" tcp6 9091
serve "$VPN" tcp6 80
serve "$VPN" udp6 53 '[fc00:bbbb:bbbb:bb01::1]' 
sleep 0.5
t_check "control: IPv6 client outside AccessibleFrom reaches 9091 (no ruleset)" \
	probe "$LAN" tcp6 '[fd93:9701:1d00::2]' 9091 '[fd00:9::1]'
# A rogue router advertisement from the LAN side (needs the sender's
# link-local address out of DAD).
ra_leaves_trace() { # true when the namespace took an address or a route from it
	in_ns "$IN" ip -6 addr show dev veth-dual | grep -q 2001:db8:77: ||
		in_ns "$IN" ip -6 route show | grep -q '^default.*veth-dual'
}
send_ra() {
	local i
	for i in $(seq 50); do
		ip -n "$LAN" -6 addr show dev lanif scope link | grep -q tentative || break
		sleep 0.1
	done
	in_ns "$LAN" python3 "$T_TOP/tests/ruleset/send-ra.py" lanif
	sleep 0.5
}
send_ra
t_check "control: without the ruleset a router advertisement configures the namespace" ra_leaves_trace
ip -n "$IN" -6 addr flush dev veth-dual scope global
ip -n "$IN" addr add fd93:9701:1d00::2/64 dev veth-dual nodad
ip -n "$IN" -6 route flush dev veth-dual proto ra
ip -n "$IN" -6 route del default dev veth-dual 2>/dev/null
ip -n "$IN" -6 route add fd00:1::/64 via fd93:9701:1d00::1 dev veth-dual 2>/dev/null
ip -n "$IN" -6 route add fd00:9::/64 via fd93:9701:1d00::1 dev veth-dual 2>/dev/null
t_check_not "control: cleaned up" ra_leaves_trace
t_check "dual: full loads" in_ns "$IN" nft -f "$work/dual/full.nft"
send_ra
t_check_not "dual: a router advertisement changes nothing under the ruleset" ra_leaves_trace
t_check "dual: ... dropped and counted" test "$(in_ns "$IN" nft list counter inet vpn-confinement ra_drop | awk '/packets/ { print $2 }')" -gt 0
t_check "dual: IPv6 mapped port from the bridge subnet (ND both ways)" probe "$LAN" tcp6 '[fd93:9701:1d00::2]' 9091
t_check "dual: IPv6 mapped port from AccessibleFrom" probe "$LAN" tcp6 '[fd93:9701:1d00::2]' 9091 '[fd00:1::1]'
t_check_not "dual: not from outside AccessibleFrom" probe "$LAN" tcp6 '[fd93:9701:1d00::2]' 9091 '[fd00:9::1]'
t_check "dual: IPv6 out through the tunnel" probe "$IN" tcp6 '[fc00:bbbb:bbbb:bb01::1]' 80
t_check "dual: IPv6 DNS to the VPN's server" probe "$IN" udp6 '[fc00:bbbb:bbbb:bb01::1]' 53
t_done
