#!/bin/bash
# Root tier. The host table with real packets, in a lab of namespaces this
# test makes (HOST plays the machine, never the real one): DNAT of port
# mappings from AccessibleFrom and from the host itself, and the guard that
# holds when the namespace ruleset has been flushed. Every "blocked" probe is
# paired with a control showing the same probe gets through without the
# protection. Uses the "proton" golden case (AccessibleFrom=10.0.0.0/8,
# PortMapping=9091:9091, namespace 192.168.15.1, bridge 192.168.15.5).
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cases.sh"
t_require_root

tag=$$$RANDOM
HOST=rgh$tag IN=rgi$tag LAN=rgl$tag OUT=rgo$tag
work=$(mktemp -d)
pids=()
netnses=()
cleanup() {
	local p n
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	for n in "${netnses[@]}"; do ip netns del "$n"; done
	rm -rf "$work"
}
trap cleanup EXIT
addns() { ip netns add "$1" && netnses+=("$1"); }
in_ns() { local n=$1; shift; nsenter --net=/run/netns/"$n" "$@"; }

render_case "$CASES_DIR/proton" "$work" || { t_fail "render proton"; t_done; }
R=$work/proton

addns "$HOST" && addns "$IN" && addns "$LAN" && addns "$OUT" || { t_fail "lab namespaces"; t_done; }
set -e
for n in "$HOST" "$IN" "$LAN" "$OUT"; do ip -n "$n" link set lo up; done
# The names netns-up gives: proton-br with veth-proton-br on the host,
# veth-proton inside.
ip -n "$HOST" link add proton-br type bridge
ip -n "$HOST" link add veth-proton-br type veth peer name veth-proton netns "$IN"
ip -n "$HOST" link set veth-proton-br master proton-br
ip -n "$HOST" addr add 192.168.15.5/24 dev proton-br
ip -n "$HOST" link set proton-br up
ip -n "$HOST" link set veth-proton-br up
ip -n "$IN" addr add 192.168.15.1/24 dev veth-proton
ip -n "$IN" link set veth-proton up
ip -n "$IN" route add 10.0.0.0/8 via 192.168.15.5
ip -n "$IN" route add 172.30.0.0/16 via 192.168.15.5
# A LAN inside AccessibleFrom and one outside, each on its own host link.
ip -n "$HOST" link add lan0 type veth peer name eth0 netns "$LAN"
ip -n "$HOST" addr add 10.1.1.254/24 dev lan0
ip -n "$HOST" link set lan0 up
ip -n "$LAN" addr add 10.1.1.1/24 dev eth0
ip -n "$LAN" link set eth0 up
ip -n "$LAN" route add default via 10.1.1.254
ip -n "$HOST" link add out0 type veth peer name eth0 netns "$OUT"
ip -n "$HOST" addr add 172.30.0.254/24 dev out0
ip -n "$HOST" link set out0 up
ip -n "$OUT" addr add 172.30.0.1/24 dev eth0
ip -n "$OUT" link set eth0 up
ip -n "$OUT" route add default via 172.30.0.254
in_ns "$HOST" sysctl -qw net.ipv4.ip_forward=1
set +e

serve() { # netns port: TCP, answers "ok"
	nsenter --net=/run/netns/"$1" socat TCP-LISTEN:"$2",reuseaddr,fork SYSTEM:'read -r x; echo ok' &
	pids+=($!)
}
serve "$IN" 9091
serve "$IN" 9092
serve "$LAN" 8000
serve "$HOST" 2222
sleep 0.5
probe() { # from_netns addr port
	in_ns "$1" timeout 3 socat -T2 - TCP:"$2":"$3",connect-timeout=2 </dev/null 2>/dev/null | grep -q ok
}
counter() { in_ns "$HOST" nft list counter inet vpn-confinement-proton "$1" | awk '/packets/ { print $2 }'; }

# Controls, no rulesets at all.
t_check "control: the namespace reaches the LAN" probe "$IN" 10.1.1.1 8000
t_check "control: the namespace reaches the host" probe "$IN" 192.168.15.5 2222
t_check "control: the LAN reaches an unmapped port, routed" probe "$LAN" 192.168.15.1 9092
t_check_not "control: no DNAT without the host table" probe "$LAN" 10.1.1.254 9091

t_check "namespace full ruleset loads" in_ns "$IN" nft -f "$R/full.nft"
t_check "host table loads" in_ns "$HOST" nft -f "$R/host.nft"

t_check "mapping: LAN in AccessibleFrom reaches host:9091" probe "$LAN" 10.1.1.254 9091
t_check "mapping: and NamespaceAddress:9091 directly" probe "$LAN" 192.168.15.1 9091
t_check_not "mapping: not from outside AccessibleFrom" probe "$OUT" 172.30.0.254 9091
t_check_not "mapping: nor directly from outside AccessibleFrom" probe "$OUT" 192.168.15.1 9091
# Control for the two above: the same probes with OUT's range added to the
# sets (both tables), then removed again.
in_ns "$HOST" nft add element inet vpn-confinement-proton accessible4 '{ 172.30.0.0/16 }'
in_ns "$IN" nft add element inet vpn-confinement accessible4 '{ 172.30.0.0/16 }'
t_check "control: with OUT in AccessibleFrom, host:9091 works" probe "$OUT" 172.30.0.254 9091
t_check "control: and NamespaceAddress:9091 too" probe "$OUT" 192.168.15.1 9091
in_ns "$HOST" nft delete element inet vpn-confinement-proton accessible4 '{ 172.30.0.0/16 }'
in_ns "$IN" nft delete element inet vpn-confinement accessible4 '{ 172.30.0.0/16 }'
t_check "mapping: the host reaches its own address:9091" probe "$HOST" 10.1.1.254 9091
t_check "mapping: the host reaches NamespaceAddress:9091" probe "$HOST" 192.168.15.1 9091
# Its address outside AccessibleFrom works too: postrouting gives these
# connections the bridge address as source.
t_check "mapping: the host reaches its address outside AccessibleFrom:9091" probe "$HOST" 172.30.0.254 9091
t_check_not "mapping: 127.0.0.1:9091 not without route_localnet on the bridge" probe "$HOST" 127.0.0.1 9091
in_ns "$HOST" sysctl -qw net.ipv4.conf.proton-br.route_localnet=1
t_check "mapping: 127.0.0.1:9091 with route_localnet on the bridge" probe "$HOST" 127.0.0.1 9091
in_ns "$HOST" sysctl -qw net.ipv4.conf.proton-br.route_localnet=0
t_check_not "unmapped port from the LAN, routed" probe "$LAN" 192.168.15.1 9092

