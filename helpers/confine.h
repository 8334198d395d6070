/* SPDX-License-Identifier: MIT */
/* `vpn-confinement exec N [--user U] -- COMMAND...`: this process made into
 * what a service confined to namespace N is, then COMMAND. What the
 * generator's confinement drop-in asks of systemd
 * (vpn-confinement-generator(8)), done here, from the same lists
 * (common/confinement.h):
 *
 *   - in N's network namespace (setns());
 *   - in a mount namespace of its own (the host's mounts propagate in,
 *     not the other way), where the namespace's resolv.conf is bound over
 *     /etc/resolv.conf (through a link) and over
 *     /run/systemd/resolve/{stub-resolv.conf,resolv.conf} in a read-only
 *     tmpfs there, and the confinement's nsswitch.conf over
 *     /etc/nsswitch.conf; the run directory, the configuration
 *     directory, every namespace's WireGuard configuration, the host's
 *     resolvers' and the service managers' paths inaccessible (an empty
 *     mode-0 node over each); wireguard-go's socket directories and
 *     /etc/netns behind empty read-only file systems;
 *   - without the capabilities of the confinement, in the bounding set,
 *     the inheritable and the ambient sets;
 *   - optionally as another user, with that user's groups;
 *   - no_new_privs, and a filter that refuses new namespaces and setns()
 *     (seccomp.h, RestrictNamespaces=yes);
 *   - an environment of its own (confine_env()), no file descriptor of the
 *     caller's but 0, 1 and 2.
 *
 * It refuses unless N is up with its kill switch loaded as `vpn-confinement
 * ruleset N` renders it (status.h). Every step is reported on failure. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "names.h"

struct confine_opts {
	const char *user; /* a user name or numeric uid; NULL: stay root */
};

/* Confine this process (root) as above, and make the command's
 * environment: PATH (the caller's, or systemd's default), TERM, COLORTERM,
 * NO_COLOR, LANG, LANGUAGE, LC_* and TZ as the caller has them; HOME, USER,
 * LOGNAME and SHELL of the user it runs as; nothing else (*env a
 * NULL-terminated strv of *n_env strings, for strv_free()). 0 when only
 * the exec is left; a negative errno, reported, when it refuses or a step
 * fails: then the process may be half confined, and must only exit. */
int confine_self(const struct ns_names *n, const struct confine_opts *o, char ***env, size_t *n_env);

/* Execute argv[0] (searched in PATH when it has no '/') with env. Returns
 * only on failure: -ENOENT when it is not found, another negative errno
 * when it cannot be run. */
int confine_execute(char *const argv[], char *const env[]);
