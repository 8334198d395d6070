/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the JSON reader (common/json.c), which reads
 * libnftables' counters. Arbitrary bytes go to json_parse; what parses is
 * written back out (every string escaped, numbers as their text) and must
 * parse again to the same tree; json_u64 agrees with parse_uint on every
 * number's text. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"
#include "text.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_string(FILE *f, const char *s) {
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == '"' || *p == '\\')
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	fputc('"', f);
}

static void write_json(FILE *f, const struct json *j) {
	switch (j->type) {
	case JSON_NULL: fputs("null", f); break;
	case JSON_TRUE: fputs("true", f); break;
	case JSON_FALSE: fputs("false", f); break;
	case JSON_NUMBER: fputs(j->text, f); break;
	case JSON_STRING: write_string(f, j->text); break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		fputc(j->type == JSON_ARRAY ? '[' : '{', f);
		for (size_t i = 0; i < j->n; i++) {
			if (i)
				fputc(',', f);
			if (j->type == JSON_OBJECT) {
				write_string(f, j->keys[i]);
				fputc(':', f);
			}
			write_json(f, &j->items[i]);
		}
		fputc(j->type == JSON_ARRAY ? ']' : '}', f);
		break;
	}
}

static bool same(const struct json *a, const struct json *b) {
	if (a->type != b->type || a->n != b->n || !a->text != !b->text || (a->text && !streq(a->text, b->text)))
		return false;
	for (size_t i = 0; i < a->n; i++)
		if ((a->type == JSON_OBJECT && !streq(a->keys[i], b->keys[i])) || !same(&a->items[i], &b->items[i]))
			return false;
	return true;
}

static void numbers(const struct json *j) {
	uint64_t a = 0, b = 0;

	if (j->type == JSON_NUMBER)
		assert((json_u64(j, &a) == 0) == (parse_uint(j->text, 0, UINT64_MAX, &b) == 0) && a == b);
	for (size_t i = 0; i < j->n; i++)
		numbers(&j->items[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	struct json *j = NULL, *k = NULL;
	_cleanup_(text_release) struct text t = { 0 };
	size_t at = 0;
	int r = json_parse((const char *)data, size, &j, &at);

	if (r < 0) {
		assert(!j && at <= size);
		return 0;
	}
	numbers(j);
	assert(text_open(&t, false) == 0);
	write_json(t.f, j);
	assert(text_finish(&t) == 0);
	assert(json_parse(t.buf, t.len, &k, NULL) == 0);
	assert(same(j, k));
	json_free(j);
	json_free(k);
	return 0;
}
