# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# A network lab for the integration tests, made only of network namespaces
# this run creates (names unique to the run) and torn down on every exit path.
#
#   LANIN ---- lanin0 \                      / eth0 -- INET: HTTP, TCP/UDP
#   (198.51.100.0/26,   HOST (code under test)          loggers, dnsmasq x2,
#    in AccessibleFrom)  \ up0 ----------------          WireGuard server vsSFX
#   LANOUT --- lanout0 /  (bridges N-br made by the code under test)
#   (198.51.100.64/26, outside AccessibleFrom)
#
# Addresses are documentation / benchmarking ranges that exist only in these
# namespaces: "internet" 203.0.113.0/24 + 2001:db8:1::/64, tunnel
# 192.0.2.0/24 + 2001:db8:64::/64, LANs 198.51.100.0/26 and .64/26
# (+ 2001:db8:a::/64, 2001:db8:b::/64), namespaces 198.18.(15+i).0/24.
#
# Usage: source tests/lib.sh, then this file, then lab_up. Run the code under
# test with vc ARGS... (in the HOST netns); probes with in_ns NAME CMD...
# Set VPNC_IMPL=baseline to run the tests against tests/integration/baseline.sh
# (used to validate the tests and the lab themselves).

LAB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# LAB_TIME_SCALE (a whole number, default 1) stretches every wait and probe
# timeout: under an emulated CPU (tests/vm, TCG) a process start costs 50-500
# ms, and a probe batch starts dozens at once. Longer timeouts only make the
# "blocked" probes wait longer for a leak; they never make one pass.
LAB_TIME_SCALE=${LAB_TIME_SCALE:-1}
case $LAB_TIME_SCALE in '' | *[!0-9]* | 0)
	echo "lab.sh: LAB_TIME_SCALE must be a whole number >= 1, not '$LAB_TIME_SCALE'" >&2
	exit 2 ;;
esac
# lab_t SECONDS: SECONDS (one decimal at most) times LAB_TIME_SCALE.
lab_t() {
	local i=${1%.*} f=0
	case $1 in *.*) f=${1#*.} ;; esac
	local tenths=$(((10 * i + f) * LAB_TIME_SCALE))
	echo "$((tenths / 10)).$((tenths % 10))"
}
# The probe timeouts, scaled once (each $(lab_t) is a fork).
LAB_T1=$LAB_TIME_SCALE LAB_T2=$((2 * LAB_TIME_SCALE)) LAB_T1_5=$(lab_t 1.5)

# Fixed lab addresses.
HOST_INET_IP=203.0.113.1 INET_IP=203.0.113.2
HOST_INET_IP6=2001:db8:1::1 INET_IP6=2001:db8:1::2
HOST_LANIN_IP=198.51.100.1 LANIN_IP=198.51.100.2 LANIN_NET=198.51.100.0/26
HOST_LANOUT_IP=198.51.100.65 LANOUT_IP=198.51.100.66 LANOUT_NET=198.51.100.64/26
HOST_LANIN_IP6=2001:db8:a::1 LANIN_IP6=2001:db8:a::2 LANIN_NET6=2001:db8:a::/64
HOST_LANOUT_IP6=2001:db8:b::1 LANOUT_IP6=2001:db8:b::2
WG_SRV_IP=192.0.2.1 WG_SRV_IP6=2001:db8:64::1 WG_PORT=51820
UNREACHABLE_IP=198.19.255.1 # routed nowhere in HOST
# DNS answers for "probe.test", one per server, so a test sees who answered.
DNS_VPN_ANSWER=203.0.113.10 DNS_INET_ANSWER=203.0.113.20
DNS_LAN_ANSWER=203.0.113.21 DNS_HOST_ANSWER=203.0.113.22

LAB_PIDS=()     # processes we started (killed by pid on cleanup)
LAB_TESTNS=()   # namespaces of the code under test (torn down on cleanup)
LAB_WG_SOCKS=() # wireguard-go control sockets we own

lab_log() { echo "# $*"; }

# Random 5-char [a-z0-9] suffix; namespace names built from it stay <= 7 chars.
lab_suffix() {
	local s
	s=$(tr -dc 'a-z0-9' </dev/urandom | head -c 5)
	echo "$s"
}

lab_netns() { case $1 in host) echo "$LAB_HOST" ;; inet) echo "$LAB_INET" ;; lanin) echo "$LAB_LANIN" ;; lanout) echo "$LAB_LANOUT" ;; esac; }
in_netns() { local n=$1; shift; nsenter --net="/run/netns/$n" "$@"; }
in_host() { nsenter --net="/run/netns/$LAB_HOST" "$@"; }
in_inet() { nsenter --net="/run/netns/$LAB_INET" "$@"; }
in_lanin() { nsenter --net="/run/netns/$LAB_LANIN" "$@"; }
in_lanout() { nsenter --net="/run/netns/$LAB_LANOUT" "$@"; }
# A namespace made by the code under test (/run/netns/N).
in_ns() { local n=$1; shift; nsenter --net="/run/netns/$n" "$@"; }

