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

#include "hostfwd.h"
#include "manager.h"
#include "names.h"
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

	/* The run directory. */
	bool managed; /* $RUNDIR/N/netns */
	struct host_claim *claims;
	size_t n_claims, n_bad_claims;
	bool tunnel_recorded; /* $RUNDIR/N/wg */
	int record_error;     /* 0, or why it could not be used */
	struct tunnel_record rec;

	/* What systemd says about the confined units (nothing when it cannot
	 * be asked: manager_reachable false). */
	bool manager_reachable;
	struct status_unit *units;
	size_t n_units;

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
void status_clear(struct ns_facts *f);

/* The route to the prefix dst (family, prefix and address), or NULL. */
const struct status_route *status_route_to(const struct ns_facts *f, const struct ipnet *dst);
