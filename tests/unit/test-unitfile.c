/* SPDX-License-Identifier: MIT */
#include "test.h"
#include "unitfile.h"
#include "util.h"

static void test_path_plain(void) {
	static const struct {
		const char *in;
		bool ok;
	} cases[] = {
		{ "/", true },
		{ "/etc/vpn-confinement/tr.ini", true },
		{ "/run/secrets/wg+0@x_y.conf", true },
		{ "/tmp/vc-gen-check.Ab12Cd/01-one/input", true },
		{ "", false },
		{ "relative/path", false },
		{ "/trailing/", false },
		{ "//double", false },
		{ "/a//b", false },
		{ "/a/./b", false },
		{ "/a/../b", false },
		{ "/a/..", false },
		{ "/a/.", false },
		{ "/with space", false },
		{ "/with:colon", false }, /* BindReadOnlyPaths= splits on ':' */
		{ "/with%i", false },
		{ "/with\"quote", false },
		{ "/with\\x2d", false },
		{ "/with\ttab", false },
		{ "/with$HOME", false },
		{ "/..a/b..", true },
	};
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		CHECK(unit_path_plain(cases[i].in) == cases[i].ok, "unit_path_plain(\"%s\")", cases[i].in);
}

static void test_specifiers(void) {
	_cleanup_free_ char *a = unit_escape_specifiers("100%i%%");
	_cleanup_free_ char *b = unit_escape_specifiers("");
	CHECK_STREQ(a, "100%%i%%%%", "escape_specifiers");
	CHECK_STREQ(b, "", "escape_specifiers empty");
}

static void test_exec_arg(void) {
	static const struct {
		const char *in;
		size_t max;
		const char *out;
	} cases[] = {
		{ "plain text: ok", 0, "\"plain text: ok\"" },
		{ "%i and %%", 0, "\"%%i and %%%%\"" },
		{ "$HOME ${X}", 0, "\"$$HOME $${X}\"" },
		{ "say \"hi\" \\ there", 0, "\"say \\\"hi\\\" \\\\ there\"" },
		{ "tab\there\nnl", 0, "\"tab\\x09here\\x0anl\"" },
		{ "\x7f\xc3\xa9", 0, "\"\\x7f\\xc3\\xa9\"" },
		{ "; rm -rf /", 0, "\"; rm -rf /\"" },
		{ "abcdef", 3, "\"abc\"" },
		{ "%%%%", 2, "\"%%%%\"" },
		{ "", 0, "\"\"" },
	};
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *q = unit_exec_arg_quote(cases[i].in, cases[i].max);
		CHECK_STREQ(q, cases[i].out, "case %zu", i);
	}
}

int main(void) {
	test_path_plain();
	test_specifiers();
	test_exec_arg();
	return test_done();
}
