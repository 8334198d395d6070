/* SPDX-License-Identifier: MIT */
/* A small JSON reader (RFC 8259) for what libnftables prints with its JSON
 * output (nft -j): the named counters' values. Parses a whole text into a
 * tree; numbers are kept as their text, so a 64-bit counter is read back
 * exactly (json_u64) rather than through a double. Strict: one value, no
 * trailing text, no control characters in strings, no "\u0000", nesting at
 * most JSON_MAX_DEPTH deep. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 64

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	char *text;           /* STRING: the unescaped string (UTF-8); NUMBER: its text */
	struct json *items;   /* ARRAY: the elements; OBJECT: the members' values */
	char **keys;          /* OBJECT: the members' names (unescaped) */
	size_t n;             /* number of items (and keys) */
};

/* Parse len bytes of text into *out (the caller frees with json_free).
 * -EINVAL (with the byte offset of the error in *error_at when not NULL)
 * for anything that is not one JSON value, -ENOMEM. */
int json_parse(const char *text, size_t len, struct json **out, size_t *error_at);
void json_free(struct json *j);

/* The value of member key of an object (the first, should it repeat), or
 * NULL (also when j is NULL or no object). */
const struct json *json_get(const struct json *j, const char *key);
/* The string of a STRING value, or NULL. */
const char *json_str(const struct json *j);
/* A NUMBER that is a whole number from 0 to UINT64_MAX, written without
 * sign, fraction or exponent: 0; otherwise -EINVAL (-ERANGE past UINT64_MAX). */
int json_u64(const struct json *j, uint64_t *out);
