# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# A systemd-nspawn container booting this machine's own /usr, with the
# project installed under /usr/local, on the integration lab's "host"
# namespace (tests/integration/lab.sh): for tests/e2e/test-e2e.sh and
# tests/e2e/demo.sh. Source tests/lib.sh, tests/integration/lab.sh, then
# this; call e2e_install before lab_up, e2e_units after it (and after the
# namespace's ini is written), then container_start. e2e_cleanup stops the
# container and tears the lab down (use it as the EXIT trap).
#
# In the container: vcprobe.service (to be confined by the test's ini: a
# client loop to INET:9998 and a server on 8000), vccontrol.service (an
# unconfined client loop to INET:9997); vcsock.socket/.service and
# vcsockfree.socket/.service (socket-activated: a datagram in, one to
# INET:9999 out; confine vcsock.service); confined CMD runs CMD as a
# transient vccmd@X.service (confine vccmd@.service in the ini), unconfined
# CMD as vcfree@X.service; /usr/local/libexec/vc-e2e/attack.sh probes what a
# root process could use to get out.

NSPAWN_PID= LEADER= inst=

# e2e_install: the project built for PREFIX=/usr/local into $inst.
e2e_install() {
	local build=$T_TOP/build/e2e-usrlocal
	inst=$(mktemp -d /tmp/vc-e2e-inst.XXXXXX)
	if ! make -C "$T_TOP" --no-print-directory -s BUILD="$build" PREFIX=/usr/local \
		DESTDIR="$inst" install >"$inst.log" 2>&1; then
		cat "$inst.log"; rm -rf "$inst" "$inst.log"
		return 1
	fi
	rm -f "$inst.log"
}

e2e_cleanup() {
	local rc=$?
	container_stop
	[ -n "$inst" ] && rm -rf "$inst"
	(exit $rc)
	lab_cleanup
}

