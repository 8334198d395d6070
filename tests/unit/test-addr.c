/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>

#include "addr.h"
#include "test.h"
#include "util.h"

static void test_parse(void) {
	static const struct {
		const char *in;
		bool bare;
		int ret;
		const char *out;
	} cases[] = {
		{ "10.0.0.1/24", false, 0, "10.0.0.1/24" },
		{ "10.0.0.1", true, 0, "10.0.0.1/32" },
		{ "10.0.0.1", false, -EINVAL, NULL },
		{ "fd00::1/64", false, 0, "fd00::1/64" },
		{ "fd00::1", true, 0, "fd00::1/128" },
		{ "10.0.0.1/33", false, -EINVAL, NULL },
		{ "fd00::/129", false, -EINVAL, NULL },
		{ "10.0.0.1/", false, -EINVAL, NULL },
		{ "10.0.0.1/+8", false, -EINVAL, NULL },
		{ "10.0.0.1/8x", false, -EINVAL, NULL },
		{ "10.0.0/8", false, -EINVAL, NULL },
		{ "/8", false, -EINVAL, NULL },
		{ "", true, -EINVAL, NULL },
		{ "010.0.0.1", true, -EINVAL, NULL },
	};
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct ipnet n;
		char buf[IPNET_STRLEN];
		int r = ipnet_parse(cases[i].in, cases[i].bare, &n);
		CHECK(r == cases[i].ret, "ipnet_parse(%s) = %d", cases[i].in, r);
		if (r == 0 && cases[i].out)
			CHECK_STREQ(ipnet_str(&n, buf), cases[i].out, "%s", cases[i].in);
	}
}

static void test_relations(void) {
	struct ipnet a, b, c, d;
	struct ipaddr x;

	CHECK(ipnet_parse("192.168.15.0/24", false, &a) == 0, "parse");
	CHECK(ipnet_parse("192.168.0.0/16", false, &b) == 0, "parse");
	CHECK(ipnet_parse("192.168.16.0/24", false, &c) == 0, "parse");
	CHECK(ipnet_parse("fd93::/16", false, &d) == 0, "parse");
	CHECK(ipnet_overlaps(&a, &b), "a in b");
	CHECK(ipnet_overlaps(&b, &a), "b over a");
	CHECK(!ipnet_overlaps(&a, &c), "a and c disjoint");
	CHECK(!ipnet_overlaps(&a, &d), "families differ");
	CHECK(ipaddr_parse("192.168.15.5", &x) == 0, "parse");
	CHECK(ipnet_contains(&a, &x), "contains");
	CHECK(!ipnet_contains(&c, &x), "not contains");
	CHECK(ipnet_is_network(&a), "network");
	CHECK(ipnet_parse("10.1.2.3/8", false, &a) == 0, "parse");
	CHECK(!ipnet_is_network(&a), "not network");
	b = ipnet_network(&a);
	char buf[IPNET_STRLEN];
	CHECK_STREQ(ipnet_str(&b, buf), "10.0.0.0/8", "network of 10.1.2.3/8");
	CHECK(ipnet_parse("fd93:9701:1d00::2/61", false, &a) == 0, "parse");
	b = ipnet_network(&a);
	CHECK_STREQ(ipnet_str(&b, buf), "fd93:9701:1d00::/61", "v6 network");
}

static void test_uint(void) {
	uint64_t v;
	CHECK(parse_uint("65535", 1, 65535, &v) == 0 && v == 65535, "max");
	CHECK(parse_uint("65536", 1, 65535, &v) == -ERANGE, "over");
	CHECK(parse_uint("0", 1, 65535, &v) == -ERANGE, "under");
	CHECK(parse_uint("12a", 0, 100, &v) == -EINVAL, "junk");
	CHECK(parse_uint("-1", 0, 100, &v) == -EINVAL, "sign");
	CHECK(parse_uint("", 0, 100, &v) == -EINVAL, "empty");
	CHECK(parse_uint("99999999999999999999999", 0, UINT64_MAX, &v) == -ERANGE, "overflow");
}

int main(void) {
	test_parse();
	test_relations();
	test_uint();
	return test_done();
}
