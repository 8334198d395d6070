/* SPDX-License-Identifier: MIT */
/* vpn-confinement-generator: a systemd generator (systemd.generator(7)).
 *
 *   vpn-confinement-generator NORMAL_DIR [EARLY_DIR LATE_DIR]
 *
 * Reads $VPN_CONFINEMENT_CONFDIR/N.ini and writes into NORMAL_DIR only.
 * This is the boundary that logs: to /dev/kmsg, or to stderr when that
 * cannot be opened, when stderr is a terminal, or when SYSTEMD_LOG_TARGET
 * says console. SYSTEMD_LOG_LEVEL=debug lists every file written. It never
 * runs another program, talks to another process or touches the network. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "config.h"
#include "diag.h"
#include "generate.h"
#include "util.h"

#ifndef HELPER_PATH
#define HELPER_PATH "/usr/bin/vpn-confinement"
#endif
#ifndef SYSTEMDUNITDIR
#define SYSTEMDUNITDIR "/usr/lib/systemd/system"
#endif

#define PROGRAM "vpn-confinement-generator"

static int log_level = LOG_INFO;
static int kmsg_fd = -1;

static int parse_log_level(const char *s) {
	static const char *const names[] = { "emerg", "alert", "crit", "err",
					     "warning", "notice", "info", "debug" };

	if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
		return s[0] - '0';
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (streq(s, names[i]))
			return (int)i;
	return -1;
}

static void log_open(void) {
	const char *level = getenv("SYSTEMD_LOG_LEVEL");
	const char *target = getenv("SYSTEMD_LOG_TARGET");
	bool console;

	if (level && parse_log_level(level) >= 0)
		log_level = parse_log_level(level);
	if (target && (streq(target, "console") || streq(target, "stderr")))
		console = true;
	else if (target && streq(target, "kmsg"))
		console = false;
	else
		console = isatty(STDERR_FILENO);
	if (!console)
		kmsg_fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
}

static void log_msg(int level, const char *fmt, ...) _printf_(2, 3);
static void log_msg(int level, const char *fmt, ...) {
	char buf[2048];
	va_list ap;
	int n;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (kmsg_fd >= 0 &&
	    dprintf(kmsg_fd, "<%d>%s[%d]: %s\n", LOG_DAEMON | level, PROGRAM, (int)getpid(), buf) > 0)
		return;
	fprintf(stderr, "%s: %s\n", PROGRAM, buf);
}

static void log_written(void *userdata, const char *relpath) {
	log_msg(LOG_DEBUG, "wrote %s/%s", (const char *)userdata, relpath);
}

static double elapsed_ms(clockid_t clock, const struct timespec *start) {
	struct timespec now;

	clock_gettime(clock, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

int main(int argc, char **argv) {
	_cleanup_(diag_clear) struct diag d = { 0 };
	_cleanup_close_ int out_fd = -1;
	struct gen_stats stats;
	struct gen_paths paths = {
		.conf_dir = confdir(),
		.run_dir = rundir(),
		.helper = HELPER_PATH,
		.unit_dir = SYSTEMDUNITDIR,
	};
	struct timespec start, start_cpu;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &start);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start_cpu);
	log_open();
	if ((argc != 2 && argc != 4) || argv[1][0] != '/') {
		log_msg(LOG_ERR, "usage: %s NORMAL_DIR [EARLY_DIR LATE_DIR] (absolute paths)", PROGRAM);
		return 1;
	}
	out_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (out_fd < 0) {
		log_msg(LOG_ERR, "cannot open the output directory %s: %s", argv[1], strerror(errno));
		return 1;
	}
	paths.out_dir = argv[1];
	log_msg(LOG_DEBUG, "reading %s, writing into %s", paths.conf_dir, argv[1]);

	r = generate(&paths, out_fd, &d, &stats, log_written, argv[1]);

	for (size_t i = 0; i < d.n; i++) {
		_cleanup_free_ char *s = diag_format(&d.entries[i]);
		log_msg(d.entries[i].level == DIAG_ERROR ? LOG_ERR : LOG_WARNING, "%s",
			s ? s : d.entries[i].message);
	}
	if (r == -EINVAL && stats.namespaces_failed > 0)
		log_msg(LOG_ERR,
			"%u of %u namespaces written fail-closed: their units fail with the messages above",
			stats.namespaces_failed, stats.namespaces);
	if (stats.units_blocked > 0)
		log_msg(LOG_ERR,
			"%u unit%s listed by files whose name is no namespace name %s kept from starting",
			stats.units_blocked, stats.units_blocked == 1 ? "" : "s",
			stats.units_blocked == 1 ? "is" : "are");
	if (r == -EINVAL && stats.errors_unit)
		log_msg(LOG_ERR, "errors that belong to no namespace: " ERRORS_UNIT " fails with them");
	if (r < 0 && r != -EINVAL)
		log_msg(LOG_ERR, "output is incomplete: %s", strerror(-r));
	log_msg(LOG_DEBUG, "%u namespaces (%u fail-closed), %u confined units, %u files in %.3f ms (%.3f ms CPU; reading the configuration: %.3f ms)",
		stats.namespaces, stats.namespaces_failed, stats.units, stats.files,
		elapsed_ms(CLOCK_MONOTONIC, &start), elapsed_ms(CLOCK_PROCESS_CPUTIME_ID, &start_cpu),
		stats.load_ms);
	return r < 0 ? 1 : 0;
}
