/* SPDX-License-Identifier: MIT */
#include "portfwd.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "config.h"
#include "gateway.h"
#include "log.h"
#include "nft.h"
#include "proc.h"
#include "rundir.h"
#include "ruleset.h"
#include "text.h"
#include "tunnel.h"
#include "util.h"

#define BACKOFF_FIRST_MS 2000
#define BACKOFF_MAX_MS 60000
#define NOT_UP_RETRY_MS 500    /* the kill switch still drops: wg-up is loading the ruleset */
#define RULESET_RETRY_MS 1000
#define NO_GATEWAY_RETRY_MS 10000
#define REQUEST_TIMEOUT_MAX_MS 8000 /* retransmits at 0.25, 0.75, 1.75, 3.75, 7.75 s */
#define DELETE_TIMEOUT_MS 1000

/* ---- the record ------------------------------------------------------------- */

static const struct {
	enum portmap_kind kind;
	const char *word;
} kinds[] = { { PORTMAP_UNKNOWN, "unknown" }, { PORTMAP_ASSIGNS, "assigns" }, { PORTMAP_STANDARD, "standard" } };

static const enum hook_state hook_states[] = { HOOK_NONE, HOOK_PENDING, HOOK_RUNNING, HOOK_OK, HOOK_FAILED };

static int record_render(const struct portfwd_record *rec, char **out) {
	_cleanup_(text_release) struct text t = { 0 };
	char gw[IPNET_STRLEN];
	int r = text_open(&t, false);

	if (r < 0)
		return r;
	fprintf(t.f, "pid=%d\npidstart=%llu\n", (int)rec->pid, (unsigned long long)rec->pid_start);
	if (rec->gateway.family == AF_INET)
		fprintf(t.f, "gateway=%s\n", ipaddr_str(&rec->gateway, gw));
	fprintf(t.f, "kind=%s\n", portmap_kind_str(rec->kind));
	if (rec->port)
		fprintf(t.f, "port=%u\ntcp=%u\nudp=%u\nsince=%llu\nrenewed=%llu\nlifetime=%u\n", rec->port, rec->tcp,
			rec->udp, (unsigned long long)rec->since, (unsigned long long)rec->renewed, rec->lifetime);
	if (rec->error)
		fprintf(t.f, "error=%d\nerror_since=%llu\n", rec->error, (unsigned long long)rec->error_since);
	fprintf(t.f, "hook=%s\n", hook_state_str(rec->hook));
	if (rec->hook_port)
		fprintf(t.f, "hook_port=%u\nhook_status=%d\n", rec->hook_port, rec->hook_status);
	r = text_finish(&t);
	if (r < 0)
		return r;
	*out = text_steal(&t);
	return 0;
}

static int port_field(const char *v, uint16_t *out) {
	uint64_t x;

	if (parse_uint(v, 0, 65535, &x) < 0)
		return -EBADMSG;
	*out = (uint16_t)x;
	return 0;
}

static int record_field(void *userdata, const char *key, const char *v) {
	struct portfwd_record *rec = userdata;
	uint64_t x;

	if (streq(key, "pid")) {
		if (parse_uint(v, 2, INT32_MAX, &x) < 0)
			return -EBADMSG;
		rec->pid = (pid_t)x;
		return 0;
	}
	if (streq(key, "pidstart"))
		return parse_uint(v, 1, UINT64_MAX, &rec->pid_start) < 0 ? -EBADMSG : 0;
	if (streq(key, "gateway"))
		return ipaddr_parse(v, &rec->gateway) < 0 || rec->gateway.family != AF_INET ? -EBADMSG : 0;
	if (streq(key, "kind")) {
		for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
			if (streq(v, kinds[i].word)) {
				rec->kind = kinds[i].kind;
				return 0;
			}
		return -EBADMSG;
	}
	if (streq(key, "port"))
		return port_field(v, &rec->port);
	if (streq(key, "tcp"))
		return port_field(v, &rec->tcp);
	if (streq(key, "udp"))
		return port_field(v, &rec->udp);
	if (streq(key, "hook_port"))
		return port_field(v, &rec->hook_port);
	if (streq(key, "since"))
		return parse_uint(v, 0, UINT64_MAX, &rec->since) < 0 ? -EBADMSG : 0;
	if (streq(key, "renewed"))
		return parse_uint(v, 0, UINT64_MAX, &rec->renewed) < 0 ? -EBADMSG : 0;
	if (streq(key, "error_since"))
		return parse_uint(v, 0, UINT64_MAX, &rec->error_since) < 0 ? -EBADMSG : 0;
	if (streq(key, "lifetime")) {
		if (parse_uint(v, 0, UINT32_MAX, &x) < 0)
			return -EBADMSG;
		rec->lifetime = (uint32_t)x;
		return 0;
	}
	if (streq(key, "error") || streq(key, "hook_status")) {
		/* A negative errno, or a result code / exit status. */
		bool neg = v[0] == '-';
		if (parse_uint(v + neg, 0, neg ? 4095 : 65535, &x) < 0)
			return -EBADMSG;
		*(streq(key, "error") ? &rec->error : &rec->hook_status) = neg ? -(int)x : (int)x;
		return 0;
	}
	if (streq(key, "hook")) {
		for (size_t i = 0; i < ELEMENTSOF(hook_states); i++)
			if (streq(v, hook_state_str(hook_states[i]))) {
				rec->hook = hook_states[i];
				return 0;
			}
		return -EBADMSG;
	}
	return -EBADMSG;
}

