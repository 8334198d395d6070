#!/bin/bash
# SPDX-License-Identifier: MIT
# Baseline for the runtime benchmark (and a reference to validate the
# integration lab against): the same four steps as vpn-confinement's
# netns-up / wg-up / wg-down / netns-down, done the way shell-based
# implementations do them: one `ip`, `nft`, `wg` or `sysctl` command per step,
# nft from the command line, `ip netns exec` for commands in the namespace.
# It reads the same N.ini and wg-quick config (simply: no validation).
#   baseline.sh netns-up|wg-up|wg-down|netns-down N
set -eu
cmd=$1 N=$2
CONFDIR=${VPN_CONFINEMENT_CONFDIR:-/etc/vpn-confinement}
RUNDIR=${VPN_CONFINEMENT_RUNDIR:-/run/vpn-confinement}
STATE=$RUNDIR/baseline-$N
BR=$N-br VH=veth-$N-br VN=veth-$N WG=${N}0 T=vpn-confinement HT=vpn-confinement-$N

ini() { sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$CONFDIR/$N.ini" | sed 's/[[:space:]]*$//'; }
WGCONF=$(ini WireGuardConfigFile)
NSADDR=$(ini NamespaceAddress); NSADDR=${NSADDR:-192.168.15.1}
BRADDR=$(ini BridgeAddress); BRADDR=${BRADDR:-192.168.15.5}
NSADDR6=$(ini NamespaceAddressIPv6) BRADDR6=$(ini BridgeAddressIPv6)
case $NSADDR in */*) ;; *) NSADDR=$NSADDR/24 ;; esac
case $BRADDR in */*) ;; *) BRADDR=$BRADDR/24 ;; esac
if [ -n "$NSADDR6" ]; then
	case $NSADDR6 in */*) ;; *) NSADDR6=$NSADDR6/64 ;; esac
	case $BRADDR6 in */*) ;; *) BRADDR6=$BRADDR6/64 ;; esac
fi
AF4=() AF6=()
for a in $(ini AccessibleFrom); do case $a in *:*) AF6+=("$a") ;; *) AF4+=("$a") ;; esac; done
# Sources allowed to reach mapped ports: AccessibleFrom and the bridge (host).
SRC4="{ ${BRADDR%/*}$(printf ', %s' "${AF4[@]}") }"
SRC6=""
[ -n "$NSADDR6" ] && SRC6="{ ${BRADDR6%/*}$(printf ', %s' "${AF6[@]}") }"
nsx() { ip netns exec "$N" "$@"; }

