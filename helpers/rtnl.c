/* SPDX-License-Identifier: MIT */
#include "rtnl.h"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sys/socket.h>

#include "netlink.h"
#include "util.h"

static size_t addr_len(int family) { return family == AF_INET ? 4 : 16; }

int rtnl_link_add(const char *name, const char *kind) {
	struct nl_msg m;
	struct nlattr *info;

	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	nl_msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	nl_attr_put_str(&m, IFLA_IFNAME, name);
	info = nl_nest_begin(&m, IFLA_LINKINFO);
	nl_attr_put(&m, IFLA_INFO_KIND, kind, strlen(kind));
	nl_nest_end(&m, info);
	return nl_request(NETLINK_ROUTE, &m, NULL, NULL);
}

int rtnl_veth_add(const char *name, const char *peer, int peer_netns_fd) {
	struct nl_msg m;
	struct nlattr *info, *data, *peer_nest;
	struct ifinfomsg peer_ifi = { 0 };

	if (strlen(name) >= IFNAMSIZ || strlen(peer) >= IFNAMSIZ)
		return -EINVAL;
	nl_msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	nl_attr_put_str(&m, IFLA_IFNAME, name);
	info = nl_nest_begin(&m, IFLA_LINKINFO);
	nl_attr_put(&m, IFLA_INFO_KIND, "veth", 4);
	data = nl_nest_begin(&m, IFLA_INFO_DATA);
	/* VETH_INFO_PEER holds an ifinfomsg, then the peer's attributes. */
	peer_nest = nl_nest_begin(&m, VETH_INFO_PEER);
	nl_msg_append(&m, &peer_ifi, sizeof(peer_ifi));
	nl_attr_put_str(&m, IFLA_IFNAME, peer);
	if (peer_netns_fd >= 0)
		nl_attr_put_u32(&m, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	nl_nest_end(&m, peer_nest);
	nl_nest_end(&m, data);
	nl_nest_end(&m, info);
	return nl_request(NETLINK_ROUTE, &m, NULL, NULL);
}

int rtnl_link_del(int ifindex) {
	struct nl_msg m;
	struct ifinfomsg *ifi = nl_msg_init(&m, RTM_DELLINK, 0, sizeof(*ifi));

	ifi->ifi_index = ifindex;
	return nl_request(NETLINK_ROUTE, &m, NULL, NULL);
}

int rtnl_link_del_named(const char *name) {
	unsigned idx = if_nametoindex(name);
	int r;

	if (idx == 0)
		return 0;
	r = rtnl_link_del((int)idx);
	return r == -ENODEV ? 0 : r; /* gone meanwhile */
}

int rtnl_link_change(int ifindex, const struct rtnl_link_change *c) {
	struct nl_msg m;
	struct ifinfomsg *ifi = nl_msg_init(&m, RTM_NEWLINK, 0, sizeof(*ifi));

	ifi->ifi_index = ifindex;
	if (c->name) {
		if (strlen(c->name) >= IFNAMSIZ)
			return -EINVAL;
		nl_attr_put_str(&m, IFLA_IFNAME, c->name);
	}
	if (c->netns_fd > 0)
		nl_attr_put_u32(&m, IFLA_NET_NS_FD, (uint32_t)c->netns_fd);
	if (c->master > 0)
		nl_attr_put_u32(&m, IFLA_MASTER, (uint32_t)c->master);
	if (c->mtu > 0)
		nl_attr_put_u32(&m, IFLA_MTU, c->mtu);
	if (c->up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	return nl_request(NETLINK_ROUTE, &m, NULL, NULL);
}

void rtnl_addr_replace_msg(struct nl_msg *m, int ifindex, const struct ipnet *addr, bool nodad) {
	struct ifaddrmsg *ifa = nl_msg_init(m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*ifa));

	ifa->ifa_family = (uint8_t)addr->addr.family;
	ifa->ifa_prefixlen = addr->prefix;
	ifa->ifa_index = (uint32_t)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	if (nodad && addr->addr.family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	/* As ip(8): the local address, and the same as the "address" (the
	 * peer's on point-to-point links, where none is given). */
	nl_attr_put(m, IFA_LOCAL, addr->addr.bytes, addr_len(addr->addr.family));
	nl_attr_put(m, IFA_ADDRESS, addr->addr.bytes, addr_len(addr->addr.family));
}

int rtnl_addr_replace(int ifindex, const struct ipnet *addr, bool nodad) {
	struct nl_msg m;

	rtnl_addr_replace_msg(&m, ifindex, addr, nodad);
	return nl_request(NETLINK_ROUTE, &m, NULL, NULL);
}

void rtnl_route_replace_msg(struct nl_msg *m, const struct rtnl_route *r) {
	struct rtmsg *rtm = nl_msg_init(m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*rtm));
	int family = r->dst.addr.family;

	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = r->dst.prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_type = RTN_UNICAST;
	/* As ip(8): an IPv4 route with no gateway is on the link. */
	rtm->rtm_scope = family == AF_INET && !r->has_gateway ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	if (r->dst.prefix > 0) {
		struct ipnet net = ipnet_network(&r->dst);
		nl_attr_put(m, RTA_DST, net.addr.bytes, addr_len(family));
	}
	if (r->has_gateway)
		nl_attr_put(m, RTA_GATEWAY, r->gateway.bytes, addr_len(family));
	nl_attr_put_u32(m, RTA_OIF, (uint32_t)r->oif);
}

int rtnl_route_replace(const struct rtnl_route *r) {
	struct nl_msg m;

	if (r->dst.addr.family != AF_INET && r->dst.addr.family != AF_INET6)
		return -EAFNOSUPPORT;
	if (r->has_gateway && r->gateway.family != r->dst.addr.family)
		return -EINVAL;
	rtnl_route_replace_msg(&m, r);
	return nl_request(NETLINK_ROUTE, &m, NULL, NULL);
}

/* The replace message, made a delete of the same thing. */
static void make_delete(struct nl_msg *m, uint16_t type) {
	m->h.nlmsg_type = type;
	m->h.nlmsg_flags &= (uint16_t) ~(NLM_F_CREATE | NLM_F_REPLACE);
}

int rtnl_addr_del(int ifindex, const struct ipnet *addr) {
	struct nl_msg m;

	rtnl_addr_replace_msg(&m, ifindex, addr, false);
	make_delete(&m, RTM_DELADDR);
	return nl_request(NETLINK_ROUTE, &m, NULL, NULL);
}

int rtnl_route_del(const struct rtnl_route *r) {
	struct nl_msg m;

	if (r->dst.addr.family != AF_INET && r->dst.addr.family != AF_INET6)
		return -EAFNOSUPPORT;
	rtnl_route_replace_msg(&m, r);
	make_delete(&m, RTM_DELROUTE);
	return nl_request(NETLINK_ROUTE, &m, NULL, NULL);
}

static int route_get_cb(const struct nlmsghdr *h, void *userdata) {
	size_t left;

	if (h->nlmsg_type != RTM_NEWROUTE)
		return 0;
	for (const struct nlattr *a = nl_attr_first(h, sizeof(struct rtmsg), &left); a; a = nl_attr_next(a, &left)) {
		uint32_t oif;
		if (nl_attr_type(a) == RTA_OIF && nl_attr_u32(a, &oif))
			*(int *)userdata = (int)oif;
	}
	return 0;
}

int rtnl_route_get(const struct ipaddr *dst, int *oif) {
	struct nl_msg m;
	struct rtmsg *rtm = nl_msg_init(&m, RTM_GETROUTE, 0, sizeof(*rtm));
	int found = 0, r;

	rtm->rtm_family = (uint8_t)dst->family;
	rtm->rtm_dst_len = (uint8_t)(addr_len(dst->family) * 8);
	nl_attr_put(&m, RTA_DST, dst->bytes, addr_len(dst->family));
	r = nl_request(NETLINK_ROUTE, &m, route_get_cb, &found);
	if (r < 0)
		return r;
	if (found <= 0)
		return -ENETUNREACH;
	*oif = found;
	return 0;
}

/* Dumps. */

struct dump_ctx {
	void *items;
	size_t n;
	int family;
};

static int link_cb(const struct nlmsghdr *h, void *userdata) {
	struct dump_ctx *c = userdata;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct rtnl_link l;
	struct rtnl_link *arr = c->items;
	size_t left;
	int k;

	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return 0;
	l = (struct rtnl_link){ .ifindex = ifi->ifi_index, .flags = ifi->ifi_flags };
	for (const struct nlattr *a = nl_attr_first(h, sizeof(*ifi), &left); a; a = nl_attr_next(a, &left)) {
		uint32_t v;

		switch (nl_attr_type(a)) {
		case IFLA_IFNAME:
			snprintf(l.name, sizeof(l.name), "%.*s", (int)nl_attr_len(a), (const char *)nl_attr_data(a));
			break;
		case IFLA_MTU:
			if (nl_attr_u32(a, &v))
				l.mtu = v;
			break;
		case IFLA_MASTER:
			if (nl_attr_u32(a, &v))
				l.master = (int)v;
			break;
		case IFLA_LINKINFO: {
			size_t nleft;
			for (const struct nlattr *b = nl_nested_first(a, &nleft); b; b = nl_attr_next(b, &nleft))
				if (nl_attr_type(b) == IFLA_INFO_KIND)
					snprintf(l.kind, sizeof(l.kind), "%.*s", (int)nl_attr_len(b),
						 (const char *)nl_attr_data(b));
			break;
		}
		}
	}
	k = ARRAY_APPEND(arr, c->n, l);
	c->items = arr;
	return k;
}

static int addr_cb(const struct nlmsghdr *h, void *userdata) {
	struct dump_ctx *c = userdata;
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	const struct nlattr *addr = NULL, *local = NULL;
	struct rtnl_addr x;
	struct rtnl_addr *arr = c->items;
	size_t left;
	int k;

	if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)) ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return 0;
	for (const struct nlattr *a = nl_attr_first(h, sizeof(*ifa), &left); a; a = nl_attr_next(a, &left)) {
		if (nl_attr_type(a) == IFA_ADDRESS)
			addr = a;
		else if (nl_attr_type(a) == IFA_LOCAL)
			local = a;
	}
	if (local)
		addr = local; /* on point-to-point links IFA_ADDRESS is the peer */
	if (!addr || nl_attr_len(addr) < addr_len(ifa->ifa_family))
		return 0;
	x = (struct rtnl_addr){ .ifindex = (int)ifa->ifa_index };
	x.addr.addr.family = ifa->ifa_family;
	memcpy(x.addr.addr.bytes, nl_attr_data(addr), addr_len(ifa->ifa_family));
	x.addr.prefix = ifa->ifa_prefixlen;
	k = ARRAY_APPEND(arr, c->n, x);
	c->items = arr;
	return k;
}

