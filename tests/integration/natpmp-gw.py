# SPDX-License-Identifier: MIT
"""A NAT-PMP gateway that behaves like ProtonVPN's (for tests/integration/
test-portfwd.sh): it assigns the public port itself, from its range, and
ignores the ports asked for; the same port for UDP and TCP of one client,
kept while renewed; the client must listen on it. With --dnat it forwards
the port as a provider does (nftables, table inet vcpgw: EXT_IF's port P to
the client's port P).

Its behaviour is read from the --control file before each request:
  ok              answer (the default)
  silent          never answer (a key made without port forwarding)
  noise           before each answer, send a datagram too short to be one
                  and a valid-looking answer for the other protocol (port 1):
                  a client must drop both
  codes 1 2 3 ... answer the next requests with these RFC 6886 result
                  codes, one each, then go on with the rest of the file's
                  lines (or ok)
Each request is logged: "req OP INTERNAL EXTERNAL LIFETIME -> RESULT PORT".

  natpmp-gw.py --listen ADDR --range LO-HI --control FILE --log FILE
               [--dnat EXT_IF] [--ext-ip ADDR]
"""
import argparse
import random
import socket
import struct
import subprocess
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--listen", required=True)
ap.add_argument("--range", required=True)
ap.add_argument("--control", required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--dnat")
ap.add_argument("--ext-ip", default="0.0.0.0")
a = ap.parse_args()
lo, hi = (int(x) for x in a.range.split("-"))
start = time.monotonic()
log = open(a.log, "a", buffering=1)
assigned = {}  # client address -> (port, expires)
consumed = 0   # result codes of the control file already answered


def nft(text):
    subprocess.run(["nft", "-f", "-"], input=text.encode(), check=True)


if a.dnat:
    nft("""table inet vcpgw {}
delete table inet vcpgw
table inet vcpgw {
  map ports { type inet_service : ipv4_addr; }
  chain prerouting { type nat hook prerouting priority dstnat; policy accept;
    iifname "%s" meta l4proto { tcp, udp } dnat ip to th dport map @ports; }
}
""" % a.dnat)


def control():
    """The behaviour for this request."""
    global consumed
    try:
        words = open(a.control).read().split()
    except OSError:
        words = []
    if words[:1] == ["codes"]:
        codes = [int(w) for w in words[1:]]
        if consumed < len(codes):
            consumed += 1
            return ("code", codes[consumed - 1])
        return ("ok", 0)
    consumed = 0
    if words[:1] == ["silent"]:
        return ("silent", 0)
    if words[:1] == ["noise"]:
        return ("noise", 0)
    return ("ok", 0)


def port_for(client, lifetime):
    now = time.monotonic()
    port, expires = assigned.get(client, (0, 0))
    if not port or expires < now or not lo <= port <= hi:
        taken = {p for p, e in assigned.values() if e >= now}
        port = random.choice([p for p in range(lo, hi + 1) if p not in taken])
        if a.dnat:
            nft("add element inet vcpgw ports { %d : %s }\n" % (port, client))
    assigned[client] = (port, now + lifetime)
    return port


s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((a.listen, 5351))
print("ready", file=log)
while True:
    data, peer = s.recvfrom(64)
    if len(data) < 2 or data[0] != 0 or data[1] >= 128:
        continue
    op = data[1]
    epoch = int(time.monotonic() - start)
    mode, code = control()
    if mode == "silent":
        print("req %d silent" % op, file=log)
        continue
    if op == 0:
        s.sendto(struct.pack("!BBHI4s", 0, 128, code, epoch, socket.inet_aton(a.ext_ip)), peer)
        continue
    if op not in (1, 2) or len(data) < 12:
        s.sendto(struct.pack("!BBHI", 0, 128 + op, 5, epoch), peer)
        continue
    internal, external, lifetime = struct.unpack("!HHI", data[4:12])
    if mode == "noise":
        s.sendto(b"\x00\x81", peer)
        s.sendto(struct.pack("!BBHIHHI", 0, 128 + 3 - op, 0, epoch, internal, 1, lifetime), peer)
    port = 0
    if code == 0:
        if lifetime == 0:
            assigned.pop(peer[0], None)
        else:
            lifetime = min(lifetime, 60)
            port = port_for(peer[0], lifetime)
    print("req %d %d %d %d -> %d %d%s" % (op, internal, external, lifetime, code, port,
                                          " noise" if mode == "noise" else ""), file=log)
    s.sendto(struct.pack("!BBHIHHI", 0, 128 + op, code, epoch, internal, port, lifetime if port else 0), peer)