# The code under test, run in the HOST netns.
vc() {
	if [ "${VPNC_IMPL:-}" = baseline ]; then
		in_host "$LAB_HERE/baseline.sh" "$@"
	else
		in_host "$BUILD/vpn-confinement" "$@"
	fi
}

# vc_run OUT ARGS...: run vc, output (stdout+stderr) to OUT; returns its status.
vc_run() { local out=$1; shift; vc "$@" >"$out" 2>&1; }
# vc_ok ARGS...: run vc; on failure show its output (for t_check).
vc_ok() {
	local out=$LAB_DIR/vc.out
	if vc "$@" >"$out" 2>&1; then return 0; fi
	echo "# vpn-confinement $* failed:"; sed 's/^/#   /' "$out"
	return 1
}
# vc_fails ARGS...: run vc expecting failure; its output is left in $LAB_DIR/vc.out.
vc_fails() {
	local out=$LAB_DIR/vc.out
	if vc "$@" >"$out" 2>&1; then echo "# vpn-confinement $* succeeded unexpectedly"; return 1; fi
	return 0
}

# wait_for SECONDS CMD...: poll CMD every 50 ms until it succeeds, for at
# most SECONDS (whole seconds) times LAB_TIME_SCALE.
wait_for() {
	local deadline=$((${EPOCHREALTIME/[.,]/} + ${1%.*} * LAB_TIME_SCALE * 1000000)); shift
	while :; do
		"$@" && return 0
		[ "${EPOCHREALTIME/[.,]/}" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# lab_bg NETNS CMD...: start CMD in NETNS in the background; nsenter execs
# it, so the pid recorded is CMD's own.
lab_bg() { local n=$1; shift; nsenter --net="/run/netns/$n" "$@" & LAB_PIDS+=($!); }

lab_up() {
	LAB_SFX=$(lab_suffix)
	LAB_DIR=$(mktemp -d "/tmp/vclab-$LAB_SFX.XXXXXX")
	LAB_HOST=vcl${LAB_SFX}h LAB_INET=vcl${LAB_SFX}i
	LAB_LANIN=vcl${LAB_SFX}l LAB_LANOUT=vcl${LAB_SFX}o
	LAB_WGSRV=vs$LAB_SFX
	mkdir -p "$LAB_DIR/conf" "$LAB_DIR/run" "$LAB_DIR/keys" "$LAB_DIR/wg" "$LAB_DIR/log"
	export VPN_CONFINEMENT_CONFDIR=$LAB_DIR/conf VPN_CONFINEMENT_RUNDIR=$LAB_DIR/run
	trap lab_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	# The code under test uses conntrack; loading it later would add its
	# sysctls between two host snapshots (a fresh VM starts without it).
	modprobe -q nf_conntrack 2>/dev/null

	local n
	for n in "$LAB_HOST" "$LAB_INET" "$LAB_LANIN" "$LAB_LANOUT"; do
		ip netns add "$n" || return 1
		ip -n "$n" link set lo up || return 1
		# No DAD on the lab's own links: their addresses would change state
		# (tentative -> valid) between two host snapshots.
		in_netns "$n" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 || return 1
	done
	# One veth from HOST to each of the others, made directly in their
	# namespaces (no name ever in the root netns): HOST side HOSTDEV, the
	# other side eth0, routed by default via HOST.
	local link netns hostdev ip4 ip6 hip4 hip6 len
	for link in "$LAB_INET up0 $INET_IP $INET_IP6 $HOST_INET_IP $HOST_INET_IP6 24" \
		"$LAB_LANIN lanin0 $LANIN_IP $LANIN_IP6 $HOST_LANIN_IP $HOST_LANIN_IP6 26" \
		"$LAB_LANOUT lanout0 $LANOUT_IP $LANOUT_IP6 $HOST_LANOUT_IP $HOST_LANOUT_IP6 26"; do
		read -r netns hostdev ip4 ip6 hip4 hip6 len <<<"$link"
		ip -n "$LAB_HOST" link add "$hostdev" type veth peer name eth0 netns "$netns" || return 1
		ip -n "$LAB_HOST" -b - <<-EOF || return 1
			addr add $hip4/$len dev $hostdev
			addr add $hip6/64 dev $hostdev nodad
			link set $hostdev up
		EOF
		ip -n "$netns" -b - <<-EOF || return 1
			addr add $ip4/$len dev eth0
			addr add $ip6/64 dev eth0 nodad
			link set eth0 up
			route add default via $hip4
			route add default via $hip6
		EOF
	done

	# The VPN provider's WireGuard server, userspace, in INET. Its control
	# socket (/var/run/wireguard/vsSFX.sock) is named uniquely for this run.
	touch "$LAB_DIR/log/srv-inet.log" "$LAB_DIR/log/srv-lanin.log" "$LAB_DIR/log/srv-lanout.log" "$LAB_DIR/log/srv-host.log"
	lab_wg_server "$LAB_WGSRV" server "$WG_PORT" "$WG_SRV_IP/24" "$WG_SRV_IP6/64" || return 1

	# Servers: the same loggers everywhere, so a probe is seen wherever it lands.
	local where
	for where in inet lanin lanout host; do
		lab_bg "$(lab_netns "$where")" python3 "$LAB_HERE/labsrv.py" "$LAB_DIR/log/srv-$where.log" \
			http:8080 tcp:9998 udp:9999 tcp:853 tcp:9997
	done
	# DNS: the VPN's resolver on the tunnel address; "another" resolver on the
	# internet address; one in LANIN; one in HOST on every address (including
	# bridges made later: --bind-dynamic).
	lab_dnsmasq inet vpn "$DNS_VPN_ANSWER" --bind-interfaces --listen-address="$WG_SRV_IP,$WG_SRV_IP6"
	lab_dnsmasq inet other "$DNS_INET_ANSWER" --bind-interfaces --listen-address="$INET_IP,$INET_IP6"
	lab_dnsmasq lanin lan "$DNS_LAN_ANSWER" --bind-interfaces --listen-address="$LANIN_IP,$LANIN_IP6"
	lab_dnsmasq host host "$DNS_HOST_ANSWER" --bind-dynamic
	for where in inet lanin lanout host; do
		wait_for 5 grep -q ready "$LAB_DIR/log/srv-$where.log" || { echo "labsrv $where did not start" >&2; return 1; }
	done
	for where in vpn other lan host; do
		wait_for 5 grep -q started "$LAB_DIR/log/dns-$where.log" || { echo "dnsmasq $where did not start" >&2; return 1; }
	done
	lab_log "lab $LAB_SFX up in $LAB_DIR"
}

# lab_wg_server DEV KEY PORT ADDR4 ADDR6: a VPN provider's WireGuard server,
# wireguard-go in INET named DEV (its control socket
# /var/run/wireguard/DEV.sock, unique to the run), its key in
# $LAB_DIR/keys/KEY.key (and .pub), listening on PORT, the tunnel addresses
# ADDR4 and ADDR6 (with their prefixes) on DEV.
lab_wg_server() {
	local dev=$1 key=$2 port=$3 a4=$4 a6=$5
	(umask 077; wg genkey >"$LAB_DIR/keys/$key.key") && wg pubkey <"$LAB_DIR/keys/$key.key" >"$LAB_DIR/keys/$key.pub" || return 1
	LAB_WG_SOCKS+=("/var/run/wireguard/$dev.sock")
	WG_PROCESS_FOREGROUND=1 lab_bg "$LAB_INET" wireguard-go -f "$dev" >"$LAB_DIR/log/wg-$dev.log" 2>&1
	wait_for 5 test -S "/var/run/wireguard/$dev.sock" || { echo "wg server $dev did not start" >&2; return 1; }
	wg set "$dev" private-key "$LAB_DIR/keys/$key.key" listen-port "$port" || return 1
	ip -n "$LAB_INET" -b - <<-EOF || return 1
		addr add $a4 dev $dev
		addr add $a6 dev $dev nodad
		link set $dev up
	EOF
}

# lab_dnsmasq WHERE NAME ANSWER OPTIONS...
lab_dnsmasq() {
	local where=$1 name=$2 answer=$3; shift 3
	lab_bg "$(lab_netns "$where")" dnsmasq -k -C /dev/null --no-resolv --no-hosts --no-poll \
		--pid-file="$LAB_DIR/dns-$name.pid" --user=root --group=root \
		--log-queries --log-facility="$LAB_DIR/log/dns-$name.log" \
		--address="/probe.test/$answer" "$@"
}

lab_cleanup() {
	local rc=$? n pid hostino nsino s
	trap - EXIT INT TERM HUP
	for n in "${LAB_TESTNS[@]}"; do
		if [ -e "/run/netns/$n" ] || in_host ip link show "$n-br" >/dev/null 2>&1; then
			vc wg-down "$n" >/dev/null 2>&1
			vc netns-down "$n" >/dev/null 2>&1
		fi
	done
	# wireguard-go processes of the code under test left in our namespaces.
	hostino=$(stat -L -c %i "/run/netns/$LAB_HOST" 2>/dev/null)
	for pid in $(pgrep -x wireguard-go); do
		nsino=$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) || continue
		local mine=0
		[ -n "$hostino" ] && [ "$nsino" = "$hostino" ] && mine=1
		for n in "${LAB_TESTNS[@]}"; do
			[ "$nsino" = "$(stat -L -c %i "/run/netns/$n" 2>/dev/null)" ] && mine=1
		done
		if [ $mine = 1 ]; then
			s=$(tr '\0' ' ' <"/proc/$pid/cmdline" | awk '{print $NF}')
			kill "$pid" 2>/dev/null
			[ -n "$s" ] && LAB_WG_SOCKS+=("/var/run/wireguard/$s.sock")
		fi
	done
	for pid in "${LAB_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${LAB_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	for n in "${LAB_TESTNS[@]}"; do
		[ -e "/run/netns/$n" ] && ip netns del "$n"
		[ -d "/etc/netns/$n" ] && rm -rf "/etc/netns/$n"
	done
	for n in "$LAB_HOST" "$LAB_INET" "$LAB_LANIN" "$LAB_LANOUT"; do
		[ -n "$n" ] && [ -e "/run/netns/$n" ] && ip netns del "$n"
	done
	sleep 0.1
	for s in "${LAB_WG_SOCKS[@]}"; do
		# Only sockets whose process is gone (a live one removes its own).
		[ -S "$s" ] && ! fuser "$s" >/dev/null 2>&1 && rm -f "$s"
	done
	[ -n "${LAB_DIR:-}" ] && [ -z "${LAB_KEEP:-}" ] && rm -rf "$LAB_DIR"
	exit $rc
}

# --- configuration files -----------------------------------------------------

# lab_client N IDX [v6]: keys for namespace N's client (tunnel address
# 192.0.2.(1+IDX), 2001:db8:64::(1+IDX) with v6), registered as a peer of the
# server, and a wg-quick config at $LAB_DIR/wg/N.conf (mode 0600).
# Extra [Interface] lines can be given in WG_EXTRA.
lab_client() {
	local n=$1 idx=$2 v6=${3:-}
	local key=$LAB_DIR/keys/$n.key
	(umask 077; wg genkey >"$key") && wg pubkey <"$key" >"$LAB_DIR/keys/$n.pub" || return 1
	local a4=192.0.2.$((2 + idx)) a6=2001:db8:64::$((2 + idx))
	wg set "$LAB_WGSRV" peer "$(cat "$LAB_DIR/keys/$n.pub")" allowed-ips "$a4/32,$a6/128" || return 1
	local addr="$a4/32" dns=$WG_SRV_IP
	[ "$v6" = v6 ] && addr="$addr, $a6/128" && dns="$dns, $WG_SRV_IP6"
	local f=$LAB_DIR/wg/$n.conf
	(umask 077; cat >"$f" <<-EOF
		[Interface]
		PrivateKey = $(cat "$key")
		Address = $addr
		DNS = $dns
		${WG_EXTRA:-}

		[Peer]
		PublicKey = $(cat "$LAB_DIR/keys/server.pub")
		Endpoint = ${WG_ENDPOINT:-$INET_IP:$WG_PORT}
		AllowedIPs = 0.0.0.0/0, ::/0
	EOF
	)
}
# --- a second VPN provider (failover) ------------------------------------------

# lab_provider2: a second provider's WireGuard server in INET (wireguard-go
# "vtSFX", its own key, port WG2_PORT on every INET address), tunnel
# 198.51.100.128/26 + 2001:db8:65::/64, and its resolver on its tunnel
# address (WG2_SRV_IP) answering probe.test with DNS_VPN2_ANSWER. Call
# after lab_up; lab_cleanup stops it with the rest.
WG2_SRV_IP=198.51.100.129 WG2_SRV_IP6=2001:db8:65::1 WG2_PORT=51821 DNS_VPN2_ANSWER=203.0.113.11
lab_provider2() {
	LAB_WGSRV2=vt$LAB_SFX
	lab_wg_server "$LAB_WGSRV2" server2 "$WG2_PORT" "$WG2_SRV_IP/26" "$WG2_SRV_IP6/64" || return 1
	touch "$LAB_DIR/log/dns-vpn2.log"
	lab_dnsmasq inet vpn2 "$DNS_VPN2_ANSWER" --bind-interfaces --listen-address="$WG2_SRV_IP,$WG2_SRV_IP6"
	wait_for 5 grep -q started "$LAB_DIR/log/dns-vpn2.log" || { echo "dnsmasq vpn2 did not start" >&2; return 1; }
}
# lab_client2 N IDX: namespace N's config for provider 2 at
# $LAB_DIR/wg/N-2.conf (mode 0600): a key of its own, registered with
# server 2, tunnel address 198.51.100.(130+IDX), DNS WG2_SRV_IP, endpoint
# WG2_ENDPOINT (default INET_IP:WG2_PORT).
lab_client2() {
	local n=$1 idx=$2
	local key=$LAB_DIR/keys/$n-2.key
	(umask 077; wg genkey >"$key") && wg pubkey <"$key" >"$LAB_DIR/keys/$n-2.pub" || return 1
	wg set "$LAB_WGSRV2" peer "$(cat "$LAB_DIR/keys/$n-2.pub")" allowed-ips "$(client2_ip "$idx")/32" || return 1
	(umask 077; cat >"$LAB_DIR/wg/$n-2.conf" <<-EOF
		[Interface]
		PrivateKey = $(cat "$key")
		Address = $(client2_ip "$idx")/32
		DNS = $WG2_SRV_IP

		[Peer]
		PublicKey = $(cat "$LAB_DIR/keys/server2.pub")
		Endpoint = ${WG2_ENDPOINT:-$INET_IP:$WG2_PORT}
		AllowedIPs = 0.0.0.0/0, ::/0
	EOF
	)
}
client2_ip() { echo "198.51.100.$((130 + $1))"; }

client_ip() { echo "192.0.2.$((2 + $1))"; }
client_ip6() { echo "2001:db8:64::$((2 + $1))"; }
ns_ip() { echo "198.18.$((15 + $1)).1"; }
br_ip() { echo "198.18.$((15 + $1)).5"; }
ns_net() { echo "198.18.$((15 + $1)).0/24"; }
ns_ip6() { echo "fd93:9701:1d0$1::2"; }
br_ip6() { echo "fd93:9701:1d0$1::1"; }

# lab_ini N IDX [v6] [EXTRA-LINE...]: $VPN_CONFINEMENT_CONFDIR/N.ini for
# namespace N with subnet 198.18.(15+IDX).0/24, AccessibleFrom LANIN.
lab_ini() {
	local n=$1 idx=$2 v6=${3:-}; shift 3 || shift $#
	{
		echo "[Namespace]"
		echo "WireGuardConfigFile=$LAB_DIR/wg/$n.conf"
		echo "NamespaceAddress=$(ns_ip "$idx")"
		echo "BridgeAddress=$(br_ip "$idx")"
		if [ "$v6" = v6 ]; then
			echo "NamespaceAddressIPv6=$(ns_ip6 "$idx")"
			echo "BridgeAddressIPv6=$(br_ip6 "$idx")"
		fi
		echo "AccessibleFrom=$LANIN_NET"
		[ "$v6" = v6 ] && echo "AccessibleFrom=$LANIN_NET6"
		local l
		for l in "$@"; do echo "$l"; done
		echo "WireGuardImplementation=${VPN_TEST_WG_IMPL:-userspace}"
	} >"$VPN_CONFINEMENT_CONFDIR/$n.ini"
}

# The implementation wg-up must report for VPN_TEST_WG_IMPL: auto picks the
# kernel module when this kernel has one. VPN_TEST_EXPECT_IMPL overrides
# (tests/vm sets kernel, so auto is held to it rather than to a guess).
lab_expected_impl() {
	if [ -n "${VPN_TEST_EXPECT_IMPL:-}" ]; then echo "$VPN_TEST_EXPECT_IMPL"; return; fi
	case ${VPN_TEST_WG_IMPL:-userspace} in
	auto) if [ -d /sys/module/wireguard ] || modprobe -qn wireguard 2>/dev/null; then echo kernel; else echo userspace; fi ;;
	*) echo "${VPN_TEST_WG_IMPL:-userspace}" ;;
	esac
}
# impl_is N IMPL: status says namespace N's tunnel is up with IMPL
# ("tunnel: N0 present, IMPL").
impl_is() {
	vc status "$1" >"$LAB_DIR/status.out" 2>&1
	grep -qE "^  tunnel: +${1}0 present, $2( |\$)" "$LAB_DIR/status.out" && return 0
	echo "# status $1 does not say '${1}0 present, $2':"; sed 's/^/#   /' "$LAB_DIR/status.out"
	return 1
}

