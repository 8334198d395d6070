/* SPDX-License-Identifier: MIT */
/* What port-forward asks a NAT-PMP gateway and how it reads the answers
 * (helpers/portmap.h), against simulated gateways: a standard one that
 * behaves as miniupnpd 2.3.1 does (refuses internal port 0; maps the port
 * asked for when free and allowed, else looks upward for one; deletes by
 * external port), an older one that refuses a port it may not map, one
 * that assigns the port itself (ProtonVPN's), one answering a result code,
 * one silent. The lab (tests/integration/test-portfwd.sh) runs the real
 * miniupnpd and the real protocol; this covers the decisions exhaustively. */
#include "portmap.h"
#include "test.h"
#include "util.h"

#define MAXREQ 64

struct req {
	enum gateway_proto proto;
	uint16_t internal, external;
	uint32_t lifetime;
};

struct sim {
	enum { STANDARD, REFUSING, ASSIGNS, CODE, SILENT, ZERO } kind;
	/* STANDARD/REFUSING: who holds each external port, by protocol
	 * index: 0 free, 1 us (internal port in iport), 2 someone else. */
	uint8_t owner[2][65536];
	uint16_t iport[2][65536];
	uint16_t allow_lo, allow_hi;
	/* ASSIGNS: the port it gives, by protocol index. */
	uint16_t assigned[2];
	unsigned code;
	struct req reqs[MAXREQ];
	size_t n;
};

static int sim_ask(void *userdata, enum gateway_proto proto, uint16_t internal, uint16_t external, uint32_t lifetime,
		   struct gateway_answer *a) {
	struct sim *s = userdata;
	int i = PORTMAP_IDX(proto);

	if (s->n < MAXREQ)
		s->reqs[s->n++] = (struct req){ proto, internal, external, lifetime };
	*a = (struct gateway_answer){ .internal = internal, .lifetime = lifetime, .epoch = 100 };
	switch (s->kind) {
	case SILENT:
		return -ETIMEDOUT;
	case CODE:
		a->result = s->code;
		return 0;
	case ZERO:
		return 0;
	case ASSIGNS:
		a->external = lifetime ? s->assigned[i] : 0;
		return 0;
	case STANDARD:
	case REFUSING: {
		unsigned e = external ? external : internal;
		if (lifetime == 0) {
			if (s->owner[i][e] == 1)
				s->owner[i][e] = 0;
			return 0;
		}
		if (internal == 0) {
			a->result = 2;
			return 0;
		}
		for (unsigned tries = 0; tries < 65536; tries++, e = e == 65535 ? 1 : e + 1) {
			if (e < s->allow_lo || e > s->allow_hi) {
				if (s->kind == REFUSING) {
					a->result = 2;
					return 0;
				}
				continue;
			}
			if (s->owner[i][e] == 2 || (s->owner[i][e] == 1 && s->iport[i][e] != internal))
				continue;
			s->owner[i][e] = 1;
			s->iport[i][e] = internal;
			a->external = (uint16_t)e;
			return 0;
		}
		a->result = 4;
		return 0;
	}
	}
	return -EINVAL;
}

static uint16_t next_random = 50000;
static uint16_t fake_random(void) { return next_random; }

static struct sim *sim_new(int kind) {
	struct sim *s = calloc(1, sizeof(*s));

	if (s) {
		s->kind = kind;
		s->allow_lo = 1024;
		s->allow_hi = 65535;
	}
	return s;
}

static bool req_is(const struct sim *s, size_t k, enum gateway_proto proto, uint16_t in, uint16_t ex, uint32_t life) {
	return k < s->n && s->reqs[k].proto == proto && s->reqs[k].internal == in && s->reqs[k].external == ex &&
	       s->reqs[k].lifetime == life;
}

