/* SPDX-License-Identifier: MIT */
#include "diag.h"

#include <stdio.h>

_printf_(5, 0) static int diag_add(struct diag *d, enum diag_level level, const char *file,
				   unsigned line, const char *fmt, va_list ap) {
	struct diag_entry e = { .level = level, .line = line };

	if (vasprintf(&e.message, fmt, ap) < 0)
		return -ENOMEM;
	if (file) {
		e.file = strdup(file);
		if (!e.file) {
			free(e.message);
			return -ENOMEM;
		}
	}
	if (ARRAY_APPEND(d->entries, d->n, e) < 0) {
		free(e.file);
		free(e.message);
		return -ENOMEM;
	}
	if (level == DIAG_ERROR)
		d->n_errors++;
	return 0;
}

int diag_error(struct diag *d, const char *file, unsigned line, const char *fmt, ...) {
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = diag_add(d, DIAG_ERROR, file, line, fmt, ap);
	va_end(ap);
	return r < 0 ? r : -EINVAL;
}

int diag_warning(struct diag *d, const char *file, unsigned line, const char *fmt, ...) {
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = diag_add(d, DIAG_WARNING, file, line, fmt, ap);
	va_end(ap);
	return r;
}

char *diag_format(const struct diag_entry *e) {
	char *s = NULL;
	const char *w = e->level == DIAG_WARNING ? "warning: " : "";
	int r;

	if (e->file && e->line)
		r = asprintf(&s, "%s:%u: %s%s", e->file, e->line, w, e->message);
	else if (e->file)
		r = asprintf(&s, "%s: %s%s", e->file, w, e->message);
	else
		r = asprintf(&s, "%s%s", w, e->message);
	return r < 0 ? NULL : s;
}

void diag_print(const struct diag *d, FILE *f, const char *prefix) {
	for (size_t i = 0; i < d->n; i++) {
		_cleanup_free_ char *s = diag_format(&d->entries[i]);
		fprintf(f, "%s%s%s\n", prefix ? prefix : "", prefix ? ": " : "",
			s ? s : d->entries[i].message);
	}
}

void diag_clear(struct diag *d) {
	for (size_t i = 0; i < d->n; i++) {
		free(d->entries[i].file);
		free(d->entries[i].message);
	}
	free(d->entries);
	*d = (struct diag){ 0 };
}
