# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Provider port forwarding in the integration lab (lab.sh), for
# test-portfwd.sh and tests/e2e/part-portfwd.sh: the VPN provider's
# namespace (INET, which runs the WireGuard server) becomes a NAT-PMP
# gateway on its WireGuard interface, in front of a public address.
#
# miniupnpd refuses to map when its external address is in a reserved
# range (RFC 1918, CGNAT, the TEST-NETs, 198.18.0.0/15), and every lab
# address is in one; so INET's uplink gets PF_PUBLIC_IP, the first address
# past CGNAT's 100.64.0.0/10, and HOST a route to it. Nothing leaves the
# machine: the lab has no route off it. HOST plays "someone on the
# internet" connecting to the forwarded port.
#
# Source after lab.sh; pf_lab_up after lab_up.

PF_PUBLIC_IP=100.128.0.1
PF_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PF_MUPNP_PID= PF_PGW_PID=

pf_lab_up() {
	ip -n "$LAB_INET" addr add "$PF_PUBLIC_IP/32" dev eth0 || return 1
	ip -n "$LAB_HOST" route add "$PF_PUBLIC_IP/32" via "$INET_IP" || return 1
	in_inet sysctl -qw net.ipv4.ip_forward=1 || return 1
}

# pf_miniupnpd_start ALLOW...: miniupnpd as a NAT-PMP gateway on the
# WireGuard server's interface, each ALLOW an "allow EXT-PORTS ADDR/LEN
# INT-PORTS" rule (the rest denied).
pf_miniupnpd_start() {
	local conf=$LAB_DIR/miniupnpd.conf rule
	{
		echo "ext_ifname=eth0"
		echo "ext_ip=$PF_PUBLIC_IP"
		echo "listening_ip=$LAB_WGSRV"
		echo "enable_natpmp=yes"
		echo "enable_upnp=no"
		for rule; do echo "$rule"; done
		echo "deny 0-65535 0.0.0.0/0 0-65535"
	} >"$conf"
	# miniupnpd-nftables fills chains of table inet filter; Debian's
	# nft_init.sh would make them but does not run (its helper script is
	# missing). A gateway forwards only what is mapped, and replies. One
	# that starts has no mappings (this build keeps no lease file).
	in_inet nft -f - <<-EOF || return 1
		table inet filter {
		}
		delete table inet filter
		table inet filter {
			chain forward {
				type filter hook forward priority 0; policy drop;
				ct state established,related accept
				jump miniupnpd
			}
			chain miniupnpd {
			}
			chain prerouting {
				type nat hook prerouting priority -100; policy accept;
				jump prerouting_miniupnpd
			}
			chain postrouting {
				type nat hook postrouting priority 100; policy accept;
				jump postrouting_miniupnpd
			}
			chain prerouting_miniupnpd {
			}
			chain postrouting_miniupnpd {
			}
		}
	EOF
	: >"$LAB_DIR/log/miniupnpd.log"
	lab_bg "$LAB_INET" miniupnpd -d -f "$conf" -P "$LAB_DIR/miniupnpd.pid" >>"$LAB_DIR/log/miniupnpd.log" 2>&1
	PF_MUPNP_PID=${LAB_PIDS[-1]}
	wait_for 10 grep -q 'Listening for NAT-PMP' "$LAB_DIR/log/miniupnpd.log"
}
pf_miniupnpd_stop() {
	[ -n "$PF_MUPNP_PID" ] || return 0
	kill "$PF_MUPNP_PID" 2>/dev/null
	wait "$PF_MUPNP_PID" 2>/dev/null
	PF_MUPNP_PID=
	in_inet nft delete table inet filter
}
# pf_miniupnpd_maps PORT PROTO CLIENT: miniupnpd forwards PROTO PORT of the
# public address to CLIENT:PORT.
pf_miniupnpd_maps() {
	local num; [ "$2" = tcp ] && num=0x6 || num=0x11
	in_inet nft list chain inet filter prerouting_miniupnpd 2>/dev/null |
		grep -q "@nh,72,8 $num th dport $1 dnat ip to $3:$1\$"
}

# pf_pgw_start RANGE [ADDR]: the ProtonVPN-like gateway (natpmp-gw.py) on
# the WireGuard server's address (or ADDR), forwarding what it assigns from
# the public address; its behaviour in $LAB_DIR/pgw.control.
pf_pgw_start() {
	local before listen=${2:-$WG_SRV_IP}
	: >>"$LAB_DIR/pgw.control"
	: >>"$LAB_DIR/log/pgw.log"
	before=$(grep -c '^ready$' "$LAB_DIR/log/pgw.log")
	lab_bg "$LAB_INET" python3 "$PF_HERE/natpmp-gw.py" --listen "$listen" --range "$1" \
		--control "$LAB_DIR/pgw.control" --log "$LAB_DIR/log/pgw.log" --dnat eth0 --ext-ip "$PF_PUBLIC_IP"
	PF_PGW_PID=${LAB_PIDS[-1]}
	wait_for 10 pf_count_above "$before" '^ready$' "$LAB_DIR/log/pgw.log"
}
# pf_count_above N PATTERN FILE: more than N lines of FILE match PATTERN.
pf_count_above() { [ "$(grep -c -- "$2" "$3")" -gt "$1" ]; }
pf_pgw_stop() {
	[ -n "$PF_PGW_PID" ] || return 0
	kill "$PF_PGW_PID" 2>/dev/null
	wait "$PF_PGW_PID" 2>/dev/null
	PF_PGW_PID=
}

# pf_reach ADDR PORT: a TCP connection to ADDR:PORT from HOST ("the
# internet") gets the namespace listener's "pf-here".
pf_reach() {
	local r
	r=$(in_host socat -T"$LAB_T2" - "TCP:$1:$2,connect-timeout=$LAB_T2" </dev/null 2>/dev/null)
	[ "$r" = pf-here ]
}
