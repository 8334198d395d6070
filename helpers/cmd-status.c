/* SPDX-License-Identifier: MIT */
/* vpn-confinement status [N] [--json] and check N: what is live, compared
 * with what should be. Both gather the same facts; check prints only the
 * problems and exits 1 when there is any.
 *
 * Rulesets are compared by their nft listing: the expected text (what
 * `ruleset N` renders) is loaded into a scratch network namespace that lives
 * only for the comparison, listed there, and compared with the live table's
 * listing (both stateless), so nft's own normalization makes them alike.
 *
 * No key material is printed: `wg show dump` output (which holds the private
 * key) is parsed for its public fields only and wiped. */
#include <dirent.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <stdarg.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

#include "commands.h"
#include "hostfwd.h"
#include "manager.h"
#include "netns.h"
#include "nft.h"
#include "nl.h"
#include "proc.h"
#include "ruleset.h"
#include "rundir.h"
#include "runtime.h"
#include "util.h"
#include "wgrt.h"

#define DEFAULT_MAX_HANDSHAKE_AGE 180

struct peer_info {
	char public_key[64];
	char endpoint[80];
	char allowed_ips[512];
	uint64_t latest_handshake; /* unix time, 0 = never */
	uint64_t rx, tx;
	uint64_t keepalive; /* 0 = off */
};

struct link_info {
	char name[16];
	const char *where; /* "host" or "namespace" */
	char kind[32];
	bool up;
	unsigned mtu;
	char addrs[8][IPNET_STRLEN];
	size_t n_addrs;
};

struct route_info {
	char dst[IPNET_STRLEN];
	char via[IPNET_STRLEN]; /* "" when none */
	char dev[16];
};

enum rs_state { RS_ABSENT, RS_MATCHES, RS_DIFFERS, RS_UNKNOWN };

struct ns_status {
	struct ns_names n;
	struct ns_config *cfg; /* NULL when unreadable or invalid */
	struct wg_config *wg;  /* NULL when not loaded */
	bool cfg_present;
	bool netns_exists, managed;
	struct link_info links[8];
	size_t n_links;
	struct route_info routes[32];
	size_t n_routes;
	enum rs_state ns_rs, host_rs;
	const char *ns_rs_expected; /* "base" or "full" */

	bool tunnel_recorded; /* $RUNDIR/N/wg */
	struct wg_state st;
	bool tunnel_link; /* N0 exists in N */
	bool wgo_running;
	bool dump_ok;
	char public_key[64];
	unsigned listen_port;
	struct peer_info peers[16];
	size_t n_peers;

	char dns[8][IPNET_STRLEN];
	size_t n_dns;
	bool resolv_ok;

	struct host_claim *claims; /* $RUNDIR/N/host-sysctl, validated */
	size_t n_claims;

	char **problems;
	size_t n_problems;
	/* Not a fault of the namespace, but the promise does not hold (a
	 * confined unit given back a capability): shown, check's status kept. */
	char **warnings;
	size_t n_warnings;
};

static void note(char ***list, size_t *n, const char *fmt, va_list ap) {
	char *m;

	if (vasprintf(&m, fmt, ap) >= 0 && array_append((void **)list, n, sizeof(m), &m) < 0)
		free(m);
}

static void problem(struct ns_status *s, const char *fmt, ...) _printf_(2, 3);
static void problem(struct ns_status *s, const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	note(&s->problems, &s->n_problems, fmt, ap);
	va_end(ap);
}

static void warning(struct ns_status *s, const char *fmt, ...) _printf_(2, 3);
static void warning(struct ns_status *s, const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	note(&s->warnings, &s->n_warnings, fmt, ap);
	va_end(ap);
}

static void ns_status_clear(struct ns_status *s) {
	ns_config_free(s->cfg);
	wg_config_free(s->wg);
	free(s->claims);
	strv_free(s->problems, s->n_problems);
	strv_free(s->warnings, s->n_warnings);
}

/* The capabilities the confinement drop-in takes away (and the reason a
 * confined unit that has them again voids the promise). */
