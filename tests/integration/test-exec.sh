#!/bin/bash
# SPDX-License-Identifier: MIT
# Root tier, real packets: `vpn-confinement exec N [--user U] -- COMMAND`
# runs COMMAND as a service confined to N runs. The same probes as for a
# confined service: its traffic goes through the tunnel only (nothing on
# the veth), DNS only to the VPN's resolver, no NET_ADMIN or NET_RAW, no
# new namespaces, the run and configuration directories, the WireGuard
# configuration and wireguard-go's sockets out of sight, the namespace's
# resolv.conf and the confinement's nsswitch.conf, a clean environment,
# no inherited descriptor; --user runs as that user. Each "cannot" is
# paired with `ip netns exec` and `nsenter --net`, which can. It refuses
# (exit 125) while the namespace or its kill switch is not up.
# (The host's resolver and service manager sockets need a systemd: that
# part is in tests/e2e/part-exec.sh.)
# vm-tier: none (exec sits above the tunnel: setns, mounts, capabilities and its filter are the same whichever implementation carries it)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lab.sh"
t_require_root
lab_up || { t_fail "lab setup"; t_done; }
for tool in unshare nft ip dig getent curl; do
	command -v "$tool" >/dev/null || { t_fail "$tool is there"; t_done; }
done

I=6
lab_testns X x
lab_client "$X" "$I" || { t_fail "client config"; t_done; }
lab_ini "$X" "$I" ""
CIP=$(client_ip "$I")
P=$LAB_DIR/probes T=$LAB_DIR/targets OUT=$LAB_DIR/exec.out
obs_default_targets "$I" >"$T"
# ex ARGS...: vpn-confinement exec ARGS, output in $OUT, its status returned.
ex() { vc exec "$@" >"$OUT" 2>&1; }
# Mount points exec makes where they are missing, as systemd does for a
# confined service: this run removes those it made.
made_dirs=()
[ -d /run/systemd ] && [ ! -e /run/systemd/resolve ] && made_dirs+=(/run/systemd/resolve)
for d in /run/wireguard /etc/netns; do [ -e "$d" ] || made_dirs+=("$d"); done
cleanup_made() { local d; for d in "${made_dirs[@]}"; do rmdir "$d" 2>/dev/null; done; }
trap 'rc=$?; cleanup_made; (exit $rc); lab_cleanup' EXIT

# --- refused while the namespace is not up -------------------------------------------
ex "$X" -- true
t_check "refused: exec before netns-up exits 125" test $? = 125
t_check "refused: ... saying the namespace is not up" grep -q "the namespace is not up" "$OUT"
t_check "netns-up $X" vc_ok netns-up "$X"
t_check "wg-up $X" vc_ok wg-up "$X"
t_check "status says the tunnel is up with $(lab_expected_impl) WireGuard" impl_is "$X" "$(lab_expected_impl)"
ex "$X" -- sh -c 'exit 7'
t_check "control: with the namespace up it runs, and exits with the command's status (7)" test $? = 7
in_ns "$X" nft list table inet vpn-confinement >"$LAB_DIR/table.saved"
in_ns "$X" nft delete table inet vpn-confinement
ex "$X" -- true
t_check "refused: with the kill switch gone (table deleted), exit 125" test $? = 125
t_check "refused: ... saying so" grep -q "kill switch is not loaded" "$OUT"
in_ns "$X" nft -f "$LAB_DIR/table.saved"
in_ns "$X" nft add rule inet vpn-confinement output oifname "veth-$X" accept
ex "$X" -- true
t_check "refused: with a rule added to the kill switch, exit 125, pointing at check" \
	bash -c "[ $? = 125 ] && grep -q 'differs from what .vpn-confinement ruleset $X. renders' $OUT"
t_check "control: wg-up puts the ruleset back" vc_ok wg-up "$X"
tunnel_ok() { in_ns "$X" curl -s --max-time "$LAB_T2" "http://$INET_IP:8080/" 2>/dev/null | grep -qx "peer=$CIP"; }
t_check "control: the tunnel carries traffic" wait_for 8 tunnel_ok

