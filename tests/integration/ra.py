#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Send one IPv6 router advertisement on an interface, built by hand on a raw
# AF_PACKET socket (so it works whatever the interface's own IPv6 state):
# from fe80::5 to ff02::1, router lifetime 1800 s, with an autonomous
# on-link prefix.   ra.py IFNAME PREFIX   (PREFIX: an IPv6 /64, e.g. 2001:db8:99::)
import socket
import struct
import sys

ifname, prefix = sys.argv[1], sys.argv[2]
src_mac = bytes.fromhex("020000000005")
dst_mac = bytes.fromhex("333300000001")
src = socket.inet_pton(socket.AF_INET6, "fe80::5")
dst = socket.inet_pton(socket.AF_INET6, "ff02::1")

# Prefix information: type 3, len 4, /64, flags L|A, valid/preferred lifetimes.
pio = struct.pack("!BBBBIII16s", 3, 4, 64, 0xC0, 86400, 14400, 0,
                  socket.inet_pton(socket.AF_INET6, prefix))
slla = struct.pack("!BB6s", 1, 1, src_mac)  # source link-layer address
# RA: type 134, code 0, checksum, cur hop limit 64, flags 0, router lifetime
# 1800, reachable 0, retrans 0.
body = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0) + slla + pio


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


pseudo = src + dst + struct.pack("!I3xB", len(body), 58)
c = csum(pseudo + body)
body = body[:2] + struct.pack("!H", c) + body[4:]
ip6 = struct.pack("!IHBB16s16s", 6 << 28, len(body), 58, 255, src, dst)
frame = dst_mac + src_mac + struct.pack("!H", 0x86DD) + ip6 + body

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
for _ in range(2):
    s.send(frame)
