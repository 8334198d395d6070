/* SPDX-License-Identifier: MIT */
/* The WireGuard tunnel N0 of namespace N (wg-up, wg-down).
 *
 * The interface is created in the host namespace under a temporary unique
 * name "vc-N-XXXX", so its UDP socket lives (and stays) on the host side,
 * configured there with `wg setconf` (the key through a pipe), then moved
 * into N and renamed to N0; addresses, routes, resolv.conf, and the full
 * ruleset in one transaction follow.
 *
 * wireguard-go (the userspace implementation) names its control socket
 * WG_SOCKET_DIR/NAME.sock after the name at creation, in a directory shared
 * by all namespaces; the socket keeps the temporary name (N0.sock could
 * collide with a host interface of that name). The name and wireguard-go's
 * pid are recorded in $RUNDIR/N/wg. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "names.h"

struct ns_config;
struct wg_config;

#define WG_SOCKET_DIR "/var/run/wireguard"

/* $RUNDIR/N/wg, "key=value" lines that wg-up writes. Read back, every value
 * is checked against what wg-up itself could have written: the
 * implementation is one of three words; the names are "vc-N-XXXX" of this
 * namespace N; the pid is acted on only when the kernel says it is that
 * wireguard-go (tunnel_wgo_is_ours). */
struct tunnel_record {
	const char *implementation; /* "kernel", "userspace", or "pending" during wg-up */
	char tmpname[16];           /* the name at creation, "vc-N-XXXX" */
	bool has_socket;            /* userspace: its control socket is named tmpname */
	pid_t pid;                  /* userspace: wireguard-go's pid, 0 if unknown */
	uint64_t pid_start;         /* and its start time (/proc/PID/stat) */
	uint64_t started;           /* unix time wg-up made it, 0 if unknown */
	/* Changes (grows) whenever the peer session may have changed: each
	 * bring-up, and each reconnect or failover of the supervisor. Whoever
	 * set something up on the tunnel (a forwarded port) redoes it when it
	 * sees a new epoch. Nanoseconds of CLOCK_REALTIME at the change. */
	uint64_t epoch;
};

/* -ENOENT when there is no record, -EBADMSG when any line is not what
 * wg-up writes (then *rec is cleared: nothing of it is used). */
int tunnel_record_load(const char *ns, struct tunnel_record *rec);
int tunnel_record_save(const char *ns, const struct tunnel_record *rec);
/* A new epoch for rec (greater than its current one). */
void tunnel_record_new_epoch(struct tunnel_record *rec);
/* Whether s is a temporary interface name of namespace ns. */
bool tunnel_tmpname_valid(const char *ns, const char *s);
/* Whether the kernel says rec->pid is the wireguard-go that wg-up started:
 * same start time, its executable, serving rec->tmpname. */
bool tunnel_wgo_is_ours(const struct tunnel_record *rec);
/* The device `wg` reaches it by: the socket's name, or N0 (kernel). */
const char *tunnel_wg_device(const struct ns_names *n, const struct tunnel_record *rec);

/* What tunnel_up() did, for tunnel_undo(). */
struct tunnel_up_state {
	bool recorded; /* the record exists: a teardown finds everything */
	struct tunnel_record rec;
};

/* Bring the tunnel up in a namespace that netns-up made (replacing a
 * running one); endpoints are resolved in wg (the literal address goes into
 * the config). Reports each failure. */
int tunnel_up(const struct ns_names *n, const struct ns_config *ns, struct wg_config *wg,
	      struct tunnel_up_state *u);
/* After a failed tunnel_up(): remove what it made, put the base ruleset
 * back. */
void tunnel_undo(const struct ns_names *n, const struct ns_config *ns, const struct tunnel_up_state *u);

/* wg-down, from the name and the run directory alone: put the base ruleset
 * back (restore_base; rendered with ns's AllowedEgress=, without any when
 * ns is NULL: the ini could not be used), delete the interface (either
 * name, either side), flush the namespace's conntrack but for the flows
 * through the veth to AllowedEgress= (they stay on their path), stop
 * wireguard-go, withdraw resolv.conf, remove the record. Keeps going;
 * reports each failure; returns the first. */
int tunnel_teardown(const struct ns_names *n, const struct ns_config *ns, bool restore_base);