int portfwd_record_load(const char *ns, struct portfwd_record *rec) {
	int r;

	*rec = (struct portfwd_record){ 0 };
	r = rundir_read_fields(ns, RUN_PORTFWD, record_field, rec);
	if (r < 0) {
		*rec = (struct portfwd_record){ 0 };
		return r;
	}
	/* The published port is one of the two mapped. */
	if (!rec->pid || (rec->port && rec->port != rec->tcp && rec->port != rec->udp)) {
		*rec = (struct portfwd_record){ 0 };
		return -EBADMSG;
	}
	return 0;
}

bool portfwd_record_running(const struct portfwd_record *rec) {
	uint64_t start;

	return rec->pid > 0 && proc_start_time(rec->pid, &start) == 0 && start == rec->pid_start &&
	       proc_exe_is(rec->pid, "/proc/self/exe");
}

int portfwd_default_gateway(const char *ns, struct ipaddr *out) {
	_cleanup_free_ char *text = NULL;
	int r = rundir_read(ns, RUN_RESOLV, &text);

	if (r < 0)
		return r;
	for (char *line = text, *next; *line; line = next) {
		char *save = NULL, *w;

		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		w = strtok_r(line, " \t", &save);
		if (!w || !streq(w, "nameserver") || !(w = strtok_r(NULL, " \t", &save)))
			continue;
		if (ipaddr_parse(w, out) == 0 && out->family == AF_INET)
			return 0;
	}
	return -ENOENT;
}

/* ---- the forwarder ---------------------------------------------------------- */

struct fwd {
	const struct ns_names *n;
	const struct ns_config *ns;
	const struct portfwd_opts *o;

	/* The tunnel session. */
	bool up;
	uint64_t epoch;
	bool reconnected; /* a new session: the hook is owed once it is mapped */
	unsigned renewals;

	struct gateway gw;
	struct ipaddr gw_addr;
	bool gw_missing_logged;
	struct portmap pm;

	/* What is mapped, by PORTMAP_IDX; 0: nothing. */
	uint16_t live[2];
	int64_t expires_ms[2];
	uint16_t published; /* in forwarded-port */
	uint16_t in_ruleset[2];
	bool ruleset_dirty;
	int64_t ruleset_retry_ms;

	int64_t next_cycle_ms;
	int64_t dropped_since_ms; /* sending refused (EPERM) since */
	bool dropped_logged;
	unsigned failures;
	int last_error;
	uint64_t since, renewed, error_since;
	uint32_t granted;

	struct hook hook;
	struct portfwd_record rec; /* as last written */
	char *rec_text;
};

static uint64_t unix_now(void) { return (uint64_t)time(NULL); }

static uint16_t wanted_port(const struct fwd *w) {
	return w->live[PORTMAP_IDX(GATEWAY_TCP)] ?: w->live[PORTMAP_IDX(GATEWAY_UDP)];
}

static void notify_status(const struct fwd *w) {
	char gw[IPNET_STRLEN] = "?";

	if (w->gw_addr.family == AF_INET)
		ipaddr_str(&w->gw_addr, gw);
	if (w->published)
		sd_notifyf(0, "STATUS=port %u forwarded by %s", w->published, gw);
	else if (!w->up)
		sd_notify(0, "STATUS=waiting for the tunnel");
	else if (w->last_error)
		sd_notifyf(0, "STATUS=no port: asking %s again", gw);
	else
		sd_notifyf(0, "STATUS=asking %s for a port", gw);
}

