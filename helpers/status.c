/* SPDX-License-Identifier: MIT */
#include "status.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "diag.h"
#include "egress.h"
#include "netns.h"
#include "nft.h"
#include "resolv.h"
#include "rundir.h"
#include "ruleset.h"
#include "util.h"
#include "wgconf.h"

const char *rs_state_str(enum rs_state s) {
	switch (s) {
	case RS_ABSENT:
		return "missing";
	case RS_MATCHES:
		return "matches";
	case RS_DIFFERS:
		return "differs";
	default:
		return "unknown";
	}
}

void status_clear(struct ns_facts *f) {
	free(f->config_path);
	ns_config_free(f->cfg);
	strv_free(f->config_errors, f->n_config_errors);
	strv_free(f->wg_owner_errors, f->n_wg_owner_errors);
	strv_free(f->egress_errors, f->n_egress_errors);
	wg_config_free(f->wg);
	free(f->claims);
	for (size_t i = 0; i < f->n_units; i++)
		manager_unit_clear(&f->units[i].m);
	free(f->units);
	for (size_t i = 0; i < f->n_links; i++)
		free(f->links[i].addrs);
	free(f->links);
	free(f->routes);
	wg_dump_clear(&f->dump);
	free(f->resolv_etc_path);
	health_record_clear(&f->health);
	free(f->ns_counters);
	free(f->host_counters);
	*f = (struct ns_facts){ 0 };
}

/* The error entries of d, formatted, appended to a list. */
static int diag_errors(const struct diag *d, char ***list, size_t *n) {
	for (size_t i = 0; i < d->n; i++) {
		char *m;

		if (d->entries[i].level != DIAG_ERROR)
			continue;
		m = diag_format(&d->entries[i]);
		if (!m || array_append((void **)list, n, sizeof(m), &m) < 0) {
			free(m);
			return -ENOMEM;
		}
	}
	return 0;
}

