/* SPDX-License-Identifier: MIT */
/* vpn-confinement netns-up N / netns-down N: the namespace, its kill switch,
 * the bridge and veth pair, the host table and the host's forwarding.
 *
 * netns-up converges: what exists already (from an earlier run, or left by a
 * crash: $RUNDIR/N/netns marks it ours) is kept and brought to the wanted
 * state; `ip` commands are idempotent forms (addr/route replace), and each
 * nft transaction replaces its table whole. What does not exist is created,
 * and on a failure exactly what this run created is removed again. */
#include <net/if.h>
#include <stdio.h>
#include <sys/stat.h>

#include "commands.h"
#include "hostfwd.h"
#include "log.h"
#include "netns.h"
#include "nl.h"
#include "proc.h"
#include "ruleset.h"
#include "rundir.h"
#include "runtime.h"
#include "sysctl.h"
#include "wgrt.h"
#include "util.h"

/* A growing text buffer for `ip -batch -` input. */
struct batch {
	char *buf;
	size_t len;
	FILE *f;
};

static int batch_open(struct batch *b) {
	*b = (struct batch){ 0 };
	b->f = open_memstream(&b->buf, &b->len);
	return b->f ? 0 : -ENOMEM;
}

static void batch_release(struct batch *b) {
	if (b->f)
		fclose(b->f);
	free(b->buf);
	*b = (struct batch){ 0 };
}

static int batch_run(struct batch *b, const char *step, int netns_fd) {
	char *argv[] = { IP_PATH, "-batch", "-", NULL };
	struct proc_opts o = PROC_OPTS_INIT;

	if (fflush(b->f) != 0)
		return -ENOMEM;
	if (b->len == 0)
		return 0;
	o.netns_fd = netns_fd;
	o.stdin_buf = b->buf;
	o.stdin_len = b->len;
	return proc_run_step(step, argv, &o);
}

static bool link_exists(const char *name) { return if_nametoindex(name) != 0; }

/* What this run did, to undo exactly that when a later step fails. */
struct up_undo {
	bool marker, netns, bridge, veth, host_table, sysctls;
};

static void undo_up(const struct ns_names *n, const struct up_undo *u) {
	int r;

	fprintf(stderr, "vpn-confinement: %s: undoing what this run did\n", n->ns);
	if (u->sysctls && (r = hostfwd_release(n->ns)) < 0)
		log_errno(r, "%s: undo: restoring host sysctls", n->ns);
	if (u->host_table) {
		_cleanup_free_ char *text = NULL;
		if (ruleset_host_delete_text(n->ns, &text) == 0)
			runtime_nft_apply("undo: deleting the host table", text);
	}
	if (u->veth && link_exists(n->veth_host) &&
	    (r = nl_link_del((int)if_nametoindex(n->veth_host))) < 0)
		log_errno(r, "%s: undo: deleting the veth pair", n->ns);
	if (u->bridge && link_exists(n->bridge) && (r = nl_link_del((int)if_nametoindex(n->bridge))) < 0)
		log_errno(r, "%s: undo: deleting the bridge", n->ns);
	if (u->netns && (r = netns_remove(n->ns)) < 0)
		log_errno(r, "%s: undo: removing the namespace", n->ns);
	if (u->marker) {
		rundir_remove(n->ns, RUN_RESOLV);
		rundir_remove(n->ns, RUN_NETNS);
		rundir_rmdir(n->ns);
	}
}

/* Inside N, before any interface but lo exists (or, on a re-run, before the
 * veth's addresses change): no router advertisements, no redirects, ARP
 * answered only for the address of the asking interface, and new interfaces
 * start without IPv6 until enabled one by one. */
static int ns_sysctls_early(void) {
	static const char *const settings[][2] = {
		{ "net/ipv6/conf/all/accept_ra", "0" },
		{ "net/ipv6/conf/default/accept_ra", "0" },
		{ "net/ipv6/conf/all/accept_redirects", "0" },
		{ "net/ipv6/conf/default/accept_redirects", "0" },
		{ "net/ipv6/conf/default/disable_ipv6", "1" },
		{ "net/ipv4/conf/all/accept_redirects", "0" },
		{ "net/ipv4/conf/default/accept_redirects", "0" },
		{ "net/ipv4/conf/all/arp_ignore", "1" },
		{ "net/ipv4/conf/default/arp_ignore", "1" },
		{ "net/ipv4/conf/all/arp_announce", "2" },
		{ "net/ipv4/conf/default/arp_announce", "2" },
	};
	for (size_t i = 0; i < ELEMENTSOF(settings); i++) {
		int r = sysctl_write(settings[i][0], settings[i][1]);
		if (r < 0) {
			fprintf(stderr, "vpn-confinement: setting %s: %s\n", settings[i][0], strerror(-r));
			return r;
		}
	}
	return 0;
}

