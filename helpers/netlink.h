/* SPDX-License-Identifier: MIT */
/* A minimal netlink transport, in the spirit of libmnl and wireguard-tools'
 * netlink.h: a message builder, and one request function through which
 * every request of the helper goes (rtnl.c, conntrack.c). It checks what a
 * careless client does not: the reply's sequence number and port id (a
 * message for someone else is skipped), a datagram cut short (MSG_TRUNC),
 * a dump the kernel interrupted because the table changed under it
 * (NLM_F_DUMP_INTR: the caller starts over), and the error or ack that ends
 * every request. Everything acts in the network namespace of the calling
 * thread at the time of the call. */
#pragma once

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NL_MSG_MAX 2048 /* the helper's requests are small and fixed in shape */

struct nl_msg {
	union {
		struct nlmsghdr h;
		char buf[NL_MSG_MAX];
	};
	bool overflow; /* an attribute did not fit: the request is refused */
	bool dump;     /* a dump (nl_msg_init_dump): it ends with NLMSG_DONE */
};

/* Start a request of type with flags (NLM_F_REQUEST added) and a family
 * header of hdr_len bytes, zeroed; returns the header to fill in. */
void *nl_msg_init(struct nl_msg *m, uint16_t type, uint16_t flags, size_t hdr_len);
/* The same for a dump request (NLM_F_DUMP). Not a flag test: NLM_F_DUMP's
 * bits mean NLM_F_REPLACE and NLM_F_EXCL in a request that creates. */
void *nl_msg_init_dump(struct nl_msg *m, uint16_t type, size_t hdr_len);
void nl_attr_put(struct nl_msg *m, uint16_t type, const void *data, size_t len);
void nl_attr_put_u32(struct nl_msg *m, uint16_t type, uint32_t v);
void nl_attr_put_str(struct nl_msg *m, uint16_t type, const char *s); /* with its NUL */
/* Bytes that are not an attribute (a header inside a nest), aligned. */
void nl_msg_append(struct nl_msg *m, const void *data, size_t len);
/* A nested attribute: put its members between begin and end. */
struct nlattr *nl_nest_begin(struct nl_msg *m, uint16_t type);
void nl_nest_end(struct nl_msg *m, struct nlattr *nest);

/* Called for every message of the reply but the final ack/error/done. */
typedef int (*nl_reply_fn)(const struct nlmsghdr *h, void *userdata);

/* Send m on a new socket of protocol (NETLINK_ROUTE, NETLINK_NETFILTER)
 * and read the reply: every message (a dump's, a get's) to cb (may be NULL),
 * until the ack of a request or the end of a dump. Returns 0, the kernel's
 * error as a negative errno, -EAGAIN for an interrupted dump (start over),
 * -EMSGSIZE for a truncated datagram, -EBADMSG for a malformed reply, or
 * what cb returned (negative). */
int nl_request(int protocol, struct nl_msg *m, nl_reply_fn cb, void *userdata);

/* The reply-processing part of nl_request, on one received datagram:
 * messages whose seq or port id are not ours are skipped. Returns 1 when
 * the reply ended (*result set: 0 or a negative errno), 0 when more is to
 * come, a negative errno on a malformed datagram or from cb. Exposed for
 * the unit tests. */
int nl_reply_process(const void *buf, size_t len, uint32_t seq, uint32_t portid, bool dump, nl_reply_fn cb,
		     void *userdata, int *result);

/* Attributes of a message after its family header of hdr_len bytes, and
 * of a nested attribute; only attributes that fit whole are visited:
 *   size_t left;
 *   for (const struct nlattr *a = nl_attr_first(h, sizeof(*ifi), &left); a;
 *        a = nl_attr_next(a, &left)) */
const struct nlattr *nl_attr_first(const struct nlmsghdr *h, size_t hdr_len, size_t *left);
const struct nlattr *nl_nested_first(const struct nlattr *a, size_t *left);
const struct nlattr *nl_attr_next(const struct nlattr *a, size_t *left);
static inline uint16_t nl_attr_type(const struct nlattr *a) { return a->nla_type & NLA_TYPE_MASK; }
static inline const void *nl_attr_data(const struct nlattr *a) { return (const char *)a + NLA_HDRLEN; }
static inline size_t nl_attr_len(const struct nlattr *a) { return a->nla_len - NLA_HDRLEN; }
/* A u32 attribute's value; false when it is shorter. */
bool nl_attr_u32(const struct nlattr *a, uint32_t *v);

/* A socket subscribed to multicast groups of protocol (a mask of group
 * bits), non-blocking, for event monitors. */
int nl_monitor_open(int protocol, uint32_t groups);
/* Read what is pending: each message to cb (may be NULL). Returns 1 when
 * anything arrived or events were lost (ENOBUFS: the caller looks for
 * itself), 0 when nothing did, or a negative errno. */
int nl_monitor_read(int fd, nl_reply_fn cb, void *userdata);