static const struct {
	int cap;
	const char *name;
} confinement_caps[] = {
	{ CAP_NET_ADMIN, "CAP_NET_ADMIN" },
	{ CAP_NET_RAW, "CAP_NET_RAW" },
	{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
};

/* Ask systemd whether a confined service kept one of them (an admin's
 * CapabilityBoundingSet= adds back what the drop-in took). Templates
 * cannot be asked about; without systemd nothing can be told. */
static void check_unit_caps(struct ns_status *s) {
	for (size_t i = 0; s->cfg && i < s->cfg->n_units; i++) {
		const char *u = s->cfg->units[i];
		const char *dot = strrchr(u, '.');
		uint64_t caps;
		int r;

		if (!dot || !streq(dot, ".service") || (strchr(u, '@') && strchr(u, '@') + 1 == dot))
			continue;
		r = manager_unit_bounding_set(u, &caps);
		if (r == -ENOTCONN)
			return;
		if (r < 0)
			continue;
		for (size_t k = 0; k < ELEMENTSOF(confinement_caps); k++)
			if (caps & (UINT64_C(1) << confinement_caps[k].cap))
				warning(s,
					"%s keeps %s in its bounding set (CapabilityBoundingSet= given back?): "
					"it can leave the confinement; see vpn-confinement(8)",
					u, confinement_caps[k].name);
	}
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
		close(saved);
		saved = -1;
		return r;
	}
	r = nft_apply(text, &err);
	if (r < 0)
		return r;
	return nft_list_table(family_table, out);
}

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

static void add_links(struct ns_status *s, const char *where, const char *const names[], size_t n_names) {
	_cleanup_free_ struct nl_link *links = NULL;
	_cleanup_free_ struct nl_addr *addrs = NULL;
	size_t nl = 0, na = 0;

	if (nl_dump_links(&links, &nl) < 0 || nl_dump_addrs(&addrs, &na) < 0)
		return;
	for (size_t i = 0; i < nl; i++) {
		struct link_info *li;
		bool wanted = false;

		for (size_t k = 0; k < n_names; k++)
			wanted |= names[k] && streq(names[k], links[i].name);
		if (!wanted || s->n_links >= ELEMENTSOF(s->links))
			continue;
		li = &s->links[s->n_links++];
		*li = (struct link_info){ .where = where, .up = links[i].flags & IFF_UP, .mtu = links[i].mtu };
		snprintf(li->name, sizeof(li->name), "%s", links[i].name);
		snprintf(li->kind, sizeof(li->kind), "%s", links[i].kind);
		for (size_t a = 0; a < na && li->n_addrs < ELEMENTSOF(li->addrs); a++)
			if (addrs[a].ifindex == links[i].ifindex)
				ipnet_str(&addrs[a].addr, li->addrs[li->n_addrs++]);
	}
}

static void add_routes(struct ns_status *s, int family) {
	_cleanup_free_ struct nl_route *routes = NULL;
	size_t n = 0;

	if (nl_dump_routes(family, &routes, &n) < 0)
		return;
	for (size_t i = 0; i < n && s->n_routes < ELEMENTSOF(s->routes); i++) {
		struct route_info *ri = &s->routes[s->n_routes++];
		char ifname[IF_NAMESIZE] = "";

		*ri = (struct route_info){ 0 };
		if (routes[i].dst.prefix == 0)
			snprintf(ri->dst, sizeof(ri->dst), "%s", family == AF_INET ? "default" : "default (IPv6)");
		else
			ipnet_str(&routes[i].dst, ri->dst);
		if (routes[i].has_gateway)
			ipaddr_str(&routes[i].gateway, ri->via);
		if (routes[i].oif > 0 && if_indextoname((unsigned)routes[i].oif, ifname))
			snprintf(ri->dev, sizeof(ri->dev), "%s", ifname);
	}
}

static bool route_dev_is(const struct ns_status *s, const char *dst, const char *dev) {
	for (size_t i = 0; i < s->n_routes; i++)
		if (streq(s->routes[i].dst, dst))
			return streq(s->routes[i].dev, dev);
	return false;
}

static bool has_route(const struct ns_status *s, const char *dst) {
	for (size_t i = 0; i < s->n_routes; i++)
		if (streq(s->routes[i].dst, dst))
			return true;
	return false;
}

