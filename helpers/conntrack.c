/* SPDX-License-Identifier: MIT */
#include "conntrack.h"

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "netlink.h"
#include "util.h"

int conntrack_flush(int family, uint32_t keep) {
	struct nl_msg m;
	struct nfgenmsg *g = nl_msg_init(&m, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE, 0, sizeof(*g));

	/* A delete without a tuple flushes the whole table of that family;
	 * with CTA_MARK and CTA_MARK_MASK, the entries whose (mark & mask)
	 * equals that mark. */
	g->nfgen_family = (uint8_t)family;
	g->version = NFNETLINK_V0;
	if (keep) {
		nl_attr_put_u32(&m, CTA_MARK, htonl(0));
		nl_attr_put_u32(&m, CTA_MARK_MASK, htonl(keep));
	}
	return nl_request(NETLINK_NETFILTER, &m, NULL, NULL);
}
