/* SPDX-License-Identifier: MIT */
/* The strict wg-quick(8) config parser. Line handling follows wg(8) (text
 * after '#' is a comment; wg-native values lose all whitespace) and
 * wg-quick(8) (Address/DNS split on commas and blanks), but everything that
 * wg or wg-quick would accept with a surprise is an error here. Messages name
 * keys and lines, and quote input only when it cannot be key material. */
#include "wgconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <strings.h>
#include <sys/stat.h>

#include "util.h"

enum section { SECTION_NONE, SECTION_INTERFACE, SECTION_PEER, SECTION_SKIP };

enum key_id {
	KEY_PRIVATE_KEY,
	KEY_LISTEN_PORT,
	KEY_FWMARK,
	KEY_ADDRESS,
	KEY_DNS,
	KEY_MTU,
	KEY_TABLE,
	KEY_SAVE_CONFIG,
	KEY_PUBLIC_KEY,
	KEY_PRESHARED_KEY,
	KEY_ALLOWED_IPS,
	KEY_ENDPOINT,
	KEY_PERSISTENT_KEEPALIVE,
	_KEY_MAX,
};

struct parse_ctx {
	struct wg_config *c;
	struct diag *d;
	const char *path;
	unsigned line;
	enum section section;
	unsigned interface_line; /* line of [Interface], 0 before it */
	unsigned seen[_KEY_MAX];  /* line where a singleton was set */
};

struct key_def {
	const char *name;
	enum section section;
	bool singleton;
	/* wg(8) drops every blank inside the value of its own keys; wg-quick's
	 * keys are only trimmed. */
	bool wg_native;
	int (*parse)(struct parse_ctx *p, char *value);
};

/* ---- characters, quoting ---- */

static bool is_blank(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_base64_char(unsigned char c) {
	return is_alpha(c) || is_digit(c) || c == '+' || c == '/' || c == '=';
}

/* Delete every blank, as wg(8) does with each line. */
static void remove_blanks(char *s) {
	char *w = s;

	for (; *s; s++)
		if (!is_blank((unsigned char)*s))
			*w++ = *s;
	*w = '\0';
}

static bool has_blank(const char *s) {
	for (; *s; s++)
		if (is_blank((unsigned char)*s))
			return true;
	return false;
}

/* Whether input text may be quoted in a message: short printable ASCII with
 * no run of 8 base64 characters, so no key or any real part of one can
 * appear, whatever field it was (mis)placed in. */
static bool quotable(const char *s) {
	size_t run = 0, n = 0;

	for (; *s; s++, n++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c >= 0x7f || c == '\'' || n >= 64)
			return false;
		if (is_base64_char(c)) {
			if (++run >= 8)
				return false;
		} else {
			run = 0;
		}
	}
	return n > 0;
}

/* Key and section names are quoted when they are plain words: a key text
 * (43 base64 characters before its '=') never is one. */
static bool quotable_name(const char *s) {
	size_t n = 0;

	for (; *s; s++, n++)
		if (!is_alpha((unsigned char)*s) || n >= 24)
			return false;
	return n > 0;
}

/* " 'text'" when text is safe to show, else "". */
static const char *quote_or_empty(const char *s, char *buf, size_t size) {
	if (!quotable(s))
		return "";
	snprintf(buf, size, " '%s'", s);
	return buf;
}

static const char *section_name(enum section s) {
	return s == SECTION_PEER ? "[Peer]" : "[Interface]";
}

/* ---- keys (base64, strict, without data-dependent branches) ---- */

/* All ones when lo <= c <= hi, else 0. */
static inline unsigned range_mask(unsigned c, unsigned lo, unsigned hi) {
	return 0U - (unsigned)((c - lo) <= (hi - lo));
}

/* The 6-bit value of a base64 character; *bad gets all ones when c is not
 * one. */
static inline unsigned base64_value(unsigned char ch, unsigned *bad) {
	unsigned c = ch;
	unsigned upper = range_mask(c, 'A', 'Z'), lower = range_mask(c, 'a', 'z');
	unsigned digit = range_mask(c, '0', '9');
	unsigned plus = range_mask(c, '+', '+'), slash = range_mask(c, '/', '/');

	*bad |= ~(upper | lower | digit | plus | slash);
	return (upper & (c - 'A')) | (lower & (c - 'a' + 26)) | (digit & (c - '0' + 52)) |
	       (plus & 62U) | (slash & 63U);
}

