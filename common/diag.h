/* SPDX-License-Identifier: MIT */
/* Diagnostics: parsers and validators never print. They append
 * "file:line: message" records here, and the program's boundary (main of each
 * binary) decides where they go (stderr, /dev/kmsg, a unit drop-in).
 *
 * A message must never contain key material: callers format only names,
 * numbers and their own words, never the value of a key field. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "util.h"

enum diag_level { DIAG_ERROR, DIAG_WARNING };

struct diag_entry {
	enum diag_level level;
	char *file;    /* may be NULL */
	unsigned line; /* 0 when the message is about the whole file */
	char *message;
};

struct diag {
	struct diag_entry *entries;
	size_t n;
	size_t n_errors;
};

/* Record a message. Returns -EINVAL for errors (so a parser can write
 * "return diag_error(...)"), 0 for warnings, -ENOMEM if recording failed. */
int diag_error(struct diag *d, const char *file, unsigned line, const char *fmt, ...) _printf_(4, 5);
int diag_warning(struct diag *d, const char *file, unsigned line, const char *fmt, ...) _printf_(4, 5);

/* "file:line: message", "file: message" or "message"; the caller frees. */
char *diag_format(const struct diag_entry *e);

/* Print every entry to f as "prefix: file:line: [warning: ]message\n". */
void diag_print(const struct diag *d, FILE *f, const char *prefix);

void diag_clear(struct diag *d);
