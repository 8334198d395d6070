/* SPDX-License-Identifier: MIT */
#include "ini.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "util.h"

/* Checks the raw bytes of one line (without its line ending). Returns 0 or
 * the diag_error result for the first bad byte: one message per line. */
static int check_line_bytes(const char *path, unsigned lineno, const char *s, size_t n,
			    struct diag *d) {
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\0')
			return diag_error(d, path, lineno, "NUL byte in line");
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return diag_error(d, path, lineno, "control character 0x%02x in line", ch);
	}
	return 0;
}

static bool is_ws(char c) { return c == ' ' || c == '\t'; }

/* Handles one line that passed the byte checks; buf is a NUL-terminated
 * copy of it which this function may modify. */
static int handle_line(const char *path, unsigned lineno, char *buf, const struct ini_handler *h,
		       void *userdata, char *section, size_t section_size, bool *section_ok,
		       struct diag *d) {
	char *l = strip_ws(buf);
	char *eq, *key, *value;
	size_t n;

	if (*l == '\0' || *l == '#' || *l == ';')
		return 0;

	if (*l == '[') {
		int r;

		n = strlen(l);
		/* No inline comments: anything after ']' makes the header bad. */
		if (n < 3 || l[n - 1] != ']' || memchr(l + 1, ']', n - 2) || memchr(l + 1, '[', n - 2)) {
			*section_ok = false;
			section[0] = '\0';
			return diag_error(d, path, lineno, "invalid section header '%s'", l);
		}
		l[n - 1] = '\0';
		l++;
		for (const char *p = l; *p; p++)
			if (is_ws(*p)) {
				*section_ok = false;
				section[0] = '\0';
				return diag_error(d, path, lineno, "invalid section header '[%s]'", l);
			}
		if (strlen(l) >= section_size) {
			*section_ok = false;
			section[0] = '\0';
			return diag_error(d, path, lineno, "unknown section [%s]", l);
		}
		strcpy(section, l);
		r = h->section(userdata, section, lineno);
		*section_ok = r >= 0;
		if (r < 0)
			section[0] = '\0';
		return r;
	}

	eq = strchr(l, '=');
	if (!eq)
		return diag_error(d, path, lineno,
				  "expected 'Key=Value', a [Section] header or a comment");
	*eq = '\0';
	key = strip_ws(l);
	value = strip_ws(eq + 1);
	if (*key == '\0')
		return diag_error(d, path, lineno, "missing key before '='");
	if (section[0] == '\0') {
		/* Keys of a rejected section were already covered by its error. */
		if (*section_ok)
			return diag_error(d, path, lineno, "key '%s' before any section header", key);
		return 0;
	}
	return h->key_value(userdata, section, key, value, lineno);
}

int ini_parse(const char *path, const char *text, size_t len, size_t max_size,
	      const struct ini_handler *h, void *userdata, struct diag *d) {
	char buf[INI_LINE_MAX + 1];
	char section[64] = "";
	/* Before any header section_ok is true, so keys there are reported;
	 * after a rejected header it is false, so its keys are skipped. */
	bool section_ok = true, failed = false;
	size_t pos = 0;
	unsigned lineno = 0;

	if (len > max_size)
		return diag_error(d, path, 0, "file is larger than %zu bytes", max_size);

	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;

	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		int r;

		pos += n + (nl ? 1 : 0);
		lineno++;
		if (lineno == 0) /* wrapped: cannot happen under the size cap */
			return -E2BIG;
		/* CRLF: the CR belongs to the line ending, also on a last line. */
		if (n > 0 && start[n - 1] == '\r')
			n--;

		if (n > INI_LINE_MAX) {
			r = diag_error(d, path, lineno, "line longer than %d bytes", INI_LINE_MAX);
		} else {
			r = check_line_bytes(path, lineno, start, n, d);
			if (r == 0) {
				memcpy(buf, start, n);
				buf[n] = '\0';
				r = handle_line(path, lineno, buf, h, userdata, section, sizeof(section),
						&section_ok, d);
			}
		}
		if (r == -EINVAL)
			failed = true;
		else if (r < 0)
			return r;
	}
	return failed ? -EINVAL : 0;
}
