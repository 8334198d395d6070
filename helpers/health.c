/* SPDX-License-Identifier: MIT */
#include "health.h"

#include "config.h"
#include "rundir.h"
#include "text.h"
#include "util.h"

static const char *const state_words[_HEALTH_STATE_MAX] = {
	[HEALTH_CONNECTING] = "connecting", [HEALTH_ONLINE] = "online",	  [HEALTH_CHECKING] = "checking",
	[HEALTH_RECOVERING] = "recovering", [HEALTH_NO_UPLINK] = "no-uplink", [HEALTH_DOWN] = "down",
};
static const char *const action_words[_HEALTH_ACT_MAX] = {
	[HEALTH_ACT_NONE] = "none",	    [HEALTH_ACT_IN_PLACE] = "in-place", [HEALTH_ACT_REBUILD] = "rebuild",
	[HEALTH_ACT_FAILOVER] = "failover", [HEALTH_ACT_FAILBACK] = "failback",
};
static const char *const reason_words[_HEALTH_REASON_MAX] = {
	[HEALTH_REASON_NONE] = "none",
	[HEALTH_REASON_SILENT] = "no-sign-of-life",
	[HEALTH_REASON_STEP_FAILED] = "step-failed",
	[HEALTH_REASON_FAILED_RECOVERIES] = "failed-recoveries",
	[HEALTH_REASON_FAILBACK] = "failback-due",
};

const char *health_state_str(enum health_state s) { return (unsigned)s < _HEALTH_STATE_MAX ? state_words[s] : NULL; }
const char *health_action_str(enum health_action a) { return (unsigned)a < _HEALTH_ACT_MAX ? action_words[a] : NULL; }
const char *health_reason_str(enum health_reason r) { return (unsigned)r < _HEALTH_REASON_MAX ? reason_words[r] : NULL; }

/* ---- the record ---------------------------------------------------------- */

#define FAILED_MAX 1000000 /* failed recoveries in a row, counted and read back */
#define STEP_MIN_MS 15000  /* the least time a bring-up or a step has to show a sign of life */

void health_record_clear(struct health_record *r) {
	free(r->config_path);
	*r = (struct health_record){ 0 };
}

int health_record_format(const struct health_record *r, char **out) {
	_cleanup_(text_release) struct text t = { 0 };
	int k = text_open(&t, false);

	if (k < 0)
		return k;
	fprintf(t.f,
		"state=%s\nsince=%llu\nconfig=%u\nconfigs=%u\nconfig_path=%s\ntimeout=%llu\nstarted=%llu\n"
		"first_handshake=%llu\nlast_handshake=%llu\nlast_sign=%llu\n"
		"recoveries=%llu\nfailovers=%llu\nfailbacks=%llu\nfailed=%u\n"
		"last_recovery=%llu\nlast_action=%s\nlast_reason=%s\n"
		"last_switch=%llu\nswitch_from=%u\nlast_trial=%llu\ntrial_answered=%s\n",
		health_state_str(r->state), (unsigned long long)r->since, r->config, r->n_configs,
		r->config_path ? r->config_path : "", (unsigned long long)r->timeout, (unsigned long long)r->started,
		(unsigned long long)r->first_handshake, (unsigned long long)r->last_handshake,
		(unsigned long long)r->last_sign, (unsigned long long)r->recoveries, (unsigned long long)r->failovers,
		(unsigned long long)r->failbacks, r->failed, (unsigned long long)r->last_recovery,
		health_action_str(r->last_action), health_reason_str(r->last_reason), (unsigned long long)r->last_switch,
		r->switch_from, (unsigned long long)r->last_trial, r->trial_answered ? "yes" : "no");
	k = text_finish(&t);
	if (k < 0)
		return k;
	*out = text_steal(&t);
	return 0;
}

/* What WireGuardConfigFile= accepts (vpn-confinement.ini(5)): absolute,
 * printable ASCII without space, '%', quotes or backslashes. */
static bool path_ok(const char *s) {
	if (s[0] != '/' || strlen(s) > 4096)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("%'\"`\\", *p))
			return false;
	return true;
}

