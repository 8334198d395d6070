#!/bin/bash
# End to end under real systemd: the generator, the templates and the helper,
# installed under /usr/local, in a systemd-nspawn container booting this
# machine's own /usr, whose network is the "host" namespace of the
# integration lab (tests/integration/lab.sh) with its WireGuard VPN provider,
# servers and resolvers. Inside: a namespace N, a confined test service
# (vcprobe: a client loop and a small server) and an unconfined control
# (vccontrol); commands run "as a confined service" through systemd-run
# --unit=vccmd@X (the namespace's ini confines vccmd@.service) and, for the
# positive controls, as an unconfined vcfree@X.
#
# Each issue-4 "End to end" case is its own test (DESIGN.md L1-L6): start,
# DNS, capabilities, tunnel restart, stop and start, boot with the VPN peer
# down, fail-closed after a reload, missing namespace; and an admin's
# override of one hardening setting. Issue 10: a confined root process with
# ProtectSystem=no attacks what vpn-confinement and the service manager
# leave around (each attack also run unconfined, as the control); socket
# activation (the socket's sockets in the namespace, a datagram from one of
# them never on the host's uplink); Debian's transmission-daemon hardened,
# with the documented drop-in. Issue 13 (part-health.sh): vpn-online@N
# reached only after a handshake, a confined service's PID through failover
# to a second provider and back.
#
# E2E_HOLD=STAGE (start, stop, again, boot) stops there, to look around in
# the container (it says how to enter it and how to go on).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
t_require_root
for tool in systemd-nspawn tcpdump wireguard-go dnsmasq transmission-daemon curl; do
	command -v "$tool" >/dev/null || { echo "needs $tool"; echo "0 passed, 1 failed"; exit 1; }
done
. "$here/../integration/lab.sh"
. "$here/container.sh"

e2e_install || { echo "0 passed, 1 failed"; exit 1; }
lab_up || { echo "lab_up failed"; rm -rf "$inst"; echo "0 passed, 1 failed"; exit 1; }
trap e2e_cleanup EXIT

lab_testns N c
# The endpoint by name: resolvable in the container only once its
# /etc/hosts says so (the boot test starts without it).
WG_ENDPOINT=vpn.test:$WG_PORT lab_client "$N" 0
lab_ini "$N" 0 "" "PortMapping=18000:8000:tcp" "PortMapping=19091:9091:tcp"
cat >>"$VPN_CONFINEMENT_CONFDIR/$N.ini" <<EOF

[Confinement]
Unit=vcprobe.service
Unit=vccmd@.service
Unit=vcsock.service
Unit=transmission-daemon.service
EOF
# The wg config through a link, as sops-nix and agenix make them.
wg_link=$LAB_DIR/secrets/$N.conf wg_target=$LAB_DIR/wg/$N.conf
mkdir -p "$LAB_DIR/secrets" && ln -s "$wg_target" "$wg_link"
sed -i "s|^WireGuardConfigFile=.*|WireGuardConfigFile=$wg_link|" "$VPN_CONFINEMENT_CONFDIR/$N.ini"
TUN_IP=$(client_ip 0)

e2e_units

# seen PORT PEER TAG: lines the internet's server on PORT logged for TAG
# from PEER; seen_other: from anyone else (but the second provider's tunnel
# address TUN2_IP, once part-health.sh set it); seen_at_least N PORT PEER TAG.
seen() { grep -c "^tcpdata $1 $2 $3 " "$LAB_DIR/log/srv-inet.log"; }
seen_other() { grep "^tcpdata $1 " "$LAB_DIR/log/srv-inet.log" | grep " $3 " | grep -v "^tcpdata $1 ${TUN2_IP:-$2} " | grep -vc "^tcpdata $1 $2 "; }
seen_at_least() { [ "$(seen "$2" "$3" "$4")" -ge "$1" ]; }
# same_netns PID: the process is in /run/netns/$N. (A Type=simple service's
# MainPID is known as soon as systemd forked it, before the child entered
# the namespace: wait until it has exec'd, its comm no longer systemd's
# "(name)".)
same_netns() {
	local a b i
	for i in $(seq 1 100); do
		case $(in_c cat "/proc/$1/comm" 2>/dev/null) in "("*) sleep 0.1 ;; *) break ;; esac
	done
	a=$(ino "/proc/$1/ns/net") b=$(ino "/run/netns/$N")
	[ -n "$a" ] && [ "$a" = "$b" ]
}
lan_reaches_probe() {
	in_lanin python3 -c "
import socket
s = socket.create_connection(('$HOST_LANIN_IP', 18000), timeout=3)
print(s.recv(100).decode().strip())" | grep -q 'vcprobe here'
}

