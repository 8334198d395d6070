/* SPDX-License-Identifier: MIT */
#include "unitfile.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

#define UNIT_PATH_MAX 1024

static bool path_char_plain(char c) {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '+' || c == '@' || c == '-' || c == '/';
}

bool unit_path_plain(const char *path) {
	size_t n;

	if (!path || path[0] != '/')
		return false;
	n = strlen(path);
	if (n > UNIT_PATH_MAX)
		return false;
	if (n > 1 && path[n - 1] == '/')
		return false;
	for (const char *p = path; *p; p++)
		if (!path_char_plain(*p))
			return false;
	/* Each component: not empty, not "." or "..". */
	for (const char *p = path; *p;) {
		const char *start = p + 1, *end = strchr(start, '/');
		size_t len = end ? (size_t)(end - start) : strlen(start);

		if (n == 1)
			break; /* "/" itself */
		if (len == 0 || (len == 1 && start[0] == '.') ||
		    (len == 2 && start[0] == '.' && start[1] == '.'))
			return false;
		p = start + len;
	}
	return true;
}

char *unit_escape_specifiers(const char *s) {
	size_t n = 0;
	char *out, *o;

	for (const char *p = s; *p; p++)
		n += *p == '%' ? 2 : 1;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	o = out;
	for (const char *p = s; *p; p++) {
		if (*p == '%')
			*o++ = '%';
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

char *unit_exec_arg_quote(const char *s, size_t max_len) {
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(s);
	char *out, *o;

	if (max_len && n > max_len)
		n = max_len;
	/* Worst case: every byte becomes "\xNN" (4 bytes), plus quotes. */
	out = malloc(n * 4 + 3);
	if (!out)
		return NULL;
	o = out;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%' || c == '$') {
			*o++ = (char)c; /* "%%" is a literal '%', "$$" a literal '$' */
			*o++ = (char)c;
		} else if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 0xf];
		} else {
			*o++ = (char)c;
		}
	}
	*o++ = '"';
	*o = '\0';
	return out;
}