/* $RUNDIR/N/portfwd, rewritten when anything in it changed. */
static void save_record(struct fwd *w) {
	struct portfwd_record rec = {
		.pid = getpid(),
		.gateway = w->gw_addr,
		.kind = w->pm.kind,
		.port = w->published,
		.tcp = w->live[PORTMAP_IDX(GATEWAY_TCP)],
		.udp = w->live[PORTMAP_IDX(GATEWAY_UDP)],
		.since = w->since,
		.renewed = w->renewed,
		.lifetime = w->granted,
		.error = w->last_error,
		.error_since = w->error_since,
		.hook = w->hook.state,
		.hook_status = w->hook.last_status,
		.hook_port = w->hook.last_port,
	};
	_cleanup_free_ char *text = NULL;
	int r;

	proc_start_time(rec.pid, &rec.pid_start);
	if (!rec.port)
		rec.tcp = rec.udp = 0;
	if (record_render(&rec, &text) < 0 || (w->rec_text && streq(text, w->rec_text)))
		return;
	r = rundir_write(w->n->ns, RUN_PORTFWD, text);
	if (r < 0) {
		log_errno(r, "%s: writing %s", w->n->ns, RUN_PORTFWD);
		return;
	}
	free(w->rec_text);
	w->rec_text = TAKE_PTR(text);
	notify_status(w);
}

/* The sets hold exactly what is live. */
static void apply_ruleset(struct fwd *w, int64_t now) {
	_cleanup_free_ char *text = NULL, *err = NULL;
	int r;

	w->ruleset_dirty = true;
	if (!w->up)
		return;
	r = ruleset_forwarded_text(w->live[1], w->live[0], &text);
	if (r < 0) {
		log_errno(r, "%s: rendering the forwarded port's sets", w->n->ns);
		w->ruleset_retry_ms = now + RULESET_RETRY_MS;
		return;
	}
	r = nft_apply(text, &err);
	if (r < 0) {
		/* The sets are missing while wg-up loads the full ruleset. */
		if (w->ruleset_retry_ms == 0)
			log_msg("%s: cannot update the forwarded port's sets yet (%s); trying again", w->n->ns,
				err && *err ? strip_ws(err) : strerror(-r));
		w->ruleset_retry_ms = now + RULESET_RETRY_MS;
		return;
	}
	if (w->in_ruleset[0] != w->live[0] || w->in_ruleset[1] != w->live[1]) {
		if (w->live[0] || w->live[1])
			log_msg("%s: the ruleset opens port %u/tcp, %u/udp on %s (0: none)", w->n->ns, w->live[1],
				w->live[0], w->n->wg);
		else
			log_msg("%s: the ruleset opens no forwarded port", w->n->ns);
	}
	w->in_ruleset[0] = w->live[0];
	w->in_ruleset[1] = w->live[1];
	w->ruleset_dirty = false;
	w->ruleset_retry_ms = 0;
}

/* forwarded-port follows what is live; the hook is told. */
static void publish(struct fwd *w, int64_t now) {
	uint16_t port = wanted_port(w);
	int r;

	if (port == w->published)
		return;
	if (port) {
		char text[16];

		snprintf(text, sizeof(text), "%u\n", port);
		r = rundir_write(w->n->ns, RUN_FORWARDED_PORT, text);
		if (r < 0)
			log_errno(r, "%s: writing %s", w->n->ns, RUN_FORWARDED_PORT);
		if (w->published)
			log_msg("%s: the forwarded port changed from %u to %u", w->n->ns, w->published, port);
		else
			log_msg("%s: forwarded port %u", w->n->ns, port);
		w->since = unix_now();
	} else {
		r = rundir_remove(w->n->ns, RUN_FORWARDED_PORT);
		if (r < 0)
			log_errno(r, "%s: removing %s", w->n->ns, RUN_FORWARDED_PORT);
		log_msg("%s: no forwarded port any more (port %u closed)", w->n->ns, w->published);
		w->since = 0;
	}
	w->published = port;
	hook_request(&w->hook, port, now);
}

