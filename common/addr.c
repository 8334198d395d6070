/* SPDX-License-Identifier: MIT */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

int ipaddr_parse(const char *s, struct ipaddr *out) {
	struct ipaddr a = { 0 };

	if (!s || !*s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &a.v4) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a.v6) == 1)
		a.family = AF_INET6;
	else
		return -EINVAL;
	*out = a;
	return 0;
}

int ipnet_parse(const char *s, bool allow_bare, struct ipnet *out) {
	char buf[IPNET_STRLEN];
	const char *slash = strchr(s, '/');
	struct ipnet n;
	uint64_t prefix;
	size_t len;
	int r;

	len = slash ? (size_t)(slash - s) : strlen(s);
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	r = ipaddr_parse(buf, &n.addr);
	if (r < 0)
		return r;
	if (!slash) {
		if (!allow_bare)
			return -EINVAL;
		n.prefix = ipaddr_max_prefix(n.addr.family);
	} else {
		r = parse_uint(slash + 1, 0, ipaddr_max_prefix(n.addr.family), &prefix);
		if (r < 0)
			return -EINVAL;
		n.prefix = (uint8_t)prefix;
	}
	*out = n;
	return 0;
}

const char *ipaddr_str(const struct ipaddr *a, char *buf) {
	if (!inet_ntop(a->family, a->bytes, buf, IPNET_STRLEN))
		snprintf(buf, IPNET_STRLEN, "?");
	return buf;
}

const char *ipnet_str(const struct ipnet *n, char *buf) {
	size_t l;

	ipaddr_str(&n->addr, buf);
	l = strlen(buf);
	snprintf(buf + l, IPNET_STRLEN - l, "/%u", n->prefix);
	return buf;
}

bool ipaddr_equal(const struct ipaddr *a, const struct ipaddr *b) {
	if (a->family != b->family)
		return false;
	return memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16) == 0;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits) {
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((a[full] & mask) != (b[full] & mask))
			return false;
	}
	return true;
}

bool ipnet_contains(const struct ipnet *net, const struct ipaddr *a) {
	if (net->addr.family != a->family)
		return false;
	return prefix_equal(net->addr.bytes, a->bytes, net->prefix);
}

bool ipnet_overlaps(const struct ipnet *a, const struct ipnet *b) {
	if (a->addr.family != b->addr.family)
		return false;
	return prefix_equal(a->addr.bytes, b->addr.bytes, a->prefix < b->prefix ? a->prefix : b->prefix);
}

struct ipnet ipnet_network(const struct ipnet *n) {
	struct ipnet r = *n;
	unsigned len = n->addr.family == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < len; i++) {
		unsigned bit = i * 8;
		if (bit >= n->prefix)
			r.addr.bytes[i] = 0;
		else if (bit + 8 > n->prefix)
			r.addr.bytes[i] &= (uint8_t)(0xff << (8 - (n->prefix - bit)));
	}
	return r;
}

bool ipnet_is_network(const struct ipnet *n) {
	struct ipnet net = ipnet_network(n);
	return ipaddr_equal(&net.addr, &n->addr);
}