static int gather_config(struct ns_facts *f) {
	_cleanup_(diag_clear) struct diag d = { 0 };
	int r;

	if (asprintf(&f->config_path, "%s/%s.ini", confdir(), f->n.ns) < 0)
		return -ENOMEM;
	f->config_present = access(f->config_path, F_OK) == 0;
	if (!f->config_present)
		return 0;
	r = ns_config_load_one(confdir(), f->n.ns, &f->cfg, &d);
	if (r == 0 && f->cfg && f->cfg->valid)
		return 0;
	ns_config_free(TAKE_PTR(f->cfg));
	if (diag_errors(&d, &f->config_errors, &f->n_config_errors) < 0)
		return -ENOMEM;
	if (r < 0 && r != -EINVAL) {
		char *m;
		if (asprintf(&m, "%s: %s", f->config_path, strerror(-r)) < 0 ||
		    array_append((void **)&f->config_errors, &f->n_config_errors, sizeof(m), &m) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Which config the tunnel uses: the health record's, when the ini has it
 * at that place. */
static void gather_active_config(struct ns_facts *f) {
	int k;

	f->active_config = 0;
	if (!f->health_recorded || f->health_error < 0)
		return;
	k = health_config_index(&f->health, f->cfg);
	if (k >= 0)
		f->active_config = (unsigned)k;
	else
		f->active_config_unknown = true;
}

/* AllowedEgress= against each wg config that loads (one that does not is
 * reported by its own check), as wg-up judges it. */
static int gather_egress(struct ns_facts *f) {
	for (size_t i = 0; f->cfg->n_egress > 0 && i < f->cfg->n_wg_configs; i++) {
		_cleanup_(wg_config_freep) struct wg_config *wg = NULL;
		_cleanup_(diag_clear) struct diag d = { 0 }, load = { 0 };

		if (wgconf_load(f->cfg->wg_configs[i].path, &wg, &load) < 0)
			continue;
		if (egress_check_wg(f->cfg, wg, &d) == -ENOMEM ||
		    diag_errors(&d, &f->egress_errors, &f->n_egress_errors) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int gather_wg_config(struct ns_facts *f) {
	_cleanup_(diag_clear) struct diag d = { 0 }, d2 = { 0 };

	if (!f->cfg)
		return 0;
	/* Each of them may be the tunnel's. */
	for (size_t i = 0; i < f->cfg->n_wg_configs; i++)
		wgconf_check_owner(f->cfg->wg_configs[i].path, 0, &d);
	if (diag_errors(&d, &f->wg_owner_errors, &f->n_wg_owner_errors) < 0)
		return -ENOMEM;
	gather_active_config(f);
	if (f->tunnel_recorded && wgconf_load(f->cfg->wg_configs[f->active_config].path, &f->wg, &d2) < 0)
		f->wg_load_failed = true;
	return gather_egress(f);
}

static void gather_rundir(struct ns_facts *f) {
	f->managed = rundir_exists(f->n.ns, RUN_NETNS);
	hostfwd_claims_load(f->n.ns, &f->claims, &f->n_claims, &f->n_bad_claims);
	f->tunnel_recorded = rundir_exists(f->n.ns, RUN_WG);
	if (f->tunnel_recorded)
		f->record_error = tunnel_record_load(f->n.ns, &f->rec);
	f->health_recorded = rundir_exists(f->n.ns, RUN_HEALTH);
	if (f->health_recorded)
		f->health_error = health_record_load(f->n.ns, &f->health);
}

/* port-forward's record and what it published, validated: a port, a
 * newline, nothing else. */
static void gather_port_forwarding(struct ns_facts *f) {
	_cleanup_free_ char *text = NULL;
	uint64_t port;
	size_t len;

	f->pf_record_error = portfwd_record_load(f->n.ns, &f->pf);
	f->pf_recorded = f->pf_record_error == 0;
	f->pf_running = f->pf_recorded && portfwd_record_running(&f->pf);
	if (rundir_read(f->n.ns, RUN_FORWARDED_PORT, &text) < 0)
		return;
	len = strlen(text);
	if (len < 2 || text[len - 1] != '\n') {
		f->pf_published_bad = true;
		return;
	}
	text[len - 1] = '\0';
	if (parse_uint(text, 1, 65535, &port) < 0)
		f->pf_published_bad = true;
	else
		f->pf_published = (uint16_t)port;
}

/* The forwarded port is in the sets of the live ruleset while port-forward
 * runs: the expected text gets the same elements (ruleset_forwarded_text),
 * so the comparison holds the sets to exactly what it recorded. */
static int expect_forwarded(const struct ns_facts *f, char **ns_text) {
	_cleanup_free_ char *add = NULL;
	char *both;
	int r;

	if (!*ns_text || !f->cfg || !f->cfg->pf.enabled || !f->pf_running || !(f->pf.tcp || f->pf.udp))
		return 0;
	r = ruleset_forwarded_text(f->pf.tcp, f->pf.udp, &add);
	if (r < 0)
		return r;
	if (asprintf(&both, "%s%s", *ns_text, add) < 0)
		return -ENOMEM;
	free(*ns_text);
	*ns_text = both;
	return 0;
}

/* Ask systemd about each confined unit that is not a template (a template
 * is no unit of its own). */
static int gather_units(struct ns_facts *f) {
	f->units_known = f->cfg != NULL;
	for (size_t i = 0; f->cfg && i < f->cfg->n_units; i++) {
		const char *u = f->cfg->units[i].name;
		const char *dot = strrchr(u, '.'), *at = strchr(u, '@');
		struct status_unit su = { .unit = u, .via = f->cfg->units[i].via };
		int r;

		if (at && dot && at + 1 == dot)
			continue;
		r = manager_unit_get(u, &su.m);
		if (r == -ENOTCONN) {
			f->units_known = false;
			return 0; /* no systemd to ask */
		}
		f->manager_reachable = true;
		if (r < 0) {
			f->units_known = false;
			continue;
		}
		if (ARRAY_APPEND(f->units, f->n_units, su) < 0) {
			manager_unit_clear(&su.m);
			return -ENOMEM;
		}
	}
	return 0;
}

/* The links named in names[] of the current namespace, with addresses. */
static int gather_links(struct ns_facts *f, const char *where, const char *const names[], size_t n_names) {
	_cleanup_free_ struct rtnl_link *links = NULL;
	_cleanup_free_ struct rtnl_addr *addrs = NULL;
	size_t nl = 0, na = 0;

	if (rtnl_dump_links(&links, &nl) < 0 || rtnl_dump_addrs(&addrs, &na) < 0)
		return 0; /* nothing known */
	for (size_t i = 0; i < nl; i++) {
		struct status_link l = { .link = links[i], .where = where };
		bool wanted = false;

		for (size_t k = 0; k < n_names; k++)
			wanted |= streq(names[k], links[i].name);
		if (!wanted)
			continue;
		for (size_t a = 0; a < na; a++)
			if (addrs[a].ifindex == links[i].ifindex && ARRAY_APPEND(l.addrs, l.n_addrs, addrs[a].addr) < 0) {
				free(l.addrs);
				return -ENOMEM;
			}
		if (ARRAY_APPEND(f->links, f->n_links, l) < 0) {
			free(l.addrs);
			return -ENOMEM;
		}
	}
	return 0;
}

static int gather_routes(struct ns_facts *f, int family) {
	_cleanup_free_ struct rtnl_route *routes = NULL;
	size_t n = 0;

	if (rtnl_dump_routes(family, &routes, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct status_route r = { .route = routes[i] };

		if (routes[i].oif > 0 && !if_indextoname((unsigned)routes[i].oif, r.dev))
			r.dev[0] = '\0';
		if (ARRAY_APPEND(f->routes, f->n_routes, r) < 0)
			return -ENOMEM;
	}
	return 0;
}

const struct status_route *status_route_to(const struct ns_facts *f, const struct ipnet *dst) {
	for (size_t i = 0; i < f->n_routes; i++) {
		const struct ipnet *d = &f->routes[i].route.dst;
		if (d->addr.family == dst->addr.family && d->prefix == dst->prefix &&
		    (dst->prefix == 0 || ipaddr_equal(&d->addr, &dst->addr)))
			return &f->routes[i];
	}
	return NULL;
}

/* Load text into a scratch namespace and list table there. */
static int scratch_listing(const char *text, const char *family_table, char **out) {
	_cleanup_netns_leave_ int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *err = NULL;
	int r;

	if (saved < 0)
		return -errno;
	if (unshare(CLONE_NEWNET) < 0) {
		r = -errno;
		close(TAKE_FD(saved));
		return r;
	}
	r = nft_apply(text, &err);
	if (r < 0)
		return r;
	return nft_list_table(family_table, out);
}

/* The live table (in live_nsfd, or here when -1) against expected_text. */
static enum rs_state compare_table(const char *expected_text, const char *family_table, int live_nsfd) {
	_cleanup_free_ char *want = NULL, *live = NULL;
	int r;

	if (live_nsfd >= 0) {
		_cleanup_netns_leave_ int saved = -1;
		if (netns_enter(live_nsfd, &saved) < 0)
			return RS_UNKNOWN;
		r = nft_list_table(family_table, &live);
	} else
		r = nft_list_table(family_table, &live);
	if (r == -ENOENT)
		return RS_ABSENT;
	if (r < 0 || !expected_text)
		return RS_UNKNOWN;
	if (scratch_listing(expected_text, family_table, &want) < 0)
		return RS_UNKNOWN;
	return streq(want, live) ? RS_MATCHES : RS_DIFFERS;
}

static int gather_network(struct ns_facts *f, int nsfd) {
	_cleanup_free_ char *ns_text = NULL, *host_text = NULL, *host_table = NULL;
	const char *host_names[] = { f->n.bridge, f->n.veth_host };
	const char *ns_names[] = { "lo", f->n.veth_ns, f->n.wg };
	int r;

	if ((r = gather_links(f, "host", host_names, ELEMENTSOF(host_names))) < 0)
		return r;
	if (f->cfg)
		ruleset_host_text(f->cfg, RULESET_REPLACE, &host_text);
	if (asprintf(&host_table, "inet %s", f->n.host_table) < 0)
		return -ENOMEM;
	f->host_rs = compare_table(host_text, host_table, -1);
	f->forward_guard_missing = f->n_claims > 0 && !nft_table_exists(FORWARD_GUARD_TABLE);
	{
		_cleanup_netns_leave_ int saved = -1;

		if (netns_enter(nsfd, &saved) == 0) {
			if ((r = gather_links(f, "namespace", ns_names, ELEMENTSOF(ns_names))) < 0 ||
			    (r = gather_routes(f, AF_INET)) < 0 || (r = gather_routes(f, AF_INET6)) < 0)
				return r;
			f->tunnel_link = if_nametoindex(f->n.wg) != 0;
		}
	}
	f->ns_rs_expected = f->tunnel_recorded ? "full" : "base";
	if (f->tunnel_recorded && f->cfg && f->wg) {
		ruleset_ns_full_text(f->cfg, f->wg, RULESET_REPLACE, &ns_text);
		if ((r = expect_forwarded(f, &ns_text)) < 0)
			return r;
	} else if (!f->tunnel_recorded)
		ruleset_ns_base_text(f->n.ns, f->cfg, RULESET_REPLACE, &ns_text);
	f->ns_rs = compare_table(ns_text, "inet " NS_TABLE_NAME, nsfd);
	return 0;
}

static int gather_tunnel(struct ns_facts *f, int nsfd) {
	_cleanup_free_ char *want = NULL, *have = NULL, *have_etc = NULL, *dir = NULL;
	size_t len;
	int r;

	if (!f->tunnel_recorded)
		return 0;
	f->wgo_running = f->rec.has_socket && tunnel_wgo_is_ours(&f->rec);
	if (f->tunnel_link || f->wgo_running)
		/* A kernel device answers in the namespace it is in;
		 * wireguard-go on its socket, from anywhere. */
		f->dump_ok = wgtool_dump(tunnel_wg_device(&f->n, &f->rec), f->rec.has_socket ? -1 : nsfd, &f->dump) == 0;
	if (!f->wg)
		return 0;
	r = resolv_render(f->wg, &want);
	if (r < 0)
		return r;
	rundir_read(f->n.ns, RUN_RESOLV, &have);
	if (resolv_etc_path(f->n.ns, &dir, &f->resolv_etc_path) == 0)
		read_file_capped(f->resolv_etc_path, 65536, &have_etc, &len);
	f->resolv_ok = have && have_etc && streq(want, have) && streq(want, have_etc);
	return 0;
}

bool status_unit_counts(const struct status_unit *u) { return !u->via || u->m.loaded; }

bool status_unit_active(const struct status_unit *u) {
	return streq(u->m.active_state, "active") || streq(u->m.active_state, "reloading");
}

/* The named counters of a table here; none when it cannot be listed. */
static int gather_counters(const char *family_table, struct nft_counter **out, size_t *n) {
	int r = nft_list_counters(family_table, out, n);

	return r == -ENOMEM ? r : 0;
}

/* The kill switch's counters inside N, the guard's here. */
static int gather_ns_counters(struct ns_facts *f, int nsfd) {
	_cleanup_free_ char *host_table = NULL;
	int r;

	if (asprintf(&host_table, "inet %s", f->n.host_table) < 0)
		return -ENOMEM;
	if ((r = gather_counters(host_table, &f->host_counters, &f->n_host_counters)) < 0)
		return r;
	{
		_cleanup_netns_leave_ int saved = -1;

		if (netns_enter(nsfd, &saved) < 0)
			return 0;
		return gather_counters("inet " NS_TABLE_NAME, &f->ns_counters, &f->n_ns_counters);
	}
}

int status_gather_host(struct host_facts *h) {
	*h = (struct host_facts){ .manager_reachable = manager_reachable() };
	/* Only root may list nftables (libnftables would say so on stderr). */
	if (geteuid() != 0)
		return 0;
	h->forward_guard_exists = nft_table_exists(FORWARD_GUARD_TABLE);
	if (!h->forward_guard_exists)
		return 0;
	return gather_counters("inet " FORWARD_GUARD_TABLE, &h->guard_counters, &h->n_guard_counters);
}

void status_host_clear(struct host_facts *h) {
	free(h->guard_counters);
	*h = (struct host_facts){ 0 };
}

/* Everything, or (all false) what tells whether the kill switch is up. */
static int gather(struct ns_facts *f, const struct ns_names *n, bool all) {
	_cleanup_close_ int nsfd = -1;
	int r;

	*f = (struct ns_facts){ .n = *n, .now = (uint64_t)time(NULL), .ns_rs = RS_UNKNOWN, .host_rs = RS_UNKNOWN };
	gather_rundir(f);
	/* Also for the kill switch's facts: the ruleset expected holds the
	 * forwarded port. */
	gather_port_forwarding(f);
	if ((r = gather_config(f)) < 0 || (r = gather_wg_config(f)) < 0 || (all && (r = gather_units(f)) < 0))
		return r;
	nsfd = netns_open(n->ns);
	f->netns_exists = nsfd >= 0;
	if (!f->netns_exists)
		return 0;
	if ((r = gather_network(f, nsfd)) < 0)
		return r;
	if (!all)
		return 0;
	if ((r = gather_ns_counters(f, nsfd)) < 0)
		return r;
	return gather_tunnel(f, nsfd);
}

int status_gather(struct ns_facts *f, const struct ns_names *n) { return gather(f, n, true); }

int status_gather_killswitch(struct ns_facts *f, const struct ns_names *n) { return gather(f, n, false); }
