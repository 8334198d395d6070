/* SPDX-License-Identifier: MIT */
#include "json.h"

#include "text.h"
#include "util.h"

struct parser {
	const char *start, *p, *end;
	int error; /* -EINVAL or -ENOMEM, once failed */
};

static void json_clear(struct json *j) {
	free(j->text);
	for (size_t i = 0; i < j->n; i++) {
		json_clear(&j->items[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->items);
	free(j->keys);
	*j = (struct json){ 0 };
}

void json_free(struct json *j) {
	if (!j)
		return;
	json_clear(j);
	free(j);
}

static int fail(struct parser *ps, int error) {
	if (ps->error == 0)
		ps->error = error;
	return ps->error;
}

static void skip_ws(struct parser *ps) {
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static bool literal(struct parser *ps, const char *word) {
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return false;
	ps->p += n;
	return true;
}

static int hex4(struct parser *ps, unsigned *out) {
	unsigned v = 0;

	if (ps->end - ps->p < 4)
		return fail(ps, -EINVAL);
	for (int i = 0; i < 4; i++) {
		char c = *ps->p++;
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return fail(ps, -EINVAL);
	}
	*out = v;
	return 0;
}

/* One code point as UTF-8 into t. */
static int put_utf8(struct text *t, unsigned cp) {
	char b[4];
	size_t n;

	if (cp < 0x80)
		b[0] = (char)cp, n = 1;
	else if (cp < 0x800)
		b[0] = (char)(0xc0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	else if (cp < 0x10000)
		b[0] = (char)(0xe0 | cp >> 12), b[1] = (char)(0x80 | (cp >> 6 & 0x3f)),
		b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	else
		b[0] = (char)(0xf0 | cp >> 18), b[1] = (char)(0x80 | (cp >> 12 & 0x3f)),
		b[2] = (char)(0x80 | (cp >> 6 & 0x3f)), b[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	return text_append(t, b, n, 0);
}

/* A string, the opening quote next; *out is the unescaped text. */
static int parse_string(struct parser *ps, char **out) {
	_cleanup_(text_release) struct text t = { 0 };

	ps->p++; /* the quote */
	for (;;) {
		const char *run = ps->p;
		unsigned cp, lo;

		while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && (unsigned char)*ps->p >= 0x20)
			ps->p++;
		if (ps->p > run && text_append(&t, run, (size_t)(ps->p - run), 0) < 0)
			return fail(ps, -ENOMEM);
		if (ps->p >= ps->end || (unsigned char)*ps->p < 0x20)
			return fail(ps, -EINVAL);
		if (*ps->p++ == '"')
			break;
		if (ps->p >= ps->end)
			return fail(ps, -EINVAL);
		switch (*ps->p++) {
		case '"': cp = '"'; break;
		case '\\': cp = '\\'; break;
		case '/': cp = '/'; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (hex4(ps, &cp) < 0)
				return ps->error;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return fail(ps, -EINVAL); /* a lone low surrogate */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (!literal(ps, "\\u") || hex4(ps, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					return fail(ps, -EINVAL);
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp == 0)
				return fail(ps, -EINVAL); /* would cut the C string */
			break;
		default:
			return fail(ps, -EINVAL);
		}
		if (put_utf8(&t, cp) < 0)
			return fail(ps, -ENOMEM);
	}
	/* (An empty string too gets its buffer.) */
	if (text_append(&t, "", 0, 0) < 0)
		return fail(ps, -ENOMEM);
	*out = text_steal(&t);
	return 0;
}

static bool is_digit(const struct parser *ps) { return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9'; }

static int parse_number(struct parser *ps, struct json *j) {
	const char *s = ps->p;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (!is_digit(ps))
		return fail(ps, -EINVAL);
	if (*ps->p++ != '0')
		while (is_digit(ps))
			ps->p++;
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (!is_digit(ps))
			return fail(ps, -EINVAL);
		while (is_digit(ps))
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (!is_digit(ps))
			return fail(ps, -EINVAL);
		while (is_digit(ps))
			ps->p++;
	}
	j->type = JSON_NUMBER;
	if (!(j->text = strndup(s, (size_t)(ps->p - s))))
		return fail(ps, -ENOMEM);
	return 0;
}

static int parse_value(struct parser *ps, struct json *j, int depth);

/* The members of an object or the elements of an array, the bracket next. */
static int parse_container(struct parser *ps, struct json *j, int depth) {
	bool object = *ps->p == '{';
	char close = object ? '}' : ']';

	if (depth >= JSON_MAX_DEPTH)
		return fail(ps, -EINVAL);
	j->type = object ? JSON_OBJECT : JSON_ARRAY;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return 0;
	}
	for (;;) {
		struct json item = { 0 };
		_cleanup_free_ char *key = NULL;
		size_t n_keys = j->n;

		skip_ws(ps);
		if (object) {
			if (ps->p >= ps->end || *ps->p != '"')
				return fail(ps, -EINVAL);
			if (parse_string(ps, &key) < 0)
				return ps->error;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return fail(ps, -EINVAL);
			ps->p++;
		}
		if (parse_value(ps, &item, depth + 1) < 0) {
			json_clear(&item);
			return ps->error;
		}
		/* keys[] and items[] grow together: n counts both. */
		if ((object && array_append((void **)&j->keys, &n_keys, sizeof(key), &key) < 0) ||
		    ARRAY_APPEND(j->items, j->n, item) < 0) {
			json_clear(&item);
			return fail(ps, -ENOMEM);
		}
		key = NULL; /* j->keys[] has it */
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return 0;
		}
		return fail(ps, -EINVAL);
	}
}

static int parse_value(struct parser *ps, struct json *j, int depth) {
	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, -EINVAL);
	switch (*ps->p) {
	case '{':
	case '[':
		return parse_container(ps, j, depth);
	case '"':
		j->type = JSON_STRING;
		return parse_string(ps, &j->text);
	case 't':
		j->type = JSON_TRUE;
		return literal(ps, "true") ? 0 : fail(ps, -EINVAL);
	case 'f':
		j->type = JSON_FALSE;
		return literal(ps, "false") ? 0 : fail(ps, -EINVAL);
	case 'n':
		j->type = JSON_NULL;
		return literal(ps, "null") ? 0 : fail(ps, -EINVAL);
	default:
		return parse_number(ps, j);
	}
}

int json_parse(const char *text, size_t len, struct json **out, size_t *error_at) {
	struct parser ps = { .start = text, .p = text, .end = text + len };
	struct json *j = calloc(1, sizeof(*j));

	*out = NULL;
	if (!j)
		return -ENOMEM;
	if (parse_value(&ps, j, 0) == 0) {
		skip_ws(&ps);
		if (ps.p != ps.end)
			fail(&ps, -EINVAL);
	}
	if (ps.error < 0) {
		if (error_at)
			*error_at = (size_t)(ps.p - ps.start);
		json_free(j);
		return ps.error;
	}
	*out = j;
	return 0;
}

const struct json *json_get(const struct json *j, const char *key) {
	if (!j || j->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < j->n; i++)
		if (streq(j->keys[i], key))
			return &j->items[i];
	return NULL;
}

const char *json_str(const struct json *j) { return j && j->type == JSON_STRING ? j->text : NULL; }

int json_u64(const struct json *j, uint64_t *out) {
	if (!j || j->type != JSON_NUMBER)
		return -EINVAL;
	return parse_uint(j->text, 0, UINT64_MAX, out);
}