static inline char base64_char(unsigned v) {
	/* v in 0..63: shift 'A'+v into the right range without a lookup. */
	unsigned c = 'A' + v;
	c += range_mask(v, 26, 63) & 6U;           /* 'a'..'z' */
	c -= range_mask(v, 52, 63) & 75U;          /* '0'..'9' */
	c -= range_mask(v, 62, 63) & 15U;          /* '+' */
	c += range_mask(v, 63, 63) & 3U;           /* '/' */
	return (char)c;
}

int wg_key_from_base64(uint8_t key[WG_KEY_LEN], const char *s) {
	uint8_t out[WG_KEY_LEN];
	unsigned bad = 0, acc = 0, bits = 0;
	size_t o = 0;

	/* 32 bytes are 43 characters of data and one '='. */
	if (strlen(s) != WG_KEY_B64_LEN || s[WG_KEY_B64_LEN - 1] != '=')
		return -EINVAL;
	for (size_t i = 0; i < WG_KEY_B64_LEN - 1; i++) {
		acc = (acc << 6) | base64_value((unsigned char)s[i], &bad);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1U << bits) - 1;
		}
	}
	/* Strict: the two bits left over must be zero (one text per key). */
	bad |= 0U - (unsigned)(acc != 0);
	if (bad) {
		explicit_wipe(out, sizeof(out));
		return -EINVAL;
	}
	memcpy(key, out, WG_KEY_LEN);
	explicit_wipe(out, sizeof(out));
	return 0;
}

void wg_key_to_base64(char out[WG_KEY_B64_LEN + 1], const uint8_t key[WG_KEY_LEN]) {
	unsigned acc = 0, bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < WG_KEY_LEN; i++) {
		acc = (acc << 8) | key[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = base64_char((acc >> bits) & 63U);
		}
		acc &= (1U << bits) - 1;
	}
	out[o++] = base64_char((acc << (6 - bits)) & 63U); /* bits == 4 here */
	out[o++] = '=';
	out[o] = '\0';
}

static bool key_is_zero(const uint8_t key[WG_KEY_LEN]) {
	uint8_t acc = 0;

	for (size_t i = 0; i < WG_KEY_LEN; i++)
		acc |= key[i];
	return acc == 0;
}

/* ---- value parsers ---- */

/* Strict LDH host name: labels of letters, digits and '-', 1..63 long, not
 * starting or ending with '-', at most 253 in all; the last label starts with
 * a letter, so that nothing inet_aton() would read as an address ("1.2.3",
 * "0x7f000001") passes as a name. */
static bool hostname_valid(const char *s) {
	size_t total = strlen(s), label = 0;
	const char *last = s;

	if (total == 0 || total > 253)
		return false;
	for (const char *p = s;; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || p[-1] == '-')
				return false;
			if (c == '\0')
				break;
			label = 0;
			last = p + 1;
			continue;
		}
		if (!is_alpha(c) && !is_digit(c) && c != '-')
			return false;
		if (label == 0 && c == '-')
			return false;
		label++;
	}
	return is_alpha((unsigned char)*last);
}

static int parse_key_value(struct parse_ctx *p, const char *name, const char *value,
			   uint8_t key[WG_KEY_LEN], bool allow_zero) {
	if (wg_key_from_base64(key, value) < 0)
		return diag_error(p->d, p->path, p->line,
				  "%s is not a valid key (44 characters of base64 ending in '=', "
				  "decoding to 32 bytes)", name);
	if (!allow_zero && key_is_zero(key))
		return diag_error(p->d, p->path, p->line, "%s is all zeros", name);
	return 0;
}

static int parse_private_key(struct parse_ctx *p, char *value) {
	return parse_key_value(p, "PrivateKey", value, p->c->private_key, false);
}

static struct wg_peer *current_peer(struct parse_ctx *p) {
	return &p->c->peers[p->c->n_peers - 1];
}

static int parse_public_key(struct parse_ctx *p, char *value) {
	return parse_key_value(p, "PublicKey", value, current_peer(p)->public_key, false);
}

static int parse_preshared_key(struct parse_ctx *p, char *value) {
	struct wg_peer *peer = current_peer(p);
	int r = parse_key_value(p, "PresharedKey", value, peer->preshared_key, true);

	if (r < 0)
		return r;
	peer->has_preshared_key = true;
	return 0;
}

static int parse_listen_port(struct parse_ctx *p, char *value) {
	uint64_t v;

	if (parse_uint(value, 0, 65535, &v) < 0)
		return diag_error(p->d, p->path, p->line,
				  "ListenPort must be a number from 0 to 65535");
	p->c->has_listen_port = true;
	p->c->listen_port = (uint16_t)v;
	return 0;
}