static int routes_cb(const struct nlmsghdr *h, void *userdata) {
	struct dump_ctx *c = userdata;
	const struct rtmsg *rtm = NLMSG_DATA(h);
	struct rtnl_route x = { 0 };
	struct rtnl_route *arr = c->items;
	uint32_t table, v;
	size_t left, alen;
	int k;

	if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)) || rtm->rtm_family != c->family)
		return 0;
	alen = addr_len(rtm->rtm_family);
	table = rtm->rtm_table;
	x.dst.addr.family = rtm->rtm_family;
	x.dst.prefix = rtm->rtm_dst_len;
	for (const struct nlattr *a = nl_attr_first(h, sizeof(*rtm), &left); a; a = nl_attr_next(a, &left)) {
		switch (nl_attr_type(a)) {
		case RTA_DST:
			if (nl_attr_len(a) >= alen)
				memcpy(x.dst.addr.bytes, nl_attr_data(a), alen);
			break;
		case RTA_GATEWAY:
			if (nl_attr_len(a) >= alen) {
				x.has_gateway = true;
				x.gateway.family = rtm->rtm_family;
				memcpy(x.gateway.bytes, nl_attr_data(a), alen);
			}
			break;
		case RTA_OIF:
			if (nl_attr_u32(a, &v))
				x.oif = (int)v;
			break;
		case RTA_TABLE:
			if (nl_attr_u32(a, &v))
				table = v;
			break;
		}
	}
	if (table != RT_TABLE_MAIN || rtm->rtm_type != RTN_UNICAST)
		return 0;
	k = ARRAY_APPEND(arr, c->n, x);
	c->items = arr;
	return k;
}

