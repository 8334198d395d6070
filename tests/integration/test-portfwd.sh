#!/bin/bash
# SPDX-License-Identifier: MIT
# Root tier, real packets: provider port forwarding (PortForwarding=natpmp,
# vpn-confinement port-forward). The lab's VPN provider runs a real NAT-PMP
# gateway on its WireGuard interface: miniupnpd (Debian's
# miniupnpd-nftables), then a gateway written for this test that assigns
# the port itself like ProtonVPN's (natpmp-gw.py). Proves: the mapping is
# made and renewed (with the renewals stopped it expires at the gateway);
# "the internet" (the lab's HOST, to the provider's public address)
# reaches a listener in the namespace through the forwarded port; a new
# tunnel session is asked for again and the hook runs again; a port the
# gateway changes is adopted and the old one closed in the ruleset;
# nothing but the forwarded port comes in through the tunnel (positive
# control: the same probe with that port opened); the hook ran with the
# right port each time, without capabilities; a stop closes the port and
# deletes the mapping; the provider-assigned path; the gateway's result
# codes reported by name, no answer reported as such and retried with
# back-off, the tunnel and its kill switch unaffected, port 0 never handed
# to the hook. The mappings live LIFETIME (6) seconds (--lifetime), so
# that the renewals (every 4.5 s) and the expiry are seen quickly.
# vm-tier: auto (the NAT-PMP socket bound to a kernel N0; the VM run stops after the standard gateway)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lab.sh"
source "$HERE/portfwd-lab.sh"
t_require_root
for tool in miniupnpd natpmpc socat python3 curl transmission-daemon qbittorrent-nox; do
	command -v "$tool" >/dev/null || { t_fail "needs $tool"; t_done; }
done
lab_up || { t_fail "lab setup"; t_done; }
pf_lab_up || { t_fail "port forwarding lab setup"; t_done; }
LIFETIME=6
# Under an emulated CPU (tests/vm) a request to miniupnpd can take seconds:
# longer mappings, so that the request timeout (a quarter) holds.
[ "$LAB_TIME_SCALE" -gt 1 ] && LIFETIME=10
RUN=$VPN_CONFINEMENT_RUNDIR

lab_testns A a
I=0
TUN=$(client_ip $I)
lab_client "$A" "$I"
# The hook records its arguments, environment and capabilities.
HOOKLOG=$LAB_DIR/hook.log
cat >"$LAB_DIR/hook.sh" <<EOF
#!/bin/sh
# The test's hook: records its arguments, environment and capabilities,
# fails while hook.fail exists, then runs the shipped hook of the client
# named in the file client (none: only says so).
d=\${0%/*}
caps=\$(sed -n 's/^CapEff:[[:space:]]*//p; s/^CapBnd:[[:space:]]*//p' /proc/self/status | tr '\n' ' ')
echo "args=\$* env=\$VPN_CONFINEMENT_FORWARDED_PORT ns=\$VPN_CONFINEMENT_NAMESPACE uid=\$(id -u) caps=\$caps" >>"\$d/hook.log"
[ -e "\$d/hook.fail" ] && { echo "client not listening yet"; exit 7; }
case \$(cat "\$d/client" 2>/dev/null) in
transmission) exec $T_TOP/examples/hooks/transmission-port-hook --netrc "\$d/tr.netrc" "\$3" ;;
qbittorrent) exec $T_TOP/examples/hooks/qbittorrent-port-hook --user admin --password-file "\$d/qbt.pw" "\$3" ;;
esac
echo "told the client \$3"
EOF
chmod 755 "$LAB_DIR/hook.sh"
: >"$HOOKLOG"
# The provider's whole tunnel subnet in AccessibleFrom (as ProtonVPN's
# 10.2.0.1 in a 10.0.0.0/8 LAN): the namespace routes it to the veth, but
# NAT-PMP must go through the tunnel (tested with a gateway that is not the
# DNS server, which gets a host route via the tunnel anyway).
lab_ini "$A" "$I" "" "PortForwarding=natpmp" "PortForwardingHook=$LAB_DIR/hook.sh --tag 'a b'" \
	"AccessibleFrom=192.0.2.0/24"
