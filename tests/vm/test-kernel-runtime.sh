#!/bin/bash
# The runtime's kernel WireGuard path (issue 6), in a VM booting Debian's
# kernel, on the integration lab (tests/integration/lab.sh):
# - WireGuardImplementation=kernel: the link is made in the host namespace
#   (its UDP socket stays there) and moved; status, check and wg-down work
#   against the kernel device; wg-down closes the socket and leaves no link.
# - auto: picks the kernel module when it can; falls back to wireguard-go
#   only when the kernel cannot make the link, and says which it used.
# - kernel when the kernel cannot: wg-up fails naming the step, leaves nothing.
#
# Run as root. Outside a VM it starts one (tests/vm/run-in-vm.sh) and runs
# itself there with --in-vm.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib.sh"
t_require_root

if [ "${1:-}" != --in-vm ]; then
	export BUILD
	VM_TIMEOUT=${VM_TIMEOUT:-600} VM_PASS_ENV="BUILD ${VM_PASS_ENV:-}" "$HERE/run-in-vm.sh" "$0" --in-vm
	rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 125 ]; then
		t_fail "the VM ran the test (run-in-vm exit $rc)"
		t_done
	fi
	exit $rc
fi

# Everything is several times slower under TCG (a process start costs about
# 100-500 ms there): stretch the lab's waits and probe timeouts.
export LAB_TIME_SCALE=${LAB_TIME_SCALE:-5}
source "$HERE/../integration/lab.sh"
# The "kernel cannot" case is made by keeping modprobe from loading the
# module: only in the throwaway VM, and only before anything loaded it.
NO_WG_CONF=/etc/modprobe.d/vpnc-test-no-wireguard.conf
if [ "${RUN_IN_VM:-}" != 1 ]; then
	t_fail "--in-vm outside the VM (it writes $NO_WG_CONF)"
	t_done
fi
if [ -d /sys/module/wireguard ]; then
	t_fail "the wireguard module is loaded already (it must be loaded on demand here)"
	t_done
fi

lab_up || { t_fail "lab setup"; t_done; }
I=0
lab_testns A a
lab_client "$A" "$I" || { t_fail "client config"; t_done; }
CIP=$(client_ip "$I")
OUT=$LAB_DIR/out

# use_impl kernel|userspace|auto: the namespace's ini asks for it.
use_impl() {
	lab_ini "$A" "$I" ""
	sed -i "s/^WireGuardImplementation=.*/WireGuardImplementation=$1/" "$VPN_CONFINEMENT_CONFDIR/$A.ini"
	grep -qx "WireGuardImplementation=$1" "$VPN_CONFINEMENT_CONFDIR/$A.ini"
}
tunnel_ok() { in_ns "$A" curl -s --max-time "$LAB_T2" "http://$INET_IP:8080/" | grep -qx "peer=$CIP"; }
json() { # PYTHON-EXPRESSION over the status of A as s
	vc status "$A" --json | python3 -c "import json, sys; s = json.load(sys.stdin)[\"namespaces\"][0]; print($1)"
}
impl() { json 's["tunnel"].get("implementation", "")'; }
listen_port() { in_ns "$A" wg show "$A"0 listen-port; }
# udp_bound NETNS PORT: a UDP socket (v4 or v6) bound to PORT in NETNS.
udp_bound() {
	local hex
	hex=$(printf '%04X' "$2")
	in_netns "$1" awk -v p=":$hex" 'FNR > 1 && substr($2, length($2) - 4) == p { found = 1 }
		END { exit !found }' /proc/net/udp /proc/net/udp6
}
wg_links() { in_netns "$1" ip -o link show type wireguard; }
no_wg_links() { [ -z "$(wg_links "$1")" ]; }
wg_go_in_host() { [ -n "$(lab_wg_procs)" ]; }
# t_out DESC CMD...: t_check that shows the command's output when it fails.
t_out() {
	local desc=$1; shift
	if "$@" >"$OUT" 2>&1; then t_pass "$desc"; else t_fail "$desc"; sed 's/^/#   /' "$OUT"; fi
}

# --- the kernel cannot make the link ---------------------------------------
echo "install wireguard /bin/false" >"$NO_WG_CONF"

use_impl kernel
t_out "netns-up" vc netns-up "$A"
host_snapshot "$LAB_DIR/before-kernel-fail"
if vc wg-up "$A" >"$OUT" 2>&1; then
	t_fail "kernel, module unavailable: wg-up fails"
else
	t_pass "kernel, module unavailable: wg-up fails"
fi
sed 's/^/#   /' "$OUT"
t_check "and names the step" grep -q "kernel WireGuard interface" "$OUT"
t_check_not "and starts no wireguard-go" wg_go_in_host
t_check "and leaves no link in the host namespace" no_wg_links "$LAB_HOST"
t_check "and none in the namespace" no_wg_links "$A"
host_snapshot "$LAB_DIR/after-kernel-fail"
t_check "and the host as before" diff_ok "$LAB_DIR/before-kernel-fail" "$LAB_DIR/after-kernel-fail"

