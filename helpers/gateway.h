/* SPDX-License-Identifier: MIT */
/* A NAT-PMP gateway (RFC 6886), asked for port mappings through libnatpmp
 * (its request encoding, its retransmission schedule: 250 ms, doubling).
 *
 * The socket is ours, not initnatpmp()'s: made close-on-exec, bound to one
 * interface (N0: NAT-PMP goes only through the tunnel, even when the
 * gateway's address lies in an AccessibleFrom range routed to the veth)
 * and connected to the gateway given, never one guessed from the routes
 * (libnatpmp's guess would be whatever the default route says). Every
 * answer is checked before the library reads it: its length (libnatpmp
 * 20150609 reads 16 bytes whatever arrived), its version and that its
 * opcode answers the request (a UDP answer to a TCP request is dropped).
 * Acts in the network namespace of the caller at gateway_open(). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

enum gateway_proto { GATEWAY_UDP = 1, GATEWAY_TCP = 2 }; /* RFC 6886 opcodes */

struct gateway {
	int fd;
	struct ipaddr addr;
	void *lib; /* natpmp_t */
};

struct gateway_answer {
	unsigned result; /* 0, or the RFC 6886 result code (gateway_result_name) */
	uint16_t internal, external;
	uint32_t lifetime;
	uint32_t epoch; /* seconds since the gateway's mapping table began */
};

/* Open a socket to addr (IPv4) port 5351, bound to ifname. */
int gateway_open(struct gateway *g, const struct ipaddr *addr, const char *ifname);
void gateway_close(struct gateway *g);

/* One mapping request: internal port, suggested external port (0: any),
 * lifetime (0: delete). Waits at most timeout_ms, retransmitting. Returns
 * 0 with *a (a->result may be non-zero: the gateway refused, by code),
 * -ETIMEDOUT when the gateway did not answer, -ECONNREFUSED when an ICMP
 * error said nothing listens there, -EPROTO for an answer of another
 * protocol version, -EPERM when sending was refused (the kill switch
 * drops: the tunnel is not up), another negative errno. */
int gateway_map(struct gateway *g, enum gateway_proto proto, uint16_t internal, uint16_t external,
		uint32_t lifetime, unsigned timeout_ms, struct gateway_answer *a);

/* "Unsupported Version", "Not Authorized/Refused", "Network Failure",
 * "Out of resources", "Unsupported opcode" (RFC 6886 3.5), or
 * "undefined result code" for any other. */
const char *gateway_result_name(unsigned code);
const char *gateway_proto_str(enum gateway_proto p); /* "udp", "tcp" */