t_check "netns-up $A" vc_ok netns-up "$A"
t_check "wg-up $A" vc_ok wg-up "$A"
t_check "tunnel $A works" wait_for 8 \
	sh -c "nsenter --net=/run/netns/$A curl -s --max-time $LAB_T2 http://$INET_IP:8080/ | grep -qx peer=$TUN"

PFLOG=$LAB_DIR/log/port-forward.log
: >"$PFLOG"
PF_PID=
pf_start() {
	nsenter --net="/run/netns/$LAB_HOST" "$BUILD/vpn-confinement" port-forward "$A" --lifetime "$LIFETIME" \
		--hook-timeout 5 >>"$PFLOG" 2>&1 &
	PF_PID=$!
	LAB_PIDS+=("$PF_PID")
}
pf_stop() {
	kill "$PF_PID" 2>/dev/null
	wait "$PF_PID"
}
fwd() { cat "$RUN/$A/forwarded-port" 2>/dev/null; }
fwd_is() { [ "$(fwd)" = "$1" ]; }
fwd_not() { local p; p=$(fwd); [ -n "$p" ] && [ "$p" != "$1" ]; }
# set_is PROTO PORT...: the namespace's forwarded_PROTO set holds exactly
# these (none: empty).
set_is() {
	local proto=$1 got want; shift
	got=$(in_ns "$A" nft list set inet vpn-confinement "forwarded_$proto" | sed -n 's/.*elements = { \(.*\) }/\1/p')
	want=$(IFS=,; echo "$*" | sed 's/,/, /g')
	[ "$got" = "$want" ]
}
# hook_ran PORT: lines of the hook log for a run with PORT.
hook_ran() { grep -c "^args=--tag a b $1 env=$1 ns=$A uid=0 " "$HOOKLOG"; }
hook_ran_at_least() { [ "$(hook_ran "$2")" -ge "$1" ]; }
logged() { grep -qF -- "$1" "$PFLOG"; }
logged_n() { [ "$(grep -cF -- "$2" "$PFLOG")" -ge "$1" ]; }
# listen PORT: a TCP listener in the namespace answering "pf-here".
listen() { lab_bg "$A" socat "TCP-LISTEN:$1,fork,reuseaddr" SYSTEM:'echo pf-here'; sleep 0.3; }
# from_provider PORT: a TCP connection from the provider's namespace to the
# namespace's tunnel address (through the tunnel) gets "pf-here".
from_provider() {
	local r
	r=$(in_inet socat -T"$LAB_T1" - "TCP:$TUN:$1,connect-timeout=$LAB_T1" </dev/null 2>/dev/null)
	[ "$r" = pf-here ]
}
status_has() {
	vc status "$A" >"$LAB_DIR/status.out" 2>&1
	grep -qF -- "$1" "$LAB_DIR/status.out" && return 0
	sed 's/^/#   /' "$LAB_DIR/status.out"
	return 1
}
json_port() {
	vc status "$A" --json | python3 -c '
import json, sys
pf = json.load(sys.stdin)["namespaces"][0]["port_forwarding"]
print(pf.get("forwarded_port"), pf.get("gateway"), "age" in pf)'
}
check_ok() {
	vc check "$A" >"$LAB_DIR/check.out" 2>&1 && return 0
	sed 's/^/#   /' "$LAB_DIR/check.out"
	return 1
}
ruleset_matches() { vc status "$A" | grep -q '^  ruleset:    namespace matches'; }

# --- A standard gateway: miniupnpd ---------------------------------------------
t_check "miniupnpd runs on the provider's WireGuard interface" \
	pf_miniupnpd_start "allow 1024-65535 192.0.2.0/24 1024-65535"
start=${EPOCHREALTIME/[.,]/}
pf_start
t_check "a port is forwarded" wait_for 10 test -s "$RUN/$A/forwarded-port"
P=$(fwd)
t_check "forwarded-port is the port and a newline ($P)" \
	bash -c "[[ \$(od -An -c '$RUN/$A/forwarded-port' | tr -d ' ') == *'\\n' ]] && [ $P -ge 49152 ]"
