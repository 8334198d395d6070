# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Provider port forwarding under systemd (issue 15), sourced by
# test-e2e.sh in its container, after the Transmission part (Debian's
# transmission-daemon set up and confined; its RPC on 0.0.0.0:9091 without
# a password). The lab's VPN provider runs miniupnpd as its NAT-PMP
# gateway (tests/integration/portfwd-lab.sh). With PortForwarding=natpmp
# and the shipped Transmission hook in the ini: the generator wires
# vpn-portfwd@N to vpn-ns@N; port-forward, started before Transmission,
# gets the port, opens it on N0, publishes it; the hook fails while
# Transmission is not up and is retried until it is; transmission-remote
# then shows the port, Transmission listens on it, and a peer from the
# internet reaches it through the provider's public address. Stopping the
# unit closes the port and deletes the mapping. The ini is put back after.
. "$here/../integration/portfwd-lab.sh"
pf_c_run() { in_c cat "/run/vpn-confinement/$N/$1" 2>/dev/null; }
pf_listener() {
	in_c ip netns exec "$N" ss -Hltnp "sport = :$1" | sed -n 's/.*users:(("\([^"]*\)".*/\1/p' | sort -u
}
pf_journal() { in_c journalctl -u "vpn-portfwd@$N.service" --no-pager -o cat; }
pf_journal_has() { pf_journal | grep -qF -- "$1"; }

t_check "portfwd: the provider's miniupnpd runs" eval 'pf_lab_up && pf_miniupnpd_start "allow 1024-65535 192.0.2.0/24 1024-65535"'
cp "$VPN_CONFINEMENT_CONFDIR/$N.ini" "$LAB_DIR/pf-saved.ini"
sed -i "/^\[Namespace\]\$/a PortForwarding=natpmp\nPortForwardingHook=/usr/local/share/vpn-confinement/examples/transmission-port-hook --url http://127.0.0.1:9091/transmission/rpc" \
	"$VPN_CONFINEMENT_CONFDIR/$N.ini"
in_c systemctl daemon-reload
t_check "portfwd: the generator made vpn-ns@$N want vpn-portfwd@$N" \
	in_c test -L "/run/systemd/generator/vpn-ns@$N.service.wants/vpn-portfwd@$N.service"
# The [Namespace] changed: the tunnel's ruleset gets the sets with a new wg-up.
in_c systemctl restart "wg-up@$N.service"
t_check "portfwd: systemctl start vpn-portfwd@$N" in_c systemctl start "vpn-portfwd@$N.service"
t_check "portfwd: it runs in the namespace" same_netns "$(mainpid "vpn-portfwd@$N.service")"
t_check "portfwd: with only CAP_NET_ADMIN and CAP_SETPCAP" \
	sh -c "nsenter -t $LEADER -a systemctl show -p CapabilityBoundingSet --value vpn-portfwd@$N.service | grep -qx 'cap_setpcap cap_net_admin'"
# Its hook runs in its sandbox: of the run directory, only its namespace's
# own is writable (a hook fed by a hostile client reaches no other
# namespace's records).
PFPID=$(mainpid "vpn-portfwd@$N.service")
t_check "portfwd: control: its sandbox can write /run/vpn-confinement/$N" \
	in_c nsenter -t "$PFPID" -m sh -c "touch /run/vpn-confinement/$N/vc-e2e-probe && rm /run/vpn-confinement/$N/vc-e2e-probe"
pf_mkdir=$(in_c nsenter -t "$PFPID" -m mkdir /run/vpn-confinement/vc-e2e-probe 2>&1)

t_check "portfwd: ... and nothing else of the run directory (mkdir there: $pf_mkdir)" \
	grep -q 'Read-only file system' <<<"$pf_mkdir"
in_c rmdir /run/vpn-confinement/vc-e2e-probe 2>/dev/null
pf_mkdir=$(in_c nsenter -t "$PFPID" -m mkdir /run/systemd/system/vc-e2e-probe.service.d 2>&1)
t_check "portfwd: ... nor the service manager's runtime units (mkdir there: $pf_mkdir)" \
	grep -q 'Read-only file system' <<<"$pf_mkdir"
