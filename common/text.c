/* SPDX-License-Identifier: MIT */
#include "text.h"

int text_append(struct text *t, const void *data, size_t n, size_t max) {
	if (max && t->len + n > max)
		return -EFBIG;
	if (t->len + n + 1 > t->cap) {
		size_t ncap = t->cap ? t->cap : 256;
		char *p;

		while (ncap < t->len + n + 1) {
			if (ncap > SIZE_MAX / 2)
				return -ENOMEM;
			ncap *= 2;
		}
		/* Not realloc: a secret's old buffer must be wiped, not just freed. */
		p = malloc(ncap);
		if (!p)
			return -ENOMEM;
		if (t->buf) {
			memcpy(p, t->buf, t->len);
			if (t->secret)
				explicit_wipe(t->buf, t->len);
			free(t->buf);
		}
		t->buf = p;
		t->cap = ncap;
	}
	memcpy(t->buf + t->len, data, n);
	t->len += n;
	t->buf[t->len] = '\0';
	return 0;
}

static ssize_t stream_write(void *cookie, const char *buf, size_t n) {
	if (text_append(cookie, buf, n, 0) < 0) {
		errno = ENOMEM;
		return -1;
	}
	return (ssize_t)n;
}

int text_open(struct text *t, bool secret) {
	cookie_io_functions_t io = { .write = stream_write };

	*t = (struct text){ .secret = secret };
	t->f = fopencookie(t, "w", io);
	if (!t->f)
		return -ENOMEM;
	/* No stdio buffer: it would be one more copy (of a key). */
	setvbuf(t->f, NULL, _IONBF, 0);
	return 0;
}

int text_finish(struct text *t) {
	FILE *f = TAKE_PTR(t->f);
	bool failed;

	if (!f)
		return 0;
	failed = ferror(f);
	return fclose(f) != 0 || failed ? -ENOMEM : 0;
}

void text_release(struct text *t) {
	if (t->f)
		fclose(t->f);
	if (t->buf && t->secret)
		explicit_wipe(t->buf, t->cap);
	free(t->buf);
	*t = (struct text){ 0 };
}

char *text_steal(struct text *t) {
	char *b;

	text_finish(t);
	b = TAKE_PTR(t->buf);
	text_release(t);
	return b;
}
