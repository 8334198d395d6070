/* SPDX-License-Identifier: MIT */
/* The judgement of a namespace's facts (status.h): one table of checks,
 * each adding problems (N is not as it should be: `check` exits 1) or
 * warnings (the promise does not hold for a reason an admin chose, such as
 * a capability given back: shown, the exit status kept). `status` shows
 * the same findings beside the facts. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct ns_facts;

#define DEFAULT_MAX_HANDSHAKE_AGE 180

struct check_options {
	uint64_t max_handshake_age; /* seconds; 0: not checked */
};

struct findings {
	char **problems;
	size_t n_problems;
	char **warnings;
	size_t n_warnings;
};

/* Run every check in order. 0 or -ENOMEM. */
int checks_run(const struct ns_facts *f, const struct check_options *o, struct findings *out);
void findings_clear(struct findings *fi);
