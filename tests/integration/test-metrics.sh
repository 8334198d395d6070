#!/bin/bash
# SPDX-License-Identifier: MIT
# Root tier, real packets: the metrics (`status --format=prometheus`,
# vpn-confinement(8) METRICS) of a live namespace move with real traffic.
# Each drop counter grows by a packet that must be dropped there, and does
# not by an accepted one (the positive control): the kill switch's output
# (to the LAN via the veth, and to the internet while the tunnel is down),
# its input (the host to an unmapped port), the DNS rules (another
# resolver through the tunnel; the VPN's own is answered), the host guard's
# forward (the LAN to an unmapped port; the mapped one is answered) and
# input (with the namespace ruleset flushed). The tunnel's rx/tx grow with
# bytes through it. promtool checks every output; the values agree with
# nft's own listing; counts never make status or check see the rulesets
# "differ". Then the real prometheus-node-exporter, on the lab host's
# loopback, serves the file `--output` wrote (and reports a broken one).
# vm-tier: auto (auto picks the kernel module there too; the peers' bytes and handshakes come from the kernel over netlink there)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lab.sh"
t_require_root
for tool in promtool prometheus-node-exporter curl socat dig; do
	command -v "$tool" >/dev/null || { t_fail "$tool is there (scripts/install-deps.sh)"; t_done; }
done
lab_up || { t_fail "lab setup"; t_done; }

I=0
lab_testns M m
lab_client "$M" "$I" || { t_fail "client config"; t_done; }
lab_ini "$M" "$I" "" "PortMapping=18080:8080:tcp"
CIP=$(client_ip "$I") NSIP=$(ns_ip "$I") BR=$(br_ip "$I")
IMPL=$(lab_expected_impl)
PROM=$LAB_DIR/m.prom

# metrics: the namespace's metrics into $PROM; promtool must accept them.
metrics() {
	vc status --format=prometheus "$M" >"$PROM" 2>"$LAB_DIR/m.err" || { cat "$LAB_DIR/m.err"; return 1; }
	promtool check metrics <"$PROM" >"$LAB_DIR/lint" 2>&1 || { echo "# promtool:"; sed 's/^/#   /' "$LAB_DIR/lint"; return 1; }
}
# v SAMPLE: its value in $PROM ("" when absent). ns="..." is this namespace.
v() { awk -v k="${1//@/namespace=\"$M\"}" '$1 == k { print $2 }' "$PROM"; }
ks() { v "vpn_confinement_killswitch_dropped_$2_total{@,chain=\"$1\"}"; }
guard() { v "vpn_confinement_guard_dropped_$2_total{@,chain=\"$1\"}"; }
dns() { v "vpn_confinement_dns_dropped_$1_total{@}"; }
peer() { v "vpn_confinement_peer_$1_bytes_total{@,peer=\"0\"}"; }
is() { [ "$(v "$1")" = "$2" ] || { echo "# $1 is '$(v "$1")', want '$2'"; return 1; }; }
# nft_counter TABLE NAME [NETNS]: packets of a named counter, as nft lists it.
nft_counter() { in_netns "${3:-$LAB_HOST}" nft list counter inet "$1" "$2" | awk '/packets/ { print $2 }'; }
tunnel_ok() { in_ns "$M" curl -s --max-time "$LAB_T2" "http://$INET_IP:8080/" 2>/dev/null | grep -qx "peer=$CIP"; }
grew() { [ -n "$2" ] && [ -n "$3" ] && [ "$3" -gt "$2" ] || { echo "# $1: $2 -> $3, want more"; return 1; }; }
same() { [ -n "$2" ] && [ "$2" = "$3" ] || { echo "# $1: $2 -> $3, want no change"; return 1; }; }

# ns_dns ADDR: the namespace's query of probe.test at ADDR was answered.
ns_dns() { in_ns "$M" bash -c "$(declare -f answered dns_probe); dns_probe $LAB_T1 @$1"; }

t_check "netns-up $M" vc_ok netns-up "$M"
# A server in the namespace for the port mapping (18080 on the host -> 8080).
touch "$LAB_DIR/log/srv-ns.log"
lab_bg "$M" python3 "$LAB_HERE/labsrv.py" "$LAB_DIR/log/srv-ns.log" tcp:8080 >/dev/null 2>&1
wait_for 5 grep -q ready "$LAB_DIR/log/srv-ns.log"
t_check "wg-up $M" vc_ok wg-up "$M"
wait_for 8 tunnel_ok
t_check "the tunnel carries traffic" tunnel_ok