/* The tunnel as the run directory and the namespace say. */
static void watch_tunnel(struct fwd *w, int64_t now) {
	struct tunnel_record rec;
	bool up = tunnel_record_load(w->n->ns, &rec) == 0 && !streq(rec.implementation, "pending") &&
		  if_nametoindex(w->n->wg) != 0;

	if (up && rec.epoch != w->epoch) {
		bool first = w->epoch == 0;

		if (!first)
			log_msg("%s: a new tunnel session: asking for the port again", w->n->ns);
		w->epoch = rec.epoch;
		w->reconnected = !first;
		portmap_reset(&w->pm);
		gateway_close(&w->gw);
		w->next_cycle_ms = now;
		w->failures = 0;
		w->ruleset_dirty = true;
	}
	if (up != w->up) {
		if (!up)
			log_msg("%s: the tunnel is down: waiting for it", w->n->ns);
		else
			w->next_cycle_ms = now;
		w->up = up;
		if (!up)
			gateway_close(&w->gw);
	}
}

static int open_gateway(struct fwd *w) {
	char buf[IPNET_STRLEN];
	int r;

	if (w->gw.fd >= 0)
		return 0;
	if (w->ns->pf.gateway.family == AF_INET)
		w->gw_addr = w->ns->pf.gateway;
	else if (portfwd_default_gateway(w->n->ns, &w->gw_addr) < 0) {
		if (!w->gw_missing_logged)
			log_msg("%s: no NAT-PMP gateway: the tunnel has no IPv4 DNS server to take it from; set "
				"PortForwardingGateway=",
				w->n->ns);
		w->gw_missing_logged = true;
		w->gw_addr = (struct ipaddr){ 0 };
		return -ENOENT;
	}
	w->gw_missing_logged = false;
	r = gateway_open(&w->gw, &w->gw_addr, w->n->wg);
	if (r < 0)
		return log_errno(r, "%s: opening a NAT-PMP socket to %s on %s", w->n->ns,
				 ipaddr_str(&w->gw_addr, buf), w->n->wg);
	return 0;
}

struct ask_ctx {
	struct fwd *w;
	unsigned timeout_ms;
};

static int ask(void *userdata, enum gateway_proto proto, uint16_t internal, uint16_t external, uint32_t lifetime,
	       struct gateway_answer *a) {
	struct ask_ctx *c = userdata;

	return gateway_map(&c->w->gw, proto, internal, external, lifetime, lifetime ? c->timeout_ms : DELETE_TIMEOUT_MS,
			   a);
}

static void log_failure(struct fwd *w, int error, enum gateway_proto proto, bool both, unsigned retry_ms) {
	char why[256], gw[IPNET_STRLEN];

	ipaddr_str(&w->gw_addr, gw);
	if (retry_ms)
		log_msg("%s: port forwarding via %s%s%s: %s; trying again in %u s (the tunnel and its kill switch "
			"are not affected)",
			w->n->ns, gw, both ? "" : ", ", both ? "" : gateway_proto_str(proto),
			portmap_error_str(error, why, sizeof(why)), retry_ms / 1000);
	else
		log_msg("%s: port forwarding via %s, %s: %s", w->n->ns, gw, gateway_proto_str(proto),
			portmap_error_str(error, why, sizeof(why)));
}