static void test_standard(void) {
	_cleanup_free_ struct sim *s = sim_new(STANDARD);
	struct portmap pm = { .random_port = fake_random };
	struct portmap_result res;

	next_random = 50000;
	CHECK(portmap_cycle(&pm, "t", sim_ask, s, 60, &res) == 2, "both mapped");
	CHECK(pm.kind == PORTMAP_STANDARD, "a standard gateway: %s", portmap_kind_str(pm.kind));
	CHECK(res.port[0] == 50000 && res.port[1] == 50000 && res.lifetime[1] == 60, "50000 both: %u %u", res.port[0],
	      res.port[1]);
	CHECK(s->n == 3 && req_is(s, 0, GATEWAY_UDP, 0, 1, 60) && req_is(s, 1, GATEWAY_UDP, 50000, 50000, 60) &&
		      req_is(s, 2, GATEWAY_TCP, 50000, 50000, 60),
	      "the provider's request first, refused; then the port for both: %zu requests", s->n);
	CHECK(portmap_result_port(&res) == 50000, "the client is told 50000");

	/* Renewed: the same port asked for, no probe. */
	s->n = 0;
	next_random = 61000;
	CHECK(portmap_cycle(&pm, "t", sim_ask, s, 60, &res) == 2 && res.port[1] == 50000, "renewed");
	CHECK(s->n == 2 && req_is(s, 0, GATEWAY_UDP, 50000, 50000, 60) && req_is(s, 1, GATEWAY_TCP, 50000, 50000, 60),
	      "renewal asks for the port again (%zu requests)", s->n);

	/* Taken at the gateway (restarted, another client got it first):
	 * moved to 50001 -> 50000, deleted, 50001 -> 50001 asked for. */
	memset(s->owner, 0, sizeof(s->owner));
	s->owner[0][50000] = s->owner[1][50000] = 2;
	s->n = 0;
	CHECK(portmap_cycle(&pm, "t", sim_ask, s, 60, &res) == 2, "mapped after the move");
	CHECK(res.port[0] == 50001 && res.port[1] == 50001, "adopted 50001: %u %u", res.port[0], res.port[1]);
	CHECK(req_is(s, 0, GATEWAY_UDP, 50000, 50000, 60) && req_is(s, 1, GATEWAY_UDP, 50000, 50001, 0) &&
		      req_is(s, 2, GATEWAY_UDP, 50001, 50001, 60),
	      "moved: asked, the mismatched mapping deleted, its port asked for");
	CHECK(s->owner[0][50001] == 1 && s->iport[0][50001] == 50001 && s->owner[0][50002] == 0,
	      "the gateway holds 50001 -> 50001 and nothing stale");

	/* Another range (no port left near 50001 but 50100-50109): moved there. */
	memset(s->owner, 0, sizeof(s->owner));
	s->allow_lo = 50100, s->allow_hi = 50109;
	CHECK(portmap_cycle(&pm, "t", sim_ask, s, 60, &res) == 2 && res.port[1] == 50100, "another range: %u",
	      res.port[1]);

	/* A reset (new tunnel session) asks the provider's way first again,
	 * then the same port. */
	portmap_reset(&pm);
	s->n = 0;
	CHECK(portmap_cycle(&pm, "t", sim_ask, s, 60, &res) == 2 && res.port[0] == 50100, "after a reset");
	CHECK(req_is(s, 0, GATEWAY_UDP, 0, 1, 60) && req_is(s, 1, GATEWAY_UDP, 50100, 50100, 60), "probe, then 50100");
}

static void test_taken_udp_only(void) {
	_cleanup_free_ struct sim *s = sim_new(STANDARD);
	struct portmap pm = { .random_port = fake_random, .kind = PORTMAP_STANDARD };
	struct portmap_result res;

	/* 50000/udp held by another client: UDP is moved to 50001, and TCP
	 * asks for what UDP got, so the client has one port for both. */
	next_random = 50000;
	s->owner[0][50000] = 2;
	CHECK(portmap_cycle(&pm, "t", sim_ask, s, 60, &res) == 2 && res.port[0] == 50001 && res.port[1] == 50001,
	      "both on 50001: %u %u", res.port[0], res.port[1]);
	CHECK(req_is(s, 3, GATEWAY_TCP, 50001, 50001, 60), "tcp asked for udp's port");

	/* Both on 50001; now 50001/udp is taken: UDP moves to 50002, and TCP
	 * asks for 50002 at once, not for its old 50001 (which a slow
	 * gateway would move again). */
	memset(s->owner, 0, sizeof(s->owner));
	s->owner[0][50001] = 2;
	s->n = 0;
	CHECK(portmap_cycle(&pm, "t", sim_ask, s, 60, &res) == 2 && res.port[0] == 50002 && res.port[1] == 50002,
	      "both on 50002: %u %u", res.port[0], res.port[1]);
	CHECK(req_is(s, 3, GATEWAY_TCP, 50002, 50002, 60), "tcp asked for udp's new port (%zu requests)", s->n);
}

static void test_refusing(void) {
	_cleanup_free_ struct sim *s = sim_new(REFUSING);
	struct portmap pm = { .random_port = fake_random };
	struct portmap_result res;

	next_random = 50000;
	CHECK(portmap_cycle(&pm, "t", sim_ask, s, 60, &res) == 2 && res.port[0] == 50000, "mapped");
	/* The range changes; a gateway that refuses what it may not map:
	 * another random port is tried once. */
	s->allow_lo = 52000, s->allow_hi = 53000;
	next_random = 52500;
	s->n = 0;
	CHECK(portmap_cycle(&pm, "t", sim_ask, s, 60, &res) == 2 && res.port[0] == 52500 && res.port[1] == 52500,
	      "refused, then 52500: %u %u", res.port[0], res.port[1]);
	CHECK(req_is(s, 0, GATEWAY_UDP, 50000, 50000, 60) && req_is(s, 1, GATEWAY_UDP, 52500, 52500, 60),
	      "the old port, then a fresh one");
	/* A random port outside the range: refused, reported, nothing
	 * mapped; the next cycle asks for the last mapped again. */
	s->allow_lo = 40000, s->allow_hi = 40010;
	next_random = 60000;
	CHECK(portmap_cycle(&pm, "t", sim_ask, s, 60, &res) == 0, "nothing mapped");
	CHECK(res.error[0] == 2 && res.error[1] == 2 && res.port[0] == 0, "refused, by code: %d %d", res.error[0],
	      res.error[1]);
	CHECK(pm.port[0] == 52500, "what to ask for next is kept: %u", pm.port[0]);
}

