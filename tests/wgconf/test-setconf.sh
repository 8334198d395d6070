#!/bin/bash
# The real `wg setconf` accepts what `vpn-confinement strip` prints, and
# configures exactly what it configures from `wg-quick strip`'s output: both
# are loaded into one wireguard-go interface inside a throwaway network
# namespace, and `wg showconf` must show the same settings after each.
# Host-name endpoints are replaced by "localhost" in both texts (there is no
# DNS in the test namespace; /etc/hosts resolves localhost). ListenPort is
# left out of the comparison: unset or 0 means a random port per load.
set -u
. "$(dirname "$0")/../lib.sh"
here=$T_TOP/tests/wgconf
# The system python (a version manager's shim can take a second to start).
py=/usr/bin/python3; [ -x "$py" ] || py=python3
t_require_root
for tool in wg wg-quick wireguard-go ip nsenter; do
	command -v $tool >/dev/null || { t_fail "$tool is not installed"; t_done; }
done

ns=vcwg$$
ifname=vcwg$$          # <= 15 characters; also names the wireguard-go socket
tmp=$(mktemp -d)
wgpid=
cleanup() {
	[ -n "$wgpid" ] && kill "$wgpid" 2>/dev/null && wait "$wgpid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
chmod 700 "$tmp"

ip netns add "$ns" || { t_fail "cannot create netns $ns"; t_done; }
# wireguard-go in the foreground, started by us, so we end it by its pid.
WG_PROCESS_FOREGROUND=1 nsenter --net=/run/netns/"$ns" wireguard-go -f "$ifname" \
	>"$tmp/wireguard-go.log" 2>&1 &
wgpid=$!
for _ in $(seq 50); do
	[ -S /var/run/wireguard/$ifname.sock ] && break
	sleep 0.1
done
if [ ! -S /var/run/wireguard/$ifname.sock ]; then
	cat "$tmp/wireguard-go.log"
	t_fail "wireguard-go did not come up"
	t_done
fi

localize() { # host-name endpoints to localhost
	sed -E 's/^([[:space:]]*[Ee][Nn][Dd][Pp][Oo][Ii][Nn][Tt][[:space:]]*=[[:space:]]*)[A-Za-z][A-Za-z0-9.-]*[[:space:]]*:/\1localhost:/' "$1"
}

# load TEXTFILE OUT: wg setconf, then the normalised showconf without ListenPort.
load() {
	if ! nsenter --net=/run/netns/"$ns" env WG_ENDPOINT_RESOLUTION_RETRIES=0 \
		wg setconf "$ifname" "$1" 2>"$tmp/setconf.err"; then
		return 1
	fi
	wg showconf "$ifname" >"$tmp/show" &&
		"$py" "$here/normalize-setconf.py" "$tmp/show" | grep -v '^listenport=' >"$2"
}

for conf in "$here"/valid/*.conf; do
	name=${conf##*/}; name=${name%.conf}
	iface=vc$(printf '%s' "$name" | md5sum | cut -c1-8)
	install -m 600 "$conf" "$tmp/$iface.conf"
	sed -i '1s/^\xef\xbb\xbf//' "$tmp/$iface.conf"   # wg-quick does not know the BOM
	"$BUILD/vpn-confinement" strip "$conf" 2>/dev/null >"$tmp/ours.raw" ||
		{ t_fail "$name: strip failed"; continue; }
	wg-quick strip "$tmp/$iface.conf" 2>/dev/null >"$tmp/theirs.raw" ||
		{ t_fail "$name: wg-quick strip failed"; continue; }
	localize "$tmp/ours.raw" >"$tmp/ours"
	localize "$tmp/theirs.raw" >"$tmp/theirs"
	if ! load "$tmp/ours" "$tmp/ours.show"; then
		t_fail "$name: wg setconf refused our output: $(cat "$tmp/setconf.err")"
		continue
	fi
	t_pass "$name: wg setconf accepts the strip output"
	if ! load "$tmp/theirs" "$tmp/theirs.show"; then
		t_fail "$name: wg setconf refused wg-quick's output: $(cat "$tmp/setconf.err")"
		continue
	fi
	if diff -u "$tmp/theirs.show" "$tmp/ours.show"; then
		t_pass "$name: wg showconf is the same as with wg-quick strip"
	else
		t_fail "$name: wg showconf differs from the one with wg-quick strip"
	fi
done

# Control: a config with a different key really shows up as a difference.
"$BUILD/vpn-confinement" strip "$here/valid/mullvad.conf" 2>/dev/null >"$tmp/a"
"$BUILD/vpn-confinement" strip "$here/valid/crlf.conf" 2>/dev/null >"$tmp/b"
sed -i 's/^Endpoint = 185.213.154.68:51820/Endpoint = 185.213.154.69:51820/' "$tmp/b"
load "$tmp/a" "$tmp/a.show" && load "$tmp/b" "$tmp/b.show" &&
	t_check_not "control: a changed endpoint shows in wg showconf" cmp -s "$tmp/a.show" "$tmp/b.show" ||
	t_fail "control: loading failed"
t_done
