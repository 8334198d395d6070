/* SPDX-License-Identifier: MIT */
/* The one growing text buffer of both binaries: rendered unit files,
 * rulesets, run-directory records, captured output of a program. Written
 * with fprintf() through t->f (text_open) or appended to (text_append);
 * t->buf is NUL-terminated (NULL while empty), t->len excludes the NUL.
 *
 * A secret text (key material: the `wg setconf` input, `wg show dump`
 * output) wipes every buffer it leaves behind when it grows and when it is
 * released; stdio keeps no copy (the stream is unbuffered). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "util.h"

struct text {
	char *buf;
	size_t len;
	size_t cap;
	bool secret;
	FILE *f; /* while open for fprintf */
};

/* Open t (zeroed or released) for fprintf through t->f; t must stay where
 * it is until text_finish(). */
int text_open(struct text *t, bool secret);
/* Close t->f; t->buf and t->len are then the text. -ENOMEM when anything
 * written was lost. */
int text_finish(struct text *t);
/* Append n bytes (t need not be open). 0, -ENOMEM or -EFBIG past max
 * (0: no limit). */
int text_append(struct text *t, const void *data, size_t n, size_t max);
/* Close, wipe if secret, free; t is zeroed. */
void text_release(struct text *t);
/* Hand the buffer on (the caller frees it); t is released. */
char *text_steal(struct text *t);
