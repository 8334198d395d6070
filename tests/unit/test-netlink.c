/* SPDX-License-Identifier: MIT */
/* The netlink layer without root: the messages rtnl.c builds (byte by byte
 * where it matters), the reply processing of netlink.c on crafted replies
 * (another request's sequence number, another port, an interrupted dump, a
 * truncated message, an error), the wg dump parser, and real requests that
 * need no privilege in the test's own namespace. */
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include "netlink.h"
#include "rtnl.h"
#include "test.h"
#include "util.h"
#include "wgtool.h"

/* The attribute of type in message m, or NULL. */
static const struct nlattr *find_attr(const struct nlmsghdr *h, size_t hdr_len, uint16_t type) {
	size_t left;

	for (const struct nlattr *a = nl_attr_first(h, hdr_len, &left); a; a = nl_attr_next(a, &left))
		if (nl_attr_type(a) == type)
			return a;
	return NULL;
}

static void test_addr_msg(void) {
	struct nl_msg m;
	struct ipnet a;
	const struct ifaddrmsg *ifa;
	const struct nlattr *local, *addr;

	CHECK(ipnet_parse("fd93:9701:1d00::2/64", false, &a) == 0, "parse");
	rtnl_addr_replace_msg(&m, 7, &a, true);
	ifa = NLMSG_DATA(&m.h);
	CHECK(!m.overflow, "fits");
	CHECK(m.h.nlmsg_type == RTM_NEWADDR, "type");
	CHECK((m.h.nlmsg_flags & (NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE)) ==
		      (NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE),
	      "replace: converges on a re-run (flags %#x)", m.h.nlmsg_flags);
	CHECK(ifa->ifa_family == AF_INET6 && ifa->ifa_prefixlen == 64 && ifa->ifa_index == 7, "header");
	CHECK(ifa->ifa_flags == IFA_F_NODAD, "nodad for IPv6");
	local = find_attr(&m.h, sizeof(*ifa), IFA_LOCAL);
	addr = find_attr(&m.h, sizeof(*ifa), IFA_ADDRESS);
	CHECK(local && nl_attr_len(local) == 16 && memcmp(nl_attr_data(local), a.addr.bytes, 16) == 0, "IFA_LOCAL");
	CHECK(addr && nl_attr_len(addr) == 16 && memcmp(nl_attr_data(addr), a.addr.bytes, 16) == 0, "IFA_ADDRESS");
	CHECK(m.h.nlmsg_len == NLMSG_LENGTH(sizeof(*ifa)) + 2 * NLA_ALIGN(NLA_HDRLEN + 16), "length %u",
	      m.h.nlmsg_len);

	CHECK(ipnet_parse("192.168.15.5/24", false, &a) == 0, "parse v4");
	rtnl_addr_replace_msg(&m, 3, &a, true);
	ifa = NLMSG_DATA(&m.h);
	CHECK(ifa->ifa_family == AF_INET && ifa->ifa_flags == 0, "no nodad for IPv4");
	local = find_attr(&m.h, sizeof(*ifa), IFA_LOCAL);
	CHECK(local && nl_attr_len(local) == 4 && memcmp(nl_attr_data(local), "\xc0\xa8\x0f\x05", 4) == 0,
	      "the host address, host bits kept");
}

