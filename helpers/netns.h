/* SPDX-License-Identifier: MIT */
/* Named network namespaces (/run/netns/N, compatible with `ip netns`):
 * creating, opening, entering and leaving them, removing them.
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

/* Move into the namespace open at fd for good (a process that lives
 * there); nothing when it is there already. */
int netns_join(int fd);

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
