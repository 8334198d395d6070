#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A slow VPN provider for the health tests: a UDP relay in front of a real
# WireGuard server that delays every datagram, both ways, by DELAY seconds
# (as a congested or far-away server would), and drops none. Each client
# gets an upstream socket of its own, so the server sees one endpoint per
# client.
#   slowpeer.py LISTEN_ADDR LISTEN_PORT SERVER_ADDR SERVER_PORT DELAY LOG
# Logs "ready" once listening, then one line per datagram relayed.
import asyncio
import socket
import sys

listen_addr, listen_port = sys.argv[1], int(sys.argv[2])
server = (sys.argv[3], int(sys.argv[4]))
delay = float(sys.argv[5])
log = open(sys.argv[6], "a", buffering=1)


class Upstream(asyncio.DatagramProtocol):
    def __init__(self, front, client):
        self.front, self.client = front, client

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        loop = asyncio.get_running_loop()
        loop.call_later(delay, self.front.transport.sendto, data, self.client)
        log.write("down %d\n" % len(data))


class Front(asyncio.DatagramProtocol):
    def __init__(self):
        self.upstreams = {}

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        asyncio.get_running_loop().create_task(self.relay(data, addr))

    async def relay(self, data, addr):
        loop = asyncio.get_running_loop()
        # One upstream per client, made once (a future while it is made).
        if addr not in self.upstreams:
            self.upstreams[addr] = loop.create_task(
                loop.create_datagram_endpoint(lambda: Upstream(self, addr), family=socket.AF_INET))
        _, up = await self.upstreams[addr]
        loop.call_later(delay, up.transport.sendto, data, server)
        log.write("up %d\n" % len(data))


async def main():
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(Front, local_addr=(listen_addr, listen_port))
    log.write("ready\n")
    await asyncio.Event().wait()


asyncio.run(main())