static int ns_sysctls_veth(const struct ns_names *n, const struct ns_config *ns) {
	char key[128];
	int r;

	snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", n->veth_ns);
	r = sysctl_write(key, ns->has_ipv6 ? "0" : "1");
	if (r >= 0 && ns->has_ipv6) {
		snprintf(key, sizeof(key), "net/ipv6/conf/%s/accept_ra", n->veth_ns);
		r = sysctl_write(key, "0");
	}
	if (r < 0)
		fprintf(stderr, "vpn-confinement: setting %s: %s\n", key, strerror(-r));
	return r;
}

/* Our own bridge and veth end on the host: no IPv6 there unless configured
 * (no link-local address, no router solicitations). They go away with
 * netns-down, so nothing is recorded for restoring. */
static int host_sysctls_own_links(const struct ns_names *n, const struct ns_config *ns) {
	const char *links[] = { n->bridge, n->veth_host };
	char key[128];
	int r;

	for (size_t i = 0; i < ELEMENTSOF(links); i++) {
		snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", links[i]);
		r = sysctl_write(key, ns->has_ipv6 && i == 0 ? "0" : "1");
		if (r < 0) {
			fprintf(stderr, "vpn-confinement: setting %s: %s\n", key, strerror(-r));
			return r;
		}
		if (ns->has_ipv6 && i == 0) {
			snprintf(key, sizeof(key), "net/ipv6/conf/%s/accept_ra", links[i]);
			if ((r = sysctl_write(key, "0")) < 0)
				return r;
		}
	}
	return 0;
}

/* Forwarding for the port mappings, per interface: packets DNATed towards
 * the namespace arrive on the interfaces the AccessibleFrom ranges route
 * through and leave on the bridge; replies arrive on the bridge. IPv4 has a
 * per-interface forwarding switch, so net.ipv4.ip_forward is left alone.
 * IPv6 has one (force_forwarding) only since Linux 6.17; without it IPv6
 * port mappings from other hosts need net.ipv6.conf.all.forwarding, which is
 * not changed here (it turns the host into an IPv6 router everywhere). */