# --- a live namespace ---------------------------------------------------------
t_check "metrics of the live namespace pass promtool" metrics
t_check "namespace_up 1" is 'vpn_confinement_namespace_up{@}' 1
t_check "tunnel_up 1" is 'vpn_confinement_tunnel_up{@}' 1
t_check "tunnel_info says $IMPL" is "vpn_confinement_tunnel_info{@,implementation=\"$IMPL\"}" 1
t_check "both rulesets match" sh -c "[ '$(v 'vpn_confinement_ruleset_matches{@,table="namespace"}')$(v 'vpn_confinement_ruleset_matches{@,table="host"}')' = 11 ]"
t_check "no problem" is 'vpn_confinement_problems{@}' 0
age=$(v 'vpn_confinement_peer_handshake_age_seconds{@,peer="0"}')
t_check "the peer (index 0) shook hands a moment ago (${age:-none} s)" test -n "$age" -a "${age:-999}" -lt 120
t_check "its handshake timestamp is recent" \
	test "$(( $(date +%s) - $(v 'vpn_confinement_peer_latest_handshake_timestamp_seconds{@,peer="0"}') ))" -lt 120
t_check "every kill switch and guard counter is there" \
	test -n "$(ks input packets)" -a -n "$(ks output packets)" -a -n "$(ks forward packets)" -a -n "$(dns packets)" \
	-a -n "$(guard forward packets)" -a -n "$(guard input packets)"
t_check_not "no public or private key in the metrics" grep -qF -e "$(cat "$LAB_DIR/keys/$M.pub")" -e "$(cat "$LAB_DIR/keys/server.pub")" \
	-e "$(cat "$LAB_DIR/keys/$M.key")" "$PROM"

# rx/tx: bytes through the tunnel.
rx0=$(peer receive) tx0=$(peer transmit)
in_ns "$M" curl -s --max-time "$LAB_T2" -o /dev/null "http://$INET_IP:8080/?$(head -c 2000 /dev/zero | tr '\0' x)"
metrics
t_check "rx grows with traffic through the tunnel" grew rx "$rx0" "$(peer receive)"
t_check "tx too (a 2 kB request)" sh -c "[ $(($(peer transmit) - tx0)) -ge 2000 ]"

# --- each counter counts what its rule drops, and nothing else ------------------------
# First accepted traffic, the positive controls, then a probe that must be
# dropped for each counter; each batch at once (under an emulated CPU a
# dropped probe waits its whole timeout), one metrics read after each.
# What each drops cannot reach the other counters' rules: the DNS query is
# dropped in dns-restrict, the LAN's probe by the host guard before the
# namespace, the host's at the namespace's input.
PP=$LAB_DIR/pp
counters() { echo "$(ks output packets) $(ks input packets) $(dns packets) $(guard forward packets)"; }
before=$(counters) ob0=$(ks output bytes)
pp_clear
pp tunnel tunnel_ok
pp vpndns ns_dns "$WG_SRV_IP"
pp mapped p_tcp "$LAB_HOST" "$NSIP" 8080
pp lanmapped p_tcp "$LAB_LANIN" "$HOST_LANIN_IP" 18080
pp_wait
t_check "control: a new connection through the tunnel is accepted" pp_ok tunnel
t_check "control: the VPN's resolver answers through the tunnel" pp_ok vpndns
t_check "control: the host reaches the mapped port (8080)" pp_ok mapped
t_check "control: the LAN reaches the port mapping (18080)" pp_ok lanmapped
metrics
t_check "control: none of them counted (output, input, DNS, guard forward: $before -> $(counters))" \
	same "the counters" "$before" "$(counters)"
read -r o0 i0 d0 g0 <<<"$before"
pp_clear
pp lan p_tcp "$M" "$LANIN_IP" 9998
pp otherdns ns_dns "$INET_IP"
pp unmapped p_tcp "$LAB_HOST" "$NSIP" 9998
pp lanunmapped p_tcp "$LAB_LANIN" "$NSIP" 9998
pp_wait
metrics
t_check "a new connection to the LAN via the veth is dropped" pp_failed lan
t_check "... counted: kill switch output packets" grew output "$o0" "$(ks output packets)"
t_check "... and bytes" grew "output bytes" "$ob0" "$(ks output bytes)"
t_check "... the value is nft's own (JSON read right)" \
	test "$(ks output packets)" = "$(nft_counter vpn-confinement output_drop "$M")"
t_check "another resolver, through the tunnel, is not answered" pp_failed otherdns
t_check "... counted as a DNS drop" grew dns "$d0" "$(dns packets)"
t_check "the host to an unmapped port is dropped" pp_failed unmapped
t_check "... counted: kill switch input" grew input "$i0" "$(ks input packets)"
t_check "the LAN to an unmapped port of the namespace is dropped" pp_failed lanunmapped
t_check "... by the host guard, and counted" grew "guard forward" "$g0" "$(guard forward packets)"
t_check "... its value is nft's own" \
	test "$(guard forward packets)" = "$(nft_counter "vpn-confinement-$M" guard_forward_drop)"

