/* SPDX-License-Identifier: MIT */
#include "nl.h"

#include <linux/if_link.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include "util.h"

#define NL_BUF 8192

struct nl_req {
	struct nlmsghdr *h;
	char buf[1024];
};

static void *req_init(struct nl_req *r, uint16_t type, uint16_t flags, size_t body) {
	memset(r->buf, 0, sizeof(r->buf));
	r->h = (struct nlmsghdr *)r->buf;
	r->h->nlmsg_len = NLMSG_LENGTH(body);
	r->h->nlmsg_type = type;
	r->h->nlmsg_flags = NLM_F_REQUEST | flags;
	r->h->nlmsg_seq = 1;
	return NLMSG_DATA(r->h);
}

static struct rtattr *req_attr(struct nl_req *r, uint16_t type, const void *data, size_t len) {
	size_t off = NLMSG_ALIGN(r->h->nlmsg_len);
	struct rtattr *a = (struct rtattr *)(r->buf + off);

	if (off + RTA_SPACE(len) > sizeof(r->buf))
		abort(); /* requests here are small and fixed in shape */
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	r->h->nlmsg_len = (uint32_t)(off + RTA_SPACE(len));
	return a;
}

static void req_nest_end(struct nl_req *r, struct rtattr *nest) {
	nest->rta_len = (unsigned short)(r->buf + r->h->nlmsg_len - (char *)nest);
}

/* A bound netlink socket of protocol (NETLINK_ROUTE, NETLINK_NETFILTER);
 * flags are added to SOCK_RAW | SOCK_CLOEXEC, groups are the multicast
 * groups to listen to (0: requests only). */
static int nl_socket_open(int protocol, int flags, uint32_t groups) {
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | flags, protocol);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

typedef int (*nl_cb)(const struct nlmsghdr *h, void *userdata);

/* Send one request and read replies until the ack (or the end of a dump).
 * Every non-error, non-done message goes to cb. */
static int nl_talk(struct nl_req *r, nl_cb cb, void *userdata) {
	_cleanup_close_ int fd = nl_socket_open(NETLINK_ROUTE, 0, 0);
	_cleanup_free_ char *buf = NULL;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	if (fd < 0)
		return fd;
	buf = malloc(NL_BUF * 4);
	if (!buf)
		return -ENOMEM;
	r->h->nlmsg_flags |= NLM_F_ACK;
	if (sendto(fd, r->buf, r->h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, buf, NL_BUF * 4, 0);
		size_t left;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		left = (size_t)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				return e->error; /* 0 is the ack */
			}
			if (cb) {
				int k = cb(h, userdata);
				if (k < 0)
					return k;
			}
		}
	}
}

int nl_link_add(const char *name, const char *kind) {
	struct nl_req r;
	struct rtattr *linkinfo;

	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	req_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
	linkinfo = req_attr(&r, IFLA_LINKINFO, NULL, 0);
	req_attr(&r, IFLA_INFO_KIND, kind, strlen(kind));
	req_nest_end(&r, linkinfo);
	return nl_talk(&r, NULL, NULL);
}

int nl_veth_add(const char *name, const char *peer, int peer_netns_fd) {
	struct nl_req r;
	struct rtattr *linkinfo, *data, *peer_attr;
	struct ifinfomsg peer_ifi = { 0 };
	uint32_t fd = (uint32_t)peer_netns_fd;

	if (strlen(name) >= IFNAMSIZ || strlen(peer) >= IFNAMSIZ)
		return -EINVAL;
	req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	req_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
	linkinfo = req_attr(&r, IFLA_LINKINFO, NULL, 0);
	req_attr(&r, IFLA_INFO_KIND, "veth", 4);
	data = req_attr(&r, IFLA_INFO_DATA, NULL, 0);
	/* VETH_INFO_PEER holds an ifinfomsg, then the peer's attributes. */
	peer_attr = req_attr(&r, 1 /* VETH_INFO_PEER */, &peer_ifi, sizeof(peer_ifi));
	req_attr(&r, IFLA_IFNAME, peer, strlen(peer) + 1);
	if (peer_netns_fd >= 0)
		req_attr(&r, IFLA_NET_NS_FD, &fd, sizeof(fd));
	req_nest_end(&r, peer_attr);
	req_nest_end(&r, data);
	req_nest_end(&r, linkinfo);
	return nl_talk(&r, NULL, NULL);
}

int nl_link_del(int ifindex) {
	struct nl_req r;
	struct ifinfomsg *ifi = req_init(&r, RTM_DELLINK, 0, sizeof(*ifi));

	ifi->ifi_index = ifindex;
	return nl_talk(&r, NULL, NULL);
}