# lab_testns VAR LETTER: VAR=LETTER$LAB_SFX, a fresh namespace name for the
# code under test, registered for cleanup.
lab_testns() {
	printf -v "$1" '%s' "$2$LAB_SFX"
	LAB_TESTNS+=("$2$LAB_SFX")
}

# --- protection switches for positive controls --------------------------------

# ns_open N: replace the namespace's ruleset with accept-all (saved first).
ns_open() {
	in_ns "$1" nft list ruleset >"$LAB_DIR/ns-$1.saved" || return 1
	in_ns "$1" nft -f - <<-EOF
		flush ruleset
		table inet vclopen {
			chain i { type filter hook input priority 0; policy accept; }
			chain o { type filter hook output priority 0; policy accept; }
			chain f { type filter hook forward priority 0; policy accept; }
		}
	EOF
}
ns_restore() {
	{ echo "flush ruleset"; cat "$LAB_DIR/ns-$1.saved"; } | in_ns "$1" nft -f -
}
# host_guard_off N / host_guard_on N: remove and put back HOST's table for N.
host_guard_off() {
	in_host nft list table inet "vpn-confinement-$1" >"$LAB_DIR/host-$1.saved" &&
		in_host nft delete table inet "vpn-confinement-$1"
}
host_guard_on() { in_host nft -f "$LAB_DIR/host-$1.saved"; }

