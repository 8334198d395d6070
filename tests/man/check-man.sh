#!/bin/bash
# Man pages: every man/*.[0-9] renders without a single groff/man warning,
# has a NAME line that mandb can index, and `make install` puts it where
# man(1) finds it under $(MANDIR)/manN/.
. "$(dirname "$0")/../lib.sh"
cd "$T_TOP" || exit 1

pages=(man/*.[0-9])
if [ ! -e "${pages[0]}" ]; then
	t_fail "no man pages in man/"
	t_done
fi

# The pages DESIGN.md promises.
for want in vpn-confinement.8 vpn-confinement-generator.8 vpn-confinement.ini.5; do
	t_check "man/$want exists" test -f "man/$want"
done

for page in "${pages[@]}"; do
	warnings=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" 2>&1 >/dev/null)
	if [ -z "$warnings" ]; then
		t_pass "$page renders without warnings"
	else
		t_fail "$page renders with warnings:"
		printf '%s\n' "$warnings" | sed 's/^/    /'
	fi
	if lexgrog "$page" >/dev/null 2>&1; then
		t_pass "$page has a NAME section mandb can parse"
	else
		t_fail "$page: lexgrog cannot parse its NAME section"
	fi
done

# Install into a scratch root, without rebuilding (check-scripts built
# `all` in $BUILD just before, possibly with sanitizer flags).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=$tmp/install.log
if make --no-print-directory -C "$T_TOP" -o all install DESTDIR="$tmp/root" PREFIX=/usr \
	BUILD="$BUILD" >"$log" 2>&1; then
	t_pass "make install DESTDIR=... succeeds"
else
	t_fail "make install DESTDIR=... failed:"
	sed 's/^/    /' "$log"
fi
for page in "${pages[@]}"; do
	name=${page##*/}
	sec=${name##*.}
	dest=$tmp/root/usr/share/man/man$sec/$name
	if [ -f "$dest" ] && cmp -s "$page" "$dest"; then
		t_pass "$name installed as /usr/share/man/man$sec/$name"
	else
		t_fail "$name not installed as /usr/share/man/man$sec/$name"
	fi
	# man(1) finds it by name and section in the installed tree.
	if [ -f "$dest" ] && MANWIDTH=80 man -M "$tmp/root/usr/share/man" "$sec" "${name%.*}" >/dev/null 2>&1; then
		t_pass "man -M ... $sec ${name%.*} finds the installed page"
	else
		t_fail "man -M ... $sec ${name%.*} does not find the installed page"
	fi
done
t_done
