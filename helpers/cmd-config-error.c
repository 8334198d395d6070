/* SPDX-License-Identifier: MIT */
/* config-error N MESSAGE...: what units made fail-closed by
 * vpn-confinement-generator(8) run instead of their work. It prints the
 * generator's messages, so the reason reaches the journal through the
 * failing unit itself, and fails with EXIT_CONFIG (which wg-up@.service
 * does not retry). N is the namespace, or "-" for errors of no namespace. */
#include <stdio.h>

#include "commands.h"
#include "config.h"
#include "util.h"

/* The generator escaped the messages for the unit file; print control
 * bytes as '?' all the same, so nothing can drive a terminal. */
static void print_sanitized(const char *prefix, const char *s) {
	fputs(prefix, stderr);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, stderr);
	fputc('\n', stderr);
}

int cmd_config_error(int argc, char **argv) {
	const char *ns;

	if (argc < 2 || (!streq(argv[1], "-") && !ns_name_valid(argv[1]))) {
		fprintf(stderr, "Usage: vpn-confinement config-error N|- MESSAGE...\n");
		return EXIT_USAGE;
	}
	ns = argv[1];
	if (streq(ns, "-"))
		fprintf(stderr, "vpn-confinement: the configuration has errors:\n");
	else
		fprintf(stderr,
			"vpn-confinement: namespace %s is kept down (fail-closed): its configuration has errors:\n",
			ns);
	for (int i = 2; i < argc; i++)
		print_sanitized("vpn-confinement:   ", argv[i]);
	fprintf(stderr, "vpn-confinement: fix them, then run 'systemctl daemon-reload'; "
			"see vpn-confinement-generator(8)\n");
	return EXIT_CONFIG;
}