# host_fwd_save / host_fwd_restore: HOST's forwarding sysctls, global and per
# interface, IPv6 force_forwarding too (writing ip_forward or
# conf.all.forwarding resets every interface's value, so the global ones are
# put back first).
host_fwd_save() {
	in_host sysctl -a 2>/dev/null |
		grep -E '^net\.ipv4\.ip_forward |^net\.ipv[46]\.conf\.[^.]+\.(force_)?forwarding ' >"$LAB_DIR/fwd.saved"
}
host_fwd_restore() {
	local k v
	{ grep -E 'ip_forward |\.all\.' "$LAB_DIR/fwd.saved"; grep -vE 'ip_forward |\.all\.' "$LAB_DIR/fwd.saved"; } |
		while read -r k _ v; do in_host sysctl -qw "$k=$v"; done
}

# --- observation: nft counters in tables of our own --------------------------

# obs_targets: "NAME ADDRESS" pairs probed by probe_batch.
obs_default_targets() {
	local idx=$1
	echo "inet $INET_IP"
	echo "lanin $LANIN_IP"
	echo "lanout $LANOUT_IP"
	echo "bridge $(br_ip "$idx")"
	echo "hostup $HOST_INET_IP"
	echo "hostlan $HOST_LANIN_IP"
}
obs_default_targets6() {
	local idx=$1 v6=${2:-}
	echo "inet6 $INET_IP6"
	echo "lanin6 $LANIN_IP6"
	echo "hostup6 $HOST_INET_IP6"
	[ "$v6" = v6 ] && echo "bridge6 $(br_ip6 "$idx")"
}