static int word_of(const char *const *words, size_t n, const char *v, unsigned *out) {
	for (size_t i = 0; i < n; i++)
		if (words[i] && streq(words[i], v)) {
			*out = (unsigned)i;
			return 0;
		}
	return -EBADMSG;
}

enum {
	F_STATE,
	F_SINCE,
	F_CONFIG,
	F_CONFIGS,
	F_PATH,
	F_TIMEOUT,
	F_STARTED,
	F_FIRST,
	F_LAST_HS,
	F_LAST_SIGN,
	F_RECOVERIES,
	F_FAILOVERS,
	F_FAILBACKS,
	F_FAILED,
	F_LAST_RECOVERY,
	F_LAST_ACTION,
	F_LAST_REASON,
	F_LAST_SWITCH,
	F_SWITCH_FROM,
	F_LAST_TRIAL,
	F_TRIAL_ANSWERED,
	_F_MAX,
};
static const char *const field_names[_F_MAX] = {
	"state",      "since",	       "config",     "configs",	      "config_path",   "timeout",     "started",
	"first_handshake", "last_handshake", "last_sign", "recoveries", "failovers",     "failbacks",   "failed",
	"last_recovery", "last_action",  "last_reason", "last_switch", "switch_from", "last_trial", "trial_answered",
};

static int field(struct health_record *r, unsigned f, const char *v) {
	uint64_t *times[_F_MAX] = {
		[F_SINCE] = &r->since,		   [F_STARTED] = &r->started,	      [F_FIRST] = &r->first_handshake,
		[F_LAST_HS] = &r->last_handshake,  [F_LAST_SIGN] = &r->last_sign,     [F_RECOVERIES] = &r->recoveries,
		[F_FAILOVERS] = &r->failovers,	   [F_FAILBACKS] = &r->failbacks,     [F_LAST_RECOVERY] = &r->last_recovery,
		[F_LAST_SWITCH] = &r->last_switch, [F_LAST_TRIAL] = &r->last_trial, [F_TIMEOUT] = &r->timeout,
	};
	unsigned *smalls[_F_MAX] = {
		[F_CONFIG] = &r->config,
		[F_CONFIGS] = &r->n_configs,
		[F_FAILED] = &r->failed,
		[F_SWITCH_FROM] = &r->switch_from,
	};
	unsigned w;
	uint64_t v64;

	if (times[f])
		return parse_uint(v, 0, UINT64_MAX, times[f]) < 0 ? -EBADMSG : 0;
	if (smalls[f]) {
		/* Configs are counted from 0 (index) or 1 (count); failures to the
		 * most FailoverAfter= allows, and well past it. */
		if (parse_uint(v, f == F_CONFIGS ? 1 : 0, f == F_FAILED ? FAILED_MAX : HEALTH_CONFIGS_MAX, &v64) < 0)
			return -EBADMSG;
		*smalls[f] = (unsigned)v64;
		return 0;
	}
	switch (f) {
	case F_STATE:
		if (word_of(state_words, _HEALTH_STATE_MAX, v, &w) < 0)
			return -EBADMSG;
		r->state = (enum health_state)w;
		return 0;
	case F_LAST_ACTION:
		if (word_of(action_words, _HEALTH_ACT_MAX, v, &w) < 0)
			return -EBADMSG;
		r->last_action = (enum health_action)w;
		return 0;
	case F_LAST_REASON:
		if (word_of(reason_words, _HEALTH_REASON_MAX, v, &w) < 0)
			return -EBADMSG;
		r->last_reason = (enum health_reason)w;
		return 0;
	case F_TRIAL_ANSWERED:
		if (!streq(v, "yes") && !streq(v, "no"))
			return -EBADMSG;
		r->trial_answered = streq(v, "yes");
		return 0;
	case F_PATH:
		if (!path_ok(v))
			return -EBADMSG;
		r->config_path = strdup(v);
		return r->config_path ? 0 : -ENOMEM;
	default:
		return -EBADMSG;
	}
}

