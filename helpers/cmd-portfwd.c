/* SPDX-License-Identifier: MIT */
/* vpn-confinement port-forward N [--lifetime SECONDS] [--hook-timeout
 * SECONDS]: the provider's forwarded port (portfwd.h does the work). */
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "log.h"
#include "netns.h"
#include "portfwd.h"
#include "util.h"

#define PORT_FORWARD_USAGE "port-forward N [--lifetime SECONDS] [--hook-timeout SECONDS]"

static int seconds_arg(const char *opt, const char *v, uint64_t min, uint64_t max, unsigned *out) {
	uint64_t x;

	if (parse_uint(v, min, max, &x) < 0) {
		log_msg("%s: not a number of seconds from %llu to %llu: %s", opt, (unsigned long long)min,
			(unsigned long long)max, v);
		return -EINVAL;
	}
	*out = (unsigned)x;
	return 0;
}

int cmd_port_forward(int argc, char **argv) {
	_cleanup_(ns_config_freep) struct ns_config *ns = NULL;
	struct portfwd_opts o = { .lifetime = PORTFWD_LIFETIME, .hook_timeout = PORTFWD_HOOK_TIMEOUT };
	_cleanup_close_ int nsfd = -1, sigfd = -1;
	const char *name = NULL;
	struct ns_names n;
	unsigned lifetime = o.lifetime;
	sigset_t set;
	int r;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--lifetime") && i + 1 < argc) {
			if (seconds_arg(argv[i], argv[i + 1], 2, 86400, &lifetime) < 0)
				return EXIT_USAGE;
			i++;
		} else if (streq(argv[i], "--hook-timeout") && i + 1 < argc) {
			if (seconds_arg(argv[i], argv[i + 1], 1, 3600, &o.hook_timeout) < 0)
				return EXIT_USAGE;
			i++;
		} else if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
			printf("Usage: vpn-confinement " PORT_FORWARD_USAGE "\nSee vpn-confinement(8).\n");
			return EXIT_OK;
		} else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			cli_usage_error(PORT_FORWARD_USAGE);
			return EXIT_USAGE;
		}
	}
	o.lifetime = lifetime;
	if (!name) {
		cli_usage_error(PORT_FORWARD_USAGE);
		return EXIT_USAGE;
	}
	if (cli_ns_name(name, &n) < 0)
		return EXIT_USAGE;
	if (cli_load_config(n.ns, &ns) < 0)
		return EXIT_CONFIG;
	if (!ns->pf.enabled) {
		log_msg("%s: %s has no PortForwarding=natpmp: nothing to forward", n.ns, ns->source_path);
		return EXIT_CONFIG;
	}
	nsfd = netns_open(n.ns);
	if (nsfd < 0) {
		log_errno(nsfd, "%s: opening the namespace (is netns@%s up?)", n.ns, n.ns);
		return EXIT_FAIL;
	}
	r = netns_join(nsfd);
	if (r < 0) {
		log_errno(r, "%s: entering the namespace", n.ns);
		return EXIT_FAIL;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		log_errno(errno, "signalfd");
		return EXIT_FAIL;
	}
	return portfwd_run(&n, ns, &o, sigfd) == 0 ? EXIT_OK : EXIT_FAIL;
}
