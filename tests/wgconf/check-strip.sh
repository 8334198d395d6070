#!/bin/bash
# `vpn-confinement strip` agrees with the real `wg-quick strip` (wireguard-
# tools) on every valid config of the corpus: both outputs, reduced to their
# set of settings with wg(8)'s reading rules, must be equal.
# wg-quick needs root (it re-execs itself with sudo otherwise) and a file
# named IFACE.conf, so each config is copied into a private temp dir.
set -u
. "$(dirname "$0")/../lib.sh"
here=$T_TOP/tests/wgconf
# The system python (a version manager's shim can take a second to start).
py=/usr/bin/python3; [ -x "$py" ] || py=python3
t_require_root
command -v wg-quick >/dev/null || { t_fail "wg-quick (wireguard-tools) is not installed"; t_done; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 700 "$tmp"

for conf in "$here"/valid/*.conf; do
	name=${conf##*/}; name=${name%.conf}
	# wg-quick takes the interface name from the file name: [a-zA-Z0-9_=+.-]{1,15}.
	iface=vc$(printf '%s' "$name" | md5sum | cut -c1-8)
	install -m 600 "$conf" "$tmp/$iface.conf"
	# wg-quick does not know the UTF-8 byte order mark (wg would reject the
	# "[Interface]" line behind it); we accept it, so give wg-quick the same
	# file without it.
	sed -i '1s/^\xef\xbb\xbf//' "$tmp/$iface.conf"
	if ! wg-quick strip "$tmp/$iface.conf" >"$tmp/theirs" 2>"$tmp/theirs.err"; then
		t_fail "$name: wg-quick strip failed: $(cat "$tmp/theirs.err")"
		continue
	fi
	if ! "$BUILD/vpn-confinement" strip "$conf" >"$tmp/ours" 2>"$tmp/ours.err"; then
		t_fail "$name: vpn-confinement strip failed: $(cat "$tmp/ours.err")"
		continue
	fi
	"$py" "$here/normalize-setconf.py" "$tmp/theirs" >"$tmp/theirs.norm" &&
		"$py" "$here/normalize-setconf.py" "$tmp/ours" >"$tmp/ours.norm" ||
		{ t_fail "$name: normalising failed"; continue; }
	if [ ! -s "$tmp/ours.norm" ] || ! grep -q '^privatekey=' "$tmp/ours.norm"; then
		t_fail "$name: normalised output is empty"
		continue
	fi
	if diff -u "$tmp/theirs.norm" "$tmp/ours.norm" >"$tmp/diff"; then
		t_pass "$name: same settings as wg-quick strip"
	else
		cat "$tmp/diff"
		t_fail "$name: settings differ from wg-quick strip"
	fi
done

# The same over variants of the corpus that wg-quick reads the same way
# (case, blanks, comments, line ends): both must still agree.
variants=0 agreeing=0
for seed in $(seq 1 60); do
	set -- "$here"/valid/*.conf
	shift $((seed % $#))
	conf=$1 name=${1##*/}
	"$py" "$here/mutate-config.py" "$conf" "$seed" >"$tmp/variant.conf" || continue
	install -m 600 "$tmp/variant.conf" "$tmp/vcvariant.conf"
	sed -i '1s/^\xef\xbb\xbf//' "$tmp/vcvariant.conf"
	variants=$((variants + 1))
	if ! "$BUILD/vpn-confinement" strip "$tmp/variant.conf" >"$tmp/ours" 2>"$tmp/ours.err"; then
		t_fail "variant $seed of $name: vpn-confinement refused it: $(head -n1 "$tmp/ours.err")"
		cp "$tmp/variant.conf" "$tmp/failed-variant.conf"
		continue
	fi
	if ! wg-quick strip "$tmp/vcvariant.conf" >"$tmp/theirs" 2>"$tmp/theirs.err"; then
		t_fail "variant $seed of $name: wg-quick refused it: $(head -n1 "$tmp/theirs.err")"
		continue
	fi
	"$py" "$here/normalize-setconf.py" "$tmp/ours" >"$tmp/ours.norm"
	"$py" "$here/normalize-setconf.py" "$tmp/theirs" >"$tmp/theirs.norm"
	if cmp -s "$tmp/ours.norm" "$tmp/theirs.norm"; then
		agreeing=$((agreeing + 1))
	else
		diff -u "$tmp/theirs.norm" "$tmp/ours.norm"
		t_fail "variant $seed of $name: settings differ from wg-quick strip"
	fi
done
[ "$variants" -ge 60 ] && [ "$agreeing" -eq "$variants" ] &&
	t_pass "$agreeing of $variants variants agree with wg-quick strip" ||
	t_fail "$agreeing of $variants variants agree with wg-quick strip"

# Control: the comparison notices one changed setting.
"$BUILD/vpn-confinement" strip "$here/valid/multipeer.conf" 2>/dev/null |
	sed 's|^AllowedIPs = 10.10.2.0/24|AllowedIPs = 10.10.3.0/24|' >"$tmp/changed"
"$py" "$here/normalize-setconf.py" "$here/valid/multipeer.conf" | grep -v -e '^address=' -e '^dns=' \
	-e '^mtu=' -e '^saveconfig=' -e '^table=' >"$tmp/orig.norm"
"$py" "$here/normalize-setconf.py" "$tmp/changed" >"$tmp/changed.norm"
t_check_not "control: a changed AllowedIPs entry is seen as a difference" \
	cmp -s "$tmp/orig.norm" "$tmp/changed.norm"
"$BUILD/vpn-confinement" strip "$here/valid/multipeer.conf" 2>/dev/null >"$tmp/same"
"$py" "$here/normalize-setconf.py" "$tmp/same" >"$tmp/same.norm"
t_check "control: the unchanged output compares equal" cmp -s "$tmp/orig.norm" "$tmp/same.norm"
t_done