int health_record_parse(const char *text, struct health_record *r) {
	_cleanup_free_ char *copy = strdup(text);
	bool seen[_F_MAX] = { false };
	int k = 0;

	*r = (struct health_record){ 0 };
	if (!copy)
		return -ENOMEM;
	for (char *line = copy, *next; *line && k == 0; line = next) {
		char *eq;
		unsigned w;

		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		eq = strchr(line, '=');
		if (!eq) {
			k = -EBADMSG;
			break;
		}
		*eq = '\0';
		/* Every key known, none twice. */
		if (word_of(field_names, _F_MAX, line, &w) < 0 || seen[w]) {
			k = -EBADMSG;
			break;
		}
		seen[w] = true;
		k = field(r, w, eq + 1);
	}
	/* Whole: every key there, and the numbers agree with each other. */
	for (unsigned f = 0; f < _F_MAX && k == 0; f++)
		if (!seen[f])
			k = -EBADMSG;
	if (k == 0 && (r->config >= r->n_configs || r->switch_from >= r->n_configs))
		k = -EBADMSG;
	if (k < 0)
		health_record_clear(r);
	return k;
}

int health_record_load(const char *ns, struct health_record *r) {
	_cleanup_free_ char *text = NULL;
	int k;

	*r = (struct health_record){ 0 };
	k = rundir_read(ns, RUN_HEALTH, &text);
	if (k < 0)
		return k;
	return health_record_parse(text, r);
}

int health_record_save(const char *ns, const struct health_record *r) {
	_cleanup_free_ char *text = NULL;
	int k = health_record_format(r, &text);

	return k < 0 ? k : rundir_write(ns, RUN_HEALTH, text);
}

int health_config_index(const struct health_record *r, const struct ns_config *cfg) {
	if (r->config < cfg->n_wg_configs && r->config_path && streq(r->config_path, cfg->wg_configs[r->config].path))
		return (int)r->config;
	return -ENOENT;
}

unsigned health_active_config(const char *ns, const struct ns_config *cfg) {
	struct health_record r;
	int k = health_record_load(ns, &r);

	if (k == 0)
		k = health_config_index(&r, cfg);
	health_record_clear(&r);
	return k > 0 ? (unsigned)k : 0;
}

/* ---- the decisions ------------------------------------------------------- */

static void count_failed(struct health *h) {
	if (h->rec.failed < FAILED_MAX)
		h->rec.failed++;
	h->changed = true;
}

uint64_t health_tick_ms(const struct health_settings *set) {
	uint64_t t = set->timeout_ms ? set->timeout_ms / 5 : 5000;

	return t < 1000 ? 1000 : t > 5000 ? 5000 : t;
}

/* A probe at most every quarter of the timeout (at least 1 s apart). */
static uint64_t probe_every(const struct health *h) {
	return h->set.timeout_ms / 4 > 1000 ? h->set.timeout_ms / 4 : 1000;
}

/* After a step that failed: half the timeout, at least 5 s. */
static uint64_t retry_delay(const struct health *h) {
	return h->set.timeout_ms / 2 > 5000 ? h->set.timeout_ms / 2 : 5000;
}

static void set_state(struct health *h, enum health_state s, uint64_t now_unix) {
	if (h->rec.state == s)
		return;
	h->rec.state = s;
	h->rec.since = now_unix;
	h->changed = true;
}

int health_init(struct health *h, const struct health_settings *set, unsigned config, const char *path,
		uint64_t now_ms, uint64_t now_unix) {
	*h = (struct health){ .set = *set };
	h->rec.config_path = strdup(path);
	if (!h->rec.config_path)
		return -ENOMEM;
	h->rec.state = HEALTH_CONNECTING;
	h->rec.since = h->rec.started = now_unix;
	h->rec.config = config;
	h->rec.n_configs = set->n_configs;
	h->rec.timeout = set->timeout_ms / 1000;
	h->action_ms = h->switched_ms = now_ms;
	h->changed = true;
	return 0;
}

void health_done(struct health *h) {
	health_record_clear(&h->rec);
	*h = (struct health){ 0 };
}

static bool trial_due(const struct health *h, uint64_t now_ms) {
	return h->set.n_configs > 1 && h->rec.config != 0 && h->set.failback_ms && !h->trial_ms &&
	       (h->rec.state == HEALTH_ONLINE || h->rec.state == HEALTH_CHECKING) &&
	       now_ms - h->switched_ms >= h->set.failback_ms;
}

