# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# `vpn-confinement exec` under real systemd, sourced by test-e2e.sh in its
# container (namespace $N up, its tunnel too): what only a real system has.
# The service manager's private socket and the system bus (a root process
# would start a command outside the namespace through them), the host's
# resolver sockets, resolv.conf behind systemd-resolved's link, the
# generator's nsswitch.conf, a user with supplementary groups, and
# attack.sh, the confined root service's probes (test-e2e.sh), each
# blocked for exec as for the service. Each paired with `ip netns exec` and
# `nsenter --net` in the same container, which get through.
# Needs from test-e2e.sh: N, wg_link, wg_target, in_c, mainpid, t_*.

# xc ARGS...: vpn-confinement exec ARGS in the container, as an admin runs
# it there (the lab's directories are the host-side tiers', not its own).
xc() { in_c env -u VPN_CONFINEMENT_RUNDIR -u VPN_CONFINEMENT_CONFDIR vpn-confinement exec "$@"; }
# ipx / nsx CMD...: the same through ip netns exec / nsenter --net.
ipx() { in_c ip netns exec "$N" "$@"; }
nsx() { in_c nsenter --net="/run/netns/$N" "$@"; }

t_check "exec: it runs in the container's namespace $N" \
	bash -c "[ \"\$(nsenter -t $LEADER -a env -u VPN_CONFINEMENT_RUNDIR -u VPN_CONFINEMENT_CONFDIR vpn-confinement exec $N -- stat -L -c %i /proc/self/ns/net)\" = $(ino "/run/netns/$N") ]"

# The service manager and the system bus.
t_check "exec: control: ip netns exec and nsenter --net see systemd's private socket" \
	bash -c "$(declare -f in_c ipx nsx); N=$N LEADER=$LEADER; ipx test -S /run/systemd/private && nsx test -S /run/systemd/private"
t_check_not "exec: it does not" xc "$N" -- test -S /run/systemd/private
t_check "exec: control: ip netns exec starts a unit outside the namespace with systemd-run" \
	ipx systemd-run -q --wait --collect --unit="vc-e2e-ipx-$$.service" /bin/true
t_check_not "exec: it cannot" xc "$N" -- sh -c "systemd-run -q --wait --collect --unit=vc-e2e-xc-$$.service /bin/true 2>/dev/null"
if in_c test -S /run/dbus/system_bus_socket; then
	t_check "exec: control: nsenter --net sees the system bus" nsx test -S /run/dbus/system_bus_socket
	t_check_not "exec: it does not" xc "$N" -- test -S /run/dbus/system_bus_socket
fi

# The host's resolvers, and resolv.conf behind systemd-resolved's link.
in_c mkdir -p /run/nscd /run/systemd/resolve
in_c rm -f /run/nscd/socket /run/systemd/resolve/io.systemd.Resolve
in_c python3 -c "
import socket
for p in ('/run/nscd/socket', '/run/systemd/resolve/io.systemd.Resolve'):
    socket.socket(socket.AF_UNIX).bind(p)"
in_c sh -c "echo 'nameserver $HOST_INET_IP' >/run/systemd/resolve/stub-resolv.conf && ln -sfn /run/systemd/resolve/stub-resolv.conf /etc/resolv.conf"
t_check "exec: control: ip netns exec and nsenter --net see nscd's and resolved's sockets" \
	bash -c "$(declare -f in_c ipx nsx); N=$N LEADER=$LEADER; ipx test -S /run/nscd/socket && nsx test -S /run/nscd/socket && ipx test -S /run/systemd/resolve/io.systemd.Resolve && nsx test -S /var/run/systemd/resolve/io.systemd.Resolve"
t_check_not "exec: it sees neither (nor through /var/run)" \
	xc "$N" -- sh -c 'ls -A /run/nscd /var/run/nscd /run/systemd/resolve | grep -qE "socket|Resolve"'
t_check "exec: /etc/resolv.conf (a link into /run/systemd/resolve) reads the namespace's" \
	bash -c "[ \"\$($(declare -f in_c xc); N=$N LEADER=$LEADER; xc $N -- grep ^nameserver /etc/resolv.conf)\" = 'nameserver $WG_SRV_IP' ]"
t_check "exec: control: nsenter --net reads the host's stub there" \
	bash -c "[ \"\$($(declare -f in_c nsx); N=$N LEADER=$LEADER; nsx grep ^nameserver /etc/resolv.conf)\" = 'nameserver $HOST_INET_IP' ]"
t_check "exec: getent hosts asks the VPN's resolver ($DNS_VPN_ANSWER)" \
	bash -c "$(declare -f in_c xc); N=$N LEADER=$LEADER; xc $N -- getent hosts probe.test | grep -q '^$DNS_VPN_ANSWER '"
in_c sh -c "rm -f /etc/resolv.conf; echo 'nameserver $HOST_INET_IP' >/etc/resolv.conf; rm -rf /run/nscd /run/systemd/resolve/io.systemd.Resolve"
t_check "exec: its /etc/nsswitch.conf is the generator's (but the header)" \
	bash -c "$(declare -f in_c xc); N=$N LEADER=$LEADER; cmp -s <(xc $N -- grep -v '^#' /etc/nsswitch.conf) <(in_c grep -v '^#' /run/systemd/generator/vpn-confinement/nsswitch.conf)"

# A user with a supplementary group.
in_c sh -c 'getent group vcexecg >/dev/null || groupadd vcexecg; getent passwd vcexecu >/dev/null || useradd -M -G vcexecg vcexecu'
t_check "exec: --user vcexecu runs with its uid, gid and supplementary group" \
	bash -c "$(declare -f in_c xc); N=$N LEADER=$LEADER; [ \"\$(xc --user vcexecu $N -- id)\" = \"\$(in_c id vcexecu)\" ] && xc --user vcexecu $N -- id -Gn | grep -qw vcexecg"

# attack.sh, as the confined root service ran it: every door closed to exec
# (as root, and as another user), every door open to ip netns exec.
x_attack=/usr/local/libexec/vc-e2e/attack.sh
x_sock=$(in_c sh -c 'ls /run/wireguard/*.sock 2>/dev/null' | head -n 1)
x_args=(/run/vpn-confinement "$N" "$x_sock" "$wg_link" "$wg_target" "$(in_c pidof wireguard-go)" "$(mainpid "wg-up@$N.service")")
x_out=$(xc "$N" -- sh "$x_attack" "${x_args[@]}")
x_user=$(xc --user vcexecu "$N" -- sh "$x_attack" "${x_args[@]}")
x_ip=$(ipx sh "$x_attack" "${x_args[@]}")
for p in rundir-create rundir-read netns-etc-create wg-sock-get wg-sock-get-var-run wg-conf-read \
	wg-conf-target-read ini-read systemd-run wireguard-go-environ wireguard-go-root-conf supervisor-environ; do
	t_check "exec: control: ip netns exec, $p works" grep -qx "$p ok" <<<"$x_ip"
	t_check "exec: as root, $p fails" grep -qx "$p blocked" <<<"$x_out"
	t_check "exec: as vcexecu, $p fails" grep -qx "$p blocked" <<<"$x_user"
done
t_check "exec: the tunnel is still up" in_c systemctl is-active -q "wg-up@$N.service"