use_impl auto
if vc wg-up "$A" >"$OUT" 2>&1; then t_pass "auto, module unavailable: wg-up"; else t_fail "auto, module unavailable: wg-up"; fi
sed 's/^/#   /' "$OUT"
t_check "says it falls back to wireguard-go" grep -q "kernel WireGuard not available" "$OUT"
t_check "status says userspace" test "$(impl)" = userspace
t_check "a wireguard-go runs in the host namespace" wg_go_in_host
t_check "the tunnel works" wait_for 8 tunnel_ok
t_out "wg-down" vc wg-down "$A"
t_check_not "no wireguard-go left" wg_go_in_host
rm "$NO_WG_CONF"

# --- kernel ------------------------------------------------------------------
use_impl kernel
t_out "kernel: wg-up" vc wg-up "$A"
t_check "which says it uses kernel WireGuard (for the journal)" grep -q "kernel WireGuard" "$OUT"
t_check "the wireguard module is loaded" test -d /sys/module/wireguard
t_check "status says kernel" test "$(impl)" = kernel
t_check_not "no wireguard-go" wg_go_in_host
t_check "the tunnel works" wait_for 8 tunnel_ok
t_check "$A""0 is a wireguard link in the namespace" \
	bash -c "nsenter --net=/run/netns/$A ip -o link show type wireguard | grep -q ': ${A}0:'"
t_check "no wireguard link in the host namespace" no_wg_links "$LAB_HOST"
PORT=$(listen_port)
t_check "wg show in the namespace gives the listening port ($PORT)" test "${PORT:-0}" -gt 0
t_check "its UDP socket is in the host namespace" udp_bound "$LAB_HOST" "$PORT"
t_check_not "and not in the namespace" udp_bound "$A" "$PORT"
t_check "status shows the port, from netlink in the namespace" test "$(json 's["tunnel"]["listen_port"]')" = "$PORT"
t_check "status shows a handshake" test "$(json 's["tunnel"]["peers"][0]["latest_handshake"]')" -gt 0
t_out "status (text)" vc status "$A"
t_check "which names the implementation" grep -q "tunnel: .*present, kernel" "$OUT"
t_out "check passes" vc check "$A"
# Positive control for check: the same check fails once the device is gone.
in_ns "$A" ip link del "$A"0
if vc check "$A" >"$OUT" 2>&1; then t_fail "check fails with the link deleted"; else t_pass "check fails with the link deleted"; fi
sed 's/^/#   /' "$OUT"
t_check_not "deleting the link closed its UDP socket in the host namespace" udp_bound "$LAB_HOST" "$PORT"
t_out "wg-up again" vc wg-up "$A"
t_check "the tunnel works again" wait_for 8 tunnel_ok
PORT=$(listen_port)
t_check "its UDP socket is in the host namespace ($PORT)" udp_bound "$LAB_HOST" "$PORT"
t_out "wg-up while up (replace)" vc wg-up "$A"
t_check "the tunnel works after the replacement" wait_for 8 tunnel_ok
OLD=$PORT PORT=$(listen_port)
t_check_not "the replaced tunnel's socket is closed" \
	bash -c "[ $OLD != $PORT ] && nsenter --net=/run/netns/$LAB_HOST awk -v p=:$(printf %04X "$OLD") \
		'FNR > 1 && substr(\$2, length(\$2) - 4) == p { f = 1 } END { exit !f }' /proc/net/udp /proc/net/udp6"
t_out "wg-down" vc wg-down "$A"
t_check_not "wg-down closed the UDP socket in the host namespace" udp_bound "$LAB_HOST" "$PORT"
t_check "no wireguard link in the namespace" no_wg_links "$A"
t_check "no wireguard link in the host namespace" no_wg_links "$LAB_HOST"
t_check_not "the tunnel is down" tunnel_ok
t_check "status says the tunnel is down" test "$(json 's["tunnel"]["up"]')" = False

# --- auto with the module -----------------------------------------------------
use_impl auto
t_out "auto: wg-up" vc wg-up "$A"
t_check "which says it uses kernel WireGuard" grep -q "kernel WireGuard" "$OUT"
t_check "status says kernel" test "$(impl)" = kernel
t_check_not "no fallback message" grep -q "not available" "$OUT"
t_check_not "no wireguard-go" wg_go_in_host
t_check "the tunnel works" wait_for 8 tunnel_ok
PORT=$(listen_port)
t_check "its UDP socket is in the host namespace" udp_bound "$LAB_HOST" "$PORT"
t_out "check passes" vc check "$A"
t_out "wg-down" vc wg-down "$A"
t_check_not "wg-down closed the UDP socket" udp_bound "$LAB_HOST" "$PORT"
t_out "netns-down" vc netns-down "$A"
t_check "nothing of ours in the host namespace's links" \
	bash -c "! nsenter --net=/run/netns/$LAB_HOST ip -o link show | grep -E '$A|wireguard'"
t_check "the namespace is gone" test ! -e "/run/netns/$A"
t_done