t_check "miniupnpd was asked first for internal port 0, refused it, then mapped what was asked" \
	logged "the gateway refuses internal port 0: a standard NAT-PMP gateway"
t_check "miniupnpd forwards $P/tcp of the public address to $TUN:$P" pf_miniupnpd_maps "$P" tcp "$TUN"
t_check "... and $P/udp" pf_miniupnpd_maps "$P" udp "$TUN"
t_check "the ruleset's forwarded_tcp and forwarded_udp hold $P" wait_for 10 eval "set_is tcp $P && set_is udp $P"
t_check "the hook ran with $P as its last argument and in \$VPN_CONFINEMENT_FORWARDED_PORT" \
	wait_for 5 hook_ran_at_least 1 "$P"
t_check "the hook ran as root without any capability (effective and bounding sets empty)" \
	grep -q "^args=--tag a b $P .* uid=0 caps=0000000000000000 0000000000000000 \$" "$HOOKLOG"
t_check "its output and exit status are logged" \
	eval "logged '$A: hook: told the client $P' && logged '$A: hook: told the client port $P (exit status 0)'"
listen "$P"
t_check "the internet reaches the namespace's listener through $PF_PUBLIC_IP:$P" pf_reach "$PF_PUBLIC_IP" "$P"
t_check "status shows the port and the gateway" status_has "forwarded:  port $P by $WG_SRV_IP"
t_check "status --json: forwarded_port, gateway, age" test "$(json_port)" = "$P $WG_SRV_IP True"
t_check "check passes (the live sets are what port-forward recorded)" check_ok

# Nothing but the forwarded port comes in through the tunnel; the probe
# (from the provider, through the tunnel) gets in once the port is open.
X=$((P - 7))
listen "$X"
t_check "control: the provider reaches $P through the tunnel" from_provider "$P"
t_check_not "a listener on $X (not forwarded) is not reachable through the tunnel" from_provider "$X"
in_ns "$A" nft add element inet vpn-confinement forwarded_tcp "{ $X }"
t_check "control: with $X in forwarded_tcp, the same probe gets in" from_provider "$X"
in_ns "$A" nft delete element inet vpn-confinement forwarded_tcp "{ $X }"
t_check_not "... and not once it is out again" from_provider "$X"
t_check_not "the forwarded port is not reachable from the LAN through the veth" \
	in_lanin socat -T"$LAB_T1" - "TCP:$(ns_ip $I):$P,connect-timeout=$LAB_T1" </dev/null

# Renewed: after more than its lifetime, the mapping is still there.
sleep $((LIFETIME + 2))
t_check "renewed: after more than its lifetime ($LIFETIME s) the gateway still forwards $P" \
	eval "pf_miniupnpd_maps $P tcp $TUN && pf_miniupnpd_maps $P udp $TUN"
n=$(grep -c "NAT-PMP port mapping request : $P->$TUN:$P tcp lifetime=$LIFETIME" "$LAB_DIR/log/miniupnpd.log")
t_check "renewed: miniupnpd got $n requests for $P/tcp (>= 2)" [ "$n" -ge 2 ]
t_check "the port is told again now and then (the hook ran again with $P)" test "$(hook_ran "$P")" -ge 2
t_check "... quietly: one 'running' in the journal for $P" \
	test "$(grep -c "hook: running .* with port $P " "$PFLOG")" = 1

# A new tunnel session: asked for again, the sets filled again, the hook
# run again with the same port.
t_check "wg-up again (a new tunnel session)" vc_ok wg-up "$A"
t_check "the new session is noticed" wait_for 10 logged "a new tunnel session: asking for the port again"
t_check "the hook ran again with $P" wait_for 10 hook_ran_at_least 2 "$P"
t_check "the new ruleset's sets hold $P again" wait_for 10 eval "set_is tcp $P && set_is udp $P"
t_check "the internet reaches it again" wait_for 5 pf_reach "$PF_PUBLIC_IP" "$P"

