/* SPDX-License-Identifier: MIT */
#include "checks.h"

#include <stdarg.h>
#include <sys/socket.h>

#include "config.h"
#include "health.h"
#include "confinement.h"
#include "ruleset.h"
#include "rundir.h"
#include "status.h"
#include "util.h"
#include "wgconf.h"

struct ctx {
	const struct ns_facts *f;
	const struct check_options *o;
	struct findings *out;
	int error; /* the first allocation failure */
	bool stop; /* the rest has nothing to judge (no namespace, no tunnel) */
};

static void add(struct ctx *c, char ***list, size_t *n, const char *fmt, va_list ap) {
	char *m;

	if (vasprintf(&m, fmt, ap) < 0 || array_append((void **)list, n, sizeof(m), &m) < 0) {
		if (c->error == 0)
			c->error = -ENOMEM;
		return;
	}
}

static void problem(struct ctx *c, const char *fmt, ...) _printf_(2, 3);
static void problem(struct ctx *c, const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	add(c, &c->out->problems, &c->out->n_problems, fmt, ap);
	va_end(ap);
}

static void warning(struct ctx *c, const char *fmt, ...) _printf_(2, 3);
static void warning(struct ctx *c, const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	add(c, &c->out->warnings, &c->out->n_warnings, fmt, ap);
	va_end(ap);
}

static void check_config(struct ctx *c) {
	const struct ns_facts *f = c->f;

	if (!f->config_present)
		problem(c, "no config %s", f->config_path);
	for (size_t i = 0; i < f->n_config_errors; i++)
		problem(c, "config: %s", f->config_errors[i]);
}

static void check_records(struct ctx *c) {
	const struct ns_facts *f = c->f;

	if (f->n_bad_claims > 0)
		problem(c, "%zu line(s) of %s/%s/%s were not written by vpn-confinement (ignored)", f->n_bad_claims,
			rundir(), f->n.ns, RUN_HOST_SYSCTL);
	if (f->tunnel_recorded && f->record_error < 0)
		problem(c, "run file %s/%s/%s unreadable: %s", rundir(), f->n.ns, RUN_WG, strerror(-f->record_error));
}

static void check_wg_config(struct ctx *c) {
	const struct ns_facts *f = c->f;

	for (size_t i = 0; i < f->n_wg_owner_errors; i++)
		problem(c, "wg config: %s", f->wg_owner_errors[i]);
	if (f->wg_load_failed)
		problem(c, "wg config %s cannot be loaded", f->cfg->wg_configs[f->active_config].path);
	for (size_t i = 0; i < f->n_egress_errors; i++)
		problem(c, "config: %s", f->egress_errors[i]);
}

/* What the confinement drop-in takes away, given back to a confined
 * service (an admin's CapabilityBoundingSet= without '~' adds back,
 * RestrictNamespaces=no), and sockets that start a confined service
 * without being confined themselves: each voids the promise. Companions
 * that do not exist are not judged. */
static void check_units(struct ctx *c) {
	for (size_t i = 0; i < c->f->n_units; i++) {
		const struct status_unit *u = &c->f->units[i];

		if (!u->m.loaded || !u->m.is_service)
			continue;
		for (size_t k = 0; k < n_confinement_caps; k++)
			if (u->m.bounding_set & (UINT64_C(1) << confinement_caps[k].cap))
				warning(c,
					"%s keeps %s in its bounding set (CapabilityBoundingSet= given back?): "
					"it can leave the confinement; see vpn-confinement(8)",
					u->unit, confinement_caps[k].name);
		if (u->m.restrict_namespaces != 0)
			warning(c,
				"%s may create namespaces (RestrictNamespaces= turned off?): "
				"it can leave the confinement; see vpn-confinement(8)",
				u->unit);
		for (size_t t = 0; t < u->m.n_triggered_by; t++) {
			const char *trigger = u->m.triggered_by[t], *dot = strrchr(trigger, '.');
			bool confined = false;

			if (!dot || !streq(dot, ".socket"))
				continue;
			for (size_t k = 0; k < c->f->cfg->n_units; k++)
				confined |= streq(c->f->cfg->units[k].name, trigger);
			if (!confined)
				warning(c,
					"%s is started by %s, which is not confined: its sockets are in the host's "
					"network; add Unit=%s",
					u->unit, trigger, trigger);
		}
	}
}

static void check_namespace(struct ctx *c) {
	const struct ns_facts *f = c->f;

	if (!f->netns_exists) {
		problem(c, "namespace %s does not exist", f->n.netns_path);
		c->stop = true;
		return;
	}
	if (!f->managed)
		problem(c, "namespace exists but %s/%s/%s is missing (not made by netns-up?)", rundir(), f->n.ns,
			RUN_NETNS);
	if (f->forward_guard_missing)
		problem(c, "forwarding is on for the port mappings but the guard (table inet %s) is missing",
			FORWARD_GUARD_TABLE);
}