static void cycle(struct fwd *w, int64_t now) {
	struct ask_ctx c = { .w = w, .timeout_ms = w->o->lifetime * 1000 / 4 };
	struct portmap_result res;
	uint16_t before[2] = { w->live[0], w->live[1] };
	int mapped;

	if (c.timeout_ms > REQUEST_TIMEOUT_MAX_MS)
		c.timeout_ms = REQUEST_TIMEOUT_MAX_MS;
	if (c.timeout_ms < 1000)
		c.timeout_ms = 1000;
	if (open_gateway(w) < 0) {
		w->next_cycle_ms = now + NO_GATEWAY_RETRY_MS;
		return;
	}
	mapped = portmap_cycle(&w->pm, w->n->ns, ask, &c, w->o->lifetime, &res);
	now = monotonic_ms();
	if (res.error[0] == -EPERM || res.error[1] == -EPERM) {
		/* The kill switch still drops: wg-up has not loaded the full
		 * ruleset yet. Not a failure of the gateway. */
		if (!w->dropped_since_ms)
			w->dropped_since_ms = now;
		else if (now - w->dropped_since_ms > 10000 && !w->dropped_logged) {
			log_msg("%s: the kill switch has been dropping NAT-PMP for 10 s: is the full ruleset loaded?",
				w->n->ns);
			w->dropped_logged = true;
		}
		w->next_cycle_ms = now + NOT_UP_RETRY_MS;
		return;
	}
	w->dropped_since_ms = 0;
	w->dropped_logged = false;
	if (res.error[0] == -ENODEV || res.error[1] == -ENODEV || res.error[0] == -ENXIO || res.error[1] == -ENXIO)
		gateway_close(&w->gw); /* N0 was made anew: bind to the new one */

	if (mapped == 0) {
		unsigned delay = backoff_ms(BACKOFF_FIRST_MS, BACKOFF_MAX_MS, w->failures);

		w->failures++;
		if (!w->last_error)
			w->error_since = unix_now();
		w->last_error = res.error[1] ?: res.error[0];
		log_failure(w, w->last_error, GATEWAY_TCP, res.error[0] == res.error[1], delay);
		if (res.error[0] != res.error[1])
			log_failure(w, res.error[0], GATEWAY_UDP, false, 0);
		w->next_cycle_ms = now + delay;
		return;
	}

	w->failures = 0;
	w->last_error = 0;
	w->granted = 0;
	for (int i = 0; i < 2; i++) {
		uint32_t l = res.lifetime[i] ? res.lifetime[i] : w->o->lifetime;

		if (!res.port[i]) {
			enum gateway_proto proto = i ? GATEWAY_TCP : GATEWAY_UDP;
			log_failure(w, res.error[i], proto, false, 0);
			w->last_error = res.error[i];
			continue;
		}
		w->live[i] = res.port[i];
		w->expires_ms[i] = now + (int64_t)l * 1000;
		if (!w->granted || l < w->granted)
			w->granted = l;
	}
	if (w->last_error && !w->error_since)
		w->error_since = unix_now();
	if (!w->last_error)
		w->error_since = 0;
	if (res.port[0] && res.port[1] && res.port[0] != res.port[1] &&
	    (before[0] != res.port[0] || before[1] != res.port[1]))
		log_msg("%s: warning: the gateway mapped different ports: %u/udp, %u/tcp; the client is told %u (tcp)",
			w->n->ns, res.port[0], res.port[1], res.port[1]);
	w->renewed = unix_now();
	{
		int64_t renew = (int64_t)w->granted * 750;
		if (renew > PORTFWD_RENEW_MAX * 1000)
			renew = PORTFWD_RENEW_MAX * 1000;
		if (renew < 1000)
			renew = 1000;
		w->next_cycle_ms = now + renew;
	}
	/* Each renewal puts the sets in order again: a ruleset replaced
	 * behind our back (wg-up, an admin) gets the port back within one. */
	apply_ruleset(w, now);
	publish(w, now);
	if (w->reconnected) {
		/* The same port after a new session: the client is told again. */
		hook_request(&w->hook, w->published, now);
		w->reconnected = false;
	} else if (++w->renewals % PORTFWD_RETELL_EVERY == 0)
		/* A client restarted meanwhile may be on a port of its own. */
		hook_retell(&w->hook, w->published, now);
}

/* Mappings not renewed within their lifetime are gone at the gateway. */
static void expire(struct fwd *w, int64_t now) {
	bool changed = false;

	for (int i = 0; i < 2; i++)
		if (w->live[i] && now >= w->expires_ms[i]) {
			log_msg("%s: the mapping of port %u/%s expired (not renewed in %u s): closing it", w->n->ns,
				w->live[i], i ? "tcp" : "udp", w->granted);
			w->live[i] = 0;
			changed = true;
		}
	if (changed) {
		apply_ruleset(w, now);
		publish(w, now);
	}
}

/* At a stop: close, unpublish, delete at a standard gateway. */
static int stop(struct fwd *w) {
	int first = 0;

	hook_stop(&w->hook);
	if (w->pm.kind == PORTMAP_STANDARD && w->gw.fd >= 0 && w->up)
		for (int i = 0; i < 2; i++) {
			struct gateway_answer a;
			if (w->live[i])
				gateway_map(&w->gw, i ? GATEWAY_TCP : GATEWAY_UDP, w->live[i], w->live[i], 0,
					    DELETE_TIMEOUT_MS, &a);
		}
	w->live[0] = w->live[1] = 0;
	if (w->in_ruleset[0] || w->in_ruleset[1] || w->ruleset_dirty) {
		_cleanup_free_ char *text = NULL, *err = NULL;
		int r = ruleset_forwarded_text(0, 0, &text);

		if (r == 0)
			r = nft_apply(text, &err);
		/* No sets (-ENOENT): the tunnel went down first and the kill
		 * switch is in its base form, which opens nothing. */
		if (r < 0 && r != -ENOENT)
			RET_GATHER(first, log_errno(r, "%s: closing the forwarded port%s%s", w->n->ns,
						    err && *err ? ": nft: " : "", err && *err ? strip_ws(err) : ""));
	}
	if (w->published)
		log_msg("%s: stopping: port %u closed", w->n->ns, w->published);
	RET_GATHER(first, rundir_remove(w->n->ns, RUN_FORWARDED_PORT));
	RET_GATHER(first, rundir_remove(w->n->ns, RUN_PORTFWD));
	return first;
}