static int parse_hex_u32(const char *s, uint32_t *out) {
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		unsigned d;
		if (is_digit(c))
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		v = v * 16 + d;
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_fwmark(struct parse_ctx *p, char *value) {
	uint64_t v;
	uint32_t hex;

	/* As wg(8): "off", decimal, or hex with a lowercase "0x". */
	if (strcasecmp(value, "off") == 0) {
		p->c->fwmark = 0;
	} else if (strncmp(value, "0x", 2) == 0) {
		if (parse_hex_u32(value + 2, &hex) < 0)
			goto bad;
		p->c->fwmark = hex;
	} else if (parse_uint(value, 0, UINT32_MAX, &v) == 0) {
		p->c->fwmark = (uint32_t)v;
	} else {
		goto bad;
	}
	p->c->has_fwmark = true;
	return 0;
bad:
	return diag_error(p->d, p->path, p->line,
			  "FwMark must be off or a number from 0 to 0xffffffff");
}

static int parse_mtu(struct parse_ctx *p, char *value) {
	uint64_t v;

	if (parse_uint(value, 576, 65535, &v) < 0)
		return diag_error(p->d, p->path, p->line, "MTU must be a number from 576 to 65535");
	p->c->has_mtu = true;
	p->c->mtu = (uint32_t)v;
	return 0;
}

static int parse_table(struct parse_ctx *p, char *value) {
	uint64_t v;

	/* wg-quick compares these case-sensitively. Table names from
	 * rt_tables are not supported: a number says what it means. */
	if (streq(value, "off")) {
		p->c->table_mode = WG_TABLE_OFF;
	} else if (streq(value, "auto")) {
		p->c->table_mode = WG_TABLE_AUTO;
	} else if (parse_uint(value, 1, UINT32_MAX, &v) == 0) {
		p->c->table_mode = WG_TABLE_ID;
		p->c->table_id = (uint32_t)v;
	} else {
		return diag_error(p->d, p->path, p->line,
				  "Table must be off, auto or a routing table number from 1 to 4294967295");
	}
	return 0;
}

static int parse_save_config(struct parse_ctx *p, char *value) {
	/* wg-quick's read_bool, matched case-insensitively. */
	if (strcasecmp(value, "false") == 0)
		return 0;
	if (strcasecmp(value, "true") == 0)
		return diag_error(p->d, p->path, p->line,
				  "SaveConfig = true makes wg-quick run shell code to rewrite this file "
				  "and is refused");
	return diag_error(p->d, p->path, p->line, "SaveConfig must be true or false");
}

/* Call fn on each element of a wg-quick list: comma-separated, and within an
 * element blank-separated words count as elements too (wg-quick word-splits
 * them). Empty elements between commas are errors. */
static int for_each_list_word(struct parse_ctx *p, const char *name, char *value,
			      int (*fn)(struct parse_ctx *p, char *word)) {
	char *rest = value, *elem;
	int ret = 0;

	if (!*value)
		return diag_error(p->d, p->path, p->line, "%s is empty", name);
	while ((elem = strsep(&rest, ","))) {
		char *words = strip_ws(elem), *word;
		if (!*words) {
			ret = diag_error(p->d, p->path, p->line, "%s has an empty entry", name);
			continue;
		}
		while ((word = strsep(&words, " \t\r\n\v\f"))) {
			int r;
			if (!*word)
				continue;
			r = fn(p, word);
			if (r == -ENOMEM)
				return r;
			if (r < 0)
				ret = r;
		}
	}
	return ret;
}

static int add_address(struct parse_ctx *p, char *word) {
	struct ipnet n;
	char q[80];

	if (ipnet_parse(word, true, &n) < 0)
		return diag_error(p->d, p->path, p->line,
				  "Address%s is not an IPv4 or IPv6 address with an optional /prefix",
				  quote_or_empty(word, q, sizeof(q)));
	return ARRAY_APPEND(p->c->addresses, p->c->n_addresses, n);
}

static int parse_address(struct parse_ctx *p, char *value) {
	return for_each_list_word(p, "Address", value, add_address);
}

static int add_dns(struct parse_ctx *p, char *word) {
	struct ipaddr a;
	char q[80], *copy;
	bool ip_like = word[strspn(word, "0123456789.")] == '\0' || strchr(word, ':');

	if (ipaddr_parse(word, &a) == 0)
		return ARRAY_APPEND(p->c->dns, p->c->n_dns, a);
	/* wg-quick's own rule for "is this a server address". */
	if (ip_like)
		return diag_error(p->d, p->path, p->line, "DNS%s is not a valid IP address",
				  quote_or_empty(word, q, sizeof(q)));
	if (!hostname_valid(word))
		return diag_error(p->d, p->path, p->line,
				  "DNS%s is neither an IP address nor a valid search domain",
				  quote_or_empty(word, q, sizeof(q)));
	copy = strdup(word);
	if (!copy)
		return -ENOMEM;
	if (ARRAY_APPEND(p->c->dns_search, p->c->n_dns_search, copy) < 0) {
		free(copy);
		return -ENOMEM;
	}
	return 0;
}

static int parse_dns(struct parse_ctx *p, char *value) {
	return for_each_list_word(p, "DNS", value, add_dns);
}

static int parse_allowed_ips(struct parse_ctx *p, char *value) {
	struct wg_peer *peer = current_peer(p);
	char *rest = value, *elem;
	int ret = 0;

	/* wg(8) refuses every empty value ("Line unrecognized"). */
	if (!*value)
		return diag_error(p->d, p->path, p->line, "AllowedIPs is empty");
	while ((elem = strsep(&rest, ","))) {
		struct ipnet n;
		char q[80], buf[IPNET_STRLEN];

		if (!*elem) {
			ret = diag_error(p->d, p->path, p->line, "AllowedIPs has an empty entry");
			continue;
		}
		if (elem[0] == '+' || elem[0] == '-') {
			ret = diag_error(p->d, p->path, p->line,
					 "AllowedIPs entries may not start with '+' or '-' "
					 "(incremental changes have no meaning in a config file)");
			continue;
		}
		if (ipnet_parse(elem, true, &n) < 0) {
			ret = diag_error(p->d, p->path, p->line,
					 "AllowedIPs%s is not an IPv4 or IPv6 prefix",
					 quote_or_empty(elem, q, sizeof(q)));
			continue;
		}
		if (!ipnet_is_network(&n)) {
			struct ipnet net = ipnet_network(&n);
			/* wg(8) warns too; the kernel masks the host bits. */
			if (diag_warning(p->d, p->path, p->line,
					 "AllowedIPs %s has host bits set; WireGuard uses %s",
					 ipnet_str(&n, q), ipnet_str(&net, buf)) < 0)
				return -ENOMEM;
		}
		if (ARRAY_APPEND(peer->allowed_ips, peer->n_allowed_ips, n) < 0)
			return -ENOMEM;
	}
	return ret;
}

static int parse_endpoint(struct parse_ctx *p, char *value) {
	struct wg_peer *peer = current_peer(p);
	char *host, *port, q[80];
	struct ipaddr a;
	uint64_t v;

	if (value[0] == '[') {
		char *close = strchr(value, ']');
		if (!close || close[1] != ':')
			return diag_error(p->d, p->path, p->line,
					  "Endpoint must be [IPv6 address]:port, e.g. [2001:db8::1]:51820");
		*close = '\0';
		host = value + 1;
		port = close + 2;
		if (ipaddr_parse(host, &a) < 0 || a.family != AF_INET6)
			return diag_error(p->d, p->path, p->line,
					  "Endpoint%s in brackets is not an IPv6 address",
					  quote_or_empty(host, q, sizeof(q)));
	} else {
		port = strrchr(value, ':');
		if (!port)
			return diag_error(p->d, p->path, p->line,
					  "Endpoint has no port (expected host:port)");
		*port++ = '\0';
		host = value;
		if (strchr(host, ':'))
			return diag_error(p->d, p->path, p->line,
					  "Endpoint: an IPv6 address needs brackets, e.g. [2001:db8::1]:51820");
		if (ipaddr_parse(host, &a) < 0) {
			a.family = AF_UNSPEC;
			if (!hostname_valid(host))
				return diag_error(p->d, p->path, p->line,
						  "Endpoint%s is neither an IPv4 address nor a valid host name",
						  quote_or_empty(host, q, sizeof(q)));
		}
	}
	if (parse_uint(port, 1, 65535, &v) < 0)
		return diag_error(p->d, p->path, p->line,
				  "Endpoint port must be a number from 1 to 65535");

	free(peer->endpoint_host);
	if (a.family != AF_UNSPEC) {
		char buf[IPNET_STRLEN];
		peer->endpoint_host = strdup(ipaddr_str(&a, buf));
		peer->endpoint_is_ip = true;
		peer->endpoint_ip = a;
	} else {
		peer->endpoint_host = strdup(host);
		peer->endpoint_is_ip = false;
	}
	if (!peer->endpoint_host)
		return -ENOMEM;
	peer->has_endpoint = true;
	peer->endpoint_port = (uint16_t)v;
	return 0;
}

static int parse_keepalive(struct parse_ctx *p, char *value) {
	struct wg_peer *peer = current_peer(p);
	uint64_t v;

	if (strcasecmp(value, "off") == 0)
		v = 0;
	else if (parse_uint(value, 0, 65535, &v) < 0)
		return diag_error(p->d, p->path, p->line,
				  "PersistentKeepalive must be off or a number from 0 to 65535");
	peer->has_keepalive = true;
	peer->persistent_keepalive = (uint16_t)v;
	return 0;
}

static const struct key_def key_defs[_KEY_MAX] = {
	[KEY_PRIVATE_KEY] = { "PrivateKey", SECTION_INTERFACE, true, true, parse_private_key },
	[KEY_LISTEN_PORT] = { "ListenPort", SECTION_INTERFACE, true, true, parse_listen_port },
	[KEY_FWMARK] = { "FwMark", SECTION_INTERFACE, true, true, parse_fwmark },
	[KEY_ADDRESS] = { "Address", SECTION_INTERFACE, false, false, parse_address },
	[KEY_DNS] = { "DNS", SECTION_INTERFACE, false, false, parse_dns },
	[KEY_MTU] = { "MTU", SECTION_INTERFACE, true, false, parse_mtu },
	[KEY_TABLE] = { "Table", SECTION_INTERFACE, true, false, parse_table },
	[KEY_SAVE_CONFIG] = { "SaveConfig", SECTION_INTERFACE, true, false, parse_save_config },
	[KEY_PUBLIC_KEY] = { "PublicKey", SECTION_PEER, true, true, parse_public_key },
	[KEY_PRESHARED_KEY] = { "PresharedKey", SECTION_PEER, true, true, parse_preshared_key },
	[KEY_ALLOWED_IPS] = { "AllowedIPs", SECTION_PEER, false, true, parse_allowed_ips },
	[KEY_ENDPOINT] = { "Endpoint", SECTION_PEER, true, true, parse_endpoint },
	[KEY_PERSISTENT_KEEPALIVE] = { "PersistentKeepalive", SECTION_PEER, true, true, parse_keepalive },
};

static const char *const shell_hooks[] = { "PreUp", "PostUp", "PreDown", "PostDown" };

static int find_key(const char *name, enum section section) {
	for (int i = 0; i < _KEY_MAX; i++)
		if (key_defs[i].section == section && strcasecmp(key_defs[i].name, name) == 0)
			return i;
	return -1;
}

/* ---- lines ---- */

/* End of a [Peer] section: it must have had a PublicKey line. */
static int close_peer(struct parse_ctx *p) {
	if (p->section != SECTION_PEER || p->seen[KEY_PUBLIC_KEY])
		return 0;
	return diag_error(p->d, p->path, current_peer(p)->line, "[Peer] has no PublicKey");
}

static int parse_section_header(struct parse_ctx *p, char *s) {
	struct wg_config *c = p->c;
	bool had_blanks = has_blank(s);
	int r;

	r = close_peer(p);
	if (r == -ENOMEM)
		return r;
	remove_blanks(s); /* wg(8) reads "[ Peer ]" as "[Peer]" */
	if (strcasecmp(s, "[Interface]") == 0) {
		if (p->interface_line) {
			p->section = SECTION_SKIP;
			return diag_error(p->d, p->path, p->line,
					  "[Interface] given twice (first on line %u)", p->interface_line);
		}
		p->interface_line = p->line;
		p->section = SECTION_INTERFACE;
		/* wg-quick compares the whole trimmed line, so it would pass
		 * Address, DNS... on to wg, which refuses them. The keys are
		 * still read, for their own messages. */
		if (had_blanks)
			return diag_error(p->d, p->path, p->line,
					  "write the header as [Interface], without blanks inside "
					  "(wg-quick does not recognise it otherwise)");
		return 0;
	}
	if (strcasecmp(s, "[Peer]") == 0) {
		struct wg_peer peer = { .line = p->line };
		/* Peers hold preshared keys: no copy left in freed memory. */
		if (ARRAY_APPEND_WIPED(c->peers, c->n_peers, peer) < 0)
			return -ENOMEM;
		for (int i = 0; i < _KEY_MAX; i++)
			if (key_defs[i].section == SECTION_PEER)
				p->seen[i] = 0;
		p->section = SECTION_PEER;
		return 0;
	}
	p->section = SECTION_SKIP; /* its keys would only repeat the error */
	if (s[strlen(s) - 1] == ']') {
		s[strlen(s) - 1] = '\0';
		if (quotable_name(s + 1))
			return diag_error(p->d, p->path, p->line,
					  "unknown section [%s] (expected [Interface] or [Peer])", s + 1);
	}
	return diag_error(p->d, p->path, p->line,
			  "unknown section header (expected [Interface] or [Peer])");
}

static int parse_line(struct parse_ctx *p, char *line) {
	char *hash, *s, *eq, *key, *value;
	int id;

	/* wg and wg-quick both cut the line at the first '#'. */
	hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	for (const char *q = line; *q; q++) {
		unsigned char ch = (unsigned char)*q;
		if ((ch < ' ' && !is_blank(ch)) || ch == 0x7f)
			return diag_error(p->d, p->path, p->line, "line contains a control character");
	}
	s = strip_ws(line);
	if (!*s)
		return 0;
	if (s[0] == '[')
		return parse_section_header(p, s);

	eq = strchr(s, '=');
	if (!eq)
		return diag_error(p->d, p->path, p->line,
				  "line is neither a [Section] header nor Key = Value");
	*eq = '\0';
	key = strip_ws(s);
	value = strip_ws(eq + 1);
	if (!*key)
		return diag_error(p->d, p->path, p->line, "line has no key name before '='");
	if (has_blank(key))
		return diag_error(p->d, p->path, p->line, "key name contains blanks (expected Key = Value)");

	for (size_t i = 0; i < ELEMENTSOF(shell_hooks); i++)
		if (strcasecmp(key, shell_hooks[i]) == 0)
			return diag_error(p->d, p->path, p->line,
					  "%s runs shell code and is refused; run such commands from a "
					  "systemd unit instead", shell_hooks[i]);

	switch (p->section) {
	case SECTION_NONE:
		return diag_error(p->d, p->path, p->line,
				  "key outside of any section (expected [Interface] or [Peer] first)");
	case SECTION_SKIP:
		return 0;
	case SECTION_INTERFACE:
	case SECTION_PEER:
		break;
	}

	id = find_key(key, p->section);
	if (id < 0) {
		enum section other = p->section == SECTION_PEER ? SECTION_INTERFACE : SECTION_PEER;
		int o = find_key(key, other);
		if (o >= 0)
			return diag_error(p->d, p->path, p->line, "%s belongs in %s, not in %s",
					  key_defs[o].name, section_name(other), section_name(p->section));
		if (quotable_name(key))
			return diag_error(p->d, p->path, p->line, "unknown key '%s' in %s", key,
					  section_name(p->section));
		return diag_error(p->d, p->path, p->line, "unknown key in %s",
				  section_name(p->section));
	}
	if (key_defs[id].singleton && p->seen[id])
		return diag_error(p->d, p->path, p->line, "%s given twice (first on line %u)",
				  key_defs[id].name, p->seen[id]);
	if (!p->seen[id])
		p->seen[id] = p->line;
	if (key_defs[id].wg_native)
		remove_blanks(value);
	return key_defs[id].parse(p, value);
}

/* ---- whole-file checks ---- */

static int compare_peer_keys(const void *a, const void *b) {
	const struct wg_peer *x = *(const struct wg_peer *const *)a, *y = *(const struct wg_peer *const *)b;
	int r = memcmp(x->public_key, y->public_key, WG_KEY_LEN);

	if (r)
		return r;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int check_complete(struct parse_ctx *p) {
	struct wg_config *c = p->c;
	_cleanup_free_ struct wg_peer **sorted = NULL;
	int r;

	size_t n = 0;

	r = close_peer(p);
	if (r == -ENOMEM)
		return r;
	/* Missing pieces are reported only when no line tried to set them (a
	 * bad line was reported already). */
	if (!p->interface_line) {
		if (diag_error(p->d, p->path, 0, "no [Interface] section") == -ENOMEM)
			return -ENOMEM;
	} else {
		if (!p->seen[KEY_PRIVATE_KEY] &&
		    diag_error(p->d, p->path, 0, "[Interface] has no PrivateKey") == -ENOMEM)
			return -ENOMEM;
		if (!p->seen[KEY_ADDRESS] &&
		    diag_error(p->d, p->path, 0, "[Interface] has no Address") == -ENOMEM)
			return -ENOMEM;
		if (!p->seen[KEY_DNS] &&
		    diag_error(p->d, p->path, 0,
			       "[Interface] has no DNS (required: name lookups go only to the VPN's "
			       "DNS servers)") == -ENOMEM)
			return -ENOMEM;
		if (p->seen[KEY_DNS] && c->n_dns == 0 && c->n_dns_search > 0 &&
		    diag_error(p->d, p->path, p->seen[KEY_DNS],
			       "DNS names only search domains, no server address") == -ENOMEM)
			return -ENOMEM;
	}
	if (c->n_peers == 0 && diag_error(p->d, p->path, 0, "no [Peer] section") == -ENOMEM)
		return -ENOMEM;

	/* Sort to find two peers with one key, which wg would merge. */
	sorted = calloc(c->n_peers ? c->n_peers : 1, sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_peers; i++)
		if (!key_is_zero(c->peers[i].public_key))
			sorted[n++] = &c->peers[i];
	qsort(sorted, n, sizeof(*sorted), compare_peer_keys);
	for (size_t i = 1; i < n; i++)
		if (memcmp(sorted[i - 1]->public_key, sorted[i]->public_key, WG_KEY_LEN) == 0 &&
		    diag_error(p->d, p->path, sorted[i]->line,
			       "[Peer] has the same PublicKey as the [Peer] on line %u", sorted[i - 1]->line) == -ENOMEM)
			return -ENOMEM;
	return 0;
}

/* ---- API ---- */

/* A file that is not a wg-quick config at all would otherwise give one
 * message per line. */
#define MAX_ERRORS 50

void wg_config_free(struct wg_config *c) {
	if (!c)
		return;
	explicit_wipe(c->private_key, sizeof(c->private_key));
	for (size_t i = 0; i < c->n_peers; i++) {
		struct wg_peer *peer = &c->peers[i];
		explicit_wipe(peer->preshared_key, sizeof(peer->preshared_key));
		explicit_wipe(peer->public_key, sizeof(peer->public_key));
		free(peer->allowed_ips);
		free(peer->endpoint_host);
	}
	free(c->peers);
	for (size_t i = 0; i < c->n_dns_search; i++)
		free(c->dns_search[i]);
	free(c->dns_search);
	free(c->dns);
	free(c->addresses);
	free(c->path);
	explicit_wipe(c, sizeof(*c));
	free(c);
}

/* A heap line buffer that is wiped when dropped (lines hold keys). */
struct line_buf {
	char *p;
};
static void line_buf_release(struct line_buf *b) {
	if (b->p) {
		explicit_wipe(b->p, WGCONF_LINE_MAX + 1);
		free(b->p);
	}
}

int wgconf_parse(const char *path, const char *text, size_t len, struct wg_config **out,
		 struct diag *d) {
	_cleanup_(wg_config_freep) struct wg_config *c = NULL;
	_cleanup_(line_buf_release) struct line_buf buf = { NULL };
	struct parse_ctx p = { .d = d, .path = path };
	const char *pos = text, *end = text + len;
	size_t errors_before = d->n_errors;
	int r;

	*out = NULL;
	if (len > WGCONF_FILE_MAX)
		return diag_error(d, path, 0, "file is larger than %d bytes", WGCONF_FILE_MAX);

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->path = strdup(path);
	buf.p = malloc(WGCONF_LINE_MAX + 1);
	if (!c->path || !buf.p)
		return -ENOMEM;
	p.c = c;

	/* A UTF-8 byte order mark, as some Windows editors write. */
	if (len >= 3 && memcmp(pos, "\xef\xbb\xbf", 3) == 0)
		pos += 3;

	while (pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		size_t n = nl ? (size_t)(nl - pos) : (size_t)(end - pos);
		const char *line = pos;

		pos = nl ? nl + 1 : end;
		p.line++;
		if (n > WGCONF_LINE_MAX)
			r = diag_error(d, path, p.line, "line is longer than %d bytes", WGCONF_LINE_MAX);
		else if (memchr(line, '\0', n))
			r = diag_error(d, path, p.line, "line contains a NUL byte");
		else {
			memcpy(buf.p, line, n);
			buf.p[n] = '\0';
			r = parse_line(&p, buf.p);
		}
		if (r == -ENOMEM)
			return r;
		if (d->n_errors - errors_before >= MAX_ERRORS)
			return diag_error(d, path, p.line, "too many errors, not reading further");
	}

	r = check_complete(&p);
	if (r < 0)
		return r;
	if (d->n_errors > errors_before)
		return -EINVAL;
	*out = TAKE_PTR(c);
	return 0;
}

int wgconf_check_owner(const char *path, uid_t owner, struct diag *d) {
	_cleanup_free_ char *real = realpath(path, NULL);
	struct stat st;
	char *slash;
	int r;

	/* After the links (sops-nix and agenix paths are links): the file
	 * itself, then every directory above it, as OpenSSH's StrictModes. */
	if (!real || stat(real, &st) < 0)
		return diag_error(d, path, 0, "cannot read: %s", strerror(errno));
	if (st.st_uid != owner)
		return diag_error(d, path, 0,
				  "%s%s%sowned by uid %u, not by root: whoever owns it chooses the tunnel's peer; "
				  "chown root:root it (and chmod 600)",
				  streq(real, path) ? "" : "its target ", streq(real, path) ? "" : real,
				  streq(real, path) ? "" : " is ", (unsigned)st.st_uid);
	if (st.st_mode & 0022)
		return diag_error(d, path, 0,
				  "%s%s%swritable by group or others (mode %04o): they could choose the tunnel's peer; "
				  "chmod 600 it",
				  streq(real, path) ? "" : "its target ", streq(real, path) ? "" : real,
				  streq(real, path) ? "" : " is ", (unsigned)(st.st_mode & 07777));
	while ((slash = strrchr(real, '/'))) {
		slash[slash == real ? 1 : 0] = '\0';
		if (stat(real, &st) < 0)
			return diag_error(d, path, 0, "cannot read directory %s: %s", real, strerror(errno));
		/* A sticky directory (/tmp) lets no one else replace root's file. */
		if (st.st_uid != owner || ((st.st_mode & 0022) && !(st.st_mode & S_ISVTX))) {
			r = diag_error(d, path, 0,
				       "directory %s is %s (mode %04o): whoever can write it can replace the file; "
				       "keep the wg config in a directory only root can write",
				       real, st.st_uid != owner ? "not owned by root" : "writable by group or others",
				       (unsigned)(st.st_mode & 07777));
			return r;
		}
		if (streq(real, "/"))
			break;
	}
	return 0;
}

int wgconf_load(const char *path, struct wg_config **out, struct diag *d) {
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	int r;

	*out = NULL;
	r = read_file_capped(path, WGCONF_FILE_MAX, &text, &len);
	if (r == -EFBIG)
		return diag_error(d, path, 0, "file is larger than %d bytes", WGCONF_FILE_MAX);
	if (r < 0) {
		int q = diag_error(d, path, 0, "cannot read: %s",
				   r == -EINVAL ? "not a regular file" : strerror(-r));
		return q == -ENOMEM ? q : r;
	}
	/* Like wg-quick's "world accessible" warning, but for group too. Only a
	 * warning, so the stat after the read is good enough. */
	if (stat(path, &st) == 0 && (st.st_mode & 0077) &&
	    diag_warning(d, path, 0,
			 "is accessible by group or others (mode %04o) but holds a private key; "
			 "chmod 600 it", (unsigned)(st.st_mode & 07777)) < 0)
		r = -ENOMEM;
	if (r == 0)
		r = wgconf_parse(path, text, len, out, d);
	explicit_wipe(text, len);
	free(text);
	return r;
}

bool wg_config_has_family(const struct wg_config *c, int family) {
	for (size_t i = 0; i < c->n_addresses; i++)
		if (c->addresses[i].addr.family == family)
			return true;
	return false;
}

/* AllowedIPs per output line, so no line grows without bound. */
#define ALLOWED_IPS_PER_LINE 8

int wgconf_write_setconf(const struct wg_config *c, FILE *f) {
	char key[WG_KEY_B64_LEN + 1];

	wg_key_to_base64(key, c->private_key);
	fprintf(f, "[Interface]\nPrivateKey = %s\n", key);
	explicit_wipe(key, sizeof(key));
	if (c->has_listen_port)
		fprintf(f, "ListenPort = %u\n", c->listen_port);
	if (c->has_fwmark)
		fprintf(f, "FwMark = %u\n", c->fwmark);

	for (size_t i = 0; i < c->n_peers; i++) {
		const struct wg_peer *peer = &c->peers[i];

		wg_key_to_base64(key, peer->public_key);
		fprintf(f, "\n[Peer]\nPublicKey = %s\n", key);
		if (peer->has_preshared_key) {
			wg_key_to_base64(key, peer->preshared_key);
			fprintf(f, "PresharedKey = %s\n", key);
			explicit_wipe(key, sizeof(key));
		}
		for (size_t j = 0; j < peer->n_allowed_ips; j++) {
			char buf[IPNET_STRLEN];
			bool first = j % ALLOWED_IPS_PER_LINE == 0;
			bool last = j + 1 == peer->n_allowed_ips || (j + 1) % ALLOWED_IPS_PER_LINE == 0;
			fprintf(f, "%s%s%s", first ? "AllowedIPs = " : ", ",
				ipnet_str(&peer->allowed_ips[j], buf), last ? "\n" : "");
		}
		if (peer->has_endpoint) {
			/* By the text, so that a caller that swaps in a resolved
			 * IPv6 address still gets brackets. */
			bool v6 = strchr(peer->endpoint_host, ':') != NULL;
			fprintf(f, "Endpoint = %s%s%s:%u\n", v6 ? "[" : "", peer->endpoint_host,
				v6 ? "]" : "", peer->endpoint_port);
		}
		if (peer->has_keepalive)
			fprintf(f, "PersistentKeepalive = %u\n", peer->persistent_keepalive);
	}
	/* Flushed here so a short pipe or a full disk is seen by the caller. */
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}
