/* SPDX-License-Identifier: MIT */
/* The health probe of a tunnel (health.h): a packet sent from inside the
 * namespace, through the tunnel, that a live peer answers, so that an idle
 * tunnel is judged too. A DNS query over UDP (the root's NS records, 17
 * bytes, recursion desired) to one of the config's DNS servers, which the
 * namespace ruleset lets through N0; or an ICMP echo request to an address
 * (HealthCheckAddress=), over a raw socket. The socket is made in the
 * namespace and stays there; answers are read and dropped (what counts is
 * that they came: the device's received bytes grow). */
#pragma once

#include <stdint.h>

#include "addr.h"

enum probe_kind { PROBE_DNS, PROBE_ECHO };

struct probe {
	int fd; /* -1: closed */
	enum probe_kind kind;
	struct ipaddr to;
	uint16_t id, seq;
};
#define PROBE_INIT { .fd = -1 }

/* Make the socket in the network namespace open at netns_fd, connected to
 * to (so only its packets come back). */
int probe_open(struct probe *p, enum probe_kind kind, const struct ipaddr *to, int netns_fd);
int probe_send(struct probe *p);
/* Read what came; the number of answers to our probes. */
int probe_drain(struct probe *p);
void probe_close(struct probe *p);