# e2e_units: the container's own units (its /etc/systemd/system) and programs.
e2e_units() {
units=$LAB_DIR/units
mkdir -p "$units/multi-user.target.wants"
# A machine id of its own, so that the container's first boot does not
# enable every installed unit by preset; nothing here waits for networkd.
tr -dc 0-9a-f </dev/urandom | head -c 32 >"$LAB_DIR/machine-id"; echo >>"$LAB_DIR/machine-id"
ln -s /dev/null "$units/systemd-networkd-wait-online.service"
# In the install tree: a confined service has a /tmp of its own.
probe=$inst/usr/local/libexec/vc-e2e/probe.py
mkdir -p "${probe%/*}"
cat >"$probe" <<'EOF'
# probe.py TAG HOST PORT [LISTEN_PORT]: every 0.5 s, connect to HOST:PORT,
# send "TAG SEQ", log the server's "hello PEER"; optionally also serve
# LISTEN_PORT, answering "TAG here".
import socket, sys, threading, time
tag, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if len(sys.argv) > 4:
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", int(sys.argv[4])))
    srv.listen(8)
    def serve():
        while True:
            c, _ = srv.accept()
            c.sendall(("%s here\n" % tag).encode())
            c.close()
    threading.Thread(target=serve, daemon=True).start()
seq = 0
while True:
    seq += 1
    try:
        s = socket.create_connection((host, port), timeout=2)
        s.sendall(("%s %d\n" % (tag, seq)).encode())
        hello = s.recv(100).decode().strip()
        s.close()
        print("%s %d ok %s" % (tag, seq, hello), flush=True)
    except OSError as e:
        print("%s %d fail %s" % (tag, seq, e), flush=True)
    time.sleep(0.5)
EOF
cat >"$units/vcprobe.service" <<EOF
[Unit]
Description=vpn-confinement e2e: confined probe

[Service]
ExecStart=/usr/bin/python3 /usr/local/libexec/vc-e2e/probe.py vcprobe $INET_IP 9998 8000
EOF
cat >"$units/vccontrol.service" <<EOF
[Unit]
Description=vpn-confinement e2e: unconfined control

[Service]
ExecStart=/usr/bin/python3 /usr/local/libexec/vc-e2e/probe.py vccontrol $INET_IP 9997
EOF
# attack.sh: what a confined root process could try, to leave the
# confinement or read the key (issue 10 item 1); run as a confined unit and,
# for the positive control, as an unconfined one.
attack=$inst/usr/local/libexec/vc-e2e/attack.sh
cat >"$attack" <<'EOF'
#!/bin/sh
# attack.sh RUNDIR NS WGSOCK WGCONF WGTARGET WGPID SUPPID: one line per
# probe, "NAME ok" (it worked), "NAME blocked", or "NAME no-tool" when a
# tool it needs is missing (so that "blocked" never means "could not try").
# Never prints what it reads (the key).
rundir=$1 ns=$2 sock=$3 conf=$4 target=$5 wgpid=$6 suppid=$7
probe() { # NAME TOOL CMD...
	name=$1 tool=$2; shift 2
	if ! command -v "$tool" >/dev/null 2>&1; then echo "$name no-tool"; return; fi
	if "$@" >/dev/null 2>&1; then echo "$name ok"; else echo "$name blocked"; fi
}
# Created and removed again: the control must not leave anything behind.
plant() { touch "$1" && rm -f "$1"; }
probe rundir-create touch plant "$rundir/$ns/vc-e2e-plant"
probe rundir-read test test -e "$rundir/$ns/resolv.conf"
probe netns-etc-create mkdir sh -c "mkdir -p /etc/netns/$ns && touch /etc/netns/$ns/vc-e2e-plant && rm -f /etc/netns/$ns/vc-e2e-plant"
wgget='
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(3)
s.connect(sys.argv[1])
s.sendall(b"get=1\n\n")
data = b""
while not data.endswith(b"\n\n"):
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
sys.exit(0 if b"private_key=" in data and b"errno=0" in data else 1)'
probe wg-sock-get python3 python3 -c "$wgget" "$sock"
probe wg-sock-get-var-run python3 python3 -c "$wgget" "/var/run/wireguard/${sock##*/}"
# A hidden file reads as empty (root may open systemd's 0000 stand-in):
# what counts is whether the key is in what it reads.
probe wg-conf-read grep grep -q PrivateKey "$conf"
probe wg-conf-target-read grep grep -q PrivateKey "$target"
probe ini-read grep grep -q '^\[Namespace\]' "/etc/vpn-confinement/$ns.ini"
probe systemd-run systemd-run systemd-run -q --wait --collect "--unit=vc-e2e-escape-$$.service" /bin/true
probe wireguard-go-environ cat cat "/proc/$wgpid/environ"
probe wireguard-go-root-conf grep grep -q PrivateKey "/proc/$wgpid/root$target"
# (Not pidfd_getfd(): systemd-nspawn's seccomp filter refuses it to every
# process of the container, so it would have no positive control here; the
# kernel asks for the same ptrace access as the two above, and more.)
probe supervisor-environ cat cat "/proc/$suppid/environ"
EOF

# dgram.py: a socket-activated service (Accept=no) for the socket tests.
cat >"$inst/usr/local/libexec/vc-e2e/dgram.py" <<'EOF'
# dgram.py TAG HOST PORT: for each datagram on its ListenDatagram= socket
# (but HOST:PORT's answers), send "TAG SEQ" to HOST:PORT from that same
# socket, and say so.
import os, socket, sys
tag, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
socks = [socket.socket(fileno=fd) for fd in range(3, 3 + int(os.environ["LISTEN_FDS"]))]
s = [x for x in socks if x.type == socket.SOCK_DGRAM][0]
seq = 0
while True:
    data, peer = s.recvfrom(100)
    if peer == (host, port):
        continue
    seq += 1
    s.sendto(("%s %d" % (tag, seq)).encode(), (host, port))
    print("%s %d sent to %s:%d" % (tag, seq, host, port), flush=True)
EOF
# vcsock (to be confined by the test's ini through vcsock.service) and
# vcsockfree, the same pair unconfined: a stream and a datagram socket each.
local name base
for name in vcsock vcsockfree; do
	base=8100; [ "$name" = vcsockfree ] && base=8200
	cat >"$units/$name.socket" <<EOF
[Unit]
Description=vpn-confinement e2e: sockets of $name.service

[Socket]
ListenStream=0.0.0.0:$base
ListenDatagram=0.0.0.0:$((base + 1))
EOF
	cat >"$units/$name.service" <<EOF
[Unit]
Description=vpn-confinement e2e: socket-activated $name

[Service]
ExecStart=/usr/bin/python3 /usr/local/libexec/vc-e2e/dgram.py $name $INET_IP 9999
EOF
done
}

