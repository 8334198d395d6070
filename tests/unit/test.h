/* SPDX-License-Identifier: MIT */
/* Minimal table-driven test support: CHECK records, test_done() prints
 * "N passed, N failed" and gives main's exit code. */
#pragma once

#include <stdio.h>
#include <string.h>

static unsigned test_passed, test_failed;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (cond) {                                                    \
			test_passed++;                                         \
		} else {                                                       \
			test_failed++;                                         \
			printf("not ok - %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
		}                                                              \
	} while (0)

#define CHECK_STREQ(a, b, ...)                                                 \
	do {                                                                   \
		const char *_a = (a), *_b = (b);                               \
		CHECK(_a && _b && strcmp(_a, _b) == 0, "got \"%s\", want \"%s\": ", \
		      _a ? _a : "(null)", _b ? _b : "(null)");                 \
		if (!(_a && _b && strcmp(_a, _b) == 0)) {                      \
			printf("  ");                                          \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
		}                                                              \
	} while (0)

static inline int test_done(void) {
	printf("%u passed, %u failed\n", test_passed, test_failed);
	return test_failed ? 1 : 0;
}
