#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Lab servers for the integration tests: one process serving several ports
# on the wildcard address (IPv4 and IPv6 when the namespace has IPv6), each
# event logged as one line "PROTO PORT PEER" to LOG, so a test can tell
# which server saw which source address. Exits when its parent test kills it.
#   labsrv.py LOG SPEC...   SPEC = http:PORT | tcp:PORT | udp:PORT
# http: answers any GET with "peer=ADDR\n"; tcp: logs the connection, writes
# "hello ADDR\n" and then logs every line it receives (as "tcpdata PORT PEER");
# udp: logs each datagram and answers "peer=ADDR\n".
import selectors
import socket
import sys

log_path = sys.argv[1]
log = open(log_path, "a", buffering=1)


def peer_str(addr):
    host = addr[0]
    if host.startswith("::ffff:"):
        host = host[7:]
    return host


IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)


def listen(kind, port):
    for family in (socket.AF_INET6, socket.AF_INET):
        try:
            s = socket.socket(family, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
        except OSError:
            continue
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # UDP answers leave from the address the datagram came to
            # (PKTINFO), not from what routing picks for a wildcard socket.
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                if kind == "udp":
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
                s.bind(("::", port))
            else:
                if kind == "udp":
                    s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
                s.bind(("0.0.0.0", port))
        except OSError:
            s.close()
            continue
        if kind != "udp":
            s.listen(64)
        s.setblocking(False)
        return s
    raise SystemExit("labsrv: cannot listen on %s:%d" % (kind, port))


sel = selectors.DefaultSelector()
for spec in sys.argv[2:]:
    kind, port = spec.split(":")
    s = listen(kind, int(port))
    sel.register(s, selectors.EVENT_READ, ("listen", kind, int(port)))
log.write("ready\n")

while True:
    for key, _ in sel.select():
        what = key.data
        sock = key.fileobj
        if what[0] == "listen":
            _, kind, port = what
            if kind == "udp":
                try:
                    data, anc, _, addr = sock.recvmsg(65535, 256)
                except OSError:
                    continue
                p = peer_str(addr)
                log.write("udp %d %s\n" % (port, p))
                reply_anc = []
                for level, typ, cdata in anc:
                    if (level, typ) in ((socket.IPPROTO_IPV6, socket.IPV6_PKTINFO),
                                        (socket.IPPROTO_IP, IP_PKTINFO)):
                        if level == socket.IPPROTO_IP:
                            # in_pktinfo: ifindex, spec_dst, addr: send from addr
                            cdata = cdata[:4] + cdata[8:12] + cdata[8:12]
                        reply_anc = [(level, typ, cdata)]
                try:
                    sock.sendmsg([("peer=%s\n" % p).encode()], reply_anc, 0, addr)
                except OSError:
                    pass
                continue
            try:
                conn, addr = sock.accept()
            except OSError:
                continue
            p = peer_str(addr)
            log.write("%s %d %s\n" % (kind, port, p))
            conn.setblocking(False)
            if kind == "tcp":
                try:
                    conn.send(("hello %s\n" % p).encode())
                except OSError:
                    pass
            sel.register(conn, selectors.EVENT_READ, ("conn", kind, port, p, bytearray()))
        else:
            _, kind, port, p, buf = what
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                sel.unregister(sock)
                sock.close()
                continue
            buf += data
            if kind == "http":
                if b"\r\n\r\n" in buf or b"\n\n" in buf:
                    body = ("peer=%s\n" % p).encode()
                    try:
                        sock.send(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                                  b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
                    except OSError:
                        pass
                    sel.unregister(sock)
                    sock.close()
                continue
            while b"\n" in buf:
                line, _, rest = bytes(buf).partition(b"\n")
                buf[:] = rest
                log.write("tcpdata %d %s %s\n" % (port, p, line.decode(errors="replace")))