# --- the network: like a service --------------------------------------------------------
ex "$X" -- curl -s --max-time "$LAB_T2" "http://$INET_IP:8080/"
t_check "network: the internet server sees the tunnel address $CIP" grep -qx "peer=$CIP" "$OUT"
# Every kind of probe to every lab target, run by exec; only the veth's
# host end sees what leaves the namespace other than through the tunnel.
obs_setup "$LAB_HOST" vclveth "veth-$X-br" daddr "$T"
mkdir -p "$P"
vc exec "$X" -- bash -c "$(declare -f answered udp_probe dns_probe probe_batch_here); probe_batch_here $T $P $LAB_T1" \
	>/dev/null 2>&1
obs_read "$LAB_HOST" vclveth
t_check "network: probes of every kind to every target: 0 IP packets on the veth (${OBS[allip]}; neighbour discovery ${OBS[nd]})" \
	test "${OBS[allip]}" = 0
# (The answers are polled for: a probe of the batch may be slow under load.)
x_inet() {
	vc exec "$X" -- bash -c "$(declare -f answered udp_probe); r=\$(socat -T$LAB_T1 - TCP:$INET_IP:9998,connect-timeout=$LAB_T1 </dev/null); answered \"\$r\" hello && udp_probe $INET_IP 9999 $LAB_T1" 2>/dev/null
}
t_check "network: tcp and udp to the internet answered through the tunnel" wait_for 5 x_inet
t_check "network: DNS to the internet's resolver not (only the VPN's)" test "$(cat "$P/inet.dns")" != 0
t_check "network: the LAN and the host are not reached" \
	bash -c "! grep -qx 0 $P/lanin.* $P/bridge.* $P/hostlan.*"
t_check "network: no ping (no CAP_NET_RAW, no set-user-ID or file capability: no_new_privs)" \
	bash -c "[ \$(cat $P/inet.icmp) != 0 ]"
in_ns "$X" ping -n -c1 -W"$LAB_T2" "$INET_IP" >/dev/null 2>&1
t_check "control: nsenter --net: ping gets through the tunnel" test $? = 0
# The control for "nothing on the veth": without the namespace ruleset the
# same probes leave through the veth (run by nsenter --net: exec refuses
# then).
obs_reset "$LAB_HOST" vclveth
ns_open "$X"
ex "$X" -- true
t_check "refused: with the namespace ruleset replaced (accept-all), exec refuses (125)" test $? = 125
probe_batch "$X" "$T" "$P"
ns_restore "$X"
obs_read "$LAB_HOST" vclveth
t_check "control: without the namespace ruleset, the same probes leave through the veth (${OBS[allip]} IP packets)" \
	test "${OBS[allip]}" -gt 0
obs_delete "$LAB_HOST" vclveth

# --- DNS: only the VPN's resolver -------------------------------------------------------------
ex "$X" -- getent hosts probe.test
t_check "dns: getent hosts asks the VPN's resolver ($DNS_VPN_ANSWER)" grep -q "^$DNS_VPN_ANSWER " "$OUT"
ex "$X" -- dig +time="$LAB_T1" +tries=1 +short "@$INET_IP" probe.test
t_check "dns: another resolver through the tunnel gets nothing" bash -c "! grep -q '^[0-9]' $OUT"
ex "$X" -- cat /etc/resolv.conf
t_check "dns: /etc/resolv.conf is the namespace's ($LAB_DIR/run/$X/resolv.conf)" cmp -s "$OUT" "$LAB_DIR/run/$X/resolv.conf"
t_check "control: nsenter --net sees the host's /etc/resolv.conf instead" \
	bash -c "! nsenter --net=/run/netns/$X cat /etc/resolv.conf | cmp -s - $LAB_DIR/run/$X/resolv.conf"
ex "$X" -- cat /etc/nsswitch.conf
t_check "dns: /etc/nsswitch.conf has hosts: files dns, no resolve, mdns or myhostname" \
	bash -c "grep -q '^hosts: *files dns\$' $OUT && ! grep -qE '^hosts:.*(resolve|mdns|myhostname)' $OUT"
t_check "control: ip netns exec and nsenter --net see the host's nsswitch.conf" \
	bash -c "ip netns exec $X cat /etc/nsswitch.conf | cmp -s - /etc/nsswitch.conf && nsenter --net=/run/netns/$X cat /etc/nsswitch.conf | cmp -s - /etc/nsswitch.conf"

