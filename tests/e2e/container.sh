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
# unconfined client loop to INET:9997); confined CMD runs CMD as a transient
# vccmd@X.service (confine vccmd@.service in the ini), unconfined CMD as
# vcfree@X.service.

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
