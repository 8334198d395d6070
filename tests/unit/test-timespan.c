/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "test.h"
#include "timespan.h"
#include "util.h"

#define S USEC_PER_SEC

static void test_parse(void) {
	static const struct {
		const char *in;
		int ret;
		uint64_t usec;
	} cases[] = {
		{ "10", 0, 10 * S },
		{ "10s", 0, 10 * S },
		{ "10 s", 0, 10 * S },
		{ " 10sec ", 0, 10 * S },
		{ "1min 30s", 0, 90 * S },
		{ "1min30s", 0, 90 * S },
		{ "2m", 0, 120 * S },
		{ "2 minutes", 0, 120 * S },
		{ "1.5h", 0, 5400 * S },
		{ "1h 0.5min", 0, 3630 * S },
		{ ".5s", 0, S / 2 },
		{ "500ms", 0, S / 2 },
		{ "500msec", 0, S / 2 },
		{ "1500us", 0, 1500 },
		{ "1 2", 0, 3 * S },
		{ "1d", 0, 86400 * S },
		{ "2 weeks", 0, 1209600 * S },
		{ "1w 1d", 0, 691200 * S },
		{ "1M", 0, 2629800 * S },
		{ "1y", 0, 31557600 * S },
		{ "0", 0, 0 },
		{ "infinity", 0, TIMESPAN_INFINITY },
		{ "0.0000001s", 0, 0 },
		{ "1.0000000000000000000009s", 0, S },
		{ "", -EINVAL, 0 },
		{ " ", -EINVAL, 0 },
		{ "s", -EINVAL, 0 },
		{ "-1s", -EINVAL, 0 },
		{ "+1s", -EINVAL, 0 },
		{ "1e3", -EINVAL, 0 },
		{ "1.s", -EINVAL, 0 },
		{ "1..5s", -EINVAL, 0 },
		{ "10 seconds ago", -EINVAL, 0 },
		{ "10S", -EINVAL, 0 },
		{ "10sx", -EINVAL, 0 },
		{ "1h,2m", -EINVAL, 0 },
		{ "infinity s", -EINVAL, 0 },
		{ "1 infinity", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },
		{ "10\n", -EINVAL, 0 },
		{ "600000y", -ERANGE, 0 },
		{ "99999999999999999999", -ERANGE, 0 },
		{ "18446744073709551615us", -ERANGE, 0 },
		{ "18446744073709551614us", 0, UINT64_C(18446744073709551614) },
		{ "300000y 300000y", -ERANGE, 0 },
	};
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint64_t v = 42;
		int r = timespan_parse(cases[i].in, &v);

		CHECK(r == cases[i].ret, "timespan_parse(\"%s\") = %d, want %d", cases[i].in, r, cases[i].ret);
		if (r == 0 && cases[i].ret == 0)
			CHECK(v == cases[i].usec, "timespan_parse(\"%s\") = %llu us, want %llu", cases[i].in,
			      (unsigned long long)v, (unsigned long long)cases[i].usec);
		if (r < 0)
			CHECK(v == 42, "timespan_parse(\"%s\") failed but wrote its output", cases[i].in);
	}
}

static void test_format(void) {
	static const struct {
		uint64_t usec;
		const char *out;
	} cases[] = {
		{ 0, "0" },
		{ 10 * S, "10s" },
		{ 90 * S, "1min 30s" },
		{ 3600 * S, "1h" },
		{ 5400 * S, "1h 30min" },
		{ 86400 * S + 1, "1d" },
		{ S + S / 2, "1s 500ms" },
		{ 999, "0" },
		{ TIMESPAN_INFINITY, "infinity" },
	};
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char buf[TIMESPAN_STRLEN];
		uint64_t back;

		CHECK_STREQ(timespan_format(cases[i].usec, buf), cases[i].out, "format %llu",
			    (unsigned long long)cases[i].usec);
		/* What it writes reads back as the value, to the millisecond. */
		CHECK(timespan_parse(buf, &back) == 0 &&
			      back == (cases[i].usec == TIMESPAN_INFINITY ? TIMESPAN_INFINITY
									 : cases[i].usec - cases[i].usec % USEC_PER_MSEC),
		      "round trip of %llu via \"%s\"", (unsigned long long)cases[i].usec, buf);
	}
	/* The longest span there is fits the buffer. */
	{
		char buf[TIMESPAN_STRLEN];
		uint64_t back;
		timespan_format(UINT64_MAX - 1, buf);
		CHECK(timespan_parse(buf, &back) == 0 && back == (UINT64_MAX - 1) - (UINT64_MAX - 1) % USEC_PER_MSEC,
		      "largest finite span round trip via \"%s\"", buf);
	}
}

int main(void) {
	test_parse();
	test_format();
	return test_done();
}
