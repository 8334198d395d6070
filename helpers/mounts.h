/* SPDX-License-Identifier: MIT */
/* Mounts in a mount namespace of this process's own, for `vpn-confinement
 * exec` (confine.h): what systemd's BindReadOnlyPaths=,
 * TemporaryFileSystem= and InaccessiblePaths= do for a service. */
#pragma once

#include <sys/types.h>

/* A mount namespace of its own, whose mounts the host does not see; the
 * host's later mounts still propagate in (MS_SLAVE, recursively). */
int mounts_unshare(void);
/* Bind src (a path, or /proc/self/fd/N) over dst, read-only, nosuid,
 * nodev. */
int mounts_bind_ro(const char *src, const char *dst);
/* An empty tmpfs of mode at dst (nosuid, nodev, noexec). */
int mounts_tmpfs(const char *dst, mode_t mode);
/* The file system mounted at dst made read-only: every mount of it, the
 * binds made from it too. */
int mounts_make_ro(const char *dst);
