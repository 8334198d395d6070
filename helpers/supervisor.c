/* SPDX-License-Identifier: MIT */
#include "supervisor.h"

#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "config.h"
#include "health.h"
#include "log.h"
#include "manager.h"
#include "namespace.h"
#include "netlink.h"
#include "netns.h"
#include "nft.h"
#include "probe.h"
#include "rtnl.h"
#include "rundir.h"
#include "timespan.h"
#include "tunnel.h"
#include "util.h"
#include "wgconf.h"
#include "wgtool.h"

#define HOST_CHECK_INTERVAL_MS 5000

struct sup {
	const struct ns_names *n;
	const struct ns_config *ns;
	int sigfd, links, nft, nsfd;
	struct tunnel_record rec; /* the running tunnel, while up */
	bool up;
	uint64_t epoch; /* the newest epoch, also while down */
	int ifindex;	/* N0's, while up */
	struct health h;
	/* What to probe: the active config's first DNS server of a family
	 * the tunnel has, or HealthCheckAddress=. */
	bool has_target;
	enum probe_kind target_kind;
	struct ipaddr target;
	struct probe probe;
	bool probe_failed; /* opening or sending failed since the last step (said once) */
	/* The peer's address as the device last said it (for the uplink). */
	bool has_endpoint;
	struct ipaddr endpoint;
	struct tunnel_trial trial;
	bool under_unit;     /* run as wg-up@N.service: vpn-online@N is ours to start */
	bool online_started; /* vpn-online@N was started */
	bool said_online;    /* the first handshake was said */
	enum health_state said; /* the state the journal last heard of */
	char why[192];	     /* the tunnel died: why */
};

static uint64_t now_ms(void) {
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* + 1: 0 means "never" in struct health. */
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + 1;
}

static uint64_t now_unix(void) { return (uint64_t)time(NULL); }

static const char *config_path(const struct sup *s, unsigned i) { return s->ns->wg_configs[i].path; }

/* What the active config gives the probe: HealthCheckAddress=, else its
 * first DNS server of a family the tunnel has. */
static void set_target(struct sup *s, const struct wg_config *wg) {
	const struct ns_health *hc = &s->ns->health;

	probe_close(&s->probe);
	s->probe_failed = false;
	s->has_target = false;
	if (hc->has_address) {
		s->has_target = wg_config_has_family(wg, hc->address.family);
		s->target_kind = PROBE_ECHO;
		s->target = hc->address;
		if (!s->has_target)
			log_msg("%s: warning: HealthCheckAddress= is %s, a family %s has no address of: no probe", s->n->ns,
				hc->address.family == AF_INET ? "IPv4" : "IPv6", wg->path);
		return;
	}
	for (size_t i = 0; i < wg->n_dns && !s->has_target; i++)
		if (wg_config_has_family(wg, wg->dns[i].family)) {
			s->has_target = true;
			s->target_kind = PROBE_DNS;
			s->target = wg->dns[i];
		}
	if (!s->has_target)
		log_msg("%s: warning: %s has no DNS server and there is no HealthCheckAddress=: an idle tunnel is not "
			"probed (its health is judged on the traffic of its services alone)",
			s->n->ns, wg->path);
}

static void send_probe(struct sup *s, uint64_t t) {
	int r = 0;
	char buf[IPNET_STRLEN];

	if (!s->has_target || !s->up)
		return;
	if (s->probe.fd < 0)
		r = probe_open(&s->probe, s->target_kind, &s->target, s->nsfd);
	if (r == 0)
		r = probe_send(&s->probe);
	if (r < 0) {
		if (!s->probe_failed)
			log_msg("%s: health: cannot send a probe to %s through the tunnel: %s", s->n->ns,
				ipaddr_str(&s->target, buf), strerror(-r));
		s->probe_failed = true;
		probe_close(&s->probe);
		return;
	}
	health_probed(&s->h, t);
}