static void test_assigns(void) {
	_cleanup_free_ struct sim *s = sim_new(ASSIGNS);
	struct portmap pm = { .random_port = fake_random };
	struct portmap_result res;
	char buf[256];

	s->assigned[0] = s->assigned[1] = 41234;
	CHECK(portmap_cycle(&pm, "t", sim_ask, s, 60, &res) == 2 && res.port[0] == 41234 && res.port[1] == 41234,
	      "assigned 41234");
	CHECK(pm.kind == PORTMAP_ASSIGNS, "a gateway that assigns: %s", portmap_kind_str(pm.kind));
	CHECK(s->n == 2 && req_is(s, 0, GATEWAY_UDP, 0, 1, 60) && req_is(s, 1, GATEWAY_TCP, 0, 1, 60),
	      "asked as ProtonVPN's client asks, UDP first");
	/* It changes the port: adopted. */
	s->assigned[0] = s->assigned[1] = 45000;
	s->n = 0;
	CHECK(portmap_cycle(&pm, "t", sim_ask, s, 60, &res) == 2 && portmap_result_port(&res) == 45000, "changed");
	CHECK(req_is(s, 0, GATEWAY_UDP, 0, 1, 60), "renewed the same way");
	/* Different ports for the two protocols: both mapped, TCP's told. */
	s->assigned[0] = 45001;
	CHECK(portmap_cycle(&pm, "t", sim_ask, s, 60, &res) == 2 && res.port[0] == 45001 && res.port[1] == 45000 &&
		      portmap_result_port(&res) == 45000,
	      "udp %u, tcp %u", res.port[0], res.port[1]);
	/* An assigning gateway that refuses later: an error, no fallback to
	 * the standard requests. */
	s->kind = CODE;
	s->code = 2;
	s->n = 0;
	CHECK(portmap_cycle(&pm, "t", sim_ask, s, 60, &res) == 0 && res.error[0] == 2 && s->n == 2,
	      "refused (%d), %zu requests", res.error[0], s->n);
	CHECK(strstr(portmap_error_str(res.error[0], buf, sizeof(buf)), "Not Authorized/Refused (result code 2)"),
	      "by name: %s", buf);
}

static void test_codes(void) {
	static const char *const names[] = { NULL,
					     "Unsupported Version (result code 1)",
					     "Not Authorized/Refused (result code 2)",
					     "Network Failure (result code 3)",
					     "Out of resources (result code 4)",
					     "Unsupported opcode (result code 5)",
					     "undefined result code (result code 6)" };
	char buf[256];

	for (unsigned code = 1; code < ELEMENTSOF(names); code++) {
		_cleanup_free_ struct sim *s = sim_new(CODE);
		struct portmap pm = { .random_port = fake_random };
		struct portmap_result res;

		s->code = code;
		CHECK(portmap_cycle(&pm, "t", sim_ask, s, 60, &res) == 0, "code %u: nothing mapped", code);
		/* An unknown gateway answering 2 to the provider's request is
		 * a standard one, which then refuses too. */
		CHECK(res.error[0] == (int)code && res.error[1] == (int)code, "code %u in both: %d %d", code,
		      res.error[0], res.error[1]);
		CHECK(strstr(portmap_error_str(res.error[0], buf, sizeof(buf)), names[code]), "code %u: %s", code, buf);
	}
}

static void test_silent_and_zero(void) {
	_cleanup_free_ struct sim *s = sim_new(SILENT);
	struct portmap pm = { .random_port = fake_random };
	struct portmap_result res;
	char buf[256];

	CHECK(portmap_cycle(&pm, "t", sim_ask, s, 60, &res) == 0, "silent: nothing");
	CHECK(res.error[0] == -ETIMEDOUT && res.error[1] == -ETIMEDOUT && s->n == 1,
	      "one request, both timed out (%zu)", s->n);
	CHECK(strstr(portmap_error_str(-ETIMEDOUT, buf, sizeof(buf)),
		     "no answer from the gateway: likely a key made without port forwarding"),
	      "%s", buf);
	s->kind = ZERO;
	CHECK(portmap_cycle(&pm, "t", sim_ask, s, 60, &res) == 0 && res.error[0] == -EBADMSG && res.port[0] == 0,
	      "a success with port 0 is no port: %d", res.error[0]);
	CHECK(portmap_result_port(&res) == 0, "no port for the client");
}

int main(void) {
	test_standard();
	test_taken_udp_only();
	test_refusing();
	test_assigns();
	test_codes();
	test_silent_and_zero();
	return test_done();
}
