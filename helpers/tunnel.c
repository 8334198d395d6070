/* SPDX-License-Identifier: MIT */
#include "tunnel.h"

#include <net/if.h>
#include <netdb.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "config.h"
#include "conntrack.h"
#include "diag.h"
#include "egress.h"
#include "log.h"
#include "netns.h"
#include "nft.h"
#include "proc.h"
#include "resolv.h"
#include "rtnl.h"
#include "rundir.h"
#include "ruleset.h"
#include "sysctl.h"
#include "text.h"
#include "util.h"
#include "wgconf.h"
#include "wgtool.h"

static void sleep_ms(long ms) {
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- the record ---------------------------------------------------------- */

bool tunnel_wgo_is_ours(const struct tunnel_record *rec) {
	uint64_t start;

	if (!rec->has_socket || rec->pid <= 0 || rec->pid_start == 0)
		return false;
	return proc_start_time(rec->pid, &start) == 0 && start == rec->pid_start &&
	       proc_exe_is(rec->pid, WIREGUARD_GO_PATH) && proc_has_arg(rec->pid, rec->tmpname);
}

bool tunnel_tmpname_valid(const char *ns, const char *s) {
	size_t nl = strlen(ns);

	/* "vc-" N "-" and four hex digits, as tmpname_pick() makes them. */
	if (!ns_name_valid(ns) || strlen(s) != 3 + nl + 5 || strncmp(s, "vc-", 3) != 0 ||
	    strncmp(s + 3, ns, nl) != 0 || s[3 + nl] != '-')
		return false;
	for (const char *p = s + 4 + nl; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

const char *tunnel_wg_device(const struct ns_names *n, const struct tunnel_record *rec) {
	return rec->has_socket ? rec->tmpname : n->wg;
}

static const char *const implementations[] = { "kernel", "userspace", "pending" };

struct record_ctx {
	const char *ns;
	struct tunnel_record *rec;
};

/* One "key=value" of the record into rec; -EBADMSG for anything wg-up does
 * not write. */
static int record_field(void *userdata, const char *key, const char *value) {
	const struct record_ctx *c = userdata;
	const char *ns = c->ns;
	struct tunnel_record *rec = c->rec;
	uint64_t v;

	if (streq(key, "implementation")) {
		for (size_t i = 0; i < ELEMENTSOF(implementations); i++)
			if (streq(value, implementations[i]))
				rec->implementation = implementations[i];
		return rec->implementation ? 0 : -EBADMSG;
	}
	if (streq(key, "tmpname") || streq(key, "socket")) {
		if (!tunnel_tmpname_valid(ns, value) || (rec->tmpname[0] && !streq(rec->tmpname, value)))
			return -EBADMSG;
		snprintf(rec->tmpname, sizeof(rec->tmpname), "%s", value);
		rec->has_socket |= streq(key, "socket");
		return 0;
	}
	if (streq(key, "pid")) {
		if (parse_uint(value, 2, INT32_MAX, &v) < 0)
			return -EBADMSG;
		rec->pid = (pid_t)v;
		return 0;
	}
	if (streq(key, "pidstart"))
		return parse_uint(value, 1, UINT64_MAX, &rec->pid_start) < 0 ? -EBADMSG : 0;
	if (streq(key, "started"))
		return parse_uint(value, 0, UINT64_MAX, &rec->started) < 0 ? -EBADMSG : 0;
	if (streq(key, "epoch"))
		return parse_uint(value, 1, UINT64_MAX, &rec->epoch) < 0 ? -EBADMSG : 0;
	return -EBADMSG;
}

int tunnel_record_load(const char *ns, struct tunnel_record *rec) {
	int r;

	*rec = (struct tunnel_record){ 0 };
	r = rundir_read_fields(ns, RUN_WG, record_field, &(struct record_ctx){ .ns = ns, .rec = rec });
	if (r < 0) {
		*rec = (struct tunnel_record){ 0 };
		return r;
	}
	if (!rec->implementation || !rec->tmpname[0] || (rec->pid && !rec->has_socket)) {
		*rec = (struct tunnel_record){ 0 };
		return -EBADMSG;
	}
	return 0;
}

int tunnel_record_save(const char *ns, const struct tunnel_record *rec) {
	_cleanup_(text_release) struct text t = { 0 };
	int r = text_open(&t, false);

	if (r < 0)
		return r;
	fprintf(t.f, "implementation=%s\ntmpname=%s\nstarted=%llu\n", rec->implementation, rec->tmpname,
		(unsigned long long)rec->started);
	if (rec->epoch)
		fprintf(t.f, "epoch=%llu\n", (unsigned long long)rec->epoch);
	if (rec->has_socket)
		fprintf(t.f, "socket=%s\n", rec->tmpname);
	if (rec->pid > 0)
		fprintf(t.f, "pid=%d\npidstart=%llu\n", (int)rec->pid, (unsigned long long)rec->pid_start);
	r = text_finish(&t);
	return r < 0 ? r : rundir_write(ns, RUN_WG, t.buf);
}

void tunnel_record_new_epoch(struct tunnel_record *rec) {
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	rec->epoch = now > rec->epoch ? now : rec->epoch + 1;
}

/* ---- bringing it up -------------------------------------------------------- */

static int tmpname_pick(const char *ns, char out[IF_NAMESIZE]) {
	for (int attempt = 0; attempt < 32; attempt++) {
		uint16_t rnd;
		char sock[128];

		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			return -errno;
		snprintf(out, IF_NAMESIZE, "vc-%s-%04x", ns, rnd);
		snprintf(sock, sizeof(sock), WG_SOCKET_DIR "/%s.sock", out);
		if (if_nametoindex(out) == 0 && access(sock, F_OK) < 0)
			return 0;
	}
	return -EEXIST;
}

/* Resolve one DNS-name endpoint; 0, or the getaddrinfo() error. */
/* AllowedEgress= against wg's DNS servers and (resolved) endpoints, as
 * the ini parser could not see them; the reasons printed. */
static int check_egress(const struct ns_config *ns, const struct wg_config *wg) {
	_cleanup_(diag_clear) struct diag d = { 0 };
	int r = egress_check_wg(ns, wg, &d);

	diag_print(&d, stderr, "vpn-confinement");
	return r;
}

static int resolve_one(struct wg_peer *p) {
	/* AI_ADDRCONFIG: no IPv6 endpoint on a host without IPv6. */
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res = NULL;
	struct ipaddr a = { 0 };
	char buf[IPNET_STRLEN];
	char *lit;
	int g;

	g = getaddrinfo(p->endpoint_host, NULL, &hints, &res);
	if (g != 0)
		return g;
	a.family = res->ai_family;
	if (res->ai_family == AF_INET)
		a.v4 = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
	else
		a.v6 = ((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
	freeaddrinfo(res);
	lit = strdup(ipaddr_str(&a, buf));
	if (!lit)
		return EAI_MEMORY;
	free(p->endpoint_host);
	p->endpoint_host = lit;
	p->endpoint_is_ip = true;
	p->endpoint_ip = a;
	return 0;
}

/* Every endpoint, in the host namespace (where the UDP socket is): DNS
 * names resolved (the literal address goes into the config), and a route
 * to it there. Bounded retries with back-off: at boot the network may come
 * a little later; after that, the unit's restarts take over. attempts 0:
 * $VPN_CONFINEMENT_RESOLVE_ATTEMPTS, default 6. */
static int resolve_endpoints(const struct ns_names *n, struct wg_config *wg, unsigned attempts_wanted) {
	const char *env = getenv("VPN_CONFINEMENT_RESOLVE_ATTEMPTS");
	uint64_t attempts = 6;

	if (attempts_wanted)
		attempts = attempts_wanted;
	else if (env && parse_uint(env, 1, 100, &attempts) < 0)
		attempts = 6;
	for (size_t i = 0; i < wg->n_peers; i++) {
		struct wg_peer *p = &wg->peers[i];
		char reason[256] = "";
		bool named = p->has_endpoint && !p->endpoint_is_ip;
		long delay = 500;
		uint64_t a;

		if (!p->has_endpoint)
			continue;
		for (a = 0; a < attempts; a++) {
			char buf[IPNET_STRLEN];
			int oif, g;

			if (a > 0) {
				sleep_ms(delay);
				delay = delay * 2 > 8000 ? 8000 : delay * 2;
			}
			if (!p->endpoint_is_ip && (g = resolve_one(p)) != 0) {
				snprintf(reason, sizeof(reason), "cannot resolve endpoint %s: %s", p->endpoint_host,
					 g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
			} else if (rtnl_route_get(&p->endpoint_ip, &oif) < 0) {
				snprintf(reason, sizeof(reason), "no route to endpoint %s%s from the host namespace",
					 ipaddr_str(&p->endpoint_ip, buf), named ? " (resolved from its name)" : "");
			} else
				break;
			log_msg("%s: %s (attempt %llu of %llu)", n->ns, reason, (unsigned long long)a + 1,
				(unsigned long long)attempts);
		}
		if (a == attempts) {
			log_msg("%s: %s:%u: %s, giving up", n->ns, wg->path, p->line, reason);
			return -EHOSTUNREACH;
		}
	}
	return 0;
}

/* Start wireguard-go for rec->tmpname; records its pid and start time. */
static int start_wireguard_go(const struct ns_names *n, struct tunnel_record *rec) {
	char *argv[] = { WIREGUARD_GO_PATH, "-f", rec->tmpname, NULL };
	char log_level[64];
	const char *ll = getenv("LOG_LEVEL");
	char *envp[] = { "WG_PROCESS_FOREGROUND=1", log_level,
			 "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	_cleanup_close_ int log_fd = -1;
	char sock[128];
	int r, status;

	snprintf(log_level, sizeof(log_level), "LOG_LEVEL=%s",
		 ll && (streq(ll, "verbose") || streq(ll, "debug") || streq(ll, "silent")) ? ll : "error");
	if (access(WIREGUARD_GO_PATH, X_OK) < 0)
		return log_errno(errno, "%s: cannot run %s", n->ns, WIREGUARD_GO_PATH);
	if (!stderr_is_journal()) {
		log_fd = rundir_open_append(n->ns, RUN_WG_LOG);
		if (log_fd < 0)
			return log_fd;
	}
	r = proc_spawn_daemon(argv, envp, log_fd, &rec->pid);
	if (r < 0)
		return r;
	/* Fixed at fork: with the pid it names this process and no other. */
	r = proc_start_time(rec->pid, &rec->pid_start);
	if (r < 0)
		return r;
	snprintf(sock, sizeof(sock), WG_SOCKET_DIR "/%s.sock", rec->tmpname);
	for (int i = 0; i < 5000; i++) { /* up to 10 s */
		if (waitpid(rec->pid, &status, WNOHANG) == rec->pid) {
			log_msg("%s: wireguard-go exited at start with status %d%s", n->ns,
				WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
				log_fd >= 0 ? "; see " RUN_WG_LOG " in the run directory" : "");
			rec->pid = 0;
			return -ECHILD;
		}
		if (access(sock, F_OK) == 0 && if_nametoindex(rec->tmpname) != 0)
			return 0;
		sleep_ms(2);
	}
	log_msg("%s: wireguard-go did not create %s in time", n->ns, sock);
	return -ETIMEDOUT;
}

/* Create the interface on the host under rec->tmpname: the kernel's, or
 * wireguard-go's, as WireGuardImplementation= says. */
static int create_link(const struct ns_names *n, const struct ns_config *ns, struct tunnel_record *rec) {
	int r;

	rec->implementation = "kernel";
	if (ns->wg_impl != WG_IMPL_USERSPACE) {
		r = rtnl_link_add(rec->tmpname, "wireguard");
		if (r < 0 && ns->wg_impl == WG_IMPL_KERNEL)
			return log_errno(r, "%s: creating the kernel WireGuard interface", n->ns);
		if (r == 0)
			return 0;
		log_msg("%s: kernel WireGuard not available (%s); using %s", n->ns, strerror(-r), WIREGUARD_GO_PATH);
	}
	rec->implementation = "userspace";
	rec->has_socket = true;
	r = start_wireguard_go(n, rec);
	return r < 0 ? log_errno(r, "%s: starting wireguard-go", n->ns) : 0;
}

static bool is_host_route_via(const struct rtnl_route *rt, int idx) {
	return rt->oif == idx && !rt->has_gateway && rt->dst.prefix == ipaddr_max_prefix(rt->dst.addr.family);
}

static bool config_has_dns(const struct wg_config *wg, const struct ipaddr *a) {
	for (size_t i = 0; i < wg->n_dns; i++)
		if (ipaddr_equal(&wg->dns[i], a))
			return true;
	return false;
}

static bool config_has_address(const struct wg_config *wg, const struct ipnet *a) {
	for (size_t i = 0; i < wg->n_addresses; i++)
		if (wg->addresses[i].prefix == a->prefix && ipaddr_equal(&wg->addresses[i].addr, &a->addr))
			return true;
	return false;
}

/* What a config that is no longer the tunnel's left on N0 (idx): its
 * addresses and its DNS servers' host routes. In N. */
static int prune_inside(const struct ns_names *n, int idx, const struct wg_config *wg) {
	_cleanup_free_ struct rtnl_addr *addrs = NULL;
	size_t na = 0;
	char buf[IPNET_STRLEN];
	int r;

	if ((r = rtnl_dump_addrs(&addrs, &na)) < 0)
		return log_errno(r, "%s: listing the addresses of %s", n->ns, n->wg);
	for (size_t i = 0; i < na; i++) {
		const struct ipnet *a = &addrs[i].addr;

		/* Link-local addresses are the kernel's, not a config's. */
		if (addrs[i].ifindex != idx || config_has_address(wg, a) ||
		    (a->addr.family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&a->addr.v6)))
			continue;
		if ((r = rtnl_addr_del(idx, a)) < 0 && r != -EADDRNOTAVAIL)
			return log_errno(r, "%s: removing address %s from %s", n->ns, ipnet_str(a, buf), n->wg);
	}
	for (int fam = AF_INET; fam; fam = fam == AF_INET ? AF_INET6 : 0) {
		_cleanup_free_ struct rtnl_route *routes = NULL;
		size_t nr = 0;

		if ((r = rtnl_dump_routes(fam, &routes, &nr)) < 0)
			return log_errno(r, "%s: listing the routes via %s", n->ns, n->wg);
		for (size_t i = 0; i < nr; i++) {
			if (!is_host_route_via(&routes[i], idx) || config_has_dns(wg, &routes[i].dst.addr))
				continue;
			if ((r = rtnl_route_del(&routes[i])) < 0 && r != -ESRCH)
				return log_errno(r, "%s: removing the route to %s via %s", n->ns,
						 ipaddr_str(&routes[i].dst.addr, buf), n->wg);
		}
	}
	return 0;
}

/* Inside N: N0 (idx) made what wg says: its sysctls, MTU, addresses, up,
 * the routes: default (IPv6 only with an IPv6 address) and host routes
 * for the DNS servers, through the tunnel even when an AccessibleFrom
 * range (routed via the bridge) contains them. prune: take away what
 * another config left (a failover); a new device has nothing to prune. */
static int converge_inside(const struct ns_names *n, int idx, const struct wg_config *wg, bool prune) {
	bool v6 = wg_config_has_family(wg, AF_INET6);
	int r;

	/* disable_ipv6 takes the IPv6 addresses and routes with it. */
	if ((r = sysctl_setf(v6 ? "0" : "1", "net/ipv6/conf/%s/disable_ipv6", n->wg)) < 0 ||
	    (v6 && (r = sysctl_setf("0", "net/ipv6/conf/%s/accept_ra", n->wg)) < 0))
		return r;
	if ((r = rtnl_link_change(idx, &(struct rtnl_link_change){ .mtu = wg->has_mtu ? wg->mtu : 1420u })) < 0)
		return log_errno(r, "%s: setting the tunnel's MTU", n->ns);
	if (prune && (r = prune_inside(n, idx, wg)) < 0)
		return r;
	for (size_t i = 0; i < wg->n_addresses; i++) {
		const struct ipnet *a = &wg->addresses[i];
		char buf[IPNET_STRLEN];

		if ((r = rtnl_addr_replace(idx, a, true)) < 0)
			return log_errno(r, "%s: adding address %s to %s", n->ns, ipnet_str(a, buf), n->wg);
	}
	if ((r = rtnl_link_change(idx, &(struct rtnl_link_change){ .up = true })) < 0)
		return log_errno(r, "%s: bringing %s up", n->ns, n->wg);
	for (int fam = 0; fam < 2; fam++) {
		struct rtnl_route rt = { .oif = idx };

		if (fam == 1 && !v6)
			continue;
		rt.dst.addr.family = fam ? AF_INET6 : AF_INET;
		if ((r = rtnl_route_replace(&rt)) < 0)
			return log_errno(r, "%s: adding the %s default route via %s", n->ns, fam ? "IPv6" : "IPv4",
					 n->wg);
	}
	for (size_t i = 0; i < wg->n_dns; i++) {
		struct rtnl_route rt = { .dst = { .addr = wg->dns[i] }, .oif = idx };
		char buf[IPNET_STRLEN];

		if (wg->dns[i].family == AF_INET6 && !v6)
			continue;
		rt.dst.prefix = ipaddr_max_prefix(wg->dns[i].family);
		if ((r = rtnl_route_replace(&rt)) < 0)
			return log_errno(r, "%s: routing DNS server %s via %s", n->ns, ipaddr_str(&wg->dns[i], buf),
					 n->wg);
	}
	return 0;
}

/* Inside N: the moved interface renamed N0, then made what wg says. */
static int configure_inside(const struct ns_names *n, const struct tunnel_record *rec, const struct wg_config *wg) {
	int idx = (int)if_nametoindex(rec->tmpname), r;

	if (idx == 0)
		return log_errno(errno, "%s: finding the moved interface", n->ns);
	if ((r = rtnl_link_change(idx, &(struct rtnl_link_change){ .name = n->wg })) < 0)
		return log_errno(r, "%s: renaming the interface", n->ns);
	return converge_inside(n, idx, wg, false);
}

int tunnel_up(const struct ns_names *n, const struct ns_config *ns, struct wg_config *wg,
	      struct tunnel_up_state *u) {
	_cleanup_free_ char *full = NULL, *resolv = NULL;
	_cleanup_close_ int nsfd = -1;
	int idx, r;

	/* Render everything first: a model the renderer refuses changes nothing. */
	if ((r = ruleset_ns_full_text(ns, wg, RULESET_REPLACE, &full)) < 0)
		return log_errno(r, "%s: rendering the namespace ruleset", n->ns);
	if ((r = resolv_render(wg, &resolv)) < 0)
		return log_errno(r, "%s: rendering resolv.conf", n->ns);
	if (wg->n_dns == 0)
		log_msg("%s: warning: %s has no DNS server; the namespace has no DNS", n->ns, wg->path);

	nsfd = netns_open(n->ns);
	if (nsfd < 0 || !rundir_exists(n->ns, RUN_NETNS)) {
		log_msg("%s: the namespace is not up (run netns-up %s first)", n->ns, n->ns);
		return -ENOENT;
	}

	/* Before anything changes: a failure here leaves a running tunnel be. */
	r = resolve_endpoints(n, wg, u->resolve_attempts);
	if (r < 0)
		return r;
	/* An endpoint given by name is an address now: inside AllowedEgress=,
	 * this attempt fails (the name may resolve elsewhere next time). */
	if ((r = check_egress(ns, wg)) < 0)
		return r;

	/* Up while up: replace the tunnel. The base ruleset holds meanwhile. */
	if (rundir_exists(n->ns, RUN_WG)) {
		log_msg("%s: replacing the running tunnel", n->ns);
		if ((r = tunnel_teardown(n, ns, true)) < 0)
			return r;
	} else {
		_cleanup_netns_leave_ int saved = -1;
		if ((r = netns_enter(nsfd, &saved)) < 0)
			return log_errno(r, "%s: entering the namespace", n->ns);
		if ((r = rtnl_link_del_named(n->wg)) < 0)
			return log_errno(r, "%s: deleting a stale WireGuard interface", n->ns);
	}

	/* 1. Create it on the host under a temporary name, recorded first so
	 * that a teardown finds it whatever happens next. */
	if ((r = tmpname_pick(n->ns, u->rec.tmpname)) < 0)
		return log_errno(r, "%s: choosing a temporary interface name", n->ns);
	u->rec.implementation = "pending";
	u->rec.started = (uint64_t)time(NULL);
	tunnel_record_new_epoch(&u->rec);
	if ((r = tunnel_record_save(n->ns, &u->rec)) < 0)
		return log_errno(r, "%s: writing the wg run file", n->ns);
	u->recorded = true;
	if ((r = create_link(n, ns, &u->rec)) < 0)
		return r;
	if ((r = tunnel_record_save(n->ns, &u->rec)) < 0)
		return log_errno(r, "%s: writing the wg run file", n->ns);

	/* 2. Configure it (in the host namespace; endpoints are literal now). */
	if ((r = wgtool_setconf(u->rec.tmpname, wg)) < 0)
		return r;

	/* 3. Move it into N and set it up there. */
	idx = (int)if_nametoindex(u->rec.tmpname);
	if (idx == 0)
		return log_errno(errno, "%s: finding the new interface", n->ns);
	if ((r = rtnl_link_change(idx, &(struct rtnl_link_change){ .netns_fd = nsfd })) < 0)
		return log_errno(r, "%s: moving the interface into the namespace", n->ns);
	{
		_cleanup_netns_leave_ int saved = -1;

		if ((r = netns_enter(nsfd, &saved)) < 0)
			return log_errno(r, "%s: entering the namespace", n->ns);
		if ((r = configure_inside(n, &u->rec, wg)) < 0)
			return r;

		/* 4. DNS, then the full ruleset in one transaction. */
		if ((r = resolv_publish(n->ns, resolv)) < 0)
			return log_errno(r, "%s: writing resolv.conf", n->ns);
		if ((r = nft_apply_step("loading the namespace ruleset", full)) < 0)
			return r;
	}

	if (u->rec.has_socket)
		printf("%s: tunnel up: %s, wireguard-go pid %d, control socket " WG_SOCKET_DIR "/%s.sock\n", n->ns,
		       n->wg, (int)u->rec.pid, u->rec.tmpname);
	else
		printf("%s: tunnel up: %s, kernel WireGuard\n", n->ns, n->wg);
	return 0;
}

void tunnel_undo(const struct ns_names *n, const struct ns_config *ns, const struct tunnel_up_state *u) {
	log_msg("%s: undoing what this run did", n->ns);
	if (!u->recorded)
		return;
	/* The teardown finds the interface under either name, on either side,
	 * stops wireguard-go, restores the base ruleset. */
	tunnel_teardown(n, ns, true);
	/* A wireguard-go that never got recorded (it failed to start). */
	if (u->rec.has_socket && u->rec.pid > 0 && waitpid(u->rec.pid, NULL, WNOHANG) == 0) {
		kill(u->rec.pid, SIGKILL);
		waitpid(u->rec.pid, NULL, 0);
	}
}

int tunnel_config_load(const struct ns_config *ns, const char *path, struct wg_config **out) {
	_cleanup_(diag_clear) struct diag d = { 0 };
	int r;

	/* Whoever can write it chooses where the tunnel goes. */
	r = wgconf_check_owner(path, 0, &d);
	if (r == 0)
		r = wgconf_load(path, out, &d);
	/* What the ini parser could not see: AllowedEgress= around its DNS
	 * servers and endpoints. */
	if (r == 0)
		r = egress_check_wg(ns, *out, &d);
	diag_print(&d, stderr, "vpn-confinement");
	if (r == 0)
		return 0;
	/* wgconf_load names every failure it can; say something when it could not. */
	if (d.n_errors == 0)
		log_errno(r, "%s", path);
	wg_config_free(TAKE_PTR(*out));
	return r < 0 ? r : -EINVAL;
}

/* ---- reconnecting in place -------------------------------------------------- */

int tunnel_reconnect(const struct ns_names *n, const struct ns_config *ns, struct tunnel_record *rec, struct wg_config *wg,
		     bool other_config) {
	_cleanup_free_ char *full = NULL, *resolv = NULL;
	_cleanup_close_ int nsfd = -1;
	bool kernel = !rec->has_socket;
	int r = 0;

	if (other_config) {
		if ((r = ruleset_ns_full_text(ns, wg, RULESET_REPLACE, &full)) < 0)
			return log_errno(r, "%s: rendering the namespace ruleset for %s", n->ns, wg->path);
		if ((r = resolv_render(wg, &resolv)) < 0)
			return log_errno(r, "%s: rendering resolv.conf", n->ns);
	}
	nsfd = netns_open(n->ns);
	if (nsfd < 0)
		return log_errno(nsfd, "%s: opening the namespace", n->ns);
	/* In the host namespace, where the tunnel's UDP socket is: a name may
	 * point elsewhere now (a server moved, a DNS round robin). */
	{
		_cleanup_free_ char **names = calloc(wg->n_peers + 1, sizeof(char *));

		if (!names)
			return -ENOMEM;
		for (size_t i = 0; i < wg->n_peers; i++)
			if (wg->peers[i].has_endpoint && !wg->peers[i].endpoint_is_ip &&
			    !(names[i] = strdup(wg->peers[i].endpoint_host))) {
				r = -ENOMEM;
				break;
			}
		if (r == 0)
			r = resolve_endpoints(n, wg, 1);
		for (size_t i = 0; i < wg->n_peers; i++) {
			char buf[IPNET_STRLEN];

			if (r == 0 && names[i])
				log_msg("%s: endpoint %s resolved again: %s port %u", n->ns, names[i],
					ipaddr_str(&wg->peers[i].endpoint_ip, buf), wg->peers[i].endpoint_port);
			free(names[i]);
		}
		if (r < 0)
			return r;
	}
	/* A name that moved into AllowedEgress= is refused, as at bring-up. */
	if ((r = check_egress(ns, wg)) < 0)
		return r;
	{
		_cleanup_netns_leave_ int saved = -1;

		if ((r = netns_enter(nsfd, &saved)) < 0)
			return log_errno(r, "%s: entering the namespace", n->ns);
		if (other_config) {
			int idx = (int)if_nametoindex(n->wg);

			if (idx == 0)
				return log_errno(errno, "%s: finding %s", n->ns, n->wg);
			/* The new config's rules first, in one transaction: DNS only to
			 * its servers from the first packet of its session on. */
			if ((r = nft_apply_step("loading the namespace ruleset", full)) < 0)
				return r;
			if ((r = converge_inside(n, idx, wg, true)) < 0)
				return r;
			if ((r = resolv_publish(n->ns, resolv)) < 0)
				return log_errno(r, "%s: writing resolv.conf", n->ns);
			/* No flow of the old provider's goes on through the new one (those to
			 * AllowedEgress= stay on the veth). */
			if ((r = conntrack_flush(AF_INET, RULESET_CT_MARK_EGRESS)) < 0 ||
			    (r = conntrack_flush(AF_INET6, RULESET_CT_MARK_EGRESS)) < 0)
				return log_errno(r, "%s: flushing the namespace's conntrack table", n->ns);
		}
		/* A kernel device is set in the namespace it is in. */
		if (kernel && (r = wgtool_setconf(n->wg, wg)) < 0)
			return r;
	}
	if (!kernel && (r = wgtool_setconf(rec->tmpname, wg)) < 0)
		return r;
	tunnel_record_new_epoch(rec);
	if ((r = tunnel_record_save(n->ns, rec)) < 0)
		return log_errno(r, "%s: writing the wg run file", n->ns);
	return 0;
}

int tunnel_handshake(const struct ns_names *n, uint64_t *when) {
	struct tunnel_record rec;
	struct wg_dump d = { 0 };
	_cleanup_close_ int nsfd = -1;
	uint64_t best = 0;
	int r;

	*when = 0;
	r = tunnel_record_load(n->ns, &rec);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (streq(rec.implementation, "pending"))
		return 0;
	if (!rec.has_socket) {
		nsfd = netns_open(n->ns);
		if (nsfd < 0)
			return nsfd == -ENOENT ? 0 : nsfd;
	}
	r = wgtool_dump(tunnel_wg_device(n, &rec), nsfd, &d);
	if (r == -ENODEV)
		return 0; /* gone meanwhile, or not there yet */
	if (r < 0)
		return r;
	for (size_t i = 0; i < d.n_peers; i++)
		if (d.peers[i].latest_handshake > best)
			best = d.peers[i].latest_handshake;
	wg_dump_clear(&d);
	*when = best;
	return best ? 1 : 0;
}

int tunnel_wait_handshake(const struct ns_names *n, uint64_t timeout_ms, uint64_t *when) {
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		uint64_t elapsed;
		int r = tunnel_handshake(n, when);

		if (r > 0)
			return 1;
		if (r < 0)
			return log_errno(r, "%s: reading the tunnel's state", n->ns);
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (uint64_t)((int64_t)(now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
		if (timeout_ms && elapsed >= timeout_ms)
			return 0;
		sleep_ms(500);
	}
}

/* ---- taking it down ------------------------------------------------------- */

/* Stop a wireguard-go that is ours: it exits by itself once its interface is
 * deleted; otherwise SIGTERM, then SIGKILL. Reaps it when it is our child. */
static int wgo_stop(const struct tunnel_record *rec) {
	char sock[128];
	int i;

	for (i = 0; i < 1500 && tunnel_wgo_is_ours(rec); i++) {
		if (i == 500)
			kill(rec->pid, SIGTERM);
		if (i == 1250)
			kill(rec->pid, SIGKILL);
		waitpid(rec->pid, NULL, WNOHANG);
		sleep_ms(2);
	}
	if (i == 1500)
		return -ETIMEDOUT;
	waitpid(rec->pid, NULL, WNOHANG);
	/* wireguard-go removes its socket on a clean exit, not when killed. */
	snprintf(sock, sizeof(sock), WG_SOCKET_DIR "/%s.sock", rec->tmpname);
	if (unlink(sock) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int delete_host_tmp_links(const struct ns_names *n) {
	_cleanup_free_ struct rtnl_link *links = NULL;
	size_t nl = 0;
	int r, first = 0;

	if ((r = rtnl_dump_links(&links, &nl)) < 0)
		return log_errno(r, "%s: listing the host's links", n->ns);
	for (size_t i = 0; i < nl; i++)
		if (tunnel_tmpname_valid(n->ns, links[i].name) && (r = rtnl_link_del(links[i].ifindex)) < 0 &&
		    r != -ENODEV)
			RET_GATHER(first, log_errno(r, "%s: deleting %s on the host", n->ns, links[i].name));
	return first;
}

int tunnel_teardown(const struct ns_names *n, const struct ns_config *ns, bool restore_base) {
	struct tunnel_record rec = { 0 };
	_cleanup_close_ int nsfd = -1;
	int r, first = 0;

	r = tunnel_record_load(n->ns, &rec);
	if (r < 0 && r != -ENOENT)
		RET_GATHER(first, log_errno(r, "%s: reading the wg run file", n->ns));
	/* Tells a `wg-up --foreground` supervisor that the tunnel going away
	 * now is a requested stop, not a death. */
	if (r == 0)
		rundir_write(n->ns, RUN_WG_STOPPING, "");

	nsfd = netns_open(n->ns);
	if (nsfd >= 0) {
		_cleanup_netns_leave_ int saved = -1;

		r = netns_enter(nsfd, &saved);
		if (r < 0)
			RET_GATHER(first, log_errno(r, "%s: entering the namespace", n->ns));
		else {
			if (restore_base) {
				_cleanup_free_ char *base = NULL;
				r = ruleset_ns_base_text(n->ns, ns, RULESET_REPLACE, &base);
				if (r < 0)
					RET_GATHER(first, log_errno(r, "%s: rendering the base ruleset", n->ns));
				else
					RET_GATHER(first, nft_apply_step("restoring the base ruleset", base));
			}
			if ((r = rtnl_link_del_named(n->wg)) < 0)
				RET_GATHER(first, log_errno(r, "%s: deleting the WireGuard interface", n->ns));
			if (rec.tmpname[0] && (r = rtnl_link_del_named(rec.tmpname)) < 0)
				RET_GATHER(first, log_errno(r, "%s: deleting the WireGuard interface (temporary name)", n->ns));
			/* No established flow may survive onto another path; those
			 * through the veth to AllowedEgress= stay on theirs. */
			if ((r = conntrack_flush(AF_INET, RULESET_CT_MARK_EGRESS)) < 0 ||
			    (r = conntrack_flush(AF_INET6, RULESET_CT_MARK_EGRESS)) < 0)
				RET_GATHER(first, log_errno(r, "%s: flushing the namespace's conntrack table", n->ns));
		}
	} else if (nsfd != -ENOENT)
		RET_GATHER(first, log_errno(nsfd, "%s: opening the namespace", n->ns));

	/* Left on the host by a crash between creation and the move, or a
	 * supervisor's failback trial: every "vc-N-XXXX" there is ours. */
	if (rec.tmpname[0] && (r = rtnl_link_del_named(rec.tmpname)) < 0)
		RET_GATHER(first, log_errno(r, "%s: deleting the WireGuard interface on the host", n->ns));
	RET_GATHER(first, delete_host_tmp_links(n));
	if (rec.has_socket && (r = wgo_stop(&rec)) < 0)
		RET_GATHER(first, log_errno(r, "%s: stopping wireguard-go", n->ns));

	RET_GATHER(first, resolv_withdraw(n->ns));
	if ((r = rundir_remove(n->ns, RUN_WG_LOG)) < 0)
		RET_GATHER(first, log_errno(r, "%s: removing wireguard-go's log", n->ns));
	if ((r = rundir_remove(n->ns, RUN_HEALTH)) < 0)
		RET_GATHER(first, log_errno(r, "%s: removing the health record", n->ns));
	if ((r = rundir_remove(n->ns, RUN_WG)) < 0)
		RET_GATHER(first, log_errno(r, "%s: removing the wg run file", n->ns));
	if ((r = rundir_remove(n->ns, RUN_WG_STOPPING)) < 0)
		RET_GATHER(first, log_errno(r, "%s: removing the wg run file", n->ns));
	return first;
}

/* ---- a failback trial --------------------------------------------------------- */

int tunnel_trial_start(const struct ns_names *n, const struct ns_config *ns, struct wg_config *wg, bool kernel,
		       struct tunnel_trial *t) {
	/* The tunnel's implementation, without trying the other one again. */
	struct ns_config same = *ns;
	int idx, r;

	*t = (struct tunnel_trial){ 0 };
	same.wg_impl = kernel ? WG_IMPL_KERNEL : WG_IMPL_USERSPACE;
	/* Any port (the tunnel may hold the config's), and a keepalive, which
	 * a device that is up sends at once: that needs a handshake. */
	wg->has_listen_port = false;
	for (size_t i = 0; i < wg->n_peers; i++) {
		wg->peers[i].has_keepalive = true;
		wg->peers[i].persistent_keepalive = 25;
	}
	if ((r = resolve_endpoints(n, wg, 1)) < 0)
		return r;
	if ((r = tmpname_pick(n->ns, t->rec.tmpname)) < 0)
		return log_errno(r, "%s: choosing a name for the trial device", n->ns);
	t->made = true;
	if ((r = create_link(n, &same, &t->rec)) < 0)
		return r;
	/* No IPv6 link-local address, no router solicitation on the host. */
	if ((r = sysctl_setf("1", "net/ipv6/conf/%s/disable_ipv6", t->rec.tmpname)) < 0)
		return r;
	if ((r = wgtool_setconf(t->rec.tmpname, wg)) < 0)
		return r;
	idx = (int)if_nametoindex(t->rec.tmpname);
	if (idx == 0)
		return log_errno(errno, "%s: finding the trial device", n->ns);
	if ((r = rtnl_link_change(idx, &(struct rtnl_link_change){ .up = true })) < 0)
		return log_errno(r, "%s: bringing the trial device up", n->ns);
	return 0;
}

int tunnel_trial_answered(const struct tunnel_trial *t) {
	struct wg_dump d = { 0 };
	bool answered = false;
	int r;

	if (!t->made)
		return 0;
	/* Kernel or wireguard-go, it is in the host namespace. */
	r = wgtool_dump(t->rec.tmpname, -1, &d);
	if (r < 0)
		return r;
	for (size_t i = 0; i < d.n_peers; i++)
		answered |= d.peers[i].latest_handshake != 0;
	wg_dump_clear(&d);
	return answered;
}

int tunnel_trial_stop(const struct ns_names *n, struct tunnel_trial *t) {
	int r, first = 0;

	if (!t->made)
		return 0;
	if ((r = rtnl_link_del_named(t->rec.tmpname)) < 0)
		RET_GATHER(first, log_errno(r, "%s: deleting the trial device %s", n->ns, t->rec.tmpname));
	if (t->rec.has_socket && (r = wgo_stop(&t->rec)) < 0)
		RET_GATHER(first, log_errno(r, "%s: stopping the trial's wireguard-go", n->ns));
	*t = (struct tunnel_trial){ 0 };
	return first;
}
