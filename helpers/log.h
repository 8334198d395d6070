/* SPDX-License-Identifier: MIT */
/* The helper's messages, on standard error (the journal under systemd),
 * each line "vpn-confinement: ...". Below the cmd_*() functions errors are
 * negative errnos; log_errno() is the one way to report one, and it cannot
 * turn a failure into a success. */
#pragma once

#include "util.h"

#define LOG_PREFIX "vpn-confinement: "

/* "vpn-confinement: MESSAGE: strerror(e)"; returns the error as a negative
 * errno whatever sign it was handed in (errno, -errno), 0 becoming -EIO: a
 * step that failed never reads as success to its caller. */
int log_errno(int error, const char *fmt, ...) _printf_(2, 3);

/* "vpn-confinement: MESSAGE": errors whose cause the message says,
 * warnings ("N: warning: ..."), notices. The subject comes first. */
void log_msg(const char *fmt, ...) _printf_(1, 2);

/* Keep going, remember the first error: first = first error so far (0 if
 * none), r the result of the next step. Evaluates to r. */
#define RET_GATHER(first, r)                                                   \
	({                                                                     \
		int _r = (r);                                                  \
		if (_r < 0 && (first) >= 0)                                    \
			(first) = _r;                                          \
		_r;                                                            \
	})
