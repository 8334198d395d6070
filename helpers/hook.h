/* SPDX-License-Identifier: MIT */
/* PortForwardingHook=: telling the client the forwarded port. The hook is
 * a child of port-forward, never waited for (renewals go on while it
 * runs), in the namespace (port-forward runs there), with the port as its
 * last argument and in $VPN_CONFINEMENT_FORWARDED_PORT (and the namespace
 * in $VPN_CONFINEMENT_NAMESPACE), stdin /dev/null, its output logged line
 * by line, its exit status logged. It runs as root without any capability
 * and cannot gain one (proc_spawn_unprivileged()), in a session of its own;
 * after the timeout its process group gets SIGTERM, 5 s later SIGKILL.
 *
 * A run is owed after every new port and every tunnel reconnect
 * (hook_request()), and the port is told again now and then (hook_retell(),
 * every other renewal): a client that restarted on the port of its own
 * configuration (NixOS's Transmission module writes its peer-port at every
 * start) gets it back. Such a run is quiet: its output is logged only when
 * it fails. One that fails (exit status not 0, a signal, the
 * timeout) is run again after 2 s, 4 s, ... up to 60 s between runs until
 * one succeeds: a client that starts after the tunnel is not listening
 * yet. A request while a run is going on is run once that one ends. Port
 * 0 is never handed over. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cmdline.h"

#define HOOK_LINE_MAX 1024
#define HOOK_KEPT_MAX 4096 /* of a quiet run's output */

enum hook_state { HOOK_NONE, HOOK_PENDING, HOOK_RUNNING, HOOK_OK, HOOK_FAILED };
const char *hook_state_str(enum hook_state s); /* "none", "pending", "running", "ok", "failed" */

struct hook {
	const struct cmdline *cmd; /* argc 0: no hook */
	const char *ns;
	unsigned timeout_ms;

	uint16_t want;      /* the port to tell (0: nothing owed) */
	bool owed;          /* a run is owed for want */
	bool owed_quiet;    /* ... a re-telling (hook_retell) */
	int64_t due_ms;     /* not before (the back-off) */
	unsigned failures;  /* in a row */
	enum hook_state state;
	int last_status;    /* of the last run: exit status, 128+signal, -1 timeout */
	uint16_t last_port; /* of the last run */

	pid_t pid;          /* the running one, 0 if none */
	uint16_t port;      /* its port */
	int out_fd;         /* its output, -1 */
	int64_t deadline_ms, kill_ms;
	bool term_sent;
	bool quiet;         /* its output kept, logged only if it fails */
	char line[HOOK_LINE_MAX];
	size_t line_len;
	char kept[HOOK_KEPT_MAX];
	size_t kept_len;
};

void hook_init(struct hook *h, const struct cmdline *cmd, const char *ns, unsigned timeout_ms);
/* A run with port is owed (now, whatever the back-off): a new port or a
 * reconnect. Port 0 cancels what is owed. */
void hook_request(struct hook *h, uint16_t port, int64_t now);
/* Tell port again, quietly, unless a run is owed, running, or failed
 * (then the retries do it). */
void hook_retell(struct hook *h, uint16_t port, int64_t now);
/* Start a run when one is owed and due; enforce the timeout. */
void hook_tick(struct hook *h, int64_t now);
/* Its output fd (poll for POLLIN), -1 when none. */
int hook_fd(const struct hook *h);
/* Read and log what it wrote. */
void hook_read(struct hook *h);
/* After SIGCHLD: reap it, log the outcome, schedule a retry if it failed. */
void hook_reap(struct hook *h, int64_t now);
/* When hook_tick() next has something to do (INT64_MAX: nothing). */
int64_t hook_next_ms(const struct hook *h);
/* Kill a running one (its group) and reap it: at exit. */
void hook_stop(struct hook *h);
