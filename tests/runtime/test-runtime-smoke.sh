#!/bin/bash
# Root-tier smoke test of the runtime subcommands, through the CLI only:
# netns-up, wg-up (wireguard-go, as this kernel has no WireGuard module),
# status/check, port mapping with per-interface forwarding, wg-down's kill
# switch, re-runs, bad inputs, and netns-down leaving the host as before.
#
# Background processes are started with nsenter directly (it execs them),
# so the pids recorded for the cleanup are theirs, not a subshell's.
# Everything runs in namespaces made here: HOST (where the helper runs, via
# nsenter --net) and PEER (the VPN server with wireguard-go and an HTTP
# server, also a LAN inside AccessibleFrom), joined by a veth pair.
set -u
. "$(dirname "$0")/../lib.sh"
t_require_root

for tool in ip wg wireguard-go nft python3 curl nsenter; do
	if ! command -v $tool >/dev/null; then
		echo "missing $tool" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
done

sfx=$(printf '%04x' $((RANDOM ^ $$ & 0xffff)))
HOST=vch$sfx PEER=vcp$sfx OTHER=vco$sfx # OTHER: another network of the host
N=r$sfx          # the namespace under test (<= 7 chars)
N2=s$sfx         # a second one, for shared forwarding claims
SRV=vcs$sfx      # the server's wireguard-go interface
tmp=$(mktemp -d /tmp/vc-runtime.XXXXXX)
chmod 700 "$tmp"
pids=()

h() { nsenter --net=/run/netns/$HOST "$@"; }
p() { nsenter --net=/run/netns/$PEER "$@"; }
inside() { nsenter --net=/run/netns/$1 "${@:2}"; }
vc() {
	nsenter --net=/run/netns/$HOST env VPN_CONFINEMENT_CONFDIR=$tmp/conf \
		VPN_CONFINEMENT_RUNDIR=$tmp/run VPN_CONFINEMENT_NETNS_ETCDIR=$tmp/etc \
		VPN_CONFINEMENT_RESOLVE_ATTEMPTS=2 "$BUILD/vpn-confinement" "$@"
}

# The same, exec'd (nsenter and env exec), so $! of "vc_exec ... &" is the
# helper's own pid.
vc_exec() {
	exec nsenter --net=/run/netns/$HOST env VPN_CONFINEMENT_CONFDIR=$tmp/conf \
		VPN_CONFINEMENT_RUNDIR=$tmp/run VPN_CONFINEMENT_NETNS_ETCDIR=$tmp/etc \
		"$BUILD/vpn-confinement" "$@"
}

export HOST PEER BUILD tmp
export -f h p inside vc

cleanup() {
	set +e
	vc netns-down $N >/dev/null 2>&1
	vc netns-down $N2 >/dev/null 2>&1
	vc netns-down v$sfx >/dev/null 2>&1
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
	ip netns del $HOST 2>/dev/null
	ip netns del $PEER 2>/dev/null
	ip netns del $OTHER 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# --- the lab
ip netns add $HOST
ip netns add $PEER
ip link add vh$sfx netns $HOST type veth peer name vp$sfx netns $PEER
# No IPv6 on the lab link: its link-local address would appear at some
# point during the test and show up in the before/after comparison.
h sysctl -qw net.ipv6.conf.vh$sfx.disable_ipv6=1
p sysctl -qw net.ipv6.conf.vp$sfx.disable_ipv6=1
h ip addr add 10.77.0.1/24 dev vh$sfx
h ip link set vh$sfx up
h ip link set lo up
p ip addr add 10.77.0.2/24 dev vp$sfx
p ip link set vp$sfx up
p ip link set lo up
# Routes to the namespaces' subnets only: with a default route, the HTTP
# server's reverse lookup of its own address would wait for an unreachable
# resolver instead of failing at once.
p ip route add 192.168.151.0/24 via 10.77.0.1
p ip route add 10.88.0.0/24 via 10.77.0.1
# A second network of the host, which the LAN must not reach through it
# just because port mappings needed forwarding on the LAN interface.
ip netns add $OTHER
ip link add vo$sfx netns $HOST type veth peer name vq$sfx netns $OTHER
h sysctl -qw net.ipv6.conf.vo$sfx.disable_ipv6=1
nsenter --net=/run/netns/$OTHER sysctl -qw net.ipv6.conf.vq$sfx.disable_ipv6=1
# (forwarding on for replies from there: as on a host that routes between
# some of its networks, just not from the LAN)
h sysctl -qw net.ipv4.conf.vo$sfx.forwarding=1
h ip addr add 10.88.0.1/24 dev vo$sfx
h ip link set vo$sfx up
nsenter --net=/run/netns/$OTHER ip addr add 10.88.0.2/24 dev vq$sfx
nsenter --net=/run/netns/$OTHER ip link set vq$sfx up
nsenter --net=/run/netns/$OTHER ip link set lo up
nsenter --net=/run/netns/$OTHER ip route add 10.77.0.0/24 via 10.88.0.1
nsenter --net=/run/netns/$OTHER python3 -m http.server -b 10.88.0.2 8099 >/dev/null 2>&1 &
pids+=($!)
p ip route add 192.168.152.0/24 via 10.77.0.1

umask 077
wg genkey >$tmp/s.key
wg pubkey <$tmp/s.key >$tmp/s.pub
wg genkey >$tmp/c.key
wg pubkey <$tmp/c.key >$tmp/c.pub
umask 022
nsenter --net=/run/netns/$PEER env WG_PROCESS_FOREGROUND=1 wireguard-go -f $SRV >$tmp/server.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S /var/run/wireguard/$SRV.sock ] && break; sleep 0.05; done
p wg set $SRV private-key $tmp/s.key listen-port 51820 peer "$(cat $tmp/c.pub)" allowed-ips 10.99.0.2/32
p ip addr add 10.99.0.1/24 dev $SRV
p ip link set $SRV up
nsenter --net=/run/netns/$PEER python3 -m http.server -b 10.99.0.1 8080 >$tmp/http.log 2>&1 &
pids+=($!)
nsenter --net=/run/netns/$PEER python3 -m http.server -b 10.77.0.2 8090 >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do p ss -ltn | grep -q ':8090 ' && p ss -ltn | grep -q ':8080 ' && break; sleep 0.05; done

