#!/bin/bash
# The main job (make demo, the README's first command):
# 1. what vpn-confinement would load for the example namespace "tr"
#    (examples/): its rulesets and the wg(8) part of its WireGuard config;
#    this part needs no root and touches nothing;
# 2. as root, the whole thing end to end in a throwaway lab (tests/e2e/demo.sh):
#    a systemd container confines a service to a namespace whose tunnel goes
#    to the lab's WireGuard peer, shows its traffic leave through the tunnel,
#    dropped while the peer is down, resuming after; nothing is left behind.
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

echo
if [ "$(id -u)" -ne 0 ]; then
	echo "### The end-to-end part boots a container and makes network namespaces:"
	echo "### run 'make demo' as root for it."
	exit 0
fi
echo "### End to end, in a throwaway lab (tests/e2e/demo.sh)"
BUILD=$build exec "$top/tests/e2e/demo.sh"
