# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced by tests/e2e/test-e2e.sh, in its running container with namespace
# $N up: the metrics under real systemd, set up as the README says for
# Debian. vpn-confinement-metrics.service (installed, off) fails loudly
# without the textfile directory; `systemctl enable --now
# vpn-confinement-metrics.timer` makes it write
# /var/lib/prometheus/node-exporter/vpn-confinement.prom, again and again;
# the file passes promtool; the confined units' counts are what systemctl
# says of each unit, and follow a unit stopped; Debian's own
# prometheus-node-exporter.service serves the metrics. The timer is left
# off at the end.

m_dir=/var/lib/prometheus/node-exporter
m_file=$m_dir/vpn-confinement.prom
m_prom=$LAB_DIR/e2e-metrics.prom
# m_read: the container's file into $m_prom.
m_read() { in_c cat "$m_file" >"$m_prom" 2>/dev/null; }
# m_v SAMPLE: its value in $m_prom (@ stands for namespace="$N").
m_v() { awk -v k="${1//@/namespace=\"$N\"}" '$1 == k { print $2 }' "$m_prom"; }
m_mtime() { in_c stat -c %Y.%i "$m_file" 2>/dev/null; }

t_check "metrics: the timer is installed and off" \
	sh -c "[ \"\$(nsenter -t $LEADER -a systemctl is-enabled vpn-confinement-metrics.timer)\" = disabled ]"
in_c rm -rf /var/lib/prometheus
m_since=$(in_c date +%s)
t_check_not "metrics: without the textfile directory the service fails" \
	sh -c "nsenter -t $LEADER -a systemctl start vpn-confinement-metrics.service 2>/dev/null"
t_check "metrics: ... and its journal says why (the helper's message, not filtered out)" \
	sh -c "nsenter -t $LEADER -a journalctl -u vpn-confinement-metrics.service --since @$m_since --no-pager -o cat |
		grep -qF 'vpn-confinement: writing $m_file: No such file or directory'"
in_c systemctl reset-failed vpn-confinement-metrics.service
# As Debian's prometheus-node-exporter package leaves it (the container's
# /etc and /var start empty): its user, its textfile directory.
in_c sh -c "getent passwd prometheus >/dev/null || useradd --system --user-group --no-create-home prometheus;
	mkdir -p $m_dir && chown prometheus:prometheus $m_dir"
# Another interval, as the timer unit says: a drop-in that resets its times
# and sets both again (3 s, to keep this short).
mkdir -p "$units/vpn-confinement-metrics.timer.d"
printf '[Timer]\nOnBootSec=\nOnBootSec=15s\nOnUnitActiveSec=3s\n' >"$units/vpn-confinement-metrics.timer.d/60-interval.conf"
in_c systemctl daemon-reload
t_check "metrics: systemctl enable --now vpn-confinement-metrics.timer" \
	sh -c "nsenter -t $LEADER -a systemctl enable --now vpn-confinement-metrics.timer 2>/dev/null"
m_timers=$(in_c systemctl show -p TimersMonotonic --value vpn-confinement-metrics.timer)
t_check "metrics: the drop-in's interval replaced the unit's ($m_timers)" \
	bash -c "grep -q 'OnUnitActiveUSec=3s' <<<'$m_timers' && grep -q 'OnBootUSec=15s' <<<'$m_timers' &&
		! grep -q 'OnUnitActiveUSec=15s' <<<'$m_timers'"
wait_for 30 in_c test -s "$m_file"
t_check "metrics: the timer made the service write $m_file" in_c test -s "$m_file"
t_check "metrics: mode 0644, root's" sh -c "[ \"\$(nsenter -t $LEADER -a stat -c '%a %U' $m_file)\" = '644 root' ]"
m_read
t_check "metrics: the file passes promtool check metrics" sh -c "promtool check metrics <'$m_prom' >/dev/null 2>&1"
t_check "metrics: systemd is reachable" grep -qx 'vpn_confinement_systemd_reachable 1' "$m_prom"
t_check "metrics: the namespace's tunnel is up" grep -qx "vpn_confinement_tunnel_up{namespace=\"$N\"} 1" "$m_prom"
t_check "metrics: both rulesets match" \
	test "$(m_v 'vpn_confinement_ruleset_matches{@,table="namespace"}')$(m_v 'vpn_confinement_ruleset_matches{@,table="host"}')" = 11
