/* SPDX-License-Identifier: MIT */
/* The generic ini tokenizer: what it hands to its callbacks (with line
 * numbers) and what it reports itself. */
#include "ini.h"
#include "test.h"
#include "util.h"

struct recorder {
	FILE *f;
	char *buf;
	size_t size;
	struct diag *d;
	const char *reject; /* a section name to reject */
	int abort_on_line;  /* return -ENOMEM from a key on this line */
};

static int rec_section(void *userdata, const char *name, unsigned line) {
	struct recorder *r = userdata;

	fprintf(r->f, "%u[%s]", line, name);
	if (r->reject && streq(name, r->reject))
		return diag_error(r->d, "t", line, "rejected");
	return 0;
}

static int rec_key(void *userdata, const char *section, const char *key, const char *value,
		   unsigned line) {
	struct recorder *r = userdata;

	fprintf(r->f, "%u%s.%s=<%s>", line, section, key, value);
	if ((int)line == r->abort_on_line)
		return -ENOMEM;
	if (streq(key, "Bad"))
		return diag_error(r->d, "t", line, "bad key");
	return 0;
}

static const struct ini_handler handler = { rec_section, rec_key };

static const struct {
	const char *text;
	size_t len; /* 0: strlen */
	const char *reject;
	int abort_on_line;
	int ret;
	size_t max; /* 0: large */
	const char *events;
	const char *msgs; /* joined by '|' */
} cases[] = {
	{ "", 0, NULL, 0, 0, 0, "", "" },
	{ "\xef\xbb\xbf", 0, NULL, 0, 0, 0, "", "" },
	{ "[A]\nk=v\n", 0, NULL, 0, 0, 0, "1[A]2A.k=<v>", "" },
	{ "\xef\xbb\xbf[A]\r\nk = v = w \r\n", 0, NULL, 0, 0, 0, "1[A]2A.k=<v = w>", "" },
	{ "[A]\nk=\n  k2  =\t x\t\n", 0, NULL, 0, 0, 0, "1[A]2A.k=<>3A.k2=<x>", "" },
	{ "# c\n; c\n\n  # c\n[A]\nk=v # not a comment\n", 0, NULL, 0, 0, 0, "5[A]6A.k=<v # not a comment>", "" },
	{ "k=v\n[A]\n", 0, NULL, 0, -EINVAL, 0, "2[A]", "t:1: key 'k' before any section header" },
	/* A rejected section's keys are skipped until the next header. */
	{ "[A]\na=1\n[B]\nb=1\n[A]\nc=1\n", 0, "B", 0, -EINVAL, 0, "1[A]2A.a=<1>3[B]5[A]6A.c=<1>", "t:3: rejected" },
	{ "[A\nk=v\n[B]\nk=v\n", 0, NULL, 0, -EINVAL, 0, "3[B]4B.k=<v>", "t:1: invalid section header '[A'" },
	/* Errors of callbacks and of the tokenizer interleave; parsing goes on. */
	{ "[A]\nBad=1\nnokey\nk=v\n", 0, NULL, 0, -EINVAL, 0, "1[A]2A.Bad=<1>4A.k=<v>",
	  "t:2: bad key|t:3: expected 'Key=Value', a [Section] header or a comment" },
	/* A callback's other errors abort at once. */
	{ "[A]\na=1\nb=2\nc=3\n", 0, NULL, 3, -ENOMEM, 0, "1[A]2A.a=<1>3A.b=<2>", "" },
	{ "[A]\na=\0\nb=2\n", 11, NULL, 0, -EINVAL, 0, "1[A]3A.b=<2>", "t:2: NUL byte in line" },
	{ "[A]\na=1\x01\n", 0, NULL, 0, -EINVAL, 0, "1[A]", "t:2: control character 0x01 in line" },
	{ "[A]\ta=1\n", 0, NULL, 0, -EINVAL, 0, "", "t:1: invalid section header '[A]\ta=1'" },
	{ "[A]\na=\tx\ty\t\n", 0, NULL, 0, 0, 0, "1[A]2A.a=<x\ty>", "" },
	/* The size cap: nothing parsed. */
	{ "[A]\na=1\n", 0, NULL, 0, -EINVAL, 4, "", "t: file is larger than 4 bytes" },
};

static void test_cases(void) {
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct diag d = { 0 };
		struct recorder rec = { .d = &d, .reject = cases[i].reject,
					.abort_on_line = cases[i].abort_on_line };
		_cleanup_free_ char *msgs = NULL;
		size_t msize = 0, len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		size_t max = cases[i].max ? cases[i].max : INI_LINE_MAX * 16;
		FILE *mf;
		int r;

		rec.f = open_memstream(&rec.buf, &rec.size);
		mf = open_memstream(&msgs, &msize);
		if (!rec.f || !mf)
			return;
		r = ini_parse("t", cases[i].text, len, max, &handler, &rec, &d);
		fclose(rec.f);
		for (size_t j = 0; j < d.n; j++) {
			_cleanup_free_ char *m = diag_format(&d.entries[j]);
			fprintf(mf, "%s%s", j ? "|" : "", m);
		}
		fclose(mf);
		CHECK(r == cases[i].ret, "case %zu: returned %d, want %d", i, r, cases[i].ret);
		CHECK_STREQ(rec.buf, cases[i].events, "case %zu events", i);
		CHECK_STREQ(msgs, cases[i].msgs, "case %zu messages", i);
		free(rec.buf);
		diag_clear(&d);
	}
}

static void test_line_length(void) {
	char *t = malloc(INI_LINE_MAX + 16);
	struct diag d = { 0 };
	struct recorder rec = { .d = &d };
	int r;

	if (!t)
		return;
	rec.f = open_memstream(&rec.buf, &rec.size);
	if (!rec.f) {
		free(t);
		return;
	}
	/* "[A]" then a line of exactly INI_LINE_MAX bytes, CRLF not counted. */
	memcpy(t, "[A]\nk=", 6);
	memset(t + 6, 'v', INI_LINE_MAX - 2);
	memcpy(t + 4 + INI_LINE_MAX, "\r\n", 2);
	r = ini_parse("t", t, 4 + INI_LINE_MAX + 2, 1 << 20, &handler, &rec, &d);
	CHECK(r == 0 && d.n == 0, "a line of %d bytes is fine (%d)", INI_LINE_MAX, r);
	/* One more byte: an error, and the line is not handed on. */
	t[4 + INI_LINE_MAX] = 'v';
	r = ini_parse("t", t, 4 + INI_LINE_MAX + 1, 1 << 20, &handler, &rec, &d);
	CHECK(r == -EINVAL && d.n == 1, "a longer line is an error (%d)", r);
	if (d.n == 1) {
		_cleanup_free_ char *m = diag_format(&d.entries[0]);
		CHECK_STREQ(m, "t:2: line longer than 4096 bytes", "long line");
	}
	fclose(rec.f);
	CHECK(rec.buf && strlen(rec.buf) < 2 * INI_LINE_MAX, "long value handed on only once");
	free(rec.buf);
	free(t);
	diag_clear(&d);
}

int main(void) {
	test_cases();
	test_line_length();
	return test_done();
}