mkdir -p $tmp/conf $tmp/run $tmp/etc
write_wg() { # $1 file, $2 extra [Interface] line
	cat >"$1" <<EOF
[Interface]
PrivateKey = $(cat $tmp/c.key)
Address = 10.99.0.2/32
DNS = 10.99.0.1
$2

[Peer]
PublicKey = $(cat $tmp/s.pub)
Endpoint = ${3:-10.77.0.2:51820}
AllowedIPs = 0.0.0.0/0
PersistentKeepalive = 25
EOF
	chmod 600 "$1"
}
write_wg $tmp/wg.conf ""
write_ini() { # $1 name, $2 wg file, $3 ns addr, $4 bridge addr, $5 port mapping
	cat >$tmp/conf/$1.ini <<EOF
[Namespace]
WireGuardConfigFile=$2
NamespaceAddress=$3
BridgeAddress=$4
AccessibleFrom=10.77.0.0/24
PortMapping=$5
WireGuardImplementation=auto

[Confinement]
Unit=smoke-$1.service
EOF
}
write_ini $N $tmp/wg.conf 192.168.151.1/24 192.168.151.5/24 8081:8081:tcp

snapshot() { # the host side state netns-down must restore
	h ip -o link show | sed 's/^[0-9]*: //; s/ link\/.*//' | sort
	h ip -o addr show | awk '{print $2, $4}' | sort
	h ip route show table all
	h nft list ruleset
	h bash -c 'for f in /proc/sys/net/ipv4/conf/*/forwarding /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding; do echo "$f $(cat $f)"; done'
	# /var/run/wireguard is shared with everything else on the machine:
	# only our namespaces' sockets count.
	ls /var/run/wireguard 2>/dev/null | grep -E "^vc-($N|$N2|v$sfx)-" || true
}
snapshot >$tmp/before

# Kernel WireGuard (a VM with the module) or wireguard-go (this machine):
# auto picks the first; the checks follow what it picked.
KWG=0
if h ip link add name vck$sfx type wireguard 2>/dev/null; then
	h ip link del vck$sfx
	KWG=1
fi

t_check_not "before netns-up, the LAN cannot go through the host to its other network" \
	p curl -sf -m 2 -o /dev/null http://10.88.0.2:8099/

# --- netns-up
t_check "netns-up succeeds" vc netns-up $N
t_check "namespace exists" test -e /run/netns/$N
t_check "bridge and host veth exist" h ip link show dev $N-br
t_check "namespace table has policy drop" bash -c "inside $N nft list table inet vpn-confinement | grep -q 'policy drop'"
t_check "host table loaded" h nft list table inet vpn-confinement-$N
t_check "accept_ra off in the namespace" test "$(inside $N cat /proc/sys/net/ipv6/conf/all/accept_ra)" = 0
t_check "IPv6 off on the inner veth (no IPv6 bridge addresses)" \
	test "$(inside $N cat /proc/sys/net/ipv6/conf/veth-$N/disable_ipv6)" = 1
