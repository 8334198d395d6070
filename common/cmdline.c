/* SPDX-License-Identifier: MIT */
#include "cmdline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

void cmdline_clear(struct cmdline *c) {
	strv_free(c->argv, c->argc);
	*c = (struct cmdline){ 0 };
}

static int why_set(char why[static CMDLINE_WHY_MAX], const char *fmt, ...) _printf_(2, 3);
static int why_set(char why[static CMDLINE_WHY_MAX], const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, CMDLINE_WHY_MAX, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int hexval(char c) {
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One escape after a backslash at *p (which points past it): the byte into
 * *out, *p moved past the escape. */
static int unescape_one(const char **p, char *out, char why[static CMDLINE_WHY_MAX]) {
	static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\\"\"''s ;;";
	const char *s = *p;
	unsigned v;

	if (*s == '\0')
		return why_set(why, "trailing backslash");
	for (const char *m = simple; *m; m += 2)
		if (*s == m[0]) {
			*out = m[1];
			*p = s + 1;
			return 0;
		}
	if (*s == 'x') {
		int a = hexval(s[1]), b = a < 0 ? -1 : hexval(s[2]);
		if (a < 0 || b < 0)
			return why_set(why, "\\x needs two hex digits");
		v = (unsigned)(a * 16 + b);
		*p = s + 3;
	} else if (*s >= '0' && *s <= '7') {
		if (!(s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7'))
			return why_set(why, "an octal escape needs three digits (\\NNN)");
		v = (unsigned)((s[0] - '0') * 64 + (s[1] - '0') * 8 + (s[2] - '0'));
		if (v > 255)
			return why_set(why, "octal escape \\%.3s is more than a byte", s);
		*p = s + 3;
	} else if (*s == 'u' || *s == 'U')
		return why_set(why, "\\%c escapes are not supported (write the UTF-8 bytes, or \\xHH)", *s);
	else if ((unsigned char)*s > 0x20 && (unsigned char)*s < 0x7f)
		return why_set(why, "unknown escape \\%c", *s);
	else
		return why_set(why, "unknown escape: a backslash before byte 0x%02x", (unsigned char)*s);
	if (v == 0)
		return why_set(why, "an escape may not make a NUL byte");
	*out = (char)v;
	return 0;
}

static bool is_sep(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static bool env_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '{'; }

/* One word from *p (past separators); *word gets it, *p moves past it. */
static int next_word(const char **p, bool first, char *buf, char why[static CMDLINE_WHY_MAX]) {
	const char *s = *p;
	size_t n = 0;
	char quote = 0;

	if (first && strchr("-@+!:", *s))
		return why_set(why, "the prefix '%c' of ExecStart= is not supported", *s);
	if (*s == ';' && (s[1] == '\0' || is_sep(s[1])))
		return why_set(why, "';' (a second command) is not supported (write \\; for a ';')");
	for (;;) {
		char c = *s;

		if (c == '\0') {
			if (quote)
				return why_set(why, "unbalanced quote (%c)", quote);
			break;
		}
		if (!quote && is_sep(c))
			break;
		s++;
		if (c == quote) {
			quote = 0;
			continue;
		}
		if (!quote && (c == '"' || c == '\'')) {
			quote = c;
			continue;
		}
		if (c == '\\') {
			int r = unescape_one(&s, &buf[n], why);
			if (r < 0)
				return r;
			n++;
			continue;
		}
		if (c == '%') {
			if (*s == '\0')
				return why_set(why, "a '%%' at the end (write %%%% for a %%)");
			if (*s != '%')
				return why_set(why, "specifier %%%c is not supported (write %%%% for a %%)", *s);
			s++;
		} else if (c == '$') {
			if (*s == '$')
				s++;
			else if (env_name_start(*s))
				return why_set(why, "environment variables ($%c...) are not supported (write $$ for a $)", *s);
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	*p = s;
	return 0;
}

int cmdline_split(const char *s, struct cmdline *out, char why[static CMDLINE_WHY_MAX]) {
	_cleanup_(cmdline_clear) struct cmdline c = { 0 };
	_cleanup_free_ char *buf = malloc(strlen(s) + 1);

	*out = (struct cmdline){ 0 };
	why[0] = '\0';
	if (!buf)
		return -ENOMEM;
	for (;;) {
		char *word;
		int r;

		while (is_sep(*s))
			s++;
		if (*s == '\0')
			break;
		if (c.argc == CMDLINE_MAX_WORDS)
			return why_set(why, "more than %d words", CMDLINE_MAX_WORDS);
		r = next_word(&s, c.argc == 0, buf, why);
		if (r < 0)
			return r;
		word = strdup(buf);
		if (!word || ARRAY_APPEND(c.argv, c.argc, word) < 0) {
			free(word);
			return -ENOMEM;
		}
	}
	if (c.argc == 0)
		return why_set(why, "no command");
	if (c.argv[0][0] != '/')
		return why_set(why, "the program must be an absolute path, not '%.60s'", c.argv[0]);
	{
		char *null = NULL;
		if (ARRAY_APPEND(c.argv, c.argc, null) < 0)
			return -ENOMEM;
		c.argc--; /* the terminator is not a word */
	}
	*out = c;
	c = (struct cmdline){ 0 };
	return 0;
}