# The kernel WireGuard tier (tests/vm) skips what follows up to the stop:
# the gateway's decisions do not depend on how the tunnel is made, and
# under TCG each takes a minute.
if [ "${RUN_IN_VM:-}" != 1 ]; then
# The gateway changes the port: restarted, it finds $P taken by another
# client (the provider's own address) and maps the next one; the old port
# closes in the ruleset, the new one opens, the hook is told.
# (Renewals held meanwhile, so that the other client is first.)
kill -STOP "$PF_PID"
pf_miniupnpd_stop
pf_miniupnpd_start "allow 1024-65535 192.0.2.0/24 1024-65535"
in_inet natpmpc -g "$WG_SRV_IP" -a "$P" "$P" tcp 3600 >/dev/null
in_inet natpmpc -g "$WG_SRV_IP" -a "$P" "$P" udp 3600 >/dev/null
kill -CONT "$PF_PID"
t_check "a different port is adopted when the gateway maps another" wait_for 15 fwd_not "$P"
P2=$(fwd)
t_check "it was moved, and asked for itself ($P2)" \
	grep -qE "the gateway mapped (udp|tcp) port $P2 instead of $P \(taken there\): asking for $P2 itself" "$PFLOG"
t_check "the old port is closed, the new one open, in the ruleset" wait_for 10 eval "set_is tcp $P2 && set_is udp $P2"
t_check "miniupnpd forwards $P2 to $TUN:$P2 (its mismatched mappings deleted)" \
	wait_for 10 eval "pf_miniupnpd_maps $P2 tcp $TUN && pf_miniupnpd_maps $P2 udp $TUN && \
		! in_inet nft list chain inet filter prerouting_miniupnpd | grep -q 'dnat ip to $TUN:$P\$'"
t_check "the hook ran with $P2" wait_for 5 hook_ran_at_least 1 "$P2"
listen "$P2"
t_check "the internet reaches the listener through $P2" pf_reach "$PF_PUBLIC_IP" "$P2"
t_check "the change is logged" logged "the forwarded port changed from $P to $P2"

# Restarted with another range, which does not have $P2 (a little above:
# miniupnpd 2.3.1 looks for a port it may map upward from the one asked
# for, one at a time): it maps one of its range instead; adopted the same
# way.
R=$((P2 + 40))
pf_miniupnpd_stop
pf_miniupnpd_start "allow $R-$((R + 9)) 192.0.2.0/24 1024-65535"
t_check "restarted with another range ($R-$((R + 9))): a port of it is adopted" \
	wait_for 15 eval 'p=$(fwd); [ -n "$p" ] && [ "$p" -ge $R ] && [ "$p" -le $((R + 9)) ]'
P3=$(fwd)
t_check "it was moved there by the gateway" grep -qE "the gateway mapped (udp|tcp) port $P3 instead of $P2 " "$PFLOG"
t_check "the ruleset holds $P3 only" wait_for 10 eval "set_is tcp $P3 && set_is udp $P3"
t_check "miniupnpd forwards $P3 to $TUN:$P3" wait_for 10 eval "pf_miniupnpd_maps $P3 tcp $TUN && pf_miniupnpd_maps $P3 udp $TUN"
t_check "the hook ran with $P3" wait_for 5 hook_ran_at_least 1 "$P3"

# Renewals stopped: the mapping expires at the gateway.
kill -STOP "$PF_PID"
t_check "with the renewals stopped, the mapping expires at the gateway" \
	wait_for $((LIFETIME + 8)) eval "! pf_miniupnpd_maps $P3 tcp $TUN"
kill -CONT "$PF_PID"
t_check "renewals resumed: the gateway forwards $P3 again" wait_for 10 pf_miniupnpd_maps "$P3" tcp "$TUN"
fi
PLAST=$(fwd)

# A stop closes the port, unpublishes it and deletes the mapping.
pf_stop
t_check "stopped: the sets are empty" eval "set_is tcp && set_is udp"
t_check "stopped: forwarded-port and the record are gone" \
	eval "! test -e '$RUN/$A/forwarded-port' && ! test -e '$RUN/$A/portfwd'"
t_check "stopped: the mapping was deleted at the gateway (not left to expire)" \
	eval "! pf_miniupnpd_maps $PLAST tcp $TUN && ! pf_miniupnpd_maps $PLAST udp $TUN"