static int watch_rundir(const char *ns) {
	_cleanup_close_ int dir = rundir_ns_open(ns, false), fd = -1;
	char path[64];

	if (dir < 0)
		return dir;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* The directory as opened (no link followed on the way there). */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dir);
	if (inotify_add_watch(fd, path, IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_CREATE) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int portfwd_run(const struct ns_names *n, const struct ns_config *ns, const struct portfwd_opts *o, int sigfd) {
	_cleanup_close_ int ino = -1;
	struct fwd w = { .n = n, .ns = ns, .o = o, .gw = { .fd = -1 } };
	bool running = true;
	int r = 0;

	hook_init(&w.hook, &ns->pf.hook, n->ns, o->hook_timeout * 1000);
	ino = watch_rundir(n->ns);
	if (ino < 0)
		return log_errno(ino, "%s: watching %s/%s (is the namespace up?)", n->ns, rundir(), n->ns);
	/* A record of an earlier run (killed) says nothing true any more. */
	rundir_remove(n->ns, RUN_FORWARDED_PORT);
	save_record(&w);
	sd_notify(0, "READY=1");
	notify_status(&w);

	while (running) {
		int64_t now = monotonic_ms(), next = INT64_MAX, wait;
		struct pollfd pf[3] = { { .fd = sigfd, .events = POLLIN }, { .fd = ino, .events = POLLIN },
					{ .fd = hook_fd(&w.hook), .events = POLLIN } };
		int k;

		watch_tunnel(&w, now);
		if (w.up && now >= w.next_cycle_ms)
			cycle(&w, now);
		now = monotonic_ms();
		expire(&w, now);
		if (w.ruleset_dirty && w.up && w.ruleset_retry_ms && now >= w.ruleset_retry_ms)
			apply_ruleset(&w, now);
		hook_tick(&w.hook, now);
		save_record(&w);

		if (w.up && w.next_cycle_ms < next)
			next = w.next_cycle_ms;
		for (int i = 0; i < 2; i++)
			if (w.live[i] && w.expires_ms[i] < next)
				next = w.expires_ms[i];
		if (w.ruleset_dirty && w.ruleset_retry_ms && w.ruleset_retry_ms < next)
			next = w.ruleset_retry_ms;
		if (hook_next_ms(&w.hook) < next)
			next = hook_next_ms(&w.hook);
		wait = next == INT64_MAX ? -1 : next - now;
		if (wait < 0 && next != INT64_MAX)
			wait = 0;
		if (wait > 60000 || wait < 0)
			wait = 60000; /* a look now and then, whatever happens */

		k = poll(pf, 3, (int)wait);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = log_errno(errno, "%s: waiting", n->ns);
			break;
		}
		if (pf[0].revents) {
			struct signalfd_siginfo si;

			while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD)
					hook_reap(&w.hook, monotonic_ms());
				else if (si.ssi_signo == SIGHUP) {
					/* systemctl reload: ask now, whatever the back-off. */
					log_msg("%s: asked to ask the gateway again now, and tell the client", n->ns);
					w.next_cycle_ms = 0;
					w.failures = 0;
					w.reconnected = true;
				} else
					running = false;
			}
		}
		if (pf[1].revents) {
			char buf[4096];
			while (read(ino, buf, sizeof(buf)) > 0)
				;
		}
		if (pf[2].fd >= 0 && pf[2].revents)
			hook_read(&w.hook);
	}
	sd_notify(0, "STOPPING=1\nSTATUS=closing the forwarded port");
	RET_GATHER(r, stop(&w));
	gateway_close(&w.gw);
	free(w.rec_text);
	return r;
}
