/* SPDX-License-Identifier: MIT */
/* Links, addresses and routes over rtnetlink (netlink.h carries each
 * request): the one way the helper changes them, and reads them back.
 * Every call acts in the network namespace of the calling thread at the
 * time of the call; each returns 0 or the kernel's negative errno. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* Create a link of kind ("bridge", "wireguard"): -EOPNOTSUPP when the
 * kernel knows no such kind (no module), -EEXIST when the name is taken. */
int rtnl_link_add(const char *name, const char *kind);
/* Create a veth pair; the peer goes into the namespace open at
 * peer_netns_fd (or stays here when it is -1). */
int rtnl_veth_add(const char *name, const char *peer, int peer_netns_fd);
int rtnl_link_del(int ifindex);
/* Delete the link named name if there is one (0 when there is none). */
int rtnl_link_del_named(const char *name);

/* Changes of one link; what is left at its zero value is not changed. */
struct rtnl_link_change {
	const char *name; /* rename (the link must be down) */
	int netns_fd;     /* > 0: move into that namespace (an fd 0 is never ours) */
	int master;       /* ifindex of a bridge to enslave it to */
	unsigned mtu;
	bool up;
};
int rtnl_link_change(int ifindex, const struct rtnl_link_change *c);

/* Give a link an address (replacing it if there: converges); for IPv6,
 * nodad skips duplicate address detection. */
int rtnl_addr_replace(int ifindex, const struct ipnet *addr, bool nodad);

struct rtnl_route {
	struct ipnet dst; /* prefix 0: default */
	bool has_gateway;
	struct ipaddr gateway;
	int oif;
};
/* Add or replace a route of the main table. */
int rtnl_route_replace(const struct rtnl_route *r);
/* Delete an address of a link, a route of the main table (as given to
 * the replace functions): -EADDRNOTAVAIL / -ESRCH when there is none. */
int rtnl_addr_del(int ifindex, const struct ipnet *addr);
int rtnl_route_del(const struct rtnl_route *r);
/* Look a route up as `ip route get DST` does: *oif is the output
 * interface. -ENETUNREACH (or another negative errno) when there is none. */
int rtnl_route_get(const struct ipaddr *dst, int *oif);

struct rtnl_link {
	int ifindex;
	char name[16];
	char kind[32]; /* "" when the kernel reports none */
	unsigned flags; /* IFF_* */
	unsigned mtu;
	int master; /* ifindex, 0 if none */
};

struct rtnl_addr {
	int ifindex;
	struct ipnet addr;
};

/* Dumps of every link, every address, the main table's unicast routes of a
 * family; started over when the kernel interrupts them. The arrays are
 * malloc()ed; free() them. */
int rtnl_dump_links(struct rtnl_link **out, size_t *n);
int rtnl_dump_addrs(struct rtnl_addr **out, size_t *n);
int rtnl_dump_routes(int family, struct rtnl_route **out, size_t *n);

/* Link events of the current namespace: open a socket subscribed to them;
 * read what is pending and return 1 when ifindex was deleted (or events
 * were lost and it is gone), else 0. */
int rtnl_link_monitor_open(void);
int rtnl_link_monitor_read(int fd, int ifindex);

/* The messages rtnl_addr_replace() and rtnl_route_replace() send, built
 * but not sent (for the unit tests). */
struct nl_msg;
void rtnl_addr_replace_msg(struct nl_msg *m, int ifindex, const struct ipnet *addr, bool nodad);
void rtnl_route_replace_msg(struct nl_msg *m, const struct rtnl_route *r);
