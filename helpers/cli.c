/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include <stdio.h>

#include "config.h"
#include "diag.h"
#include "egress.h"
#include "log.h"
#include "tunnel.h"
#include "util.h"
#include "wgconf.h"

int cli_usage_error(const char *usage) {
	log_msg("usage: vpn-confinement %s", usage);
	return -EINVAL;
}

int cli_ns_name(const char *arg, struct ns_names *n) {
	if (ns_names_init(n, arg) == 0)
		return 0;
	log_msg("invalid namespace name '%s': 1 to %d characters a-z and 0-9, starting with a letter", arg,
		NS_NAME_MAX);
	return -EINVAL;
}

int cli_parse_ns(int argc, char **argv, const char *usage, struct ns_names *n) {
	if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
		printf("Usage: vpn-confinement %s\nSee vpn-confinement(8).\n", usage);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-')
		return cli_usage_error(usage);
	return cli_ns_name(argv[1], n) < 0 ? -EINVAL : 1;
}

int cli_load_config(const char *ns, struct ns_config **out) {
	_cleanup_(diag_clear) struct diag d = { 0 };
	int r;

	r = ns_config_load_one(confdir(), ns, out, &d);
	diag_print(&d, stderr, "vpn-confinement");
	if (r == 0 && *out && (*out)->valid)
		return 0;
	if (r < 0 && r != -EINVAL)
		log_errno(r, "%s/%s.ini: cannot read", confdir(), ns);
	ns_config_free(TAKE_PTR(*out));
	return r < 0 ? r : -EINVAL;
}

int cli_load_wg(const struct ns_config *ns, size_t i, struct wg_config **out) {
	return tunnel_config_load(ns, ns->wg_configs[i].path, out);
}