# --- capabilities and namespaces --------------------------------------------------------------
cap_bit() { [ $(((16#$1 >> $2) & 1)) = 1 ]; }
ex "$X" -- sh -c 'grep -E "^Cap(Eff|Bnd):" /proc/self/status'
bnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' "$OUT") eff=$(sed -n 's/^CapEff:[[:space:]]*//p' "$OUT")
missing=""
for bit in 12 13 21 19 16 17 39 38 22 2; do # the confinement's (common/confinement.c)
	{ [ -n "$bnd" ] && ! cap_bit "$bnd" "$bit" && ! cap_bit "$eff" "$bit"; } || missing="$missing $bit"
done
t_check "caps: none of the confinement's capabilities in its bounding or effective set (CapBnd $bnd)${missing:+ (has:$missing)}" test -z "$missing"
t_check "caps: root keeps the others (CAP_CHOWN, CAP_DAC_OVERRIDE)" bash -c "cap_bit() { [ \$(((16#\$1 >> \$2) & 1)) = 1 ]; }; cap_bit $eff 0 && cap_bit $eff 1"
ip_bnd=$(ip netns exec "$X" sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
t_check "control: ip netns exec keeps CAP_NET_ADMIN and CAP_SYS_ADMIN (CapBnd $ip_bnd)" \
	bash -c "cap_bit() { [ \$(((16#\$1 >> \$2) & 1)) = 1 ]; }; cap_bit $ip_bnd 12 && cap_bit $ip_bnd 21"
ex "$X" -- nft list ruleset
t_check "caps: nft cannot even list the kill switch" test $? != 0
t_check "control: ip netns exec and nsenter --net can" \
	bash -c "ip netns exec $X nft list table inet vpn-confinement >/dev/null && nsenter --net=/run/netns/$X nft list table inet vpn-confinement >/dev/null"
ex "$X" -- ip addr add 198.19.99.1/32 dev lo
t_check "caps: no address can be added" test $? != 0
t_check "control: nsenter --net can (and removes it again)" \
	bash -c "nsenter --net=/run/netns/$X ip addr add 198.19.99.1/32 dev lo && nsenter --net=/run/netns/$X ip addr del 198.19.99.1/32 dev lo"
ex "$X" -- unshare -n true
t_check "namespaces: unshare -n fails (EPERM)" bash -c "[ $? != 0 ] && grep -q 'Operation not permitted' $OUT"
ex "$X" -- nsenter --net=/run/netns/"$LAB_HOST" true
t_check "namespaces: setns() into the lab host's network fails" test $? != 0
t_check "control: ip netns exec and nsenter --net can make namespaces and enter the host's network" \
	bash -c "ip netns exec $X unshare -n true && nsenter --net=/run/netns/$X unshare -n true && nsenter --net=/run/netns/$X nsenter --net=/run/netns/$LAB_HOST true"
# A user namespace would give the capabilities back inside it. (Where root
# cannot make one either, in a chroot such as the VM tier's, there is no
# control and nothing to show.)
if nsenter --net=/run/netns/"$X" unshare -U true 2>/dev/null; then
	ex "$X" -- unshare -U true
	t_check "namespaces: unshare -U fails too (the control, nsenter --net, can)" grep -q 'Operation not permitted' "$OUT"
fi
ex "$X" -- sh -c 'cat /proc/self/status | grep ^NoNewPrivs'
t_check "no_new_privs is set" grep -qE 'NoNewPrivs:[[:space:]]+1' "$OUT"

# --- out of sight -----------------------------------------------------------------------------
WGCONF=$LAB_DIR/wg/$X.conf
# A wireguard-go control socket: the lab's VPN server's (the tunnel's own
# is one only with the userspace implementation).
SOCK=/var/run/wireguard/$LAB_WGSRV.sock
t_check "hidden: the targets are there: the run directory, the ini, the wg config, $SOCK" \
	test -d "$LAB_DIR/run/$X" -a -f "$VPN_CONFINEMENT_CONFDIR/$X.ini" -a -f "$WGCONF" -a -S "$SOCK"
ex "$X" -- sh -c "ls -A $LAB_DIR/run; ls -A $VPN_CONFINEMENT_CONFDIR; cat $WGCONF; ls -A /run/wireguard /var/run/wireguard /etc/netns; echo end"
t_check "hidden: exec sees nothing of them (the run and configuration directories, the wg config, wireguard-go's sockets, /etc/netns)" \
	bash -c "[ \"\$(tail -n 1 $OUT)\" = end ] && ! grep -qE 'resolv|\\.ini|PrivateKey|\\.sock|$X' $OUT"
nsenter --net=/run/netns/"$X" sh -c "ls -A $LAB_DIR/run; cat $WGCONF; ls /var/run/wireguard" >"$LAB_DIR/ctl.out" 2>&1
t_check "control: nsenter --net sees them all, the private key included" \
	bash -c "grep -q '^$X\$' $LAB_DIR/ctl.out && grep -q PrivateKey $LAB_DIR/ctl.out && grep -q '$LAB_WGSRV.sock' $LAB_DIR/ctl.out"
t_check "control: ip netns exec too" bash -c "ip netns exec $X ls /var/run/wireguard | grep -q '$LAB_WGSRV.sock'"
for d in /run/dbus /run/user; do
	if [ -d "$d" ] && [ -n "$(ls -A "$d")" ]; then
		ex "$X" -- ls -A "$d"
		t_check "hidden: $d is empty to exec (the control: it is not, here)" test ! -s "$OUT"
	fi
done

# --- environment, descriptors, user ------------------------------------------------------------
export VC_LEAK_PROBE=leak LD_PRELOAD=
ex "$X" -- env
unset VC_LEAK_PROBE LD_PRELOAD
t_check "env: the caller's other variables are gone (VPN_CONFINEMENT_*, LD_PRELOAD, ...)" \
	bash -c "! grep -qE '^(VC_LEAK_PROBE|VPN_CONFINEMENT_|LD_PRELOAD|SSH_AUTH_SOCK|DBUS_SESSION_BUS_ADDRESS)' $OUT"
t_check "env: PATH kept, HOME, USER, LOGNAME, SHELL of root" \
	bash -c "grep -q '^PATH=' $OUT && grep -qx 'HOME=/root' $OUT && grep -qx 'USER=root' $OUT && grep -qx 'LOGNAME=root' $OUT && grep -q '^SHELL=' $OUT"
exec 7</etc/passwd
ex "$X" -- ls /proc/self/fd
t_check "descriptors: the caller's fd 7 does not reach the command" bash -c "! grep -qx 7 $OUT"
exec 7<&-
ex --user nobody "$X" -- sh -c 'id -u; id -g; touch /tmp/vc-exec-nobody.$$ && stat -c %U /tmp/vc-exec-nobody.$$ && rm /tmp/vc-exec-nobody.$$'
t_check "user: --user nobody runs as nobody (uid, gid, the files it makes)" \
	bash -c "[ \"\$(tr '\n' ' ' <$OUT)\" = \"$(id -u nobody) $(id -g nobody) nobody \" ]"
ex "$X" --user=nobody -- env
t_check "user: --user=nobody, after N: HOME, USER of nobody" \
	bash -c "grep -qx 'USER=nobody' $OUT && grep -qx 'HOME=$(getent passwd nobody | cut -d: -f6)' $OUT"
ex --user nobody "$X" -- curl -s --max-time "$LAB_T2" "http://$INET_IP:8080/"
t_check "user: nobody's traffic goes through the tunnel" grep -qx "peer=$CIP" "$OUT"
ex --user vc-no-such-user "$X" -- true
t_check "user: a user that does not exist is refused (125)" bash -c "[ $? = 125 ] && grep -q \"no such user 'vc-no-such-user'\" $OUT"

# --- exit statuses -------------------------------------------------------------------------------
ex "$X" -- /nonexistent/command
t_check "exit: a command that is not found: 127" test $? = 127
ex "$X" -- /etc/passwd
t_check "exit: a command that cannot be run (/etc/passwd): 126" test $? = 126
ex "$X"
t_check "exit: no command: usage, 125" test $? = 125
ex "$X" --bogus -- true
t_check "exit: an unknown option: usage, 125" test $? = 125
ex "Bad!" -- true
t_check "exit: an invalid namespace name: 125" test $? = 125
vc exec --help >"$OUT" 2>&1
t_check "--help: 0, with the usage" bash -c "[ $? = 0 ] && grep -q 'exec N \\[--user USER\\]' $OUT"

# --- tunnel down: still allowed (the kill switch is up), traffic dropped --------------------------
t_check "wg-down $X" vc_ok wg-down "$X"
ex "$X" -- curl -s --max-time "$LAB_T1" "http://$INET_IP:8080/"
t_check "tunnel down: exec runs (the kill switch holds), and its traffic goes nowhere" \
	bash -c "! grep -q peer= $OUT"
t_check "netns-down $X" vc_ok netns-down "$X"
cleanup_made
t_done
