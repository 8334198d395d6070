/* SPDX-License-Identifier: MIT */
/* The host's forwarding for the port mappings, and its guard.
 *
 * netns-up turns on forwarding per interface (net.ipv4.conf.IF.forwarding,
 * net.ipv6.conf.IF.force_forwarding) on the interfaces that lead to the
 * AccessibleFrom ranges; never ip_forward or conf.all. Each namespace
 * records its claims in $RUNDIR/N/host-sysctl ("KEY<TAB>ORIGINAL" lines,
 * the value before any namespace of ours changed it), under one lock for
 * all namespaces, so the last namespace to go down restores the value.
 *
 * Forwarding on an interface would let the host forward anything arriving
 * there to any of its networks; the guard, table "inet
 * vpn-confinement-forwarding" (ruleset.h), forwards from those interfaces
 * only to the namespaces' bridges. It is rendered from all namespaces'
 * claims, applied before forwarding goes on and removed after it goes off.
 *
 * Nothing read back is trusted: a claim is exactly one of the two keys
 * above, of an interface name this helper could have written, with an
 * original value of 0 or 1; any other line is reported and ignored. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "names.h"

struct host_claim {
	int family; /* AF_INET or AF_INET6 */
	char ifname[NS_IFNAME_SIZE];
	bool original; /* the value to restore */
};

/* Whether a host interface can be claimed (and put into the guard):
 * [A-Za-z0-9_.-], 1 to 15 characters, and not "all", "default", "lo", "."
 * or "..". */
bool hostfwd_ifname_ok(const char *ifname);

/* The sysctl key of a claim ("net/ipv4/conf/IF/forwarding"). */
int hostfwd_claim_key(const struct host_claim *c, char *buf, size_t size);

/* Namespace ns's claims, validated (see above); *n_bad counts the lines
 * refused. -ENOENT when it has none. */
int hostfwd_claims_load(const char *ns, struct host_claim **out, size_t *n, size_t *n_bad);

/* Claim forwarding on (family, ifname) for ns and turn it on: record the
 * original values first (taken over from another namespace's claim when
 * there is one), then the guard, then the sysctls. original is ignored. */
int hostfwd_claim(const char *ns, const struct host_claim *wanted, size_t n);

/* Restore every claim of ns that no other namespace holds, remove its
 * record, then update the guard. Reports each failure to stderr; returns
 * the first error. */
int hostfwd_release(const char *ns);

/* Render the guard from all claims and apply it (delete it when there are
 * none); under the claims lock. With only_if_missing, nothing is done when
 * the table is there (the supervisor's check after a host firewall reload).
 * Returns 1 when it (re)applied a missing table, else 0 or a negative
 * errno. */
int hostfwd_guard_update(bool only_if_missing);