int nl_link_set_netns(int ifindex, int netns_fd) {
	struct nl_req r;
	struct ifinfomsg *ifi = req_init(&r, RTM_NEWLINK, 0, sizeof(*ifi));
	uint32_t fd = (uint32_t)netns_fd;

	ifi->ifi_index = ifindex;
	req_attr(&r, IFLA_NET_NS_FD, &fd, sizeof(fd));
	return nl_talk(&r, NULL, NULL);
}

int nl_link_rename(int ifindex, const char *name) {
	struct nl_req r;
	struct ifinfomsg *ifi = req_init(&r, RTM_NEWLINK, 0, sizeof(*ifi));

	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	ifi->ifi_index = ifindex;
	req_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
	return nl_talk(&r, NULL, NULL);
}

static int route_get_cb(const struct nlmsghdr *h, void *userdata) {
	const struct rtmsg *rtm = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*rtm));

	if (h->nlmsg_type != RTM_NEWROUTE || len < 0)
		return 0;
	for (const struct rtattr *a = RTM_RTA(rtm); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(uint32_t))
			memcpy(userdata, RTA_DATA(a), sizeof(int));
	return 0;
}

int nl_route_get(const struct ipaddr *dst, int *oif) {
	struct nl_req r;
	struct rtmsg *rtm = req_init(&r, RTM_GETROUTE, 0, sizeof(*rtm));
	size_t alen = dst->family == AF_INET ? 4 : 16;
	int found = 0, k;

	rtm->rtm_family = (unsigned char)dst->family;
	rtm->rtm_dst_len = (unsigned char)(alen * 8);
	req_attr(&r, RTA_DST, dst->bytes, alen);
	/* The reply to a GETROUTE is the route itself, then no ack: read it
	 * through the callback and treat the missing ack as the end. */
	r.h->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
	{
		_cleanup_close_ int fd = nl_socket_open(NETLINK_ROUTE, 0, 0);
		char buf[NL_BUF];
		struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
		ssize_t n;
		size_t left;

		if (fd < 0)
			return fd;
		if (sendto(fd, r.buf, r.h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
			return -errno;
		do
			n = recv(fd, buf, sizeof(buf), 0);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
		left = (size_t)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				return e->error ? e->error : -EPROTO;
			}
			k = route_get_cb(h, &found);
			if (k < 0)
				return k;
		}
	}
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
	int r;
};

static int link_cb(const struct nlmsghdr *h, void *userdata) {
	struct dump_ctx *c = userdata;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	struct nl_link l = { .ifindex = ifi->ifi_index, .flags = ifi->ifi_flags };
	struct nl_link *arr = c->items;
	int k;

	if (h->nlmsg_type != RTM_NEWLINK || len < 0)
		return 0;
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case IFLA_IFNAME:
			snprintf(l.name, sizeof(l.name), "%.*s", (int)RTA_PAYLOAD(a), (const char *)RTA_DATA(a));
			break;
		case IFLA_MTU:
			if (RTA_PAYLOAD(a) >= 4)
				memcpy(&l.mtu, RTA_DATA(a), 4);
			break;
		case IFLA_MASTER:
			if (RTA_PAYLOAD(a) >= 4)
				memcpy(&l.master, RTA_DATA(a), 4);
			break;
		case IFLA_LINKINFO: {
			int ilen = (int)RTA_PAYLOAD(a);
			for (const struct rtattr *b = RTA_DATA(a); RTA_OK(b, ilen); b = RTA_NEXT(b, ilen))
				if (b->rta_type == IFLA_INFO_KIND)
					snprintf(l.kind, sizeof(l.kind), "%.*s", (int)RTA_PAYLOAD(b),
						 (const char *)RTA_DATA(b));
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
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifa));
	struct nl_addr x = { .ifindex = (int)ifa->ifa_index };
	struct nl_addr *arr = c->items;
	const struct rtattr *addr = NULL, *local = NULL;
	size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;
	int k;

	if (h->nlmsg_type != RTM_NEWADDR || len < 0 ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return 0;
	for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFA_ADDRESS)
			addr = a;
		else if (a->rta_type == IFA_LOCAL)
			local = a;
	}
	if (local)
		addr = local; /* on point-to-point links IFA_ADDRESS is the peer */
	if (!addr || RTA_PAYLOAD(addr) < alen)
		return 0;
	x.addr.addr.family = ifa->ifa_family;
	memcpy(x.addr.addr.bytes, RTA_DATA(addr), alen);
	x.addr.prefix = ifa->ifa_prefixlen;
	k = ARRAY_APPEND(arr, c->n, x);
	c->items = arr;
	return k;
}

