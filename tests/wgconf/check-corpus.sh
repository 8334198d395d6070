#!/bin/bash
# The wg-quick corpus through `vpn-confinement strip`:
# - every valid/*.conf is accepted (exit 0, setconf text on stdout);
# - every invalid/NAME.conf is refused with exit 3 (EXIT_CONFIG), nothing on
#   stdout, and exactly the messages in invalid/NAME.expected on stderr;
# - no message ever holds key material: no 8-character piece of any base64
#   run in the input appears in the messages;
# - a config readable by others gets the wg-quick-like warning, a 0600 one not.
set -u
. "$(dirname "$0")/../lib.sh"
here=$T_TOP/tests/wgconf
bin=$BUILD/vpn-confinement

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Prints every 8-character piece of every base64 run of 32+ characters (a key or most of one) in $1.
key_pieces() {
	grep -aoE '[A-Za-z0-9+/=]{32,}' "$1" | awk '{ for (i = 1; i + 7 <= length($0); i++) print substr($0, i, 8) }' | sort -u
}

leaks() { # leaks INPUT MESSAGES: succeeds when a key piece is in the messages
	key_pieces "$1" >"$tmp/pieces"
	[ -s "$tmp/pieces" ] && grep -aqF -f "$tmp/pieces" "$2"
}

for conf in "$here"/valid/*.conf; do
	name=${conf##*/}
	install -m 600 "$conf" "$tmp/$name"
	(cd "$tmp" && "$bin" strip "$name" >"$tmp/out" 2>"$tmp/err"); rc=$?
	if [ $rc -eq 0 ] && grep -q '^PrivateKey = ' "$tmp/out" && grep -q '^\[Peer\]$' "$tmp/out"; then
		t_pass "valid/$name accepted"
	else
		cat "$tmp/err"; t_fail "valid/$name: exit $rc"
	fi
	if grep -aq 'accessible' "$tmp/err"; then t_fail "valid/$name: mode 0600 warned"; fi
	rm -f "$tmp/$name"
done

for conf in "$here"/invalid/*.conf; do
	name=${conf##*/}; base=${name%.conf}
	expected=$here/invalid/$base.expected
	if [ ! -f "$expected" ]; then t_fail "invalid/$name has no $base.expected"; continue; fi
	install -m 600 "$conf" "$tmp/$name"
	(cd "$tmp" && "$bin" strip "$name" >"$tmp/out" 2>"$tmp/err"); rc=$?
	if [ $rc -ne 3 ]; then
		t_fail "invalid/$name: exit $rc, want 3"
	elif [ -s "$tmp/out" ]; then
		t_fail "invalid/$name: printed something on stdout"
	elif ! diff -u "$expected" "$tmp/err"; then
		t_fail "invalid/$name: messages differ from $base.expected"
	else
		t_pass "invalid/$name refused with the expected messages"
	fi
	if leaks "$conf" "$tmp/err"; then
		t_fail "invalid/$name: a message holds key material"
	fi
	rm -f "$tmp/$name"
done

# Control for the leak check itself: it must see a key that is printed.
key_line=$(grep -m1 '^PrivateKey' "$here/valid/mullvad.conf")
echo "oops: $key_line" >"$tmp/leaky"
t_check "leak check detects a printed key" leaks "$here/valid/mullvad.conf" "$tmp/leaky"

# The permission warning, and its control.
install -m 644 "$here/valid/mullvad.conf" "$tmp/open.conf"
"$bin" strip "$tmp/open.conf" >/dev/null 2>"$tmp/err"; rc=$?
t_check "a 0644 config is accepted with a warning" \
	grep -q "open.conf: warning: is accessible by group or others (mode 0644)" "$tmp/err"
[ $rc -eq 0 ] && t_pass "warning does not fail" || t_fail "warning made strip fail ($rc)"
chmod 600 "$tmp/open.conf"
"$bin" strip "$tmp/open.conf" >/dev/null 2>"$tmp/err"
t_check_not "a 0600 config gets no warning" grep -q accessible "$tmp/err"

# Usage errors and unreadable files.
"$bin" strip >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && t_pass "strip without FILE: exit 2" || t_fail "strip without FILE: exit $rc"
"$bin" strip a b >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && t_pass "strip with two FILEs: exit 2" || t_fail "strip with two FILEs: exit $rc"
"$bin" strip "$tmp/missing.conf" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "missing.conf: cannot read: No such file or directory" "$tmp/err" &&
	t_pass "missing file: exit 1 with a message" || t_fail "missing file: exit $rc"

# The size cap: one byte over WGCONF_FILE_MAX (1 MiB).
{ cat "$here/valid/mullvad.conf"; head -c $((1024 * 1024)) /dev/zero | tr '\0' '#'; } >"$tmp/big.conf"
chmod 600 "$tmp/big.conf"
"$bin" strip "$tmp/big.conf" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 3 ] && grep -q "big.conf: file is larger than 1048576 bytes" "$tmp/err" && [ ! -s "$tmp/out" ] &&
	t_pass "file over the size cap refused" || t_fail "file over the size cap: exit $rc: $(cat "$tmp/err")"
t_done
