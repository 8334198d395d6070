/* SPDX-License-Identifier: MIT */
/* A minimal rtnetlink client for the few operations that need a result the
 * `ip` tool does not give cheaply (an errno to decide a fallback, an ifindex,
 * a route lookup) and for status' dumps. Every call works in the network
 * namespace of the calling thread at the time of the call. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

/* Create a link of the given kind ("wireguard"). -EOPNOTSUPP when the kernel
 * knows no such kind; -EEXIST when the name is taken. */
int nl_link_add(const char *name, const char *kind);
/* Create a veth pair; the peer goes into the namespace open at
 * peer_netns_fd (or stays here when it is -1). */
int nl_veth_add(const char *name, const char *peer, int peer_netns_fd);
int nl_link_del(int ifindex);
/* Move a link into the network namespace open at netns_fd. */
int nl_link_set_netns(int ifindex, int netns_fd);
/* Rename a link (it must be down). */
int nl_link_rename(int ifindex, const char *name);

/* Look a route up as `ip route get DST` does: *oif is the output interface.
 * -ENETUNREACH (or another negative errno) when there is none. */
int nl_route_get(const struct ipaddr *dst, int *oif);

/* Flush the conntrack table of one family (AF_INET, AF_INET6), as
 * `conntrack -F` does. */
int nl_conntrack_flush(int family);

/* Link events of the current namespace: open a socket subscribed to them;
 * read what is pending and return 1 when ifindex was deleted, else 0. */
int nl_link_monitor_open(void);
int nl_link_monitor_read(int fd, int ifindex);
/* nftables changes of the current namespace (tables, chains, rules
 * added or deleted by anyone): a socket subscribed to them; drain
 * returns 1 when anything arrived (or events were lost), else 0. */
int nl_nft_monitor_open(void);
int nl_monitor_drain(int fd);

struct nl_link {
	int ifindex;
	char name[16];
	char kind[32]; /* "" when the kernel reports none */
	unsigned flags; /* IFF_* */
	unsigned mtu;
	int master; /* ifindex, 0 if none */
};

struct nl_addr {
	int ifindex;
	struct ipnet addr;
};

struct nl_route {
	struct ipnet dst; /* prefix 0: default */
	bool has_gateway;
	struct ipaddr gateway;
	int oif;
};

/* Dumps of the main table (routes), every link, every address. The arrays
 * are malloc()ed; free() them. */
int nl_dump_links(struct nl_link **out, size_t *n);
int nl_dump_addrs(struct nl_addr **out, size_t *n);
int nl_dump_routes(int family, struct nl_route **out, size_t *n);