static int routes_cb(const struct nlmsghdr *h, void *userdata) {
	struct dump_ctx *c = userdata;
	const struct rtmsg *rtm = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*rtm));
	struct nl_route x = { 0 };
	struct nl_route *arr = c->items;
	size_t alen = rtm->rtm_family == AF_INET ? 4 : 16;
	uint32_t table = rtm->rtm_table;
	int k;

	if (h->nlmsg_type != RTM_NEWROUTE || len < 0 || rtm->rtm_family != c->family)
		return 0;
	x.dst.addr.family = rtm->rtm_family;
	x.dst.prefix = rtm->rtm_dst_len;
	for (const struct rtattr *a = RTM_RTA(rtm); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case RTA_DST:
			if (RTA_PAYLOAD(a) >= alen)
				memcpy(x.dst.addr.bytes, RTA_DATA(a), alen);
			break;
		case RTA_GATEWAY:
			if (RTA_PAYLOAD(a) >= alen) {
				x.has_gateway = true;
				x.gateway.family = rtm->rtm_family;
				memcpy(x.gateway.bytes, RTA_DATA(a), alen);
			}
			break;
		case RTA_OIF:
			if (RTA_PAYLOAD(a) >= 4)
				memcpy(&x.oif, RTA_DATA(a), 4);
			break;
		case RTA_TABLE:
			if (RTA_PAYLOAD(a) >= 4)
				memcpy(&table, RTA_DATA(a), 4);
			break;
		}
	}
	if (table != RT_TABLE_MAIN || rtm->rtm_type != RTN_UNICAST)
		return 0;
	k = ARRAY_APPEND(arr, c->n, x);
	c->items = arr;
	return k;
}

static int dump(uint16_t type, int family, size_t body, nl_cb cb, struct dump_ctx *c) {
	struct nl_req r;
	unsigned char *fam = req_init(&r, type, NLM_F_DUMP, body);
	int k;

	*fam = (unsigned char)family; /* the family is the first byte of each header */
	c->family = family;
	k = nl_talk(&r, cb, c);
	if (k < 0) {
		free(c->items);
		c->items = NULL;
		c->n = 0;
	}
	return k;
}

int nl_dump_links(struct nl_link **out, size_t *n) {
	struct dump_ctx c = { 0 };
	int k = dump(RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg), link_cb, &c);

	*out = c.items;
	*n = c.n;
	return k;
}

int nl_dump_addrs(struct nl_addr **out, size_t *n) {
	struct dump_ctx c = { 0 };
	int k = dump(RTM_GETADDR, AF_UNSPEC, sizeof(struct ifaddrmsg), addr_cb, &c);

	*out = c.items;
	*n = c.n;
	return k;
}

int nl_dump_routes(int family, struct nl_route **out, size_t *n) {
	struct dump_ctx c = { 0 };
	int k = dump(RTM_GETROUTE, family, sizeof(struct rtmsg), routes_cb, &c);

	*out = c.items;
	*n = c.n;
	return k;
}

int nl_conntrack_flush(int family) {
	struct nl_req r;
	struct nfgenmsg *g = req_init(&r, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE, 0,
				      sizeof(*g));
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char buf[NL_BUF];
	ssize_t n;

	/* A delete without a tuple flushes the whole table of that family. */
	g->nfgen_family = (uint8_t)family;
	g->version = NFNETLINK_V0;
	r.h->nlmsg_flags |= NLM_F_ACK;
	if (fd < 0)
		return -errno;
	if (sendto(fd, r.buf, r.h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	do
		n = recv(fd, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);
			return e->error;
		}
		break;
	}
	return -EPROTO;
}

int nl_link_monitor_open(void) {
	return nl_socket_open(NETLINK_ROUTE, SOCK_NONBLOCK, RTMGRP_LINK);
}

int nl_nft_monitor_open(void) {
	return nl_socket_open(NETLINK_NETFILTER, SOCK_NONBLOCK, 1u << (NFNLGRP_NFTABLES - 1));
}

int nl_monitor_drain(int fd) {
	char buf[NL_BUF];
	int any = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n > 0) {
			any = 1;
			continue;
		}
		if (n == 0 || errno == EAGAIN)
			return any;
		if (errno == EINTR)
			continue;
		/* ENOBUFS: events were lost, so something happened. */
		if (errno == ENOBUFS)
			any = 1;
		else
			return -errno;
	}
}

int nl_link_monitor_read(int fd, int ifindex) {
	char buf[NL_BUF];
	int gone = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		size_t left;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return gone;
			/* ENOBUFS: events were lost; the caller checks the link
			 * itself. */
			return errno == ENOBUFS ? gone : -errno;
		}
		left = (size_t)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			const struct ifinfomsg *ifi = NLMSG_DATA(h);
			if (h->nlmsg_type == RTM_DELLINK && h->nlmsg_len >= NLMSG_LENGTH(sizeof(*ifi)) &&
			    ifi->ifi_index == ifindex)
				gone = 1;
		}
	}
}
