#!/usr/bin/env python3
# Send one IPv6 router advertisement with a SLAAC prefix (2001:db8:77::/64)
# and a default-router lifetime out of IFNAME, as a rogue router would.
#   send-ra.py IFNAME
import socket
import struct
import sys

ifname = sys.argv[1]
idx = socket.if_nametoindex(ifname)
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
# type 134, code 0, checksum (kernel), hop limit, flags, router lifetime,
# reachable time, retrans timer
ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
# prefix information: type 3, length 4 (x8), /64, on-link + autonomous
pio = struct.pack("!BBBBIII", 3, 4, 64, 0xC0, 86400, 14400, 0)
pio += socket.inet_pton(socket.AF_INET6, "2001:db8:77::")
s.sendto(ra + pio, ("ff02::1", 0, 0, idx))