t_check "portfwd: control: the container's root can" \
	in_c sh -c 'mkdir -p /run/systemd/system/vc-e2e-probe.service.d && rmdir /run/systemd/system/vc-e2e-probe.service.d'
in_c rmdir /run/systemd/system/vc-e2e-probe.service.d 2>/dev/null
wait_for 20 eval '[ -n "$(pf_c_run forwarded-port)" ]'
PFP=$(pf_c_run forwarded-port)
t_check "portfwd: a port is forwarded, published in /run/vpn-confinement/$N/forwarded-port ($PFP)" [ -n "$PFP" ]
t_check "portfwd: miniupnpd forwards it to the tunnel address" pf_miniupnpd_maps "$PFP" tcp "$TUN_IP"
t_check "portfwd: the namespace's ruleset opens it on ${N}0" \
	sh -c "nsenter -t $LEADER -a ip netns exec $N nft list set inet vpn-confinement forwarded_tcp | grep -q 'elements = { $PFP }'"
t_check "portfwd: the hook finds nobody listening yet, and is retried" \
	wait_for 20 pf_journal_has "hook: failed with port $PFP"
mkdir -p "$units/transmission-daemon.service.d"
printf '[Service]\nReadWritePaths=/var/lib/transmission-daemon /etc/transmission-daemon\n' \
	>"$units/transmission-daemon.service.d/60-state.conf"
in_c systemctl daemon-reload
t_check "portfwd: transmission-daemon starts, confined" in_c systemctl start transmission-daemon.service
t_check "portfwd: ... in the namespace" same_netns "$(mainpid transmission-daemon.service)"
t_check "portfwd: the shipped hook set its peer port" \
	wait_for 60 pf_journal_has "hook: Transmission's peer port is now $PFP"
t_check "portfwd: the hook's exit status is in the journal" pf_journal_has "hook: told the client port $PFP (exit status 0)"
tr_si() { in_lanin transmission-remote "$HOST_LANIN_IP:19091" -si 2>/dev/null; }
t_check "portfwd: transmission-remote shows it (Listenport: $PFP)" \
	eval 'tr_si | grep -qx "  Listenport: $PFP"'
t_check "portfwd: Transmission listens on $PFP in the namespace" \
	wait_for 10 eval '[ "$(pf_listener "$PFP")" = transmission-da ]'
t_check "portfwd: a peer from the internet reaches it through $PF_PUBLIC_IP:$PFP" \
	in_host socat -T3 /dev/null "TCP:$PF_PUBLIC_IP:$PFP,connect-timeout=3"
t_check_not "portfwd: control: a port the provider does not forward does not" \
	in_host socat -T3 /dev/null "TCP:$PF_PUBLIC_IP:$((PFP - 1)),connect-timeout=3"
t_check "portfwd: status shows the forwarded port" \
	sh -c "nsenter -t $LEADER -a env -u VPN_CONFINEMENT_RUNDIR -u VPN_CONFINEMENT_CONFDIR vpn-confinement status $N | grep -q 'forwarded:  port $PFP by $WG_SRV_IP'"
in_c systemctl stop transmission-daemon.service
t_check "portfwd: systemctl stop vpn-portfwd@$N" in_c systemctl stop "vpn-portfwd@$N.service"
t_check "portfwd: stopped: the port is closed in the ruleset" \
	sh -c "! nsenter -t $LEADER -a ip netns exec $N nft list set inet vpn-confinement forwarded_tcp | grep -q elements"
t_check "portfwd: stopped: unpublished" eval '[ -z "$(pf_c_run forwarded-port)" ]'
t_check "portfwd: stopped: the mapping deleted at the gateway" eval '! pf_miniupnpd_maps "$PFP" tcp "$TUN_IP"'
rm -rf "$units/transmission-daemon.service.d"
cp "$LAB_DIR/pf-saved.ini" "$VPN_CONFINEMENT_CONFDIR/$N.ini"
in_c systemctl daemon-reload
in_c systemctl restart "wg-up@$N.service"
pf_miniupnpd_stop
