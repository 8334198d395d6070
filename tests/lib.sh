# Shared by the shell tests: assertions and a closing "N passed, N failed".
# Source it, call t_pass/t_fail/t_check, and end with t_done.
T_PASS=0
T_FAIL=0
T_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${BUILD:=build}"
case $BUILD in /*) ;; *) BUILD=$T_TOP/$BUILD ;; esac

# T_TIMES=1 appends the seconds since the previous check to each line (to
# see where a slow tier spends its time).
T_LAST=${EPOCHREALTIME/[.,]/}
T_ELAPSED=
t_time() {
	T_ELAPSED=
	[ -n "${T_TIMES:-}" ] || return 0
	local now=${EPOCHREALTIME/[.,]/}
	printf -v T_ELAPSED ' [+%d.%02ds]' $(((now - T_LAST) / 1000000)) $(((now - T_LAST) % 1000000 / 10000))
	T_LAST=$now
}
t_pass() { T_PASS=$((T_PASS + 1)); t_time; echo "ok - $*$T_ELAPSED"; }
t_fail() { T_FAIL=$((T_FAIL + 1)); t_time; echo "not ok - $*$T_ELAPSED"; }
# t_check "description" command...: passes when the command exits 0.
t_check() {
	local desc=$1; shift
	if "$@"; then t_pass "$desc"; else t_fail "$desc"; fi
}
# t_check_not "description" command...: passes when the command exits non-zero.
t_check_not() {
	local desc=$1; shift
	if "$@"; then t_fail "$desc"; else t_pass "$desc"; fi
}
t_done() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
	exit
}
t_require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "needs root" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
}
