/* SPDX-License-Identifier: MIT */
/* The tunnel's health, as its supervisor (wg-up --foreground) judges it:
 * the decisions, as a state machine fed with what the device says, and the
 * record the supervisor keeps of them in $RUNDIR/N/health for `status`.
 * The supervisor (supervisor.c) does what the machine decides; nothing here
 * touches the network, so the decisions are tested on their own
 * (tests/unit/test-health.c).
 *
 * A sign of life is anything that only a live peer can cause: a newer
 * handshake, or more bytes received from it (WireGuard authenticates every
 * packet, keepalives included). Silence alone is no failure: an idle
 * tunnel has no handshakes (WireGuard renews its session only while it
 * sends). A failure is silence while something was sent that a live peer
 * answers: for HealthCheckTimeout since the last sign of life, with the
 * first unanswered packet at least half of it ago. When the tunnel has been
 * quiet for a third of the timeout, the supervisor sends a probe of its own
 * through it (a DNS query to the config's first DNS server, or an echo
 * request to HealthCheckAddress=), so that an idle tunnel is judged too:
 * a live peer answers it, or at least with a keepalive (WireGuard's passive
 * keepalive, after 10 s).
 *
 * On a failure the supervisor recovers, in steps, each given the timeout
 * to show a sign of life: first in place (the endpoint resolved again, the
 * peer set again on the same device: a fresh handshake, nothing else
 * touched), then a rebuild of the tunnel (as a restart of wg-up would,
 * without one), alternating; after FailoverAfter failed recoveries on a
 * config, the next WireGuardConfigFile= (in place too). On a later config,
 * every FailbackAfter it tries a handshake with the first config on a
 * device of its own beside the tunnel, and moves back only when that
 * peer answered. When the host has no route to the endpoint (no uplink),
 * it waits, and counts nothing. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum health_state {
	HEALTH_CONNECTING, /* up; no sign of life since the bring-up */
	HEALTH_ONLINE,	   /* a sign of life lately */
	HEALTH_CHECKING,   /* quiet for a third of the timeout: probing */
	HEALTH_RECOVERING, /* a recovery was done (or failed): waiting for a sign of life */
	HEALTH_NO_UPLINK,  /* the host has no route to the endpoint: waiting */
	HEALTH_DOWN,	   /* no tunnel (a rebuild failed): retrying */
	_HEALTH_STATE_MAX,
};

enum health_action {
	HEALTH_ACT_NONE,
	HEALTH_ACT_IN_PLACE, /* endpoint resolved again, peer set again, same device */
	HEALTH_ACT_REBUILD,  /* the tunnel taken down and brought up again */
	HEALTH_ACT_FAILOVER, /* to the next config */
	HEALTH_ACT_FAILBACK, /* back to the first config (its peer answered a trial) */
	_HEALTH_ACT_MAX,
};

enum health_reason {
	HEALTH_REASON_NONE,
	HEALTH_REASON_SILENT,            /* no sign of life for the timeout */
	HEALTH_REASON_STEP_FAILED,       /* the previous step itself failed, or left no tunnel */
	HEALTH_REASON_FAILED_RECOVERIES, /* FailoverAfter recoveries on the config did not help */
	HEALTH_REASON_FAILBACK,          /* FailbackAfter passed and the first config's peer answered */
	_HEALTH_REASON_MAX,
};

/* The words of the record, status and the journal ("online",
 * "in-place", "no-sign-of-life", ...); NULL out of range. */
const char *health_state_str(enum health_state s);
const char *health_action_str(enum health_action a);
const char *health_reason_str(enum health_reason r);

#define HEALTH_CONFIGS_MAX 64 /* WireGuardConfigFile= lines the record can name */

/* $RUNDIR/N/health: "key=value" lines, written whole (rundir_write) on
 * every change. Read back, every key must be one of these and every value
 * what the supervisor could have written (numbers in range, words from the
 * lists above, an absolute path of the ini's characters), or the whole
 * record is refused. Times are unix seconds, 0 for never. */
struct health_record {
	enum health_state state;
	uint64_t since;		/* when it entered the state */
	unsigned config;	/* the active WireGuardConfigFile=, from 0 */
	unsigned n_configs;	/* of how many */
	char *config_path;	/* its path */
	uint64_t timeout;	/* HealthCheckTimeout= in seconds, 0: infinity */
	uint64_t started;	/* when this supervisor started */
	uint64_t first_handshake; /* its first sign of life (readiness), 0: none yet */
	uint64_t last_handshake;  /* the newest handshake of the peers */
	uint64_t last_sign;	  /* the last sign of life */
	uint64_t recoveries;	  /* in-place reconnects, rebuilds, failovers */
	uint64_t failovers;
	uint64_t failbacks;
	unsigned failed;	  /* failed recoveries in a row on the active config */
	uint64_t last_recovery;	  /* the last step and why */
	enum health_action last_action;
	enum health_reason last_reason;
	uint64_t last_switch;	  /* the last change of config, from which */
	unsigned switch_from;
	uint64_t last_trial;	  /* the last failback trial and whether its peer answered */
	bool trial_answered;
};

