/* SPDX-License-Identifier: MIT */
/* The namespace model: N.ini -> struct ns_config, validated. The byte-level
 * and line-level rules live in ini.c; this file gives the keys meaning.
 *
 * Nothing read here is ever pasted into a unit file or ruleset as text:
 * addresses, ports and enums become typed values, and the two string values
 * (WireGuardConfigFile= and Unit=) are restricted to characters that need no
 * escaping in either place (see path_value_check() and unit_name_normalize()).
 * A file with errors is scanned again for every unit-like name in it
 * (salvage_units()): those are validated the same way. */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ini.h"
#include "timespan.h"
#include "util.h"

#define DEFAULT_NS_ADDR "192.168.15.1"
#define DEFAULT_BRIDGE_ADDR "192.168.15.5"
#define DEFAULT_PREFIX4 24
#define DEFAULT_PREFIX6 64
/* Smallest allowed subnets: a wider one would route large parts of the
 * address space (up to a default route for /0) into the bridge. */
#define MIN_PREFIX4 8
#define MIN_PREFIX6 16


bool ns_name_valid(const char *name) {
	size_t n;

	if (!name)
		return false;
	n = strlen(name);
	if (n < 1 || n > NS_NAME_MAX)
		return false;
	if (name[0] < 'a' || name[0] > 'z')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')))
			return false;
	return true;
}

static const char *const unit_types[] = {
	"service", "mount", "swap", "socket", "target", "device",
	"automount", "timer", "path", "slice", "scope",
};

static bool unit_char_valid(char c) {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == ':' || c == '-' || c == '_' || c == '.' || c == '\\' || c == '@';
}

/* systemd's unit_name_is_valid(n, UNIT_NAME_ANY): plain, template or
 * instance; characters [a-zA-Z0-9:_.\-@\\]; a known type suffix; below
 * UNIT_NAME_MAX; a non-empty prefix before '@' and before the suffix. */
bool unit_name_valid(const char *s) {
	const char *dot, *at = NULL;
	bool known = false;

	if (!s || !*s || strlen(s) >= UNIT_NAME_MAX)
		return false;
	dot = strrchr(s, '.');
	if (!dot || dot == s)
		return false;
	for (size_t i = 0; i < ELEMENTSOF(unit_types); i++)
		if (streq(dot + 1, unit_types[i]))
			known = true;
	if (!known)
		return false;
	for (const char *p = s; p < dot; p++) {
		if (*p == '@' && !at)
			at = p;
		if (!unit_char_valid(*p))
			return false;
	}
	if (at == s)
		return false;
	return true;
}

static bool has_suffix(const char *s, const char *suffix) {
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && streq(s + n - k, suffix);
}

bool unit_is_socket(const char *s) { return has_suffix(s, ".socket"); }

bool unit_is_service(const char *s) { return has_suffix(s, ".service"); }

bool unit_is_own(const char *s) {
	static const char *const own[] = { "netns@", "wg-up@", "vpn-ns@", "vpn-online@", "vpn-portfwd@",
					   "vpn-confinement-errors." };

	for (size_t i = 0; i < ELEMENTSOF(own); i++)
		if (strncmp(s, own[i], strlen(own[i])) == 0)
			return true;
	return false;
}

/* "PREFIX(len n)SUFFIX", or NULL on ENOMEM. */
static char *name_with(const char *prefix, size_t n, const char *suffix) {
	size_t k = strlen(suffix);
	char *s = malloc(n + k + 1);

	if (!s)
		return NULL;
	memcpy(s, prefix, n);
	memcpy(s + n, suffix, k + 1);
	return s;
}

int unit_companions(const char *u, char *out[static 2], size_t *n) {
	const char *at = strchr(u, '@'), *dot = strrchr(u, '.');
	bool socket = unit_is_socket(u);
	const char *other = socket ? ".service" : ".socket";
	char *cand[2] = { NULL, NULL };
	size_t want = 1;

	*n = 0;
	if (!dot)
		return 0;
	if (!at) {
		/* foo.service -> foo.socket; foo.socket -> foo.service, foo@.service */
		cand[0] = name_with(u, (size_t)(dot - u), other);
		if (socket) {
			cand[1] = name_with(u, (size_t)(dot - u), "@.service");
			want = 2;
		}
	} else if (at + 1 == dot && !socket) {
		/* foo@.service -> foo.socket, foo@.socket */
		cand[0] = name_with(u, (size_t)(at - u), ".socket");
		cand[1] = name_with(u, (size_t)(at - u), "@.socket");
		want = 2;
	} else
		/* foo@.socket -> foo@.service; foo@bar.service <-> foo@bar.socket */
		cand[0] = name_with(u, (size_t)(dot - u), other);
	if (!cand[0] || (want == 2 && !cand[1])) {
		free(cand[0]);
		free(cand[1]);
		return -ENOMEM;
	}
	for (size_t i = 0; i < want; i++) {
		if (unit_name_valid(cand[i]) && !unit_is_own(cand[i]))
			out[(*n)++] = cand[i];
		else
			free(cand[i]);
	}
	return 0;
}

const char *proto_str(enum proto p) {
	switch (p) {
	case PROTO_TCP:
		return "tcp";
	case PROTO_UDP:
		return "udp";
	case PROTO_BOTH:
		return "both";
	}
	return "?";
}

const char *wg_impl_str(enum wg_impl impl) {
	switch (impl) {
	case WG_IMPL_AUTO:
		return "auto";
	case WG_IMPL_KERNEL:
		return "kernel";
	case WG_IMPL_USERSPACE:
		return "userspace";
	}
	return "?";
}

const char *egress_rule_str(const struct egress_rule *e, char *buf) {
	char net[IPNET_STRLEN];
	bool v6 = e->net.addr.family == AF_INET6;

	if (e->net.prefix == ipaddr_max_prefix(e->net.addr.family))
		ipaddr_str(&e->net.addr, net);
	else
		ipnet_str(&e->net, net);
	if (e->port == 0)
		snprintf(buf, EGRESS_STRLEN, "%s", net);
	else
		snprintf(buf, EGRESS_STRLEN, v6 ? "[%s]:%u:%s" : "%s:%u:%s", net, e->port, proto_str(e->proto));
	return buf;
}

void ns_config_free(struct ns_config *c) {
	if (!c)
		return;
	free(c->source_path);
	for (size_t i = 0; i < c->n_wg_configs; i++)
		free(c->wg_configs[i].path);
	free(c->wg_configs);
	free(c->accessible_from);
	free(c->port_mappings);
	free(c->open_ports);
	free(c->egress);
	for (size_t i = 0; i < c->n_units; i++) {
		free(c->units[i].name);
		free(c->units[i].via);
	}
	free(c->units);
	cmdline_clear(&c->pf.hook);
	free(c);
}

static void config_file_clear(struct config_file *f) {
	free(f->path);
	ns_config_free(f->config);
	strv_free(f->errors, f->n_errors);
	*f = (struct config_file){ 0 };
}

void ns_config_set_clear(struct ns_config_set *s) {
	for (size_t i = 0; i < s->n_files; i++)
		config_file_clear(&s->files[i]);
	free(s->files);
	strv_free(s->errors, s->n_errors);
	*s = (struct ns_config_set){ 0 };
}

/* ---- parsing ---------------------------------------------------------- */

enum section { SECTION_NONE, SECTION_NAMESPACE, SECTION_CONFINEMENT };

/* The keys, in the table below (by position). */
enum key {
	K_WG_CONFIG_FILE,
	K_NS_ADDR,
	K_BRIDGE_ADDR,
	K_NS_ADDR6,
	K_BRIDGE_ADDR6,
	K_ACCESSIBLE_FROM,
	K_PORT_MAPPING,
	K_OPEN_VPN_PORT,
	K_ALLOWED_EGRESS,
	K_WG_IMPL,
	K_HEALTH_TIMEOUT,
	K_FAILOVER_AFTER,
	K_FAILBACK_AFTER,
	K_HEALTH_ADDRESS,
	K_UNIT,
	K_HARDENING,
	K_PORT_FORWARDING,
	K_PF_GATEWAY,
	K_PF_HOOK,
	_K_MAX,
};

struct parse_state {
	const char *path;
	struct ns_config *c;
	struct diag *d;
	enum section section;
	bool seen_namespace, seen_confinement;
	unsigned seen[_K_MAX]; /* the line each key was first given on (0: not given) */
	/* Whether a given address value parsed, so the pair checks run only
	 * on good values. */
	bool bad_v4, bad_v6;
	bool have_ns6, have_br6;
	/* A hash of each of c->units (same order), and a hash table of their
	 * positions (open addressing: i + 1, 0 for a free slot; index_size a
	 * power of two, at least twice n_units), so that adding a unit costs
	 * the same whatever came before: the salvage scan of a broken file
	 * can find a hundred thousand names. */
	uint64_t *unit_hashes;
	size_t *unit_index;
	size_t index_size;
};

static void parse_state_done(struct parse_state *st) {
	free(st->unit_hashes);
	free(st->unit_index);
}

static int on_section(void *userdata, const char *name, unsigned line) {
	struct parse_state *st = userdata;
	bool *seen;

	if (streq(name, "Namespace")) {
		st->section = SECTION_NAMESPACE;
		seen = &st->seen_namespace;
	} else if (streq(name, "Confinement")) {
		st->section = SECTION_CONFINEMENT;
		seen = &st->seen_confinement;
	} else {
		st->section = SECTION_NONE;
		return diag_error(st->d, st->path, line, "unknown section [%s]", name);
	}
	if (*seen) {
		st->section = SECTION_NONE;
		return diag_error(st->d, st->path, line, "section [%s] given twice", name);
	}
	*seen = true;
	return 0;
}

