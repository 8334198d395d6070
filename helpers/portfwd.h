/* SPDX-License-Identifier: MIT */
/* vpn-confinement port-forward N (PortForwarding=natpmp): the provider's
 * forwarded port, kept for as long as it runs.
 *
 * It runs inside namespace N (vpn-portfwd@N.service), beside the tunnel's
 * supervisor, never in it: while the tunnel is up (the run record $RUNDIR/N/wg
 * says so and N0 exists) it asks the gateway (PortForwardingGateway=, else
 * the tunnel's first IPv4 DNS server as wg-up wrote it into the namespace's
 * resolv.conf) for a mapping of UDP and TCP (portmap.h), lifetime 60 s,
 * renewed at three quarters of the lifetime granted (45 s), through N0
 * only (gateway.h). The port mapped is:
 *  - opened on N0 in the namespace's ruleset, by one transaction over the
 *    sets forwarded_tcp and forwarded_udp (ruleset_forwarded_text()): the
 *    old port closes as the new one opens; the kill switch is never
 *    reloaded;
 *  - published in $RUNDIR/N/forwarded-port (the number and a newline,
 *    replaced atomically) and, with the gateway, its age and the hook's
 *    state, in $RUNDIR/N/portfwd for `status`;
 *  - handed to PortForwardingHook= (hook.h), again after every change and
 *    every new tunnel session, and quietly every other renewal (a client
 *    that restarted on a port of its own configuration is told again).
 * A new tunnel session (the record's epoch changed: wg-up ran again, or the
 * supervisor reconnected or failed over) is asked for again at once, and
 * the sets filled again (wg-up's new ruleset has them empty). A gateway
 * that does not answer, or refuses, is asked again after 2 s, 4 s, ... up
 * to 60 s, each failure logged with its cause (RFC 6886 result codes by
 * name); the tunnel and its kill switch are not touched. A mapping that
 * could not be renewed within its lifetime is closed and unpublished.
 * SIGHUP asks the gateway again at once (the back-off forgotten) and
 * tells the client again.
 * SIGTERM closes the port, unpublishes it, deletes the mapping at a
 * standard gateway (one that assigns ports itself is left to expire: its
 * own clients never delete) and stops a running hook. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "hook.h"
#include "names.h"
#include "portmap.h"

struct ns_config;

#define PORTFWD_LIFETIME 60      /* seconds asked for (RFC 6886 allows any) */
#define PORTFWD_RENEW_MAX 45     /* renewed at 3/4 of the lifetime granted, at most this */
#define PORTFWD_HOOK_TIMEOUT 60  /* seconds a hook may run */
#define PORTFWD_RETELL_EVERY 2   /* renewals between quiet re-tellings (hook_retell) */

struct portfwd_opts {
	uint32_t lifetime;     /* seconds (PORTFWD_LIFETIME) */
	unsigned hook_timeout; /* seconds (PORTFWD_HOOK_TIMEOUT) */
};

/* Run until SIGTERM or SIGINT (sigfd: a signalfd for those, SIGHUP and
 * SIGCHLD, blocked, non-blocking). 0 after a stop whose clean-up worked, a negative errno when
 * it could not start or clean up. */
int portfwd_run(const struct ns_names *n, const struct ns_config *ns, const struct portfwd_opts *o, int sigfd);

/* $RUNDIR/N/portfwd: what `status` shows. Read back, every value is
 * checked against what port-forward writes. */
struct portfwd_record {
	pid_t pid;          /* port-forward's */
	uint64_t pid_start; /* its start time (/proc/PID/stat) */
	struct ipaddr gateway; /* family 0: none known */
	enum portmap_kind kind;
	uint16_t port;         /* the one published (0: none) */
	uint16_t tcp, udp;     /* by protocol (0: not mapped) */
	uint64_t since;        /* unix time the port was first mapped */
	uint64_t renewed;      /* unix time of the last renewal */
	uint32_t lifetime;     /* granted, seconds */
	int error;             /* the last cycle's (portmap_result.error), 0 */
	uint64_t error_since;  /* unix time of the first failure in a row */
	enum hook_state hook;
	int hook_status;       /* of its last run */
	uint16_t hook_port;    /* of its last run */
};
/* -ENOENT when there is none, -EBADMSG when a line is not what
 * port-forward writes (*rec cleared). */
int portfwd_record_load(const char *ns, struct portfwd_record *rec);
/* Whether rec's pid is the port-forward that wrote it (same start time). */
bool portfwd_record_running(const struct portfwd_record *rec);
/* The tunnel's NAT-PMP gateway when none is configured: the first IPv4
 * nameserver of $RUNDIR/N/resolv.conf (wg-up's, from the wg config's DNS=).
 * -ENOENT when there is none. */
int portfwd_default_gateway(const char *ns, struct ipaddr *out);