t_check "forwarding on the AccessibleFrom interface" test "$(h cat /proc/sys/net/ipv4/conf/vh$sfx/forwarding)" = 1
t_check "global ip_forward untouched" test "$(h cat /proc/sys/net/ipv4/ip_forward)" = 0
t_check "route to AccessibleFrom via the bridge" bash -c "inside $N ip route show 10.77.0.0/24 | grep -q 'via 192.168.151.5'"
t_check "check fails while the tunnel is down" bash -c "! vc check $N >/dev/null"
t_check "the run directory is root's only (0700; it was 0755 before)" \
	test "$(stat -c %a $tmp/run) $(stat -c %a $tmp/run/$N)" = "700 700"

t_check "resolv.conf without a nameserver while the tunnel is down" \
	bash -c "test -f $tmp/run/$N/resolv.conf && ! grep -q nameserver $tmp/run/$N/resolv.conf"
resolv_inode=$(stat -c %i $tmp/run/$N/resolv.conf)

rules1=$(inside $N nft list ruleset; h nft list table inet vpn-confinement-$N)
t_check "netns-up again converges" vc netns-up $N
rules2=$(inside $N nft list ruleset; h nft list table inet vpn-confinement-$N)
t_check "a second netns-up doubles no rule" test "$rules1" = "$rules2"

# --- wg-up (with a link of the host already named like the tunnel, as a
# host's own "wg0" would be: it must not matter)
h ip link add name ${N}0 type bridge
out=$(vc wg-up $N 2>$tmp/wgup.err)
rc=$?
t_check "wg-up succeeds" test $rc = 0
if [ $KWG = 1 ]; then
	t_check "wg-up says it uses kernel WireGuard" grep -q "kernel WireGuard" <<<"$out"
	t_check "a wireguard link in the namespace" bash -c "inside $N ip -d link show dev ${N}0 | grep -q wireguard"
else
	t_check "wg-up says it falls back to wireguard-go" grep -q "using .*wireguard-go" $tmp/wgup.err
fi
t_check "tunnel interface $N""0 in the namespace" inside $N ip link show dev ${N}0
t_check "default route via ${N}0" bash -c "inside $N ip route show default | grep -q 'dev ${N}0'"
t_check "DNS host route via ${N}0" bash -c "inside $N ip route show 10.99.0.1 | grep -q 'dev ${N}0'"
t_check "resolv.conf rewritten in place (bind mounts of it see the change)" \
	test "$(stat -c %i $tmp/run/$N/resolv.conf)" = "$resolv_inode"
t_check "resolv.conf in the run dir and NETNS_ETCDIR" \
	bash -c "grep -qx 'nameserver 10.99.0.1' $tmp/run/$N/resolv.conf && cmp -s $tmp/run/$N/resolv.conf $tmp/etc/$N/resolv.conf"
t_check "HTTP through the tunnel" inside $N curl -sf -m 5 -o /dev/null http://10.99.0.1:8080/
t_check "the server saw the tunnel address" grep -q '^10.99.0.2 ' $tmp/http.log
t_check "check passes" vc check $N
# check compares both resolv.conf copies with what the wg config's DNS= gives.
for f in $tmp/run/$N/resolv.conf $tmp/etc/$N/resolv.conf; do
	cp $f $tmp/resolv.saved
	echo "nameserver 10.99.0.53" >>$f
	vc check $N >$tmp/check.out 2>&1; rc=$?
	t_check "check fails with ${f#$tmp/} changed behind its back (exit $rc)" \
		bash -c "[ $rc = 1 ] && grep -q 'resolv.conf .* differs' $tmp/check.out"
	cat $tmp/resolv.saved >$f