static int err(struct parse_state *st, unsigned line, const char *fmt, ...) _printf_(3, 4);
static int err(struct parse_state *st, unsigned line, const char *fmt, ...) {
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	return diag_error(st->d, st->path, line, "%s", msg);
}

/* WireGuardConfigFile=: absolute, normalized, printable ASCII without
 * space, '%', quotes or backslashes (the format contract), so it is one
 * word with no specifier or C escape in it. Other ASCII punctuation is
 * allowed ('$', ';', ':', '#', ...): whoever writes the path into a unit
 * file still escapes per setting (generator/unitfile.h). */
static int path_value_check(struct parse_state *st, unsigned line, const char *key, const char *v) {
	const char *p;

	if (v[0] != '/')
		return err(st, line, "%s: path '%s' is not absolute", key, v);
	for (p = v; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == ' ')
			return err(st, line, "%s: a space is not allowed in the path", key);
		if (ch < 0x20 || ch >= 0x7f)
			return err(st, line, "%s: byte 0x%02x is not allowed in the path", key, ch);
		if (strchr("%'\"`\\", ch))
			return err(st, line, "%s: character '%c' is not allowed in the path", key, ch);
	}
	if (strstr(v, "//"))
		return err(st, line, "%s: path '%s' is not normalized (contains \"//\")", key, v);
	if (p - v > 1 && p[-1] == '/')
		return err(st, line, "%s: path '%s' is not normalized (trailing \"/\")", key, v);
	/* "." and ".." components, anywhere. */
	for (p = v; *p; p++) {
		if (p[0] != '/' || p[1] != '.')
			continue;
		if (p[2] == '\0' || p[2] == '/' || (p[2] == '.' && (p[3] == '\0' || p[3] == '/')))
			return err(st, line, "%s: path '%s' is not normalized (\".\" or \"..\" component)",
				   key, v);
	}
	if (streq(v, "/"))
		return err(st, line, "%s: path '/' is not a file", key);
	return 0;
}

static bool ipaddr_is_unusable(const struct ipaddr *a) {
	if (a->family == AF_INET) {
		uint32_t x = ntohl(a->v4.s_addr);
		return (x >> 24) == 0 || (x >> 24) == 127 || (x >> 28) == 0xe || (x >> 28) == 0xf ||
		       (x >> 16) == 0xa9fe; /* 0/8, loopback, multicast, reserved, link-local */
	}
	return IN6_IS_ADDR_UNSPECIFIED(&a->v6) || IN6_IS_ADDR_LOOPBACK(&a->v6) ||
	       IN6_IS_ADDR_MULTICAST(&a->v6) || IN6_IS_ADDR_LINKLOCAL(&a->v6) ||
	       IN6_IS_ADDR_V4MAPPED(&a->v6);
}

/* NamespaceAddress= and friends: a host address in a subnet, "/len"
 * optional. */
static int host_addr_parse(struct parse_state *st, unsigned line, const char *key, const char *v,
			   int family, struct ipnet *out) {
	char buf[IPNET_STRLEN];
	struct ipnet n;
	unsigned min = family == AF_INET ? MIN_PREFIX4 : MIN_PREFIX6;
	unsigned max = family == AF_INET ? 31 : 127;
	bool has_prefix = strchr(v, '/') != NULL;

	if (ipnet_parse(v, true, &n) < 0 || n.addr.family != family)
		return err(st, line, "%s: '%s' is not an %s address", key, v,
			   family == AF_INET ? "IPv4" : "IPv6");
	if (!has_prefix)
		n.prefix = family == AF_INET ? DEFAULT_PREFIX4 : DEFAULT_PREFIX6;
	if (n.prefix < min || n.prefix > max)
		return err(st, line, "%s: prefix length /%u out of range %u-%u", key, n.prefix, min, max);
	if (ipaddr_is_unusable(&n.addr))
		return err(st, line, "%s: %s is not a usable unicast address", key,
			   ipaddr_str(&n.addr, buf));
	/* Network (and, for IPv4, broadcast) addresses cannot be a host's. */
	if (n.prefix < max && ipnet_is_network(&n))
		return err(st, line, "%s: %s is the network address of its subnet", key,
			   ipnet_str(&n, buf));
	if (family == AF_INET && n.prefix < 31) {
		uint32_t x = ntohl(n.addr.v4.s_addr), hostmask = (UINT32_C(1) << (32 - n.prefix)) - 1;
		if ((x & hostmask) == hostmask)
			return err(st, line, "%s: %s is the broadcast address of its subnet", key,
				   ipnet_str(&n, buf));
	}
	*out = n;
	return 0;
}

static int parse_proto(const char *s, enum proto *out) {
	if (streq(s, "tcp"))
		*out = PROTO_TCP;
	else if (streq(s, "udp"))
		*out = PROTO_UDP;
	else if (streq(s, "both"))
		*out = PROTO_BOTH;
	else
		return -EINVAL;
	return 0;
}

static int parse_port(struct parse_state *st, unsigned line, const char *key, const char *s,
		      uint16_t *out) {
	uint64_t v;
	int r = parse_uint(s, 1, 65535, &v);

	if (r == -ERANGE)
		return err(st, line, "%s: port '%s' out of range 1-65535", key, s);
	if (r < 0)
		return err(st, line, "%s: invalid port '%s'", key, s);
	*out = (uint16_t)v;
	return 0;
}

/* Splits "a:b:c" into at most max fields (in place). Returns the count, or
 * max + 1 when there were more. */
static size_t split_colon(char *s, char **fields, size_t max) {
	size_t n = 0;

	for (;;) {
		char *c = strchr(s, ':');
		if (n == max)
			return max + 1;
		fields[n++] = s;
		if (!c)
			return n;
		*c = '\0';
		s = c + 1;
	}
}

static int on_port_mapping(struct parse_state *st, unsigned line, const char *v) {
	_cleanup_free_ char *copy = strdup(v);
	struct port_mapping pm = { .proto = PROTO_TCP, .line = line };
	char *f[3];
	size_t n;
	int r;

	if (!copy)
		return -ENOMEM;
	n = split_colon(copy, f, 3);
	if (n < 2 || n > 3)
		return err(st, line, "PortMapping: expected 'from:to[:tcp|udp|both]', got '%s'", v);
	r = parse_port(st, line, "PortMapping", f[0], &pm.from);
	if (r < 0)
		return r;
	r = parse_port(st, line, "PortMapping", f[1], &pm.to);
	if (r < 0)
		return r;
	if (n == 3 && parse_proto(f[2], &pm.proto) < 0)
		return err(st, line, "PortMapping: unknown protocol '%s' (expected tcp, udp or both)", f[2]);
	for (size_t i = 0; i < st->c->n_port_mappings; i++) {
		const struct port_mapping *o = &st->c->port_mappings[i];
		if (o->from == pm.from && (o->proto & pm.proto))
			return err(st, line, "PortMapping: host port %u/%s is already mapped on line %u",
				   pm.from, proto_str(o->proto & pm.proto), o->line);
	}
	return ARRAY_APPEND(st->c->port_mappings, st->c->n_port_mappings, pm);
}

static int on_open_port(struct parse_state *st, unsigned line, const char *v) {
	_cleanup_free_ char *copy = strdup(v);
	struct open_port op = { .proto = PROTO_TCP, .line = line };
	char *f[2];
	size_t n;
	int r;

	if (!copy)
		return -ENOMEM;
	n = split_colon(copy, f, 2);
	if (n < 1 || n > 2)
		return err(st, line, "OpenVPNPort: expected 'port[:tcp|udp|both]', got '%s'", v);
	r = parse_port(st, line, "OpenVPNPort", f[0], &op.port);
	if (r < 0)
		return r;
	if (n == 2 && parse_proto(f[1], &op.proto) < 0)
		return err(st, line, "OpenVPNPort: unknown protocol '%s' (expected tcp, udp or both)", f[1]);
	for (size_t i = 0; i < st->c->n_open_ports; i++) {
		const struct open_port *o = &st->c->open_ports[i];
		if (o->port == op.port && (o->proto & op.proto))
			return err(st, line, "OpenVPNPort: port %u/%s is already open on line %u", op.port,
				   proto_str(o->proto & op.proto), o->line);
	}
	return ARRAY_APPEND(st->c->open_ports, st->c->n_open_ports, op);
}

static int on_accessible_from(struct parse_state *st, unsigned line, const char *v) {
	char buf[IPNET_STRLEN], buf2[IPNET_STRLEN];
	struct ns_range range = { .line = line };
	struct ipnet net;

	if (ipnet_parse(v, true, &range.net) < 0)
		return err(st, line, "AccessibleFrom: '%s' is not an IP address or prefix", v);
	net = ipnet_network(&range.net);
	if (!ipaddr_equal(&net.addr, &range.net.addr))
		return err(st, line, "AccessibleFrom: '%s' has host bits set (the prefix is %s)", v,
			   ipnet_str(&net, buf));
	/* Overlapping entries would be conflicting intervals in an nft set. */
	for (size_t i = 0; i < st->c->n_accessible_from; i++)
		if (ipnet_overlaps(&st->c->accessible_from[i].net, &range.net))
			return err(st, line, "AccessibleFrom: %s overlaps %s given on line %u",
				   ipnet_str(&range.net, buf), ipnet_str(&st->c->accessible_from[i].net, buf2),
				   st->c->accessible_from[i].line);
	return ARRAY_APPEND(st->c->accessible_from, st->c->n_accessible_from, range);
}