static void check_rulesets(struct ctx *c) {
	const struct ns_facts *f = c->f;

	if (f->ns_rs == RS_ABSENT)
		problem(c, "namespace ruleset (table inet %s) is missing", NS_TABLE_NAME);
	else if (f->ns_rs == RS_DIFFERS)
		problem(c, "namespace ruleset differs from what `vpn-confinement ruleset %s` renders (%s form)", f->n.ns,
			f->ns_rs_expected);
	if (f->host_rs == RS_ABSENT)
		problem(c, "host table inet %s is missing", f->n.host_table);
	else if (f->host_rs == RS_DIFFERS)
		problem(c, "host table inet %s differs from what `vpn-confinement ruleset %s --host` renders",
			f->n.host_table, f->n.ns);
}

/* What the tunnel's supervisor says of its health ($RUNDIR/N/health). */
static void check_health(struct ctx *c) {
	const struct ns_facts *f = c->f;
	const struct health_record *h = &f->health;
	uint64_t ago;

	if (!f->health_recorded)
		return;
	if (f->health_error < 0) {
		problem(c, "run file %s/%s/%s unreadable: %s", rundir(), f->n.ns, RUN_HEALTH, strerror(-f->health_error));
		return;
	}
	if (f->active_config_unknown)
		problem(c, "the tunnel's supervisor uses config %u (%s), which %s does not list there (changed since wg-up?)",
			h->config + 1, h->config_path, f->config_path);
	ago = f->now > h->since ? f->now - h->since : 0;
	switch (h->state) {
	case HEALTH_RECOVERING:
		problem(c, "the tunnel is recovering for %llu s (last step: %s, %s; %u failed in a row)",
			(unsigned long long)ago, health_action_str(h->last_action), health_reason_str(h->last_reason),
			h->failed);
		break;
	case HEALTH_NO_UPLINK:
		problem(c, "the tunnel has no sign of life and the host no uplink, for %llu s", (unsigned long long)ago);
		break;
	case HEALTH_DOWN:
		problem(c, "the tunnel's supervisor has no tunnel for %llu s (a rebuild failed; it retries)",
			(unsigned long long)ago);
		break;
	default:
		break;
	}
	if (h->config > 0 && !f->active_config_unknown)
		warning(c, "the tunnel runs on config %u of %u (%s), not the first: failed over %llu s ago", h->config + 1,
			h->n_configs, h->config_path,
			(unsigned long long)(h->last_switch && f->now > h->last_switch ? f->now - h->last_switch : 0));
}

static const struct status_route *default_route(const struct ns_facts *f, int family) {
	struct ipnet any = { .addr = { .family = family } };
	return status_route_to(f, &any);
}

static bool routed_via(const struct status_route *r, const char *dev) { return r && streq(r->dev, dev); }

/* Each AllowedEgress= destination routed via the veth (but for those on
 * its own link), tunnel up or down. */
static void check_egress_routes(struct ctx *c) {
	const struct ns_facts *f = c->f;

	for (size_t i = 0; f->cfg && i < f->cfg->n_egress; i++) {
		const struct egress_rule *e = &f->cfg->egress[i];
		const struct ipnet *link = e->net.addr.family == AF_INET6 ? &f->cfg->ns_addr6 : &f->cfg->ns_addr;
		char buf[EGRESS_STRLEN];

		if (e->net.prefix >= link->prefix && ipnet_contains(link, &e->net.addr))
			continue;
		if (!routed_via(status_route_to(f, &e->net), f->n.veth_ns))
			problem(c, "AllowedEgress %s is not routed via %s (run netns-up %s again)", egress_rule_str(e, buf),
				f->n.veth_ns, f->n.ns);
	}
}

/* IPv6 only where configured; no default route while the tunnel is down. */
static void check_default_routes(struct ctx *c) {
	const struct ns_facts *f = c->f;

	if (f->tunnel_recorded && f->wg && !wg_config_has_family(f->wg, AF_INET6) && default_route(f, AF_INET6))
		problem(c, "an IPv6 default route exists but the wg config has no IPv6 address");
	if (!f->tunnel_recorded && default_route(f, AF_INET6))
		problem(c, "an IPv6 default route exists while the tunnel is down");
	if (!f->tunnel_recorded && default_route(f, AF_INET))
		problem(c, "an IPv4 default route exists while the tunnel is down");
	if (!f->tunnel_recorded) {
		problem(c, "tunnel is down (no wg-up)");
		c->stop = true;
	}
}

static void check_tunnel(struct ctx *c) {
	const struct ns_facts *f = c->f;

	if (f->rec.has_socket && !f->wgo_running)
		problem(c, "wireguard-go (pid %d, socket %s) is not running", (int)f->rec.pid, f->rec.tmpname);
	if (!f->tunnel_link)
		problem(c, "interface %s is missing in the namespace", f->n.wg);
	if (!routed_via(default_route(f, AF_INET), f->n.wg))
		problem(c, "the IPv4 default route is not via %s", f->n.wg);
	if (f->wg && wg_config_has_family(f->wg, AF_INET6) && !routed_via(default_route(f, AF_INET6), f->n.wg))
		problem(c, "the IPv6 default route is not via %s", f->n.wg);
}

