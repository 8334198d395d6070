#!/bin/bash
# The main job, as far as it runs without root: render what vpn-confinement
# would load for the example namespace "tr" (examples/), and the wg(8) part of
# its WireGuard config. Reads only the repo's examples; touches nothing.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The example ini names /etc/vpn-confinement/tr.conf; point it at a private
# copy of the example wg config instead.
install -m 0600 "$top/examples/wg/tr.conf" "$tmp/tr.conf"
sed "s|^WireGuardConfigFile=.*|WireGuardConfigFile=$tmp/tr.conf|" \
	"$top/examples/vpn-confinement/tr.ini" >"$tmp/tr.ini"

echo "### The example namespace: examples/vpn-confinement/tr.ini"
grep -v '^#' "$top/examples/vpn-confinement/tr.ini"
echo
echo "### vpn-confinement ruleset tr"
echo "### (inside the namespace: the kill switch loaded first, then the full table;"
echo "###  on the host: port mappings and the guard)"
VPN_CONFINEMENT_CONFDIR=$tmp "$build/vpn-confinement" ruleset tr --base
VPN_CONFINEMENT_CONFDIR=$tmp "$build/vpn-confinement" ruleset tr
echo
echo "### vpn-confinement strip examples/wg/tr.conf (what 'wg setconf' is fed)"
"$build/vpn-confinement" strip "$tmp/tr.conf" | sed 's/^\(PrivateKey\|PresharedKey\) = .*/\1 = (hidden here; the example file has it)/'
