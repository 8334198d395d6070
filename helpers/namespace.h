/* SPDX-License-Identifier: MIT */
/* Namespace N as netns-up makes it and netns-down removes it: the named
 * network namespace with its kill switch, the bridge and veth pair, their
 * addresses and routes, the host table, the host's forwarding for the port
 * mappings, and the namespace's resolv.conf.
 *
 * namespace_up() converges: what exists already (from an earlier run, or
 * left by a crash: $RUNDIR/N/netns marks it ours) is kept and brought to
 * the wanted state; addresses and routes are replaced, each nft transaction
 * replaces its table whole. What does not exist is created, and
 * namespace_undo() removes exactly what this run created. */
#pragma once

#include <stdbool.h>

#include "names.h"

struct ns_config;

/* What namespace_up() did, for namespace_undo(). */
struct namespace_up_state {
	bool marker, netns, bridge, veth, host_table, sysctls;
};

int namespace_up(const struct ns_names *n, const struct ns_config *ns, struct namespace_up_state *u);
void namespace_undo(const struct ns_names *n, const struct namespace_up_state *u);

/* Remove what netns-up made, from the name and the run directory alone:
 * the tunnel first (tunnel.h), the host table, the links, the host's
 * forwarding, the namespace, the run directory. Keeps going; reports each
 * failure; returns the number of steps that failed (0: all done), or a
 * negative errno for an invalid name. Without $RUNDIR/N/netns only the
 * host table (ours by its name) is removed. */
int namespace_down(const struct ns_names *n);

/* The host side outlives a host firewall reload only if someone puts it
 * back: put the host table and the forwarding guard back when they are
 * gone (while the namespace and its tunnel are up and staying); turn the
 * forwarding off when the guard cannot be. For the tunnel's supervisor. */
void namespace_host_side_ensure(const struct ns_names *n, const struct ns_config *ns);
