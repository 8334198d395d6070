/* SPDX-License-Identifier: MIT */
/* IP addresses and prefixes, parsed strictly (inet_pton, decimal prefix). */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct ipaddr {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	};
};

struct ipnet {
	struct ipaddr addr;
	uint8_t prefix; /* 0..32 or 0..128 */
};

/* Longest text form, with "/128" and NUL. */
#define IPNET_STRLEN (INET6_ADDRSTRLEN + 4)

/* Parse "1.2.3.4" or "2001:db8::1". Returns 0 or -EINVAL. */
int ipaddr_parse(const char *s, struct ipaddr *out);

/* Parse "a/len"; without "/len", the full host prefix when allow_bare is
 * true, else -EINVAL. Host bits are kept (wg-quick Address= has them). */
int ipnet_parse(const char *s, bool allow_bare, struct ipnet *out);

/* Text forms; buf must have IPNET_STRLEN bytes. Return buf. */
const char *ipaddr_str(const struct ipaddr *a, char *buf);
const char *ipnet_str(const struct ipnet *n, char *buf);

bool ipaddr_equal(const struct ipaddr *a, const struct ipaddr *b);
/* Whether a is inside net (same family, same first prefix bits). */
bool ipnet_contains(const struct ipnet *net, const struct ipaddr *a);
/* Whether two prefixes share any address. */
bool ipnet_overlaps(const struct ipnet *a, const struct ipnet *b);
/* The prefix with its host bits cleared. */
struct ipnet ipnet_network(const struct ipnet *n);
/* Host prefix length of a family: 32 or 128. */
static inline uint8_t ipaddr_max_prefix(int family) { return family == AF_INET ? 32 : 128; }
/* Whether the host bits of n are all zero (a network, not an address in one). */
bool ipnet_is_network(const struct ipnet *n);