/* Parse `wg show X dump`: public fields only. */
static void parse_dump(struct ns_status *s, char *text) {
	unsigned line_no = 0;

	for (char *line = text, *next; line && *line; line = next, line_no++) {
		char *f[9];
		size_t nf = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		for (char *p = line, *t; p && nf < ELEMENTSOF(f); p = t) {
			t = strchr(p, '\t');
			if (t)
				*t++ = '\0';
			f[nf++] = p;
		}
		if (line_no == 0) {
			uint64_t v;
			/* f[0] is the private key: never copied. */
			if (nf >= 3) {
				snprintf(s->public_key, sizeof(s->public_key), "%s", f[1]);
				if (parse_uint(f[2], 0, 65535, &v) == 0)
					s->listen_port = (unsigned)v;
			}
			continue;
		}
		if (nf < 8 || s->n_peers >= ELEMENTSOF(s->peers))
			continue;
		{
			struct peer_info *p = &s->peers[s->n_peers++];
			/* f[1] is the preshared key: never copied. */
			*p = (struct peer_info){ 0 };
			snprintf(p->public_key, sizeof(p->public_key), "%s", f[0]);
			snprintf(p->endpoint, sizeof(p->endpoint), "%s", streq(f[2], "(none)") ? "" : f[2]);
			snprintf(p->allowed_ips, sizeof(p->allowed_ips), "%s", streq(f[3], "(none)") ? "" : f[3]);
			parse_uint(f[4], 0, UINT64_MAX, &p->latest_handshake);
			parse_uint(f[5], 0, UINT64_MAX, &p->rx);
			parse_uint(f[6], 0, UINT64_MAX, &p->tx);
			if (!streq(f[7], "off"))
				parse_uint(f[7], 0, 65535, &p->keepalive);
		}
	}
}

static void wg_dump(struct ns_status *s, int nsfd) {
	struct proc_output out = { 0 }, err = { 0 };
	struct proc_opts o = PROC_OPTS_INIT;
	const char *dev = s->st.has_socket ? s->st.tmpname : s->n.wg;
	char *argv[] = { WG_PATH, "show", (char *)dev, "dump", NULL };
	int r;

	/* A kernel device answers in the namespace it is in; wireguard-go on
	 * its socket, from anywhere. */
	if (!s->st.has_socket)
		o.netns_fd = nsfd;
	o.out = &out;
	o.err = &err;
	r = proc_run(argv, &o);
	if (r == 0 && out.data) {
		s->dump_ok = true;
		parse_dump(s, out.data);
	}
	proc_output_release(&out);
	proc_output_release(&err);
}