# The probe kinds: name, and the nft match for it at a given address family.
PROBE_KINDS="tcp udp icmp dns dnstcp dot"
obs_match() { # FAMILY(ip|ip6) KIND
	case $2 in
	tcp) echo "tcp dport 9998" ;;
	udp) echo "udp dport 9999" ;;
	icmp) if [ "$1" = ip ]; then echo "icmp type echo-request"; else echo "icmpv6 type echo-request"; fi ;;
	dns) echo "udp dport 53" ;;
	dnstcp) echo "tcp dport 53" ;;
	dot) echo "tcp dport 853" ;;
	esac
}
fam_of() { case $1 in *:*) echo ip6 ;; *) echo ip ;; esac; }

# obs_setup NETNS TABLE DEVICE DIRMATCH TARGETFILE: a netdev table counting, at
# DEVICE's ingress, all packets ("all"), and per target and kind "NAME KIND"
# matching daddr (DIRMATCH=daddr) or the sources in TARGETFILE (saddr).
# "allip" counts every IPv4/IPv6 packet but neighbour discovery: "all" also
# has ARP, which the kernel's neighbour upkeep sends on its own and no inet
# ruleset sees, and "nd" has IPv6 neighbour solicitations and advertisements
# (hop limit 255, link-local by construction), which the namespace ruleset
# lets through on the veth when the bridge has an IPv6 address: the host's
# neighbour upkeep asks, the namespace answers, whether a tunnel is up or not.
obs_setup() {
	local netns=$1 table=$2 dev=$3 dir=$4 targets=$5 name addr kind fam
	# Remembered for obs_reset (nft 1.0.6 cannot reset anonymous counters).
	printf -v "OBS_ARGS_$table" '%q ' "$@"
	in_netns "$netns" nft list table netdev "$table" >/dev/null 2>&1 &&
		in_netns "$netns" nft delete table netdev "$table"
	{
		echo "table netdev $table {"
		echo " chain c { type filter hook ingress device \"$dev\" priority -500; policy accept;"
		echo "  counter comment \"all\""
		echo "  icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 counter accept comment \"nd\""
		echo "  meta protocol { ip, ip6 } counter comment \"allip\""
		echo "  tcp dport 9997 counter comment \"flow\""
		while read -r name addr; do
			fam=$(fam_of "$addr")
			for kind in $PROBE_KINDS; do
				echo "  $fam $dir $addr $(obs_match "$fam" "$kind") counter comment \"$name $kind\""
			done
		done <"$targets"
		echo " }"; echo "}"
	} | in_netns "$netns" nft -f -
}
# obs_from NETNS TABLE DEVICE SRC...: count packets at DEVICE's ingress whose
# source is in one of SRC (IPv4 or IPv6 prefixes), as "from".
obs_from() {
	local netns=$1 table=$2 dev=$3 src; shift 3
	{
		echo "table netdev $table {"
		echo " chain c { type filter hook ingress device \"$dev\" priority -500; policy accept;"
		for src; do
			echo "  $(fam_of "$src") saddr $src counter comment \"from\""
		done
		echo " }"; echo "}"
	} | in_netns "$netns" nft -f -
}
# obs_read NETNS TABLE: the table's counters into the associative array OBS
# (comment -> packets; counters sharing a comment are added up). One nft
# listing for any number of lookups.
declare -A OBS=()
obs_read() {
	local k v
	OBS=()
	while IFS=$'\t' read -r k v; do OBS[$k]=$((${OBS[$k]:-0} + v)); done < <(
		in_netns "$1" nft list table netdev "$2" |
			sed -n 's/.*counter packets \([0-9]*\) bytes [0-9]*\( accept\)\{0,1\} comment "\(.*\)".*/\3\t\1/p')
}
# obs_from_count NETNS TABLE: packets counted as "from" (see obs_from).
obs_from_count() { obs_read "$1" "$2"; echo "${OBS[from]:-0}"; }
obs_delete() { in_netns "$1" nft delete table netdev "$2"; }
# obs_reset NETNS TABLE: zero the counters (by making the table anew).
obs_reset() { local v="OBS_ARGS_$2"; eval "obs_setup ${!v}"; }
# obs_count NETNS TABLE "NAME KIND" -> packet count
obs_count() { obs_read "$1" "$2"; echo "${OBS[$3]}"; }
# obs_probe_sum NETNS TABLE: packets counted by the per-target probe counters
# (comments "NAME KIND").
obs_probe_sum() {
	local k sum=0
	obs_read "$1" "$2"
	for k in "${!OBS[@]}"; do [[ $k == *" "* ]] && sum=$((sum + OBS[$k])); done
	echo "$sum"
}
obs_dump() { in_netns "$1" nft list table netdev "$2" | grep -v 'packets 0 ' | grep packets; }

