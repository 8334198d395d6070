#!/bin/bash
# Golden tests of `vpn-confinement ruleset N` over tests/ruleset/cases/*, through
# the real parsers, plus property checks on every rendered ruleset. No root.
# Regenerate the goldens after an intended change with:
#   UPDATE=1 tests/ruleset/check-golden.sh   (then review the git diff)
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cases.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The elements of set NAME in a rendered table, one per line.
set_elements() {
	awk -v set="$2" '
		$0 ~ "^\tset " set " \\{$" { inset = 1; next }
		inset && /^\t}/ { exit }
		inset && /elements = \{/ { sub(/.*elements = \{ /, ""); sub(/ \}.*/, ""); gsub(/, /, "\n"); print }
	' "$1"
}

# The last rule of chain NAME in a rendered table (comments left out).
last_rule() {
	awk -v chain="$2" '
		$0 ~ "^\tchain " chain " \\{$" { c = 1; next }
		c && /^\t}/ { print last; exit }
		c && !/^\t\t#/ && NF { last = $0; sub(/^\t+/, "", last) }
	' "$1"
}

# The DNS server addresses of a wg.conf of the tunnel's families, sorted.
wg_dns_expected() {
	local conf=$1 fams=""
	grep -qiE '^\s*Address\s*=.*[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' "$conf" && fams="$fams 4"
	grep -qiE '^\s*Address\s*=.*:' "$conf" && fams="$fams 6"
	grep -iE '^\s*DNS\s*=' "$conf" | sed 's/^[^=]*=//' | tr ',' '\n' | tr -d ' \t\r' |
	while read -r a; do
		case $a in
		*:*) [[ $fams == *6* ]] && echo "$a" ;;
		*[a-z]*) ;; # a search domain
		*.*) [[ $fams == *4* ]] && echo "$a" ;;
		esac
	done | sort -u
}