static enum health_verdict verdict(struct health *h, uint64_t now_ms, uint64_t now_unix) {
	uint64_t t = h->set.timeout_ms, quiet;
	enum health_state s = h->rec.state;

	/* After a failed step, the next one only at retry_ms. */
	if (h->retry_ms && now_ms < h->retry_ms)
		return HEALTH_WAIT;
	if (s == HEALTH_DOWN || h->retry_ms)
		return HEALTH_RECOVER;
	/* Asked again at every look: is the uplink back? */
	if (s == HEALTH_NO_UPLINK)
		return HEALTH_RECOVER;
	if (t == 0) {
		/* No recoveries; but a first handshake, for readiness, rather
		 * than at the services' first packet. */
		if (s == HEALTH_CONNECTING && (!h->probe_ms || now_ms - h->probe_ms >= 5000))
			return HEALTH_PROBE;
		return trial_due(h, now_ms) ? HEALTH_TRIAL : HEALTH_WAIT;
	}

	quiet = now_ms - (h->sign_ms ? h->sign_ms : h->action_ms);
	if (s == HEALTH_ONLINE && quiet >= t / 3)
		set_state(h, HEALTH_CHECKING, now_unix);
	/* A new session (a bring-up, a step) gets at least three of
	 * WireGuard's handshake attempts, 5 s apart: the first may go to a
	 * peer that is only just back. */
	if ((s == HEALTH_CONNECTING || h->grace) && t < STEP_MIN_MS)
		t = STEP_MIN_MS;
	/* Silence, with something unanswered for long enough that a live
	 * peer would have answered it. */
	if (h->unanswered_ms && now_ms - h->unanswered_ms >= t / 2 && quiet >= t)
		return HEALTH_RECOVER;
	if (trial_due(h, now_ms))
		return HEALTH_TRIAL;
	/* Probe: right after a bring-up or a step (a handshake now rather
	 * than at the first packet), then while quiet. */
	if ((s == HEALTH_CONNECTING || s == HEALTH_RECOVERING || quiet >= t / 3) &&
	    (!h->probe_ms || now_ms - h->probe_ms >= probe_every(h)))
		return HEALTH_PROBE;
	return HEALTH_WAIT;
}

enum health_verdict health_observe(struct health *h, const struct health_obs *o, uint64_t now_ms, uint64_t now_unix) {
	bool sign = false, sent = false;

	/* Counters that went back: the device was replaced behind our back;
	 * start again from what it says now. */
	if (o->rx >= h->base.rx && o->tx >= h->base.tx && o->handshake >= h->base.handshake) {
		sign = o->handshake > h->base.handshake || o->rx > h->base.rx;
		sent = o->tx > h->base.tx;
	}
	h->base = *o;
	if (o->handshake && o->handshake != h->rec.last_handshake) {
		h->rec.last_handshake = o->handshake;
		h->changed = true;
	}
	if (sign) {
		h->sign_ms = now_ms;
		h->unanswered_ms = 0;
		h->grace = false;
		h->retry_ms = 0;
		h->rec.last_sign = now_unix;
		if (!h->rec.first_handshake)
			h->rec.first_handshake = now_unix;
		if (h->rec.state != HEALTH_ONLINE)
			h->rec.failed = 0;
		set_state(h, HEALTH_ONLINE, now_unix);
		h->changed = true;
	} else if (sent && !h->unanswered_ms)
		h->unanswered_ms = now_ms;
	return verdict(h, now_ms, now_unix);
}

enum health_verdict health_no_look(struct health *h, uint64_t now_ms, uint64_t now_unix) {
	return verdict(h, now_ms, now_unix);
}

void health_probed(struct health *h, uint64_t now_ms) {
	h->probe_ms = now_ms;
	if (!h->unanswered_ms)
		h->unanswered_ms = now_ms;
}

void health_no_uplink(struct health *h, uint64_t now_ms, uint64_t now_unix) {
	/* The silence is not the peer's: the step that waits for its sign
	 * of life is not counted as failed. */
	h->grace = false;
	h->retry_ms = 0;
	set_state(h, HEALTH_NO_UPLINK, now_unix);
}