# Probes. Answers are matched in bash rather than with grep, and a batch
# enters its namespace once: under an emulated CPU (tests/vm) each process
# start costs 50-500 ms, and a batch runs dozens of probes.
# answered TEXT PATTERN: some line of TEXT starts with PATTERN (a glob).
answered() { [[ $'\n'$1 == *$'\n'$2* ]]; }
# udp_probe ADDR PORT TIMEOUT [PREFIX...]: the lab server answered
# "peer=..." (socat run under PREFIX, e.g. in_netns N). Without -t, socat
# would wait only 0.5 s for the answer once its input ended.
udp_probe() {
	local r
	r=$(echo probe | "${@:4}" socat -T"$3" -t"$3" - "UDP:$1:$2" 2>/dev/null)
	answered "$r" peer=
}
# dns_probe TIMEOUT DIG-ARGS...: probe.test answered with an address.
dns_probe() {
	local r t=$1; shift
	r=$(dig "$@" +time="$t" +tries=1 +short probe.test 2>/dev/null)
	answered "$r" '[0-9]'
}
# probe_batch_here TARGETFILE OUTDIR TIMEOUT: run inside the namespace by
# probe_batch.
probe_batch_here() {
	local targets=$1 out=$2 t=$3 name addr a
	while read -r name addr; do
		a=$addr
		case $addr in *:*) a="[$addr]" ;; esac
		(socat -T"$t" /dev/null "TCP:$a:9998,connect-timeout=$t" >/dev/null 2>&1; echo $? >"$out/$name.tcp") &
		(udp_probe "$a" 9999 "$t"; echo $? >"$out/$name.udp") &
		(ping -n -c1 -W"$t" "$addr" >/dev/null 2>&1; echo $? >"$out/$name.icmp") &
		(dns_probe "$t" "@$addr"; echo $? >"$out/$name.dns") &
		(dns_probe "$t" +tcp "@$addr"; echo $? >"$out/$name.dnstcp") &
		(socat -T"$t" /dev/null "TCP:$a:853,connect-timeout=$t" >/dev/null 2>&1; echo $? >"$out/$name.dot") &
	done <"$targets"
	wait
}
# probe_batch NS TARGETFILE OUTDIR: every kind of probe from inside NS to every
# target, all at once, each bounded to ~1 s (times LAB_TIME_SCALE): tcp/9998,
# udp/9999, icmp echo, DNS over udp and tcp, tcp/853. OUTDIR/NAME.KIND holds
# the exit status (0 = got an answer / connected).
probe_batch() {
	local ns=$1 targets=$2 out=$3
	mkdir -p "$out"; rm -f "$out"/*
	in_ns "$ns" bash -c "$(declare -f answered udp_probe dns_probe probe_batch_here); probe_batch_here \"\$@\"" \
		probe_batch_here "$targets" "$out" "$LAB_T1"
}

# --- state snapshots ------------------------------------------------------------

# host_snapshot FILE: HOST's ruleset, links, addresses, routes, rules and
# net sysctls (minus counters that move by themselves); one nsenter.
host_snapshot() {
	in_host bash -c '
		echo "== ruleset"; nft list ruleset
		echo "== links"; ip -o link show | sed -E "s/^[0-9]+: //; s/@if[0-9]+//; s/ link\/ether [0-9a-f:]+.*//"
		echo "== addrs"; ip -o addr show | sed -E "s/^[0-9]+: //; s/valid_lft.*//"
		echo "== routes4"; ip -4 route show table all
		echo "== routes6"; ip -6 route show table all
		echo "== rules"; ip rule show; ip -6 rule show
		echo "== sysctl"; sysctl -a 2>/dev/null | grep "^net\." |
			grep -vE "^net\.(netfilter\.nf_conntrack_count|ipv4\.tcp_fastopen_key|core\.netdev_rss_key|ipv6\.conf\.[^.]+\.stable_secret)"
	' >"$1" 2>&1
	{
		echo "== netns"; ls /run/netns | grep -F "$LAB_SFX" || true
		echo "== wg-procs"; lab_wg_procs
	} >>"$1" 2>&1
}
# wireguard-go processes in HOST (other than the lab's own server).
lab_wg_procs() {
	local pid hostino
	hostino=$(stat -L -c %i "/run/netns/$LAB_HOST")
	for pid in $(pgrep -x wireguard-go); do
		[ "$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null)" = "$hostino" ] && echo "wireguard-go pid $pid"
	done
	return 0
}

