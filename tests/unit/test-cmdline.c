/* SPDX-License-Identifier: MIT */
/* PortForwardingHook='s splitter (common/cmdline.h): systemd's ExecStart=
 * word rules (the expectations below are what systemd 252's
 * extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE) gives), and every
 * refusal with its message. */
#include "cmdline.h"
#include "test.h"
#include "util.h"

/* The words joined with '|', bytes below 0x20 as <XX>. */
static void joined(const struct cmdline *c, char *out, size_t size) {
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < c->argc && n + 8 < size; i++) {
		if (i)
			out[n++] = '|';
		for (const unsigned char *p = (const unsigned char *)c->argv[i]; *p && n + 8 < size; p++)
			n += (size_t)(*p < 0x20 ? snprintf(out + n, size - n, "<%02X>", *p)
					       : snprintf(out + n, size - n, "%c", *p));
		out[n] = '\0';
	}
}

static const struct {
	const char *in, *want;
} good[] = {
	{ "/bin/true", "/bin/true" },
	{ "  /bin/echo   a\tb  ", "/bin/echo|a|b" },
	{ "/bin/echo \"a b\" 'c d'", "/bin/echo|a b|c d" },
	/* Quotes anywhere in a word, removed; the other kind kept inside. */
	{ "/bin/echo a\"b c\"d 'it\"s'", "/bin/echo|ab cd|it\"s" },
	{ "/bin/echo \"\" ''", "/bin/echo||" },
	/* C escapes, inside quotes too. */
	{ "/bin/echo a\\sb \"x\\ty\" '\\n' \\\\ \\\" \\'", "/bin/echo|a b|x<09>y|<0A>|\\|\"|'" },
	{ "/bin/echo \\x41\\102 \\a\\b\\f\\r\\v", "/bin/echo|AB|<07><08><0C><0D><0B>" },
	{ "/bin/echo \\; a;b", "/bin/echo|;|a;b" },
	{ "/bin/echo %% $$ $ a$ 100%%", "/bin/echo|%|$|$|a$|100%" },
	{ "/usr/share/vpn-confinement/transmission-port-hook --rpc http://127.0.0.1:9091/transmission/rpc",
	  "/usr/share/vpn-confinement/transmission-port-hook|--rpc|http://127.0.0.1:9091/transmission/rpc" },
	{ "/bin/sh -c 'echo \"$$1\" >/tmp/x' hook", "/bin/sh|-c|echo \"$1\" >/tmp/x|hook" },
};

static const struct {
	const char *in, *why;
} bad[] = {
	{ "", "no command" },
	{ "   ", "no command" },
	{ "echo hi", "the program must be an absolute path, not 'echo'" },
	{ "\"/bin/echo", "unbalanced quote (\")" },
	{ "/bin/echo 'a", "unbalanced quote (')" },
	{ "/bin/echo a\\", "trailing backslash" },
	{ "/bin/echo %n", "specifier %n is not supported (write %% for a %)" },
	{ "/bin/echo 50%", "a '%' at the end (write %% for a %)" },
	{ "/bin/echo $HOME", "environment variables ($H...) are not supported (write $$ for a $)" },
	{ "/bin/echo '${X}'", "environment variables (${...) are not supported (write $$ for a $)" },
	{ "/bin/a ; /bin/b", "';' (a second command) is not supported (write \\; for a ';')" },
	{ "-/bin/true", "the prefix '-' of ExecStart= is not supported" },
	{ "@/bin/true x", "the prefix '@' of ExecStart= is not supported" },
	{ "+/bin/true", "the prefix '+' of ExecStart= is not supported" },
	{ "!/bin/true", "the prefix '!' of ExecStart= is not supported" },
	{ ":/bin/true", "the prefix ':' of ExecStart= is not supported" },
	{ "/bin/echo \\q", "unknown escape \\q" },
	{ "/bin/echo \\ x", "unknown escape: a backslash before byte 0x20" },
	{ "/bin/echo \\u00e9", "\\u escapes are not supported (write the UTF-8 bytes, or \\xHH)" },
	{ "/bin/echo \\U0001F600", "\\U escapes are not supported (write the UTF-8 bytes, or \\xHH)" },
	{ "/bin/echo \\x4", "\\x needs two hex digits" },
	{ "/bin/echo \\x00", "an escape may not make a NUL byte" },
	{ "/bin/echo \\000", "an escape may not make a NUL byte" },
	{ "/bin/echo \\12", "an octal escape needs three digits (\\NNN)" },
	{ "/bin/echo \\777", "octal escape \\777 is more than a byte" },
};

static void test_good(void) {
	for (size_t i = 0; i < ELEMENTSOF(good); i++) {
		struct cmdline c;
		char why[CMDLINE_WHY_MAX], got[512];
		int r = cmdline_split(good[i].in, &c, why);

		CHECK(r == 0, "split '%s': %d %s", good[i].in, r, why);
		if (r < 0)
			continue;
		joined(&c, got, sizeof(got));
		CHECK_STREQ(got, good[i].want, "split '%s'", good[i].in);
		CHECK(c.argv[c.argc] == NULL, "argv of '%s' is NULL-terminated", good[i].in);
		cmdline_clear(&c);
	}
}

static void test_bad(void) {
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		struct cmdline c;
		char why[CMDLINE_WHY_MAX];
		int r = cmdline_split(bad[i].in, &c, why);

		CHECK(r == -EINVAL, "'%s' refused: %d", bad[i].in, r);
		CHECK_STREQ(why, bad[i].why, "message for '%s'", bad[i].in);
		CHECK(c.argc == 0 && c.argv == NULL, "nothing left of '%s'", bad[i].in);
		cmdline_clear(&c);
	}
}

static void test_limits(void) {
	char *s = malloc(2 * (CMDLINE_MAX_WORDS + 2) + 16);
	struct cmdline c;
	char why[CMDLINE_WHY_MAX];
	size_t n = 0;

	if (!s)
		return;
	n += (size_t)sprintf(s, "/x");
	for (int i = 1; i < CMDLINE_MAX_WORDS; i++)
		n += (size_t)sprintf(s + n, " a");
	CHECK(cmdline_split(s, &c, why) == 0 && c.argc == CMDLINE_MAX_WORDS, "%d words", CMDLINE_MAX_WORDS);
	cmdline_clear(&c);
	sprintf(s + n, " a");
	CHECK(cmdline_split(s, &c, why) == -EINVAL, "one word more is refused");
	CHECK_STREQ(why, "more than 256 words", "its message");
	free(s);
}

int main(void) {
	test_good();
	test_bad();
	test_limits();
	return test_done();
}