# E2E_HOLD=STAGE: stop at that stage, to look around in the container.
hold() {
	[ "${E2E_HOLD:-}" = "$1" ] || return 0
	echo "# holding at $1: nsenter -t $LEADER -a bash; lab in $LAB_DIR; touch $LAB_DIR/release to go on"
	wait_for 1800 test -e "$LAB_DIR/release"
	rm -f "$LAB_DIR/release"
}

container_start || { t_fail "container boots"; t_done; }
t_pass "container boots with the generator, templates and helper from /usr/local"
endpoint_resolvable() { in_c sh -c "echo '$INET_IP vpn.test' >>/etc/hosts"; }
in_c sh -c "echo 'nameserver $HOST_INET_IP' >/etc/resolv.conf"
endpoint_resolvable
in_c test -L "/run/systemd/generator/multi-user.target.wants/vpn-ns@$N.service"
t_check "the generator ran at boot (vpn-ns@$N is wanted)" [ $? = 0 ]

# --- Start (L1, L2) ---------------------------------------------------------
t_check "start: systemctl start vpn-ns@$N" in_c systemctl start "vpn-ns@$N.service"
t_check "start: netns@$N, wg-up@$N, vpn-ns@$N active" \
	in_c systemctl is-active -q "netns@$N.service" "wg-up@$N.service" "vpn-ns@$N.service"
t_check "start: systemctl start vcprobe (confined) and vccontrol" \
	in_c systemctl start vcprobe.service vccontrol.service
pid=$(mainpid vcprobe.service)
t_check "start: the confined service runs (MainPID $pid)" [ -n "$pid" -a "$pid" != 0 ]
t_check "start: its /proc/PID/ns/net is the inode of /run/netns/$N" same_netns "$pid"
cpid=$(mainpid vccontrol.service)
t_check "start: the control is in the container's own network" \
	[ "$(ino "/proc/$cpid/ns/net")" = "$(ino /proc/1/ns/net)" ]
wait_for 20 seen_at_least 2 9998 "$TUN_IP" vcprobe
t_check "start: the internet server sees the probe from the tunnel address $TUN_IP" seen_at_least 2 9998 "$TUN_IP" vcprobe
t_check "start: ... and never from another address" [ "$(seen_other 9998 "$TUN_IP" vcprobe)" = 0 ]
wait_for 10 seen_at_least 1 9997 "$HOST_INET_IP" vccontrol
t_check "start: control: the unconfined service reaches it from the host's address $HOST_INET_IP" \
	seen_at_least 1 9997 "$HOST_INET_IP" vccontrol
t_check "start: control: ... not through the tunnel" [ "$(seen 9997 "$TUN_IP" vccontrol)" = 0 ]
t_check "start: the probe's server is reachable from the LAN through the port mapping" lan_reaches_probe

hold start
# --- DNS (DESIGN 3) -----------------------------------------------------------
dns_checks() {
	local layout=$1 out
	out=$(confined getent hosts probe.test)
	t_check "dns ($layout): confined getent hosts answers from the VPN resolver ($DNS_VPN_ANSWER)" \
		grep -q "^$DNS_VPN_ANSWER " <<<"$out"
	out=$(unconfined getent hosts probe.test)
	t_check "dns ($layout): control: the same lookup unconfined gets the host's resolver ($DNS_HOST_ANSWER)" \
		grep -q "^$DNS_HOST_ANSWER " <<<"$out"
	out=$(confined cat /etc/resolv.conf | grep '^nameserver')
	t_check "dns ($layout): the confined /etc/resolv.conf names only the VPN's server" \
		[ "$out" = "nameserver $WG_SRV_IP" ]
}
in_c mkdir -p /run/nscd /run/systemd/resolve
in_c sh -c 'echo sock >/run/nscd/socket; echo sock >/run/systemd/resolve/io.systemd.Resolve'
t_check "dns: control: /run/nscd is visible unconfined" unconfined test -e /run/nscd/socket
t_check "dns: the confined service cannot see /run/nscd" confined sh -c '! ls /run/nscd/ 2>/dev/null | grep -q .'
t_check "dns: control: resolved's socket is visible unconfined" unconfined test -e /run/systemd/resolve/io.systemd.Resolve
t_check "dns: the confined service cannot see /run/systemd/resolve's socket" \
	confined sh -c '! test -e /run/systemd/resolve/io.systemd.Resolve'
t_check "dns: /var/run/nscd (a link) is hidden too" confined sh -c '! ls /var/run/nscd/ 2>/dev/null | grep -q .'
t_check "dns: nsswitch.conf has no resolve/mdns/myhostname" \
	confined sh -c '! grep -E "^hosts:.*(resolve|mdns|myhostname)" /etc/nsswitch.conf && grep -q "^hosts: *files dns$" /etc/nsswitch.conf'
