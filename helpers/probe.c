/* SPDX-License-Identifier: MIT */
#include "probe.h"

#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "netns.h"
#include "util.h"

#define DNS_PORT 53

static void sockaddr_of(const struct ipaddr *a, uint16_t port, struct sockaddr_storage *ss, socklen_t *len) {
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr = a->v4;
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = a->v6;
		*len = sizeof(*in6);
	}
}

int probe_open(struct probe *p, enum probe_kind kind, const struct ipaddr *to, int netns_fd) {
	_cleanup_close_ int fd = -1;
	struct sockaddr_storage ss;
	socklen_t len;
	int r;

	probe_close(p);
	if (getrandom(&p->id, sizeof(p->id), 0) != sizeof(p->id))
		return -errno;
	p->kind = kind;
	p->to = *to;
	p->seq = 0;
	{
		_cleanup_netns_leave_ int saved = -1;

		if ((r = netns_enter(netns_fd, &saved)) < 0)
			return r;
		if (kind == PROBE_DNS)
			fd = socket(to->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		else
			fd = socket(to->family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
				    to->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
		if (fd < 0)
			return -errno;
	}
	if (kind == PROBE_ECHO && to->family == AF_INET6) {
		/* Only echo replies (the kernel computes ICMPv6 checksums). */
		struct icmp6_filter f;
		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)) < 0)
			return -errno;
	}
	sockaddr_of(to, kind == PROBE_DNS ? DNS_PORT : 0, &ss, &len);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		return -errno;
	p->fd = TAKE_FD(fd);
	return 0;
}

static uint16_t checksum(const void *data, size_t len) {
	const uint8_t *b = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)(b[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

int probe_send(struct probe *p) {
	uint8_t buf[32] = { 0 };
	size_t len;

	if (p->fd < 0)
		return -EBADF;
	p->seq++;
	if (p->kind == PROBE_DNS) {
		/* Header: id, flags (RD), 1 question; the root, type NS, class IN. */
		static const uint8_t q[] = { 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
					     0x00, 0x00, 0x02, 0x00, 0x01 };
		uint16_t id = (uint16_t)(p->id + p->seq);
		buf[0] = (uint8_t)(id >> 8);
		buf[1] = (uint8_t)id;
		memcpy(buf + 2, q, sizeof(q));
		len = 2 + sizeof(q);
	} else {
		/* Type, code, checksum, identifier, sequence, then a payload. */
		static const char payload[] = "vpn-confinement";
		buf[0] = p->to.family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
		buf[4] = (uint8_t)(p->id >> 8);
		buf[5] = (uint8_t)p->id;
		buf[6] = (uint8_t)(p->seq >> 8);
		buf[7] = (uint8_t)p->seq;
		memcpy(buf + 8, payload, sizeof(payload) - 1);
		len = 8 + sizeof(payload) - 1;
		if (p->to.family == AF_INET) {
			uint16_t c = checksum(buf, len);
			memcpy(buf + 2, &c, 2);
		}
	}
	return send(p->fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

int probe_drain(struct probe *p) {
	uint8_t buf[1500];
	int answers = 0;

	if (p->fd < 0)
		return 0;
	for (;;) {
		ssize_t k = recv(p->fd, buf, sizeof(buf), 0);
		const uint8_t *icmp = buf;

		if (k < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? answers : -errno;
		if (p->kind == PROBE_DNS) {
			/* An answer to one of ours: QR set, our ids' range. */
			if (k >= 12 && (buf[2] & 0x80))
				answers++;
			continue;
		}
		/* A raw IPv4 socket gets the IP header too. */
		if (p->to.family == AF_INET) {
			size_t hl = (size_t)(buf[0] & 0x0f) * 4;
			if ((size_t)k < hl + 8)
				continue;
			icmp = buf + hl;
			k -= (ssize_t)hl;
		}
		if (k >= 8 && icmp[0] == (p->to.family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY) &&
		    (uint16_t)(icmp[4] << 8 | icmp[5]) == p->id)
			answers++;
	}
}

void probe_close(struct probe *p) {
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}