static void test_route_msg(void) {
	struct nl_msg m;
	struct rtnl_route r = { .oif = 9 };
	const struct rtmsg *rtm;
	const struct nlattr *a;
	uint32_t v;

	/* The default route through the tunnel: no RTA_DST, on the link. */
	r.dst.addr.family = AF_INET;
	rtnl_route_replace_msg(&m, &r);
	rtm = NLMSG_DATA(&m.h);
	CHECK(rtm->rtm_family == AF_INET && rtm->rtm_dst_len == 0 && rtm->rtm_table == RT_TABLE_MAIN &&
		      rtm->rtm_type == RTN_UNICAST && rtm->rtm_scope == RT_SCOPE_LINK,
	      "default route header");
	CHECK(!find_attr(&m.h, sizeof(*rtm), RTA_DST), "no destination for a default route");
	a = find_attr(&m.h, sizeof(*rtm), RTA_OIF);
	CHECK(a && nl_attr_u32(a, &v) && v == 9, "output interface");

	/* A range via the bridge: the network, the gateway, universe scope. */
	CHECK(ipnet_parse("198.51.100.7/26", false, &r.dst) == 0, "parse");
	r.has_gateway = true;
	CHECK(ipaddr_parse("198.18.15.5", &r.gateway) == 0, "gw");
	rtnl_route_replace_msg(&m, &r);
	rtm = NLMSG_DATA(&m.h);
	CHECK(rtm->rtm_dst_len == 26 && rtm->rtm_scope == RT_SCOPE_UNIVERSE, "via a gateway");
	a = find_attr(&m.h, sizeof(*rtm), RTA_DST);
	CHECK(a && memcmp(nl_attr_data(a), "\xc6\x33\x64\x00", 4) == 0, "host bits cleared in RTA_DST");
	a = find_attr(&m.h, sizeof(*rtm), RTA_GATEWAY);
	CHECK(a && memcmp(nl_attr_data(a), "\xc6\x12\x0f\x05", 4) == 0, "RTA_GATEWAY");
}

static void test_request_kinds(void) {
	struct nl_msg m;

	/* NLM_F_REPLACE | NLM_F_EXCL are NLM_F_DUMP's bits: a create is no dump. */
	nl_msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_REPLACE, sizeof(struct ifinfomsg));
	CHECK(!m.dump, "a request that creates is not a dump (it waits for its ack)");
	nl_msg_init_dump(&m, RTM_GETLINK, sizeof(struct ifinfomsg));
	CHECK(m.dump && (m.h.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP, "a dump");
}