# diff_ok A B: no difference (shows the difference otherwise).
diff_ok() { diff -u "$1" "$2" >&2; }

# --- single probes, run in parallel --------------------------------------------

# p_http NETNS URL / p_tcp NETNS ADDR PORT / p_udp NETNS ADDR PORT: succeed
# when the lab server answered (bounded to ~1.5 s, times LAB_TIME_SCALE).
p_http() {
	local r
	r=$(in_netns "$1" curl -gs --max-time "$LAB_T1_5" "$2" 2>/dev/null)
	answered "$r" peer=
}
p_tcp() {
	local a=$2 r; case $a in *:*) a="[$a]" ;; esac
	r=$(in_netns "$1" socat -T"$LAB_T1" - "TCP:$a:$3,connect-timeout=$LAB_T1" </dev/null 2>/dev/null)
	answered "$r" hello
}
p_udp() {
	local a=$2; case $a in *:*) a="[$a]" ;; esac
	udp_probe "$a" "$3" "$LAB_T1" in_netns "$1"
}
# other_resolver NS ADDR: how many of udp/53, tcp/53 (probe.test answered
# as DNS_INET_ANSWER) and tcp/853 (connected) to ADDR got through from NS,
# the three at once.
other_resolver() {
	local ns=$1 addr=$2 a=$2 d=$LAB_DIR/other-resolver
	case $a in *:*) a="[$a]" ;; esac
	rm -rf "$d"; mkdir -p "$d"
	(r=$(in_ns "$ns" dig +time="$LAB_T1" +tries=1 +short "@$addr" probe.test); [ "$r" = "$DNS_INET_ANSWER" ]; echo $? >"$d/udp") &
	(r=$(in_ns "$ns" dig +tcp +time="$LAB_T1" +tries=1 +short "@$addr" probe.test); [ "$r" = "$DNS_INET_ANSWER" ]; echo $? >"$d/tcp") &
	(in_ns "$ns" socat -T"$LAB_T1" /dev/null "TCP:$a:853,connect-timeout=$LAB_T1" 2>/dev/null; echo $? >"$d/dot") &
	wait
	cat "$d"/udp "$d"/tcp "$d"/dot | grep -c '^0$'
}
# pp NAME CMD...: run CMD in the background, its status into $PP/NAME;
# pp_wait waits for all. pp_ok NAME / pp_failed NAME read the outcome.
PP_PIDS=()
pp() { local n=$1; shift; mkdir -p "$PP"; ( "$@"; echo $? >"$PP/$n" ) & PP_PIDS+=($!); }
pp_wait() { wait "${PP_PIDS[@]}"; PP_PIDS=(); }
pp_ok() { [ "$(cat "$PP/$1" 2>/dev/null)" = 0 ]; }
pp_failed() { [ -n "$(cat "$PP/$1" 2>/dev/null)" ] && [ "$(cat "$PP/$1")" != 0 ]; }
pp_clear() { rm -rf "$PP"; mkdir -p "$PP"; }