static void gather(struct ns_status *s, const char *name, uint64_t max_age) {
	_cleanup_close_ int nsfd = -1;
	_cleanup_free_ char *ns_text = NULL, *host_text = NULL;
	struct diag d = { 0 };
	char path[512];
	int r;

	snprintf(path, sizeof(path), "%s/%s.ini", confdir(), name);
	s->cfg_present = access(path, F_OK) == 0;
	if (s->cfg_present) {
		r = ns_config_load_one(confdir(), name, &s->cfg, &d);
		if (r < 0 || !s->cfg || !s->cfg->valid) {
			for (size_t i = 0; i < d.n; i++) {
				_cleanup_free_ char *m = diag_format(&d.entries[i]);
				if (d.entries[i].level == DIAG_ERROR && m)
					problem(s, "config: %s", m);
			}
			if (r < 0 && r != -EINVAL)
				problem(s, "config: %s: %s", path, strerror(-r));
			ns_config_free(s->cfg);
			s->cfg = NULL;
		}
		diag_clear(&d);
	} else
		problem(s, "no config %s", path);

	s->managed = rundir_exists(name, RUN_NETNS);
	{
		size_t bad = 0;
		if (hostfwd_claims_load(name, &s->claims, &s->n_claims, &bad) == 0 && bad > 0)
			problem(s, "%zu line(s) of %s/%s/%s were not written by vpn-confinement (ignored)", bad, rundir(),
				name, RUN_HOST_SYSCTL);
	}
	s->tunnel_recorded = rundir_exists(name, RUN_WG);
	if (s->tunnel_recorded && (r = wg_state_load(name, &s->st)) < 0)
		problem(s, "run file %s/%s/%s unreadable: %s", rundir(), name, RUN_WG, strerror(-r));

	if (s->cfg && wgconf_check_owner(s->cfg->wg_config_file, 0, &d) < 0)
		for (size_t i = 0; i < d.n; i++) {
			_cleanup_free_ char *m = diag_format(&d.entries[i]);
			if (m)
				problem(s, "wg config: %s", m);
		}
	diag_clear(&d);
	if (s->cfg && s->tunnel_recorded) {
		r = wgconf_load(s->cfg->wg_config_file, &s->wg, &d);
		if (r < 0)
			problem(s, "wg config %s cannot be loaded", s->cfg->wg_config_file);
		diag_clear(&d);
	}

	check_unit_caps(s);

	nsfd = netns_open(name);
	s->netns_exists = nsfd >= 0;
	if (!s->netns_exists) {
		problem(s, "namespace %s does not exist", s->n.netns_path);
		return;
	}
	if (!s->managed)
		problem(s, "namespace exists but %s/%s/%s is missing (not made by netns-up?)", rundir(), name,
			RUN_NETNS);

	/* Host side. */
	{
		const char *names[] = { s->n.bridge, s->n.veth_host };
		add_links(s, "host", names, ELEMENTSOF(names));
	}
	if (s->cfg)
		ruleset_host_text(s->cfg, &host_text);
	{
		char table[NS_PATH_SIZE + 8];
		snprintf(table, sizeof(table), "inet %s", s->n.host_table);
		s->host_rs = compare_table(host_text, table, -1);
	}
	if (rundir_exists(name, RUN_HOST_SYSCTL)) {
		_cleanup_free_ char *listing = NULL;
		if (nft_list_table("inet " FORWARD_GUARD_TABLE, &listing) == -ENOENT)
			problem(s, "forwarding is on for the port mappings but the guard (table inet %s) is missing",
				FORWARD_GUARD_TABLE);
	}

	/* Inside. */
	{
		_cleanup_netns_leave_ int saved = -1;
		const char *names[] = { "lo", s->n.veth_ns, s->n.wg };

		if (netns_enter(nsfd, &saved) == 0) {
			add_links(s, "namespace", names, ELEMENTSOF(names));
			s->tunnel_link = if_nametoindex(s->n.wg) != 0;
			add_routes(s, AF_INET);
			add_routes(s, AF_INET6);
		}
	}
	s->ns_rs_expected = s->tunnel_recorded ? "full" : "base";
	if (s->cfg) {
		if (s->tunnel_recorded && s->wg)
			ruleset_ns_full_text(s->cfg, s->wg, &ns_text);
		else if (!s->tunnel_recorded)
			ruleset_ns_base_text(s->cfg, &ns_text);
	}
	s->ns_rs = compare_table(ns_text, "inet " NS_TABLE_NAME, nsfd);

	switch (s->ns_rs) {
	case RS_ABSENT:
		problem(s, "namespace ruleset (table inet %s) is missing", NS_TABLE_NAME);
		break;
	case RS_DIFFERS:
		problem(s, "namespace ruleset differs from what `vpn-confinement ruleset %s` renders (%s form)", name,
			s->ns_rs_expected);
		break;
	default:
		break;
	}
	switch (s->host_rs) {
	case RS_ABSENT:
		problem(s, "host table inet %s is missing", s->n.host_table);
		break;
	case RS_DIFFERS:
		problem(s, "host table inet %s differs from what `vpn-confinement ruleset %s --host` renders",
			s->n.host_table, name);
		break;
	default:
		break;
	}

	/* IPv6 only where configured. */
	if (s->tunnel_recorded && s->wg && !wg_config_has_family(s->wg, AF_INET6) && has_route(s, "default (IPv6)"))
		problem(s, "an IPv6 default route exists but the wg config has no IPv6 address");
	if (!s->tunnel_recorded && has_route(s, "default (IPv6)"))
		problem(s, "an IPv6 default route exists while the tunnel is down");
	if (!s->tunnel_recorded && has_route(s, "default"))
		problem(s, "an IPv4 default route exists while the tunnel is down");

	if (!s->tunnel_recorded) {
		problem(s, "tunnel is down (no wg-up)");
		return;
	}

	/* Tunnel. */
	if (s->st.has_socket) {
		s->wgo_running = wgo_is_ours(&s->st);
		if (!s->wgo_running)
			problem(s, "wireguard-go (pid %d, socket %s) is not running", (int)s->st.pid, s->st.tmpname);
	}
	if (!s->tunnel_link)
		problem(s, "interface %s is missing in the namespace", s->n.wg);
	if (!route_dev_is(s, "default", s->n.wg))
		problem(s, "the IPv4 default route is not via %s", s->n.wg);
	if (s->wg && wg_config_has_family(s->wg, AF_INET6) && !route_dev_is(s, "default (IPv6)", s->n.wg))
		problem(s, "the IPv6 default route is not via %s", s->n.wg);
	if (s->wg) {
		_cleanup_free_ char *want = NULL, *have = NULL, *have_etc = NULL, *dir = NULL, *file = NULL;
		size_t len;

		resolv_conf_render(s->wg, &want); /* on failure want stays NULL: a problem below */

		for (size_t i = 0; i < s->wg->n_dns && s->n_dns < ELEMENTSOF(s->dns); i++) {
			char dst[IPNET_STRLEN + 8];
			ipaddr_str(&s->wg->dns[i], s->dns[s->n_dns]);
			snprintf(dst, sizeof(dst), "%s/%d", s->dns[s->n_dns],
				 s->wg->dns[i].family == AF_INET ? 32 : 128);
			if ((s->wg->dns[i].family == AF_INET || wg_config_has_family(s->wg, AF_INET6)) &&
			    !route_dev_is(s, dst, s->n.wg))
				problem(s, "DNS server %s is not routed via %s", s->dns[s->n_dns], s->n.wg);
			s->n_dns++;
		}
		rundir_read(name, RUN_RESOLV, &have);
		if (resolv_etc_path(name, &dir, &file) == 0)
			read_file_capped(file, 65536, &have_etc, &len);
		s->resolv_ok = want && have && have_etc && streq(want, have) && streq(want, have_etc);
		if (!s->resolv_ok)
			problem(s, "resolv.conf (%s/%s/%s or %s) is missing or differs from the wg config's DNS", rundir(),
				name, RUN_RESOLV, file ? file : "?");
	}

	if (s->tunnel_link || s->wgo_running)
		wg_dump(s, nsfd);
	if (!s->dump_ok)
		problem(s, "cannot read the WireGuard device's state (wg show)");
	if (max_age > 0) {
		uint64_t now = (uint64_t)time(NULL);
		for (size_t i = 0; i < s->n_peers; i++) {
			const struct peer_info *p = &s->peers[i];
			/* A young tunnel without traffic or keepalive has had no
			 * reason for a handshake yet. */
			if (p->latest_handshake == 0 && (s->st.started == 0 || now < s->st.started ||
							 now - s->st.started > max_age))
				problem(s, "peer %s: no handshake within %llu s of wg-up", p->public_key,
					(unsigned long long)max_age);
			else if (p->latest_handshake != 0 && now > p->latest_handshake &&
				 now - p->latest_handshake > max_age)
				problem(s, "peer %s: last handshake %llu s ago (more than %llu s)", p->public_key,
					(unsigned long long)(now - p->latest_handshake), (unsigned long long)max_age);
		}
	}
}

