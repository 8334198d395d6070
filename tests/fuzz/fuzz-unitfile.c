/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the generator's escaping of text for unit files.
 *
 * Input: one byte giving a length limit (0: none), then the text. It checks
 * that unit_exec_arg_quote() gives one double-quoted word of printable
 * ASCII that systemd's reading (specifiers "%%", variables "$$", C escapes
 * inside quotes) turns back into exactly the text (cut at the limit), and
 * that unit_escape_specifiers() round-trips the same way. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unitfile.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hexval(char c) {
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* What systemd makes of one quoted Exec*= word, strictly: NULL if q is not
 * one. Specifiers and variables first ("%%" and "$$" are the only ones
 * allowed here), then the unquoting and C unescaping. */
static char *read_exec_word(const char *q) {
	size_t n = strlen(q);
	char *out, *o;

	if (n < 2 || q[0] != '"' || q[n - 1] != '"')
		return NULL;
	out = malloc(n);
	assert(out);
	o = out;
	for (size_t i = 1; i < n - 1; i++) {
		char c = q[i];

		assert(c >= 0x20 && c < 0x7f); /* printable ASCII only */
		if (c == '%' || c == '$') {
			assert(q[i + 1] == c); /* never a lone specifier or variable */
			*o++ = c;
			i++;
		} else if (c == '\\') {
			char e = q[i + 1];
			if (e == '\\' || e == '"') {
				*o++ = e;
				i++;
			} else {
				assert(e == 'x' && hexval(q[i + 2]) >= 0 && hexval(q[i + 3]) >= 0);
				*o++ = (char)(hexval(q[i + 2]) * 16 + hexval(q[i + 3]));
				i += 3;
			}
		} else {
			assert(c != '"'); /* the word ends only at the last quote */
			*o++ = c;
		}
	}
	*o = '\0';
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	size_t max, n;
	char *s, *q, *back, *spec;

	if (size < 1)
		return 0;
	max = data[0] % 64;
	s = strndup((const char *)data + 1, size - 1); /* up to a NUL byte */
	assert(s);
	n = strlen(s);

	q = unit_exec_arg_quote(s, max);
	assert(q);
	back = read_exec_word(q);
	assert(back);
	assert(strlen(back) == (max && n > max ? max : n));
	assert(memcmp(back, s, strlen(back)) == 0);

	spec = unit_escape_specifiers(s);
	assert(spec);
	for (size_t i = 0, j = 0; i <= n; i++, j++) {
		assert(spec[j] == s[i]);
		if (s[i] == '%')
			assert(spec[++j] == '%');
	}
	if (unit_path_plain(s))
		assert(s[0] == '/' && !strpbrk(s, " \t\n:%$\"'\\") && !strstr(s, "//") &&
		       !strstr(s, "/../") && !strstr(s, "/./"));

	free(spec);
	free(back);
	free(q);
	free(s);
	return 0;
}
