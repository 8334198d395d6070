#!/bin/bash
# The kernel WireGuard plumbing, in a VM booting Debian's kernel (this
# machine's kernel has no wireguard module): a kernel wireguard link made in
# one namespace keeps its UDP socket there when moved to another, passes
# traffic to a peer only with the right keys, and its socket closes when the
# link is deleted. Proves the VM tier works before the runtime is tested in it.
#
# Run as root. Outside a VM it starts one (tests/vm/run-in-vm.sh) and runs
# itself there with --in-vm; with --in-vm it runs where it is (any kernel
# with the module).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
t_require_root

if [ "${1:-}" != --in-vm ]; then
	VM_TIMEOUT=${VM_TIMEOUT:-300} "$here/run-in-vm.sh" "$0" --in-vm
	rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 125 ]; then
		t_fail "the VM ran the test (run-in-vm exit $rc)"
		t_done
	fi
	exit $rc
fi

sfx=$$
H=vmh$sfx S=vms$sfx C=vmc$sfx # "host", the peer's host, the confined namespace
WGC=wgc$sfx WGS=wgs$sfx
PORT_C=51821 PORT_S=51820

cleanup() {
	local n
	for n in $H $S $C; do
		if [ -e "/run/netns/$n" ]; then ip netns del "$n"; fi
	done
}
trap cleanup EXIT

inns() { local n=$1; shift; nsenter --net="/run/netns/$n" "$@"; }

# udp_bound NS PORT: a UDP socket (v4 or v6) bound to PORT exists in NS.
udp_bound() {
	local hex
	hex=$(printf '%04X' "$2")
	inns "$1" awk -v p=":$hex" 'FNR > 1 && substr($2, length($2) - 4) == p { found = 1 }
		END { exit !found }' /proc/net/udp /proc/net/udp6
}

# wg_sees NS IF: wg(8), talking netlink in NS, lists IF there.
wg_sees() { inns "$1" wg show interfaces | tr ' ' '\n' | grep -qx "$2"; }
# has_wg_link NS: any wireguard link in NS.
has_wg_link() { [ -n "$(inns "$1" ip -o link show type wireguard)" ]; }

t_check "modprobe wireguard" modprobe wireguard
echo "# $(uname -r), wireguard module $(cat /sys/module/wireguard/version)"

for n in $H $S $C; do
	ip netns add "$n"
	inns "$n" ip link set lo up
done
# The peer's host S is reached from H over a veth, as a VPN server would be.
ip -n "$H" link add vh$sfx type veth peer name vs$sfx netns "$S"
ip -n "$H" addr add 10.250.0.1/24 dev vh$sfx
ip -n "$S" addr add 10.250.0.2/24 dev vs$sfx
ip -n "$H" link set vh$sfx up
ip -n "$S" link set vs$sfx up

key_c=$(wg genkey) key_s=$(wg genkey)
pub_c=$(wg pubkey <<<"$key_c") pub_s=$(wg pubkey <<<"$key_s")

t_check "kernel wireguard link created in the peer's host" \
	inns "$S" ip link add "$WGS" type wireguard
inns "$S" wg set "$WGS" listen-port $PORT_S private-key <(printf '%s\n' "$key_s") \
	peer "$pub_c" allowed-ips 10.251.0.2/32
inns "$S" ip addr add 10.251.0.1/24 dev "$WGS"
inns "$S" ip link set "$WGS" up

t_check "kernel wireguard link created in the host namespace" \
	inns "$H" ip link add "$WGC" type wireguard
t_check "configured over netlink with wg set, key through a pipe" \
	inns "$H" wg set "$WGC" listen-port $PORT_C private-key <(printf '%s\n' "$key_c") \
	peer "$pub_s" endpoint 10.250.0.2:$PORT_S allowed-ips 0.0.0.0/0

t_check "moved into the confined namespace" inns "$H" ip link set "$WGC" netns "$C"
inns "$C" ip addr add 10.251.0.2/24 dev "$WGC"
inns "$C" ip link set "$WGC" up
inns "$C" ip route add default dev "$WGC"
# The socket opens when the link goes up, in the namespace that created it.
t_check "once up in the confined namespace, its UDP socket is in the host namespace" udp_bound "$H" $PORT_C
t_check_not "and none is in the confined namespace" udp_bound "$C" $PORT_C
t_check "wg sees the device in the confined namespace" wg_sees "$C" "$WGC"
t_check_not "and not in the host namespace" wg_sees "$H" "$WGC"

t_check "ping through the tunnel" inns "$C" busybox ping -c 2 -W 3 10.251.0.1
hs=$(inns "$C" wg show "$WGC" latest-handshakes | awk '{ print $2 }')
t_check "a handshake happened (latest-handshakes $hs)" test "${hs:-0}" -gt 0
rx=$(inns "$S" wg show "$WGS" transfer | awk '{ print $2 }')
t_check "the peer received encrypted traffic ($rx bytes)" test "${rx:-0}" -gt 0

# Negative control for the tunnel: the same probe fails once the peer no
# longer knows our key (so the ping above went through WireGuard).
inns "$S" wg set "$WGS" peer "$pub_c" remove
t_check_not "no ping once the peer drops our key" inns "$C" busybox ping -c 1 -W 2 10.251.0.1

t_check "deleting the link in the confined namespace" inns "$C" ip link del "$WGC"
t_check_not "closes its UDP socket in the host namespace" udp_bound "$H" $PORT_C
t_check_not "no wireguard link left in the host namespace" has_wg_link "$H"
t_check_not "no wireguard link left in the confined namespace" has_wg_link "$C"
t_done
