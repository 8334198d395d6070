/* SPDX-License-Identifier: MIT */
/* vpn-confinement exec N [--user U] [--] COMMAND... (confine.h does the
 * work). Its own failures exit 125, as env(1)'s do, so that they cannot be
 * taken for COMMAND's status; 126: COMMAND cannot be run, 127: not found. */
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "confine.h"
#include "log.h"
#include "util.h"

#define EXEC_USAGE "exec N [--user USER] [--] COMMAND [ARG...]"

enum { EXIT_EXEC_FAILED = 125, EXIT_EXEC_CANNOT_RUN = 126, EXIT_EXEC_NOT_FOUND = 127 };

static void help(void) {
	printf("Usage: vpn-confinement " EXEC_USAGE "\n\n"
	       "Run COMMAND as a service confined to namespace N runs: in its network\n"
	       "namespace (out only through the tunnel), with its resolv.conf and the\n"
	       "confinement's nsswitch.conf, the host's resolvers, the service managers,\n"
	       "vpn-confinement's files and the WireGuard configurations and sockets out\n"
	       "of sight, without CAP_NET_ADMIN and the confinement's other capabilities,\n"
	       "unable to make namespaces, with no_new_privs and a clean environment; as\n"
	       "USER (a name or a uid, with its groups) or root. Refused unless N is up\n"
	       "with its kill switch. Needs root.\n\n"
	       "Exit status: COMMAND's; 125 when vpn-confinement failed (or refused),\n"
	       "126 when COMMAND cannot be run, 127 when it is not found.\n"
	       "See vpn-confinement(8).\n");
}

int cmd_exec(int argc, char **argv) {
	struct confine_opts o = { 0 };
	const char *name = NULL;
	char **env = NULL;
	size_t n_env = 0;
	struct ns_names n;
	int i, r;

	for (i = 1; i < argc; i++) {
		if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
			help();
			return EXIT_OK;
		}
		if (streq(argv[i], "--")) {
			i++;
			break;
		}
		if (streq(argv[i], "--user") && i + 1 < argc)
			o.user = argv[++i];
		else if (strncmp(argv[i], "--user=", 7) == 0)
			o.user = argv[i] + 7;
		else if (argv[i][0] == '-') {
			cli_usage_error(EXEC_USAGE);
			return EXIT_EXEC_FAILED;
		} else if (!name)
			name = argv[i];
		else
			break; /* COMMAND */
	}
	if (!name || i >= argc || (o.user && !*o.user)) {
		cli_usage_error(EXEC_USAGE);
		return EXIT_EXEC_FAILED;
	}
	if (cli_ns_name(name, &n) < 0)
		return EXIT_EXEC_FAILED;
	if (confine_self(&n, &o, &env, &n_env) < 0) {
		log_msg("%s: exec: refused; %s was not run", n.ns, argv[i]);
		strv_free(env, n_env);
		return EXIT_EXEC_FAILED;
	}
	fflush(stdout);
	r = confine_execute(argv + i, env);
	strv_free(env, n_env);
	log_msg("%s: exec: %s: %s", n.ns, argv[i], strerror(-r));
	return r == -ENOENT ? EXIT_EXEC_NOT_FOUND : EXIT_EXEC_CANNOT_RUN;
}