/* "1.2.3.4:51820" or "[2001:db8::1]:51820", as wg show prints endpoints. */
static bool endpoint_addr(const char *e, struct ipaddr *out) {
	char buf[64];
	const char *colon = strrchr(e, ':');

	if (!colon || (size_t)(colon - e) >= sizeof(buf))
		return false;
	if (e[0] == '[') {
		if (colon - e < 2 || colon[-1] != ']')
			return false;
		snprintf(buf, sizeof(buf), "%.*s", (int)(colon - e - 2), e + 1);
	} else
		snprintf(buf, sizeof(buf), "%.*s", (int)(colon - e), e);
	return ipaddr_parse(buf, out) == 0;
}

/* One look at the device: the peers summed. */
static int look(struct sup *s, struct health_obs *o) {
	struct wg_dump d = { 0 };
	int r;

	*o = (struct health_obs){ 0 };
	r = wgtool_dump(tunnel_wg_device(s->n, &s->rec), s->rec.has_socket ? -1 : s->nsfd, &d);
	if (r < 0)
		return r;
	for (size_t i = 0; i < d.n_peers; i++) {
		const struct wg_dump_peer *p = &d.peers[i];

		if (p->latest_handshake > o->handshake)
			o->handshake = p->latest_handshake;
		o->rx += p->rx;
		o->tx += p->tx;
		if (i == 0)
			s->has_endpoint = endpoint_addr(p->endpoint, &s->endpoint);
	}
	wg_dump_clear(&d);
	return 0;
}

static bool has_default_route(void) {
	for (int fam = AF_INET; fam; fam = fam == AF_INET ? AF_INET6 : 0) {
		_cleanup_free_ struct rtnl_route *routes = NULL;
		size_t n = 0;

		if (rtnl_dump_routes(fam, &routes, &n) < 0)
			return true; /* cannot tell: not a reason to wait */
		for (size_t i = 0; i < n; i++)
			if (routes[i].dst.prefix == 0)
				return true;
	}
	return false;
}

/* The host's uplink (in the host namespace): a default route, or a route
 * to the endpoint. Without either, cycling through servers cannot help. */
static bool uplink(const struct sup *s, char *why, size_t size) {
	char buf[IPNET_STRLEN];
	int oif;

	if (has_default_route())
		return true;
	if (s->has_endpoint) {
		if (rtnl_route_get(&s->endpoint, &oif) == 0)
			return true;
		snprintf(why, size, "the host has no default route and no route to the endpoint %s",
			 ipaddr_str(&s->endpoint, buf));
	} else
		snprintf(why, size, "the host has no default route");
	return false;
}

static void save(struct sup *s) {
	int r;

	if (!s->h.changed)
		return;
	/* Taken down meanwhile (wg-down): no record to bring back. */
	if (s->up && !rundir_exists(s->n->ns, RUN_WG))
		return;
	r = health_record_save(s->n->ns, &s->h.rec);
	if (r < 0)
		log_errno(r, "%s: writing the health record", s->n->ns);
	else
		s->h.changed = false;
}

static void notify_status(struct sup *s) {
	const struct health_record *r = &s->h.rec;

	sd_notifyf(0, "STATUS=%s: config %u of %u (%s), recoveries %llu, failovers %llu", health_state_str(r->state),
		   r->config + 1, r->n_configs, r->config_path, (unsigned long long)r->recoveries,
		   (unsigned long long)r->failovers);
}

/* Say what changed: the first handshake (and start vpn-online@N), a
 * recovery that worked. */
static void tell(struct sup *s) {
	const struct health_record *r = &s->h.rec;

	if (r->first_handshake && !s->said_online) {
		s->said_online = true;
		log_msg("%s: health: first handshake: the tunnel is online (config %u of %u, %s)", s->n->ns, r->config + 1,
			r->n_configs, r->config_path);
		if (s->under_unit && !s->online_started) {
			char unit[NS_UNIT_NAME_SIZE];
			int k = ns_unit_name("vpn-online", s->n->ns, unit);

			s->online_started = true;
			if (k == 0)
				k = manager_unit_start(unit);
			if (k < 0)
				log_msg("%s: warning: cannot start %s: %s", s->n->ns, unit, strerror(-k));
		}
	}
	if (r->state == s->said)
		return;
	if (r->state == HEALTH_ONLINE && (s->said == HEALTH_RECOVERING || s->said == HEALTH_NO_UPLINK ||
					  s->said == HEALTH_DOWN))
		log_msg("%s: health: online again (config %u of %u, %s; recoveries %llu, failovers %llu so far)",
			s->n->ns, r->config + 1, r->n_configs, r->config_path, (unsigned long long)r->recoveries,
			(unsigned long long)r->failovers);
	s->said = r->state;
	notify_status(s);
}

