# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced by test-e2e.sh with the container running, vpn-ns@$N active and
# vcprobe.service confined in it: the tunnel that heals itself under real
# systemd (issue 13). A second provider (lab_provider2) becomes the
# namespace's second WireGuardConfigFile=, with HealthCheckTimeout=10s,
# FailoverAfter=1 and FailbackAfter=10s; then:
#   readiness  with the provider dropping everything, wg-up@N is up but
#              vpn-online@N waits, and vconline.service (WantedBy= it, its
#              ExecStart= wait-online --timeout 1) does not start; once the
#              provider answers, both are reached (the supervisor starts
#              vpn-online@N at the first handshake)
#   failover   the provider dies: the confined service keeps its PID and its
#              traffic goes out through the second provider; wg-up@N was not
#              restarted by systemd; its journal says why it switched
#   failback   the provider is back: the first config again, same PID
# The namespace's ini is put back as it was at the end.

ph_ini=$VPN_CONFINEMENT_CONFDIR/$N.ini
cp "$ph_ini" "$LAB_DIR/health-before.ini"
lab_provider2 || t_fail "health: the second provider starts"
lab_client2 "$N" 0 || t_fail "health: the second provider's config"
TUN2_IP=$(client2_ip 0)
sed -i "/^WireGuardConfigFile=/a WireGuardConfigFile=$LAB_DIR/wg/$N-2.conf\nHealthCheckTimeout=10s\nFailoverAfter=1\nFailbackAfter=10s" "$ph_ini"
cat >"$units/vconline.service" <<EOF
[Unit]
Description=vpn-confinement e2e: needs the tunnel online
After=vpn-online@$N.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/bin/vpn-confinement wait-online $N --timeout 1

[Install]
WantedBy=vpn-online@$N.service
EOF
in_c systemctl daemon-reload
t_check "health: vconline.service enabled, wanted by vpn-online@$N" in_c systemctl enable -q vconline.service
t_check "health: the generator wrote vpn-online@$N's drop-in" \
	in_c test -f "/run/systemd/generator/vpn-online@$N.service.d/50-vpn-confinement.conf"
t_check_not "health: nothing at boot wants vpn-online@$N" \
	sh -c "nsenter -t $LEADER -a systemctl show -p WantedBy,RequiredBy --value vpn-online@$N.service | grep -q target"
t_check "health: nothing confined requires or binds to it" \
	sh -c "! nsenter -t $LEADER -a systemctl show -p Requires,BindsTo,Requisite --value vcprobe.service | grep -q vpn-online"

ph_drop() {
	in_inet nft -f - <<-EOF
		table inet vcphdrop {
			chain input { type filter hook input priority -10; iifname "eth0" udp dport $WG_PORT drop; }
			chain output { type filter hook output priority -10; oifname "eth0" udp sport $WG_PORT drop; }
		}
	EOF
}
ph_undrop() { in_inet nft delete table inet vcphdrop; }
ph_state() { in_c sed -n "s/^$1=//p" "/run/vpn-confinement/$N/health"; }
active() { [ "$(in_c systemctl show -p ActiveState --value "$1")" = "$2" ]; }
pid=$(mainpid vcprobe.service)

# --- Readiness -------------------------------------------------------------------
ph_drop
in_c systemctl stop vpn-online@"$N".service vconline.service
t_check "health: restart wg-up@$N (the new ini) while the provider drops everything" \
	in_c systemctl restart "wg-up@$N.service"
in_c systemctl start --no-block "vpn-online@$N.service"
sleep 3
t_check "health: the tunnel is up, connecting (no handshake)" test "$(ph_state state) $(ph_state first_handshake)" = "connecting 0"
t_check "health: vpn-online@$N waits (activating)" active "vpn-online@$N.service" activating
t_check "health: vconline.service, after it, has not started" active vconline.service inactive
ph_undrop
t_check "health: once the provider answers, vpn-online@$N is reached" wait_for 20 active "vpn-online@$N.service" active
t_check "health: ... and vconline.service ran after the handshake (its wait-online --timeout 1 passed)" \
	wait_for 10 active vconline.service active