done
t_check "check passes again with both resolv.conf restored" vc check $N
t_check "the host's own ${N}0 is untouched" bash -c "h ip -d link show dev ${N}0 | grep -q bridge"
h ip link del ${N}0
t_check "status --json is valid JSON" bash -c "vc status $N --json | python3 -c 'import json,sys; json.load(sys.stdin)'"
key=$(cat $tmp/c.key)
st=$(vc status; vc status --json; cat $tmp/run/$N/* 2>/dev/null)
case $st in *"$key"*) t_fail "private key appears in status or run files" ;; *) t_pass "no private key in status or run files" ;; esac

# --- port mapping (from the LAN peer, inside AccessibleFrom)
nsenter --net=/run/netns/$N python3 -m http.server -b 0.0.0.0 8081 >/dev/null 2>&1 &
pids+=($!)
nsenter --net=/run/netns/$N python3 -m http.server -b 0.0.0.0 8082 >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do inside $N ss -ltn | grep -q ':8082 ' && inside $N ss -ltn | grep -q ':8081 ' && break; sleep 0.05; done
t_check "mapped port reachable from the LAN via host:from" p curl -sf -m 5 -o /dev/null http://10.77.0.1:8081/
t_check "mapped port reachable from the host itself" h curl -sf -m 5 -o /dev/null http://10.77.0.1:8081/
t_check "unmapped port listening inside is positive-controlled locally" inside $N curl -sf -m 5 -o /dev/null http://127.0.0.1:8082/
t_check "mapped port reachable from the LAN at namespaceAddress:to" p curl -sf -m 5 -o /dev/null http://192.168.151.1:8081/
t_check_not "unmapped port unreachable from the LAN" p curl -sf -m 2 -o /dev/null http://192.168.151.1:8082/

# --- the forwarding guard: the LAN reaches the namespace, not the host's
# other networks
t_check "forwarding guard table loaded" h nft list table inet vpn-confinement-forwarding
t_check "positive control: the other network answers the host" h curl -sf -m 5 -o /dev/null http://10.88.0.2:8099/
t_check_not "the LAN cannot go through the host to its other network" p curl -sf -m 2 -o /dev/null http://10.88.0.2:8099/
h nft delete table inet vpn-confinement-forwarding
t_check "control: without the guard, forwarding on the LAN interface would let it through" \
	p curl -sf -m 5 -o /dev/null http://10.88.0.2:8099/
t_check_not "check notices the missing guard" bash -c "vc check $N >/dev/null"
t_check "netns-up again restores the guard" vc netns-up $N
t_check "... and keeps the live tunnel's full ruleset" \
	bash -c "inside $N nft list table inet vpn-confinement | grep -q 'chain dns-restrict'"
t_check_not "guarded again" p curl -sf -m 2 -o /dev/null http://10.88.0.2:8099/
t_check "the mapped port still works" p curl -sf -m 5 -o /dev/null http://10.77.0.1:8081/

# --- wg-up while up replaces the tunnel
t_check "wg-up again succeeds" bash -c "vc wg-up $N >/dev/null 2>&1"
t_check "one tunnel after the re-run" test "$(pgrep -fc "[w]ireguard-go -f vc-$N-")" = $((1 - KWG))
t_check "HTTP through the replaced tunnel" inside $N curl -sf -m 5 -o /dev/null http://10.99.0.1:8080/

# --- check notices the tunnel's death (wireguard-go killed, or the kernel
# device deleted); the kill switch holds
if [ $KWG = 1 ]; then
	inside $N ip link del ${N}0
	what=${N}0
else
	pid=$(sed -n 's/^pid=//p' $tmp/run/$N/wg)
	kill "$pid"
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	what=wireguard-go
fi
t_check_not "check fails once the tunnel died" bash -c "vc check $N >$tmp/check.out"
t_check "check names $what" grep -q "$what" $tmp/check.out
t_check_not "no HTTP after the tunnel died" inside $N curl -sf -m 2 -o /dev/null http://10.99.0.1:8080/
wg_up_shown() { vc wg-up $N >$tmp/wg-up.out 2>&1 || { sed 's/^/#   /' $tmp/wg-up.out; return 1; }; }
t_check "wg-up recovers" wg_up_shown
t_check "HTTP again" inside $N curl -sf -m 5 -o /dev/null http://10.99.0.1:8080/

# --- a flushed namespace ruleset is noticed
inside $N nft flush ruleset
t_check_not "check fails after the ruleset was flushed" bash -c "vc check $N >/dev/null"
t_check "wg-up restores it" bash -c "vc wg-up $N >/dev/null 2>&1 && vc check $N >/dev/null"

# --- wg-down: kill switch stays
t_check "wg-down succeeds" vc wg-down $N
t_check "tunnel interface gone" bash -c "! inside $N ip link show dev ${N}0 2>/dev/null"
t_check "base ruleset still loaded" bash -c "inside $N nft list table inet vpn-confinement | grep -q 'policy drop'"
t_check_not "no HTTP after wg-down" inside $N curl -sf -m 2 -o /dev/null http://10.99.0.1:8080/
t_check "positive control: the LAN server answers the host" h curl -sf -m 5 -o /dev/null http://10.77.0.2:8090/
t_check_not "no reaching the LAN after wg-down" inside $N curl -sf -m 2 -o /dev/null http://10.77.0.2:8090/
t_check "no nameserver in resolv.conf after wg-down, same file" \
	bash -c "! grep -q nameserver $tmp/run/$N/resolv.conf && test \$(stat -c %i $tmp/run/$N/resolv.conf) = $resolv_inode"
t_check "the NETNS_ETCDIR resolv.conf removed" bash -c "! test -e $tmp/etc/$N/resolv.conf"
# ([w]: so pgrep does not find the bash -c running it)
t_check "no wireguard-go of ours left" bash -c "! pgrep -f '[w]ireguard-go -f vc-$N-'"
t_check "wg-down again is fine" vc wg-down $N

# --- a host firewall reload ("flush ruleset") with nothing watching: the
# forwarding netns-up turned on stays, the guard is gone, the LAN gets
# through the host (the positive control of the supervisor's check below);
# netns-up again (netns@.service's ExecReload=) puts it back.
h nft flush ruleset
t_check "control: after nft flush ruleset with no supervisor, the LAN gets through the host" \
	p curl -sf -m 5 -o /dev/null http://10.88.0.2:8099/
t_check "netns-up (the reload) puts the host side back" vc netns-up $N
t_check_not "... the LAN is kept out again" p curl -sf -m 2 -o /dev/null http://10.88.0.2:8099/

# --- wg-up --foreground supervises: a death is noticed, taken down, exit 1;
# SIGTERM takes the tunnel down, exit 0
vc_exec wg-up $N --foreground >/dev/null 2>$tmp/fg.err &
fg=$!
for _ in $(seq 100); do vc check $N >/dev/null 2>&1 && break; sleep 0.1; done
t_check "supervised tunnel passes check" vc check $N
t_check "HTTP through the supervised tunnel" inside $N curl -sf -m 5 -o /dev/null http://10.99.0.1:8080/
# A host firewall reload that starts with "flush ruleset" removes the host
# table and the forwarding guard while forwarding stays on: the supervisor
# puts both back within seconds.
h nft flush ruleset
guarded_again() { h nft list table inet vpn-confinement-forwarding >/dev/null 2>&1 &&
	h nft list table inet vpn-confinement-$N >/dev/null 2>&1; }
for _ in $(seq 100); do guarded_again && break; sleep 0.1; done
t_check "after nft flush ruleset on the host, the supervisor puts the host table and the guard back" guarded_again
t_check "... and says so" grep -q "was gone (a firewall reload?); put it back" $tmp/fg.err
t_check_not "... the LAN cannot go through the host to its other network again" \
	p curl -sf -m 2 -o /dev/null http://10.88.0.2:8099/
t_check "... the mapped port works again" p curl -sf -m 5 -o /dev/null http://10.77.0.1:8081/
inside $N ip link del ${N}0
wait $fg
t_check "supervisor exits 1 when the tunnel dies" test $? = 1
t_check "supervisor says why" grep -q "the tunnel died" $tmp/fg.err
t_check "the dead tunnel was taken down" bash -c "! test -e $tmp/run/$N/wg && ! pgrep -f '[w]ireguard-go -f vc-$N-'"
t_check "base ruleset after the death" bash -c "inside $N nft list table inet vpn-confinement | grep -q 'policy drop'"
vc_exec wg-up $N --foreground >/dev/null 2>$tmp/fg.err &
fg=$!
for _ in $(seq 100); do vc check $N >/dev/null 2>&1 && break; sleep 0.1; done
kill -TERM $fg
wait $fg
t_check "supervisor exits 0 on SIGTERM" test $? = 0
t_check "SIGTERM took the tunnel down" bash -c "! test -e $tmp/run/$N/wg && ! inside $N ip link show dev ${N}0 2>/dev/null"

# --- a second namespace sharing the forwarding claim
write_ini $N2 $tmp/wg.conf 192.168.152.1/24 192.168.152.5/24 8091:8091:tcp
t_check "second namespace up" vc netns-up $N2
t_check "first namespace down" vc netns-down $N
t_check "forwarding kept while the second needs it" test "$(h cat /proc/sys/net/ipv4/conf/vh$sfx/forwarding)" = 1
t_check "second namespace down" vc netns-down $N2
# Both at once, as systemd starts them at boot: the claims do not race.
for round in 1 2 3; do
	vc netns-up $N >/dev/null 2>&1 &
	a=$!
	vc netns-up $N2 >/dev/null 2>&1 &
	b=$!
	wait $a; ra=$?
	wait $b; rb=$?
	t_check "parallel netns-up (round $round)" test "$ra$rb" = 00
	vc netns-down $N
	t_check "forwarding kept for the other (round $round)" test "$(h cat /proc/sys/net/ipv4/conf/vh$sfx/forwarding)" = 1
	vc netns-down $N2
	t_check "forwarding restored (round $round)" test "$(h cat /proc/sys/net/ipv4/conf/vh$sfx/forwarding)" = 0
done

# --- nothing read back from the run directory is trusted (a confined root
# process cannot write there, but a record may be stale or planted)
mkdir -p $tmp/run/$N
printf 'implementation=kernel\ntmpname=vc-%s-0000\nstarted=1\n' $N >$tmp/run/$N/wg
t_check "netns-up with a stale tunnel record left in the run directory" vc netns-up $N
t_check "... still loads the base ruleset into the fresh namespace (kill switch)" \
	bash -c "inside $N nft list table inet vpn-confinement | grep -c 'policy drop;' | grep -qx 3 &&
		! inside $N nft list table inet vpn-confinement | grep -q dns-restrict"
t_check "stale record: netns-down" vc netns-down $N
# Host-sysctl claims: only forwarding keys of interfaces, values 0 or 1.
t_check "netns-up (claims forwarding on the LAN interface)" vc netns-up $N
rpf=$(h cat /proc/sys/net/ipv4/conf/vo$sfx/rp_filter)
printf 'net/ipv4/ip_forward\t1\nnet/ipv4/conf/vo%s/rp_filter\t2\nnet/ipv4/conf/all/forwarding\t1\nnet/ipv4/conf/vo%s/forwarding\t0\n' \
	$sfx $sfx >>$tmp/run/$N/host-sysctl
t_check "status reports the lines vpn-confinement did not write" \
	bash -c "vc status $N | grep -q '3 line(s) of .*host-sysctl were not written by vpn-confinement'"
t_check "netns-down with planted claims" vc netns-down $N
t_check "control: a planted line of the allowed form is acted on (vo$sfx forwarding 1 -> 0)" \
	test "$(h cat /proc/sys/net/ipv4/conf/vo$sfx/forwarding)" = 0
h sysctl -qw net.ipv4.conf.vo$sfx.forwarding=1
t_check "the planted ip_forward=1 was not written" test "$(h cat /proc/sys/net/ipv4/ip_forward)" = 0
t_check "nor conf/all/forwarding=1" test "$(h cat /proc/sys/net/ipv4/conf/all/forwarding)" = 0
t_check "nor rp_filter" test "$(h cat /proc/sys/net/ipv4/conf/vo$sfx/rp_filter)" = "$rpf"
t_check "the real claim was restored (LAN interface forwarding back to 0)" \
	test "$(h cat /proc/sys/net/ipv4/conf/vh$sfx/forwarding)" = 0
# A tunnel record naming another namespace's wireguard-go.
if [ $KWG = 1 ]; then
	t_pass "kernel WireGuard: no wireguard-go to hijack (skipped)"
else
	vc netns-up $N >/dev/null 2>&1
	vc netns-up $N2 >/dev/null 2>&1
	t_check "the second namespace's tunnel up" bash -c "vc wg-up $N2 >/dev/null 2>&1"
	pid2=$(sed -n 's/^pid=//p' $tmp/run/$N2/wg)
	start2=$(sed -n 's/^pidstart=//p' $tmp/run/$N2/wg)
	sock2=$(sed -n 's/^socket=//p' $tmp/run/$N2/wg)
	printf 'implementation=userspace\ntmpname=vc-%s-abcd\nsocket=vc-%s-abcd\npid=%s\npidstart=%s\nstarted=1\n' \
		$N $N "$pid2" "$start2" >$tmp/run/$N/wg
	vc wg-down $N >/dev/null 2>&1
	running() { grep -q '^State:[[:space:]]*[RS]' /proc/$1/status 2>/dev/null; }
	t_check "wg-down of one namespace leaves another's wireguard-go (pid $pid2 in its record) alone" running "$pid2"
	printf 'implementation=userspace\ntmpname=%s\nsocket=%s\npid=%s\npidstart=%s\nstarted=1\n' \
		"$sock2" "$sock2" "$pid2" "$start2" >$tmp/run/$N/wg
	vc wg-down $N >$tmp/hijack.out 2>&1
	t_check "a record with another namespace's socket name is refused" grep -q "reading the wg run file" $tmp/hijack.out
	t_check "... and its wireguard-go still runs" running "$pid2"
	t_check "status of the first does not talk to the second's socket" \
		bash -c "! vc status $N | grep -q '$sock2'"
	# (a zombie counts as gone: its parent, once wg-up, is whoever adopted it)
	vc wg-down $N2 >/dev/null 2>&1; rc=$?
	t_check "control: wg-down of its own namespace stops it" \
		bash -c "[ $rc = 0 ] && { ! test -e /proc/$pid2 || grep -q '^State:.*Z' /proc/$pid2/status; }"
	rm -f $tmp/run/$N/wg
	vc netns-down $N2 >/dev/null 2>&1
	vc netns-down $N >/dev/null 2>&1
fi

snapshot >$tmp/after
if diff -u $tmp/before $tmp/after; then t_pass "host links, addresses, routes, ruleset, sysctls as before"; else t_fail "host state differs after down"; fi
t_check "namespaces gone" bash -c "! test -e /run/netns/$N && ! test -e /run/netns/$N2"
t_check "run directories gone" bash -c "! test -e $tmp/run/$N && ! test -e $tmp/run/$N2"

# --- dual stack: IPv6 through the tunnel only when the wg config has it
N6=v$sfx
umask 077
wg genkey >$tmp/c6.key
wg pubkey <$tmp/c6.key >$tmp/c6.pub
umask 022
p ip -6 addr add fd99::1/64 dev $SRV nodad
p wg set $SRV peer "$(cat $tmp/c6.pub)" allowed-ips 10.99.0.6/32,fd99::6/128
nsenter --net=/run/netns/$PEER python3 -m http.server -b fd99::1 8086 >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do p ss -ltn | grep -q ':8086 ' && break; sleep 0.05; done
cat >$tmp/wg6.conf <<EOF
[Interface]
PrivateKey = $(cat $tmp/c6.key)
Address = 10.99.0.6/32, fd99::6/128
DNS = 10.99.0.1, fd99::1

[Peer]
PublicKey = $(cat $tmp/s.pub)
Endpoint = 10.77.0.2:51820
AllowedIPs = 0.0.0.0/0, ::/0
EOF
chmod 600 $tmp/wg6.conf
cat >$tmp/conf/$N6.ini <<EOF
[Namespace]
WireGuardConfigFile=$tmp/wg6.conf
NamespaceAddress=192.168.153.1
BridgeAddress=192.168.153.5
NamespaceAddressIPv6=fd93:9701:1d53::2
BridgeAddressIPv6=fd93:9701:1d53::1
EOF
t_check "dual-stack namespace up" vc netns-up $N6
t_check "IPv6 enabled on its veth" test "$(inside $N6 cat /proc/sys/net/ipv6/conf/veth-$N6/disable_ipv6)" = 0
t_check "dual-stack tunnel up" bash -c "vc wg-up $N6 >/dev/null 2>&1"
t_check "IPv6 default route via ${N6}0" bash -c "inside $N6 ip -6 route show default | grep -q 'dev ${N6}0'"
t_check "IPv6 DNS host route via ${N6}0" bash -c "inside $N6 ip -6 route show fd99::1 | grep -q 'dev ${N6}0'"
t_check "HTTP over IPv6 through the tunnel" inside $N6 curl -sf -m 5 -o /dev/null "http://[fd99::1]:8086/"
t_check "check passes (dual stack)" vc check $N6
t_check "netns-up for a v4-only tunnel" vc netns-up $N
t_check "v4-only tunnel up" bash -c "vc wg-up $N >/dev/null 2>&1"
t_check "positive control: v4 through the v4-only tunnel" inside $N curl -sf -m 5 -o /dev/null http://10.99.0.1:8080/
t_check "no IPv6 default route in the v4-only namespace" test -z "$(inside $N ip -6 route show default)"
t_check "IPv6 off on the v4-only tunnel" test "$(inside $N cat /proc/sys/net/ipv6/conf/${N}0/disable_ipv6)" = 1
t_check_not "no IPv6 out of the v4-only namespace" inside $N curl -sf -m 2 -o /dev/null "http://[fd99::1]:8086/"
t_check "dual-stack namespace down" vc netns-down $N6
t_check "v4-only namespace down" vc netns-down $N
rm $tmp/conf/$N6.ini

# --- bad inputs leave the host as before
h ip link add name $N-br type bridge
t_check_not "netns-up refuses a bridge name it did not make" bash -c "vc netns-up $N 2>$tmp/clash.err"
t_check "the clash is named" grep -q "$N-br already exists" $tmp/clash.err
t_check "the foreign bridge is left alone" h ip link show dev $N-br
h ip link del $N-br
snapshot >$tmp/after
if diff -u $tmp/before $tmp/after >/dev/null; then t_pass "host as before after the clash"; else t_fail "host changed by a failed netns-up"; fi

t_check "netns-up for the wg tests" vc netns-up $N
write_wg $tmp/bad.conf "PostUp = echo hi"
write_ini $N $tmp/bad.conf 192.168.151.1/24 192.168.151.5/24 8081:8081:tcp
vc wg-up $N >/dev/null 2>$tmp/bad.err
t_check "PostUp: exit 3" test $? = 3
t_check "PostUp: file:line in the message" grep -q "bad.conf:5:" $tmp/bad.err
write_ini $N $tmp/missing.conf 192.168.151.1/24 192.168.151.5/24 8081:8081:tcp
vc wg-up $N >/dev/null 2>&1
t_check "missing wg config: exit 3" test $? = 3
write_wg $tmp/unres.conf "" "no-such-host.invalid:51820"
write_ini $N $tmp/unres.conf 192.168.151.1/24 192.168.151.5/24 8081:8081:tcp
vc wg-up $N >/dev/null 2>$tmp/unres.err
t_check "unresolvable endpoint: exit 1" test $? = 1
t_check "unresolvable endpoint: reason given" grep -q "cannot resolve endpoint no-such-host.invalid" $tmp/unres.err
write_wg $tmp/noroute.conf "" "198.18.255.1:51820"
write_ini $N $tmp/noroute.conf 192.168.151.1/24 192.168.151.5/24 8081:8081:tcp
vc wg-up $N >/dev/null 2>$tmp/noroute.err
t_check "endpoint without a route from the host: exit 1" test $? = 1
t_check "endpoint without a route: reason given" grep -q "no route to endpoint 198.18.255.1" $tmp/noroute.err
t_check "no tunnel left after failed wg-ups" bash -c "! inside $N ip link show dev ${N}0 2>/dev/null && ! test -e $tmp/run/$N/wg"
t_check "base ruleset after failed wg-ups" bash -c "inside $N nft list table inet vpn-confinement | grep -q 'policy drop'"
# Whoever can write the wg config chooses where the tunnel goes: it must be
# root's, writable by no one else, in directories only root can write.
mkdir -p $tmp/own && chmod 755 $tmp/own
own_case() { # DESCRIPTION EXPECTED-TEXT: wg-up with $tmp/own/wg.conf
	write_ini $N $tmp/own/wg.conf 192.168.151.1/24 192.168.151.5/24 8081:8081:tcp
	vc wg-up $N >/dev/null 2>$tmp/own.err
	local rc=$?
	t_check "wg config $1: refused with exit 3 (got $rc)" test $rc = 3
	t_check "wg config $1: the message names the file and the fix" \
		grep -q "$tmp/own/wg.conf: .*$2" $tmp/own.err
}
write_wg $tmp/own/wg.conf ""
chown 65534 $tmp/own/wg.conf
own_case "owned by nobody" "owned by uid 65534, not by root.*chown root:root"
chown 0 $tmp/own/wg.conf && chmod 620 $tmp/own/wg.conf
own_case "writable by its group" "writable by group or others (mode 0620).*chmod 600"
mv $tmp/own/wg.conf $tmp/own/real.conf && chown 65534 $tmp/own/real.conf && chmod 600 $tmp/own/real.conf
ln -s real.conf $tmp/own/wg.conf
own_case "a link to a file owned by nobody" "its target $tmp/own/real.conf is owned by uid 65534"
rm $tmp/own/wg.conf && mv $tmp/own/real.conf $tmp/own/wg.conf && chown 0 $tmp/own/wg.conf
chmod 775 $tmp/own
own_case "in a group-writable directory" "directory $tmp/own is writable by group or others"
chmod 755 $tmp/own && chmod 644 $tmp/own/wg.conf
write_ini $N $tmp/own/wg.conf 192.168.151.1/24 192.168.151.5/24 8081:8081:tcp
t_check "control: the same file root's and 0644 is used" bash -c "vc wg-up $N >/dev/null 2>$tmp/own.err"
t_check "... with a warning that others can read the key" grep -q "accessible by group or others" $tmp/own.err
vc wg-down $N >/dev/null 2>&1
write_ini $N $tmp/wg.conf 192.168.151.1/24 192.168.151.5/24 8081:8081:tcp
sed -i 's/^WireGuardImplementation=auto/WireGuardImplementation=kernel/' $tmp/conf/$N.ini
if [ $KWG = 1 ]; then
	t_pass "kernel WireGuard present: skipping the no-kernel check"
else
	t_check_not "WireGuardImplementation=kernel fails without the module" bash -c "vc wg-up $N >/dev/null 2>&1"
	t_check "nothing left of it" bash -c "! test -e $tmp/run/$N/wg && ! h ip -o link | grep -q vc-$N-"
fi
t_check "netns-down" vc netns-down $N
snapshot >$tmp/after
if diff -u $tmp/before $tmp/after; then t_pass "host as before at the end"; else t_fail "host state differs at the end"; fi

t_done
