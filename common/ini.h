/* SPDX-License-Identifier: MIT */
/* A systemd-style ini tokenizer: "[Section]" headers, "Key=Value" lines,
 * whole-line '#' and ';' comments (no inline comments), blank lines.
 *
 * It checks the byte-level rules every ini file of this project shares (a
 * UTF-8 BOM at the start and CRLF endings accepted; NUL bytes, control
 * characters other than tab, over-long lines and over-large files rejected)
 * and hands each section and key to callbacks with line numbers. What the
 * sections and keys mean is the caller's business (config.c).
 *
 * Errors go to a struct diag as "file:line: message"; parsing continues past
 * a bad line, so one run reports every error in the file. */
#pragma once

#include <stddef.h>

#include "diag.h"

#define INI_LINE_MAX 4096 /* bytes of one line, without its line ending */

struct ini_handler {
	/* "[name]": return 0 to accept the section, or -EINVAL after recording
	 * a diag to reject it; the keys of a rejected section are skipped
	 * (not reported again). Any other negative errno aborts the parse. */
	int (*section)(void *userdata, const char *name, unsigned line);
	/* "Key=Value" inside an accepted section, key and value stripped of
	 * surrounding whitespace (the value may be empty). Return 0, -EINVAL
	 * after recording a diag (parsing continues), or another negative
	 * errno to abort. */
	int (*key_value)(void *userdata, const char *section, const char *key, const char *value,
			 unsigned line);
};

/* Tokenize text (len bytes; need not be NUL-terminated; may contain NUL
 * bytes, which are reported). path names the file in messages. A text
 * longer than max_size is one error and nothing is parsed.
 * Returns 0 when no line had an error, -EINVAL when any did (all recorded in
 * d), or another negative errno (-ENOMEM, or what a callback aborted with). */
int ini_parse(const char *path, const char *text, size_t len, size_t max_size,
	      const struct ini_handler *h, void *userdata, struct diag *d);
