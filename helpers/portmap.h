/* SPDX-License-Identifier: MIT */
/* What to ask a NAT-PMP gateway for, and what its answers mean, for one
 * forwarded port over UDP and TCP (the decisions; the asking is the
 * caller's, through ask(): gateway_map() in port-forward, a simulated
 * gateway in tests/unit/test-portmap.c).
 *
 * Two kinds of gateway answer NAT-PMP for VPN providers:
 *  - one that assigns the port itself (ProtonVPN): it ignores the ports
 *    asked for and forwards its public port P to the same port P of the
 *    client. Its own clients ask for internal port 0, external port 1.
 *  - a standard RFC 6886 gateway (miniupnpd): it maps the external port
 *    asked for, when free, to the internal port asked for; it refuses
 *    internal port 0.
 * So the first request is the provider's (0, 1): an answer means the
 * gateway assigns; "Not Authorized/Refused" means a standard one, which is
 * then asked for the port P it should map to the same P (the port the other
 * protocol just got, else the current port, else a random one of the
 * dynamic range 49152-65535). When it maps
 * another port X instead (P taken), the mapping X -> P is deleted and X ->
 * X asked for; when P is refused, another random port is tried once.
 * The client always listens on the public port. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "gateway.h"

enum portmap_kind { PORTMAP_UNKNOWN, PORTMAP_ASSIGNS, PORTMAP_STANDARD };
const char *portmap_kind_str(enum portmap_kind k); /* "unknown", "assigns", "standard" */

/* One request to the gateway (gateway_map()'s contract). */
typedef int (*portmap_ask_fn)(void *userdata, enum gateway_proto proto, uint16_t internal, uint16_t external,
			      uint32_t lifetime, struct gateway_answer *a);

/* Index of a protocol in the arrays below: 0 UDP, 1 TCP. */
#define PORTMAP_IDX(proto) ((proto) == GATEWAY_TCP ? 1 : 0)

struct portmap {
	enum portmap_kind kind;
	/* The last port mapped (0: none yet), by PORTMAP_IDX: what a
	 * standard gateway is asked for again, also after a failure. */
	uint16_t port[2];
	/* A random port of the dynamic range; tests set their own. */
	uint16_t (*random_port)(void);
};

/* What one cycle got, by protocol. */
struct portmap_result {
	uint16_t port[2];     /* 0 when that protocol failed */
	uint32_t lifetime[2]; /* granted */
	uint32_t epoch[2];    /* the gateway's seconds since its table began */
	int error[2];         /* 0; a negative errno (-ETIMEDOUT: no answer); or
			       * a positive RFC 6886 result code */
};

/* Ask for both protocols (UDP first, as ProtonVPN's own client does) and
 * update pm. Messages (a gateway found to assign, a port moved) are
 * logged with the prefix who. Returns how many were mapped (0, 1, 2);
 * res says what each got. */
int portmap_cycle(struct portmap *pm, const char *who, portmap_ask_fn ask, void *userdata, uint32_t lifetime,
		  struct portmap_result *res);

/* A new tunnel session (or gateway): ask from the start again, keeping
 * the ports as what to ask a standard gateway for. */
void portmap_reset(struct portmap *pm);

/* The port the client is told: TCP's, else UDP's; 0 when none. */
uint16_t portmap_result_port(const struct portmap_result *res);

/* One line for an error of res (negative errno or result code). */
const char *portmap_error_str(int error, char *buf, size_t size);
