#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark (make bench): what vpn-confinement-metrics.timer costs on each
# run, for one live namespace in the integration lab (tunnel up, port
# mappings): `status --format=prometheus --output=FILE` (what the timer
# runs) against `status --json` (the same facts without the counters and
# the host's) and a bare process start, measured in the same run,
# interleaved, REPS times each (default 10). Prints the medians, the
# ratio to status --json, the time net of a process start, and the share
# of the default 15 s interval one run takes (wall time). A run "passes" when every
# command succeeded.
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lab.sh"
t_require_root
REPS=${REPS:-10}
lab_up >/dev/null || { t_fail "lab setup"; t_done; }
lab_testns M m
lab_client "$M" 0 || { t_fail "client config"; t_done; }
lab_ini "$M" 0 "" "PortMapping=18080:8080:tcp" "OpenVPNPort=51413:both"
vc_ok netns-up "$M" && vc_ok wg-up "$M" || { t_fail "namespace up"; t_done; }

now() { date +%s%N; }
R=$LAB_DIR/bench
mkdir -p "$R" "$LAB_DIR/textfile"
ok=1
# run_one NAME CMD...: append CMD's wall time (µs) to $R/NAME.
run_one() {
	local name=$1 t0 t1; shift
	t0=$(now)
	"$@" >"$R/out" 2>&1 || { ok=0; echo "# $name failed:"; sed 's/^/#   /' "$R/out"; }
	t1=$(now)
	echo $(((t1 - t0) / 1000)) >>"$R/$name"
}
for ((i = 0; i < REPS; i++)); do
	run_one bare in_host /bin/true
	run_one json vc status --json "$M"
	run_one prom vc status --format=prometheus "$M"
	run_one output vc status --format=prometheus --output="$LAB_DIR/textfile/vpn-confinement.prom"
done
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
bare=$(median "$R/bare") json=$(median "$R/json")
awk -v n="$REPS" -v z="$bare" 'BEGIN { printf "# %d runs each, interleaved; bare process start (nsenter + /bin/true): %.1f ms\n", n, z / 1000 }'
for name in json prom output; do
	awk -v p="$name" -v m="$(median "$R/$name")" -v j="$json" -v z="$bare" 'BEGIN {
		what["json"] = "status --json"; what["prom"] = "--format=prometheus"; what["output"] = "... --output=FILE"
		n = m - z; if (n < 1) n = 1
		printf "%-20s %6.1f ms  ratio to status --json %4.2fx  net of a process start %6.1f ms  (%.2f%% of the 15 s interval)\n",
			what[p] ":", m / 1000, m / j, n / 1000, 100 * m / 15e6 }'
done
t_check "bench completed: every run succeeded" test $ok = 1
t_check "the file the timer would write passes promtool" sh -c "promtool check metrics <'$LAB_DIR/textfile/vpn-confinement.prom' >/dev/null 2>&1"
vc wg-down "$M" >/dev/null 2>&1
vc netns-down "$M" >/dev/null 2>&1
t_done
