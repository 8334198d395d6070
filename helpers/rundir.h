/* SPDX-License-Identifier: MIT */
/* The run directory: $VPN_CONFINEMENT_RUNDIR (default /run/vpn-confinement)
 * and one directory $RUNDIR/N per namespace N, where the helper keeps what
 * it must find again (vpn-confinement(8) lists the files).
 *
 * Root's only: both levels are 0700 and owned by the helper's user (a
 * looser mode left by an older version is tightened). Every path below
 * $RUNDIR is opened component by component with openat() and O_NOFOLLOW,
 * so no link planted there leads elsewhere; a file read back must be a
 * regular file of ours. Whoever parses what is read (the wg run file, the
 * host-sysctl claims) validates it against what the helper itself could
 * have written: nothing from here is trusted. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define RUNDIR_FILE_MAX (1024 * 1024)

/* The file names, documented in vpn-confinement(8). */
#define RUN_NETNS "netns"       /* netns-up was here: N's links and netns are ours */
#define RUN_WG "wg"             /* the tunnel's record (tunnel.h) */
#define RUN_WG_STOPPING "wg-stopping"
#define RUN_RESOLV "resolv.conf" /* bind-mounted by confined services */
#define RUN_WG_LOG "wireguard-go.log"
#define RUN_HOST_SYSCTL "host-sysctl" /* claims on host sysctls (hostfwd.h) */
#define RUN_HEALTH "health"     /* the tunnel supervisor's health state (health.h) */
#define RUN_FORWARDED_PORT "forwarded-port" /* the forwarded port and a newline (portfwd.h) */
#define RUN_PORTFWD "portfwd"               /* port-forward's state, for status (portfwd.h) */

/* An fd of $RUNDIR/N (O_DIRECTORY), made 0700 first when create is true;
 * -ENOENT when it is not there, -EINVAL for an invalid name, -EPERM when
 * it (or $RUNDIR) belongs to someone else, -ELOOP for a link. */
int rundir_ns_open(const char *ns, bool create);

/* Read $RUNDIR/N/FILE (at most RUNDIR_FILE_MAX bytes, NUL-terminated);
 * -ENOENT when absent, -EPERM when it is not a regular file of ours. */
/* An fd of $RUNDIR/N/FILE for reading, with the same checks. */
int rundir_open_read(const char *ns, const char *file);
int rundir_read(const char *ns, const char *file, char **out);
bool rundir_exists(const char *ns, const char *file);
/* Read $RUNDIR/N/FILE as "key=value" lines (the records of wg-up and
 * port-forward), each handed to field(), which checks it: -EBADMSG at the
 * first line without '=' or that field() refuses; -ENOENT and -EPERM as
 * rundir_read(). */
int rundir_read_fields(const char *ns, const char *file,
		       int (*field)(void *userdata, const char *key, const char *value), void *userdata);
/* Replace $RUNDIR/N/FILE atomically (mode 0600), making the directories
 * when needed. */
int rundir_write(const char *ns, const char *file, const char *content);
/* Rewrite it in place, keeping its inode: for files that services
 * bind-mount (resolv.conf), which a rename would leave pointing at the old
 * content. Created 0644 if missing. */
int rundir_write_inplace(const char *ns, const char *file, const char *content);
/* Open it for appending (a log), created 0600. Returns an fd. */
int rundir_open_append(const char *ns, const char *file);
/* Remove a file; 0 when already gone. */
int rundir_remove(const char *ns, const char *file);
/* Remove $RUNDIR/N when empty (0 also when it is not, or not there). */
int rundir_rmdir(const char *ns);
/* "$RUNDIR/N/FILE", for messages. */
int rundir_path(const char *ns, const char *file, char **out);

/* Namespace names with a directory in $RUNDIR, sorted; the caller frees
 * each and the array. A missing $RUNDIR is an empty list. */
int rundir_list(char ***out, size_t *n);

/* An exclusive lock over all namespaces' claims (flock on $RUNDIR itself,
 * no lock file); closing the fd unlocks. */
int rundir_lock(void);
