/* SPDX-License-Identifier: MIT */
/* vpn-confinement netns-up N / netns-down N (namespace.h does the work). */
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "log.h"
#include "namespace.h"
#include "util.h"

int cmd_netns_up(int argc, char **argv) {
	_cleanup_(ns_config_freep) struct ns_config *ns = NULL;
	struct namespace_up_state u = { 0 };
	struct ns_names n;
	int r;

	r = cli_parse_ns(argc, argv, "netns-up N", &n);
	if (r <= 0)
		return r == 0 ? EXIT_OK : EXIT_USAGE;
	if (cli_load_config(n.ns, &ns) < 0)
		return EXIT_CONFIG;
	r = namespace_up(&n, ns, &u);
	if (r != 0) { /* anything but success is a failure */
		namespace_undo(&n, &u);
		log_msg("%s: netns-up failed", n.ns);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_netns_down(int argc, char **argv) {
	struct ns_names n;
	int r;

	r = cli_parse_ns(argc, argv, "netns-down N", &n);
	if (r <= 0)
		return r == 0 ? EXIT_OK : EXIT_USAGE;
	r = namespace_down(&n);
	if (r != 0) {
		log_msg("%s: netns-down: %d step(s) failed", n.ns, r);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