# The confined units, as systemctl sees each: the ini's Unit= lines (not
# templates) and the companions status lists that exist.
m_units() { # prints "confined active"
	local listed companions u load act confined=0 active=0
	listed=$(sed -n 's/^Unit=//p' "$VPN_CONFINEMENT_CONFDIR/$N.ini")
	companions=$(in_c env -u VPN_CONFINEMENT_RUNDIR -u VPN_CONFINEMENT_CONFDIR \
		vpn-confinement status "$N" | sed -n 's/^  units: *//p')
	for u in $companions; do
		case $u in *@.*) continue ;; esac
		load=$(in_c systemctl show -p LoadState --value "$u")
		act=$(in_c systemctl show -p ActiveState --value "$u")
		if grep -qx "$u" <<<"$listed" || [ "$load" = loaded ]; then
			confined=$((confined + 1))
			case $act in active | reloading) active=$((active + 1)) ;; esac
		fi
	done
	echo "$confined $active"
}
m_counts() { echo "$(m_v 'vpn_confinement_confined_units{@}') $(m_v 'vpn_confinement_confined_units_active{@}')"; }
m_want=$(m_units)
t_check "metrics: confined units and active ones as systemctl says ($(m_counts), systemctl: $m_want)" \
	test "$(m_counts)" = "$m_want" -a "${m_want%% *}" -ge 3
# A confined unit stopped: the next write has one active unit less. The
# timer writes on its own (a new file, renamed: a new inode).
m_before=$(m_mtime)
in_c systemctl stop vcprobe.service
wait_for 20 sh -c "[ \"\$(nsenter -t $LEADER -a stat -c %Y.%i $m_file)\" != '$m_before' ]"
t_check "metrics: the timer writes the file again by itself (a new file each time)" test "$(m_mtime)" != "$m_before"
m_read
m_want2=$(m_units)
t_check "metrics: vcprobe stopped: $(m_counts), systemctl: $m_want2" \
	test "$(m_counts)" = "$m_want2" -a "${m_want2#* }" = "$((${m_want#* } - 1))"
in_c systemctl start vcprobe.service
t_check_not "metrics: a quiet journal (no Started/Finished line per run)" \
	sh -c "nsenter -t $LEADER -a journalctl -u vpn-confinement-metrics.service --since @$m_since --no-pager -o cat | grep -q '^Finished'"
# Debian's node exporter, its unit as packaged, reading its default
# textfile directory; only the textfile collector, on loopback.
in_c sh -c "mkdir -p /etc/default && echo 'ARGS=\"--web.listen-address=127.0.0.1:9100 --collector.disable-defaults --collector.textfile\"' >/etc/default/prometheus-node-exporter"
t_check "metrics: Debian's prometheus-node-exporter.service starts" in_c systemctl start prometheus-node-exporter.service
m_scrape() { in_c curl -fsS --max-time 3 http://127.0.0.1:9100/metrics >"$LAB_DIR/e2e-scrape" 2>/dev/null; }
wait_for 20 m_scrape
t_check "metrics: ... and serves ours: tunnel_up of $N" grep -qx "vpn_confinement_tunnel_up{namespace=\"$N\"} 1" "$LAB_DIR/e2e-scrape"
t_check "metrics: ... read without error" grep -qx 'node_textfile_scrape_error 0' "$LAB_DIR/e2e-scrape"
in_c systemctl stop prometheus-node-exporter.service
in_c systemctl disable --now vpn-confinement-metrics.timer 2>/dev/null
rm -rf "$units/vpn-confinement-metrics.timer.d"
in_c systemctl daemon-reload