t_check "stopped: check says port-forward is not running" \
	eval "! vc check $A >$LAB_DIR/check.out 2>&1 && grep -q 'port-forward is not running' $LAB_DIR/check.out"
pf_miniupnpd_stop
phase1=${EPOCHREALTIME/[.,]/}
echo "# standard gateway $(((phase1 - start) / 1000000)) s"
if [ "${RUN_IN_VM:-}" = 1 ]; then
	# The kernel WireGuard tier (tests/vm) stops here: what follows does
	# not depend on how the tunnel is made, and costs minutes under TCG.
	echo "# in the VM tier: the assigning gateway and the clients are left to the native run"
	t_check "the lab's namespaces go down cleanly" eval "vc_ok wg-down $A && vc_ok netns-down $A"
	t_done
fi

# --- A gateway that assigns the port itself (like ProtonVPN's), and the ---------
# --- shipped hooks with Debian's transmission-daemon and qbittorrent-nox -----
# The clients run in the namespace (as root: the lab's), their RPC and Web
# UI on 127.0.0.1 behind a password; the hook the test gives port-forward
# runs the shipped hook of the one running.
# listener PORT: the program listening on TCP PORT in the namespace.
listener() { in_ns "$A" ss -Hltnp "sport = :$1" | sed -n 's/.*users:(("\([^"]*\)".*/\1/p' | sort -u; }
# peer_connects PORT: a TCP connection from the internet to the public
# address's PORT is accepted (by whatever listens on it in the namespace).
peer_connects() { in_host socat -T"$LAB_T2" /dev/null "TCP:$PF_PUBLIC_IP:$1,connect-timeout=$LAB_T2"; }
mkdir -p "$LAB_DIR/tr"
printf 'machine 127.0.0.1 login vc password trpw%s\n' "$LAB_SFX" >"$LAB_DIR/tr.netrc"
chmod 600 "$LAB_DIR/tr.netrc"
lab_bg "$A" transmission-daemon -f -g "$LAB_DIR/tr" -r 127.0.0.1 -t -u vc -v "trpw$LAB_SFX" -M -P 51413 \
	-e "$LAB_DIR/log/transmission.log"
TR_PID=${LAB_PIDS[-1]}
t_check "transmission-daemon runs in the namespace, on peer port 51413" \
	wait_for 10 eval '[ "$(listener 51413)" = transmission-da ]'
echo transmission >"$LAB_DIR/client"
echo ok >"$LAB_DIR/pgw.control"
# This gateway on another address of the provider's tunnel subnet, which
# the namespace routes to its veth (AccessibleFrom=192.0.2.0/24).
PGW=192.0.2.254
ip -n "$LAB_INET" addr add "$PGW/32" dev "$LAB_WGSRV"
echo "PortForwardingGateway=$PGW" >>"$VPN_CONFINEMENT_CONFDIR/$A.ini"
t_check "control: the namespace routes $PGW to its veth" \
	sh -c "nsenter --net=/run/netns/$A ip route get $PGW | grep -q ' dev veth-$A '"
t_check "the Proton-like gateway runs" pf_pgw_start 40000-40099 "$PGW"
pf_start
t_check "a port is forwarded" wait_for 10 test -s "$RUN/$A/forwarded-port"
Q=$(fwd)
t_check "it is the one the gateway assigned ($Q, in 40000-40099)" [ "$Q" -ge 40000 -a "$Q" -le 40099 ]
t_check "it was asked as ProtonVPN's client asks: internal 0, external 1 (through the tunnel)" \
	grep -q "^req 1 0 1 $LIFETIME -> 0 $Q\$" "$LAB_DIR/log/pgw.log"
t_check "the gateway's kind is logged" logged "the gateway assigns the port itself"
t_check "the ruleset holds $Q" wait_for 10 eval "set_is tcp $Q && set_is udp $Q"
t_check "the hook ran with $Q" wait_for 5 hook_ran_at_least 1 "$Q"
t_check "the shipped Transmission hook set its peer port (RPC, session id, password)" \
	wait_for 10 logged "$A: hook: Transmission's peer port is now $Q"
t_check "transmission-daemon really listens on $Q now, no more on 51413" \
	eval '[ "$(listener $Q)" = transmission-da ] && [ -z "$(listener 51413)" ]'
