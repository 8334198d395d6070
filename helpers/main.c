/* SPDX-License-Identifier: MIT */
/* vpn-confinement: the helper that the units call and that people use. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "proc.h"
#include "util.h"
#include "version.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;
};

static const struct command commands[] = {
	{ "netns-up", cmd_netns_up, "netns-up N                        create namespace N, its kill switch, bridge and veth" },
	{ "netns-down", cmd_netns_down, "netns-down N                      remove what netns-up made, restore host settings" },
	{ "wg-up", cmd_wg_up, "wg-up N [--foreground]            bring the tunnel N0 up inside N (and watch it)" },
	{ "wg-down", cmd_wg_down, "wg-down N                         take the tunnel down, keep the kill switch" },
	{ "wait-online", cmd_wait_online, "wait-online N [--timeout S]       wait for the tunnel's first handshake" },
	{ "status", cmd_status, "status [N] [--json]               show namespaces, links, rulesets, tunnel, DNS\n"
				"  status [N] --format=prometheus [--output=FILE]\n"
				"                                    the same as metrics (Prometheus text format),\n"
				"                                    FILE replaced atomically (node exporter's textfile)" },
	{ "check", cmd_check, "check N [--max-handshake-age S]   exit 1 with the reason when N is not as it should be" },
	{ "port-forward", cmd_port_forward, "port-forward N [--lifetime S]     keep the provider's forwarded port open, renewed, told" },
	{ "ruleset", cmd_ruleset, "ruleset N [--base|--full|--host]  print the nftables rulesets of namespace N" },
	{ "exec", cmd_exec, "exec N [--user U] -- COMMAND...   run COMMAND as a service confined to N runs" },
	{ "config-error", cmd_config_error, "config-error N|- MESSAGE...       print the generator's messages and fail (for units)" },
	{ "strip", cmd_strip, "strip FILE                        print the wg(8) part of a wg-quick config" },
};

static void usage(FILE *f) {
	fprintf(f, "Usage: vpn-confinement COMMAND [ARGS...]\n\n"
		   "Confine systemd services to a WireGuard network namespace.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		fprintf(f, "  %s\n", commands[i].synopsis);
	fprintf(f, "\nEnvironment: VPN_CONFINEMENT_CONFDIR (default /etc/vpn-confinement),\n"
		   "             VPN_CONFINEMENT_RUNDIR (default /run/vpn-confinement).\n"
		   "See vpn-confinement(8).\n");
}

int main(int argc, char **argv) {
	/* It reads private keys: no core dump of it, and no ptrace or
	 * /proc/PID/mem by processes of the same user without CAP_SYS_PTRACE. */
	int r = proc_no_core_dumps();

	if (r < 0) {
		fprintf(stderr, "vpn-confinement: cannot turn off core dumps: %s\n", strerror(-r));
		return EXIT_FAIL;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (streq(argv[1], "--version")) {
		printf("vpn-confinement %s\n", VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (streq(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "vpn-confinement: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
