/* SPDX-License-Identifier: MIT */
/* vpn-confinement strip FILE: the wg(8)-native part of a wg-quick config, as
 * `wg-quick strip` prints it, but rendered from the parsed and checked
 * config instead of copied from the input. */
#include <stdio.h>

#include "commands.h"
#include "util.h"
#include "wgconf.h"

int cmd_strip(int argc, char **argv) {
	_cleanup_(wg_config_freep) struct wg_config *c = NULL;
	struct diag d = { 0 };
	int r;

	if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
		printf("Usage: vpn-confinement strip FILE\n\n"
		       "Check the wg-quick config FILE and print the part that `wg setconf` reads.\n"
		       "The output holds the private key.\n");
		return EXIT_OK;
	}
	if (argc != 2 || argv[1][0] == '\0' || (argv[1][0] == '-' && argv[1][1] != '\0')) {
		fprintf(stderr, "vpn-confinement: usage: vpn-confinement strip FILE\n");
		return EXIT_USAGE;
	}

	r = wgconf_load(argv[1], &c, &d);
	diag_print(&d, stderr, "vpn-confinement");
	diag_clear(&d);
	if (r == -EINVAL || r == -EFBIG)
		return EXIT_CONFIG;
	if (r < 0) {
		if (r == -ENOMEM)
			fprintf(stderr, "vpn-confinement: out of memory\n");
		return EXIT_FAIL;
	}

	r = wgconf_write_setconf(c, stdout);
	if (r < 0 || fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "vpn-confinement: writing the output failed\n");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