# Second layer: a confined root process flushes the namespace ruleset.
in_ns "$IN" nft flush ruleset
fwd0=$(counter guard_forward_drop) in0=$(counter guard_input_drop)
t_check_not "guard: nothing new from the namespace to the LAN" probe "$IN" 10.1.1.1 8000
t_check_not "guard: nothing new from the namespace to the host" probe "$IN" 192.168.15.5 2222
t_check_not "guard: nothing new from the namespace to the host's other address" probe "$IN" 10.1.1.254 2222
t_check_not "guard: nothing new into the bridge but mapped ports" probe "$LAN" 192.168.15.1 9092
t_check "guard: mapped ports still work" probe "$LAN" 10.1.1.254 9091
t_check "guard: forward drops counted" test "$(counter guard_forward_drop)" -gt "$fwd0"
t_check "guard: input drops counted" test "$(counter guard_input_drop)" -gt "$in0"
# Forged replies: conntrack matches by addresses and ports alone, so the
# namespace (root there, ruleset flushed) can send a datagram that looks
# like the answer to a flow the host opened (to the LAN's resolver, say) or
# forwards. The guard accepts from the bridge only replies of flows opened
# toward the namespace. No reverse-path filter in this lab, as on many hosts.
in_ns "$HOST" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.proton-br.rp_filter=0
# spoof_reply WHO FLOW_SRC FLOW_SRC_PORT FLOW_DST FLOW_DST_PORT: in netns WHO,
# a socket on FLOW_SRC:FLOW_SRC_PORT sends to FLOW_DST:FLOW_DST_PORT (nobody
# answers); the namespace then sends from FLOW_DST:FLOW_DST_PORT (an address
# it takes for the purpose) to the socket. Succeeds when the socket got it.
spoof_reply() {
	local who=$1 src=$2 sport=$3 dst=$4 dport=$5 out=$work/spoof.$RANDOM
	in_ns "$who" python3 -c '
import socket, select, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.sendto(b"query", (sys.argv[3], int(sys.argv[4])))
print("sent", flush=True)
end = 3.0
while True:
    r, _, _ = select.select([s], [], [], end)
    if not r:
        break
    data, peer = s.recvfrom(100)
    if data == b"forged":
        print("got", peer[0], flush=True)
        break
' "$src" "$sport" "$dst" "$dport" >"$out" 2>&1 &
	local pid=$!
	wait_for_file_line "$out" sent
	local took=
	if ! ip -n "$IN" -4 -o addr show dev veth-proton | grep -q " $dst/"; then
		ip -n "$IN" addr add "$dst/32" dev veth-proton && took=1
	fi
	in_ns "$IN" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
for _ in range(3):
    s.sendto(b"forged", (sys.argv[3], int(sys.argv[4])))
' "$dst" "$dport" "$src" "$sport"
	wait "$pid"
	[ -n "$took" ] && ip -n "$IN" addr del "$dst/32" dev veth-proton
	grep -q "^sent" "$out" || echo "# the flow was not opened: $(cat "$out")"
	grep -q "^got $dst" "$out"
}
wait_for_file_line() {
	local i
	for i in $(seq 1 60); do grep -q "^$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
	return 1
}
command -v python3 >/dev/null || t_fail "python3 is there for the forged-reply probes"
t_check_not "guard: a forged reply to the host's own flow (to the LAN) is dropped" \
	spoof_reply "$HOST" 10.1.1.254 40001 10.1.1.1 5353
t_check_not "guard: a forged reply to a flow the host forwards (LAN to OUT) is dropped" \
	spoof_reply "$LAN" 10.1.1.1 40002 172.30.0.1 5353
t_check "guard: a real reply from the namespace to the host's flow toward it passes" \
	spoof_reply "$HOST" 192.168.15.5 40003 192.168.15.1 5353

# Controls: the same probes without the host table get through.
in_ns "$HOST" nft delete table inet vpn-confinement-proton
t_check "control: without the guard the namespace reaches the LAN" probe "$IN" 10.1.1.1 8000
t_check "control: and the host" probe "$IN" 192.168.15.5 2222
t_check "control: and the LAN an unmapped port" probe "$LAN" 192.168.15.1 9092
t_check "control: without the guard the forged reply to the host's flow arrives" \
	spoof_reply "$HOST" 10.1.1.254 40004 10.1.1.1 5353
t_check "control: and the forged reply to the forwarded flow" \
	spoof_reply "$LAN" 10.1.1.1 40005 172.30.0.1 5353
t_check "nothing of ours is left on the host" test -z "$(in_ns "$HOST" nft list tables)"
t_done
