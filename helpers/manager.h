/* SPDX-License-Identifier: MIT */
/* Asking the systemd manager about units (sd-bus): what `check` needs to
 * see whether a confined unit kept what the confinement takes away, and
 * whether it runs. As root it talks to the manager's private socket, as
 * systemctl does, so it works without a D-Bus daemon; otherwise over the
 * system bus. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct manager_unit {
	bool loaded;           /* LoadState "loaded" (a unit that exists) */
	char active_state[16]; /* "active", "inactive", "failed", ... */
	/* Services only: */
	bool is_service;
	uint64_t bounding_set;        /* the effective CapabilityBoundingSet */
	uint64_t restrict_namespaces; /* the namespace types it may create (0: none) */
	char **triggered_by;          /* units that start it (sockets, timers, paths) */
	size_t n_triggered_by;
};
void manager_unit_clear(struct manager_unit *u);

/* What systemd says about unit (loading it if it is not). -ENOTCONN when no
 * manager can be reached (not booted with systemd), other negative errnos
 * when the unit cannot be asked about. */
int manager_unit_get(const char *unit, struct manager_unit *out);

/* Queue a start job for unit (not waiting for it). -ENOTCONN without a
 * manager. */
int manager_unit_start(const char *unit);
/* The unit this process runs in (from its cgroup), e.g. "wg-up@tr.service";
 * a negative errno when it runs in none (a session, a shell). */
int manager_own_unit(char **unit);
/* Whether the systemd manager can be asked at all (it connects, as
 * manager_unit_get does, and hangs up). */
bool manager_reachable(void);
