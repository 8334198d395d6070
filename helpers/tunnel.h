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
	struct tunnel_record rec; /* an epoch set here is where the new one starts above */
	unsigned resolve_attempts; /* 0: $VPN_CONFINEMENT_RESOLVE_ATTEMPTS, default 6 */
};

/* Bring the tunnel up in a namespace that netns-up made (replacing a
 * running one); endpoints are resolved in wg (the literal address goes into
 * the config). Reports each failure. */
int tunnel_up(const struct ns_names *n, const struct ns_config *ns, struct wg_config *wg,
	      struct tunnel_up_state *u);
/* After a failed tunnel_up(): remove what it made, put the base ruleset
 * back. */
void tunnel_undo(const struct ns_names *n, const struct ns_config *ns, const struct tunnel_up_state *u);

/* A wg config as wg-up uses it: refused unless root owns it and no one
 * else can write it (wgconf_check_owner), parsed strictly; its messages
 * (warnings too) printed. 0 or a negative errno. */
int tunnel_config_load(const struct ns_config *ns, const char *path, struct wg_config **out);

/* Reconnect in place, on the running tunnel (rec) of namespace n: resolve
 * wg's endpoint names again (once, in the host namespace) and set its
 * peers on the device with `wg setconf` (a fresh session: a new handshake
 * at the next packet). With other_config (wg is another of the ini's
 * configs: a failover or failback) N0 is also made that config's
 * (addresses, MTU, routes of its DNS servers), resolv.conf rewritten in
 * place, the namespace ruleset replaced in one transaction and the
 * namespace's conntrack flushed. N0, the namespace and the ruleset are
 * never deleted: the kill switch has no gap. rec's epoch is renewed and
 * saved. On failure the device may be half-set: rebuild it. */
int tunnel_reconnect(const struct ns_names *n, const struct ns_config *ns, struct tunnel_record *rec, struct wg_config *wg,
		     bool other_config);

/* Whether the tunnel's device has completed a handshake with a peer:
 * 1 (and *when, unix time of the newest), 0 not yet (or no tunnel), or a
 * negative errno when the device cannot be read. */
int tunnel_handshake(const struct ns_names *n, uint64_t *when);

/* Wait until tunnel_handshake() says 1 (a look every half second; without
 * a tunnel, until there is one): 1 and *when, 0 when timeout_ms (0: no
 * limit) passed first, a negative errno (reported). */
int tunnel_wait_handshake(const struct ns_names *n, uint64_t timeout_ms, uint64_t *when);

/* A failback trial: a handshake with wg's peers from a WireGuard device of
 * its own in the host namespace ("vc-N-XXXX", up, no address, no route;
 * a persistent keepalive makes it handshake at once, no ListenPort), beside
 * the tunnel, which it does not touch. */
struct tunnel_trial {
	bool made;
	struct tunnel_record rec; /* its name, and wireguard-go's pid */
};
int tunnel_trial_start(const struct ns_names *n, const struct ns_config *ns, struct wg_config *wg, bool kernel,
		       struct tunnel_trial *t);
/* 1 when a peer answered (a handshake), 0 not yet, a negative errno. */
int tunnel_trial_answered(const struct tunnel_trial *t);
/* Delete the device, stop its wireguard-go. */
int tunnel_trial_stop(const struct ns_names *n, struct tunnel_trial *t);

/* wg-down, from the name and the run directory alone: put the base ruleset
 * back (restore_base; rendered with ns's AllowedEgress=, without any when
 * ns is NULL: the ini could not be used), delete the interface (either
 * name, either side, and any other "vc-N-XXXX" on the host: a failback
 * trial's), flush the namespace's conntrack but for the flows
 * through the veth to AllowedEgress= (they stay on their path), stop
 * wireguard-go, withdraw resolv.conf, remove the record. Keeps going;
 * reports each failure; returns the first. */
int tunnel_teardown(const struct ns_names *n, const struct ns_config *ns, bool restore_base);
