/* SPDX-License-Identifier: MIT */
/* Named network namespaces (/run/netns/N, compatible with `ip netns`),
 * entering and leaving them, sysctls, and the per-namespace run directory.
 *
 * The helper is single-threaded: netns_enter() switches the whole process
 * (the one thread), so libnftables, rtnetlink and /proc/sys/net all act on
 * the namespace entered, and netns_leave() switches back. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Open /run/netns/N. -ENOENT when missing, -ENOTTY when the path exists but
 * is not a mounted network namespace (a leftover empty file). */
int netns_open(const char *name);
/* Create /run/netns/N as `ip netns add` does (shared /run/netns mount, a bind
 * mount of a new namespace). -EEXIST when it exists. */
int netns_create(const char *name);
/* Unmount and remove /run/netns/N; 0 when it is not there. */
int netns_remove(const char *name);

/* Enter the namespace open at fd; *saved gets an fd of the current one. */
int netns_enter(int fd, int *saved);
/* Go back to *saved and close it. Aborts if that fails: running on in the
 * wrong namespace could apply host rules inside N or the reverse. */
void netns_leave(int *saved);
static inline void netns_leavep(int *saved) {
	if (*saved >= 0)
		netns_leave(saved);
}
#define _cleanup_netns_leave_ _cleanup_(netns_leavep)

/* Sysctls by their /proc/sys path ("net/ipv4/conf/eth0/forwarding"), in the
 * current namespace. Read strips the trailing newline. */
int sysctl_read(const char *key, char *buf, size_t size);
int sysctl_write(const char *key, const char *value);

/* Run directory of namespace N: $VPN_CONFINEMENT_RUNDIR/N (0755). */
int state_dir(const char *ns, char **out);
int state_path(const char *ns, const char *file, char **out);
int state_mkdir(const char *ns);
/* Atomically replace $RUNDIR/N/FILE with content (mode 0644). */
int state_write(const char *ns, const char *file, const char *content);
/* Read it; -ENOENT when absent. */
int state_read(const char *ns, const char *file, char **out);
bool state_exists(const char *ns, const char *file);
/* Rewrite $RUNDIR/N/FILE in place (created 0644 if missing), keeping its
 * inode: for files that services bind-mount (resolv.conf), which a rename
 * would leave pointing at the old content. */
int state_write_inplace(const char *ns, const char *file, const char *content);
/* Remove a file; 0 when already gone. */
int state_remove(const char *ns, const char *file);
/* Remove $RUNDIR/N when empty (0 also when it is not). */
int state_rmdir(const char *ns);
/* The value of "key=value" line in text, into a new string; NULL if none. */
char *state_get(const char *text, const char *key);

/* Host sysctls changed for namespace N, restored by netns-down. Several
 * namespaces may need the same setting: each records its claim in
 * $RUNDIR/N/host-sysctl ("KEY<TAB>ORIGINAL" lines) and the original value
 * is taken over from an earlier claim, so only the last namespace to go
 * down restores it. */
int host_sysctl_claim(const char *ns, char *const *keys, size_t n, const char *value);
/* Restore every claim of N no other namespace holds; remove the record.
 * Reports each failure to stderr and returns the first error. */
int host_sysctl_release(const char *ns);
