/* SPDX-License-Identifier: MIT */
/* What confinement takes from a confined process, in one place: the
 * generator writes it into every confined service's drop-in, `vpn-confinement
 * exec` applies it to one command, and `check` looks for a service that got
 * a capability back. vpn-confinement-generator(8) says why each is there. */
#pragma once

#include <stddef.h>

/* The capabilities removed from the bounding set. */
struct confinement_cap {
	int cap;          /* CAP_* */
	const char *name; /* "CAP_NET_ADMIN" */
};
extern const struct confinement_cap confinement_caps[];
extern const size_t n_confinement_caps;

/* Resolvers outside the namespace: made inaccessible (with the run
 * directory, the configuration and the wg configs, which depend on the
 * installation and the namespaces). */
extern const char *const confinement_resolver_paths[];
extern const size_t n_confinement_resolver_paths;
/* Service managers' private sockets (root would start a process outside
 * the namespace through them): inaccessible. */
extern const char *const confinement_manager_paths[];
extern const size_t n_confinement_manager_paths;
/* Directories replaced by an empty read-only file system, so that what is
 * made there later stays out of sight too: wireguard-go's control sockets
 * (both spellings), ip-netns's files. */
extern const char *const confinement_empty_dirs[];
extern const size_t n_confinement_empty_dirs;

/* Every WireGuard configuration a file of the set names (WireGuardConfigFile=,
 * every namespace's, valid or not): inaccessible too, they hold the keys.
 * Each path once, in the set's order; *out points into the set (the
 * caller frees the array only). 0 or -ENOMEM. */
struct ns_config_set;
int confinement_wg_files(const struct ns_config_set *set, const char ***out, size_t *n);

/* The confined processes' /etc/nsswitch.conf: host names from /etc/hosts
 * and DNS (the namespace's resolv.conf) only. */
extern const char confinement_nsswitch[];