static void check_dns(struct ctx *c) {
	const struct ns_facts *f = c->f;

	if (!f->wg)
		return;
	for (size_t i = 0; i < f->wg->n_dns; i++) {
		struct ipnet host = { .addr = f->wg->dns[i], .prefix = ipaddr_max_prefix(f->wg->dns[i].family) };
		char buf[IPNET_STRLEN];

		if ((host.addr.family == AF_INET || wg_config_has_family(f->wg, AF_INET6)) &&
		    !routed_via(status_route_to(f, &host), f->n.wg))
			problem(c, "DNS server %s is not routed via %s", ipaddr_str(&host.addr, buf), f->n.wg);
	}
	if (!f->resolv_ok)
		problem(c, "resolv.conf (%s/%s/%s or %s) is missing or differs from the wg config's DNS", rundir(),
			f->n.ns, RUN_RESOLV, f->resolv_etc_path ? f->resolv_etc_path : "?");
}

static void check_peers(struct ctx *c) {
	const struct ns_facts *f = c->f;
	uint64_t max_age = c->o->max_handshake_age;

	if (!f->dump_ok)
		problem(c, "cannot read the WireGuard device's state (wg show)");
	if (max_age == 0)
		return;
	for (size_t i = 0; i < f->dump.n_peers; i++) {
		const struct wg_dump_peer *p = &f->dump.peers[i];

		/* A young tunnel without traffic or keepalive has had no
		 * reason for a handshake yet. */
		if (p->latest_handshake == 0 &&
		    (f->rec.started == 0 || f->now < f->rec.started || f->now - f->rec.started > max_age))
			problem(c, "peer %s: no handshake within %llu s of wg-up", p->public_key,
				(unsigned long long)max_age);
		else if (p->latest_handshake != 0 && f->now > p->latest_handshake &&
			 f->now - p->latest_handshake > max_age)
			problem(c, "peer %s: last handshake %llu s ago (more than %llu s)", p->public_key,
				(unsigned long long)(f->now - p->latest_handshake), (unsigned long long)max_age);
	}
}

/* PortForwarding=natpmp while the tunnel is up: port-forward runs and has
 * a port, published as it recorded it. (The sets in the ruleset are held
 * to its record by check_rulesets.) */
static void check_port_forwarding(struct ctx *c) {
	const struct ns_facts *f = c->f;
	char why[256];

	if (!f->cfg || !f->cfg->pf.enabled)
		return;
	if (f->pf_record_error == -EBADMSG)
		problem(c, "run file %s/%s/%s was not written by vpn-confinement (ignored)", rundir(), f->n.ns,
			RUN_PORTFWD);
	if (!f->pf_running) {
		problem(c, "port forwarding is on but port-forward is not running (vpn-portfwd@%s.service)", f->n.ns);
		return;
	}
	if (!f->pf.port)
		problem(c, "port forwarding: no port forwarded%s%s", f->pf.error ? ": " : " yet",
			f->pf.error ? portmap_error_str(f->pf.error, why, sizeof(why)) : "");
	if (f->pf_published_bad)
		problem(c, "%s/%s/%s is not a port and a newline", rundir(), f->n.ns, RUN_FORWARDED_PORT);
	else if (f->pf_published != f->pf.port)
		problem(c, "%s/%s/%s says %u, port-forward recorded %u", rundir(), f->n.ns, RUN_FORWARDED_PORT,
			f->pf_published, f->pf.port);
	if (f->pf.hook == HOOK_FAILED)
		warning(c, "port forwarding: the hook failed with port %u (exit status %d); it is tried again",
			f->pf.hook_port, f->pf.hook_status);
}

/* In this order; a check that sets stop ends the list (nothing after it
 * has anything to judge). */
static void (*const checks[])(struct ctx *c) = {
	check_config,	 check_records,	 check_wg_config, check_units, check_namespace,
	check_rulesets,	 check_health, check_egress_routes, check_default_routes, check_tunnel, check_dns, check_peers,
	check_port_forwarding,
};

int checks_run(const struct ns_facts *f, const struct check_options *o, struct findings *out) {
	struct ctx c = { .f = f, .o = o, .out = out };

	*out = (struct findings){ 0 };
	for (size_t i = 0; i < ELEMENTSOF(checks) && !c.stop; i++)
		checks[i](&c);
	return c.error;
}

void findings_clear(struct findings *fi) {
	strv_free(fi->problems, fi->n_problems);
	strv_free(fi->warnings, fi->n_warnings);
	*fi = (struct findings){ 0 };
}
