/* SPDX-License-Identifier: MIT */
/* Shared pieces of the runtime subcommands (netns-up/down, wg-up/down,
 * status, check): names of one namespace, loading its config with
 * diagnostics, applying rulesets. The run directory is rundir.h. */
#pragma once

#include <stdbool.h>

#include "config.h"
#include "names.h"
#include "wgconf.h"

struct ns_names {
	char ns[NS_NAME_MAX + 1];
	char netns_path[NS_PATH_SIZE];
	char bridge[NS_IFNAME_SIZE];
	char veth_host[NS_IFNAME_SIZE];
	char veth_ns[NS_IFNAME_SIZE];
	char wg[NS_IFNAME_SIZE];
	char host_table[NS_PATH_SIZE];
};

/* Fill every name; -EINVAL (printed) when ns is not a valid name. */
int ns_names_init(struct ns_names *n, const char *ns);

/* Load N's ini (with the cross-file checks), printing diagnostics. Returns 0,
 * or the exit code to use (EXIT_CONFIG). */
int runtime_load_config(const char *ns, struct ns_config **out);
/* Load the wg config named by the ini, printing diagnostics (warnings too).
 * Returns 0 or EXIT_CONFIG. */
int runtime_load_wg(const struct ns_config *ns, struct wg_config **out);

/* Apply an nft transaction in the current network namespace; on failure
 * prints "vpn-confinement: STEP: nft: MESSAGE". */
int runtime_nft_apply(const char *step, const char *text);

/* Apply a rendered table that is known not to exist in the current
 * namespace, faster (see runtime.c). */
int runtime_nft_create(const char *step, const char *text, const char *table);
/* Whether table "inet TABLE" exists in the current namespace (true when
 * that cannot be told). */
bool runtime_nft_table_exists(const char *table);

/* /etc/netns, where `ip netns exec` looks for per-namespace files;
 * $VPN_CONFINEMENT_NETNS_ETCDIR overrides it (tests). */
const char *netns_etcdir(void);

/* The tear-down of wg-down, shared with netns-down: delete the interface,
 * stop wireguard-go, flush conntrack, put the base ruleset back (when
 * ns_config is given and the namespace exists), remove the resolv.conf files
 * and the wg run files. Reports each failure; returns 0 or the first error. */
int wg_teardown(const struct ns_names *names, const struct ns_config *ns, bool restore_base);

/* Boundary helper: argv must be exactly "CMD N"; prints usage otherwise. */
int parse_ns_arg(int argc, char **argv, const char *usage, const char **ns);
