#!/bin/bash
# The integration suite (tests/integration/test-*.sh) under a kernel with the
# WireGuard module, in VMs booting Debian's kernel. Each test file says in a
# line "# vm-tier: kernel", "# vm-tier: auto" or "# vm-tier: none (why)" under
# which WireGuardImplementation= it runs here: every test whose behaviour
# depends on the WireGuard implementation runs once in a VM, with `kernel`
# or with `auto` (which must pick the kernel module there: every test checks
# that status says kernel), the two sets in two VMs side by side; the tests
# of what lies above the tunnel (the same code whichever implementation
# carries it) say none. A test file without the line fails this tier. On
# this machine (TCG) a test takes 7 to 12 times its native time, so a test
# here is chosen, not inherited.
#
# The lab writes VPN_TEST_WG_IMPL into each ini, holds status to
# VPN_TEST_EXPECT_IMPL, and stretches its waits and probe timeouts by
# LAB_TIME_SCALE (5 here: process starts are ~10x slower under TCG).
# VM_INTEGRATION_TESTS (names or paths, space-separated) runs those files
# under every implementation instead; VM_INTEGRATION_IMPLS (default
# "kernel auto") the implementations; VM_INTEGRATION_JOBS (default: 2 when
# this machine has 2 CPUs or more) how many VMs run at once (and
# run-in-vm.sh's VM_SLOTS how many on the machine). Each VM has one vCPU,
# which beat two here.
#
# Run as root: tests/vm/test-kernel-integration.sh. Outside a VM it starts
# the VMs (tests/vm/run-in-vm.sh), which run this script with --in-vm IMPL,
# and prints each VM's output when it is done, then the totals.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib.sh"
t_require_root
INTEG=$(cd "$HERE/../integration" && pwd)

# vm_tier FILE: the word of its "# vm-tier:" line (kernel, auto, none), or
# nothing.
vm_tier() { sed -nE 's/^# vm-tier: (kernel|auto|none)\b.*/\1/p' "$1" | head -n 1; }
# tests_to_run IMPL: the files to run under IMPL.
tests_to_run() {
	local t
	if [ -n "${VM_INTEGRATION_TESTS:-}" ]; then
		for t in $VM_INTEGRATION_TESTS; do
			case $t in */*) echo "$t" ;; *) echo "$INTEG/${t%.sh}.sh" ;; esac
		done
	else
		for t in "$INTEG"/test-*.sh; do
			[ "$(vm_tier "$t")" = "$1" ] && echo "$t"
		done
	fi
	return 0
}
# counts LOG: "PASSED FAILED" from the last "N passed, N failed" line of LOG.
counts() {
	sed -nE 's/^(\[[a-z]+\] )?([0-9]+) passed, ([0-9]+) failed$/\2 \3/p' "$1" | tail -n 1
}

# --- in the VM: one implementation --------------------------------------------
if [ "${1:-}" = --in-vm ]; then
	impl=$2
	if [ "${RUN_IN_VM:-}" != 1 ]; then
		t_fail "--in-vm outside a VM"
		t_done
	fi
	if [ -d /sys/module/wireguard ]; then
		t_fail "[$impl] the wireguard module is loaded before the suite ran"
	fi
	export VPN_TEST_WG_IMPL=$impl VPN_TEST_EXPECT_IMPL=kernel
	export LAB_TIME_SCALE=${LAB_TIME_SCALE:-5}
	for t in $(tests_to_run "$impl"); do
		name=${t#"$T_TOP"/}
		log=$(mktemp)
		start=$(date +%s)
		"$t" >"$log" 2>&1
		rc=$?
		sed "s/^/[$impl] /" "$log"
		read -r p f <<<"$(counts "$log")"
		p=${p:-0} f=${f:-0}
		if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		T_PASS=$((T_PASS + p)) T_FAIL=$((T_FAIL + f))
		echo "=== [$impl] $name: $p passed, $f failed, exit $rc, $(($(date +%s) - start))s"
		rm -f "$log"
	done
	# The suite's configs asked for this implementation: a kernel link was
	# made (the module loads on demand only).
	t_check "[$impl] the suite made kernel WireGuard links (module loaded)" test -d /sys/module/wireguard
	t_done
fi

# --- outside: one VM per implementation ------------------------------------------
for t in "$INTEG"/test-*.sh; do
	if [ -z "$(vm_tier "$t")" ]; then
		t_fail "${t#"$T_TOP"/}: no '# vm-tier: kernel|auto|none (why)' line"
	fi
done
[ "$T_FAIL" -eq 0 ] || t_done
jobs=${VM_INTEGRATION_JOBS:-$(($(nproc) >= 2 ? 2 : 1))}
export BUILD VM_INTEGRATION_TESTS=${VM_INTEGRATION_TESTS:-}
out=$(mktemp -d)
# On an early exit, stop the VMs: run-in-vm.sh kills its qemu on TERM.
stop_vms() {
	local pid
	for pid in $(jobs -p); do pkill -TERM -P "$pid"; kill "$pid"; done 2>/dev/null
	wait
	rm -rf "$out"
}
trap stop_vms EXIT
trap 'exit 130' INT TERM
impls=(${VM_INTEGRATION_IMPLS:-kernel auto})
# run_vm IMPL: the suite in a VM; output to $out/IMPL.log, seconds and the
# VM's exit code to $out/IMPL.rc.
run_vm() {
	local impl=$1 start rc
	start=$(date +%s)
	VM_TIMEOUT=${VM_TIMEOUT:-1500} VM_PASS_ENV="BUILD VM_INTEGRATION_TESTS LAB_TIME_SCALE ${VM_PASS_ENV:-}" \
		"$HERE/run-in-vm.sh" "$0" --in-vm "$impl" >"$out/$impl.log" 2>&1
	rc=$?
	echo "$rc $(($(date +%s) - start))" >"$out/$impl.rc"
}
running=0
for impl in "${impls[@]}"; do
	if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
	echo "# [$impl] VM started"
	run_vm "$impl" &
	running=$((running + 1))
done
wait
for impl in "${impls[@]}"; do
	cat "$out/$impl.log"
	read -r rc secs <"$out/$impl.rc"
	read -r p f <<<"$(counts "$out/$impl.log")"
	p=${p:-0} f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	echo "# [$impl] $p passed, $f failed, VM exit $rc, ${secs}s"
	T_PASS=$((T_PASS + p)) T_FAIL=$((T_FAIL + f))
done
t_done
