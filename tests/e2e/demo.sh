#!/bin/bash
# The main job, end to end, in a throwaway lab (needs root): a systemd
# container boots with vpn-confinement installed, brings up a namespace
# against the lab's WireGuard VPN provider, shows a confined service's public
# address beside the host's, stops the VPN peer to show the confined traffic
# dropped (not rerouted), restores it to show the traffic resume, and tears
# everything down. Everything lives in network namespaces made for this run;
# nothing touches this machine's own network, and nothing is left behind.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "The demo boots a container and makes network namespaces: run it as root." >&2
	exit 1
fi
for tool in systemd-nspawn wireguard-go dnsmasq curl; do
	command -v "$tool" >/dev/null || { echo "The demo needs $tool (scripts/install-deps.sh installs it)." >&2; exit 1; }
done
. "$here/../integration/lab.sh"
. "$here/container.sh"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
fail() { printf '\n!!! %s\n' "$*"; exit 1; }
# ask WHO: the address the internet's web server sees, from a confined
# (transient) service or from the host; "no answer" after 4 s.
ask() {
	local out
	if [ "$1" = confined ]; then
		out=$(confined curl -s --max-time 4 "http://$INET_IP:8080/" 2>/dev/null)
	else
		out=$(in_c curl -s --max-time 4 "http://$INET_IP:8080/" 2>/dev/null)
	fi
	case $out in peer=*) echo "${out#peer=}" ;; *) echo "no answer" ;; esac
}

say "Building vpn-confinement for /usr/local"
e2e_install || fail "the build failed"
say "Making a throwaway lab: an 'internet' with a web server, a VPN provider (WireGuard server), a LAN"
lab_up >/dev/null || fail "the lab did not come up"
trap e2e_cleanup EXIT
lab_testns N d
lab_client "$N" 0
lab_ini "$N" 0 "" "PortMapping=18000:8000:tcp"
printf '\n[Confinement]\nUnit=vcprobe.service\nUnit=vccmd@.service\n' >>"$VPN_CONFINEMENT_CONFDIR/$N.ini"
e2e_units
echo "The namespace '$N', as /etc/vpn-confinement/$N.ini:"
sed 's/^/    /' "$VPN_CONFINEMENT_CONFDIR/$N.ini"

say "Booting a systemd container (this machine's /usr, its network the lab's 'host'); the generator reads that file"
container_start || fail "the container did not boot"
in_c sh -c "echo 'nameserver $HOST_INET_IP' >/etc/resolv.conf"
echo "It wrote, among others:"
in_c find /run/systemd/generator -name '50-vpn-confinement.conf' | sed 's/^/    /'

say "systemctl start vpn-ns@$N: the namespace, its kill switch, the tunnel"
in_c systemctl start "vpn-ns@$N.service" || fail "vpn-ns@$N did not start"
in_c systemctl --no-pager --plain list-units "netns@$N.service" "wg-up@$N.service" "vpn-ns@$N.service" | sed -n '1,4p' | sed 's/^/    /'

say "Who the internet's web server sees"
t=$(ask confined) h=$(ask host)
printf '    a confined service:  %s   (the tunnel address is %s)\n' "$t" "$(client_ip 0)"
printf '    the host:            %s\n' "$h"
[ "$t" = "$(client_ip 0)" ] || fail "the confined service should be seen from the tunnel address"

say "Stopping the VPN peer (its WireGuard port now drops everything)"
in_inet nft -f - <<EOF2
table inet vcdemo {
	chain input { type filter hook input priority -10; udp dport $WG_PORT drop; }
}
EOF2
t=$(ask confined) h=$(ask host)
printf '    a confined service:  %s   (its traffic goes only into the tunnel, never the host'"'"'s way)\n' "$t"
printf '    the host:            %s\n' "$h"
[ "$t" = "no answer" ] || fail "the confined service should get no answer"

say "Restoring the VPN peer"
in_inet nft delete table inet vcdemo
for i in 1 2 3 4 5 6; do
	t=$(ask confined)
	[ "$t" = "$(client_ip 0)" ] && break
done
printf '    a confined service:  %s   (again through the tunnel, nothing restarted)\n' "$t"
[ "$t" = "$(client_ip 0)" ] || fail "the confined service should be back"

say "Tearing everything down: systemctl stop vpn-ns@$N, the container, the lab"
in_c systemctl stop "vpn-ns@$N.service"
container_stop
trap - EXIT
# (lab_cleanup ends with exit: in a subshell, so that the check below runs.)
(lab_cleanup) >/dev/null 2>&1
rm -rf "$inst"
sleep 0.5
left=$(ip netns list | grep -c "^vcl$LAB_SFX")
[ "$left" = 0 ] && echo "    Nothing is left behind." || fail "$left lab namespaces are left"
exit 0
