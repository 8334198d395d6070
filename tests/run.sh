#!/bin/bash
# Run test programs, show their output, add up their "N passed, N failed"
# lines and end with one such line for the whole run. Exits 1 when any test
# failed or any program exited non-zero.
#   tests/run.sh [--kind unit|fuzz-replay|script|bench] [--jobs N] PROGRAM...
# A PROGRAM ending in .sh runs through $TEST_SHELL (default: the bash on
# PATH), not its #!/bin/bash line: a Nix build sandbox has no /bin/bash.
# With --jobs N (default 1), up to N programs run at once, each into its own
# log; a program's output is shown whole when it ends, with its wall time, so
# that the tiers that mostly wait (for a handshake, a timeout, a VM) overlap.
set -u
kind=script jobs=1
while [ $# -gt 0 ]; do
	case $1 in
	--kind) kind=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	*) break ;;
	esac
done
case $jobs in '' | *[!0-9]* | 0) echo "run.sh: --jobs wants a positive number" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# run_one INDEX PROGRAM: run it into $logs/INDEX.log, its exit code and wall
# time into $logs/INDEX.rc and $logs/INDEX.time.
run_one() {
	local i=$1 prog=$2 log=$logs/$1.log rc start
	start=$(date +%s)
	case $kind in
	fuzz-replay)
		# A harness replays its seed corpus and crash reproducers once each.
		local fname=${prog##*/fuzz-} inputs=() d
		for d in "$here/fuzz/corpus/$fname" "$here/fuzz/crashes/$fname"; do
			[ -d "$d" ] && inputs+=("$d"/*)
		done
		if [ ${#inputs[@]} -eq 0 ]; then
			echo "no corpus for $fname" >"$log"; rc=1
		else
			"$prog" -runs=0 "${inputs[@]}" >"$log" 2>&1; rc=$?
			[ $rc -eq 0 ] && echo "1 passed, 0 failed" >>"$log" && \
				echo "(replayed ${#inputs[@]} inputs)" >>"$log"
		fi
		;;
	*)
		case $prog in
		*.sh) "${TEST_SHELL:-bash}" "$prog" >"$log" 2>&1; rc=$? ;;
		*) "$prog" >"$log" 2>&1; rc=$? ;;
		esac
		;;
	esac
	echo $(($(date +%s) - start)) >"$logs/$i.time"
	echo "$rc" >"$logs/$i.rc"
}

total_pass=0 total_fail=0 programs_failed=0
# report INDEX PROGRAM: show its output and add up its counts.
report() {
	local i=$1 name=${2#./} log=$logs/$1.log rc counts p=0 f=0
	rc=$(cat "$logs/$i.rc")
	echo "=== $kind: $name"
	if [ "$kind" = fuzz-replay ]; then tail -n 3 "$log"; else cat "$log"; fi
	counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -n "$counts" ]; then
		p=$(echo "$counts" | sed -E 's/^([0-9]+) passed.*/\1/')
		f=$(echo "$counts" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	fi
	if [ "$rc" -ne 0 ]; then
		[ "$f" -eq 0 ] && f=1
		programs_failed=$((programs_failed + 1))
		[ "$kind" = fuzz-replay ] && cat "$log"
		echo "!!! $name exited with $rc"
	fi
	echo "(${name}: $(cat "$logs/$i.time")s)"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

progs=("$@")
if [ "$jobs" -eq 1 ]; then
	for i in "${!progs[@]}"; do
		run_one "$i" "${progs[$i]}"
		report "$i" "${progs[$i]}"
	done
else
	# Start up to $jobs; report each as it ends (in the order they end).
	declare -A running=()
	next=0
	while [ $next -lt ${#progs[@]} ] || [ ${#running[@]} -gt 0 ]; do
		while [ $next -lt ${#progs[@]} ] && [ ${#running[@]} -lt "$jobs" ]; do
			run_one "$next" "${progs[$next]}" &
			running[$next]=$!
			next=$((next + 1))
		done
		wait -n 2>/dev/null || true
		for i in "${!running[@]}"; do
			if [ -e "$logs/$i.rc" ]; then
				wait "${running[$i]}" 2>/dev/null
				unset "running[$i]"
				report "$i" "${progs[$i]}"
			fi
		done
	done
fi
echo "=== $kind total"
echo "$kind: $total_pass passed, $total_fail failed"
[ $total_fail -eq 0 ] && [ $programs_failed -eq 0 ]