static int host_forwarding(const struct ns_names *n, const struct ns_config *ns, bool *claimed) {
	_cleanup_free_ struct host_claim *claims = NULL;
	size_t n_claims = 0;
	bool want[2] = { false, false }; /* IPv4, IPv6 */
	char key[128];
	int r;

	if (ns->n_port_mappings == 0 || ns->n_accessible_from == 0)
		return 0;
	for (size_t i = 0; i < ns->n_accessible_from; i++) {
		const struct ipnet *a = &ns->accessible_from[i];
		struct ipnet net = ipnet_network(a);
		struct host_claim c = { .family = a->addr.family };
		char buf[IPNET_STRLEN], path[192];
		bool dup = false;
		int oif;

		if (c.family == AF_INET6 && !ns->has_ipv6)
			continue; /* no IPv6 into the namespace at all */
		r = nl_route_get(&net.addr, &oif);
		if (r < 0 || !if_indextoname((unsigned)oif, c.ifname)) {
			fprintf(stderr,
				"vpn-confinement: %s: warning: no route to AccessibleFrom %s yet; port mappings from there need forwarding on its interface (run netns-up again once it is up)\n",
				n->ns, ipnet_str(a, buf));
			continue;
		}
		if (streq(c.ifname, n->bridge) || streq(c.ifname, "lo"))
			continue;
		if (!hostfwd_ifname_ok(c.ifname)) {
			fprintf(stderr,
				"vpn-confinement: %s: warning: not enabling forwarding on interface '%s' (AccessibleFrom %s): its name cannot be put into the forwarding guard\n",
				n->ns, c.ifname, ipnet_str(a, buf));
			continue;
		}
		if ((r = hostfwd_claim_key(&c, key, sizeof(key))) < 0)
			return r;
		snprintf(path, sizeof(path), "/proc/sys/%s", key);
		if (c.family == AF_INET6 && access(path, F_OK) < 0) {
			fprintf(stderr,
				"vpn-confinement: %s: warning: this kernel has no per-interface IPv6 forwarding (%s); IPv6 port mappings from %s need net.ipv6.conf.all.forwarding=1, which vpn-confinement does not change\n",
				n->ns, key, ipnet_str(a, buf));
			continue;
		}
		want[c.family == AF_INET6] = true;
		for (size_t k = 0; k < n_claims; k++)
			dup |= claims[k].family == c.family && streq(claims[k].ifname, c.ifname);
		if (!dup && ARRAY_APPEND(claims, n_claims, c) < 0)
			return -ENOMEM;
	}
	*claimed = n_claims > 0;
	r = hostfwd_claim(n->ns, claims, n_claims);
	if (r < 0)
		return r;
	for (int fam = 0; fam < 2; fam++) {
		if (!want[fam])
			continue;
		if (fam == 0)
			snprintf(key, sizeof(key), "net/ipv4/conf/%s/forwarding", n->bridge);
		else
			snprintf(key, sizeof(key), "net/ipv6/conf/%s/force_forwarding", n->bridge);
		r = sysctl_write(key, "1");
		if (r < 0) {
			fprintf(stderr, "vpn-confinement: setting %s: %s\n", key, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* On a re-run (the namespace existed, we are in it): whether a live tunnel
 * has loaded its full ruleset, which the base one must not replace. A
 * fresh namespace always gets the base ruleset, whatever the run directory
 * says (a stale or planted record), and so does one without the table or
 * without N0. */
static bool tunnel_owns_ruleset(const struct ns_names *n, bool created_now) {
	struct wg_state st;

	return !created_now && wg_state_load(n->ns, &st) == 0 && !streq(st.implementation, "pending") &&
	       link_exists(n->wg) && runtime_nft_table_exists(NS_TABLE_NAME);
}

static int netns_up(const struct ns_names *n, const struct ns_config *ns, struct up_undo *u) {
	_cleanup_free_ char *base = NULL, *host = NULL;
	_cleanup_close_ int nsfd = -1;
	_cleanup_(batch_release) struct batch hb = { 0 }, nb = { 0 };
	char buf[IPNET_STRLEN], buf2[IPNET_STRLEN];
	bool ours = rundir_exists(n->ns, RUN_NETNS);
	int r;

	/* Render everything first: a model the renderer refuses changes nothing. */
	if ((r = ruleset_ns_base_text(ns, &base)) < 0 || (r = ruleset_host_text(ns, &host)) < 0)
		return log_errno(r, "%s: rendering the rulesets", n->ns);

	if (!ours) {
		struct stat st;
		const char *clash = NULL;

		if (lstat(n->netns_path, &st) == 0)
			clash = n->netns_path;
		else if (link_exists(n->bridge))
			clash = n->bridge;
		else if (link_exists(n->veth_host))
			clash = n->veth_host;
		if (clash) {
			fprintf(stderr,
				"vpn-confinement: %s: %s already exists and was not made by vpn-confinement (no %s/%s/%s); not touching it\n",
				n->ns, clash, rundir(), n->ns, RUN_NETNS);
			return -EEXIST;
		}
		r = rundir_write(n->ns, RUN_NETNS, "");
		if (r < 0)
			return log_errno(r, "%s: writing the run directory", n->ns);
		u->marker = true;
	}

	/* 1. The namespace. */
	nsfd = netns_open(n->ns);
	if (nsfd == -ENOTTY) { /* an empty file left by a crash */
		if ((r = netns_remove(n->ns)) < 0)
			return log_errno(r, "%s: removing a stale namespace file", n->ns);
		nsfd = -ENOENT;
	}
	if (nsfd == -ENOENT) {
		r = netns_create(n->ns);
		if (r < 0)
			return log_errno(r, "%s: creating the namespace", n->ns);
		u->netns = true;
		nsfd = netns_open(n->ns);
	}
	if (nsfd < 0)
		return log_errno(nsfd, "%s: opening the namespace", n->ns);

	/* 2. Inside: the kill switch first, then sysctls. */
	{
		_cleanup_netns_leave_ int saved = -1;

		r = netns_enter(nsfd, &saved);
		if (r < 0)
			return log_errno(r, "%s: entering the namespace", n->ns);
		if (tunnel_owns_ruleset(n, u->netns))
			/* wg-up owns the namespace ruleset now (the full one);
			 * going back to the base one would cut the tunnel. */
			fprintf(stderr, "vpn-confinement: %s: tunnel is up; keeping its ruleset\n", n->ns);
		else if ((r = u->netns ? runtime_nft_create("loading the namespace base ruleset", base, NS_TABLE_NAME)
				       : runtime_nft_apply("loading the namespace base ruleset", base)) < 0)
			return r;
		r = ns_sysctls_early();
		if (r < 0)
			return log_errno(r, "%s: setting the namespace sysctls", n->ns);
	}

	/* 3. Host side links: bridge, veth pair (inner end created in N),
	 * made here so that their sysctls are set before they are up. */
	if ((r = batch_open(&hb)) < 0 || (r = batch_open(&nb)) < 0)
		return r;
	if (!link_exists(n->bridge)) {
		u->bridge = true;
		if ((r = nl_link_add(n->bridge, "bridge")) < 0)
			return log_errno(r, "%s: creating the bridge", n->ns);
	}
	if (!link_exists(n->veth_host)) {
		u->veth = true;
		if ((r = nl_veth_add(n->veth_host, n->veth_ns, nsfd)) < 0)
			return log_errno(r, "%s: creating the veth pair", n->ns);
	}
	r = host_sysctls_own_links(n, ns);
	if (r < 0)
		return log_errno(r, "%s: setting sysctls of the bridge", n->ns);
	fprintf(hb.f, "addr replace %s dev %s\n", ipnet_str(&ns->bridge_addr, buf), n->bridge);
	if (ns->has_ipv6)
		fprintf(hb.f, "addr replace %s dev %s nodad\n", ipnet_str(&ns->bridge_addr6, buf), n->bridge);
	fprintf(hb.f, "link set dev %s master %s\n", n->veth_host, n->bridge);
	fprintf(hb.f, "link set dev %s up\n", n->bridge);
	fprintf(hb.f, "link set dev %s up\n", n->veth_host);
	r = batch_run(&hb, "configuring the bridge", -1);
	if (r < 0)
		return r;

	/* 4. Inside: veth sysctls, then addresses and routes. */
	{
		_cleanup_netns_leave_ int saved = -1;

		r = netns_enter(nsfd, &saved);
		if (r < 0)
			return log_errno(r, "%s: entering the namespace", n->ns);
		r = ns_sysctls_veth(n, ns);
		if (r < 0)
			return log_errno(r, "%s: setting sysctls of the veth", n->ns);
	}
	fprintf(nb.f, "link set dev lo up\n");
	fprintf(nb.f, "addr replace %s dev %s\n", ipnet_str(&ns->ns_addr, buf), n->veth_ns);
	if (ns->has_ipv6)
		fprintf(nb.f, "addr replace %s dev %s nodad\n", ipnet_str(&ns->ns_addr6, buf), n->veth_ns);
	fprintf(nb.f, "link set dev %s up\n", n->veth_ns);
	for (size_t i = 0; i < ns->n_accessible_from; i++) {
		const struct ipnet *a = &ns->accessible_from[i];
		struct ipnet net = ipnet_network(a);

		if (a->addr.family == AF_INET)
			fprintf(nb.f, "route replace %s via %s dev %s\n", ipnet_str(&net, buf),
				ipaddr_str(&ns->bridge_addr.addr, buf2), n->veth_ns);
		else if (ns->has_ipv6)
			fprintf(nb.f, "route replace %s via %s dev %s\n", ipnet_str(&net, buf),
				ipaddr_str(&ns->bridge_addr6.addr, buf2), n->veth_ns);
	}
	r = batch_run(&nb, "configuring the namespace's addresses and routes", nsfd);
	if (r < 0)
		return r;

	/* The namespace's resolv.conf, for confined services to bind-mount
	 * from the start; wg-up fills it in place. */
	if (!rundir_exists(n->ns, RUN_RESOLV) && (r = rundir_write_inplace(n->ns, RUN_RESOLV, RESOLV_DOWN)) < 0)
		return log_errno(r, "%s: writing resolv.conf", n->ns);

	/* 5. Host table: DNAT and the guard. Table existence before is not
	 * tracked: on a re-run it was ours already. */
	u->host_table = u->marker;
	r = !runtime_nft_table_exists(n->host_table) ? runtime_nft_create("loading the host table", host, n->host_table)
						      : runtime_nft_apply("loading the host table", host);
	if (r < 0)
		return r;

	/* 6. Forwarding for the port mappings. */
	r = host_forwarding(n, ns, &u->sysctls);
	if (!u->marker)
		u->sysctls = false; /* a re-run keeps the claims of the run before */
	if (r < 0)
		return log_errno(r, "%s: enabling forwarding", n->ns);
	return 0;
}

int cmd_netns_up(int argc, char **argv) {
	_cleanup_(ns_config_freep) struct ns_config *ns = NULL;
	struct ns_names n;
	struct up_undo u = { 0 };
	const char *name;
	int r;

	r = parse_ns_arg(argc, argv, "netns-up N", &name);
	if (r >= 0)
		return r;
	if (ns_names_init(&n, name) < 0)
		return EXIT_USAGE;
	r = runtime_load_config(name, &ns);
	if (r != 0)
		return r;
	r = netns_up(&n, ns, &u);
	if (r != 0) { /* anything but success is a failure */
		undo_up(&n, &u);
		fprintf(stderr, "vpn-confinement: %s: netns-up failed\n", n.ns);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_netns_down(int argc, char **argv) {
	_cleanup_free_ char *del = NULL;
	struct ns_names n;
	const char *name;
	bool ours;
	int r, failed = 0;

	r = parse_ns_arg(argc, argv, "netns-down N", &name);
	if (r >= 0)
		return r;
	if (ns_names_init(&n, name) < 0)
		return EXIT_USAGE;
	ours = rundir_exists(n.ns, RUN_NETNS);

	/* The tunnel first, while the guard still holds. */
	if (ours && rundir_exists(n.ns, RUN_WG) && wg_teardown(&n, NULL, false) < 0)
		failed++;

	/* The host table is ours by its name, whatever else happened. Under
	 * the lock: a tunnel supervisor puts a vanished table back under it
	 * (after checking that the tunnel is still up). */
	{
		_cleanup_close_ int lock = rundir_lock();

		r = ruleset_host_delete_text(n.ns, &del);
		if (lock < 0 || r < 0 || runtime_nft_apply("deleting the host table", del) < 0)
			failed++;
	}

	if (!ours) {
		fprintf(stderr, "vpn-confinement: %s: no %s/%s/%s: nothing else of ours to remove\n", n.ns,
			rundir(), n.ns, RUN_NETNS);
		return failed ? EXIT_FAIL : EXIT_OK;
	}

	/* Deleting one end of the veth pair deletes both. */
	if (link_exists(n.veth_host) && (r = nl_link_del((int)if_nametoindex(n.veth_host))) < 0) {
		log_errno(r, "%s: deleting the veth pair", n.ns);
		failed++;
	}
	if (link_exists(n.bridge) && (r = nl_link_del((int)if_nametoindex(n.bridge))) < 0) {
		log_errno(r, "%s: deleting the bridge", n.ns);
		failed++;
	}
	if ((r = hostfwd_release(n.ns)) < 0) {
		log_errno(r, "%s: restoring host sysctls", n.ns);
		failed++;
	}
	if ((r = netns_remove(n.ns)) < 0) {
		log_errno(r, "%s: removing the namespace", n.ns);
		failed++;
	}
	if (failed) {
		/* Keep the marker: a second netns-down finishes the job. */
		fprintf(stderr, "vpn-confinement: %s: netns-down: %d step(s) failed\n", n.ns, failed);
		return EXIT_FAIL;
	}
	if ((r = rundir_remove(n.ns, RUN_RESOLV)) < 0 || (r = rundir_remove(n.ns, RUN_NETNS)) < 0 ||
	    (r = rundir_rmdir(n.ns)) < 0) {
		log_errno(r, "%s: removing the run directory", n.ns);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
