/* SPDX-License-Identifier: MIT */
#include "netlink.h"

#include <sys/socket.h>

#include "util.h"

#define NL_RECV_BUF (64 * 1024) /* a dump's datagrams are at most a few pages */

void *nl_msg_init(struct nl_msg *m, uint16_t type, uint16_t flags, size_t hdr_len) {
	memset(m, 0, sizeof(*m));
	m->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(hdr_len);
	m->h.nlmsg_type = type;
	m->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	return NLMSG_DATA(&m->h);
}

void *nl_msg_init_dump(struct nl_msg *m, uint16_t type, size_t hdr_len) {
	void *hdr = nl_msg_init(m, type, NLM_F_DUMP, hdr_len);

	m->dump = true;
	return hdr;
}

static void *msg_tail(struct nl_msg *m) { return m->buf + NLMSG_ALIGN(m->h.nlmsg_len); }

void nl_attr_put(struct nl_msg *m, uint16_t type, const void *data, size_t len) {
	size_t off = NLMSG_ALIGN(m->h.nlmsg_len);
	struct nlattr *a;

	if (m->overflow || len > UINT16_MAX - NLA_HDRLEN || off + NLA_ALIGN(NLA_HDRLEN + len) > sizeof(m->buf)) {
		m->overflow = true;
		return;
	}
	a = msg_tail(m);
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	memset((char *)a + NLA_HDRLEN + len, 0, NLA_ALIGN(NLA_HDRLEN + len) - (NLA_HDRLEN + len));
	m->h.nlmsg_len = (uint32_t)(off + NLA_ALIGN(NLA_HDRLEN + len));
}

void nl_msg_append(struct nl_msg *m, const void *data, size_t len) {
	size_t off = NLMSG_ALIGN(m->h.nlmsg_len);

	if (m->overflow || off + NLMSG_ALIGN(len) > sizeof(m->buf)) {
		m->overflow = true;
		return;
	}
	memset(m->buf + off, 0, NLMSG_ALIGN(len));
	memcpy(m->buf + off, data, len);
	m->h.nlmsg_len = (uint32_t)(off + NLMSG_ALIGN(len));
}

void nl_attr_put_u32(struct nl_msg *m, uint16_t type, uint32_t v) { nl_attr_put(m, type, &v, sizeof(v)); }

void nl_attr_put_str(struct nl_msg *m, uint16_t type, const char *s) { nl_attr_put(m, type, s, strlen(s) + 1); }

struct nlattr *nl_nest_begin(struct nl_msg *m, uint16_t type) {
	struct nlattr *a = msg_tail(m);

	nl_attr_put(m, type | NLA_F_NESTED, NULL, 0);
	return m->overflow ? NULL : a;
}

void nl_nest_end(struct nl_msg *m, struct nlattr *nest) {
	if (nest && !m->overflow)
		nest->nla_len = (uint16_t)(m->buf + m->h.nlmsg_len - (char *)nest);
}

static const struct nlattr *attr_check(const struct nlattr *a, size_t *left) {
	if (*left < NLA_HDRLEN || a->nla_len < NLA_HDRLEN || a->nla_len > *left)
		return NULL;
	return a;
}

const struct nlattr *nl_attr_first(const struct nlmsghdr *h, size_t hdr_len, size_t *left) {
	size_t off = NLMSG_LENGTH(NLMSG_ALIGN(hdr_len));

	if (h->nlmsg_len < off) {
		*left = 0;
		return NULL;
	}
	*left = h->nlmsg_len - off;
	return attr_check((const struct nlattr *)((const char *)h + off), left);
}

const struct nlattr *nl_nested_first(const struct nlattr *a, size_t *left) {
	*left = nl_attr_len(a);
	return attr_check((const struct nlattr *)nl_attr_data(a), left);
}

