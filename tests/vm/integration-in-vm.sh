#!/bin/bash
# The integration suite (tests/integration/test-*.sh) under a kernel with the
# WireGuard module, in a VM booting Debian's kernel: once with
# WireGuardImplementation=kernel and once with auto (which must pick the
# kernel module there), each in a fresh VM so the module is loaded only if
# the suite made a kernel WireGuard link.
#
# The lab writes the implementation from VPN_TEST_WG_IMPL into each ini, and
# is to stretch its waits and probe timeouts by LAB_TIME_SCALE (5 here).
# VM_INTEGRATION_TESTS (names or paths, space-separated) limits the files run;
# VM_INTEGRATION_IMPLS (default "kernel auto") the implementations.
#
# Run as root: tests/vm/integration-in-vm.sh. Outside a VM it starts one per
# implementation (tests/vm/run-in-vm.sh) and runs itself there with
# --in-vm IMPL. Not yet part of make test (its name does not match test-*):
# the suite takes about 13 minutes per implementation under TCG here (75 s
# natively), and the lab must first honour VPN_TEST_WG_IMPL.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib.sh"
t_require_root
INTEG=$(cd "$HERE/../integration" && pwd)

tests_to_run() {
	local t
	if [ -n "${VM_INTEGRATION_TESTS:-}" ]; then
		for t in $VM_INTEGRATION_TESTS; do
			case $t in */*) echo "$t" ;; *) echo "$INTEG/${t%.sh}.sh" ;; esac
		done
	else
		ls "$INTEG"/test-*.sh
	fi
}

# --- in the VM: one implementation --------------------------------------------
if [ "${1:-}" = --in-vm ]; then
	impl=$2
	if [ -d /sys/module/wireguard ]; then
		t_fail "[$impl] the wireguard module is loaded before the suite ran"
	fi
	export VPN_TEST_WG_IMPL=$impl
	# Process starts are ~10x slower under TCG: the lab's waits and probe
	# timeouts are to be stretched by this factor (once the lab reads it).
	export LAB_TIME_SCALE=${LAB_TIME_SCALE:-5}
	for t in $(tests_to_run); do
		name=${t#"$T_TOP"/}
		echo "=== [$impl] $name"
		log=$(mktemp)
		start=$(date +%s)
		"$t" >"$log" 2>&1
		rc=$?
		sed "s/^/[$impl] /" "$log"
		counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
		p=${counts%% *} f=$(echo "$counts" | sed -nE 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/p')
		p=${p:-0} f=${f:-0}
		if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		T_PASS=$((T_PASS + p)) T_FAIL=$((T_FAIL + f))
		echo "=== [$impl] $name: $p passed, $f failed, exit $rc, $(($(date +%s) - start))s"
		rm -f "$log"
	done
	# The suite's configs asked for this implementation: a kernel link was
	# made (the module loads on demand only), and no wireguard-go is left.
	t_check "[$impl] the suite made kernel WireGuard links (module loaded)" test -d /sys/module/wireguard
	t_done
fi

# --- outside: one VM per implementation -----------------------------------------
if ! grep -q VPN_TEST_WG_IMPL "$INTEG/lab.sh"; then
	t_fail "tests/integration/lab.sh does not write WireGuardImplementation from VPN_TEST_WG_IMPL"
	t_done
fi
export BUILD VM_INTEGRATION_TESTS=${VM_INTEGRATION_TESTS:-}
for impl in ${VM_INTEGRATION_IMPLS:-kernel auto}; do
	log=$(mktemp)
	start=$(date +%s)
	VM_TIMEOUT=${VM_TIMEOUT:-1500} VM_PASS_ENV="BUILD VM_INTEGRATION_TESTS ${VM_PASS_ENV:-}" \
		"$HERE/run-in-vm.sh" "$0" --in-vm "$impl" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	rm -f "$log"
	p=${counts%% *} f=$(echo "$counts" | sed -nE 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/p')
	p=${p:-0} f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	echo "# [$impl] $p passed, $f failed, VM exit $rc, $(($(date +%s) - start))s"
	T_PASS=$((T_PASS + p)) T_FAIL=$((T_FAIL + f))
done
t_done