for case_dir in "$CASES_DIR"/*/; do
	case_dir=${case_dir%/}
	name=$(basename "$case_dir")
	out=$work/$name
	render_case "$case_dir" "$work"
	rc=$?
	if [ $rc -ne 0 ]; then
		t_fail "$name: renders (exit $rc): $(cat "$out"/*.err)"
		continue
	fi
	t_check "$name: no diagnostics for a valid case" test ! -s "$out/default.err"
	if [ -n "${UPDATE:-}" ]; then
		cp "$out/default.nft" "$case_dir/expected.nft"
		echo "updated $case_dir/expected.nft"
	fi
	if diff -u "$case_dir/expected.nft" "$out/default.nft"; then
		t_pass "$name: matches expected.nft"
	else
		t_fail "$name: differs from expected.nft (UPDATE=1 to regenerate after review)"
	fi
	# The base form too, where it is more than the name's (AllowedEgress=).
	if [ -e "$case_dir/expected-base.nft" ]; then
		[ -n "${UPDATE:-}" ] && cp "$out/base.nft" "$case_dir/expected-base.nft"
		if diff -u "$case_dir/expected-base.nft" "$out/base.nft"; then
			t_pass "$name: the base form matches expected-base.nft"
		else
			t_fail "$name: the base form differs from expected-base.nft (UPDATE=1 to regenerate after review)"
		fi
	fi
	t_check "$name: default output is --full then --host" \
		cmp -s "$out/default.nft" <(cat "$out/full.nft"; echo; cat "$out/host.nft")

	# Properties of every form.
	for form in base full; do
		f=$out/$form.nft
		t_check "$name/$form: replaces only its own table, atomically" \
			test "$(grep -c '^table inet \|^delete table inet ' "$f")" = 3 -a \
			"$(grep -c '^table inet vpn-confinement {$\|^delete table inet vpn-confinement$' "$f")" = 3
		t_check_not "$name/$form: no accepting policy in the namespace" grep -q 'policy accept' "$f"
		t_check "$name/$form: input, output, forward drop by policy" \
			test "$(grep -cE 'type filter hook (input|output|forward) priority filter; policy drop;' "$f")" = 3
	done
	t_check_not "$name: never a flush" grep -q flush "$out/default.nft" "$out/base.nft"
	t_check "$name/host: replaces only vpn-confinement-$name" \
		test "$(grep -c "^table inet vpn-confinement-$name {\$\|^delete table inet vpn-confinement-$name\$" "$out/host.nft")" = 3 -a \
		"$(grep -c '^table inet \|^delete table inet ' "$out/host.nft")" = 3
	t_check_not "$name/host: no drop policy on the host" grep -q 'policy drop' "$out/host.nft"
	# Every host filter rule is about our bridge only.
	t_check_not "$name/host: filter rules only on $name-br" \
		awk -v br="\"$name-br\"" '
			/^\tchain (forward|input) \{/ { inf = 1; next }
			inf && /^\t}/ { inf = 0 }
			inf && !/^\t\t(#|type )/ && index($0, "ifname " br " ") == 0 { bad = 1; print "stray: " $0 }
			END { exit !bad }' "$out/host.nft"

	# DNS: the accepts of dns-restrict name exactly the wg config's servers.
	full=$out/full.nft
	got=$( { set_elements "$full" dns4; set_elements "$full" dns6; } | sort -u)
	want=$(wg_dns_expected "$case_dir/wg.conf")
	if [ "$got" = "$want" ]; then
		t_pass "$name: DNS sets are exactly the config's servers ($(echo $want))"
	else
		t_fail "$name: DNS sets [$(echo $got)] want [$(echo $want)]"
	fi
	accepts=$(awk '/^\tchain dns-restrict \{/ { c = 1; next } c && /^\t}/ { exit } c && /accept/' "$full" |
		sed -E 's/^\t+//' | sort)
	want_accepts=$( (grep -q $'^\tset dns4 {' "$full" && echo "oifname \"${name}0\" ip daddr @dns4 ct mark set 0x1 accept"
		grep -q $'^\tset dns6 {' "$full" && echo "oifname \"${name}0\" ip6 daddr @dns6 ct mark set 0x1 accept") | sort)
	t_check "$name: dns-restrict accepts only via ${name}0 to the DNS sets" test "$accepts" = "$want_accepts"
	t_check "$name: dns-restrict ends in a counted drop" \
		sh -c "awk '/^\tchain dns-restrict \\{/ { c = 1; next } c && /^\t}/ { exit } c' '$full' | tail -n 1 | grep -qx '		counter name \"dns_drop\" drop'"
	# The metrics count every final drop (vpn-confinement(8), METRICS): each
	# filter chain ends in a drop through its named counter, declared once.
	for form in base full; do
		for chain in input output forward; do
			t_check "$name/$form: chain $chain ends in a drop counted by ${chain}_drop" \
				test "$(last_rule "$out/$form.nft" "$chain")" = "counter name \"${chain}_drop\" drop"
			t_check "$name/$form: counter ${chain}_drop declared once" \
				test "$(grep -c $'^\tcounter '"${chain}_drop {\$" "$out/$form.nft")" = 1
		done
	done
	for chain in forward input; do
		t_check "$name/host: chain $chain ends in a drop counted by guard_${chain}_drop" \
			test "$(last_rule "$out/host.nft" "$chain")" = "oifname \"$name-br\" counter name \"guard_${chain}_drop\" drop" -o \
			"$(last_rule "$out/host.nft" "$chain")" = "iifname \"$name-br\" counter name \"guard_${chain}_drop\" drop"
	done
	# Router advertisements are never accepted: the only mention is the drop.
	t_check "$name: RA only dropped" test "$(grep -c nd-router-advert "$full")" = 1 -a \
		"$(grep -c 'icmpv6 type { nd-router-advert, nd-redirect } counter name "ra_drop" drop' "$full")" = 1
	# The forwarded port's sets exist only with PortForwarding=natpmp, empty
	# as rendered, and open only on ${name}0 for IPv4.
	if grep -qx 'PortForwarding=natpmp' "$case_dir/ns.ini"; then
		t_check "$name: forwarded_tcp and forwarded_udp, empty" \
			test "$(grep -c $'^\tset forwarded_\\(tcp\\|udp\\) {$' "$full")" = 2 -a \
			-z "$(set_elements "$full" forwarded_tcp; set_elements "$full" forwarded_udp)"
		t_check "$name: the forwarded port opens only on ${name}0, IPv4, new flows" \
			test "$(grep -c '@forwarded_' "$full")" = 2 -a \
			"$(grep -c "^		iifname \"${name}0\" ct state new meta nfproto ipv4 \(tcp\|udp\) dport @forwarded_\(tcp\|udp\) ct mark set 0x1 accept\$" "$full")" = 2
	else
		t_check_not "$name: no forwarded port without PortForwarding=natpmp" grep -q forwarded "$full"
	fi
	# IPv6 leaves via the tunnel only when the wg config has an IPv6 address.
	if grep -qiE '^\s*Address\s*=.*:' "$case_dir/wg.conf"; then
		t_check_not "$name: IPv6 allowed out via ${name}0" grep -q "oifname \"${name}0\" ct state new meta nfproto ipv4 " "$full"
	else
		t_check "$name: only IPv4 out via ${name}0" grep -q "oifname \"${name}0\" ct state new meta nfproto ipv4 ct mark set 0x1 accept" "$full"
		t_check_not "$name: no dns6 without an IPv6 tunnel" grep -q 'set dns6' "$full"
	fi
done

# Bad command lines and configs: exit codes of vpn-confinement(8). Each
# config gets a directory of its own (the loader checks across files).
conf=$work/empty
mkdir -p "$conf"
run() { VPN_CONFINEMENT_CONFDIR=$conf "$BUILD/vpn-confinement" ruleset "$@" >"$work/out" 2>"$work/err"; echo $?; }
newconf() { conf=$work/bad-$1; mkdir -p "$conf"; }
t_check "no name: usage (2)" test "$(run)" = 2
t_check "invalid name: usage (2)" test "$(run 'Bad;name')" = 2
t_check "two forms: usage (2)" test "$(run x --base --host)" = 2
t_check "unknown option: usage (2)" test "$(run x --nope)" = 2
t_check "missing ini: config (3)" test "$(run absent)" = 3
t_check "missing ini: message names the file" grep -q "$conf/absent.ini" "$work/err"
newconf badini
printf '[Namespace]\nWireGuardConfigFile=%s/missing.conf\nFoo=1\n' "$conf" >"$conf/badini.ini"
t_check "bad ini: config (3)" test "$(run badini)" = 3
t_check "bad ini: file:line message" grep -q "badini.ini:3:" "$work/err"
t_check "bad ini: nothing on stdout" test ! -s "$work/out"
newconf nowg
printf '[Namespace]\nWireGuardConfigFile=%s/missing.conf\n' "$conf" >"$conf/nowg.ini"
t_check "missing wg config: config (3)" test "$(run nowg)" = 3
t_check "missing wg config: message names it" grep -q "$conf/missing.conf" "$work/err"
t_check "missing wg config does not matter for --host" test "$(run nowg --host)" = 0
t_check "missing wg config does not matter for --base" test "$(run nowg --base)" = 0
newconf postup
sed 's/^DNS = .*/&\nPostUp = iptables -A FORWARD/' "$CASES_DIR/min4/wg.conf" >"$conf/postup.conf"
chmod 600 "$conf/postup.conf"
printf '[Namespace]\nWireGuardConfigFile=%s/postup.conf\n' "$conf" >"$conf/postup.ini"
t_check "wg config with PostUp: config (3)" test "$(run postup)" = 3
t_check "wg config with PostUp: message says why" grep -q "PostUp" "$work/err"
t_check "wg config with PostUp: nothing on stdout" test ! -s "$work/out"
t_done