const struct nlattr *nl_attr_next(const struct nlattr *a, size_t *left) {
	size_t step = NLA_ALIGN(a->nla_len);

	if (step >= *left) {
		*left = 0;
		return NULL;
	}
	*left -= step;
	return attr_check((const struct nlattr *)((const char *)a + step), left);
}

bool nl_attr_u32(const struct nlattr *a, uint32_t *v) {
	if (nl_attr_len(a) < sizeof(*v))
		return false;
	memcpy(v, nl_attr_data(a), sizeof(*v));
	return true;
}

int nl_reply_process(const void *buf, size_t len, uint32_t seq, uint32_t portid, bool dump, nl_reply_fn cb,
		     void *userdata, int *result) {
	size_t left = len;

	for (const struct nlmsghdr *h = buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		/* A message of an earlier request on a reused port, or
		 * addressed elsewhere: not ours to read. */
		if (h->nlmsg_seq != seq || h->nlmsg_pid != portid)
			continue;
		if (h->nlmsg_flags & NLM_F_DUMP_INTR) {
			*result = -EAGAIN;
			return 1;
		}
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EBADMSG;
			/* 0 is the ack; the kernel sends -errno. */
			*result = e->error > 0 ? -EPROTO : e->error;
			return 1;
		}
		if (h->nlmsg_type == NLMSG_DONE && dump) {
			*result = 0;
			return 1;
		}
		if (cb) {
			int k = cb(h, userdata);
			if (k < 0)
				return k;
		}
	}
	/* Bytes that do not make a whole message: the datagram is damaged. */
	return left > 0 ? -EBADMSG : 0;
}

static int socket_open(int protocol, int flags, uint32_t groups, uint32_t *portid) {
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | flags, protocol);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	socklen_t sl = sizeof(sa);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	if (portid) {
		if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
			return -errno;
		*portid = sa.nl_pid;
	}
	return TAKE_FD(fd);
}

int nl_request(int protocol, struct nl_msg *m, nl_reply_fn cb, void *userdata) {
	static uint32_t seq_counter;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	bool dump = m->dump;
	uint32_t portid = 0;
	int result = 0;

	if (m->overflow)
		return -EMSGSIZE;
	fd = socket_open(protocol, 0, 0, &portid);
	if (fd < 0)
		return fd;
	buf = malloc(NL_RECV_BUF);
	if (!buf)
		return -ENOMEM;
	m->h.nlmsg_seq = ++seq_counter;
	m->h.nlmsg_pid = 0; /* to the kernel */
	/* A dump ends with NLMSG_DONE; every other request with its ack. */
	if (!dump)
		m->h.nlmsg_flags |= NLM_F_ACK;
	if (sendto(fd, m->buf, m->h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		struct iovec iov = { .iov_base = buf, .iov_len = NL_RECV_BUF };
		struct msghdr mh = { .msg_name = &kernel, .msg_namelen = sizeof(kernel), .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n = recvmsg(fd, &mh, 0);
		int k;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (mh.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		if (kernel.nl_pid != 0)
			continue; /* not from the kernel */
		k = nl_reply_process(buf, (size_t)n, m->h.nlmsg_seq, portid, dump, cb, userdata, &result);
		if (k < 0)
			return k;
		if (k == 1)
			return result;
	}
}

int nl_monitor_open(int protocol, uint32_t groups) {
	return socket_open(protocol, SOCK_NONBLOCK, groups, NULL);
}

int nl_monitor_read(int fd, nl_reply_fn cb, void *userdata) {
	_cleanup_free_ char *buf = malloc(NL_RECV_BUF);
	int any = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = recv(fd, buf, NL_RECV_BUF, 0);
		size_t left;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return any;
			/* Events were lost: something happened; the caller looks. */
			if (errno == ENOBUFS) {
				any = 1;
				continue;
			}
			return -errno;
		}
		any = 1;
		left = (size_t)n;
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; cb && NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			int k = cb(h, userdata);
			if (k < 0)
				return k;
		}
	}
}