# --- counts never make the rulesets differ -------------------------------------------------
t_check "with counters counting, check $M passes" vc_ok check "$M"
vc status "$M" >"$LAB_DIR/status.txt" 2>&1
t_check "... and status says both rulesets match" grep -q 'ruleset:    namespace matches (full form expected), host matches' "$LAB_DIR/status.txt"

# --- node exporter -----------------------------------------------------------------
# The real prometheus-node-exporter, on the lab host's loopback, its textfile
# collector reading a directory of the test's.
TXT=$LAB_DIR/textfile
mkdir -p "$TXT"
NE_LOG=$LAB_DIR/log/node-exporter.log
lab_bg "$LAB_HOST" prometheus-node-exporter --web.listen-address=127.0.0.1:9100 --collector.disable-defaults \
	--collector.textfile --collector.textfile.directory="$TXT" >"$NE_LOG" 2>&1
scrape() { in_host curl -fsS --max-time "$LAB_T2" http://127.0.0.1:9100/metrics >"$LAB_DIR/scrape" 2>/dev/null; }
wait_for 10 scrape
t_check "node exporter serves /metrics" scrape
t_check_not "control: no metrics of ours before the file is written" grep -q '^vpn_confinement_' "$LAB_DIR/scrape"
t_check "status --format=prometheus --output into its directory" vc_ok status --format=prometheus --output="$TXT/vpn-confinement.prom"
scrape
t_check "node exporter serves our metrics: tunnel_up 1" grep -qx "vpn_confinement_tunnel_up{namespace=\"$M\"} 1" "$LAB_DIR/scrape"
t_check "... the kill switch's output drops" \
	grep -qE "^vpn_confinement_killswitch_dropped_packets_total\{chain=\"output\",namespace=\"$M\"\} [1-9]" "$LAB_DIR/scrape"
t_check "... the build info" grep -q '^vpn_confinement_build_info{version=' "$LAB_DIR/scrape"
t_check "... and read the file without error" grep -qx 'node_textfile_scrape_error 0' "$LAB_DIR/scrape"
# Control: the exporter does check what it reads.
echo 'vpn_confinement_broken{namespace="x} 1' >"$TXT/broken.prom"
scrape
t_check "control: a broken file makes node_textfile_scrape_error 1" grep -qx 'node_textfile_scrape_error 1' "$LAB_DIR/scrape"
rm -f "$TXT/broken.prom"

# --- the host guard: input (the namespace ruleset flushed) ---------------------------
gi0=$(guard input packets)
ns_open "$M" || t_fail "replace the namespace ruleset by accept-all"
t_check_not "with the namespace ruleset flushed, a connection to the host's bridge address is dropped" \
	p_tcp "$M" "$BR" 9998
metrics
t_check "... by the host guard's input, and counted" grew "guard input" "$gi0" "$(guard input packets)"
t_check "... and the namespace ruleset shows as not matching" is 'vpn_confinement_ruleset_matches{@,table="namespace"}' 0
t_check "... a problem" test "$(v 'vpn_confinement_problems{@}')" -ge 1
t_check_not "... its counters gone with it" test -n "$(ks output packets)"
ns_restore "$M" || t_fail "restore the namespace ruleset"

# --- tunnel down: the kill switch holds, and counts ------------------------------------
t_check "wg-down $M" vc_ok wg-down "$M"
metrics
t_check "tunnel down: tunnel_up 0" is 'vpn_confinement_tunnel_up{@}' 0
t_check "... no tunnel info, no peer" test -z "$(grep -E 'tunnel_info|peer_' "$PROM")"
t_check "... the base form matches" is 'vpn_confinement_ruleset_matches{@,table="namespace"}' 1
t_check "... no DNS counter (the base form drops all)" test -z "$(dns packets)"
o0=$(ks output packets)
# (Not the internet: without the tunnel's default route a connection to it
# fails before any packet; the LAN has its route, via the bridge.)
t_check_not "tunnel down: the LAN is not reached" p_tcp "$M" "$LANIN_IP" 9998
metrics
t_check "... the kill switch (base form) counted it" grew "output, tunnel down" "$o0" "$(ks output packets)"
t_check "netns-down $M" vc_ok netns-down "$M"
metrics
t_check "namespace down: namespace_up 0, no counters" sh -c "[ '$(v 'vpn_confinement_namespace_up{@}')' = 0 ] && ! grep -q dropped '$PROM'"
t_done