/* After the tunnel was made anew: N0's index, its link events so far
 * (our own deletion among them) dropped. */
static void relink(struct sup *s) {
	_cleanup_netns_leave_ int saved = -1;

	if (s->links >= 0)
		rtnl_link_monitor_read(s->links, s->ifindex);
	s->ifindex = 0;
	if (netns_enter(s->nsfd, &saved) == 0)
		s->ifindex = (int)if_nametoindex(s->n->wg);
}

static void trial_stop(struct sup *s) {
	if (s->trial.made)
		tunnel_trial_stop(s->n, &s->trial);
}

/* Tear down and bring up with wg (the supervisor's own wg-up). */
static bool rebuild(struct sup *s, struct wg_config *wg) {
	struct tunnel_up_state u = { .rec.epoch = s->epoch, .resolve_attempts = 1 };
	int r;

	trial_stop(s);
	probe_close(&s->probe);
	fflush(stdout);
	r = tunnel_up(s->n, s->ns, wg, &u);
	fflush(stdout);
	if (r != 0) {
		tunnel_undo(s->n, s->ns, &u);
		/* The endpoint stays known: the uplink is looked for by it. */
		s->up = false;
		s->rec = (struct tunnel_record){ 0 };
		if (u.rec.epoch > s->epoch)
			s->epoch = u.rec.epoch;
		relink(s);
		return false;
	}
	s->rec = u.rec;
	s->up = true;
	s->epoch = s->rec.epoch;
	relink(s);
	return true;
}

