#!/bin/bash
# Benchmark: vpn-confinement-generator on a typical configuration (3 x 3;
# the target: under 10 ms, since generators hold up boot) and on 100
# namespaces x 10 confined units, whose output (some 2,400 directories,
# 2,100 links and 600 files) no program makes in 10 ms here: that one is
# held to a baseline measured in the same run, `cp -a` of the very tree it
# wrote (the file system's work alone, in one process), and must not be
# slower. Output goes to a tmpfs directory, as /run is at
# boot. Starting any process costs about 20 ms on these machines, so the
# time is taken two ways in the same run: inside the generator (its debug
# line: from the start of main to the end, wall and CPU, and the part spent
# reading and checking the configuration), and as the wall time of a whole
# run minus that of a bare process start (/bin/true). Medians of RUNS runs.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

gen=$BUILD/vpn-confinement-generator
RUNS=${RUNS:-21}
TARGET_MS=${TARGET_MS:-10}
tmp=$(mktemp -d /tmp/vc-gen-bench.XXXXXX)
outbase=/dev/shm
[ -d "$outbase" ] && [ -w "$outbase" ] || outbase=$tmp
outs=$(mktemp -d "$outbase/vc-gen-bench-out.XXXXXX")
trap 'rm -rf "$tmp" "$outs"' EXIT
export SYSTEMD_LOG_TARGET=console
unset VPN_CONFINEMENT_RUNDIR

# make_conf DIR NAMESPACES UNITS
make_conf() {
	mkdir -p "$1"
	for n in $(seq 1 "$2"); do
		{
			printf '[Namespace]\nWireGuardConfigFile=/etc/vpn-confinement/n%d.conf\n' "$n"
			printf 'NamespaceAddress=10.%d.0.1\nBridgeAddress=10.%d.0.5\n' "$n" "$n"
			printf 'AccessibleFrom=192.168.0.0/24\nPortMapping=%d:80:tcp\n\n[Confinement]\n' $((10000 + n))
			for u in $(seq 1 "$3"); do printf 'Unit=svc-%d-%d.service\n' "$n" "$u"; done
		} >"$1/n$n.ini"
	done
}

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { awk -v us="$1" 'BEGIN{printf "%.2f", us/1000}'; }

# bench NAME CONFDIR: prints the medians, sets $inproc (ms).
bench() {
	local name=$1 conf=$2 i out t0 t1 t2 wall bare
	: >"$tmp/inproc"; : >"$tmp/cpu"; : >"$tmp/load"; : >"$tmp/wall"; : >"$tmp/bare"
	for i in $(seq 1 "$RUNS"); do
		out=$outs/$i
		mkdir -p "$out/n" "$out/e" "$out/l"
		t0=$(now_ns)
		VPN_CONFINEMENT_CONFDIR=$conf SYSTEMD_LOG_LEVEL=debug \
			"$gen" "$out/n" "$out/e" "$out/l" 2>"$tmp/log" || { cat "$tmp/log"; t_fail "$name: run $i"; }
		t1=$(now_ns)
		/bin/true
		t2=$(now_ns)
		echo $(((t1 - t0) / 1000)) >>"$tmp/wall"
		echo $(((t2 - t1) / 1000)) >>"$tmp/bare"
		sed -n 's/.* files in \([0-9.]*\) ms .*/\1/p' "$tmp/log" >>"$tmp/inproc"
		sed -n 's/.* ms (\([0-9.]*\) ms CPU.*/\1/p' "$tmp/log" >>"$tmp/cpu"
		sed -n 's/.*configuration: \([0-9.]*\) ms)$/\1/p' "$tmp/log" >>"$tmp/load"
		rm -rf "$out"
	done
	inproc=$(median <"$tmp/inproc")
	wall=$(median <"$tmp/wall")
	bare=$(median <"$tmp/bare")
	echo "$name, $RUNS runs (medians):"
	tail -n 1 "$tmp/log" | sed 's/^vpn-confinement-generator: /  last run: /'
	echo "  in the generator:               $inproc ms ($(median <"$tmp/cpu") ms CPU)"
	echo "    of which reading the config:  $(median <"$tmp/load") ms"
	echo "  whole run:                      $(ms "$wall") ms"
	echo "  bare process start (/bin/true): $(ms "$bare") ms"
	echo "  whole run minus bare start:     $(ms $((wall - bare))) ms"
}

make_conf "$tmp/big" 100 10
bench "100 namespaces x 10 units" "$tmp/big"
# The baseline: its output tree copied with cp -a, minus a process start.
mkdir -p "$outs/tree/n" "$outs/tree/e" "$outs/tree/l"
VPN_CONFINEMENT_CONFDIR=$tmp/big "$gen" "$outs/tree/n" "$outs/tree/e" "$outs/tree/l" 2>/dev/null ||
	t_fail "100 x 10: the tree to copy"
: >"$tmp/cp"
for i in $(seq 1 "$RUNS"); do
	t0=$(now_ns)
	cp -a "$outs/tree" "$outs/copy"
	t1=$(now_ns)
	/bin/true
	t2=$(now_ns)
	echo $(((t1 - t0) - (t2 - t1))) >>"$tmp/cp"
	rm -rf "$outs/copy"
done
cp_us=$(($(median <"$tmp/cp") / 1000))
ratio=$(awk -v g="$inproc" -v c="$cp_us" 'BEGIN{printf "%.2f", g * 1000 / c}')
echo "  baseline, cp -a of its output:  $(ms "$cp_us") ms (net of a process start); ratio generator / cp -a: ${ratio}x"
t_check "100 x 10: $inproc ms in the generator, no slower than cp -a of its output ($(ms "$cp_us") ms, ${ratio}x)" \
	awk -v r="$ratio" 'BEGIN{exit !(r != "" && r <= 1)}'

make_conf "$tmp/typical" 3 3
bench "3 namespaces x 3 units" "$tmp/typical"
t_check "3 x 3: $inproc ms in the generator, under $TARGET_MS ms" \
	awk -v t="$inproc" -v max="$TARGET_MS" 'BEGIN{exit !(t != "" && t < max)}'
t_done