/* Destinations that are never behind the bridge: this host's loopback
 * (in the namespace, its own), "this network", link-local, multicast,
 * reserved and broadcast addresses, IPv4-mapped IPv6. */
static const char *const egress_unusable[] = {
	"0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/3",
	"::/128",    "::1/128",     "::ffff:0:0/96",  "fe80::/10",   "ff00::/8",
};

/* The DNS ports: DNS only ever goes to the VPN's servers, through the
 * tunnel (dns-restrict), never through the bridge. */
static bool port_is_dns(uint16_t port) { return port == 53 || port == 853; }

/* Whether two egress rules would be one element of the same nft set twice
 * (conflicting intervals): both for every port, or both for the same port
 * and a protocol in common; and their networks overlap. */
static bool egress_rules_clash(const struct egress_rule *a, const struct egress_rule *b) {
	if (!ipnet_overlaps(&a->net, &b->net))
		return false;
	if (a->port == 0 || b->port == 0)
		return a->port == 0 && b->port == 0;
	return a->port == b->port && (a->proto & b->proto);
}

/* AllowedEgress=DESTINATION[:PORT[:PROTOCOL]], DESTINATION an address or
 * a prefix (host bits zero); an IPv6 one in brackets when a port follows
 * ("[fd00::10]:8096:tcp"; brackets are allowed without one). Without a
 * port: every port and protocol; with one, PROTOCOL defaults to tcp. */
static int on_allowed_egress(struct parse_state *st, unsigned line, const char *v) {
	char buf[IPNET_STRLEN], a[EGRESS_STRLEN], b[EGRESS_STRLEN];
	_cleanup_free_ char *copy = strdup(v);
	struct egress_rule e = { .proto = PROTO_TCP, .line = line };
	char *dest, *rest = NULL, *f[2];
	struct ipnet net;
	bool bracketed = false;
	int r;

	if (!copy)
		return -ENOMEM;
	dest = copy;
	if (copy[0] == '[') {
		char *close = strchr(copy, ']');

		if (!close || (close[1] != '\0' && close[1] != ':'))
			return err(st, line,
				   "AllowedEgress: expected '[IPV6ADDRESS[/LEN]]' or '[IPV6ADDRESS[/LEN]]:PORT[:tcp|udp|both]', got '%s'",
				   v);
		*close = '\0';
		dest = copy + 1;
		rest = close[1] == ':' ? close + 2 : NULL;
		bracketed = true;
	} else {
		/* "a.b.c.d[/len]:port...": the first colon ends an IPv4
		 * destination; an IPv6 one without brackets is the whole value. */
		char *colon = strchr(copy, ':');

		if (colon) {
			*colon = '\0';
			if (ipnet_parse(copy, true, &net) == 0 && net.addr.family == AF_INET)
				rest = colon + 1;
			else
				*colon = ':';
		}
	}
	if (ipnet_parse(dest, true, &e.net) < 0) {
		if (!bracketed && strchr(v, ':') && strchr(v, '.') == NULL)
			return err(st, line,
				   "AllowedEgress: '%s' is not an IP address or prefix (an IPv6 destination with a port is written in brackets: '[ADDRESS]:PORT')",
				   v);
		return err(st, line, "AllowedEgress: '%s' is not an IP address or prefix", bracketed ? dest : v);
	}
	if (bracketed && e.net.addr.family != AF_INET6)
		return err(st, line, "AllowedEgress: '%s': only an IPv6 destination is written in brackets", v);
	net = ipnet_network(&e.net);
	if (!ipaddr_equal(&net.addr, &e.net.addr))
		return err(st, line, "AllowedEgress: '%s' has host bits set (the prefix is %s)", dest, ipnet_str(&net, buf));
	if (e.net.prefix < (e.net.addr.family == AF_INET ? MIN_PREFIX4 : MIN_PREFIX6))
		return err(st, line,
			   "AllowedEgress: %s is wider than /%u: it would send a large part of the internet around the tunnel",
			   ipnet_str(&e.net, buf), e.net.addr.family == AF_INET ? MIN_PREFIX4 : MIN_PREFIX6);
	for (size_t i = 0; i < ELEMENTSOF(egress_unusable); i++) {
		struct ipnet u;
		if (ipnet_parse(egress_unusable[i], false, &u) == 0 && ipnet_overlaps(&u, &e.net))
			return err(st, line,
				   "AllowedEgress: %s is not a destination behind the bridge (it is or contains %s: loopback, link-local, multicast or reserved addresses)",
				   ipnet_str(&e.net, buf), egress_unusable[i]);
	}
	if (rest) {
		size_t n = split_colon(rest, f, 2);

		if (n > 2)
			return err(st, line, "AllowedEgress: expected 'DESTINATION[:PORT[:tcp|udp|both]]', got '%s'", v);
		r = parse_port(st, line, "AllowedEgress", f[0], &e.port);
		if (r < 0)
			return r;
		if (n == 2 && parse_proto(f[1], &e.proto) < 0)
			return err(st, line, "AllowedEgress: unknown protocol '%s' (expected tcp, udp or both)", f[1]);
		if (port_is_dns(e.port))
			return err(st, line,
				   "AllowedEgress: port %u is DNS, which only ever goes to the VPN's DNS servers through the tunnel",
				   e.port);
	}
	for (size_t i = 0; i < st->c->n_egress; i++)
		if (egress_rules_clash(&st->c->egress[i], &e))
			return err(st, line, "AllowedEgress: %s overlaps %s given on line %u", egress_rule_str(&e, a),
				   egress_rule_str(&st->c->egress[i], b), st->c->egress[i].line);
	return ARRAY_APPEND(st->c->egress, st->c->n_egress, e);
}

static bool unit_type_known(const char *s) {
	for (size_t i = 0; i < ELEMENTSOF(unit_types); i++)
		if (streq(s, unit_types[i]))
			return true;
	return false;
}

/* The known unit type equal to s ignoring case, or NULL. */
static const char *unit_type_casefold(const char *s) {
	for (size_t i = 0; i < ELEMENTSOF(unit_types); i++)
		if (strcasecmp(s, unit_types[i]) == 0)
			return unit_types[i];
	return NULL;
}

/* An error about a Unit= name, recorded when st is not NULL (the salvage
 * scan checks names silently). Returns -EINVAL or -ENOMEM. */
static int unit_report(struct parse_state *st, unsigned line, const char *fmt, ...) _printf_(3, 4);
static int unit_report(struct parse_state *st, unsigned line, const char *fmt, ...) {
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	if (!st)
		return -EINVAL;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	return diag_error(st->d, st->path, line, "%s", msg);
}

/* One name of a Unit= line, as systemctl takes it: without a known unit type
 * suffix it is NAME.service (systemd's unit_name_mangle(): "transmission"
 * is transmission.service). Then systemd's rules, plus what confinement
 * needs: a .service or a .socket, not one of ours, no leading '-' (an option
 * to systemctl), and a backslash only in a \xHH escape (as systemd-escape
 * writes it), so the name is the same text in a unit file's dependency
 * list, a drop-in directory name and systemctl's argv.
 *
 * mangle false: a name without a known suffix is refused (the salvage
 * scan's tokens outside Unit= lines). st NULL: no messages, and a suffix in
 * the wrong case ("foo.Service", surely meant as foo.service) is taken in
 * lower case instead of refused. Sets *out (the caller frees). */
static int unit_name_normalize(struct parse_state *st, unsigned line, const char *token, bool mangle,
			       char **out) {
	_cleanup_free_ char *name = NULL;
	const char *dot = strrchr(token, '.');
	const char *folded = dot ? unit_type_casefold(dot + 1) : NULL;
	bool mangled = false;

	*out = NULL;
	if (strlen(token) >= UNIT_NAME_MAX)
		return unit_report(st, line, "Unit: name longer than %d characters", UNIT_NAME_MAX - 1);
	if (dot && unit_type_known(dot + 1))
		name = strdup(token);
	else if (folded) {
		if (st)
			return unit_report(st, line,
					   "Unit: '%s': unit type suffixes are lower case ('%.*s.%s')", token,
					   (int)(dot - token), token, folded);
		name = name_with(token, (size_t)(dot - token) + 1, folded);
	} else if (mangle) {
		name = name_with(token, strlen(token), ".service");
		mangled = true;
	} else
		return -EINVAL;
	if (!name)
		return -ENOMEM;
	if (strlen(name) >= UNIT_NAME_MAX)
		return unit_report(st, line, "Unit: '%s' as '%s' is longer than %d characters", token,
				   name, UNIT_NAME_MAX - 1);
	dot = strrchr(name, '.');
	for (const char *p = name; p < dot; p++) {
		unsigned char ch = (unsigned char)*p;
		if (unit_char_valid(*p))
			continue;
		if (ch > 0x20 && ch < 0x7f)
			return unit_report(st, line, "Unit: character '%c' is not allowed in a unit name", ch);
		return unit_report(st, line, "Unit: byte 0x%02x is not allowed in a unit name", ch);
	}
	if (!unit_name_valid(name)) /* an empty name before '@' or the suffix */
		return unit_report(st, line, "Unit: '%s' is not a valid unit name", token);
	if (!streq(dot, ".service") && !streq(dot, ".socket"))
		return unit_report(st, line,
				   "Unit: '%s' is neither a service nor a socket: only .service and .socket units can be confined",
				   token);
	if (name[0] == '-')
		return unit_report(st, line, "Unit: '%s' must not start with '-'", token);
	for (const char *p = name; *p; p++) {
		if (*p != '\\')
			continue;
		if (p[1] != 'x' || !p[2] || !strchr("0123456789abcdef", p[2]) || !p[3] ||
		    !strchr("0123456789abcdef", p[3]))
			return unit_report(st, line,
					   "Unit: '%s': a backslash is only allowed in a \\xhh escape (lowercase hex)",
					   token);
	}
	if (unit_is_own(name))
		return unit_report(st, line,
				   "Unit: '%s' is one of vpn-confinement's own units and cannot be confined",
				   token);
	/* "foo.bar" is foo.bar.service to systemctl too, but maybe a typo. */
	if (mangled && st && strchr(token, '.')) {
		int r = diag_warning(st->d, st->path, line,
				     "Unit: '%s' has no known unit type suffix: taken as '%s', as systemctl does",
				     token, name);
		if (r < 0)
			return r;
	}
	*out = TAKE_PTR(name);
	return 0;
}

