/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdarg.h>

static void vlog(const char *fmt, va_list ap, const char *suffix) {
	/* One write per line: lines of parallel units do not interleave. */
	char line[2048];
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	if (n < 0)
		return;
	fprintf(stderr, LOG_PREFIX "%s%s\n", line, suffix ? suffix : "");
}

int log_errno(int error, const char *fmt, ...) {
	int e = error < 0 ? -error : error ? error : EIO;
	char suffix[256];
	va_list ap;

	snprintf(suffix, sizeof(suffix), ": %s", strerror(e));
	va_start(ap, fmt);
	vlog(fmt, ap, suffix);
	va_end(ap);
	return -e;
}

void log_msg(const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}
