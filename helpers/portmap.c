/* SPDX-License-Identifier: MIT */
#include "portmap.h"

#include <stdio.h>
#include <sys/random.h>

#include "log.h"
#include "util.h"

#define DYNAMIC_FIRST 49152
#define RESULT_REFUSED 2

const char *portmap_kind_str(enum portmap_kind k) {
	switch (k) {
	case PORTMAP_ASSIGNS:
		return "assigns";
	case PORTMAP_STANDARD:
		return "standard";
	default:
		return "unknown";
	}
}

static uint16_t random_dynamic_port(void) {
	uint16_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint16_t)getpid();
	return (uint16_t)(DYNAMIC_FIRST + r % (65536 - DYNAMIC_FIRST));
}

void portmap_reset(struct portmap *pm) { pm->kind = PORTMAP_UNKNOWN; }

uint16_t portmap_result_port(const struct portmap_result *res) {
	return res->port[PORTMAP_IDX(GATEWAY_TCP)] ?: res->port[PORTMAP_IDX(GATEWAY_UDP)];
}

const char *portmap_error_str(int error, char *buf, size_t size) {
	if (error > 0)
		snprintf(buf, size, "the gateway answered %s (result code %d)", gateway_result_name((unsigned)error),
			 error);
	else if (error == -ETIMEDOUT)
		snprintf(buf, size, "no answer from the gateway: likely a key made without port forwarding, "
				    "or a server or provider without it");
	else if (error == -ECONNREFUSED)
		snprintf(buf, size, "the gateway refused the connection (ICMP): nothing answers NAT-PMP there");
	else if (error == -EPROTO)
		snprintf(buf, size, "the gateway answered another protocol version (PCP?), not NAT-PMP");
	else if (error == -EPERM)
		snprintf(buf, size, "sending was refused: the tunnel is not up (the kill switch drops)");
	else if (error == -EBADMSG)
		snprintf(buf, size, "the gateway mapped port 0");
	else if (error == -EADDRINUSE)
		snprintf(buf, size, "the gateway moved the port again: it is taken");
	else
		snprintf(buf, size, "%s", strerror(-error));
	return buf;
}

struct asker {
	portmap_ask_fn ask;
	void *userdata;
	uint32_t lifetime;
	const char *who;
};

/* One request; a success with port 0 is no success. Returns 0 (a->result
 * 0, a->external set), a positive result code, or a negative errno. */
static int ask(const struct asker *k, enum gateway_proto proto, uint16_t internal, uint16_t external,
	       uint32_t lifetime, struct gateway_answer *a) {
	int r = k->ask(k->userdata, proto, internal, external, lifetime, a);

	if (r < 0)
		return r;
	if (a->result != 0)
		return (int)a->result;
	if (lifetime != 0 && a->external == 0)
		return -EBADMSG;
	return 0;
}

/* A standard gateway: want -> want; a moved port's mapping deleted and its
 * own port asked for. */
static int map_standard(const struct asker *k, enum gateway_proto proto, uint16_t want,
			struct gateway_answer *a) {
	const char *p = gateway_proto_str(proto);
	struct gateway_answer del;
	uint16_t moved;
	int r;

	r = ask(k, proto, want, want, k->lifetime, a);
	if (r != 0 || a->external == want)
		return r;
	moved = a->external;
	log_msg("%s: the gateway mapped %s port %u instead of %u (taken there): asking for %u itself", k->who, p,
		moved, want, moved);
	ask(k, proto, want, moved, 0, &del);
	r = ask(k, proto, moved, moved, k->lifetime, a);
	if (r != 0 || a->external == moved)
		return r;
	ask(k, proto, moved, a->external, 0, &del);
	return -EADDRINUSE;
}

/* hint: the port the other protocol got in this cycle (0: none), asked
 * for first, so that the client has one port for both. */
static int map_one(struct portmap *pm, const struct asker *k, enum gateway_proto proto, uint16_t hint,
		   struct gateway_answer *a) {
	int i = PORTMAP_IDX(proto), other = 1 - i, r;
	uint16_t want;

	if (pm->kind != PORTMAP_STANDARD) {
		/* The provider's own request: internal 0, external 1. */
		r = ask(k, proto, 0, 1, k->lifetime, a);
		if (r == 0) {
			if (pm->kind == PORTMAP_UNKNOWN)
				log_msg("%s: the gateway assigns the port itself (as ProtonVPN's does)", k->who);
			pm->kind = PORTMAP_ASSIGNS;
			return 0;
		}
		if (pm->kind == PORTMAP_ASSIGNS || r != RESULT_REFUSED)
			return r;
		log_msg("%s: the gateway refuses internal port 0: a standard NAT-PMP gateway, asked for the port "
			"to map",
			k->who);
		pm->kind = PORTMAP_STANDARD;
	}
	want = hint ?: pm->port[i] ?: pm->port[other];
	if (!want)
		want = pm->random_port();
	r = map_standard(k, proto, want, a);
	if (r == RESULT_REFUSED && (want == pm->port[i] || want == pm->port[other] || want == hint)) {
		uint16_t fresh = pm->random_port();
		if (fresh == want)
			fresh = (uint16_t)(fresh == 65535 ? DYNAMIC_FIRST : fresh + 1);
		log_msg("%s: the gateway refuses %s port %u now: asking for %u", k->who, gateway_proto_str(proto),
			want, fresh);
		r = map_standard(k, proto, fresh, a);
	}
	return r;
}

int portmap_cycle(struct portmap *pm, const char *who, portmap_ask_fn askfn, void *userdata, uint32_t lifetime,
		  struct portmap_result *res) {
	static const enum gateway_proto order[] = { GATEWAY_UDP, GATEWAY_TCP };
	const struct asker k = { .ask = askfn, .userdata = userdata, .lifetime = lifetime, .who = who };
	int ok = 0;

	*res = (struct portmap_result){ 0 };
	if (!pm->random_port)
		pm->random_port = random_dynamic_port;
	for (size_t n = 0; n < ELEMENTSOF(order); n++) {
		enum gateway_proto proto = order[n];
		int i = PORTMAP_IDX(proto);
		struct gateway_answer a;
		int r = map_one(pm, &k, proto, res->port[1 - i], &a);

		if (r != 0) {
			res->error[i] = r;
			/* No answer at all: the other protocol would wait as long. */
			if (r == -ETIMEDOUT || r == -EPERM) {
				res->error[1 - i] = r;
				break;
			}
			continue;
		}
		res->port[i] = pm->port[i] = a.external;
		res->lifetime[i] = a.lifetime;
		res->epoch[i] = a.epoch;
		ok++;
	}
	return ok;
}