/* Take the step plan. */
static void act(struct sup *s, const struct health_plan *plan) {
	_cleanup_(wg_config_freep) struct wg_config *wg = NULL;
	struct health_plan next = *plan;
	const struct health_plan *p = &next;
	const char *path;
	bool other, ok = false;
	uint64_t since = s->h.rec.last_sign ? s->h.rec.last_sign : s->h.rec.started;
	uint64_t silent = now_unix() > since ? now_unix() - since : 0;
	char t[TIMESPAN_STRLEN];
	int r;

	/* A config that cannot be used (its file changed since the start):
	 * a failover goes on to the one after it. */
	for (unsigned tries = 0;; tries++) {
		path = config_path(s, next.config);
		r = tunnel_config_load(s->ns, path, &wg);
		if (r == 0 || next.action != HEALTH_ACT_FAILOVER || tries + 2 >= s->h.set.n_configs)
			break;
		log_msg("%s: health: config %u (%s) cannot be used; trying the next", s->n->ns, next.config + 1, path);
		next.config = (next.config + 1) % s->h.set.n_configs;
		if (next.config == s->h.rec.config)
			break;
	}
	other = next.config != s->h.rec.config;

	timespan_format(s->ns->health.timeout_usec, t);
	switch (p->action) {
	case HEALTH_ACT_FAILOVER:
		log_msg("%s: health: failing over from config %u (%s) to config %u (%s): %u failed recover%s "
			"(FailoverAfter=%u)",
			s->n->ns, s->h.rec.config + 1, s->h.rec.config_path, p->config + 1, path, s->h.rec.failed,
			s->h.rec.failed == 1 ? "y" : "ies", s->ns->health.failover_after);
		break;
	case HEALTH_ACT_FAILBACK:
		log_msg("%s: health: failing back from config %u (%s) to config %u (%s): its peer answered a trial "
			"handshake",
			s->n->ns, s->h.rec.config + 1, s->h.rec.config_path, p->config + 1, path);
		break;
	default:
		if (p->reason == HEALTH_REASON_STEP_FAILED)
			log_msg("%s: health: recovery %llu: %s (config %u, %s), the last step having failed", s->n->ns,
				(unsigned long long)s->h.rec.recoveries + 1,
				p->action == HEALTH_ACT_IN_PLACE ? "reconnecting in place" : "rebuilding the tunnel",
				p->config + 1, path);
		else
			log_msg("%s: health: no sign of life from the peer for %llu s (HealthCheckTimeout=%s)%s; "
				"recovery %llu: %s (config %u, %s)",
				s->n->ns, (unsigned long long)silent, t, s->h.rec.last_sign ? "" : ", none since it started",
				(unsigned long long)s->h.rec.recoveries + 1,
				p->action == HEALTH_ACT_IN_PLACE ? "reconnecting in place" : "rebuilding the tunnel",
				p->config + 1, path);
	}
	sd_notifyf(0, "STATUS=recovering: %s to config %u of %u", health_action_str(p->action), p->config + 1,
		   s->h.rec.n_configs);
	trial_stop(s);

	if (r < 0)
		log_errno(r, "%s: health: cannot use %s", s->n->ns, path);
	else if (s->up && p->action != HEALTH_ACT_REBUILD) {
		r = tunnel_reconnect(s->n, s->ns, &s->rec, wg, other);
		if (r == 0) {
			ok = true;
			s->epoch = s->rec.epoch;
			log_msg("%s: health: %s: the peer was set again on %s (same device, namespace and ruleset%s)",
				s->n->ns, other ? "switched in place" : "reconnected in place", s->n->wg,
				other ? "'s table, its rules replaced in one transaction" : "");
		} else
			log_msg("%s: health: %s failed; rebuilding the tunnel", s->n->ns,
				other ? "switching in place" : "reconnecting in place");
	}
	if (r >= 0 && !ok) {
		ok = rebuild(s, wg);
		if (ok)
			log_msg("%s: health: the tunnel was rebuilt (config %u, %s); the confined services were not "
				"touched",
				s->n->ns, p->config + 1, path);
		else
			log_msg("%s: health: rebuilding the tunnel failed: no tunnel (the kill switch holds); trying again "
				"later",
				s->n->ns);
	}
	if (wg && (ok || !s->up))
		set_target(s, wg);
	probe_close(&s->probe);
	if (health_acted(&s->h, p, ok, s->up, path, now_ms(), now_unix()) < 0)
		log_errno(-ENOMEM, "%s: health", s->n->ns);
	tell(s);
	save(s);
}

static void trial_start(struct sup *s) {
	_cleanup_(wg_config_freep) struct wg_config *wg = NULL;
	char fb[TIMESPAN_STRLEN];
	int r;

	log_msg("%s: health: %s on config %u: trying a handshake with config 1 (%s) on a device of its own",
		s->n->ns, timespan_format(s->ns->health.failback_usec, fb), s->h.rec.config + 1, config_path(s, 0));
	health_trial_started(&s->h, now_ms(), now_unix());
	r = tunnel_config_load(s->ns, config_path(s, 0), &wg);
	if (r == 0)
		r = tunnel_trial_start(s->n, s->ns, wg, !s->rec.has_socket, &s->trial);
	if (r < 0) {
		log_msg("%s: health: the failback trial could not start; staying on config %u", s->n->ns,
			s->h.rec.config + 1);
		trial_stop(s);
		health_trial_ended(&s->h, false, now_ms());
	}
}

static void trial_check(struct sup *s) {
	int r;

	if (!s->h.trial_ms)
		return;
	r = tunnel_trial_answered(&s->trial);
	if (r > 0) {
		struct health_plan p = health_failback_plan(&s->h);

		trial_stop(s);
		health_trial_ended(&s->h, true, now_ms());
		act(s, &p);
		return;
	}
	if (r < 0 || health_trial_expired(&s->h, now_ms())) {
		trial_stop(s);
		health_trial_ended(&s->h, false, now_ms());
		log_msg("%s: health: config 1 (%s) did not answer the trial handshake; staying on config %u", s->n->ns,
			config_path(s, 0), s->h.rec.config + 1);
	}
}

