#!/bin/bash
# Run test programs, show their output, add up their "N passed, N failed"
# lines and end with one such line for the whole run. Exits 1 when any test
# failed or any program exited non-zero.
#   tests/run.sh --kind unit|fuzz-replay|script|bench PROGRAM...
# A PROGRAM ending in .sh runs through $TEST_SHELL (default: the bash on
# PATH), not its #!/bin/bash line: a Nix build sandbox has no /bin/bash.
set -u
kind=script
if [ "${1:-}" = --kind ]; then kind=$2; shift 2; fi
here=$(cd "$(dirname "$0")" && pwd)

total_pass=0 total_fail=0 programs_failed=0
for prog in "$@"; do
	name=${prog#./}
	echo "=== $kind: $name"
	log=$(mktemp)
	case $kind in
	fuzz-replay)
		# A harness replays its seed corpus and crash reproducers once each.
		fname=${prog##*/fuzz-}
		inputs=()
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
	if [ "$kind" = fuzz-replay ]; then
		tail -n 3 "$log"
	else
		cat "$log"
	fi
	counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	p=0 f=0
	if [ -n "$counts" ]; then
		p=$(echo "$counts" | sed -E 's/^([0-9]+) passed.*/\1/')
		f=$(echo "$counts" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	fi
	if [ $rc -ne 0 ]; then
		[ "$f" -eq 0 ] && f=1
		programs_failed=$((programs_failed + 1))
		[ "$kind" = fuzz-replay ] && cat "$log"
		echo "!!! $name exited with $rc"
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	rm -f "$log"
done
echo "=== $kind total"
echo "$kind: $total_pass passed, $total_fail failed"
[ $total_fail -eq 0 ] && [ $programs_failed -eq 0 ]