struct health_plan health_plan(struct health *h) {
	struct health_plan p = { .config = h->rec.config, .reason = HEALTH_REASON_SILENT };

	/* The last step had its timeout and there was no sign of life. */
	if (h->grace) {
		count_failed(h);
		h->grace = false;
	}
	if (h->rec.state == HEALTH_DOWN || h->retry_ms)
		p.reason = HEALTH_REASON_STEP_FAILED;
	if (h->set.n_configs > 1 && h->rec.failed >= h->set.failover_after) {
		p.action = HEALTH_ACT_FAILOVER;
		p.reason = HEALTH_REASON_FAILED_RECOVERIES;
		p.config = (h->rec.config + 1) % h->set.n_configs;
	} else if (h->rec.state == HEALTH_DOWN)
		p.action = HEALTH_ACT_REBUILD;
	else
		p.action = h->rec.failed % 2 ? HEALTH_ACT_REBUILD : HEALTH_ACT_IN_PLACE;
	return p;
}

int health_acted(struct health *h, const struct health_plan *p, bool ok, bool up, const char *path, uint64_t now_ms,
		 uint64_t now_unix) {
	bool moves = p->action == HEALTH_ACT_FAILOVER || p->action == HEALTH_ACT_FAILBACK;

	h->rec.last_recovery = now_unix;
	h->rec.last_action = p->action;
	h->rec.last_reason = p->reason;
	if (p->action == HEALTH_ACT_FAILBACK)
		h->rec.failbacks++;
	else
		h->rec.recoveries++;
	if (p->action == HEALTH_ACT_FAILOVER)
		h->rec.failovers++;
	h->changed = true;
	/* A change of config that failed left no tunnel: it is on the new
	 * config all the same (its next step is a rebuild of it). */
	if (moves && (ok || !up) && p->config != h->rec.config) {
		_cleanup_free_ char *copy = strdup(path);

		if (!copy)
			return -ENOMEM;
		free(h->rec.config_path);
		h->rec.config_path = TAKE_PTR(copy);
		h->rec.switch_from = h->rec.config;
		h->rec.config = p->config;
		h->rec.last_switch = now_unix;
		h->rec.failed = 0;
		h->switched_ms = now_ms;
	}
	h->trial_ms = 0;
	if (ok) {
		/* A fresh session or device: its counters start at 0. */
		h->action_ms = now_ms;
		h->sign_ms = h->unanswered_ms = h->probe_ms = h->retry_ms = 0;
		h->base = (struct health_obs){ 0 };
		h->grace = true;
		set_state(h, HEALTH_RECOVERING, now_unix);
		return 0;
	}
	count_failed(h);
	h->grace = false;
	h->retry_ms = now_ms + retry_delay(h);
	if (!up) {
		h->base = (struct health_obs){ 0 };
		h->sign_ms = h->unanswered_ms = 0;
		h->action_ms = now_ms;
	}
	set_state(h, up ? HEALTH_RECOVERING : HEALTH_DOWN, now_unix);
	return 0;
}

void health_trial_started(struct health *h, uint64_t now_ms, uint64_t now_unix) {
	h->trial_ms = now_ms;
	h->rec.last_trial = now_unix;
	h->changed = true;
}

bool health_trial_expired(const struct health *h, uint64_t now_ms) {
	uint64_t limit = h->set.timeout_ms > 15000 ? h->set.timeout_ms : 15000;

	return h->trial_ms && now_ms - h->trial_ms >= limit;
}

void health_trial_ended(struct health *h, bool answered, uint64_t now_ms) {
	h->trial_ms = 0;
	h->rec.trial_answered = answered;
	h->changed = true;
	/* Unanswered: another FailbackAfter on this config. */
	if (!answered)
		h->switched_ms = now_ms;
}

struct health_plan health_failback_plan(const struct health *h) {
	return (struct health_plan){ .action = HEALTH_ACT_FAILBACK, .reason = HEALTH_REASON_FAILBACK, .config = 0 };
}
