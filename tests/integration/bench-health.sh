#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark (make bench): what the tunnel's supervisor (wg-up --foreground)
# spends watching a healthy tunnel. Each look is `wg show DEV dump` (the
# device's peers: handshakes and bytes), one every fifth of
# HealthCheckTimeout= (2 s at the shortest timeout, 10 s; 5 s at most). In
# the integration lab, with wireguard-go: the look's wall time against a bare
# process start (nsenter + /bin/true), interleaved, REPS times each (default
# 20), and the share of one CPU it costs at the shortest and the default
# timeout. It passes when every look succeeded; the share is reported.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lab.sh"
t_require_root
REPS=${REPS:-20}
command -v wg >/dev/null || { t_fail "needs wg"; t_done; }
lab_up >/dev/null || { t_fail "lab setup"; t_done; }

lab_testns H h
lab_client "$H" 0 || { t_fail "client config"; t_done; }
lab_ini "$H" 0 ""
t_check "netns-up $H" vc_ok netns-up "$H"
t_check "wg-up $H" vc_ok wg-up "$H"
dev=$(sed -n 's/^tmpname=//p' "$VPN_CONFINEMENT_RUNDIR/$H/wg")

now() { date +%s%N; }
R=$LAB_DIR/bench
mkdir -p "$R"
ok=1
for ((i = 0; i < REPS; i++)); do
	t0=$(now); in_host /bin/true; t1=$(now); echo $(((t1 - t0) / 1000)) >>"$R/bare"
	t0=$(now)
	in_host wg show "$dev" dump >"$R/out" 2>&1 || ok=0
	t1=$(now)
	grep -q . "$R/out" || ok=0
	echo $(((t1 - t0) / 1000)) >>"$R/look"
done
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
awk -v n="$REPS" -v l="$(median "$R/look")" -v z="$(median "$R/bare")" 'BEGIN {
	printf "# %d runs each, interleaved\n", n
	printf "look (wg show DEV dump): %6.1f ms  bare process start: %5.1f ms  ratio to a bare start %4.1fx\n", l / 1000, z / 1000, l / z
	printf "one CPU spent looking, at most (wall time): %.2f%% with HealthCheckTimeout=10s (a look every 2 s), %.2f%% with the default 1min (every 5 s)\n",
		100 * l / 2e6, 100 * l / 5e6 }'
t_check "bench completed: every look answered with the device's state" test $ok = 1
t_check "wg-down $H" vc_ok wg-down "$H"
t_check "netns-down $H" vc_ok netns-down "$H"
t_done