dns_checks "regular /etc/resolv.conf"
# The systemd-resolved / NixOS layout.
in_c sh -c "echo 'nameserver $HOST_INET_IP' >/run/systemd/resolve/stub-resolv.conf && ln -sfn /run/systemd/resolve/stub-resolv.conf /etc/resolv.conf"
dns_checks "/etc/resolv.conf -> /run/systemd/resolve/stub-resolv.conf"
in_c sh -c "rm -f /etc/resolv.conf; echo 'nameserver $HOST_INET_IP' >/etc/resolv.conf; rm -rf /run/nscd"

# --- Capabilities (DESIGN 2) -----------------------------------------------------
cap_bit() { # CAPEFF-HEX BIT: the bit is set
	[ -n "$1" ] && [ $(((16#$1 >> $2) & 1)) = 1 ]
}
cap_nobit() { [ -n "$1" ] && ! cap_bit "$@"; }
c_eff=$(confined sh -c "sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status")
u_eff=$(unconfined sh -c "sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status")
t_check "caps: control: unconfined root has NET_ADMIN (CapEff $u_eff)" cap_bit "$u_eff" 12
t_check "caps: control: unconfined root has NET_RAW" cap_bit "$u_eff" 13
t_check "caps: the confined service lacks NET_ADMIN (CapEff $c_eff)" cap_nobit "$c_eff" 12
t_check "caps: the confined service lacks NET_RAW" cap_nobit "$c_eff" 13
t_check "caps: control: nft flush ruleset and ip link add work unconfined (in a scratch namespace)" \
	unconfined unshare -n sh -c 'nft flush ruleset && ip link add vca type veth peer name vcb'
t_check_not "caps: nft flush ruleset fails confined" confined nft flush ruleset
t_check_not "caps: ip link add fails confined" confined ip link add vca type veth peer name vcb
t_check_not "caps: unshare -n fails confined" confined unshare -n true
t_check "caps: the kill switch is still in place" in_c ip netns exec "$N" nft list table inet vpn-confinement

# --- An admin's override (vpn-confinement-generator(8)) -------------------------------
# A later-sorting drop-in in /etc/systemd/system/UNIT.d/ changes one
# hardening setting; the confinement stays.
in_c sh -c 'echo secret >/root/vc-e2e-file'
t_check "override: control: /root/vc-e2e-file is there unconfined" unconfined test -e /root/vc-e2e-file
t_check "override: with Hardening=yes (ProtectHome=yes), it is out of reach" \
	confined sh -c '! test -e /root/vc-e2e-file'
mkdir -p "$units/vccmd@.service.d"
printf '[Service]\nProtectHome=no\n' >"$units/vccmd@.service.d/60-override.conf"
in_c systemctl daemon-reload
t_check "override: 60-override.conf with ProtectHome=no gives it back" confined test -e /root/vc-e2e-file
t_check "override: ... still in the namespace" \
	confined sh -c "[ \$(stat -L -c %i /proc/self/ns/net) = $(ino "/run/netns/$N") ]"
t_check "override: ... still without NET_ADMIN" \
	confined sh -c '! ip link add vca type veth peer name vcb 2>/dev/null'
# An admin who gives a capability back voids the promise: check says so.
# (vcprobe is the instance check can ask systemd about.)
# (As the units run it: the lab's run and configuration directories are the
# host-side tiers', not the container's.)
c_check() {
	in_c env -u VPN_CONFINEMENT_RUNDIR -u VPN_CONFINEMENT_CONFDIR \
		vpn-confinement check "$N" >"$LAB_DIR/check.out" 2>&1
}
passes_check() {
	c_check && return 0
	sed 's/^/#   /' "$LAB_DIR/check.out"
	return 1
}
warns() {
	c_check
	grep -q "warning: $1" "$LAB_DIR/check.out" && return 0
	sed 's/^/#   /' "$LAB_DIR/check.out"
	return 1
}
c_check
t_check "override: control: check gives no warning about vcprobe" bash -c "! grep -q 'warning: vcprobe' $LAB_DIR/check.out"
mkdir -p "$units/vcprobe.service.d"
printf '[Service]\nCapabilityBoundingSet=CAP_NET_ADMIN CAP_SYS_PTRACE\nRestrictNamespaces=no\n' \
	>"$units/vcprobe.service.d/60-caps.conf"
# A socket named otherwise, which starts vcprobe, not listed in the ini,
# enabled (systemd refuses to start a socket whose service already runs;
# enabled, it is loaded and is vcprobe's trigger all the same).
printf '[Socket]\nListenStream=127.0.0.1:18999\nService=vcprobe.service\n[Install]\nWantedBy=sockets.target\n' \
	>"$units/vcother.socket"
in_c systemctl enable -q vcother.socket
in_c systemctl daemon-reload
t_check "override: an unconfined socket named otherwise triggers vcprobe" \
	sh -c "nsenter -t $LEADER -a systemctl show -p TriggeredBy --value vcprobe.service | grep -qw vcother.socket"
t_check "override: with CapabilityBoundingSet=CAP_NET_ADMIN added back, check warns" \
	warns "vcprobe.service keeps CAP_NET_ADMIN in its bounding set"
t_check "override: ... and about CAP_SYS_PTRACE" warns "vcprobe.service keeps CAP_SYS_PTRACE"
t_check "override: with RestrictNamespaces=no, check warns" warns "vcprobe.service may create namespaces"
t_check "override: an unconfined socket that starts vcprobe: check warns" \
	warns "vcprobe.service is started by vcother.socket, which is not confined"
t_check "override: warnings do not fail check (the namespace is as it should be)" \
	passes_check
in_c systemctl disable -q vcother.socket
rm -rf "$units/vccmd@.service.d" "$units/vcprobe.service.d" "$units/vcother.socket"
in_c systemctl daemon-reload

# --- A confined root process attacks (issue 10, item 1) -------------------------
# vccmd@ runs as root, and an admin's later drop-in turns ProtectSystem= off
# (and PrivateTmp=: the lab's files, the wg config among them, are under
# /tmp). What is left is the confinement's own: attack.sh must find every
# door closed, and the same script unconfined (vcfree@, root too) every
# door open.
attack=/usr/local/libexec/vc-e2e/attack.sh
mkdir -p "$units/vccmd@.service.d"
printf '[Service]\nProtectSystem=no\nPrivateTmp=no\n' >"$units/vccmd@.service.d/60-override.conf"
in_c systemctl daemon-reload
wg_sock=$(in_c sh -c 'ls /run/wireguard/*.sock 2>/dev/null' | head -n 1)
wg_pid=$(in_c pidof wireguard-go)
sup_pid=$(mainpid "wg-up@$N.service")
targets_there() {
	in_c test -S "$wg_sock" && in_c test -d "/run/vpn-confinement/$N" && in_c test -d "/etc/netns/$N" &&
		in_c test -L "$wg_link" && in_c test -f "$wg_target" && in_c test -d "/proc/$wg_pid" &&
		[ "$sup_pid" != 0 ] && in_c test -d "/proc/$sup_pid"
}
t_check "attack: the targets are there: the run directory, /etc/netns/$N, $wg_sock, the wg config (a link), wireguard-go ($wg_pid), wg-up ($sup_pid)" \
	targets_there
t_check "attack: the confined script runs as root, with a writable /etc (the override took)" \
	confined sh -c '[ "$(id -u)" = 0 ] && touch /etc/vc-e2e-writable && rm /etc/vc-e2e-writable'
args=(/run/vpn-confinement "$N" "$wg_sock" "$wg_link" "$wg_target" "$wg_pid" "$sup_pid")
c_out=$(confined sh "$attack" "${args[@]}")
u_out=$(unconfined sh "$attack" "${args[@]}")
for p in rundir-create rundir-read netns-etc-create wg-sock-get wg-sock-get-var-run wg-conf-read \
	wg-conf-target-read ini-read systemd-run wireguard-go-environ wireguard-go-root-conf \
	supervisor-environ; do
	t_check "attack: control: unconfined root, $p works" grep -qx "$p ok" <<<"$u_out"
	t_check "attack: confined root, $p fails" grep -qx "$p blocked" <<<"$c_out"
done
t_check_not "attack: nothing was left behind" \
	in_c sh -c "ls /run/vpn-confinement/$N/vc-e2e-plant /etc/netns/$N/vc-e2e-plant 2>/dev/null | grep -q ."
t_check "attack: the tunnel is still up" in_c systemctl is-active -q "wg-up@$N.service"
rm -rf "$units/vccmd@.service.d"
in_c systemctl daemon-reload
# With the hardening as it comes (ProtectSystem=strict): /run read-only too,
# where a runtime unit, drop-in or udev rule would run as root outside the
# namespace.
for d in /run/systemd/system /run/udev/rules.d /run; do
	t_check "hardening: control: unconfined root writes in $d" \
		unconfined sh -c "mkdir -p $d && touch $d/vc-e2e-probe.conf && rm $d/vc-e2e-probe.conf"
	t_check "hardening: confined root cannot write in $d" \
		confined sh -c "touch $d/vc-e2e-probe.conf 2>&1 | grep -q 'Read-only file system'"
done
# Why the hardening says ReadOnlyPaths=/run: ProtectSystem=strict alone
# (an admin's drop-in emptying ReadOnlyPaths=) leaves /run writable here.
mkdir -p "$units/vccmd@.service.d"
printf '[Service]\nReadOnlyPaths=\n' >"$units/vccmd@.service.d/60-override.conf"
in_c systemctl daemon-reload
t_check "hardening: control: with ProtectSystem=strict alone, a confined root writes in /run" \
	confined sh -c "touch /run/vc-e2e-probe.conf && rm /run/vc-e2e-probe.conf"
rm -rf "$units/vccmd@.service.d"
in_c systemctl daemon-reload

. "$here/part-exec.sh" # vpn-confinement exec, under real systemd (issue 14)

# --- Socket activation (issue 10, item 5) ------------------------------------------
# vcsock.socket comes with vcsock.service (the ini lists the service only):
# its sockets are made in the namespace, and a datagram the service sends
# from its ListenDatagram= socket goes through the tunnel, never out of the
# host's uplink. vcsockfree, the same pair unconfined, is the control.
ns_ss() { in_c nsenter --net="/run/netns/$N" ss -Hln "$@"; }
host_ss() { in_c ss -Hln "$@"; }
send_dgram='import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"go", ("127.0.0.1", int(sys.argv[1])))'
udp_seen() { grep -c "^udp 9999 $1\$" "$LAB_DIR/log/srv-inet.log"; }
udp_more() { [ "$(udp_seen "$1")" -gt "$2" ]; }
capture_start() {
	lab_bg "$LAB_HOST" tcpdump -n -U -i up0 -w "$1" udp port 9999 >/dev/null 2>&1
	cap_pid=${LAB_PIDS[-1]}
	sleep 1
}
capture_stop() { sleep 1; kill "$cap_pid" 2>/dev/null; wait "$cap_pid" 2>/dev/null; }
captured() { tcpdump -n -r "$1" 2>/dev/null | wc -l; }
t_check "socket: start vcsock.socket and vcsockfree.socket" in_c systemctl start vcsock.socket vcsockfree.socket
t_check "socket: vcsock.socket's stream socket listens in the namespace" grep -q ':8100 ' <<<"$(ns_ss -t)"
t_check "socket: ... and its datagram socket" grep -q ':8101 ' <<<"$(ns_ss -u)"
t_check_not "socket: ... neither in the host's network" grep -qE ':810[01] ' <<<"$(host_ss -tu)"
t_check "socket: control: vcsockfree.socket's are in the host's network" grep -q ':8201 ' <<<"$(host_ss -u)"
t_check_not "socket: control: ... not in the namespace" grep -qE ':820[01] ' <<<"$(ns_ss -tu)"
before=$(udp_seen "$TUN_IP")
capture_start "$LAB_DIR/sock.pcap"
in_c nsenter --net="/run/netns/$N" python3 -c "$send_dgram" 8101
wait_for 10 udp_more "$TUN_IP" "$before"
capture_stop
t_check "socket: a datagram to vcsock.socket started vcsock.service, in the namespace" \
	same_netns "$(mainpid vcsock.service)"
t_check "socket: its datagram, sent from that socket, reached the internet server from the tunnel address" \
	udp_more "$TUN_IP" "$before"
n=$(captured "$LAB_DIR/sock.pcap")
t_check "socket: captured on the host's uplink: no datagram to port 9999 ($n)" [ "$n" = 0 ]
before=$(udp_seen "$HOST_INET_IP")
capture_start "$LAB_DIR/sockfree.pcap"
in_c python3 -c "$send_dgram" 8201
wait_for 10 udp_more "$HOST_INET_IP" "$before"
capture_stop
pid=$(mainpid vcsockfree.service)
t_check "socket: control: vcsockfree.service runs in the host's network" \
	[ "$pid" != 0 -a "$(ino "/proc/$pid/ns/net")" = "$(ino /proc/1/ns/net)" ]
t_check "socket: control: its datagram reached the server from the host's address" udp_more "$HOST_INET_IP" "$before"
n=$(captured "$LAB_DIR/sockfree.pcap")
t_check "socket: control: the uplink capture saw it ($n packets)" [ "$n" -ge 1 ]
in_c systemctl stop vcsock.socket vcsock.service vcsockfree.socket vcsockfree.service

# --- Debian's transmission-daemon, hardened (issue 10, item 6) -----------------------
# Set up as its package leaves it (the container's /etc starts empty): its
# user, /etc/transmission-daemon/settings.json linked from its configuration
# directory under /var/lib/transmission-daemon. Confined with Hardening=yes:
# ProtectSystem=strict keeps it from writing its state, until the README's
# drop-in (the very text, taken from README.md) gives it its two paths.
tr_conf=/var/lib/transmission-daemon/.config/transmission-daemon
tr_setup() {
	in_c sh -c "
		getent passwd debian-transmission >/dev/null ||
			useradd --system --user-group --no-create-home --home-dir /var/lib/transmission-daemon debian-transmission || exit 1
		mkdir -p /etc/transmission-daemon $tr_conf /var/lib/transmission-daemon/downloads &&
		chown root:debian-transmission /etc/transmission-daemon && chmod 2775 /etc/transmission-daemon &&
		chown debian-transmission:debian-transmission $tr_conf /var/lib/transmission-daemon/downloads &&
		ln -sfn /etc/transmission-daemon/settings.json $tr_conf/settings.json &&
		printf '{\n \"rpc-bind-address\": \"0.0.0.0\",\n \"rpc-authentication-required\": false,\n \"rpc-whitelist-enabled\": false\n}\n' \
			>/etc/transmission-daemon/settings.json &&
		chown debian-transmission:debian-transmission /etc/transmission-daemon/settings.json &&
		chmod 0660 /etc/transmission-daemon/settings.json"
}
tr_journal() { in_c journalctl -u transmission-daemon.service --no-pager -o cat --since "@$1"; }
rpc_status() {
	in_lanin curl -s -o /dev/null -m 3 -w '%{http_code}' "http://$HOST_LANIN_IP:19091/transmission/rpc"
}
t_check "transmission: set up as Debian's package does" tr_setup
since=$(in_c date +%s)
t_check "transmission: control: without a drop-in, it starts confined" in_c systemctl start transmission-daemon.service
tr_readonly() { grep -q 'Read-only file system' <<<"$(tr_journal "$1")"; }
wait_for 10 tr_readonly "$since"
t_check "transmission: control: ... but cannot write its state (Read-only file system)" tr_readonly "$since"
t_check_not "transmission: control: ... no resume directory" in_c test -e "$tr_conf/resume"
in_c systemctl stop transmission-daemon.service
mkdir -p "$units/transmission-daemon.service.d"
sed -n "/transmission-daemon.service.d\/60-state.conf <<'EOF'\$/,/^EOF\$/p" "$T_TOP/README.md" | sed '1d;$d' \
	>"$units/transmission-daemon.service.d/60-state.conf"
t_check "transmission: the README's drop-in, as written there" \
	grep -qx 'ReadWritePaths=/var/lib/transmission-daemon /etc/transmission-daemon' "$units/transmission-daemon.service.d/60-state.conf"
in_c systemctl daemon-reload
sleep 1
since=$(in_c date +%s)
t_check "transmission: with it, it starts" in_c systemctl start transmission-daemon.service
pid=$(mainpid transmission-daemon.service)
t_check "transmission: in the namespace (MainPID $pid)" same_netns "$pid"
t_check "transmission: as its own user, hardened (ProtectSystem=strict)" \
	[ "$(in_c stat -c %U "/proc/$pid")" = debian-transmission -a "$(in_c systemctl show -p ProtectSystem --value transmission-daemon.service)" = strict ]
wait_for 10 in_c test -d "$tr_conf/resume"
t_check "transmission: it made its state directories" in_c test -d "$tr_conf/resume" -a -d "$tr_conf/torrents"
t_check "transmission: it saved its settings" in_c grep -q '"peer-port"' /etc/transmission-daemon/settings.json
t_check_not "transmission: no 'Read-only file system' this time" tr_readonly "$since"
rpc_conflict() { [ "$(rpc_status)" = 409 ]; }
wait_for 10 rpc_conflict
t_check "transmission: its RPC answers from the LAN through the port mapping (HTTP $(rpc_status))" [ "$(rpc_status)" = 409 ]
in_c systemctl stop transmission-daemon.service
rm -rf "$units/transmission-daemon.service.d"
in_c systemctl daemon-reload

. "$here/part-metrics.sh"
. "$here/part-portfwd.sh" # provider port forwarding, Transmission told (issue 15)

# --- Tunnel restart (L3) ------------------------------------------------------------
pid=$(mainpid vcprobe.service)
nsino=$(ino "/run/netns/$N")
t_check "tunnel restart: systemctl restart wg-up@$N" in_c systemctl restart "wg-up@$N.service"
t_check "tunnel restart: the service was not restarted (same MainPID $pid)" [ "$pid" != 0 -a "$(mainpid vcprobe.service)" = "$pid" ]
t_check "tunnel restart: the same namespace" [ "$(ino "/run/netns/$N")" = "$nsino" -a "$(ino "/proc/$pid/ns/net")" = "$nsino" ]
before=$(seen 9998 "$TUN_IP" vcprobe)
wait_for 20 seen_at_least $((before + 2)) 9998 "$TUN_IP" vcprobe
t_check "tunnel restart: traffic resumes through the tunnel" seen_at_least $((before + 2)) 9998 "$TUN_IP" vcprobe
t_check "tunnel restart: nothing from another address" [ "$(seen_other 9998 "$TUN_IP" vcprobe)" = 0 ]

# --- The tunnel heals itself (issue 13) -----------------------------------------------
. "$here/part-health.sh"

# --- Stop and start (L4) --------------------------------------------------------------
t_check "stop: the confined service runs before" in_c systemctl is-active -q vcprobe.service
t_check "stop: systemctl stop vpn-ns@$N" in_c systemctl stop "vpn-ns@$N.service"
# vpn-ns@N is stopped first (the reverse of its start order); the rest
# follows right after it: services and tunnel, then the namespace.
stopped() { [ "$(in_c systemctl show -p ActiveState --value "$1")" = inactive ]; }
wait_for 20 stopped "netns@$N.service"
t_check_not "stop: the confined service was stopped with it" in_c systemctl is-active -q vcprobe.service
t_check_not "stop: the tunnel was stopped with it" in_c systemctl is-active -q "wg-up@$N.service"
t_check_not "stop: the namespace is gone" in_c test -e "/run/netns/$N"
hold stop
t_check "stop: the control still runs" in_c systemctl is-active -q vccontrol.service
t_check "start again: systemctl start vcprobe brings the namespace back" in_c systemctl start vcprobe.service
pid=$(mainpid vcprobe.service)
t_check "start again: confined again" same_netns "$pid"
wait_for 20 in_c systemctl is-active -q "wg-up@$N.service"
t_check "start again: the tunnel came up with it" in_c systemctl is-active -q "wg-up@$N.service"
hold again

# --- Fail-closed after reload (L6) -----------------------------------------------------
cp "$VPN_CONFINEMENT_CONFDIR/$N.ini" "$LAB_DIR/good.ini"
echo 'Bogus%i=$HOME' >>"$VPN_CONFINEMENT_CONFDIR/$N.ini"
in_c systemctl daemon-reload
t_check_not "fail-closed: restarting the service after a reload with a broken ini fails" \
	in_c systemctl restart vcprobe.service
t_check_not "fail-closed: it is not running" in_c systemctl is-active -q vcprobe.service
t_check "fail-closed: the reason is in its journal, verbatim" \
	sh -c "nsenter -t $LEADER -a journalctl -u vcprobe.service --no-pager | grep -qF \"unknown key 'Bogus%i' in section [Confinement]\""
t_check_not "fail-closed: starting the namespace fails too" in_c systemctl restart "vpn-ns@$N.service"
t_check "fail-closed: with the reason in its journal" \
	sh -c "nsenter -t $LEADER -a journalctl -u netns@$N.service --no-pager | grep -qF 'Bogus%i'"
t_check "fail-closed: the probe never ran outside the tunnel" [ "$(seen_other 9998 "$TUN_IP" vcprobe)" = 0 ]
cp "$LAB_DIR/good.ini" "$VPN_CONFINEMENT_CONFDIR/$N.ini"
in_c systemctl daemon-reload
in_c systemctl reset-failed
t_check "fail-closed: fixed and reloaded, it starts confined again" in_c systemctl start vcprobe.service

# --- Boot with the VPN peer down (L5) ------------------------------------------------------
# At boot the endpoint's name does not resolve yet (a fresh /etc/hosts) and
# the peer drops everything: the tunnel fails and retries; the namespace
# and the service come up; nothing leaks. Then the name resolves: the
# tunnel comes up, still no traffic (the peer drops it). Then the peer is
# back: traffic resumes, with no action on the system.
container_stop
ln -sfn /etc/systemd/system/vcprobe.service "$units/multi-user.target.wants/vcprobe.service"
mkdir -p "$units/sockets.target.wants"
ln -sfn /etc/systemd/system/vcsock.socket "$units/sockets.target.wants/vcsock.socket"
in_inet nft -f - <<EOF
table inet vcpeerdown {
	chain input { type filter hook input priority -10; udp dport $WG_PORT drop; }
}
EOF
lab_bg "$LAB_HOST" tcpdump -n -U -i up0 -w "$LAB_DIR/boot.pcap" not udp port "$WG_PORT" >/dev/null 2>&1
tcpdump_pid=${LAB_PIDS[-1]}
sleep 1
before=$(seen 9998 "$TUN_IP" vcprobe)
# PID 1's messages before journald runs are only on the console.
boot_log_at=$(($(stat -c %s "$LAB_DIR/log/nspawn.log") + 1))
container_start || t_fail "boot: container boots again"
wait_for 30 in_c systemctl is-active -q vcprobe.service
sleep 3
t_check "boot: the confined service came up, the endpoint unresolvable and the peer down" \
	in_c systemctl is-active -q vcprobe.service
pid=$(mainpid vcprobe.service)
t_check "boot: ... in the namespace" same_netns "$pid"
t_check_not "boot: the tunnel is not up (it retries)" in_c systemctl is-active -q "wg-up@$N.service"
t_check "boot: the namespace unit is up" in_c systemctl is-active -q "vpn-ns@$N.service"
t_check "boot: vcsock.socket, enabled in sockets.target, came up" in_c systemctl is-active -q vcsock.socket
t_check "boot: ... listening in the namespace" grep -q ':8101 ' <<<"$(ns_ss -u)"
t_check_not "boot: no ordering cycle (a socket's default ordering would make one with netns@$N)" \
	grep -qi 'ordering cycle' <<<"$(tail -c +"$boot_log_at" "$LAB_DIR/log/nspawn.log")"
hold boot
endpoint_resolvable
wait_for 60 in_c systemctl is-active -q "wg-up@$N.service"
t_check "boot: once the endpoint resolves, the tunnel comes up by itself" in_c systemctl is-active -q "wg-up@$N.service"
sleep 3
t_check "boot: nothing from the probe reached the internet meanwhile" [ "$(seen 9998 "$TUN_IP" vcprobe)" = "$before" ]
t_check "boot: nothing from it from another address either" [ "$(seen_other 9998 "$TUN_IP" vcprobe)" = 0 ]
kill "$tcpdump_pid" 2>/dev/null; wait "$tcpdump_pid" 2>/dev/null
leaks=$(tcpdump -n -r "$LAB_DIR/boot.pcap" "src net $(ns_net 0) or tcp port 9998" 2>/dev/null | wc -l)
all=$(tcpdump -n -r "$LAB_DIR/boot.pcap" 2>/dev/null | wc -l)
t_check "boot: captured on the host's uplink ($all packets): none from the namespace, none to the probe's port ($leaks)" [ "$leaks" = 0 ]
in_inet nft delete table inet vcpeerdown
wait_for 40 seen_at_least $((before + 2)) 9998 "$TUN_IP" vcprobe
t_check "boot: once the peer is back, traffic resumes with no action" seen_at_least $((before + 2)) 9998 "$TUN_IP" vcprobe
t_check "boot: the service was never restarted" [ "$pid" != 0 -a "$(mainpid vcprobe.service)" = "$pid" ]
t_check_not "boot: nothing failed" in_c systemctl is-failed -q vcprobe.service "netns@$N.service" "wg-up@$N.service" "vpn-ns@$N.service"

# --- A host firewall reload (nftables.service, "flush ruleset") ---------------------------
# With the tunnel (and its supervisor) stopped, only netns@N's reload,
# propagated from nftables.service's, can put the host table back.
host_table() { in_c nft list table inet "vpn-confinement-$N" >/dev/null 2>&1; }
in_c sh -c 'printf "flush ruleset\n" >/etc/nftables.conf'
in_c systemctl stop "wg-up@$N.service"
t_check "firewall: start nftables.service (its ruleset begins with flush ruleset)" in_c systemctl start nftables.service
sleep 2
t_check_not "firewall: control: the host table of $N is gone, and nothing else puts it back" host_table
t_check "firewall: systemctl reload nftables.service" in_c systemctl reload nftables.service
wait_for 10 host_table
t_check "firewall: the reload propagated to netns@$N, which put the host table back" host_table
t_check "firewall: netns@$N's journal shows the reload" \
	sh -c "nsenter -t $LEADER -a journalctl -u netns@$N.service --no-pager | grep -q 'Reload'"
t_check "firewall: the tunnel starts again" in_c systemctl start "wg-up@$N.service"
wait_for 10 lan_reaches_probe
t_check "firewall: the LAN reaches the port mapping" lan_reaches_probe
# nftables.service's stop flushes too; now the tunnel's supervisor watches.
t_check "firewall: stop nftables.service (flush ruleset)" in_c systemctl stop nftables.service
wait_for 10 host_table
t_check "firewall: wg-up@$N's supervisor put the host table back within seconds" host_table
t_check "firewall: ... and says so in its journal" \
	sh -c "nsenter -t $LEADER -a journalctl -u wg-up@$N.service --no-pager | grep -q 'was gone (a firewall reload?); put it back'"
t_check "firewall: the LAN reaches the port mapping again" lan_reaches_probe

# --- Missing namespace --------------------------------------------------------------------
in_c systemctl stop vcprobe.service
in_c ip netns delete "$N" # detaches the name (umount would be busy) and removes it
in_c systemctl start vcprobe.service
st=$(in_c systemctl show -p ExecMainStatus --value vcprobe.service)
t_check "missing netns: the service fails with 225/NETWORK (status $st)" [ "$st" = 225 ]
t_check "missing netns: the probe never ran outside the tunnel" [ "$(seen_other 9998 "$TUN_IP" vcprobe)" = 0 ]
in_c systemctl stop "vpn-ns@$N.service"
in_c systemctl reset-failed

# --- Control: a confined socket unit with its default dependencies ---------------------
# Why the socket drop-in has DefaultDependencies=no: with the defaults back
# (Before=sockets.target), booting with vcsock.socket enabled is a cycle,
# broken by dropping sockets.target's start job.
container_stop
mkdir -p "$units/vcsock.socket.d"
printf '[Unit]\nDefaultDependencies=yes\n' >"$units/vcsock.socket.d/60-defaults.conf"
boot_log_at=$(($(stat -c %s "$LAB_DIR/log/nspawn.log") + 1))
container_start || t_fail "socket control: container boots"
t_check "socket control: with DefaultDependencies=yes, the boot has an ordering cycle" \
	grep -qi 'ordering cycle' <<<"$(tail -c +"$boot_log_at" "$LAB_DIR/log/nspawn.log")"
rm -rf "$units/vcsock.socket.d"

t_done
