/* SPDX-License-Identifier: MIT */
/* vpn-confinement wg-up N [--foreground] / wg-down N / wait-online N
 * (tunnel.h does the work, supervisor.h the watching). */
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "diag.h"
#include "log.h"
#include "supervisor.h"
#include "tunnel.h"
#include "util.h"
#include "wgconf.h"

#define WG_UP_USAGE "wg-up N [--foreground]"

int cmd_wg_up(int argc, char **argv) {
	_cleanup_(ns_config_freep) struct ns_config *ns = NULL;
	_cleanup_(wg_config_freep) struct wg_config *wg = NULL;
	_cleanup_close_ int sigfd = -1;
	struct tunnel_up_state u = { 0 };
	struct ns_names n;
	const char *name = NULL;
	bool foreground = false;
	int r;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--foreground"))
			foreground = true;
		else if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
			printf("Usage: vpn-confinement " WG_UP_USAGE "\nSee vpn-confinement(8).\n");
			return EXIT_OK;
		} else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			cli_usage_error(WG_UP_USAGE);
			return EXIT_USAGE;
		}
	}
	if (!name) {
		cli_usage_error(WG_UP_USAGE);
		return EXIT_USAGE;
	}
	if (cli_ns_name(name, &n) < 0)
		return EXIT_USAGE;
	if (cli_load_config(n.ns, &ns) < 0)
		return EXIT_CONFIG;
	/* Every config is checked now; the first is the tunnel's. */
	for (size_t i = ns->n_wg_configs; i-- > 0;) {
		wg_config_free(TAKE_PTR(wg));
		if (cli_load_wg(ns, i, &wg) < 0)
			return EXIT_CONFIG;
	}
	if (foreground) {
		/* Blocked from the start: a stop during the bring-up is handled
		 * once it is done (children get an empty mask, see proc.c). */
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGCHLD);
		if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || (sigfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
			log_errno(errno, "signalfd");
			return EXIT_FAIL;
		}
	}
	fflush(stdout);
	r = tunnel_up(&n, ns, wg, &u);
	if (r != 0) { /* anything but success is a failure */
		tunnel_undo(&n, ns, &u);
		log_msg("%s: wg-up failed", n.ns);
		return EXIT_FAIL;
	}
	if (!foreground)
		return EXIT_OK;
	fflush(stdout);
	/* The supervisor takes what it needs of it and frees the key. */
	return supervise(&n, ns, &u.rec, TAKE_PTR(wg), sigfd) == 0 ? EXIT_OK : EXIT_FAIL;
}

/* N's ini for the base ruleset's AllowedEgress=, when it can be used; the
 * teardown goes on without it (no AllowedEgress= while the tunnel is down,
 * until netns-up renders the base ruleset again). */
static struct ns_config *config_for_base(const char *ns) {
	_cleanup_(diag_clear) struct diag d = { 0 };
	struct ns_config *c = NULL;
	int r = ns_config_load_one(confdir(), ns, &c, &d);

	if (r == 0 && c && c->valid)
		return c;
	ns_config_free(c);
	if (r != -ENOENT)
		log_msg("%s: warning: %s/%s.ini cannot be used (`vpn-confinement check %s` says why): the base ruleset put back allows no AllowedEgress=",
			ns, confdir(), ns, ns);
	return NULL;
}

int cmd_wg_down(int argc, char **argv) {
	_cleanup_(ns_config_freep) struct ns_config *ns = NULL;
	struct ns_names n;
	int r;

	r = cli_parse_ns(argc, argv, "wg-down N", &n);
	if (r <= 0)
		return r == 0 ? EXIT_OK : EXIT_USAGE;
	/* From the name alone: tear down even when the ini is gone or broken. */
	ns = config_for_base(n.ns);
	if (tunnel_teardown(&n, ns, true) < 0) {
		log_msg("%s: wg-down failed", n.ns);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

#define WAIT_ONLINE_USAGE "wait-online N [--timeout SECONDS]"

int cmd_wait_online(int argc, char **argv) {
	struct ns_names n;
	const char *name = NULL;
	uint64_t timeout = 0, when = 0;
	int r;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--timeout") && i + 1 < argc) {
			if (parse_uint(argv[++i], 0, UINT32_MAX, &timeout) < 0) {
				log_msg("--timeout: not a number of seconds: %s", argv[i]);
				return EXIT_USAGE;
			}
		} else if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
			printf("Usage: vpn-confinement " WAIT_ONLINE_USAGE "\nSee vpn-confinement(8).\n");
			return EXIT_OK;
		} else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			cli_usage_error(WAIT_ONLINE_USAGE);
			return EXIT_USAGE;
		}
	}
	if (!name) {
		cli_usage_error(WAIT_ONLINE_USAGE);
		return EXIT_USAGE;
	}
	if (cli_ns_name(name, &n) < 0)
		return EXIT_USAGE;
	r = tunnel_wait_handshake(&n, timeout * 1000, &when);
	if (r < 0)
		return EXIT_FAIL;
	if (r == 0) {
		log_msg("%s: no handshake within %llu s", n.ns, (unsigned long long)timeout);
		return EXIT_FAIL;
	}
	printf("%s: online: the tunnel completed a handshake %llu s ago\n", n.ns,
	       (unsigned long long)((uint64_t)time(NULL) > when ? (uint64_t)time(NULL) - when : 0));
	return EXIT_OK;
}
