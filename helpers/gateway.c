/* SPDX-License-Identifier: MIT */
#include "gateway.h"

#include <arpa/inet.h>
#include <natpmp.h>
#include <poll.h>
#include <sys/socket.h>

#include "util.h"

#define NATPMP_HEADER 8      /* version, opcode, result code, epoch */
#define NATPMP_MAP_ANSWER 16 /* ... internal, external port, lifetime */

const char *gateway_result_name(unsigned code) {
	static const char *const names[] = {
		[0] = "Success",
		[1] = "Unsupported Version",
		[2] = "Not Authorized/Refused",
		[3] = "Network Failure",
		[4] = "Out of resources",
		[5] = "Unsupported opcode",
	};
	return code < ELEMENTSOF(names) ? names[code] : "undefined result code";
}

const char *gateway_proto_str(enum gateway_proto p) { return p == GATEWAY_TCP ? "tcp" : "udp"; }

int gateway_open(struct gateway *g, const struct ipaddr *addr, const char *ifname) {
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(NATPMP_PORT) };
	_cleanup_close_ int fd = -1;
	natpmp_t *lib;

	*g = (struct gateway){ .fd = -1 };
	if (addr->family != AF_INET)
		return -EAFNOSUPPORT;
	sa.sin_addr = addr->v4;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	/* natpmp_t's fields are public (natpmp.h): what initnatpmp() would
	 * set, with our socket. */
	lib = calloc(1, sizeof(*lib));
	if (!lib)
		return -ENOMEM;
	lib->s = fd;
	lib->gateway = addr->v4.s_addr;
	g->lib = lib;
	g->addr = *addr;
	g->fd = TAKE_FD(fd);
	return 0;
}

void gateway_close(struct gateway *g) {
	if (g->fd >= 0)
		close(g->fd);
	free(g->lib);
	*g = (struct gateway){ .fd = -1 };
}

static int lib_error(int r) {
	switch (r) {
	case NATPMP_ERR_SENDERR:
	case NATPMP_ERR_RECVFROM:
		return errno ? -errno : -EIO;
	case NATPMP_ERR_NOGATEWAYSUPPORT:
		return -ECONNREFUSED;
	case NATPMP_ERR_GETTIMEOFDAYERR:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/* What is waiting on the socket, checked. 1: an answer to the request the
 * library may read (a success); 0 with *a->result set: the gateway's
 * refusal (consumed); -EAGAIN: nothing (or something dropped). */
static int peek_answer(struct gateway *g, enum gateway_proto proto, struct gateway_answer *a) {
	uint8_t buf[NATPMP_MAP_ANSWER];
	ssize_t n = recv(g->fd, buf, sizeof(buf), MSG_PEEK | MSG_TRUNC);

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return -EAGAIN;
		if (errno == ECONNREFUSED)
			return -ECONNREFUSED;
		return -errno;
	}
	if (n >= NATPMP_HEADER && buf[0] != 0) {
		recv(g->fd, buf, sizeof(buf), 0);
		return -EPROTO;
	}
	if (n < NATPMP_HEADER || buf[1] != 128 + proto) {
		/* Not an answer to this request: dropped. */
		recv(g->fd, buf, sizeof(buf), 0);
		return -EAGAIN;
	}
	a->result = (unsigned)buf[2] << 8 | buf[3];
	a->epoch = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
	if (a->result != 0) {
		recv(g->fd, buf, sizeof(buf), 0);
		return 0;
	}
	if (n < NATPMP_MAP_ANSWER) {
		recv(g->fd, buf, sizeof(buf), 0);
		return -EAGAIN;
	}
	return 1;
}

static int send_request(natpmp_t *lib, enum gateway_proto proto, uint16_t internal, uint16_t external,
			uint32_t lifetime) {
	int r;

	errno = 0;
	r = sendnewportmappingrequest(lib, proto == GATEWAY_TCP ? NATPMP_PROTOCOL_TCP : NATPMP_PROTOCOL_UDP,
				      internal, external, lifetime);
	return r < 0 ? lib_error(r) : 0;
}

int gateway_map(struct gateway *g, enum gateway_proto proto, uint16_t internal, uint16_t external,
		uint32_t lifetime, unsigned timeout_ms, struct gateway_answer *a) {
	natpmp_t *lib = g->lib;
	int64_t deadline = monotonic_ms() + timeout_ms;
	int r;

	*a = (struct gateway_answer){ 0 };
	if (!lib || (proto != GATEWAY_UDP && proto != GATEWAY_TCP))
		return -EINVAL;
	if ((r = send_request(lib, proto, internal, external, lifetime)) < 0)
		return r;
	for (;;) {
		struct pollfd pf = { .fd = g->fd, .events = POLLIN };
		struct timeval tv;
		natpmpresp_t resp;
		int64_t left = deadline - monotonic_ms(), wait = left;

		if (left <= 0)
			return -ETIMEDOUT;
		if (getnatpmprequesttimeout(lib, &tv) == 0) {
			int64_t retry = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
			if (retry >= 0 && retry < wait)
				wait = retry;
		}
		r = poll(&pf, 1, (int)(wait < 1 ? 1 : wait));
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0) {
			r = peek_answer(g, proto, a);
			if (r == 0 || (r < 0 && r != -EAGAIN))
				return r;
			if (r == -EAGAIN)
				continue; /* dropped: look at what comes next */
		}
		/* Reads the answer waiting (checked above), or retransmits when
		 * its schedule says so. */
		errno = 0;
		r = readnatpmpresponseorretry(lib, &resp);
		if (r == 0) {
			if (resp.type != proto) {
				/* Cannot happen (checked above); were it to, the
				 * library has forgotten the request: ask again. */
				if ((r = send_request(lib, proto, internal, external, lifetime)) < 0)
					return r;
				continue;
			}
			a->internal = resp.pnu.newportmapping.privateport;
			a->external = resp.pnu.newportmapping.mappedpublicport;
			a->lifetime = resp.pnu.newportmapping.lifetime;
			a->epoch = resp.epoch;
			return 0;
		}
		if (r == NATPMP_TRYAGAIN)
			continue;
		if (r == NATPMP_ERR_SENDERR && errno == EPERM)
			return -EPERM;
		return lib_error(r);
	}
}