static uint64_t str_hash(const char *s) {
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

/* Puts unit i of st->c into the hash table (which has a free slot). */
static void unit_index_put(struct parse_state *st, size_t i) {
	size_t mask = st->index_size - 1, pos = (size_t)st->unit_hashes[i] & mask;

	while (st->unit_index[pos])
		pos = (pos + 1) & mask;
	st->unit_index[pos] = i + 1;
}

/* Makes the table hold at least n units at half its size at most. */
static int unit_index_reserve(struct parse_state *st, size_t n) {
	size_t size = st->index_size ? st->index_size : 64;

	if (n <= st->index_size / 2)
		return 0;
	while (n > size / 2) {
		if (size > SIZE_MAX / 2 / sizeof(size_t))
			return -ENOMEM;
		size *= 2;
	}
	free(st->unit_index);
	st->unit_index = calloc(size, sizeof(size_t));
	st->index_size = st->unit_index ? size : 0;
	if (!st->unit_index)
		return -ENOMEM;
	for (size_t i = 0; i < st->c->n_units; i++)
		unit_index_put(st, i);
	return 0;
}

/* The position of unit u (of hash h) in st->c->units, or -1. */
static ssize_t unit_find(const struct parse_state *st, const char *u, uint64_t h) {
	size_t mask = st->index_size - 1;

	if (st->index_size == 0)
		return -1;
	for (size_t pos = (size_t)h & mask; st->unit_index[pos]; pos = (pos + 1) & mask) {
		size_t i = st->unit_index[pos] - 1;
		if (st->unit_hashes[i] == h && streq(st->c->units[i].name, u))
			return (ssize_t)i;
	}
	return -1;
}

/* Adds unit u, found on line, to the namespace's units: via is NULL for a
 * unit the file names, else the named unit it goes with. Returns 1 when
 * the file named u already (a duplicate), 0 when it was added or was there
 * as a companion (then it is named now), -ENOMEM. */
static int unit_add(struct parse_state *st, const char *u, unsigned line, const char *via) {
	struct ns_config *c = st->c;
	uint64_t h = str_hash(u);
	size_t n = c->n_units;
	ssize_t found = unit_find(st, u, h);
	_cleanup_free_ char *name = NULL, *via_copy = NULL;

	if (found >= 0) {
		struct confined_unit *had = &c->units[found];
		if (had->via && !via) {
			free(TAKE_PTR(had->via));
			return 0;
		}
		return !had->via && !via;
	}
	name = strdup(u);
	via_copy = via ? strdup(via) : NULL;
	/* unit_hashes gets the entry at position n (a stale one from a
	 * failed run is overwritten): it stays parallel to c->units. */
	if (!name || (via && !via_copy) || unit_index_reserve(st, n + 1) < 0 ||
	    ARRAY_APPEND(st->unit_hashes, n, h) < 0)
		return -ENOMEM;
	if (ARRAY_APPEND(c->units, c->n_units,
			 ((struct confined_unit){ .name = name, .via = via_copy, .line = line })) < 0)
		return -ENOMEM;
	TAKE_PTR(name);
	TAKE_PTR(via_copy);
	unit_index_put(st, c->n_units - 1);
	return 0;
}

/* Adds u (named by the file) and the units that go with it. Returns as
 * unit_add() for u. */
static int unit_add_with_companions(struct parse_state *st, const char *u, unsigned line) {
	char *comp[2];
	size_t n;
	int r, k = 0;

	r = unit_add(st, u, line, NULL);
	if (r < 0)
		return r;
	k = unit_companions(u, comp, &n);
	for (size_t i = 0; i < n; i++) {
		if (k == 0)
			k = unit_add(st, comp[i], line, u);
		free(comp[i]);
	}
	return k < 0 ? k : r;
}

static int on_units(struct parse_state *st, unsigned line, const char *v) {
	_cleanup_free_ char *copy = strdup(v);
	char *save = NULL;
	bool failed = false;
	int r;

	if (!copy)
		return -ENOMEM;
	for (char *u = strtok_r(copy, " \t", &save); u; u = strtok_r(NULL, " \t", &save)) {
		_cleanup_free_ char *name = NULL;

		r = unit_name_normalize(st, line, u, true, &name);
		if (r == -EINVAL) {
			failed = true;
			continue;
		}
		if (r < 0)
			return r;
		r = unit_add_with_companions(st, name, line);
		if (r < 0)
			return r;
		if (r > 0) {
			r = diag_warning(st->d, st->path, line, "Unit: '%s' listed twice", name);
			if (r < 0)
				return r;
		}
	}
	return failed ? -EINVAL : 0;
}

/* ---- the salvage scan of a file with errors ------------------------------ */

/* A file with errors must never leave a service it names unconfined: the
 * ini parser skips what it rejects (a section, a line), so this scan reads
 * the raw text again, without any of the parser's rules, for the names to
 * keep from starting. Nothing found here is written anywhere but as a
 * validated unit name. */

#define SALVAGE_MAX (1024 * 1024) /* bytes of an over-large file that are scanned */

static bool salvage_break(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

/* Between two tokens of a line (anything not in a unit name but '/', which
 * makes a path, or '%' and '$', whose names are refused anyway). */
static bool salvage_sep(char c) {
	return c == ' ' || c == '\t' || (c && strchr("=,;:\"'`()[]{}<>|&*?!#", c));
}

static int salvage_add(struct parse_state *st, unsigned line, const char *token, bool mangle) {
	_cleanup_free_ char *name = NULL;
	int r = unit_name_normalize(NULL, line, token, mangle, &name);

	if (r == -EINVAL)
		return 0;
	if (r < 0)
		return r;
	r = unit_add_with_companions(st, name, line);
	return r < 0 ? r : 0;
}

/* One piece of a line, between control characters (s is NUL-terminated). */
static int salvage_segment(struct parse_state *st, unsigned line, char *s) {
	char *l = s, *eq, *save = NULL;
	int r;

	while (*l == ' ' || *l == '\t')
		l++;
	if (*l == '#' || *l == ';')
		return 0; /* a comment: a name there was taken out on purpose */
	eq = strchr(l, '=');
	if (eq) {
		/* "unit=", "UNIT =", "Units=": every word, as Unit= reads it,
		 * up to what looks like a comment. */
		size_t k = (size_t)(eq - l);
		while (k > 0 && (l[k - 1] == ' ' || l[k - 1] == '\t'))
			k--;
		if ((k == 4 && strncasecmp(l, "unit", 4) == 0) || (k == 5 && strncasecmp(l, "units", 5) == 0)) {
			_cleanup_free_ char *value = strdup(eq + 1);
			if (!value)
				return -ENOMEM;
			for (char *w = strtok_r(value, " \t", &save); w && *w != '#' && *w != ';';
			     w = strtok_r(NULL, " \t", &save)) {
				r = salvage_add(st, line, w, true);
				if (r < 0)
					return r;
			}
		}
	}
	/* Every .service or .socket name anywhere on the line. */
	for (char *p = l; *p;) {
		char *end = p, saved;

		while (*end && !salvage_sep(*end))
			end++;
		saved = *end;
		*end = '\0';
		r = end > p ? salvage_add(st, line, p, false) : 0;
		*end = saved;
		if (r < 0)
			return r;
		p = *end ? end + 1 : end;
	}
	return 0;
}

static int salvage_units(struct parse_state *st, const char *text, size_t len) {
	_cleanup_free_ char *buf = NULL;
	unsigned line = 1;
	size_t pos = 0;

	if (len > SALVAGE_MAX)
		len = SALVAGE_MAX;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	while (pos < len) {
		size_t end = pos;
		int r;

		while (end < len && !salvage_break((unsigned char)text[end]))
			end++;
		memcpy(buf, text + pos, end - pos);
		buf[end - pos] = '\0';
		r = salvage_segment(st, line, buf);
		if (r < 0)
			return r;
		if (end < len && text[end] == '\n')
			line++;
		pos = end + 1;
	}
	return 0;
}

static int parse_bool(const char *s, bool *out) {
	static const char *const yes[] = { "yes", "true", "1", "on" };
	static const char *const no[] = { "no", "false", "0", "off" };

	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (streq(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (streq(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int on_wg_config_file(struct parse_state *st, unsigned line, const char *v) {
	struct ns_config *c = st->c;
	_cleanup_free_ char *path = NULL;
	int r = path_value_check(st, line, "WireGuardConfigFile", v);

	if (r < 0)
		return r;
	for (size_t i = 0; i < c->n_wg_configs; i++)
		if (streq(c->wg_configs[i].path, v))
			return err(st, line, "WireGuardConfigFile: '%s' is already given on line %u", v,
				   c->wg_configs[i].line);
	path = strdup(v);
	if (!path || ARRAY_APPEND(c->wg_configs, c->n_wg_configs,
				  ((struct config_path){ .path = path, .line = line })) < 0)
		return -ENOMEM;
	TAKE_PTR(path);
	return 0;
}

static int on_addr4(struct parse_state *st, unsigned line, const char *key, const char *v, struct ipnet *out) {
	int r = host_addr_parse(st, line, key, v, AF_INET, out);

	if (r < 0)
		st->bad_v4 = true;
	return r;
}

static int on_ns_addr(struct parse_state *st, unsigned line, const char *v) {
	int r = on_addr4(st, line, "NamespaceAddress", v, &st->c->ns_addr);

	if (r == 0)
		st->c->ns_addr_line = line;
	return r;
}

static int on_bridge_addr(struct parse_state *st, unsigned line, const char *v) {
	return on_addr4(st, line, "BridgeAddress", v, &st->c->bridge_addr);
}

static int on_ns_addr6(struct parse_state *st, unsigned line, const char *v) {
	int r = host_addr_parse(st, line, "NamespaceAddressIPv6", v, AF_INET6, &st->c->ns_addr6);

	if (r < 0)
		st->bad_v6 = true;
	else {
		st->c->ns_addr6_line = line;
		st->have_ns6 = true;
	}
	return r;
}

static int on_bridge_addr6(struct parse_state *st, unsigned line, const char *v) {
	int r = host_addr_parse(st, line, "BridgeAddressIPv6", v, AF_INET6, &st->c->bridge_addr6);

	if (r < 0)
		st->bad_v6 = true;
	else
		st->have_br6 = true;
	return r;
}

static int on_wg_impl(struct parse_state *st, unsigned line, const char *v) {
	static const enum wg_impl impls[] = { WG_IMPL_AUTO, WG_IMPL_KERNEL, WG_IMPL_USERSPACE };

	for (size_t i = 0; i < ELEMENTSOF(impls); i++)
		if (streq(v, wg_impl_str(impls[i]))) {
			st->c->wg_impl = impls[i];
			return 0;
		}
	return err(st, line, "WireGuardImplementation: unknown value '%s' (expected auto, kernel or userspace)", v);
}

/* A span key of [Namespace]: at least min_sec seconds, or infinity. */
static int span_parse(struct parse_state *st, unsigned line, const char *key, const char *v, uint64_t min_sec,
		      uint64_t *out) {
	uint64_t usec;
	int r = timespan_parse(v, &usec);

	if (r == -ERANGE)
		return err(st, line, "%s: '%s' is too long a time span", key, v);
	if (r < 0)
		return err(st, line,
			   "%s: '%s' is not a time span (such as 30s, 2min, 1h 30min or infinity; see systemd.time(7))",
			   key, v);
	if (usec < min_sec * USEC_PER_SEC)
		return err(st, line, "%s: '%s' is shorter than the minimum of %llu s", key, v,
			   (unsigned long long)min_sec);
	*out = usec;
	return 0;
}

static int on_health_timeout(struct parse_state *st, unsigned line, const char *v) {
	int r = span_parse(st, line, "HealthCheckTimeout", v, HEALTH_TIMEOUT_MIN_SEC, &st->c->health.timeout_usec);

	if (r == 0)
		st->c->health.timeout_line = line;
	return r;
}

static int on_failback_after(struct parse_state *st, unsigned line, const char *v) {
	int r = span_parse(st, line, "FailbackAfter", v, HEALTH_FAILBACK_MIN_SEC, &st->c->health.failback_usec);

	if (r == 0)
		st->c->health.failback_line = line;
	return r;
}

static int on_failover_after(struct parse_state *st, unsigned line, const char *v) {
	uint64_t n;
	int r = parse_uint(v, 1, HEALTH_FAILOVER_AFTER_MAX, &n);

	if (r == -ERANGE)
		return err(st, line, "FailoverAfter: %s is out of range 1-%d", v, HEALTH_FAILOVER_AFTER_MAX);
	if (r < 0)
		return err(st, line, "FailoverAfter: '%s' is not a number of failed recoveries", v);
	st->c->health.failover_after = (unsigned)n;
	st->c->health.failover_line = line;
	return 0;
}

static int on_health_address(struct parse_state *st, unsigned line, const char *v) {
	struct ipaddr a;
	char buf[IPNET_STRLEN];

	if (ipaddr_parse(v, &a) < 0)
		return err(st, line, "HealthCheckAddress: '%s' is not an IP address", v);
	if (ipaddr_is_unusable(&a))
		return err(st, line, "HealthCheckAddress: %s is not a usable unicast address", ipaddr_str(&a, buf));
	st->c->health.has_address = true;
	st->c->health.address = a;
	st->c->health.address_line = line;
	return 0;
}

static int on_hardening(struct parse_state *st, unsigned line, const char *v) {
	if (parse_bool(v, &st->c->hardening) < 0)
		return err(st, line, "Hardening: invalid boolean '%s' (expected yes or no)", v);
	return 0;
}

/* PortForwarding=natpmp|no. */
static int on_port_forwarding(struct parse_state *st, unsigned line, const char *v) {
	if (streq(v, "natpmp"))
		st->c->pf.enabled = true;
	else if (streq(v, "no"))
		st->c->pf.enabled = false;
	else
		return err(st, line, "PortForwarding: unknown value '%s' (expected natpmp or no)", v);
	st->c->pf.line = line;
	return 0;
}

/* PortForwardingGateway=: an IPv4 unicast address (NAT-PMP is IPv4 only). */
static int on_pf_gateway(struct parse_state *st, unsigned line, const char *v) {
	char buf[IPNET_STRLEN];
	struct ipaddr a;

	if (ipaddr_parse(v, &a) < 0 || a.family != AF_INET)
		return err(st, line, "PortForwardingGateway: '%s' is not an IPv4 address (NAT-PMP is IPv4 only)", v);
	if (ipaddr_is_unusable(&a))
		return err(st, line, "PortForwardingGateway: %s is not a usable unicast address", ipaddr_str(&a, buf));
	st->c->pf.gateway = a;
	st->c->pf.gateway_line = line;
	return 0;
}

/* PortForwardingHook=: a command line, split as systemd splits ExecStart=
 * (common/cmdline.h), never a shell. */
static int on_pf_hook(struct parse_state *st, unsigned line, const char *v) {
	char why[CMDLINE_WHY_MAX];
	int r = cmdline_split(v, &st->c->pf.hook, why);

	if (r == -EINVAL)
		return err(st, line, "PortForwardingHook: %s", why);
	if (r < 0)
		return r;
	st->c->pf.hook_line = line;
	return 0;
}

/* Every key of the format (vpn-confinement.ini(5)), by section; a key not
 * here is an error. A singleton given twice is an error; a list key adds
 * to its list. */
static const struct key_def {
	enum section section;
	const char *name;
	bool list;
	int (*parse)(struct parse_state *st, unsigned line, const char *value);
} key_defs[_K_MAX] = {
	[K_WG_CONFIG_FILE] = { SECTION_NAMESPACE, "WireGuardConfigFile", true, on_wg_config_file },
	[K_NS_ADDR] = { SECTION_NAMESPACE, "NamespaceAddress", false, on_ns_addr },
	[K_BRIDGE_ADDR] = { SECTION_NAMESPACE, "BridgeAddress", false, on_bridge_addr },
	[K_NS_ADDR6] = { SECTION_NAMESPACE, "NamespaceAddressIPv6", false, on_ns_addr6 },
	[K_BRIDGE_ADDR6] = { SECTION_NAMESPACE, "BridgeAddressIPv6", false, on_bridge_addr6 },
	[K_ACCESSIBLE_FROM] = { SECTION_NAMESPACE, "AccessibleFrom", true, on_accessible_from },
	[K_PORT_MAPPING] = { SECTION_NAMESPACE, "PortMapping", true, on_port_mapping },
	[K_OPEN_VPN_PORT] = { SECTION_NAMESPACE, "OpenVPNPort", true, on_open_port },
	[K_ALLOWED_EGRESS] = { SECTION_NAMESPACE, "AllowedEgress", true, on_allowed_egress },
	[K_WG_IMPL] = { SECTION_NAMESPACE, "WireGuardImplementation", false, on_wg_impl },
	[K_HEALTH_TIMEOUT] = { SECTION_NAMESPACE, "HealthCheckTimeout", false, on_health_timeout },
	[K_FAILOVER_AFTER] = { SECTION_NAMESPACE, "FailoverAfter", false, on_failover_after },
	[K_FAILBACK_AFTER] = { SECTION_NAMESPACE, "FailbackAfter", false, on_failback_after },
	[K_HEALTH_ADDRESS] = { SECTION_NAMESPACE, "HealthCheckAddress", false, on_health_address },
	[K_UNIT] = { SECTION_CONFINEMENT, "Unit", true, on_units },
	[K_HARDENING] = { SECTION_CONFINEMENT, "Hardening", false, on_hardening },
	[K_PORT_FORWARDING] = { SECTION_NAMESPACE, "PortForwarding", false, on_port_forwarding },
	[K_PF_GATEWAY] = { SECTION_NAMESPACE, "PortForwardingGateway", false, on_pf_gateway },
	[K_PF_HOOK] = { SECTION_NAMESPACE, "PortForwardingHook", false, on_pf_hook },
};

static int on_key(void *userdata, const char *section, const char *key, const char *value,
		  unsigned line) {
	struct parse_state *st = userdata;
	const struct key_def *k = NULL;
	size_t i;

	for (i = 0; i < ELEMENTSOF(key_defs); i++)
		if (key_defs[i].section == st->section && streq(key_defs[i].name, key)) {
			k = &key_defs[i];
			break;
		}
	if (!k)
		return err(st, line, "unknown key '%s' in section [%s]", key, section);
	if (!k->list && st->seen[i])
		return err(st, line, "%s= given twice", key);
	/* Given, even when its value is bad: the checks of the whole file
	 * then do not also say it is missing. */
	st->seen[i] = st->seen[i] ?: line;
	if (*value == '\0')
		return err(st, line, "%s: empty value", key);
	return k->parse(st, line, value);
}

/* AllowedEgress= against the addresses of the veth pair: an IPv6
 * destination needs the IPv6 pair (the bridge is its way out), and no
 * destination may contain the namespace's own address. */
static int validate_egress(struct parse_state *st) {
	const struct ns_config *c = st->c;
	char a[EGRESS_STRLEN], b[IPNET_STRLEN];
	bool failed = false;
	int r;

	for (size_t i = 0; i < c->n_egress; i++) {
		const struct egress_rule *e = &c->egress[i];
		bool v6 = e->net.addr.family == AF_INET6;

		r = 0;
		if (v6 && !c->has_ipv6 && !st->bad_v6)
			r = err(st, e->line,
				"AllowedEgress: the IPv6 destination %s needs NamespaceAddressIPv6= and BridgeAddressIPv6= (the bridge is its way out)",
				egress_rule_str(e, a));
		else if (!v6 && !st->bad_v4 && ipnet_contains(&e->net, &c->ns_addr.addr))
			r = err(st, e->line, "AllowedEgress: %s contains the namespace's own address %s (NamespaceAddress=)",
				egress_rule_str(e, a), ipaddr_str(&c->ns_addr.addr, b));
		else if (v6 && c->has_ipv6 && ipnet_contains(&e->net, &c->ns_addr6.addr))
			r = err(st, e->line,
				"AllowedEgress: %s contains the namespace's own address %s (NamespaceAddressIPv6=)",
				egress_rule_str(e, a), ipaddr_str(&c->ns_addr6.addr, b));
		if (r == -EINVAL)
			failed = true;
		else if (r < 0)
			return r;
	}
	return failed ? -EINVAL : 0;
}

/* PortForwardingGateway= and PortForwardingHook= mean nothing without
 * PortForwarding=natpmp: a forgotten line would silently forward nothing. */
static int validate_port_forwarding(struct parse_state *st) {
	static const enum key dependents[] = { K_PF_GATEWAY, K_PF_HOOK };
	int r = 0;

	if (st->c->pf.enabled)
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(dependents); i++) {
		unsigned line = st->seen[dependents[i]];
		if (line)
			r = err(st, line, "%s= given without PortForwarding=natpmp", key_defs[dependents[i]].name);
		if (r != 0 && r != -EINVAL)
			return r;
	}
	return r;
}

/* Checks that need the whole file. */
static int validate_file(struct parse_state *st) {
	struct ns_config *c = st->c;
	char a[IPNET_STRLEN], b[IPNET_STRLEN];
	bool failed = false;
	int r;

	if (!st->seen[K_WG_CONFIG_FILE]) {
		r = err(st, 0, "missing WireGuardConfigFile= in [Namespace]");
		if (r != -EINVAL)
			return r;
		failed = true;
	}

	if (st->bad_v4) {
		/* Unknown addresses: keep the defaults out of the checks across
		 * files and out of any renderer's reach. */
		c->ns_addr = c->bridge_addr = (struct ipnet){ 0 };
	} else {
		unsigned line = st->seen[K_BRIDGE_ADDR] ?: st->seen[K_NS_ADDR];
		struct ipnet net = ipnet_network(&c->ns_addr);

		r = 0;
		if (c->ns_addr.prefix != c->bridge_addr.prefix)
			r = err(st, line, "BridgeAddress: prefix /%u differs from NamespaceAddress prefix /%u",
				c->bridge_addr.prefix, c->ns_addr.prefix);
		else if (!ipnet_contains(&c->ns_addr, &c->bridge_addr.addr))
			r = err(st, line, "BridgeAddress: %s is not in the subnet %s of NamespaceAddress",
				ipaddr_str(&c->bridge_addr.addr, a), ipnet_str(&net, b));
		else if (ipaddr_equal(&c->ns_addr.addr, &c->bridge_addr.addr))
			r = err(st, line, "BridgeAddress: same address as NamespaceAddress (%s)",
				ipaddr_str(&c->ns_addr.addr, a));
		if (r == -EINVAL)
			failed = true;
		else if (r < 0)
			return r;
	}

	if (st->seen[K_NS_ADDR6] && !st->seen[K_BRIDGE_ADDR6])
		r = err(st, st->seen[K_NS_ADDR6], "NamespaceAddressIPv6= given without BridgeAddressIPv6=");
	else if (!st->seen[K_NS_ADDR6] && st->seen[K_BRIDGE_ADDR6])
		r = err(st, st->seen[K_BRIDGE_ADDR6], "BridgeAddressIPv6= given without NamespaceAddressIPv6=");
	else if (st->have_ns6 && st->have_br6 && !st->bad_v6) {
		unsigned line = st->seen[K_BRIDGE_ADDR6];
		struct ipnet net = ipnet_network(&c->ns_addr6);

		r = 0;
		if (c->ns_addr6.prefix != c->bridge_addr6.prefix)
			r = err(st, line,
				"BridgeAddressIPv6: prefix /%u differs from NamespaceAddressIPv6 prefix /%u",
				c->bridge_addr6.prefix, c->ns_addr6.prefix);
		else if (!ipnet_contains(&c->ns_addr6, &c->bridge_addr6.addr))
			r = err(st, line, "BridgeAddressIPv6: %s is not in the subnet %s of NamespaceAddressIPv6",
				ipaddr_str(&c->bridge_addr6.addr, a), ipnet_str(&net, b));
		else if (ipaddr_equal(&c->ns_addr6.addr, &c->bridge_addr6.addr))
			r = err(st, line, "BridgeAddressIPv6: same address as NamespaceAddressIPv6 (%s)",
				ipaddr_str(&c->ns_addr6.addr, a));
		else
			c->has_ipv6 = true;
	} else
		r = 0;
	if (r == -EINVAL)
		failed = true;
	else if (r < 0)
		return r;

	/* The health probe must go through the tunnel: nothing that is routed
	 * to the bridge. */
	if (c->health.has_address) {
		const struct ipaddr *h = &c->health.address;
		unsigned line = c->health.address_line;

		r = 0;
		if ((!st->bad_v4 && ipnet_contains(&c->ns_addr, h)) || (c->has_ipv6 && ipnet_contains(&c->ns_addr6, h)))
			r = err(st, line, "HealthCheckAddress: %s is in the namespace's own subnet (the veth pair), "
				"not reached through the tunnel", ipaddr_str(h, a));
		for (size_t i = 0; r == 0 && i < c->n_accessible_from; i++)
			if (ipnet_contains(&c->accessible_from[i].net, h))
				r = err(st, line,
					"HealthCheckAddress: %s is in AccessibleFrom=%s (line %u), which is routed to the "
					"bridge, not through the tunnel",
					ipaddr_str(h, a), ipnet_str(&c->accessible_from[i].net, b),
					c->accessible_from[i].line);
		if (r == -EINVAL)
			failed = true;
		else if (r < 0)
			return r;
	}
	r = validate_egress(st);
	if (r == -EINVAL)
		failed = true;
	else if (r < 0)
		return r;

	if ((r = validate_port_forwarding(st)) == -EINVAL)
		failed = true;
	else if (r < 0)
		return r;

	return failed ? -EINVAL : 0;
}

/* The namespace name of a path: its file name without ".ini". */
static int name_from_path(const char *path, char *name, size_t size, const char **stem_out,
			  size_t *stem_len) {
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	*stem_out = base;
	*stem_len = n;
	if (n < 4 || !streq(base + n - 4, ".ini"))
		return -EINVAL;
	n -= 4;
	*stem_len = n;
	if (n >= size)
		return -EINVAL;
	memcpy(name, base, n);
	name[n] = '\0';
	return ns_name_valid(name) ? 0 : -EINVAL;
}

static int ns_config_new(const char *path, const char *name, struct ns_config **out) {
	_cleanup_(ns_config_freep) struct ns_config *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	if (strlen(name) >= sizeof(c->name))
		return -EINVAL;
	memcpy(c->name, name, strlen(name) + 1);
	c->source_path = strdup(path);
	if (!c->source_path)
		return -ENOMEM;
	r = ipnet_parse(DEFAULT_NS_ADDR, true, &c->ns_addr);
	if (r < 0)
		return r;
	r = ipnet_parse(DEFAULT_BRIDGE_ADDR, true, &c->bridge_addr);
	if (r < 0)
		return r;
	c->ns_addr.prefix = c->bridge_addr.prefix = DEFAULT_PREFIX4;
	c->wg_impl = WG_IMPL_AUTO;
	c->health.timeout_usec = HEALTH_TIMEOUT_DEFAULT_SEC * USEC_PER_SEC;
	c->health.failover_after = HEALTH_FAILOVER_AFTER_DEFAULT;
	c->health.failback_usec = HEALTH_FAILBACK_DEFAULT_SEC * USEC_PER_SEC;
	c->hardening = true;
	*out = TAKE_PTR(c);
	return 0;
}

/* unread: why the file's text was not parsed (NULL: text holds it); text
 * may still hold (the start of) an over-large file, for the salvage scan.
 * keep_unnamed: when the file name is no namespace name, still set *out
 * (name "", valid false), for ns_config_set.unnamed. */
static int parse_text(const char *path, const char *text, size_t len, const char *unread,
		      bool keep_unnamed, struct ns_config **out, struct diag *d) {
	static const struct ini_handler handler = { .section = on_section, .key_value = on_key };
	_cleanup_(ns_config_freep) struct ns_config *c = NULL;
	_cleanup_(parse_state_done) struct parse_state st = { .path = path, .d = d };
	char name[NS_NAME_MAX + 2] = "";
	const char *stem;
	size_t stem_len;
	bool name_ok;
	int r;

	*out = NULL;
	name_ok = name_from_path(path, name, sizeof(name), &stem, &stem_len) == 0;
	r = ns_config_new(path, name_ok ? name : "", &c);
	if (r < 0)
		return r;
	if (!name_ok) {
		r = diag_error(d, path, 0,
			       "invalid namespace name '%.*s' (from the file name N.ini): 1 to %d characters a-z and 0-9, starting with a letter",
			       (int)stem_len, stem, NS_NAME_MAX);
		if (r != -EINVAL)
			return r;
	}
	st.c = c;
	if (unread) {
		r = diag_error(d, path, 0, "%s", unread);
		if (r != -EINVAL)
			return r;
		/* Nothing known: no addresses to take part in checks across files. */
		c->ns_addr = c->bridge_addr = (struct ipnet){ 0 };
	} else {
		int r2;

		r = ini_parse(path, text, len, INI_FILE_MAX, &handler, &st, d);
		if (r < 0 && r != -EINVAL)
			return r;
		r2 = validate_file(&st);
		if (r2 < 0 && r2 != -EINVAL)
			return r2;
		if (r2 < 0)
			r = r2;
	}
	if (!name_ok && !keep_unnamed)
		return -EINVAL;
	/* Fail-closed: every unit-like name of a file with errors. */
	if ((r < 0 || !name_ok) && text) {
		int r2 = salvage_units(&st, text, len);
		if (r2 < 0)
			return r2;
	}
	c->valid = name_ok && r == 0;
	*out = TAKE_PTR(c);
	return name_ok ? r : -EINVAL;
}

static int parse_mem(const char *path, const char *text, size_t len, bool keep_unnamed,
		     struct ns_config **out, struct diag *d) {
	char why[64];

	if (len > INI_FILE_MAX) {
		/* Not parsed, but scanned for names to keep from starting. */
		snprintf(why, sizeof(why), "file is larger than %d bytes", INI_FILE_MAX);
		return parse_text(path, text, len, why, keep_unnamed, out, d);
	}
	return parse_text(path, text, len, NULL, keep_unnamed, out, d);
}

int ns_config_parse(const char *path, const char *text, size_t len, struct ns_config **out,
		    struct diag *d) {
	return parse_mem(path, text, len, false, out, d);
}

static int load_file(const char *path, bool keep_unnamed, struct ns_config **out, struct diag *d) {
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	struct stat st;
	int r;

	*out = NULL;
	/* Not opened at all unless regular: a FIFO would block the generator
	 * at boot, a device could be endless. (The directory is root's; the
	 * gap between stat and open is not an attack surface.) */
	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return parse_text(path, NULL, 0, "not a regular file", keep_unnamed, out, d);
	r = read_file_capped(path, INI_FILE_MAX, &text, &len);
	if (r == -EFBIG) {
		/* Too large to parse; its start is still scanned for names to
		 * keep from starting (parse_mem() sees more than
		 * INI_FILE_MAX bytes, and says so). */
		r = read_file_head(path, SALVAGE_MAX, &text, &len);
		if (r < 0)
			return r;
		return parse_mem(path, text, len, keep_unnamed, out, d);
	}
	if (r < 0)
		return r;
	return parse_text(path, text, len, NULL, keep_unnamed, out, d);
}

int ns_config_load_file(const char *path, struct ns_config **out, struct diag *d) {
	return load_file(path, false, out, d);
}

/* ---- across files ----------------------------------------------------- */

/* "foo@.service" for "foo@bar.service" or "foo@.service"; NULL for a plain
 * name. The caller frees. */
static char *unit_template_of(const char *u) {
	const char *at = strchr(u, '@'), *dot = strrchr(u, '.');
	char *t;

	if (!at || !dot || dot < at)
		return NULL;
	if (asprintf(&t, "%.*s%s", (int)(at - u + 1), u, dot) < 0)
		return NULL;
	return t;
}

bool unit_dropin_applies(const char *dropin_unit, const char *u) {
	_cleanup_free_ char *t = NULL;

	if (streq(dropin_unit, u))
		return true;
	t = unit_template_of(u);
	return t && !streq(t, u) && streq(t, dropin_unit);
}

bool units_conflict(const char *a, const char *b) {
	return unit_dropin_applies(a, b) || unit_dropin_applies(b, a);
}

/* A hash of the name a unit's drop-in applies through: the template's for
 * "foo@bar.service" and "foo@.service", the unit's own otherwise. Units
 * whose keys differ never conflict, so the pairwise check compares numbers
 * and looks at names only on a match (the generator runs at boot). */
static uint64_t unit_conflict_key(const char *u) {
	const char *at = strchr(u, '@'), *dot = strrchr(u, '.');
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */

	for (const char *p = u; *p; p++) {
		if (at && dot && dot > at && p > at && p < dot)
			continue; /* the instance part */
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	}
	return h;
}

void ns_config_remove_unit(struct ns_config *c, size_t i) {
	free(c->units[i].name);
	free(c->units[i].via);
	memmove(c->units + i, c->units + i + 1, (c->n_units - i - 1) * sizeof(*c->units));
	c->n_units--;
}

static void unit_remove(struct ns_config *c, uint64_t *keys, size_t i) {
	memmove(keys + i, keys + i + 1, (c->n_units - i - 1) * sizeof(*keys));
	ns_config_remove_unit(c, i);
}

/* Checks the later namespace b against the earlier a (sorted by name); the
 * error and the invalidity go to b, so adding a file never breaks a
 * namespace that already worked. A unit claimed by a is dropped from b's
 * list, so b's fail-closed confinement cannot fight a's. */
static int check_pair(const struct ns_config *a, const uint64_t *akeys, struct ns_config *b,
		      uint64_t *bkeys, struct diag *d) {
	char x[IPNET_STRLEN], y[IPNET_STRLEN];
	bool failed = false;
	int r;

#define FAIL(line, ...)                                                        \
	do {                                                                   \
		r = diag_error(d, b->source_path, (line), __VA_ARGS__);        \
		if (r != -EINVAL)                                              \
			return r;                                              \
		failed = true;                                                 \
	} while (0)

	if (a->ns_addr.addr.family == AF_INET && b->ns_addr.addr.family == AF_INET) {
		struct ipnet na = ipnet_network(&a->ns_addr), nb = ipnet_network(&b->ns_addr);
		if (ipnet_overlaps(&na, &nb))
			FAIL(b->ns_addr_line,
			     "NamespaceAddress: subnet %s overlaps subnet %s of namespace '%s' (%s)",
			     ipnet_str(&nb, x), ipnet_str(&na, y), a->name, a->source_path);
	}
	if (a->has_ipv6 && b->has_ipv6) {
		struct ipnet na = ipnet_network(&a->ns_addr6), nb = ipnet_network(&b->ns_addr6);
		if (ipnet_overlaps(&na, &nb))
			FAIL(b->ns_addr6_line,
			     "NamespaceAddressIPv6: subnet %s overlaps subnet %s of namespace '%s' (%s)",
			     ipnet_str(&nb, x), ipnet_str(&na, y), a->name, a->source_path);
	}
	for (size_t j = 0; j < b->n_port_mappings; j++)
		for (size_t i = 0; i < a->n_port_mappings; i++) {
			const struct port_mapping *pa = &a->port_mappings[i], *pb = &b->port_mappings[j];
			if (pa->from == pb->from && (pa->proto & pb->proto)) {
				FAIL(pb->line,
				     "PortMapping: host port %u/%s is already mapped by namespace '%s' (%s:%u)",
				     pb->from, proto_str(pa->proto & pb->proto), a->name, a->source_path,
				     pa->line);
				break;
			}
		}
	for (size_t j = 0; j < b->n_units;) {
		const struct confined_unit *bu = &b->units[j];
		bool removed = false;

		for (size_t i = 0; i < a->n_units; i++) {
			if (akeys[i] != bkeys[j] || !units_conflict(a->units[i].name, bu->name))
				continue;
			const struct confined_unit *au = &a->units[i];
			char bwith[UNIT_NAME_MAX + 16] = "", awith[UNIT_NAME_MAX + 16] = "";
			bool via_left = false;

			/* "'foo.socket' (with foo.service)": a companion, which is
			 * dropped without a word when its unit was (a clash of
			 * foo.service means one of foo.socket too). */
			if (bu->via) {
				for (size_t k = 0; k < b->n_units; k++)
					via_left = via_left || streq(b->units[k].name, bu->via);
				if (!via_left) {
					b->valid = false;
					unit_remove(b, bkeys, j);
					removed = true;
					break;
				}
				snprintf(bwith, sizeof(bwith), " (with %s)", bu->via);
			}
			if (au->via)
				snprintf(awith, sizeof(awith), " (with %s)", au->via);
			if (streq(au->name, bu->name))
				FAIL(bu->line, "Unit: '%s'%s is already confined by namespace '%s'%s (%s:%u)", bu->name,
				     bwith, a->name, awith, a->source_path, au->line);
			else
				FAIL(bu->line, "Unit: '%s'%s conflicts with '%s'%s, confined by namespace '%s' (%s:%u)",
				     bu->name, bwith, au->name, awith, a->name, a->source_path, au->line);
			unit_remove(b, bkeys, j);
			removed = true;
			break;
		}
		if (!removed)
			j++;
	}
#undef FAIL
	if (failed)
		b->valid = false;
	return failed ? -EINVAL : 0;
}

struct key_table {
	uint64_t **keys; /* per namespace, parallel to its units */
	size_t n;
};
static void key_table_clear(struct key_table *t) {
	for (size_t i = 0; i < t->n; i++)
		free(t->keys[i]);
	free(t->keys);
}

/* This file's errors recorded in d from entry `from` on, formatted, into
 * its record (the messages its failing units show). */
static int file_take_errors(struct config_file *f, const struct diag *d, size_t from) {
	for (size_t i = from; i < d->n; i++) {
		char *m;

		if (d->entries[i].level != DIAG_ERROR)
			continue;
		m = diag_format(&d->entries[i]);
		if (!m || ARRAY_APPEND(f->errors, f->n_errors, m) < 0) {
			free(m);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Across the files named like namespaces, each later one against each
 * earlier one: the error goes to the later file. */
static int check_across(struct ns_config_set *s, struct diag *d) {
	_cleanup_(key_table_clear) struct key_table t = { 0 };
	bool failed = false;

	t.keys = calloc(s->n_files ? s->n_files : 1, sizeof(*t.keys));
	if (!t.keys)
		return -ENOMEM;
	t.n = s->n_files;
	for (size_t i = 0; i < s->n_files; i++) {
		const struct ns_config *c = s->files[i].config;
		if (!c || !s->files[i].name[0])
			continue;
		t.keys[i] = calloc(c->n_units ? c->n_units : 1, sizeof(**t.keys));
		if (!t.keys[i])
			return -ENOMEM;
		for (size_t u = 0; u < c->n_units; u++)
			t.keys[i][u] = unit_conflict_key(c->units[u].name);
	}
	for (size_t j = 1; j < s->n_files; j++)
		for (size_t i = 0; i < j; i++) {
			struct config_file *fa = &s->files[i], *fb = &s->files[j];
			size_t from = d->n;
			int r;

			if (!t.keys[i] || !t.keys[j])
				continue;
			r = check_pair(fa->config, t.keys[i], fb->config, t.keys[j], d);
			if (r < 0 && r != -EINVAL)
				return r;
			if (file_take_errors(fb, d, from) < 0)
				return -ENOMEM;
			if (!fb->config->valid) {
				fb->state = CONFIG_INVALID;
				failed = true;
			}
		}
	return failed ? -EINVAL : 0;
}

static int cmp_str(const void *a, const void *b) {
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *path_join(const char *dir, const char *name) {
	size_t n = strlen(dir);
	char *p;

	if (asprintf(&p, "%s%s%s", dir, n > 0 && dir[n - 1] == '/' ? "" : "/", name) < 0)
		return NULL;
	return p;
}

/* The *.ini names in dir, sorted. -ENOENT for a missing dir. */
static int ini_names(const char *dir, char ***out, size_t *n_out) {
	_cleanup_closedir_ DIR *dh = opendir(dir);
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;

	if (!dh)
		return -errno;
	errno = 0;
	while ((de = readdir(dh))) {
		size_t len = strlen(de->d_name);
		char *copy;

		if (len < 4 || !streq(de->d_name + len - 4, ".ini"))
			continue;
		copy = strdup(de->d_name);
		if (!copy || ARRAY_APPEND(names, n, copy) < 0) {
			free(copy);
			strv_free(names, n);
			return -ENOMEM;
		}
		errno = 0;
	}
	if (errno) {
		int r = -errno;
		strv_free(names, n);
		return r;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	*out = names;
	*n_out = n;
	return 0;
}

/* One file of the directory into its record. */
static int load_into(const char *path, struct config_file *f, struct diag *d) {
	char name[NS_NAME_MAX + 2] = "";
	const char *stem;
	size_t stem_len, from = d->n;
	int r;

	f->path = strdup(path);
	if (!f->path)
		return -ENOMEM;
	/* A valid name has at most NS_NAME_MAX characters. */
	if (name_from_path(path, name, sizeof(name), &stem, &stem_len) == 0)
		memcpy(f->name, name, strnlen(name, NS_NAME_MAX) + 1);
	r = load_file(path, true, &f->config, d);
	if (r == -ENOMEM)
		return r;
	if (!f->config) {
		f->state = CONFIG_UNREADABLE;
		f->read_error = r;
		r = diag_error(d, path, 0, "cannot read file: %s", strerror(-r));
		if (r != -EINVAL)
			return r;
	} else
		f->state = f->config->valid ? CONFIG_VALID : CONFIG_INVALID;
	return file_take_errors(f, d, from);
}

int ns_config_load_dir(const char *dir, struct ns_config_set *out, struct diag *d) {
	_cleanup_(ns_config_set_clear) struct ns_config_set set = { 0 };
	char **names = NULL;
	size_t n_names = 0;
	bool failed = false;
	int r;

	*out = (struct ns_config_set){ 0 };
	r = ini_names(dir, &names, &n_names);
	if (r == -ENOENT)
		return 0; /* no configuration at all */
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		char *m;
		int k = diag_error(d, dir, 0, "cannot read the directory: %s", strerror(-r));
		if (k != -EINVAL || asprintf(&m, "%s: cannot read the directory: %s", dir, strerror(-r)) < 0)
			return -ENOMEM;
		if (ARRAY_APPEND(set.errors, set.n_errors, m) < 0) {
			free(m);
			return -ENOMEM;
		}
		*out = set;
		set = (struct ns_config_set){ 0 };
		return -EINVAL;
	}
	set.files = n_names ? calloc(n_names, sizeof(*set.files)) : NULL;
	if (n_names && !set.files) {
		strv_free(names, n_names);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_names; i++) {
		_cleanup_free_ char *path = path_join(dir, names[i]);
		struct config_file *f = &set.files[set.n_files++];

		r = path ? load_into(path, f, d) : -ENOMEM;
		if (r < 0) {
			strv_free(names, n_names);
			return r;
		}
		failed |= f->state != CONFIG_VALID || !f->name[0];
	}
	strv_free(names, n_names);
	r = check_across(&set, d);
	if (r == -EINVAL)
		failed = true;
	else if (r < 0)
		return r;
	*out = set;
	set = (struct ns_config_set){ 0 };
	return failed ? -EINVAL : 0;
}

int ns_config_load_one(const char *dir, const char *name, struct ns_config **out, struct diag *d) {
	_cleanup_(ns_config_set_clear) struct ns_config_set set = { 0 };
	_cleanup_(diag_clear) struct diag all = { 0 };
	struct config_file *f = NULL;
	int r;

	*out = NULL;
	if (!ns_name_valid(name))
		return diag_error(d, NULL, 0,
				  "invalid namespace name '%s': 1 to %d characters a-z and 0-9, starting with a letter",
				  name, NS_NAME_MAX);
	/* The same view as the generator's: the whole directory, with the
	 * checks across files; keep the messages about this file. */
	r = ns_config_load_dir(dir, &set, &all);
	if (r < 0 && r != -EINVAL)
		return r;
	for (size_t i = 0; i < set.n_files; i++)
		if (streq(set.files[i].name, name))
			f = &set.files[i];
	if (!f)
		return -ENOENT;
	if (f->state == CONFIG_UNREADABLE)
		return f->read_error; /* the caller's to report, with its errno */
	for (size_t i = 0; i < all.n; i++) {
		struct diag_entry *e = &all.entries[i];
		if (!e->file || !streq(e->file, f->path))
			continue;
		if (ARRAY_APPEND(d->entries, d->n, *e) < 0)
			return -ENOMEM;
		if (e->level == DIAG_ERROR)
			d->n_errors++;
		*e = (struct diag_entry){ 0 };
	}
	*out = TAKE_PTR(f->config);
	return f->state == CONFIG_VALID ? 0 : -EINVAL;
}
