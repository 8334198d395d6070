/* SPDX-License-Identifier: MIT */
#include "conntrack.h"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "netlink.h"
#include "util.h"

int conntrack_flush(int family) {
	struct nl_msg m;
	struct nfgenmsg *g = nl_msg_init(&m, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE, 0, sizeof(*g));

	/* A delete without a tuple flushes the whole table of that family. */
	g->nfgen_family = (uint8_t)family;
	g->version = NFNETLINK_V0;
	return nl_request(NETLINK_NETFILTER, &m, NULL, NULL);
}