wgconf() { sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$WGCONF" | tr ',' ' '; }

base_ruleset() {
	nsx nft add table inet $T
	nsx nft flush table inet $T
	nsx nft add chain inet $T input '{ type filter hook input priority 0; policy drop; }'
	nsx nft add chain inet $T output '{ type filter hook output priority 0; policy drop; }'
	nsx nft add chain inet $T forward '{ type filter hook forward priority 0; policy drop; }'
	nsx nft add rule inet $T input iif lo accept
	nsx nft add rule inet $T output oif lo accept
}

case $cmd in
netns-up)
	mkdir -p "$STATE"
	ip netns add "$N"
	ip -n "$N" link set lo up
	base_ruleset
	nsx sysctl -qw net.ipv6.conf.all.accept_ra=0
	nsx sysctl -qw net.ipv6.conf.default.accept_ra=0
	nsx sysctl -qw net.ipv4.conf.all.arp_ignore=1
	nsx sysctl -qw net.ipv4.conf.all.arp_announce=2
	[ -z "$NSADDR6" ] && nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip link add "$BR" type bridge
	ip addr add "$BRADDR" dev "$BR"
	[ -n "$NSADDR6" ] && ip addr add "$BRADDR6" dev "$BR" nodad
	ip link set "$BR" up
	ip link add "$VH" type veth peer name "$VN"
	ip link set "$VN" netns "$N"
	ip link set "$VH" master "$BR"
	ip link set "$VH" up
	ip -n "$N" addr add "$NSADDR" dev "$VN"
	[ -n "$NSADDR6" ] && ip -n "$N" addr add "$NSADDR6" dev "$VN" nodad
	ip -n "$N" link set "$VN" up
	for a in "${AF4[@]}"; do ip -n "$N" route add "$a" via "${BRADDR%/*}"; done
	for a in "${AF6[@]}"; do ip -n "$N" route add "$a" via "${BRADDR6%/*}"; done
	nft add table inet "$HT"
	nft add chain inet "$HT" prerouting '{ type nat hook prerouting priority dstnat; }'
	nft add chain inet "$HT" output '{ type nat hook output priority -100; }'
	nft add chain inet "$HT" forward '{ type filter hook forward priority 0; policy accept; }'
	nft add chain inet "$HT" input '{ type filter hook input priority 0; policy accept; }'
	nft add rule inet "$HT" forward iifname "$BR" ct state established,related accept
	nft add rule inet "$HT" forward iifname "$BR" drop
	nft add rule inet "$HT" input iifname "$BR" ct state established,related accept
	nft add rule inet "$HT" input iifname "$BR" drop
	for m in $(ini PortMapping); do
		IFS=: read -r from to proto <<<"$m"
		case ${proto:-tcp} in both) protos="tcp udp" ;; *) protos=${proto:-tcp} ;; esac
		for p in $protos; do
			[ ${#AF4[@]} -gt 0 ] && nft add rule inet "$HT" prerouting ip saddr "{ $(IFS=,; echo "${AF4[*]}") }" \
				fib daddr type local $p dport "$from" dnat ip to "${NSADDR%/*}:$to"
			nft add rule inet "$HT" output fib daddr type local ip daddr != 127.0.0.0/8 $p dport "$from" dnat ip to "${NSADDR%/*}:$to"
		done
	done
	sysctl -n net.ipv4.ip_forward >"$STATE/ip_forward"
	sysctl -qw net.ipv4.ip_forward=1
	if [ -n "$NSADDR6" ]; then
		sysctl -n net.ipv6.conf.all.forwarding >"$STATE/ip6_forward"
		sysctl -qw net.ipv6.conf.all.forwarding=1
	fi
	;;
wg-up)
	tmp=vcb$RANDOM
	echo "$tmp" >"$STATE/wgtmp"
	# (its banner about the kernel module is noise here)
	wireguard-go "$tmp" >/dev/null 2>&1
	umask 077
	sed -E '/^[[:space:]]*(Address|DNS|MTU|Table|PreUp|PostUp|PreDown|PostDown|SaveConfig)[[:space:]]*=/d' "$WGCONF" >"$STATE/wg.conf"
	wg setconf "$tmp" "$STATE/wg.conf"
	rm -f "$STATE/wg.conf"
	ip link set "$tmp" netns "$N"
	ip -n "$N" link set "$tmp" name "$WG"
	mtu=$(wgconf MTU); ip -n "$N" link set "$WG" mtu "${mtu:-1420}"
	has6=0
	for a in $(wgconf Address); do
		ip -n "$N" addr add "$a" dev "$WG"
		case $a in *:*) has6=1 ;; esac
	done
	ip -n "$N" link set "$WG" up
	ip -n "$N" route add default dev "$WG"
	[ $has6 = 1 ] && ip -n "$N" -6 route add default dev "$WG"
	dns=$(wgconf DNS)
	for d in $dns; do ip -n "$N" route add "$d" dev "$WG"; done
	mkdir -p "/etc/netns/$N"
	for d in $dns; do echo "nameserver $d"; done >"/etc/netns/$N/resolv.conf"
	# The full ruleset, one rule per command.
	base_ruleset
	nsx nft add rule inet $T input ct state invalid drop
	nsx nft add rule inet $T input iifname "$WG" ct state established,related accept
	nsx nft add rule inet $T input iifname "$VN" ct state established,related accept
	for o in $(ini OpenVPNPort); do
		IFS=: read -r port proto <<<"$o"
		case ${proto:-tcp} in both) protos="tcp udp" ;; *) protos=${proto:-tcp} ;; esac
		for p in $protos; do nsx nft add rule inet $T input iifname "$WG" $p dport "$port" accept; done
	done
	for m in $(ini PortMapping); do
		IFS=: read -r from to proto <<<"$m"
		case ${proto:-tcp} in both) protos="tcp udp" ;; *) protos=${proto:-tcp} ;; esac
		for p in $protos; do
			nsx nft add rule inet $T input iifname "$VN" ip saddr "$SRC4" $p dport "$to" accept
			[ -n "$SRC6" ] && nsx nft add rule inet $T input iifname "$VN" ip6 saddr "$SRC6" $p dport "$to" accept
		done
	done
	for d in $dns; do
		case $d in *:*) f=ip6 ;; *) f=ip ;; esac
		nsx nft add rule inet $T output oifname "$WG" $f daddr "$d" udp dport 53 accept
		nsx nft add rule inet $T output oifname "$WG" $f daddr "$d" tcp dport '{ 53, 853 }' accept
	done
	nsx nft add rule inet $T output meta l4proto '{ tcp, udp }' th dport '{ 53, 853 }' drop
	nsx nft add rule inet $T output oifname "$WG" meta nfproto ipv4 accept
	[ $has6 = 1 ] && nsx nft add rule inet $T output oifname "$WG" meta nfproto ipv6 accept
	nsx nft add rule inet $T output oifname "$VN" ct state established,related ct direction reply accept
	;;
wg-down)
	base_ruleset
	tmp=$(cat "$STATE/wgtmp")
	pid=$(fuser "/var/run/wireguard/$tmp.sock" 2>/dev/null | tr -d ' ' || true)
	ip -n "$N" link del "$WG"
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	rm -f "/var/run/wireguard/$tmp.sock"
	nsx conntrack -F 2>/dev/null
	rm -f "/etc/netns/$N/resolv.conf" "$STATE/wgtmp"
	rmdir "/etc/netns/$N"
	;;
netns-down)
	nft delete table inet "$HT"
	ip link del "$VH"
	ip link del "$BR"
	ip netns del "$N"
	sysctl -qw net.ipv4.ip_forward="$(cat "$STATE/ip_forward")"
	[ -f "$STATE/ip6_forward" ] && sysctl -qw net.ipv6.conf.all.forwarding="$(cat "$STATE/ip6_forward")"
	rm -rf "$STATE"
	;;
*) echo "usage: $0 netns-up|wg-up|wg-down|netns-down N" >&2; exit 2 ;;
esac
