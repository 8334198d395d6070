/* SPDX-License-Identifier: MIT */
#include "timespan.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static const struct unit {
	const char *name;
	uint64_t usec;
} units[] = {
	/* Longest first where one is a prefix of another ("ms" before "m"). */
	{ "seconds", USEC_PER_SEC },
	{ "second", USEC_PER_SEC },
	{ "sec", USEC_PER_SEC },
	{ "s", USEC_PER_SEC },
	{ "minutes", 60 * USEC_PER_SEC },
	{ "minute", 60 * USEC_PER_SEC },
	{ "min", 60 * USEC_PER_SEC },
	{ "months", 2629800 * USEC_PER_SEC },
	{ "month", 2629800 * USEC_PER_SEC },
	{ "msec", USEC_PER_MSEC },
	{ "ms", USEC_PER_MSEC },
	{ "m", 60 * USEC_PER_SEC },
	{ "hours", 3600 * USEC_PER_SEC },
	{ "hour", 3600 * USEC_PER_SEC },
	{ "hr", 3600 * USEC_PER_SEC },
	{ "h", 3600 * USEC_PER_SEC },
	{ "days", 86400 * USEC_PER_SEC },
	{ "day", 86400 * USEC_PER_SEC },
	{ "d", 86400 * USEC_PER_SEC },
	{ "weeks", 604800 * USEC_PER_SEC },
	{ "week", 604800 * USEC_PER_SEC },
	{ "w", 604800 * USEC_PER_SEC },
	{ "M", 2629800 * USEC_PER_SEC },
	{ "years", 31557600 * USEC_PER_SEC },
	{ "year", 31557600 * USEC_PER_SEC },
	{ "y", 31557600 * USEC_PER_SEC },
	{ "usec", 1 },
	{ "us", 1 },
};

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_space(char c) { return c == ' ' || c == '\t'; }
static bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* a + b, or -ERANGE. */
static int add(uint64_t *a, uint64_t b) {
	if (*a > UINT64_MAX - 1 - b) /* UINT64_MAX is infinity, never a sum */
		return -ERANGE;
	*a += b;
	return 0;
}

int timespan_parse(const char *s, uint64_t *usec) {
	uint64_t total = 0;
	bool any = false;

	while (is_space(*s))
		s++;
	if (streq(s, "infinity")) {
		*usec = TIMESPAN_INFINITY;
		return 0;
	}
	while (*s) {
		uint64_t whole = 0, frac = 0, frac_div = 1, mult = USEC_PER_SEC;
		unsigned __int128 v;
		const char *word;
		size_t len;

		if (!is_digit(*s) && !(*s == '.' && is_digit(s[1])))
			return -EINVAL;
		for (; is_digit(*s); s++) {
			uint64_t d = (uint64_t)(*s - '0');
			if (whole > (UINT64_MAX - d) / 10)
				return -ERANGE;
			whole = whole * 10 + d;
		}
		if (*s == '.') {
			s++;
			if (!is_digit(*s))
				return -EINVAL;
			/* Digits past the 18th change less than a microsecond. */
			for (; is_digit(*s); s++)
				if (frac_div < UINT64_C(1000000000000000000)) {
					frac = frac * 10 + (uint64_t)(*s - '0');
					frac_div *= 10;
				}
		}
		while (is_space(*s))
			s++;
		word = s;
		while (is_letter(*s))
			s++;
		len = (size_t)(s - word);
		if (len > 0) {
			const struct unit *u = NULL;

			for (size_t i = 0; i < ELEMENTSOF(units) && !u; i++)
				if (strlen(units[i].name) == len && strncmp(units[i].name, word, len) == 0)
					u = &units[i];
			if (!u)
				return -EINVAL;
			mult = u->usec;
		}
		/* whole and frac / frac_div units, rounded down to a microsecond. */
		v = (unsigned __int128)whole * mult + (unsigned __int128)frac * mult / frac_div;
		if (v >= UINT64_MAX || add(&total, (uint64_t)v) < 0)
			return -ERANGE;
		any = true;
		while (is_space(*s))
			s++;
	}
	if (!any)
		return -EINVAL;
	*usec = total;
	return 0;
}

const char *timespan_format(uint64_t usec, char buf[static TIMESPAN_STRLEN]) {
	static const struct unit shown[] = {
		{ "d", 86400 * USEC_PER_SEC }, { "h", 3600 * USEC_PER_SEC }, { "min", 60 * USEC_PER_SEC },
		{ "s", USEC_PER_SEC },	       { "ms", USEC_PER_MSEC },
	};
	size_t at = 0;

	if (usec == TIMESPAN_INFINITY)
		return strcpy(buf, "infinity");
	usec -= usec % USEC_PER_MSEC;
	if (usec == 0)
		return strcpy(buf, "0");
	for (size_t i = 0; i < ELEMENTSOF(shown) && usec > 0; i++) {
		uint64_t n = usec / shown[i].usec;
		int w;

		if (n == 0)
			continue;
		usec -= n * shown[i].usec;
		w = snprintf(buf + at, TIMESPAN_STRLEN - at, "%s%llu%s", at ? " " : "", (unsigned long long)n,
			     shown[i].name);
		if (w < 0 || (size_t)w >= TIMESPAN_STRLEN - at)
			break;
		at += (size_t)w;
	}
	return buf;
}
