/* SPDX-License-Identifier: MIT */
/* The forwarding guard: netns-up turns on forwarding per interface for the
 * port mappings (net.ipv4.conf.IF.forwarding, net.ipv6.conf.IF.force_forwarding),
 * which would let the host forward anything arriving there to any of its
 * networks. The guard, table "inet vpn-confinement-forwarding" on the host,
 * forwards from those interfaces only to the namespaces' bridges, so the
 * host forwards nothing it did not forward before. It is rendered from all
 * namespaces' claims ($RUNDIR/N/host-sysctl) and deleted with the last one. */
#pragma once

#include <stdbool.h>

#define FORWARD_GUARD_TABLE "vpn-confinement-forwarding"

/* Whether an interface name can be put into the guard (and so have its
 * forwarding turned on): [A-Za-z0-9_.-]. */
bool forward_guard_ifname_ok(const char *ifname);

/* Re-render the guard from every claim and apply it in the current (host)
 * namespace; delete it when there are none. The caller holds the claims
 * lock (netns.c). */
int forward_guard_update(void);