/* The periodic look and what it decides. */
static void step(struct sup *s) {
	enum health_verdict v;
	struct health_obs o;
	char why[192];
	uint64_t t = now_ms();

	/* wg-down is taking the tunnel down: nothing to heal. */
	if (rundir_exists(s->n->ns, RUN_WG_STOPPING))
		return;
	if (s->up && look(s, &o) == 0)
		v = health_observe(&s->h, &o, t, now_unix());
	else
		v = health_no_look(&s->h, t, now_unix());
	tell(s);
	switch (v) {
	case HEALTH_PROBE:
		send_probe(s, t);
		break;
	case HEALTH_TRIAL:
		trial_start(s);
		break;
	case HEALTH_RECOVER:
		if (!uplink(s, why, sizeof(why))) {
			if (s->h.rec.state != HEALTH_NO_UPLINK)
				log_msg("%s: health: no sign of life, but %s: waiting for the uplink, not cycling through "
					"servers",
					s->n->ns, why);
			trial_stop(s);
			s->h.trial_ms = 0;
			health_no_uplink(&s->h, t, now_unix());
			tell(s);
		} else {
			struct health_plan p;

			if (s->h.rec.state == HEALTH_NO_UPLINK)
				log_msg("%s: health: the host's uplink is back", s->n->ns);
			p = health_plan(&s->h);
			/* Nothing to reconnect in place without a tunnel. */
			if (!s->up && p.action == HEALTH_ACT_IN_PLACE)
				p.action = HEALTH_ACT_REBUILD;
			act(s, &p);
		}
		break;
	case HEALTH_WAIT:
		break;
	}
	trial_check(s);
	save(s);
}

/* A death of the tunnel that is not ours (wireguard-go exited, N0
 * deleted): as before health checks, systemd brings it up again. */
