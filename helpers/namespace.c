/* SPDX-License-Identifier: MIT */
#include "namespace.h"

#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "config.h"
#include "hostfwd.h"
#include "log.h"
#include "netns.h"
#include "nft.h"
#include "resolv.h"
#include "rtnl.h"
#include "rundir.h"
#include "ruleset.h"
#include "sysctl.h"
#include "tunnel.h"
#include "util.h"

static bool link_exists(const char *name) { return if_nametoindex(name) != 0; }

void namespace_undo(const struct ns_names *n, const struct namespace_up_state *u) {
	int r;

	log_msg("%s: undoing what this run did", n->ns);
	if (u->sysctls && (r = hostfwd_release(n->ns)) < 0)
		log_errno(r, "%s: undo: restoring host sysctls", n->ns);
	if (u->host_table) {
		_cleanup_free_ char *text = NULL;
		if (ruleset_host_delete_text(n->ns, &text) == 0)
			nft_apply_step("undo: deleting the host table", text);
	}
	if (u->veth && (r = rtnl_link_del_named(n->veth_host)) < 0)
		log_errno(r, "%s: undo: deleting the veth pair", n->ns);
	if (u->bridge && (r = rtnl_link_del_named(n->bridge)) < 0)
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
		int r = sysctl_setf(settings[i][1], "%s", settings[i][0]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Our own bridge and veth end on the host: no IPv6 there unless configured
 * (no link-local address, no router solicitations). They go away with
 * netns-down, so nothing is recorded for restoring. */
static int host_sysctls_own_links(const struct ns_names *n, const struct ns_config *ns) {
	int r;

	if ((r = sysctl_setf(ns->has_ipv6 ? "0" : "1", "net/ipv6/conf/%s/disable_ipv6", n->bridge)) < 0 ||
	    (ns->has_ipv6 && (r = sysctl_setf("0", "net/ipv6/conf/%s/accept_ra", n->bridge)) < 0))
		return r;
	return sysctl_setf("1", "net/ipv6/conf/%s/disable_ipv6", n->veth_host);
}

/* The host interface that routes to prefix a, claimed for forwarding (no
 * claim for the bridge, lo or an interface already claimed). what and
 * why name the setting and what needs the forwarding, for warnings. */
static int claim_route_to(const struct ns_names *n, const struct ipnet *a, const char *what, const char *why,
			  struct host_claim **claims, size_t *n_claims, bool want[2]) {
	struct ipnet net = ipnet_network(a);
	struct host_claim c = { .family = a->addr.family };
	char buf[IPNET_STRLEN], path[192], key[128];
	bool dup = false;
	int oif, r;

	r = rtnl_route_get(&net.addr, &oif);
	if (r < 0 || !if_indextoname((unsigned)oif, c.ifname)) {
		log_msg("%s: warning: no route to %s %s yet; %s need forwarding on its interface (run netns-up again once it is up)",
			n->ns, what, ipnet_str(a, buf), why);
		return 0;
	}
	if (streq(c.ifname, n->bridge) || streq(c.ifname, "lo"))
		return 0;
	if (!hostfwd_ifname_ok(c.ifname)) {
		log_msg("%s: warning: not enabling forwarding on interface '%s' (%s %s): its name cannot be put into the forwarding guard",
			n->ns, c.ifname, what, ipnet_str(a, buf));
		return 0;
	}
	if ((r = hostfwd_claim_key(&c, key, sizeof(key))) < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	if (c.family == AF_INET6 && access(path, F_OK) < 0) {
		log_msg("%s: warning: this kernel has no per-interface IPv6 forwarding (%s); IPv6 %s %s need net.ipv6.conf.all.forwarding=1, which vpn-confinement does not change",
			n->ns, key, why, ipnet_str(a, buf));
		return 0;
	}
	want[c.family == AF_INET6] = true;
	for (size_t k = 0; k < *n_claims; k++)
		dup |= (*claims)[k].family == c.family && streq((*claims)[k].ifname, c.ifname);
	if (!dup && ARRAY_APPEND(*claims, *n_claims, c) < 0)
		return -ENOMEM;
	return 0;
}

/* Forwarding for the port mappings and AllowedEgress=, per interface:
 * packets DNATed towards the namespace arrive on the interfaces the
 * AccessibleFrom ranges route through and leave on the bridge; the
 * namespace's flows to AllowedEgress= arrive on the bridge and leave on
 * the interfaces those destinations route through; replies go the other
 * way. (A destination that is one of the host's own addresses routes
 * through lo: nothing is forwarded.) IPv4 has a per-interface forwarding
 * switch, so net.ipv4.ip_forward is left alone. IPv6 has one
 * (force_forwarding) only since Linux 6.17; without it IPv6 port mappings
 * from other hosts and IPv6 AllowedEgress= to them need
 * net.ipv6.conf.all.forwarding, which is not changed here (it turns the
 * host into an IPv6 router everywhere). */
static int host_forwarding(const struct ns_names *n, const struct ns_config *ns, bool *claimed) {
	_cleanup_free_ struct host_claim *claims = NULL;
	size_t n_claims = 0;
	bool want[2] = { false, false }; /* IPv4, IPv6 */
	int r;

	for (size_t i = 0; ns->n_port_mappings > 0 && i < ns->n_accessible_from; i++) {
		const struct ipnet *a = &ns->accessible_from[i].net;
		if (a->addr.family == AF_INET6 && !ns->has_ipv6)
			continue; /* no IPv6 into the namespace at all */
		if ((r = claim_route_to(n, a, "AccessibleFrom", "port mappings from there", &claims, &n_claims, want)) < 0)
			return r;
	}
	for (size_t i = 0; i < ns->n_egress; i++)
		if ((r = claim_route_to(n, &ns->egress[i].net, "AllowedEgress", "connections to there", &claims, &n_claims,
					want)) < 0)
			return r;
	if (n_claims == 0)
		return 0;
	*claimed = true;
	r = hostfwd_claim(n->ns, claims, n_claims);
	if (r < 0)
		return r;
	if (want[0] && (r = sysctl_setf("1", "net/ipv4/conf/%s/forwarding", n->bridge)) < 0)
		return r;
	if (want[1] && (r = sysctl_setf("1", "net/ipv6/conf/%s/force_forwarding", n->bridge)) < 0)
		return r;
	return 0;
}

/* On a re-run (the namespace existed, we are in it): whether a live tunnel
 * has loaded its full ruleset, which the base one must not replace. A
 * fresh namespace always gets the base ruleset, whatever the run directory
 * says (a stale or planted record), and so does one without the table or
 * without N0. */
static bool tunnel_owns_ruleset(const struct ns_names *n, bool created_now) {
	struct tunnel_record rec;

	return !created_now && tunnel_record_load(n->ns, &rec) == 0 && !streq(rec.implementation, "pending") &&
	       link_exists(n->wg) && nft_table_exists(NS_TABLE_NAME);
}

/* No name of ours may be someone else's: without our marker, an existing
 * namespace, bridge or host veth end is left alone. */
static int claim_names(const struct ns_names *n, struct namespace_up_state *u) {
	struct stat st;
	const char *clash = NULL;
	int r;

	if (rundir_exists(n->ns, RUN_NETNS))
		return 0;
	if (lstat(n->netns_path, &st) == 0)
		clash = n->netns_path;
	else if (link_exists(n->bridge))
		clash = n->bridge;
	else if (link_exists(n->veth_host))
		clash = n->veth_host;
	if (clash) {
		log_msg("%s: %s already exists and was not made by vpn-confinement (no %s/%s/%s); not touching it", n->ns,
			clash, rundir(), n->ns, RUN_NETNS);
		return -EEXIST;
	}
	r = rundir_write(n->ns, RUN_NETNS, "");
	if (r < 0)
		return log_errno(r, "%s: writing the run directory", n->ns);
	u->marker = true;
	return 0;
}

/* /run/netns/N, made if missing; returns an fd of it. */
static int open_or_create(const struct ns_names *n, struct namespace_up_state *u) {
	int fd = netns_open(n->ns), r;

	if (fd == -ENOTTY) { /* an empty file left by a crash */
		if ((r = netns_remove(n->ns)) < 0)
			return log_errno(r, "%s: removing a stale namespace file", n->ns);
		fd = -ENOENT;
	}
	if (fd == -ENOENT) {
		r = netns_create(n->ns);
		if (r < 0)
			return log_errno(r, "%s: creating the namespace", n->ns);
		u->netns = true;
		fd = netns_open(n->ns);
	}
	return fd < 0 ? log_errno(fd, "%s: opening the namespace", n->ns) : fd;
}

/* On the host: the bridge and the veth pair (inner end created in N), their
 * sysctls set before they are up, the bridge's addresses, the host end
 * enslaved, both up. */
static int host_links(const struct ns_names *n, const struct ns_config *ns, int nsfd, struct namespace_up_state *u) {
	int br, vh, r;

	if (!link_exists(n->bridge)) {
		u->bridge = true;
		if ((r = rtnl_link_add(n->bridge, "bridge")) < 0)
			return log_errno(r, "%s: creating the bridge", n->ns);
	}
	if (!link_exists(n->veth_host)) {
		u->veth = true;
		if ((r = rtnl_veth_add(n->veth_host, n->veth_ns, nsfd)) < 0)
			return log_errno(r, "%s: creating the veth pair", n->ns);
	}
	if ((r = host_sysctls_own_links(n, ns)) < 0)
		return r;
	br = (int)if_nametoindex(n->bridge);
	vh = (int)if_nametoindex(n->veth_host);
	if (br == 0 || vh == 0)
		return log_errno(-ENODEV, "%s: finding the bridge and the veth pair", n->ns);
	if ((r = rtnl_addr_replace(br, &ns->bridge_addr, false)) < 0 ||
	    (ns->has_ipv6 && (r = rtnl_addr_replace(br, &ns->bridge_addr6, true)) < 0))
		return log_errno(r, "%s: giving %s its address", n->ns, n->bridge);
	if ((r = rtnl_link_change(vh, &(struct rtnl_link_change){ .master = br })) < 0 ||
	    (r = rtnl_link_change(br, &(struct rtnl_link_change){ .up = true })) < 0 ||
	    (r = rtnl_link_change(vh, &(struct rtnl_link_change){ .up = true })) < 0)
		return log_errno(r, "%s: configuring the bridge", n->ns);
	return 0;
}

/* Inside N (entered): a route to each AllowedEgress= destination via the
 * bridge, but for one on the veth's own link (the bridge address: the
 * host), which the link's route reaches already. wg-up's routes (the
 * default and the DNS servers' host routes via N0) leave them be, and no
 * DNS server or endpoint of the tunnel is inside one (wg-up checks). */
static int egress_routes(const struct ns_names *n, const struct ns_config *ns, int vn) {
	for (size_t i = 0; i < ns->n_egress; i++) {
		const struct ipnet *e = &ns->egress[i].net;
		bool v6 = e->addr.family == AF_INET6;
		const struct ipnet *link = v6 ? &ns->ns_addr6 : &ns->ns_addr;
		struct rtnl_route rt = { .dst = *e, .has_gateway = true, .oif = vn };
		char buf[IPNET_STRLEN];
		int r;

		if (v6 && !ns->has_ipv6)
			return -EINVAL; /* the config loader refuses it */
		if (e->prefix >= link->prefix && ipnet_contains(link, &e->addr))
			continue;
		rt.gateway = v6 ? ns->bridge_addr6.addr : ns->bridge_addr.addr;
		if ((r = rtnl_route_replace(&rt)) < 0)
			return log_errno(r, "%s: routing AllowedEgress %s via the bridge", n->ns, ipnet_str(e, buf));
	}
	return 0;
}

/* Inside N (entered): the veth end's sysctls, lo up, the veth end's
 * addresses, up, a route to each AccessibleFrom range and AllowedEgress=
 * destination via the bridge. */
static int inner_links(const struct ns_names *n, const struct ns_config *ns) {
	int lo = (int)if_nametoindex("lo"), vn = (int)if_nametoindex(n->veth_ns), r;

	if (lo == 0 || vn == 0)
		return log_errno(-ENODEV, "%s: finding lo and %s in the namespace", n->ns, n->veth_ns);
	if ((r = sysctl_setf(ns->has_ipv6 ? "0" : "1", "net/ipv6/conf/%s/disable_ipv6", n->veth_ns)) < 0 ||
	    (ns->has_ipv6 && (r = sysctl_setf("0", "net/ipv6/conf/%s/accept_ra", n->veth_ns)) < 0))
		return r;
	if ((r = rtnl_link_change(lo, &(struct rtnl_link_change){ .up = true })) < 0)
		return log_errno(r, "%s: bringing lo up", n->ns);
	if ((r = rtnl_addr_replace(vn, &ns->ns_addr, false)) < 0 ||
	    (ns->has_ipv6 && (r = rtnl_addr_replace(vn, &ns->ns_addr6, true)) < 0))
		return log_errno(r, "%s: giving %s its address", n->ns, n->veth_ns);
	if ((r = rtnl_link_change(vn, &(struct rtnl_link_change){ .up = true })) < 0)
		return log_errno(r, "%s: bringing %s up", n->ns, n->veth_ns);
	for (size_t i = 0; i < ns->n_accessible_from; i++) {
		const struct ipnet *a = &ns->accessible_from[i].net;
		struct rtnl_route rt = { .dst = ipnet_network(a), .has_gateway = true, .oif = vn };
		char buf[IPNET_STRLEN];

		if (a->addr.family == AF_INET)
			rt.gateway = ns->bridge_addr.addr;
		else if (ns->has_ipv6)
			rt.gateway = ns->bridge_addr6.addr;
		else
			continue;
		if ((r = rtnl_route_replace(&rt)) < 0)
			return log_errno(r, "%s: routing AccessibleFrom %s via the bridge", n->ns, ipnet_str(a, buf));
	}
	return egress_routes(n, ns, vn);
}

int namespace_up(const struct ns_names *n, const struct ns_config *ns, struct namespace_up_state *u) {
	_cleanup_free_ char *base = NULL, *host = NULL;
	_cleanup_close_ int nsfd = -1;
	bool host_table;
	int r;

	/* Render everything first: a model the renderer refuses changes nothing. */
	if ((r = ruleset_host_text(ns, RULESET_REPLACE, &host)) < 0)
		return log_errno(r, "%s: rendering the rulesets", n->ns);
	if ((r = claim_names(n, u)) < 0)
		return r;

	/* 1. The namespace. */
	nsfd = open_or_create(n, u);
	if (nsfd < 0)
		return nsfd;

	/* 2. Inside: the kill switch first, then sysctls. */
	{
		_cleanup_netns_leave_ int saved = -1;

		r = netns_enter(nsfd, &saved);
		if (r < 0)
			return log_errno(r, "%s: entering the namespace", n->ns);
		if (tunnel_owns_ruleset(n, u->netns))
			/* wg-up owns the namespace ruleset now (the full one);
			 * going back to the base one would cut the tunnel. */
			log_msg("%s: tunnel is up; keeping its ruleset", n->ns);
		else if ((r = ruleset_ns_base_text(n->ns, ns, u->netns ? RULESET_CREATE : RULESET_REPLACE, &base)) < 0 ||
			 (r = nft_apply_step("loading the namespace base ruleset", base)) < 0)
			return r;
		if ((r = ns_sysctls_early()) < 0)
			return r;
	}

	/* 3. Host side links, 4. inside: addresses and routes. */
	if ((r = host_links(n, ns, nsfd, u)) < 0)
		return r;
	{
		_cleanup_netns_leave_ int saved = -1;

		r = netns_enter(nsfd, &saved);
		if (r < 0)
			return log_errno(r, "%s: entering the namespace", n->ns);
		if ((r = inner_links(n, ns)) < 0)
			return r;
	}

	/* The namespace's resolv.conf, for confined services to bind-mount
	 * from the start; wg-up fills it in place. */
	if ((r = resolv_init(n->ns)) < 0)
		return log_errno(r, "%s: writing resolv.conf", n->ns);

	/* 5. Host table: DNAT and the guard. Table existence before is not
	 * tracked: on a re-run it was ours already. */
	u->host_table = u->marker;
	host_table = nft_table_exists(n->host_table);
	if (!host_table) {
		free(host);
		host = NULL;
		if ((r = ruleset_host_text(ns, RULESET_CREATE, &host)) < 0)
			return log_errno(r, "%s: rendering the rulesets", n->ns);
	}
	if ((r = nft_apply_step("loading the host table", host)) < 0)
		return r;

	/* 6. Forwarding for the port mappings. */
	r = host_forwarding(n, ns, &u->sysctls);
	if (!u->marker)
		u->sysctls = false; /* a re-run keeps the claims of the run before */
	if (r < 0)
		return log_errno(r, "%s: enabling forwarding", n->ns);
	return 0;
}

int namespace_down(const struct ns_names *n) {
	_cleanup_free_ char *del = NULL;
	bool ours = rundir_exists(n->ns, RUN_NETNS);
	int r, failed = 0;

	/* The tunnel first, while the guard still holds (also what a tunnel
	 * supervisor left without a tunnel: its health record, a trial). */
	if (ours && (rundir_exists(n->ns, RUN_WG) || rundir_exists(n->ns, RUN_HEALTH)) && tunnel_teardown(n, NULL, false) < 0)
		failed++;

	/* The host table is ours by its name, whatever else happened. Under
	 * the lock: a tunnel supervisor puts a vanished table back under it
	 * (after checking that the tunnel is still up). */
	{
		_cleanup_close_ int lock = rundir_lock();

		r = ruleset_host_delete_text(n->ns, &del);
		if (lock < 0 || r < 0 || nft_apply_step("deleting the host table", del) < 0)
			failed++;
	}

	if (!ours) {
		log_msg("%s: no %s/%s/%s: nothing else of ours to remove", n->ns, rundir(), n->ns, RUN_NETNS);
		return failed;
	}

	/* Deleting one end of the veth pair deletes both. */
	if ((r = rtnl_link_del_named(n->veth_host)) < 0) {
		log_errno(r, "%s: deleting the veth pair", n->ns);
		failed++;
	}
	if ((r = rtnl_link_del_named(n->bridge)) < 0) {
		log_errno(r, "%s: deleting the bridge", n->ns);
		failed++;
	}
	if ((r = hostfwd_release(n->ns)) < 0) {
		log_errno(r, "%s: restoring host sysctls", n->ns);
		failed++;
	}
	if ((r = netns_remove(n->ns)) < 0) {
		log_errno(r, "%s: removing the namespace", n->ns);
		failed++;
	}
	if (failed)
		/* Keep the marker: a second netns-down finishes the job. */
		return failed;
	if ((r = rundir_remove(n->ns, RUN_RESOLV)) < 0 || (r = rundir_remove(n->ns, RUN_NETNS)) < 0 ||
	    (r = rundir_rmdir(n->ns)) < 0) {
		log_errno(r, "%s: removing the run directory", n->ns);
		return 1;
	}
	return 0;
}

void namespace_host_side_ensure(const struct ns_names *n, const struct ns_config *ns) {
	int r;

	{
		/* Under the lock netns-down deletes the table with, and only
		 * while the namespace and the tunnel are up and staying. */
		_cleanup_close_ int lock = rundir_lock();
		_cleanup_free_ char *host = NULL;

		if (lock < 0 || !rundir_exists(n->ns, RUN_NETNS) || !rundir_exists(n->ns, RUN_WG) ||
		    rundir_exists(n->ns, RUN_WG_STOPPING))
			return;
		if (!nft_table_exists(n->host_table)) {
			r = ruleset_host_text(ns, RULESET_CREATE, &host);
			if (r == 0)
				r = nft_apply_step("putting the host table back", host);
			if (r == 0)
				log_msg("%s: the host table inet %s was gone (a firewall reload?); put it back", n->ns,
					n->host_table);
		}
	}
	r = hostfwd_guard_update(true);
	if (r == 1)
		log_msg("%s: the forwarding guard (table inet %s) was gone; put it back", n->ns, FORWARD_GUARD_TABLE);
	if (r < 0) {
		log_msg("%s: cannot put the forwarding guard back (%s); turning forwarding for the port mappings off",
			n->ns, strerror(-r));
		r = hostfwd_release(n->ns);
		if (r < 0)
			log_errno(r, "%s: turning forwarding off", n->ns);
	}
}
