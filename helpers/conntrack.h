/* SPDX-License-Identifier: MIT */
/* Connection tracking, over netfilter's netlink (netlink.h). */
#pragma once

#include <stdint.h>

/* Flush the conntrack table of one family (AF_INET, AF_INET6) of the
 * current network namespace, as `conntrack -F` does; but the entries whose
 * mark has any bit of keep stay (keep 0: all go). */
int conntrack_flush(int family, uint32_t keep);
