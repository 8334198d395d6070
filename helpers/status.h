/* SPDX-License-Identifier: MIT */
/* What is live for namespace N, as typed facts: its configuration, the run
 * directory's records, its links, addresses and routes, whether the live
 * rulesets match what would be rendered, the tunnel and its peers, the
 * resolv.conf copies, what systemd says about the confined units. Gathered
 * once; checks.h judges them, cmd-status.c shows them. Nothing here holds
 * key material: of `wg show dump` only public fields are kept.
 *
 * Rulesets are compared by their nft listing: the expected text is loaded
 * into a scratch network namespace that lives only for the comparison,
 * listed there, and compared with the live table's listing (both
 * stateless), so nft's own normalization makes them alike. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "health.h"
#include "hostfwd.h"
#include "manager.h"
#include "names.h"
#include "nft.h"
#include "portfwd.h"
#include "rtnl.h"
#include "tunnel.h"
#include "wgtool.h"

enum rs_state { RS_ABSENT, RS_MATCHES, RS_DIFFERS, RS_UNKNOWN };
const char *rs_state_str(enum rs_state s); /* "missing", "matches", ... */

struct status_link {
	struct rtnl_link link;
	const char *where; /* "host" or "namespace" */
	struct ipnet *addrs;
	size_t n_addrs;
};

struct status_route {
	struct rtnl_route route;
	char dev[16]; /* "" when unknown */
};

struct status_unit {
	const char *unit; /* one of cfg->units */
	const char *via;  /* NULL when the file lists it, else the unit it goes with */
	struct manager_unit m;
};

struct ns_facts {
	struct ns_names n;
	uint64_t now; /* unix time of the gathering */

	/* Configuration. */
	char *config_path;
	bool config_present;
	struct ns_config *cfg; /* NULL unless valid */
	char **config_errors;  /* "file:line: message", or "path: why" */
	size_t n_config_errors;
	char **wg_owner_errors; /* wgconf_check_owner()'s messages */
	size_t n_wg_owner_errors;
	struct wg_config *wg; /* loaded while the tunnel is recorded */
	bool wg_load_failed;
	/* AllowedEgress= against every wg config (egress.h): what wg-up
	 * refuses, "file:line: message" (gathered only with AllowedEgress=). */
	char **egress_errors;
	size_t n_egress_errors;

	/* The run directory. */
	bool managed; /* $RUNDIR/N/netns */
	struct host_claim *claims;
	size_t n_claims, n_bad_claims;
	bool tunnel_recorded; /* $RUNDIR/N/wg */
	int record_error;     /* 0, or why it could not be used */
	struct tunnel_record rec;
	/* The tunnel's health as its supervisor (wg-up --foreground) keeps it
	 * in $RUNDIR/N/health (health.h): state, last handshake and sign of
	 * life, the active config, recoveries, failovers, failbacks, the last
	 * step and its reason. None without a supervisor. */
	bool health_recorded;
	int health_error; /* 0, or why the record was refused */
	struct health_record health;
	/* The WireGuardConfigFile= in use (from 0): the record's when it names
	 * the ini's config at that place, else the first. */
	unsigned active_config;
	bool active_config_unknown; /* the record names a config the ini does not have there */

	/* What systemd says about the confined units (nothing when it cannot
	 * be asked: manager_reachable false). */
	bool manager_reachable;
	struct status_unit *units;
	size_t n_units;
	bool units_known; /* every confined unit but templates was asked (or none is there to ask) */

	/* The network. */
	bool netns_exists;
	struct status_link *links;
	size_t n_links;
	struct status_route *routes; /* inside N, main table */
	size_t n_routes;
	bool tunnel_link; /* N0 exists in N */
	enum rs_state ns_rs, host_rs;
	const char *ns_rs_expected; /* "base" or "full" */
	bool forward_guard_missing; /* claims exist, the guard table does not */
	/* The named counters of the live tables with their values (nft list
	 * counters, ruleset.h names them): the namespace table's kill switch
	 * and the host table's guard. Empty when the table is missing or
	 * could not be listed. */
	struct nft_counter *ns_counters;
	size_t n_ns_counters;
	struct nft_counter *host_counters;
	size_t n_host_counters;

	/* The tunnel. */
	bool wgo_running;
	bool dump_ok;
	struct wg_dump dump;

	/* DNS. */
	char *resolv_etc_path;
	bool resolv_ok; /* both copies as the wg config's DNS= renders */

	/* Port forwarding (PortForwarding=natpmp; nothing when off). */
	bool pf_recorded;  /* $RUNDIR/N/portfwd was read, valid */
	int pf_record_error; /* 0, or why it could not be used (-ENOENT: none) */
	bool pf_running;   /* its pid is the port-forward that wrote it */
	struct portfwd_record pf;
	uint16_t pf_published; /* $RUNDIR/N/forwarded-port (0: absent or not a port) */
	bool pf_published_bad; /* present, but not "PORT\n" */
};

/* Gather everything that can be known about namespace n; what cannot be is
 * left empty. 0 or -ENOMEM. */
int status_gather(struct ns_facts *f, const struct ns_names *n);
/* Only what tells whether the namespace and its kill switch are up: the
 * configuration, the run directory, the namespace, its links and routes,
 * the rulesets against what they should be (not the units, not the
 * tunnel's state). For `exec`. 0 or -ENOMEM. */
int status_gather_killswitch(struct ns_facts *f, const struct ns_names *n);
void status_clear(struct ns_facts *f);

/* The route to the prefix dst (family, prefix and address), or NULL. */
const struct status_route *status_route_to(const struct ns_facts *f, const struct ipnet *dst);

/* What is host-wide rather than a namespace's: whether systemd can be
 * asked, and the counter of the forwarding guard that all namespaces share
 * (table inet vpn-confinement-forwarding, when it exists). */
struct host_facts {
	bool manager_reachable;
	bool forward_guard_exists;
	struct nft_counter *guard_counters;
	size_t n_guard_counters;
};
/* 0 or -ENOMEM. */
int status_gather_host(struct host_facts *h);
void status_host_clear(struct host_facts *h);

/* A confined unit's answer counts as the unit itself: a unit the ini file
 * lists, or a companion that exists (foo.socket of foo.service). */
bool status_unit_counts(const struct status_unit *u);
/* It is active ("active" or "reloading", as systemctl is-active). */
bool status_unit_active(const struct status_unit *u);