static void test_builder_limits(void) {
	struct nl_msg m;
	char big[NL_MSG_MAX];
	struct nlattr *nest;

	memset(big, 'x', sizeof(big));
	nl_msg_init(&m, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	nl_attr_put(&m, IFLA_IFNAME, big, sizeof(big));
	CHECK(m.overflow, "an attribute that does not fit is refused");
	CHECK(nl_request(NETLINK_ROUTE, &m, NULL, NULL) == -EMSGSIZE, "and the request is never sent");

	nl_msg_init(&m, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	nest = nl_nest_begin(&m, IFLA_LINKINFO);
	nl_attr_put(&m, IFLA_INFO_KIND, "veth", 4);
	nl_nest_end(&m, nest);
	CHECK(nest && (nest->nla_type & NLA_F_NESTED) && nest->nla_len == NLA_HDRLEN + NLA_ALIGN(NLA_HDRLEN + 4),
	      "a nest spans its members");
}

/* A crafted reply: messages appended to buf. */
struct reply {
	char buf[4096];
	size_t len;
};

static void reply_add(struct reply *rp, uint16_t type, uint16_t flags, uint32_t seq, uint32_t pid, const void *body,
		      size_t body_len) {
	struct nlmsghdr *h = (struct nlmsghdr *)(rp->buf + rp->len);

	memset(h, 0, NLMSG_SPACE(body_len));
	h->nlmsg_len = (uint32_t)NLMSG_LENGTH(body_len);
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	h->nlmsg_pid = pid;
	if (body_len)
		memcpy(NLMSG_DATA(h), body, body_len);
	rp->len += NLMSG_SPACE(body_len);
}

static int count_cb(const struct nlmsghdr *h, void *userdata) {
	(void)h;
	(*(int *)userdata)++;
	return 0;
}

static void test_reply_processing(void) {
	struct nlmsgerr ack = { .error = 0 }, eperm = { .error = -EPERM }, bogus = { .error = 5 };
	struct ifinfomsg ifi = { 0 };
	struct reply rp;
	int seen, result, k;

	/* A dump: two of ours, one of an earlier request and one for another
	 * port (skipped), then the end. */
	rp = (struct reply){ 0 };
	seen = 0;
	reply_add(&rp, RTM_NEWLINK, NLM_F_MULTI, 41, 100, &ifi, sizeof(ifi));
	reply_add(&rp, RTM_NEWLINK, NLM_F_MULTI, 42, 100, &ifi, sizeof(ifi));
	reply_add(&rp, RTM_NEWLINK, NLM_F_MULTI, 42, 101, &ifi, sizeof(ifi));
	reply_add(&rp, RTM_NEWLINK, NLM_F_MULTI, 42, 100, &ifi, sizeof(ifi));
	reply_add(&rp, NLMSG_DONE, NLM_F_MULTI, 42, 100, &ack, sizeof(int));
	k = nl_reply_process(rp.buf, rp.len, 42, 100, true, count_cb, &seen, &result);
	CHECK(k == 1 && result == 0 && seen == 2, "dump: %d messages of ours, end (k %d, result %d)", seen, k, result);

	/* A dump the kernel interrupted: start over. */
	rp = (struct reply){ 0 };
	reply_add(&rp, RTM_NEWLINK, NLM_F_MULTI | NLM_F_DUMP_INTR, 7, 100, &ifi, sizeof(ifi));
	k = nl_reply_process(rp.buf, rp.len, 7, 100, true, NULL, NULL, &result);
	CHECK(k == 1 && result == -EAGAIN, "interrupted dump: -EAGAIN (%d, %d)", k, result);

	/* A dump whose first datagram does not end it. */
	rp = (struct reply){ 0 };
	reply_add(&rp, RTM_NEWLINK, NLM_F_MULTI, 8, 100, &ifi, sizeof(ifi));
	k = nl_reply_process(rp.buf, rp.len, 8, 100, true, NULL, NULL, &result);
	CHECK(k == 0, "more to come");

	/* Requests end with their ack or error; an error of another request
	 * is not ours. */
	rp = (struct reply){ 0 };
	reply_add(&rp, NLMSG_ERROR, 0, 3, 100, &eperm, sizeof(eperm));
	reply_add(&rp, NLMSG_ERROR, 0, 4, 100, &ack, sizeof(ack));
	k = nl_reply_process(rp.buf, rp.len, 4, 100, false, NULL, NULL, &result);
	CHECK(k == 1 && result == 0, "the ack of our request, not the error of another (%d, %d)", k, result);
	rp = (struct reply){ 0 };
	reply_add(&rp, NLMSG_ERROR, 0, 5, 100, &eperm, sizeof(eperm));
	k = nl_reply_process(rp.buf, rp.len, 5, 100, false, NULL, NULL, &result);
	CHECK(k == 1 && result == -EPERM, "the kernel's error (%d)", result);
	rp = (struct reply){ 0 };
	reply_add(&rp, NLMSG_ERROR, 0, 5, 100, &bogus, sizeof(bogus));
	k = nl_reply_process(rp.buf, rp.len, 5, 100, false, NULL, NULL, &result);
	CHECK(k == 1 && result < 0, "a positive error is still an error (%d)", result);
	/* NLMSG_DONE means nothing to a request that is not a dump. */
	rp = (struct reply){ 0 };
	reply_add(&rp, NLMSG_DONE, 0, 6, 100, &ack, sizeof(int));
	k = nl_reply_process(rp.buf, rp.len, 6, 100, false, NULL, NULL, &result);
	CHECK(k == 0, "done does not end a request");

	/* Damaged datagrams. */
	rp = (struct reply){ 0 };
	reply_add(&rp, NLMSG_ERROR, 0, 9, 100, &ack, 2); /* shorter than nlmsgerr */
	k = nl_reply_process(rp.buf, rp.len, 9, 100, false, NULL, NULL, &result);
	CHECK(k == -EBADMSG, "an error message too short: %d", k);
	rp = (struct reply){ 0 };
	reply_add(&rp, RTM_NEWLINK, 0, 10, 100, &ifi, sizeof(ifi));
	k = nl_reply_process(rp.buf, rp.len - 4, 10, 100, true, NULL, NULL, &result);
	CHECK(k == -EBADMSG, "a message cut short: %d", k);
}

static void test_attr_walk(void) {
	struct nl_msg m;
	struct ifinfomsg *ifi = nl_msg_init(&m, RTM_NEWLINK, 0, sizeof(*ifi));
	size_t left;
	int n = 0;

	(void)ifi;
	nl_attr_put_str(&m, IFLA_IFNAME, "abc");
	nl_attr_put_u32(&m, IFLA_MTU, 1420);
	for (const struct nlattr *a = nl_attr_first(&m.h, sizeof(*ifi), &left); a; a = nl_attr_next(a, &left))
		n++;
	CHECK(n == 2, "two attributes walked");
	/* A length field pointing past the message: not visited. */
	((struct nlattr *)((char *)NLMSG_DATA(&m.h) + NLMSG_ALIGN(sizeof(*ifi))))->nla_len = 4000;
	n = 0;
	for (const struct nlattr *a = nl_attr_first(&m.h, sizeof(*ifi), &left); a; a = nl_attr_next(a, &left))
		n++;
	CHECK(n == 0, "an attribute longer than the message is not visited");
}

static void test_wg_dump(void) {
	struct wg_dump d;
	const char *dump = "cHJpdmF0ZS1rZXktbmV2ZXItY29waWVkLWFueXdoZXJlLg==\tpubkey=\t51820\toff\n"
			   "peer=\tpsk-secret\t192.0.2.1:51820\t0.0.0.0/0,::/0\t1700000000\t1234\t5678\t25\n"
			   "peer2=\t(none)\t(none)\t(none)\t0\t0\t0\toff\n";

	CHECK(wg_dump_parse(dump, &d) == 0, "parse");
	CHECK_STREQ(d.public_key, "pubkey=", "own public key");
	CHECK(d.listen_port == 51820 && d.n_peers == 2, "port and peers");
	if (d.n_peers == 2) {
		CHECK(streq(d.peers[0].endpoint, "192.0.2.1:51820") && streq(d.peers[0].allowed_ips, "0.0.0.0/0,::/0") &&
			      d.peers[0].latest_handshake == 1700000000 && d.peers[0].rx == 1234 &&
			      d.peers[0].tx == 5678 && d.peers[0].keepalive == 25,
		      "peer fields");
		CHECK(d.peers[1].endpoint[0] == '\0' && d.peers[1].allowed_ips[0] == '\0' && d.peers[1].keepalive == 0,
		      "(none) and off");
	}
	CHECK(!memmem(&d, sizeof(d), "private", 7), "no private key kept");
	wg_dump_clear(&d);
	CHECK(wg_dump_parse("", &d) == -EBADMSG, "empty output");
	CHECK(wg_dump_parse("a\tb\t1\toff\nshort\tline\n", &d) == -EBADMSG, "a peer line with too few fields");
}

/* Real requests that need no privilege, in the test's own namespace. */
static void test_live(void) {
	_cleanup_free_ struct rtnl_link *links = NULL;
	_cleanup_free_ struct rtnl_addr *addrs = NULL;
	size_t nl = 0, na = 0;
	struct ipaddr lo;
	bool have_lo = false;
	int oif = 0, r;

	r = rtnl_dump_links(&links, &nl);
	CHECK(r == 0, "dump links: %d", r);
	for (size_t i = 0; i < nl; i++)
		have_lo |= streq(links[i].name, "lo") && links[i].ifindex == (int)if_nametoindex("lo");
	CHECK(have_lo, "lo in the link dump");
	r = rtnl_dump_addrs(&addrs, &na);
	CHECK(r == 0, "dump addrs: %d", r);
	ipaddr_parse("127.0.0.1", &lo);
	r = rtnl_route_get(&lo, &oif);
	/* lo may be down in a bare test namespace; then there is no route. */
	CHECK((r == 0 && oif == (int)if_nametoindex("lo")) || r == -ENETUNREACH, "route to 127.0.0.1: %d oif %d", r,
	      oif);
	r = rtnl_link_del(999999);
	CHECK(r == -ENODEV || r == -EPERM, "the kernel's errno comes back: %d", r);
}

int main(void) {
	test_addr_msg();
	test_route_msg();
	test_request_kinds();
	test_builder_limits();
	test_reply_processing();
	test_attr_walk();
	test_wg_dump();
	test_live();
	return test_done();
}