/* Output. */

static void json_str(FILE *f, const char *s) {
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static const char *rs_str(enum rs_state r) {
	switch (r) {
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

static void print_json(FILE *f, const struct ns_status *s) {
	uint64_t now = (uint64_t)time(NULL);

	fputs("{\"name\":", f);
	json_str(f, s->n.ns);
	fputs(",\"config\":{\"file\":", f);
	{
		char path[512];
		snprintf(path, sizeof(path), "%s/%s.ini", confdir(), s->n.ns);
		json_str(f, path);
	}
	fprintf(f, ",\"present\":%s,\"valid\":%s,\"units\":[", s->cfg_present ? "true" : "false",
		s->cfg ? "true" : "false");
	for (size_t i = 0; s->cfg && i < s->cfg->n_units; i++) {
		if (i)
			fputc(',', f);
		json_str(f, s->cfg->units[i]);
	}
	fputs("]},\"netns\":{\"path\":", f);
	json_str(f, s->n.netns_path);
	fprintf(f, ",\"exists\":%s,\"managed\":%s},\"links\":[", s->netns_exists ? "true" : "false",
		s->managed ? "true" : "false");
	for (size_t i = 0; i < s->n_links; i++) {
		const struct link_info *l = &s->links[i];
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		json_str(f, l->name);
		fputs(",\"where\":", f);
		json_str(f, l->where);
		fputs(",\"kind\":", f);
		json_str(f, l->kind);
		fprintf(f, ",\"up\":%s,\"mtu\":%u,\"addresses\":[", l->up ? "true" : "false", l->mtu);
		for (size_t a = 0; a < l->n_addrs; a++) {
			if (a)
				fputc(',', f);
			json_str(f, l->addrs[a]);
		}
		fputs("]}", f);
	}
	fputs("],\"host_sysctls\":[", f);
	for (size_t i = 0; i < s->n_claims; i++) {
		char key[128];
		if (hostfwd_claim_key(&s->claims[i], key, sizeof(key)) < 0)
			continue;
		fputs(i ? ",{\"key\":" : "{\"key\":", f);
		json_str(f, key);
		fprintf(f, ",\"original\":\"%d\"}", s->claims[i].original);
	}
	fputs("],\"routes\":[", f);
	for (size_t i = 0; i < s->n_routes; i++) {
		const struct route_info *r = &s->routes[i];
		fputs(i ? ",{\"dst\":" : "{\"dst\":", f);
		json_str(f, r->dst);
		if (r->via[0]) {
			fputs(",\"via\":", f);
			json_str(f, r->via);
		}
		fputs(",\"dev\":", f);
		json_str(f, r->dev);
		fputc('}', f);
	}
	fprintf(f, "],\"rulesets\":{\"namespace\":{\"expected\":\"%s\",\"state\":\"%s\"},\"host\":{\"state\":\"%s\"}}",
		s->ns_rs_expected ? s->ns_rs_expected : "base", rs_str(s->ns_rs), rs_str(s->host_rs));
	fprintf(f, ",\"tunnel\":{\"up\":%s", s->tunnel_recorded ? "true" : "false");
	if (s->tunnel_recorded) {
		fputs(",\"interface\":", f);
		json_str(f, s->n.wg);
		fprintf(f, ",\"present\":%s", s->tunnel_link ? "true" : "false");
		if (s->st.implementation) {
			fputs(",\"implementation\":", f);
			json_str(f, s->st.implementation);
		}
		if (s->st.has_socket) {
			fputs(",\"socket\":", f);
			json_str(f, s->st.tmpname);
			fprintf(f, ",\"pid\":%d,\"running\":%s", (int)s->st.pid, s->wgo_running ? "true" : "false");
		}
		if (s->dump_ok) {
			fputs(",\"public_key\":", f);
			json_str(f, s->public_key);
			fprintf(f, ",\"listen_port\":%u", s->listen_port);
		}
		fputs(",\"peers\":[", f);
		for (size_t i = 0; i < s->n_peers; i++) {
			const struct peer_info *p = &s->peers[i];
			fputs(i ? ",{\"public_key\":" : "{\"public_key\":", f);
			json_str(f, p->public_key);
			fputs(",\"endpoint\":", f);
			json_str(f, p->endpoint);
			fputs(",\"allowed_ips\":", f);
			json_str(f, p->allowed_ips);
			fprintf(f, ",\"latest_handshake\":%llu", (unsigned long long)p->latest_handshake);
			if (p->latest_handshake && now >= p->latest_handshake)
				fprintf(f, ",\"handshake_age\":%llu", (unsigned long long)(now - p->latest_handshake));
			fprintf(f, ",\"rx_bytes\":%llu,\"tx_bytes\":%llu,\"persistent_keepalive\":%llu}",
				(unsigned long long)p->rx, (unsigned long long)p->tx, (unsigned long long)p->keepalive);
		}
		fputc(']', f);
	}
	fputs("},\"dns\":{\"servers\":[", f);
	for (size_t i = 0; i < s->n_dns; i++) {
		if (i)
			fputc(',', f);
		json_str(f, s->dns[i]);
	}
	fprintf(f, "],\"resolv_conf_ok\":%s},\"problems\":[", s->resolv_ok ? "true" : "false");
	for (size_t i = 0; i < s->n_problems; i++) {
		if (i)
			fputc(',', f);
		json_str(f, s->problems[i]);
	}
	fputs("],\"warnings\":[", f);
	for (size_t i = 0; i < s->n_warnings; i++) {
		if (i)
			fputc(',', f);
		json_str(f, s->warnings[i]);
	}
	fputs("]}", f);
}

static void print_text(FILE *f, const struct ns_status *s) {
	uint64_t now = (uint64_t)time(NULL);

	fprintf(f, "%s: %s\n", s->n.ns,
		!s->netns_exists ? "down" : s->n_problems ? "up, with problems" : "up, as it should be");
	fprintf(f, "  config:     %s/%s.ini (%s)\n", confdir(), s->n.ns,
		!s->cfg_present ? "missing" : s->cfg ? "valid" : "INVALID");
	fprintf(f, "  namespace:  %s (%s%s)\n", s->n.netns_path, s->netns_exists ? "exists" : "missing",
		s->netns_exists && !s->managed ? ", not managed" : "");
	for (size_t i = 0; i < s->n_links; i++) {
		const struct link_info *l = &s->links[i];
		fprintf(f, "  link:       %-10s %-9s %-4s mtu %u%s%s", l->name, l->where, l->up ? "up" : "DOWN", l->mtu,
			l->kind[0] ? " " : "", l->kind);
		for (size_t a = 0; a < l->n_addrs; a++)
			fprintf(f, " %s", l->addrs[a]);
		fputc('\n', f);
	}
	for (size_t i = 0; i < s->n_routes; i++) {
		const struct route_info *r = &s->routes[i];
		fprintf(f, "  route:      %s%s%s dev %s\n", r->dst, r->via[0] ? " via " : "", r->via, r->dev);
	}
	if (s->netns_exists) {
		for (size_t i = 0; i < s->n_claims; i++) {
			char key[128];
			if (hostfwd_claim_key(&s->claims[i], key, sizeof(key)) == 0)
				fprintf(f, "  host:       %s changed (was %d; restored by netns-down)\n", key,
					s->claims[i].original);
		}
		fprintf(f, "  ruleset:    namespace %s (%s form expected), host %s\n", rs_str(s->ns_rs),
			s->ns_rs_expected, rs_str(s->host_rs));
	}
	if (s->tunnel_recorded) {
		fprintf(f, "  tunnel:     %s %s, %s", s->n.wg, s->tunnel_link ? "present" : "MISSING",
			s->st.implementation ? s->st.implementation : "?");
		if (s->st.has_socket)
			fprintf(f, " (wireguard-go pid %d %s, socket " WG_SOCKET_DIR "/%s.sock)", (int)s->st.pid,
				s->wgo_running ? "running" : "NOT RUNNING", s->st.tmpname);
		fputc('\n', f);
		if (s->dump_ok)
			fprintf(f, "  public key: %s, listening port %u\n", s->public_key, s->listen_port);
		for (size_t i = 0; i < s->n_peers; i++) {
			const struct peer_info *p = &s->peers[i];
			fprintf(f, "  peer:       %s endpoint %s allowed %s\n", p->public_key,
				p->endpoint[0] ? p->endpoint : "(none)", p->allowed_ips);
			if (p->latest_handshake && now >= p->latest_handshake)
				fprintf(f, "              handshake %llu s ago", (unsigned long long)(now - p->latest_handshake));
			else
				fprintf(f, "              no handshake yet");
			fprintf(f, ", received %llu B, sent %llu B\n", (unsigned long long)p->rx, (unsigned long long)p->tx);
		}
		fprintf(f, "  dns:       ");
		for (size_t i = 0; i < s->n_dns; i++)
			fprintf(f, " %s", s->dns[i]);
		fprintf(f, "%s (resolv.conf %s)\n", s->n_dns ? "" : " (none)", s->resolv_ok ? "ok" : "WRONG");
	} else
		fprintf(f, "  tunnel:     down\n");
	if (s->cfg && s->cfg->n_units) {
		fprintf(f, "  units:     ");
		for (size_t i = 0; i < s->cfg->n_units; i++)
			fprintf(f, " %s", s->cfg->units[i]);
		fputc('\n', f);
	}
	for (size_t i = 0; i < s->n_problems; i++)
		fprintf(f, "  problem:    %s\n", s->problems[i]);
	for (size_t i = 0; i < s->n_warnings; i++)
		fprintf(f, "  warning:    %s\n", s->warnings[i]);
}

/* Namespace names known from the config dir and the run dir, sorted, unique. */
static int known_names(char ***out, size_t *n) {
	const char *dirs[] = { confdir(), rundir() };
	char **names = NULL;
	size_t count = 0;

	for (size_t k = 0; k < ELEMENTSOF(dirs); k++) {
		DIR *d = opendir(dirs[k]);
		struct dirent *de;

		if (!d)
			continue;
		while ((de = readdir(d))) {
			char name[NAME_MAX + 1];
			bool dup = false;
			char *copy;

			snprintf(name, sizeof(name), "%s", de->d_name);
			if (k == 0) {
				size_t len = strlen(name);
				if (len < 5 || !streq(name + len - 4, ".ini"))
					continue;
				name[len - 4] = '\0';
			}
			if (!ns_name_valid(name))
				continue;
			for (size_t i = 0; i < count; i++)
				dup |= streq(names[i], name);
			if (dup)
				continue;
			copy = strdup(name);
			if (!copy || ARRAY_APPEND(names, count, copy) < 0) {
				free(copy);
				closedir(d);
				return -ENOMEM;
			}
		}
		closedir(d);
	}
	for (size_t i = 1; i < count; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	*out = names;
	*n = count;
	return 0;
}

int cmd_status(int argc, char **argv) {
	bool json = false;
	const char *only = NULL;
	char **names = NULL;
	size_t n_names = 0;
	int rc = EXIT_OK;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--json"))
			json = true;
		else if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
			printf("Usage: vpn-confinement status [N] [--json]\nSee vpn-confinement(8).\n");
			return EXIT_OK;
		} else if (argv[i][0] != '-' && !only)
			only = argv[i];
		else {
			fprintf(stderr, "vpn-confinement: usage: vpn-confinement status [N] [--json]\n");
			return EXIT_USAGE;
		}
	}
	if (only) {
		struct ns_names tmp;
		if (ns_names_init(&tmp, only) < 0)
			return EXIT_USAGE;
		names = calloc(1, sizeof(char *));
		if (!names || !(names[0] = strdup(only)))
			return EXIT_FAIL;
		n_names = 1;
	} else if (known_names(&names, &n_names) < 0)
		return EXIT_FAIL;

	if (json)
		fputs("{\"namespaces\":[", stdout);
	for (size_t i = 0; i < n_names; i++) {
		struct ns_status s = { 0 };

		ns_names_init(&s.n, names[i]);
		gather(&s, names[i], DEFAULT_MAX_HANDSHAKE_AGE);
		if (json) {
			if (i)
				fputc(',', stdout);
			print_json(stdout, &s);
		} else {
			if (i)
				fputc('\n', stdout);
			print_text(stdout, &s);
		}
		ns_status_clear(&s);
		free(names[i]);
	}
	free(names);
	if (json)
		fputs("]}\n", stdout);
	if (!json && n_names == 0)
		printf("no namespaces configured in %s and none running in %s\n", confdir(), rundir());
	if (fflush(stdout) != 0)
		rc = EXIT_FAIL;
	return rc;
}

int cmd_check(int argc, char **argv) {
	const char *name = NULL;
	uint64_t max_age = DEFAULT_MAX_HANDSHAKE_AGE;
	struct ns_status s = { 0 };
	int rc;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--max-handshake-age") && i + 1 < argc) {
			if (parse_uint(argv[++i], 0, UINT32_MAX, &max_age) < 0) {
				fprintf(stderr, "vpn-confinement: --max-handshake-age: not a number of seconds: %s\n", argv[i]);
				return EXIT_USAGE;
			}
		} else if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
			printf("Usage: vpn-confinement check N [--max-handshake-age SECONDS]\nSee vpn-confinement(8).\n");
			return EXIT_OK;
		} else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			fprintf(stderr, "vpn-confinement: usage: vpn-confinement check N [--max-handshake-age SECONDS]\n");
			return EXIT_USAGE;
		}
	}
	if (!name) {
		fprintf(stderr, "vpn-confinement: usage: vpn-confinement check N [--max-handshake-age SECONDS]\n");
		return EXIT_USAGE;
	}
	if (ns_names_init(&s.n, name) < 0)
		return EXIT_USAGE;
	gather(&s, name, max_age);
	for (size_t i = 0; i < s.n_problems; i++)
		printf("%s: %s\n", name, s.problems[i]);
	for (size_t i = 0; i < s.n_warnings; i++)
		printf("%s: warning: %s\n", name, s.warnings[i]);
	if (s.n_problems == 0)
		printf("%s: ok\n", name);
	rc = s.n_problems ? EXIT_FAIL : EXIT_OK;
	ns_status_clear(&s);
	return rc;
}
