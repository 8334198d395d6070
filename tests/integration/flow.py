#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# One long-lived TCP flow: connect to HOST PORT, then send a numbered line
# every 50 ms for SECONDS, ignoring errors (the path may vanish under it).
#   flow.py HOST PORT SECONDS
import socket
import sys
import time

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection((host, port), timeout=3)
s.setblocking(False)
end = time.monotonic() + seconds
i = 0
while time.monotonic() < end:
    try:
        s.send(b"flow %d\n" % i)
    except OSError:
        pass
    i += 1
    time.sleep(0.05)