container_start() {
	local log=$LAB_DIR/log/nspawn.log i
	SYSTEMD_NSPAWN_API_VFS_WRITABLE=network setsid systemd-nspawn -q -D / \
		--volatile=yes --register=no --keep-unit \
		--network-namespace-path="/run/netns/$LAB_HOST" \
		--capability=CAP_NET_ADMIN,CAP_NET_RAW --bind=/dev/net/tun \
		--resolv-conf=off --timezone=off \
		--bind-ro=/etc/alternatives --bind-ro="$inst/usr/local:/usr/local" \
		--bind="$LAB_DIR:$LAB_DIR" --bind="$VPN_CONFINEMENT_CONFDIR:/etc/vpn-confinement" \
		--bind="$units:/etc/systemd/system" --bind-ro="$LAB_DIR/machine-id:/etc/machine-id" \
		--boot systemd.firstboot=off </dev/null >>"$log" 2>&1 &
	NSPAWN_PID=$!
	LEADER=
	# The container's PID 1: the child of systemd-nspawn that became systemd.
	for i in $(seq 1 200); do
		for p in $(pgrep -P "$NSPAWN_PID"); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] && LEADER=$p
		done
		[ -n "$LEADER" ] && break
		sleep 0.1
	done
	[ -n "$LEADER" ] || { echo "# the container did not start"; tail -n 20 "$log"; return 1; }
	# Up when the manager has finished booting (degraded is fine here).
	wait_for 90 booted || { echo "# the container did not finish booting"; tail -n 20 "$log"; return 1; }
}
booted() {
	case $(nsenter -t "$LEADER" -a systemctl is-system-running 2>/dev/null) in
	running|degraded) return 0 ;;
	esac
	return 1
}

container_stop() {
	local i
	[ -n "${NSPAWN_PID:-}" ] || return 0
	[ -n "${LEADER:-}" ] && kill -RTMIN+3 "$LEADER" 2>/dev/null
	for i in $(seq 1 150); do
		kill -0 "$NSPAWN_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$NSPAWN_PID" 2>/dev/null && kill -KILL "$NSPAWN_PID" 2>/dev/null
	wait "$NSPAWN_PID" 2>/dev/null
	NSPAWN_PID= LEADER=
}

# in_c CMD...: run CMD inside the container (all its namespaces).
in_c() { nsenter -t "$LEADER" -a "$@"; }
# confined CMD...: run CMD as a confined service; unconfined: as a free one.
# (--collect: a failed one is unloaded too; names unique per call.)
confined() { in_c systemd-run -q --wait --pipe --collect --unit="vccmd@$(date +%s%N).service" "$@"; }
unconfined() { in_c systemd-run -q --wait --pipe --collect --unit="vcfree@$(date +%s%N).service" "$@"; }
ino() { in_c stat -L -c %i "$1" 2>/dev/null; }
mainpid() { in_c systemctl show -p MainPID --value "$1"; }