static bool died(struct sup *s, struct pollfd *pf, const struct signalfd_siginfo *si, bool have_si) {
	if (!s->up)
		return false;
	if (have_si && si->ssi_signo == SIGCHLD && s->rec.pid > 0) {
		int status;

		if (waitpid(s->rec.pid, &status, WNOHANG) == s->rec.pid) {
			snprintf(s->why, sizeof(s->why), "wireguard-go (pid %d) exited with status %d", (int)s->rec.pid,
				 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
			return true;
		}
	}
	if (pf->revents && rtnl_link_monitor_read(s->links, s->ifindex) == 1) {
		snprintf(s->why, sizeof(s->why), "the interface was deleted");
		return true;
	}
	return false;
}

/* Whatever supervise() leaves: the trial device, the probe, the sockets. */
static void sup_done(struct sup *s) {
	trial_stop(s);
	probe_close(&s->probe);
	health_done(&s->h);
	if (s->links >= 0)
		close(s->links);
	if (s->nft >= 0)
		close(s->nft);
	if (s->nsfd >= 0)
		close(s->nsfd);
}

int supervise(const struct ns_names *n, const struct ns_config *ns, const struct tunnel_record *rec,
	      struct wg_config *wg_taken, int sigfd) {
	_cleanup_(wg_config_freep) struct wg_config *wg = wg_taken;
	_cleanup_free_ char *own = NULL;
	_cleanup_(sup_done) struct sup s = { .n = n, .ns = ns, .sigfd = sigfd, .links = -1, .nft = -1, .nsfd = -1,
					     .rec = *rec, .up = true, .epoch = rec->epoch, .probe = PROBE_INIT,
					     .said = HEALTH_CONNECTING };
	struct health_settings set = {
		.timeout_ms = ns->health.timeout_usec == TIMESPAN_INFINITY ? 0 : ns->health.timeout_usec / 1000,
		.failover_after = ns->health.failover_after,
		.failback_ms = ns->health.failback_usec == TIMESPAN_INFINITY ? 0 : ns->health.failback_usec / 1000,
		.n_configs = (unsigned)(ns->n_wg_configs < HEALTH_CONFIGS_MAX ? ns->n_wg_configs : HEALTH_CONFIGS_MAX),
	};
	char unit[NS_UNIT_NAME_SIZE];
	uint64_t next_look, next_host;
	bool requested = false;
	int r;

	s.nsfd = netns_open(n->ns);
	if (s.nsfd < 0)
		return log_errno(s.nsfd, "%s: opening the namespace", n->ns);
	{
		_cleanup_netns_leave_ int saved = -1;
		if ((r = netns_enter(s.nsfd, &saved)) < 0)
			return log_errno(r, "%s: entering the namespace", n->ns);
		s.links = rtnl_link_monitor_open();
		s.ifindex = (int)if_nametoindex(n->wg);
	}
	if (s.links < 0)
		return log_errno(s.links, "%s: watching the namespace's links", n->ns);
	s.nft = nft_monitor_open(); /* in the host namespace */
	if (s.nft < 0)
		return log_errno(s.nft, "%s: watching the host's nftables", n->ns);
	if ((r = health_init(&s.h, &set, 0, config_path(&s, 0), now_ms(), now_unix())) < 0)
		return log_errno(r, "%s: health", n->ns);
	set_target(&s, wg);
	wg_config_free(TAKE_PTR(wg)); /* the key is not needed while we wait */
	s.under_unit = manager_own_unit(&own) >= 0 && ns_unit_name("wg-up", n->ns, unit) == 0 && streq(own, unit);
	save(&s);
	if (s.ifindex == 0)
		snprintf(s.why, sizeof(s.why), "the interface disappeared");
	sd_notifyf(0, "READY=1\nSTATUS=tunnel %s up (%s), connecting", n->wg, rec->has_socket ? "wireguard-go" : "kernel");

	next_look = next_host = now_ms();
	while (!s.why[0]) {
		struct pollfd pf[4] = { { .fd = sigfd, .events = POLLIN },
					{ .fd = s.links, .events = POLLIN },
					{ .fd = s.nft, .events = POLLIN },
					{ .fd = s.probe.fd, .events = POLLIN } };
		struct signalfd_siginfo si;
		bool have_si = false;
		uint64_t t = now_ms(), due = next_look < next_host ? next_look : next_host;
		int k = poll(pf, 4, due > t ? (int)(due - t) : 0);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return log_errno(errno, "%s: waiting", n->ns);
		}
		if (pf[0].revents && read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			have_si = true;
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
				sd_notify(0, "STOPPING=1\nSTATUS=taking the tunnel down");
				log_msg("%s: stopping: taking the tunnel down", n->ns);
				trial_stop(&s);
				return tunnel_teardown(n, ns, true);
			}
		}
		if (died(&s, &pf[1], &si, have_si))
			break;
		if (pf[1].revents && !s.up)
			rtnl_link_monitor_read(s.links, 0);
		if (pf[3].revents)
			probe_drain(&s.probe);
		/* Without a tunnel, a wg-down (which removes the record) means stop. */
		if (!s.up && !rundir_exists(n->ns, RUN_HEALTH)) {
			requested = true;
			break;
		}
		t = now_ms();
		if (t >= next_look) {
			step(&s);
			next_look = now_ms() + health_tick_ms(&s.h.set);
		}
		/* An nftables change on the host, or the periodic look. */
		if ((pf[2].revents && nl_monitor_read(s.nft, NULL, NULL) != 0) || t >= next_host) {
			if (s.up)
				namespace_host_side_ensure(n, ns);
			next_host = now_ms() + HOST_CHECK_INTERVAL_MS;
		}
	}
	trial_stop(&s);
	if (requested || !rundir_exists(n->ns, RUN_WG) || rundir_exists(n->ns, RUN_WG_STOPPING)) {
		/* wg-down (ExecStop=) is taking it down. */
		log_msg("%s: the tunnel was taken down", n->ns);
		rundir_remove(n->ns, RUN_HEALTH);
		return 0;
	}
	sd_notifyf(0, "STATUS=tunnel died: %s", s.why);
	log_msg("%s: the tunnel died: %s; taking it down (the kill switch holds)", n->ns, s.why);
	tunnel_teardown(n, ns, true);
	return -ECONNABORTED;
}