t_check "a peer connection from the internet to $PF_PUBLIC_IP:$Q reaches it" peer_connects "$Q"
# Restarted on the port of its own configuration (-P 51413, as NixOS's
# module writes peer-port at every start): told again, quietly.
kill "$TR_PID"; wait "$TR_PID" 2>/dev/null
lab_bg "$A" transmission-daemon -f -g "$LAB_DIR/tr" -r 127.0.0.1 -t -u vc -v "trpw$LAB_SFX" -M -P 51413 \
	-e "$LAB_DIR/log/transmission.log"
TR_PID=${LAB_PIDS[-1]}
t_check "transmission-daemon restarted on 51413" wait_for 10 eval '[ "$(listener 51413)" = transmission-da ]'
t_check "it is told $Q again within two renewals" wait_for 15 eval '[ "$(listener $Q)" = transmission-da ]'
kill "$TR_PID"; wait "$TR_PID" 2>/dev/null

# qBittorrent, logging in with a password (PBKDF2, as it stores them).
mkdir -p "$LAB_DIR/qbt/qBittorrent/config"
printf 'qbpw %s\n' "$LAB_SFX" >"$LAB_DIR/qbt.pw"
chmod 600 "$LAB_DIR/qbt.pw"
python3 - "$LAB_DIR/qbt/qBittorrent/config/qBittorrent.conf" "qbpw $LAB_SFX" <<'PY'
import base64, hashlib, os, sys
salt = os.urandom(16)
key = hashlib.pbkdf2_hmac("sha512", sys.argv[2].encode(), salt, 100000, 64)
open(sys.argv[1], "w").write("""[LegalNotice]
Accepted=true

[BitTorrent]
Session\\Port=6881

[Preferences]
WebUI\\Address=127.0.0.1
WebUI\\Port=8080
WebUI\\Username=admin
WebUI\\Password_PBKDF2="@ByteArray(%s:%s)"
WebUI\\LocalHostAuth=true
""" % (base64.b64encode(salt).decode(), base64.b64encode(key).decode()))
PY
lab_bg "$A" env HOME="$LAB_DIR/qbt" qbittorrent-nox --profile="$LAB_DIR/qbt" >"$LAB_DIR/log/qbittorrent.log" 2>&1
t_check "qbittorrent-nox runs in the namespace, listening on 6881" \
	wait_for 15 eval '[ "$(listener 6881)" = qbittorrent-nox ] && [ "$(listener 8080)" = qbittorrent-nox ]'
echo qbittorrent >"$LAB_DIR/client"
pf_pgw_stop
t_check "the gateway restarted with another range" pf_pgw_start 41000-41099 "$PGW"
t_check "the new port is adopted" wait_for 15 fwd_not "$Q"
Q2=$(fwd)
t_check "... from the new range ($Q2), the old one closed" \
	wait_for 10 eval "[ $Q2 -ge 41000 -a $Q2 -le 41099 ] && set_is tcp $Q2 && set_is udp $Q2"
t_check "the hook ran with $Q2" wait_for 5 hook_ran_at_least 1 "$Q2"
t_check "the shipped qBittorrent hook logged in and set its listening port (Web API)" \
	wait_for 10 logged "$A: hook: qBittorrent's listening port is now $Q2"
t_check "qbittorrent-nox really listens on $Q2 now, no more on 6881" \
	eval '[ "$(listener $Q2)" = qbittorrent-nox ] && [ -z "$(listener 6881)" ]'
t_check "a peer connection from the internet to $PF_PUBLIC_IP:$Q2 reaches it" peer_connects "$Q2"
rm "$LAB_DIR/client"

# Datagrams that are no answer to the request (too short; an answer for the
# other protocol, with port 1) are dropped: the port stays, no error.
echo noise >"$LAB_DIR/pgw.control"
n=$(grep -c ' noise$' "$LAB_DIR/log/pgw.log")
errs=$(grep -c 'port forwarding via' "$PFLOG")
kill -HUP "$PF_PID"
t_check "the gateway sent noise before its answers" wait_for 10 pf_count_above $((n + 1)) ' noise$' "$LAB_DIR/log/pgw.log"
sleep 1
t_check "... which was dropped: the port is $Q2 still" eval "fwd_is $Q2 && set_is tcp $Q2 && set_is udp $Q2"
t_check "... and no error" eval "! grep -q '^error=' '$RUN/$A/portfwd' && [ \$(grep -c 'port forwarding via' '$PFLOG') = $errs ]"
echo ok >"$LAB_DIR/pgw.control"

