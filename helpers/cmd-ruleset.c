/* SPDX-License-Identifier: MIT */
/* vpn-confinement ruleset N [--base|--full|--host]: print the nftables
 * transactions that netns-up and wg-up apply for namespace N, rendered from
 * $VPN_CONFINEMENT_CONFDIR/N.ini and the wg config it names. Without an
 * option: the full namespace table, then the host table. --base and --host
 * do not read the wg config (so they work without access to the key file). */
#include <stdio.h>

#include "commands.h"
#include "config.h"
#include "health.h"
#include "egress.h"
#include "ruleset.h"
#include "util.h"
#include "wgconf.h"

enum form { FORM_DEFAULT, FORM_BASE, FORM_FULL, FORM_HOST };

static void usage(FILE *f) {
	fprintf(f, "Usage: vpn-confinement ruleset N [--base|--full|--host]\n\n"
		   "Print the nftables rulesets of namespace N (from $VPN_CONFINEMENT_CONFDIR/N.ini):\n"
		   "  (none)   the full namespace table \"inet " NS_TABLE_NAME "\", then the host\n"
		   "           table \"inet " HOST_TABLE_PREFIX "N\"\n"
		   "  --base   the namespace table loaded before any interface exists\n"
		   "  --full   the namespace table loaded once the tunnel is up\n"
		   "  --host   the host table (port mappings and the guard)\n"
		   "Each is one transaction that replaces only its own table: nft -f applies it.\n");
}

static int report(const char *what, int r) {
	fprintf(stderr, "vpn-confinement: %s: %s\n", what, strerror(-r));
	return r == -EINVAL || r == -ENOENT || r == -EFBIG || r == -EISDIR || r == -EACCES ? EXIT_CONFIG
											     : EXIT_FAIL;
}

int cmd_ruleset(int argc, char **argv) {
	_cleanup_(ns_config_freep) struct ns_config *ns = NULL;
	_cleanup_(wg_config_freep) struct wg_config *wg = NULL;
	_cleanup_(diag_clear) struct diag d = { 0 };
	enum form form = FORM_DEFAULT;
	const char *name = NULL;
	int r;

	for (int i = 1; i < argc; i++) {
		enum form opt = streq(argv[i], "--base") ? FORM_BASE
				: streq(argv[i], "--full") ? FORM_FULL
				: streq(argv[i], "--host") ? FORM_HOST
							   : FORM_DEFAULT;
		if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		}
		if (opt != FORM_DEFAULT && form == FORM_DEFAULT) {
			form = opt;
		} else if (opt == FORM_DEFAULT && argv[i][0] != '-' && !name) {
			name = argv[i];
		} else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!name) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!ns_name_valid(name)) {
		fprintf(stderr, "vpn-confinement: invalid namespace name '%s'\n", name);
		return EXIT_USAGE;
	}

	r = ns_config_load_one(confdir(), name, &ns, &d);
	diag_print(&d, stderr, "vpn-confinement");
	diag_clear(&d);
	if (r == -EINVAL)
		return EXIT_CONFIG;
	if (r < 0) {
		_cleanup_free_ char *path = NULL;
		if (asprintf(&path, "%s/%s.ini", confdir(), name) < 0)
			return EXIT_FAIL;
		return report(path, r);
	}

	if (form == FORM_DEFAULT || form == FORM_FULL) {
		/* The config in use: after a failover, the supervisor's. */
		const char *path = ns->wg_configs[health_active_config(name, ns)].path;

		r = wgconf_load(path, &wg, &d);
		/* What wg-up would refuse: AllowedEgress= around its DNS
		 * servers or endpoints. */
		if (r == 0)
			r = egress_check_wg(ns, wg, &d);
		diag_print(&d, stderr, "vpn-confinement");
		diag_clear(&d);
		if (r == -EINVAL || r == -EFBIG)
			return EXIT_CONFIG;
		if (r < 0)
			return report(path, r);
	}

	switch (form) {
	case FORM_BASE:
		r = ruleset_render_ns_base(ns->name, ns, RULESET_REPLACE, stdout);
		break;
	case FORM_FULL:
		r = ruleset_render_ns_full(ns, wg, RULESET_REPLACE, stdout);
		break;
	case FORM_HOST:
		r = ruleset_render_host(ns, RULESET_REPLACE, stdout);
		break;
	case FORM_DEFAULT:
		r = ruleset_render_ns_full(ns, wg, RULESET_REPLACE, stdout);
		if (r >= 0) {
			/* Two transactions: the first runs inside the namespace,
			 * the second on the host. */
			fputs("\n", stdout);
			r = ruleset_render_host(ns, RULESET_REPLACE, stdout);
		}
		break;
	}
	if (r == -EINVAL) {
		fprintf(stderr, "vpn-confinement: %s: the configuration cannot be rendered as a ruleset\n",
			ns->source_path ? ns->source_path : name);
		return EXIT_CONFIG;
	}
	if (r < 0 || fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "vpn-confinement: writing the ruleset failed\n");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