void health_record_clear(struct health_record *r);
/* -ENOENT when there is none, -EBADMSG when anything is not as written
 * (then *r is cleared), -ENOMEM. */
int health_record_load(const char *ns, struct health_record *r);
int health_record_save(const char *ns, const struct health_record *r);
/* The record's text, and its parser (for the unit tests). */
int health_record_format(const struct health_record *r, char **out);
int health_record_parse(const char *text, struct health_record *r);

struct ns_config;
/* The index of the WireGuardConfigFile= the record says is in use, when
 * cfg has that path at that place; -ENOENT otherwise. */
int health_config_index(const struct health_record *r, const struct ns_config *cfg);
/* The same from namespace ns's record: 0 without a (valid) record. */
unsigned health_active_config(const char *ns, const struct ns_config *cfg);

/* ---- the decisions ---------------------------------------------------- */

struct health_settings {
	uint64_t timeout_ms;  /* 0: infinity, no probes and no recoveries */
	unsigned failover_after;
	uint64_t failback_ms; /* 0: never */
	unsigned n_configs;
};

/* What the device said at one look. */
struct health_obs {
	uint64_t handshake; /* newest latest handshake of the peers, unix time, 0 never */
	uint64_t rx, tx;    /* bytes received and sent, summed over the peers */
};

/* What the supervisor does next. */
enum health_verdict {
	HEALTH_WAIT,
	HEALTH_PROBE,	/* send a probe through the tunnel, then health_probed() */
	HEALTH_RECOVER, /* check the uplink: health_no_uplink(), or health_plan() and act */
	HEALTH_TRIAL,	/* try a handshake with the first config: health_trial_started() */
};

struct health_plan {
	enum health_action action;
	enum health_reason reason;
	unsigned config; /* the config the tunnel will have */
};

struct health {
	struct health_settings set;
	struct health_record rec;
	/* Monotonic milliseconds. */
	uint64_t action_ms;	/* the bring-up or the last step */
	uint64_t sign_ms;	/* the last sign of life since then, 0: none */
	uint64_t unanswered_ms; /* the first send since the last sign, 0: none */
	uint64_t probe_ms;	/* the last probe since action_ms, 0: none */
	uint64_t switched_ms;	/* when the active config became active */
	uint64_t retry_ms;	/* after a failed step: when to try the next */
	uint64_t trial_ms;	/* a failback trial runs since then, 0: none */
	bool grace;		/* a step was taken and has its timeout to show a sign of life */
	bool changed;		/* the record changed since health_saved() */
	struct health_obs base; /* the device's counters at the previous look */
};

/* A supervisor starts: the tunnel is up with config (of set->n_configs),
 * counters at 0 (a new device). path is copied. */
int health_init(struct health *h, const struct health_settings *set, unsigned config, const char *path,
		uint64_t now_ms, uint64_t now_unix);
void health_done(struct health *h);

/* How often the supervisor looks at the device: a fifth of the timeout,
 * between 1 and 5 seconds. */
uint64_t health_tick_ms(const struct health_settings *set);

/* One look at the device. */
enum health_verdict health_observe(struct health *h, const struct health_obs *o, uint64_t now_ms, uint64_t now_unix);
/* The look failed (the device could not be read): only the timers. */
enum health_verdict health_no_look(struct health *h, uint64_t now_ms, uint64_t now_unix);
void health_probed(struct health *h, uint64_t now_ms);
/* HEALTH_RECOVER, but the host has no route to the endpoint: wait, and
 * count nothing (no recovery, no failover). */
void health_no_uplink(struct health *h, uint64_t now_ms, uint64_t now_unix);
/* HEALTH_RECOVER with an uplink: the next step (this counts the previous
 * step as failed when its timeout passed without a sign of life). */
struct health_plan health_plan(struct health *h);
/* The step was taken (ok: the tunnel has p->config, a fresh device or
 * session, path names it), or failed (up: the tunnel is as it was; else
 * there is none). */
int health_acted(struct health *h, const struct health_plan *p, bool ok, bool up, const char *path, uint64_t now_ms,
		 uint64_t now_unix);
/* A failback trial started; it ended (answered: the first config's peer
 * completed a handshake, then the supervisor takes the HEALTH_ACT_FAILBACK
 * step from health_failback_plan()). A trial unanswered for the timeout
 * (at least 15 s) ends unanswered. */
void health_trial_started(struct health *h, uint64_t now_ms, uint64_t now_unix);
bool health_trial_expired(const struct health *h, uint64_t now_ms);
void health_trial_ended(struct health *h, bool answered, uint64_t now_ms);
struct health_plan health_failback_plan(const struct health *h);