static int dump(uint16_t type, int family, size_t hdr_len, nl_reply_fn cb, void **out, size_t *n) {
	int r = -EAGAIN;

	/* The kernel interrupts a dump whose table changed under it: start
	 * over (a few times; a table that changes all the time is an error). */
	for (int attempt = 0; attempt < 5 && r == -EAGAIN; attempt++) {
		struct dump_ctx c = { .family = family };
		struct nl_msg m;
		unsigned char *fam = nl_msg_init_dump(&m, type, hdr_len);

		*fam = (unsigned char)family; /* the family is the first byte of each header */
		r = nl_request(NETLINK_ROUTE, &m, cb, &c);
		if (r < 0) {
			free(c.items);
			continue;
		}
		*out = c.items;
		*n = c.n;
	}
	return r;
}

int rtnl_dump_links(struct rtnl_link **out, size_t *n) {
	*out = NULL, *n = 0;
	return dump(RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg), link_cb, (void **)out, n);
}

int rtnl_dump_addrs(struct rtnl_addr **out, size_t *n) {
	*out = NULL, *n = 0;
	return dump(RTM_GETADDR, AF_UNSPEC, sizeof(struct ifaddrmsg), addr_cb, (void **)out, n);
}

int rtnl_dump_routes(int family, struct rtnl_route **out, size_t *n) {
	*out = NULL, *n = 0;
	return dump(RTM_GETROUTE, family, sizeof(struct rtmsg), routes_cb, (void **)out, n);
}

int rtnl_link_monitor_open(void) { return nl_monitor_open(NETLINK_ROUTE, RTMGRP_LINK); }

struct link_gone {
	int ifindex;
	bool gone;
};

static int link_gone_cb(const struct nlmsghdr *h, void *userdata) {
	struct link_gone *g = userdata;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);

	if (h->nlmsg_type == RTM_DELLINK && h->nlmsg_len >= NLMSG_LENGTH(sizeof(*ifi)) && ifi->ifi_index == g->ifindex)
		g->gone = true;
	return 0;
}

int rtnl_link_monitor_read(int fd, int ifindex) {
	struct link_gone g = { .ifindex = ifindex };
	char name[IF_NAMESIZE];
	int r = nl_monitor_read(fd, link_gone_cb, &g);

	if (r < 0)
		return r;
	/* Events may have been lost: look at the link itself too. */
	return g.gone || (r == 1 && !if_indextoname((unsigned)ifindex, name)) ? 1 : 0;
}
