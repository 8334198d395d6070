/* SPDX-License-Identifier: MIT */
/* Connection tracking, over netfilter's netlink (netlink.h). */
#pragma once

/* Flush the conntrack table of one family (AF_INET, AF_INET6) of the
 * current network namespace, as `conntrack -F` does. */
int conntrack_flush(int family);