# The hook fails (the client is not listening yet): retried with back-off
# until it succeeds; renewals go on meanwhile.
touch "$LAB_DIR/hook.fail"
told=$(grep -c "$A: hook: told the client port $Q2 (exit status 0)" "$PFLOG")
kill -HUP "$PF_PID"
t_check "SIGHUP: asked again, and the client told again" wait_for 10 logged "asked to ask the gateway again now, and tell the client"
t_check "a failing hook: its exit status is logged" wait_for 10 logged "$A: hook: failed with port $Q2 (exit status 7)"
t_check "... with its output" logged "$A: hook: client not listening yet"
t_check "... and it is tried again with back-off" wait_for 10 logged_n 2 "$A: hook: failed with port $Q2"
t_check "... 2 s, then 4 s" eval "logged 'hook: trying again in 2 s' && logged 'hook: trying again in 4 s'"
rm "$LAB_DIR/hook.fail"
t_check "until it succeeds" wait_for 20 logged_n $((told + 1)) "$A: hook: told the client port $Q2 (exit status 0)"

# Every result code by name; no answer; back-off; the port expires; port
# 0 never handed to the hook; the tunnel and kill switch unaffected.
runs_before=$(grep -c '^args=' "$HOOKLOG")
echo "codes 1 2 3 4 5 9" >"$LAB_DIR/pgw.control"
kill -HUP "$PF_PID"
for c in "Unsupported Version (result code 1)" "Not Authorized/Refused (result code 2)" \
	"Network Failure (result code 3)" "Out of resources (result code 4)" \
	"Unsupported opcode (result code 5)" "undefined result code (result code 9)"; do
	t_check "the gateway's $c is reported by name" wait_for 20 logged "the gateway answered $c"
done
echo silent >"$LAB_DIR/pgw.control"
t_check "no answer: reported with its likely cause" \
	wait_for 30 logged "no answer from the gateway: likely a key made without port forwarding"
t_check "... and retried with back-off" eval "logged 'trying again in 8 s' || logged 'trying again in 16 s'"
t_check "not renewed, the mapping expires: the port is closed" wait_for 30 eval "set_is tcp && set_is udp"
t_check "... and unpublished" eval "! test -e '$RUN/$A/forwarded-port'"
t_check "status says why there is no port" status_has "no answer from the gateway"
t_check "check: a problem, with the cause" \
	eval "! vc check $A >$LAB_DIR/check.out 2>&1 && grep -q 'no port forwarded: no answer from the gateway' $LAB_DIR/check.out"
t_check "the hook was never handed port 0 (nor run at all meanwhile)" \
	eval "[ $(grep -c '^args=' "$HOOKLOG") = $runs_before ] && ! grep -q '^args=.* 0 env=' '$HOOKLOG'"
t_check "the tunnel still works" \
	sh -c "nsenter --net=/run/netns/$A curl -s --max-time $LAB_T2 http://$INET_IP:8080/ | grep -qx peer=$TUN"
t_check "the kill switch is as rendered" ruleset_matches
echo ok >"$LAB_DIR/pgw.control"
kill -HUP "$PF_PID"
t_check "the gateway answers again: a port is forwarded again" wait_for 15 test -s "$RUN/$A/forwarded-port"
Q3=$(fwd)
t_check "the hook is told ($Q3)" wait_for 5 hook_ran_at_least 1 "$Q3"
t_check "check passes again" check_ok
pf_stop
pf_pgw_stop
end=${EPOCHREALTIME/[.,]/}
echo "# assigning gateway $(((end - phase1) / 1000000)) s"

t_check "the lab's namespaces go down cleanly" eval "vc_ok wg-down $A && vc_ok netns-down $A"
t_done