t_check "health: wg-up@$N's journal has the first handshake" \
	sh -c "nsenter -t $LEADER -a journalctl -u wg-up@$N.service --no-pager | grep -q 'first handshake: the tunnel is online'"
# The supervisor starts it by itself at the first handshake.
in_c systemctl stop "vpn-online@$N.service" vconline.service
in_c systemctl restart "wg-up@$N.service"
t_check "health: after a restart of wg-up@$N, its supervisor starts vpn-online@$N at the first handshake" \
	wait_for 20 active "vpn-online@$N.service" active
t_check "health: ... which pulls vconline.service in" wait_for 10 active vconline.service active
t_check "health: the confined service kept its PID ($pid)" [ "$(mainpid vcprobe.service)" = "$pid" ]

# --- Failover ---------------------------------------------------------------------
sup=$(mainpid "wg-up@$N.service")
restarts=$(in_c systemctl show -p NRestarts --value "wg-up@$N.service")
ph_drop
failed_over() { [ "$(ph_state config)" = 1 ] && { [ "$(ph_state state)" = online ] || [ "$(ph_state state)" = checking ]; }; }
t_check "health: the provider dies: failover to the second provider" wait_for 60 failed_over
before=$(seen 9998 "$TUN2_IP" vcprobe)
t_check "health: the confined service's traffic goes out through it ($TUN2_IP)" \
	wait_for 20 seen_at_least $((before + 2)) 9998 "$TUN2_IP" vcprobe
t_check "health: the confined service kept its PID ($pid)" [ "$(mainpid vcprobe.service)" = "$pid" ]
t_check "health: wg-up@$N was not restarted (same supervisor $sup, NRestarts $restarts)" \
	[ "$(mainpid "wg-up@$N.service")" = "$sup" -a "$(in_c systemctl show -p NRestarts --value "wg-up@$N.service")" = "$restarts" ]
t_check "health: its journal says which config is active and why" \
	sh -c "nsenter -t $LEADER -a journalctl -u wg-up@$N.service --no-pager | grep -q 'failing over from config 1 .* to config 2 .*FailoverAfter=1'"
t_check "health: status in the container says config 2 of 2" \
	sh -c "nsenter -t $LEADER -a env -u VPN_CONFINEMENT_RUNDIR -u VPN_CONFINEMENT_CONFDIR vpn-confinement status $N | grep -q 'config 2 of 2'"
t_check "health: the confined resolv.conf names the second provider's server" \
	[ "$(confined cat /etc/resolv.conf | grep '^nameserver')" = "nameserver $WG2_SRV_IP" ]

# --- Failback ---------------------------------------------------------------------
ph_undrop
failed_back() { [ "$(ph_state config) $(ph_state failbacks)" = "0 1" ]; }
t_check "health: the provider is back: failback to config 1" wait_for 60 failed_back
before=$(seen 9998 "$TUN_IP" vcprobe)
t_check "health: the confined service's traffic goes out through the first provider again" \
	wait_for 20 seen_at_least $((before + 2)) 9998 "$TUN_IP" vcprobe
t_check "health: the confined service kept its PID through all of it ($pid)" [ "$(mainpid vcprobe.service)" = "$pid" ]
t_check "health: ... and nothing from it left from an address but the two tunnels' ($TUN_IP, $TUN2_IP)" \
	[ "$(seen_other 9998 "$TUN_IP" vcprobe)" = 0 ]

# As it was: the ini, no vconline.
in_c systemctl disable -q vconline.service
in_c systemctl stop vconline.service "vpn-online@$N.service"
rm -f "$units/vconline.service"
cp "$LAB_DIR/health-before.ini" "$ph_ini"
in_c systemctl daemon-reload
in_c systemctl restart "wg-up@$N.service"
wait_for 20 seen_at_least $(($(seen 9998 "$TUN_IP" vcprobe) + 2)) 9998 "$TUN_IP" vcprobe
