#!/bin/bash
# SPDX-License-Identifier: MIT
# `vpn-confinement status --format=prometheus [--output=FILE]` without root
# and without any network: the output passes Prometheus' own checker
# (`promtool check metrics`, Debian's prometheus package), which also fails
# on a deliberately broken line (so this test can fail); the namespaces of
# the configuration directory and the host's metrics are there; --output
# replaces the file atomically (a new inode, mode 0644, no temporary file
# left, a planted link replaced rather than written through) and leaves it
# alone when it cannot; bad command lines exit 2. The metrics of live
# namespaces, with real traffic, are tests/integration/test-metrics.sh's.
set -u
. "$(dirname "$0")/../lib.sh"
VC=$BUILD/vpn-confinement
command -v promtool >/dev/null || { t_fail "promtool is there (package prometheus, scripts/install-deps.sh)"; t_done; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export VPN_CONFINEMENT_CONFDIR=$tmp/conf VPN_CONFINEMENT_RUNDIR=$tmp/run VPN_CONFINEMENT_NETNS_ETCDIR=$tmp/etc
mkdir -p "$tmp/conf" "$tmp/out"

command -v wg >/dev/null || { t_fail "wg is there (wireguard-tools)"; t_done; }
key=$(wg genkey)
printf '[Interface]\nPrivateKey = %s\nAddress = 10.2.0.2/32\nDNS = 10.2.0.1\n\n[Peer]\nPublicKey = %s\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 0.0.0.0/0\n' \
	"$key" "$(wg genkey | wg pubkey)" >"$tmp/wg.conf"
chmod 600 "$tmp/wg.conf"
printf '[Namespace]\nWireGuardConfigFile=%s/wg.conf\n\n[Confinement]\nUnit=transmission.service\n' "$tmp" >"$tmp/conf/tr.ini"
printf '[Namespace]\nWireGuardConfigFile=%s/wg.conf\nNamespaceAddress=192.168.16.1\nBridgeAddress=192.168.16.5\nBogus=1\n' "$tmp" >"$tmp/conf/bad.ini"

prom() { "$VC" status --format=prometheus "$@"; }
t_check "status --format=prometheus exits 0" sh -c "'$VC' status --format=prometheus >'$tmp/m' 2>'$tmp/err'"
t_check "... says nothing on stderr" test ! -s "$tmp/err"
t_check "promtool check metrics passes" sh -c "promtool check metrics <'$tmp/m' >'$tmp/lint' 2>&1"
sed 's/^/#   /' "$tmp/lint"
# Negative controls: promtool catches a broken line and a lint problem.
{ cat "$tmp/m"; echo 'vpn_confinement_config_valid{namespace="tr} 1'; } >"$tmp/broken"
t_check_not "control: promtool fails on an unterminated label value" sh -c "promtool check metrics <'$tmp/broken' >/dev/null 2>&1"
{ cat "$tmp/m"; printf '# HELP vpn_confinement_x_bytes x\n# TYPE vpn_confinement_x_bytes counter\nvpn_confinement_x_bytes 1\n'; } >"$tmp/lint-bad"
t_check_not "control: promtool fails on a counter without _total" sh -c "promtool check metrics <'$tmp/lint-bad' >/dev/null 2>&1"

has() { grep -qxF "$1" "$tmp/m" || { echo "# no line '$1'"; return 1; }; }
version=$("$VC" --version | awk '{ print $2 }')
t_check "build_info with the version of --version ($version)" has "vpn_confinement_build_info{version=\"$version\"} 1"
t_check "systemd_reachable is there" grep -qE '^vpn_confinement_systemd_reachable [01]$' "$tmp/m"
t_check "a valid namespace: config_valid 1" has 'vpn_confinement_config_valid{namespace="tr"} 1'
t_check "an invalid one: config_valid 0" has 'vpn_confinement_config_valid{namespace="bad"} 0'
t_check "neither is up" has 'vpn_confinement_namespace_up{namespace="tr"} 0'
t_check "... nor its tunnel" has 'vpn_confinement_tunnel_up{namespace="bad"} 0'
t_check "problems counted (no namespace)" grep -qE '^vpn_confinement_problems\{namespace="tr"\} [1-9][0-9]*$' "$tmp/m"
t_check_not "no counters without a table" grep -q dropped "$tmp/m"
t_check_not "no tunnel info while down" grep -q tunnel_info "$tmp/m"
t_check "each family has HELP and TYPE once" sh -c "
	for f in \$(grep -v '^#' '$tmp/m' | sed 's/[{ ].*//' | sort -u); do
		[ \$(grep -c \"^# HELP \$f \" '$tmp/m') = 1 ] && [ \$(grep -c \"^# TYPE \$f \" '$tmp/m') = 1 ] || exit 1
	done"
t_check_not "no key material" grep -qF -e "$key" -e PrivateKey "$tmp/m"
t_check "every metric name has the prefix vpn_confinement_" sh -c "! grep -v '^#' '$tmp/m' | grep -qv '^vpn_confinement_'"

prom tr >"$tmp/m1" 2>/dev/null
t_check "status tr --format=prometheus: only tr" sh -c "grep -q 'namespace=\"tr\"' '$tmp/m1' && ! grep -q 'namespace=\"bad\"' '$tmp/m1'"
t_check "... and passes promtool" sh -c "promtool check metrics <'$tmp/m1' >/dev/null 2>&1"
t_check "--format prometheus (two words) too" sh -c "'$VC' status --format prometheus tr | cmp -s - '$tmp/m1'"

# --output: atomic replacement.
out=$tmp/out/vpn-confinement.prom
t_check "--output=FILE writes the file" prom --output="$out"
t_check "... the same as standard output" cmp -s "$out" "$tmp/m"
t_check "... mode 0644 (node exporter reads it as another user)" test "$(stat -c %a "$out")" = 644
ino1=$(stat -c %i "$out")
t_check "written again (--output FILE)" prom --output "$out"
t_check "... as a new file renamed over the old one (inode $ino1 -> $(stat -c %i "$out"))" test "$(stat -c %i "$out")" != "$ino1"
t_check "no temporary file left in the directory" test "$(ls -A "$tmp/out")" = vpn-confinement.prom
(umask 077 && prom --output="$out")
t_check "mode 0644 whatever the umask" test "$(stat -c %a "$out")" = 644
echo precious >"$tmp/target"
ln -sfn "$tmp/target" "$out"
t_check "a link planted at FILE: replaced" sh -c "'$VC' status --format=prometheus --output='$out' && test ! -L '$out' && test -f '$out'"
t_check "... its target untouched" test "$(cat "$tmp/target")" = precious
cp "$out" "$tmp/before"
t_check_not "a missing directory: fails" sh -c "'$VC' status --format=prometheus --output='$tmp/nodir/x.prom' 2>'$tmp/err'"
t_check "... naming the file" grep -q "$tmp/nodir/x.prom" "$tmp/err"
t_check "... creating nothing" test ! -e "$tmp/nodir"
chmod 500 "$tmp/out"
if [ "$(id -u)" != 0 ]; then
	t_check_not "an unwritable directory: fails" sh -c "'$VC' status --format=prometheus --output='$out' 2>/dev/null"
	t_check "... the old file stays as it was" cmp -s "$out" "$tmp/before"
fi
chmod 700 "$tmp/out"
t_check "--output a directory: fails" sh -c "! '$VC' status --format=prometheus --output='$tmp/out/' 2>/dev/null"

# The units that write the file (installed by make install; run under
# real systemd in tests/e2e/part-metrics.sh): systemd-analyze verify with
# an empty stderr, the built helper in place of the installed one.
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$tmp/units"
	for u in vpn-confinement-metrics.service vpn-confinement-metrics.timer; do
		sed "s|^ExecStart=[^ ]*|ExecStart=$VC|" "$BUILD/units/$u" >"$tmp/units/$u"
	done
	err=$(cd "$tmp/units" && SYSTEMD_UNIT_PATH=$tmp/units: systemd-analyze verify --man=no \
		vpn-confinement-metrics.timer vpn-confinement-metrics.service 2>&1 >/dev/null)
	t_check "the timer and its service pass systemd-analyze verify, stderr empty${err:+: $err}" test -z "$err"
	t_check "the service runs status --format=prometheus --output=\${METRICS_FILE}, no shell" \
		grep -qx 'ExecStart=[^ ]*/vpn-confinement status --format=prometheus --output=${METRICS_FILE}' \
		"$BUILD/units/vpn-confinement-metrics.service"
	t_check "... into Debian's textfile directory by default" \
		grep -qx 'Environment=METRICS_FILE=/var/lib/prometheus/node-exporter/vpn-confinement.prom' \
		"$BUILD/units/vpn-confinement-metrics.service"
	t_check "the timer is enabled into timers.target" grep -qx 'WantedBy=timers.target' "$BUILD/units/vpn-confinement-metrics.timer"
else
	t_fail "systemd-analyze is there (package systemd)"
fi

usage() { "$VC" status "$@" >/dev/null 2>&1; [ $? = 2 ]; }
t_check "--format=yaml: 2" usage --format=yaml
t_check "--format twice: 2" usage --format=json --format=prometheus
t_check "--json --format=prometheus: 2" usage --json --format=prometheus
t_check "--output without --format=prometheus: 2" usage --output="$out"
t_check "--output=: 2" usage --format=prometheus --output=
t_check "--output without a file: 2" usage --format=prometheus --output
t_check "--format=json is --json" bash -c "'$VC' status --format=json | cmp -s - <('$VC' status --json)"
t_check "--help names --format" sh -c "'$VC' status --help | grep -q -- '--format=text|json|prometheus'"
t_done
