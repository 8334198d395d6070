/* SPDX-License-Identifier: MIT */
/* The ruleset renderer, from models built directly (no parser involved):
 * key rules per configuration, error paths, and properties over every test
 * configuration, checked by reading the rendered text back. */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "config.h"
#include "ruleset.h"
#include "test.h"
#include "util.h"
#include "wgconf.h"

/* A test configuration: the model plus the storage its arrays point into. */
struct tcase {
	const char *label;
	struct ns_config ns;
	struct wg_config wg;
	struct ns_range accessible[4];
	struct port_mapping maps[4];
	struct open_port opens[4];
	struct egress_rule egress[6];
	struct ipnet wg_addrs[2];
	struct ipaddr dns[4];
};

static void net(const char *s, struct ipnet *out) {
	int r = ipnet_parse(s, true, out);
	CHECK(r == 0, "ipnet_parse(%s)", s);
}

static void addr(const char *s, struct ipaddr *out) {
	int r = ipaddr_parse(s, out);
	CHECK(r == 0, "ipaddr_parse(%s)", s);
}

/* Defaults as the ini loader gives them: 192.168.15.1/24 and .5/24. */
static void tcase_init(struct tcase *t, const char *label, const char *name) {
	memset(t, 0, sizeof(*t));
	t->label = label;
	snprintf(t->ns.name, sizeof(t->ns.name), "%s", name);
	net("192.168.15.1/24", &t->ns.ns_addr);
	net("192.168.15.5/24", &t->ns.bridge_addr);
	t->ns.accessible_from = t->accessible;
	t->ns.port_mappings = t->maps;
	t->ns.open_ports = t->opens;
	t->ns.egress = t->egress;
	t->ns.hardening = true;
	t->ns.valid = true;
	t->wg.addresses = t->wg_addrs;
	t->wg.dns = t->dns;
}

static void add_accessible(struct tcase *t, const char *s) {
	net(s, &t->accessible[t->ns.n_accessible_from++].net);
}
static void add_map(struct tcase *t, uint16_t from, uint16_t to, enum proto p) {
	t->maps[t->ns.n_port_mappings++] = (struct port_mapping){ .from = from, .to = to, .proto = p };
}
static void add_open(struct tcase *t, uint16_t port, enum proto p) {
	t->opens[t->ns.n_open_ports++] = (struct open_port){ .port = port, .proto = p };
}
static void add_egress(struct tcase *t, const char *s, uint16_t port, enum proto p) {
	struct egress_rule *e = &t->egress[t->ns.n_egress++];
	net(s, &e->net);
	e->port = port;
	e->proto = port ? p : 0;
}
static void add_wg_addr(struct tcase *t, const char *s) { net(s, &t->wg_addrs[t->wg.n_addresses++]); }
static void add_dns(struct tcase *t, const char *s) { addr(s, &t->dns[t->wg.n_dns++]); }
static void set_ipv6(struct tcase *t, const char *ns6, const char *br6) {
	t->ns.has_ipv6 = true;
	net(ns6, &t->ns.ns_addr6);
	net(br6, &t->ns.bridge_addr6);
}

enum { CASE_MIN4, CASE_DUAL, CASE_MAPS, CASE_PROTON, CASE_MULTIDNS, CASE_V6BRIDGE_V4TUN, CASE_EGRESS, N_CASES };

static void build_cases(struct tcase *c) {
	tcase_init(&c[CASE_MIN4], "minimal v4", "min");
	add_wg_addr(&c[CASE_MIN4], "10.64.1.2/32");
	add_dns(&c[CASE_MIN4], "10.64.0.1");

	tcase_init(&c[CASE_DUAL], "dual-stack", "dual");
	add_wg_addr(&c[CASE_DUAL], "10.66.1.2/32");
	add_wg_addr(&c[CASE_DUAL], "fc00:bbbb:bbbb:bb01::1:2/128");
	add_dns(&c[CASE_DUAL], "10.64.0.1");
	add_dns(&c[CASE_DUAL], "fc00:bbbb:bbbb:bb01::1");
	set_ipv6(&c[CASE_DUAL], "fd93:9701:1d00::2/64", "fd93:9701:1d00::1/64");
	add_accessible(&c[CASE_DUAL], "192.168.1.0/24");
	add_accessible(&c[CASE_DUAL], "fd00:1::/64");
	add_map(&c[CASE_DUAL], 9091, 9091, PROTO_TCP);

	tcase_init(&c[CASE_MAPS], "port mappings", "maps");
	add_wg_addr(&c[CASE_MAPS], "10.2.0.2/32");
	add_dns(&c[CASE_MAPS], "10.2.0.1");
	add_accessible(&c[CASE_MAPS], "192.168.1.0/24");
	add_map(&c[CASE_MAPS], 8080, 9091, PROTO_TCP);
	add_map(&c[CASE_MAPS], 5353, 53, PROTO_UDP);
	add_map(&c[CASE_MAPS], 51413, 51413, PROTO_BOTH);
	add_map(&c[CASE_MAPS], 8080, 9091, PROTO_TCP); /* a duplicate collapses */

	tcase_init(&c[CASE_PROTON], "ProtonVPN DNS inside AccessibleFrom", "proton");
	add_wg_addr(&c[CASE_PROTON], "10.2.0.2/32");
	add_dns(&c[CASE_PROTON], "10.2.0.1");
	add_accessible(&c[CASE_PROTON], "10.0.0.0/8");
	add_accessible(&c[CASE_PROTON], "192.168.0.0/16");
	add_open(&c[CASE_PROTON], 51413, PROTO_BOTH);
	add_open(&c[CASE_PROTON], 6881, PROTO_UDP);

	tcase_init(&c[CASE_MULTIDNS], "several DNS servers, IPv6 server without IPv6 tunnel", "multi");
	net("10.10.0.1/16", &c[CASE_MULTIDNS].ns.ns_addr);
	net("10.10.0.2/16", &c[CASE_MULTIDNS].ns.bridge_addr);
	add_wg_addr(&c[CASE_MULTIDNS], "172.16.0.2/32");
	add_dns(&c[CASE_MULTIDNS], "1.1.1.1");
	add_dns(&c[CASE_MULTIDNS], "9.9.9.9");
	add_dns(&c[CASE_MULTIDNS], "1.1.1.1");
	add_dns(&c[CASE_MULTIDNS], "2606:4700:4700::1111");

	tcase_init(&c[CASE_V6BRIDGE_V4TUN], "IPv6 bridge, IPv4-only tunnel", "vbr");
	add_wg_addr(&c[CASE_V6BRIDGE_V4TUN], "10.5.0.2/32");
	add_dns(&c[CASE_V6BRIDGE_V4TUN], "10.5.0.1");
	set_ipv6(&c[CASE_V6BRIDGE_V4TUN], "fd93:1::2/64", "fd93:1::1/64");
	add_accessible(&c[CASE_V6BRIDGE_V4TUN], "fd00:2::/48");
	add_map(&c[CASE_V6BRIDGE_V4TUN], 80, 8080, PROTO_TCP);

	tcase_init(&c[CASE_EGRESS], "AllowedEgress, both families", "eg");
	add_wg_addr(&c[CASE_EGRESS], "10.2.0.2/32");
	add_dns(&c[CASE_EGRESS], "10.2.0.1");
	set_ipv6(&c[CASE_EGRESS], "fd93:9701:1d00::2/64", "fd93:9701:1d00::1/64");
	add_accessible(&c[CASE_EGRESS], "192.168.1.0/24");
	add_egress(&c[CASE_EGRESS], "192.168.1.10/32", 8096, PROTO_TCP);
	add_egress(&c[CASE_EGRESS], "10.20.0.0/16", 5432, PROTO_BOTH);
	add_egress(&c[CASE_EGRESS], "192.168.1.20/32", 0, 0);
	add_egress(&c[CASE_EGRESS], "fd00:1::10/128", 8096, PROTO_UDP);
	add_egress(&c[CASE_EGRESS], "fd00:2::/64", 0, 0);
}

/* ---- Reading rendered text back ---- */

/* The lines of the block "KIND NAME {" ... "}" of the last table in text
 * (the replacing one), or NULL. */
static char *block_of(const char *text, const char *kind, const char *name) {
	char head[128];
	const char *start, *end;

	snprintf(head, sizeof(head), "\t%s %s {\n", kind, name);
	start = strstr(text, head);
	if (!start)
		return NULL;
	start += strlen(head);
	end = strstr(start, "\n\t}");
	if (!end)
		return NULL;
	return strndup(start, (size_t)(end - start) + 1);
}

static bool has_line(const char *block, const char *line) {
	size_t n = strlen(line);
	for (const char *p = block; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		while (len && (*p == '\t' || *p == ' '))
			p++, len--;
		if (len == n && strncmp(p, line, n) == 0)
			return true;
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

/* The elements of a set or map block, parsed as addresses (sets of
 * addresses) into out; returns the count or -1. */
static int set_addresses(const char *text, const char *set, struct ipaddr *out, int max) {
	_cleanup_free_ char *b = block_of(text, "set", set);
	char *p, *e;
	int n = 0;

	if (!b)
		return -1;
	p = strstr(b, "elements = { ");
	if (!p)
		return 0;
	p += strlen("elements = { ");
	e = strstr(p, " }");
	if (!e)
		return -1;
	*e = '\0';
	for (char *tok = strtok(p, ", "); tok; tok = strtok(NULL, ", ")) {
		if (n >= max || ipaddr_parse(tok, &out[n]) < 0)
			return -1;
		n++;
	}
	return n;
}

/* Property: every base chain of the namespace table drops by policy, and the
 * output chain ends in a drop. */
static void check_policies_drop(const char *label, const char *text) {
	const char *tbl = strstr(text, "\ntable inet " NS_TABLE_NAME " {\n\t");
	CHECK(tbl != NULL, "%s: replacing table present", label);
	if (!tbl)
		return;
	for (const char *p = strstr(tbl, "type filter hook"); p; p = strstr(p + 1, "type filter hook")) {
		const char *nl = strchr(p, '\n');
		_cleanup_free_ char *line = strndup(p, nl ? (size_t)(nl - p) : strlen(p));
		CHECK(strstr(line, "policy drop;") != NULL, "%s: chain with accepting policy: %s", label, line);
	}
	CHECK(strstr(tbl, "policy accept") == NULL, "%s: no accepting policy at all", label);
}

/* Property: the DNS accepts name exactly the config's DNS servers of the
 * tunnel's families, only via N0, and the chain ends in a drop. */
static void check_dns_exact(const struct tcase *t, const char *text) {
	_cleanup_free_ char *chain = block_of(text, "chain", "dns-restrict");
	char wg_if[32], line[128];
	struct ipaddr got[16];
	int n4, n6, ngot = 0;
	bool tun4 = false, tun6 = false;

	for (size_t i = 0; i < t->wg.n_addresses; i++) {
		tun4 = tun4 || t->wg.addresses[i].addr.family == AF_INET;
		tun6 = tun6 || t->wg.addresses[i].addr.family == AF_INET6;
	}
	snprintf(wg_if, sizeof(wg_if), "%s0", t->ns.name);
	CHECK(chain != NULL, "%s: dns-restrict chain", t->label);
	if (!chain)
		return;
	/* Every accept in the chain is one of these two exact rules. */
	for (char *p = chain; (p = strstr(p, "accept")); p++) {
		const char *bol = p;
		while (bol > chain && bol[-1] != '\n')
			bol--;
		while (*bol == '\t')
			bol++;
		_cleanup_free_ char *l = strndup(bol, (size_t)(p - bol) + strlen("accept"));
		char want4[128], want6[128];
		snprintf(want4, sizeof(want4), "oifname \"%s\" ip daddr @dns4 ct mark set 0x1 accept", wg_if);
		snprintf(want6, sizeof(want6), "oifname \"%s\" ip6 daddr @dns6 ct mark set 0x1 accept", wg_if);
		CHECK((tun4 && streq(l, want4)) || (tun6 && streq(l, want6)), "%s: unexpected DNS accept: %s",
		      t->label, l);
	}
	CHECK(has_line(chain, "counter name \"dns_drop\" drop"), "%s: DNS drop", t->label);
	snprintf(line, sizeof(line), "meta l4proto { tcp, udp } th dport { 53, 853 } ct direction original jump dns-restrict");
	{
		_cleanup_free_ char *out = block_of(text, "chain", "output");
		CHECK(out && has_line(out, line), "%s: output jumps to dns-restrict", t->label);
	}

	n4 = tun4 ? set_addresses(text, "dns4", got, 16) : 0;
	CHECK(n4 >= 0, "%s: dns4 parses", t->label);
	ngot = n4 > 0 ? n4 : 0;
	n6 = tun6 ? set_addresses(text, "dns6", got + ngot, 16 - ngot) : 0;
	CHECK(n6 >= 0, "%s: dns6 parses", t->label);
	ngot += n6 > 0 ? n6 : 0;
	CHECK(tun6 || !block_of(text, "set", "dns6"), "%s: no dns6 without IPv6 tunnel", t->label);
	/* Same set both ways. */
	for (int i = 0; i < ngot; i++) {
		bool found = false;
		for (size_t j = 0; j < t->wg.n_dns; j++)
			found = found || ipaddr_equal(&got[i], &t->wg.dns[j]);
		CHECK(found, "%s: accepted DNS %d is a configured server", t->label, i);
	}
	for (size_t j = 0; j < t->wg.n_dns; j++) {
		bool wanted = (t->wg.dns[j].family == AF_INET && tun4) || (t->wg.dns[j].family == AF_INET6 && tun6);
		bool found = false;
		for (int i = 0; i < ngot; i++)
			found = found || ipaddr_equal(&got[i], &t->wg.dns[j]);
		char buf[IPNET_STRLEN];
		CHECK(found == wanted, "%s: DNS %s accepted=%d want %d", t->label,
		      ipaddr_str(&t->wg.dns[j], buf), found, wanted);
	}
}

static void check_common(const struct tcase *t, const char *text, const char *table) {
	char head[160];
	snprintf(head, sizeof(head), "table inet %s {\n}\ndelete table inet %s\ntable inet %s {\n", table,
		 table, table);
	CHECK(strstr(text, head) != NULL, "%s: atomic replace of %s", t->label, table);
	CHECK(strstr(text, "flush") == NULL, "%s: never a flush", t->label);
	/* Exactly one replacing table: nothing else is touched. */
	size_t tables = 0;
	for (const char *p = text; (p = strstr(p, "table inet ")); p++)
		tables++;
	CHECK(tables == 3, "%s: mentions only its own table (%zu)", t->label, tables);
}

static void test_properties(struct tcase *cases) {
	for (int i = 0; i < N_CASES; i++) {
		struct tcase *t = &cases[i];
		_cleanup_free_ char *base = NULL, *full = NULL, *host = NULL;
		char host_table[64];

		CHECK(ruleset_ns_base_text(t->ns.name, &t->ns, RULESET_REPLACE, &base) == 0, "%s: base renders", t->label);
		CHECK(ruleset_ns_full_text(&t->ns, &t->wg, RULESET_REPLACE, &full) == 0, "%s: full renders", t->label);
		CHECK(ruleset_host_text(&t->ns, RULESET_REPLACE, &host) == 0, "%s: host renders", t->label);
		if (!base || !full || !host)
			continue;
		snprintf(host_table, sizeof(host_table), "vpn-confinement-%s", t->ns.name);
		check_common(t, base, NS_TABLE_NAME);
		check_common(t, full, NS_TABLE_NAME);
		check_common(t, host, host_table);
		check_policies_drop(t->label, base);
		check_policies_drop(t->label, full);
		check_dns_exact(t, full);
		/* No DNS port in any egress set, whatever the model says. */
		CHECK(!strstr(full, " . 53,") && !strstr(full, " . 53 }") && !strstr(full, " . 853"),
		      "%s: no DNS port allowed out through the veth", t->label);
		/* Without AllowedEgress=, no trace of it anywhere. */
		if (t->ns.n_egress == 0)
			CHECK(!strstr(base, "egress") && !strstr(full, "egress") && !strstr(host, "egress") &&
				      !strstr(host, "masquerade"),
			      "%s: nothing of AllowedEgress= without it", t->label);

		/* Router advertisements are never accepted. */
		_cleanup_free_ char *input = block_of(full, "chain", "input");
		const char *ra = "\t\ticmpv6 type { nd-router-advert, nd-redirect } counter name \"ra_drop\" drop\n";
		const char *first_rule = input ? strstr(input, "policy drop;\n") : NULL;
		while (first_rule && (first_rule = strchr(first_rule, '\n') + 1) && strstr(first_rule, "\t\t#") == first_rule)
			;
		CHECK(first_rule && strncmp(first_rule, ra, strlen(ra)) == 0, "%s: RA drop is the first input rule", t->label);
		const char *once = strstr(full, "nd-router-advert");
		CHECK(once && !strstr(once + 1, "nd-router-advert"), "%s: nd-router-advert named only in the drop", t->label);
		/* Renders are deterministic. */
		_cleanup_free_ char *again = NULL;
		CHECK(ruleset_ns_full_text(&t->ns, &t->wg, RULESET_REPLACE, &again) == 0 && streq(again, full),
		      "%s: deterministic", t->label);
	}
}

static void test_base(struct tcase *cases) {
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *in = NULL, *out = NULL, *fwd = NULL;

	CHECK(ruleset_ns_base_text(cases[CASE_MIN4].ns.name, NULL, RULESET_REPLACE, &text) == 0, "base");
	if (!text)
		return;
	in = block_of(text, "chain", "input");
	out = block_of(text, "chain", "output");
	fwd = block_of(text, "chain", "forward");
	CHECK(in && has_line(in, "type filter hook input priority filter; policy drop;"), "base input");
	CHECK(in && has_line(in, "iifname \"lo\" accept"), "base lo in");
	CHECK(out && has_line(out, "type filter hook output priority filter; policy drop;"), "base output");
	CHECK(out && has_line(out, "oifname \"lo\" accept"), "base lo out");
	CHECK(fwd && has_line(fwd, "type filter hook forward priority filter; policy drop;"), "base forward");
	/* Only lo: no other interface named. */
	CHECK(!strstr(text, "min0") && !strstr(text, "veth"), "base names no interface but lo");
}

static void test_full_min4(struct tcase *cases) {
	_cleanup_free_ char *text = NULL, *out = NULL, *in = NULL, *fwd = NULL;

	CHECK(ruleset_ns_full_text(&cases[CASE_MIN4].ns, &cases[CASE_MIN4].wg, RULESET_REPLACE, &text) == 0, "full");
	if (!text)
		return;
	out = block_of(text, "chain", "output");
	in = block_of(text, "chain", "input");
	fwd = block_of(text, "chain", "forward");
	CHECK(out && has_line(out, "oifname \"min0\" ct state new meta nfproto ipv4 ct mark set 0x1 accept"),
	      "v4-only tunnel: only IPv4 leaves via N0");
	CHECK(out && has_line(out, "oifname \"min0\" ct mark 0x1 ct state established,related accept"), "out est N0");
	CHECK(out && has_line(out, "oifname \"veth-min\" ct mark 0x2 ct direction reply ct state established,related accept"),
	      "out est veth only for flows that came in on it");
	CHECK(out && has_line(out, "counter name \"output_drop\" drop"), "output counted drop");
	CHECK(in && has_line(in, "iifname \"min0\" ct state new meta nfproto ipv4 tcp dport @open_tcp ct mark set 0x1 accept"),
	      "open ports on N0");
	CHECK(in && has_line(in, "iifname \"veth-min\" ct state new ip saddr @accessible4 ip daddr 192.168.15.1 tcp dport @mapped_tcp ct mark set 0x2 accept"),
	      "mapped ports from veth");
	CHECK(in && !strstr(in, "nd-neighbor"), "no ND without IPv6 bridge");
	CHECK(!strstr(text, "ip6 "), "no IPv6 rule at all for a v4-only config");
	CHECK(fwd && !strstr(fwd, "accept"), "forward accepts nothing");
	_cleanup_free_ char *acc = block_of(text, "set", "accessible4");
	CHECK(acc && has_line(acc, "elements = { 192.168.15.0/24 }"), "accessible4 is the bridge subnet");
}

static void test_full_dual(struct tcase *cases) {
	_cleanup_free_ char *text = NULL, *out = NULL, *in = NULL, *acc6 = NULL;

	CHECK(ruleset_ns_full_text(&cases[CASE_DUAL].ns, &cases[CASE_DUAL].wg, RULESET_REPLACE, &text) == 0, "full dual");
	if (!text)
		return;
	out = block_of(text, "chain", "output");
	in = block_of(text, "chain", "input");
	acc6 = block_of(text, "set", "accessible6");
	CHECK(out && has_line(out, "oifname \"dual0\" ct state new ct mark set 0x1 accept"), "dual: both families via N0");
	CHECK(in && has_line(in, "iifname \"veth-dual\" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept"),
	      "ND on veth with IPv6 bridge");
	CHECK(in && has_line(in, "iifname \"veth-dual\" ct state new ip6 saddr @accessible6 ip6 daddr fd93:9701:1d00::2 tcp dport @mapped_tcp ct mark set 0x2 accept"),
	      "IPv6 mapped ports");
	CHECK(acc6 && has_line(acc6, "elements = { fd93:9701:1d00::/64, fd00:1::/64 }"), "accessible6: bridge subnet + ranges");
}

static void test_v6bridge_v4tunnel(struct tcase *cases) {
	struct tcase *t = &cases[CASE_V6BRIDGE_V4TUN];
	_cleanup_free_ char *text = NULL, *out = NULL;

	CHECK(ruleset_ns_full_text(&t->ns, &t->wg, RULESET_REPLACE, &text) == 0, "full v6 bridge");
	if (!text)
		return;
	out = block_of(text, "chain", "output");
	CHECK(out && has_line(out, "oifname \"vbr0\" ct state new meta nfproto ipv4 ct mark set 0x1 accept"),
	      "IPv6 bridge does not open IPv6 via the tunnel");
	CHECK(!block_of(text, "set", "dns6"), "no dns6");
}

static void test_host(struct tcase *cases) {
	_cleanup_free_ char *text = NULL, *pre = NULL, *fwd = NULL, *in = NULL, *map = NULL, *mapu = NULL,
			   *to = NULL, *post = NULL;

	CHECK(ruleset_host_text(&cases[CASE_MAPS].ns, RULESET_REPLACE, &text) == 0, "host");
	if (!text)
		return;
	pre = block_of(text, "chain", "prerouting");
	fwd = block_of(text, "chain", "forward");
	in = block_of(text, "chain", "input");
	post = block_of(text, "chain", "postrouting");
	map = block_of(text, "map", "dnat_tcp");
	mapu = block_of(text, "map", "dnat_udp");
	to = block_of(text, "set", "mapped_tcp");
	CHECK(map && has_line(map, "elements = { 8080 : 9091, 51413 : 51413 }"), "tcp map, deduplicated, sorted");
	CHECK(mapu && has_line(mapu, "elements = { 5353 : 53, 51413 : 51413 }"), "udp map");
	CHECK(to && has_line(to, "elements = { 9091, 51413 }"), "mapped tcp ports");
	CHECK(pre && has_line(pre, "iifname != \"maps-br\" fib daddr type local ip saddr @accessible4 meta l4proto tcp dnat ip to 192.168.15.1 : tcp dport map @dnat_tcp"),
	      "DNAT from AccessibleFrom");
	CHECK(fwd && has_line(fwd, "iifname \"maps-br\" ct direction reply ct state established,related ct reply ip saddr 192.168.15.1 accept"),
	      "guard: replies only of flows toward the namespace");
	CHECK(in && has_line(in, "iifname \"maps-br\" ct direction reply ct state established,related ct reply ip saddr 192.168.15.1 accept"),
	      "guard input: replies only of flows toward the namespace");
	CHECK(fwd && !strstr(fwd, "iifname \"maps-br\" ct direction reply ct state established,related accept\n") && in &&
		      !strstr(in, "iifname \"maps-br\" ct direction reply ct state established,related accept\n"),
	      "no reply accepted from the bridge whatever its flow");
	CHECK(fwd && has_line(fwd, "iifname \"maps-br\" counter name \"guard_forward_drop\" drop"), "guard drops from bridge");
	CHECK(fwd && has_line(fwd, "type filter hook forward priority filter; policy accept;"), "host policy accept");
	CHECK(in && has_line(in, "iifname \"maps-br\" counter name \"guard_input_drop\" drop"), "guard input");
	CHECK(post && has_line(post, "oifname \"maps-br\" ip daddr 192.168.15.1 ct status dnat fib saddr type local snat ip to 192.168.15.5"),
	      "host's own DNATed connections get the bridge address");
	/* Every rule of the host's filter chains names our bridge: nothing else
	 * on the host is acted on. */
	const char *chains[] = { fwd, in };
	for (size_t c = 0; c < ELEMENTSOF(chains); c++)
		for (const char *p = chains[c]; p && *p;) {
			const char *nl = strchr(p, '\n');
			_cleanup_free_ char *l = strndup(p, nl ? (size_t)(nl - p) : strlen(p));
			bool rule = !strstr(l, "#") && !strstr(l, "type filter hook");
			CHECK(!rule || strstr(l, "ifname \"maps-br\" "), "host rule outside our bridge: %s", l);
			p = nl ? nl + 1 : NULL;
		}
}

/* The position of line (whole, after tabs) in block, or -1. */
static ssize_t line_pos(const char *block, const char *line) {
	size_t n = strlen(line);
	for (const char *p = block; p && *p;) {
		const char *nl = strchr(p, '\n'), *q = p;
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		while (len && *q == '\t')
			q++, len--;
		if (len == n && strncmp(q, line, n) == 0)
			return p - block;
		p = nl ? nl + 1 : NULL;
	}
	return -1;
}

static void test_egress(struct tcase *cases) {
	struct tcase *t = &cases[CASE_EGRESS];
	_cleanup_free_ char *base = NULL, *base0 = NULL, *plain = NULL, *full = NULL, *host = NULL;
	_cleanup_free_ char *bout = NULL, *bin = NULL, *fout = NULL, *fin = NULL, *hfwd = NULL, *hin = NULL,
			   *hpost = NULL, *e4 = NULL, *p4 = NULL, *e6 = NULL, *p6 = NULL;
	const char *dns_drop = "meta l4proto { tcp, udp } th dport { 53, 853 } counter name \"output_drop\" drop";
	const char *new4 = "oifname \"veth-eg\" ct state new ip daddr @egress4 ct mark set 0x4 accept";
	const char *newp4 = "oifname \"veth-eg\" ct state new ip daddr . meta l4proto . th dport @egress_ports4 ct mark set 0x4 accept";
	const char *new6 = "oifname \"veth-eg\" ct state new ip6 daddr @egress6 ct mark set 0x4 accept";
	const char *est = "oifname \"veth-eg\" ct mark 0x4 ct direction original ct state established,related accept";
	const char *rep = "iifname \"veth-eg\" ct mark 0x4 ct direction reply ct state established,related accept";
	struct ns_config other;

	CHECK(ruleset_ns_base_text("eg", &t->ns, RULESET_REPLACE, &base) == 0, "egress base");
	CHECK(ruleset_ns_base_text("eg", NULL, RULESET_REPLACE, &base0) == 0, "base without a config");
	CHECK(ruleset_ns_base_text("min", &cases[CASE_MIN4].ns, RULESET_REPLACE, &plain) == 0, "base, no egress");
	CHECK(ruleset_ns_full_text(&t->ns, &t->wg, RULESET_REPLACE, &full) == 0, "egress full");
	CHECK(ruleset_host_text(&t->ns, RULESET_REPLACE, &host) == 0, "egress host");
	if (!base || !base0 || !plain || !full || !host)
		return;
	/* Without AllowedEgress= the base form is the name's alone. */
	{
		_cleanup_free_ char *min0 = NULL;
		CHECK(ruleset_ns_base_text("min", NULL, RULESET_REPLACE, &min0) == 0 && min0 && streq(min0, plain),
		      "base without egress == base of the name alone");
	}
	CHECK(!strstr(base0, "egress") && !strstr(base0, "veth"), "base without a config: lo only");

	/* The sets: each kind, "both" as two elements, hosts as addresses. */
	e4 = block_of(base, "set", "egress4");
	p4 = block_of(base, "set", "egress_ports4");
	e6 = block_of(base, "set", "egress6");
	p6 = block_of(base, "set", "egress_ports6");
	CHECK(e4 && has_line(e4, "elements = { 192.168.1.20 }"), "egress4");
	CHECK(p4 && has_line(p4, "elements = { 192.168.1.10 . tcp . 8096, 10.20.0.0/16 . tcp . 5432, 10.20.0.0/16 . udp . 5432 }"),
	      "egress_ports4");
	CHECK(p4 && has_line(p4, "type ipv4_addr . inet_proto . inet_service"), "egress_ports4 type");
	CHECK(e6 && has_line(e6, "elements = { fd00:2::/64 }"), "egress6");
	CHECK(p6 && has_line(p6, "elements = { fd00:1::10 . udp . 8096 }"), "egress_ports6");

	/* Base: DNS dropped before anything goes out through the veth; ND
	 * with the bridge (IPv6); replies in. */
	bout = block_of(base, "chain", "output");
	bin = block_of(base, "chain", "input");
	CHECK(bout && line_pos(bout, dns_drop) >= 0 && line_pos(bout, dns_drop) < line_pos(bout, est) &&
		      line_pos(bout, est) < line_pos(bout, new4),
	      "base: DNS drop, then the egress rules");
	CHECK(bout && line_pos(bout, newp4) >= 0 && line_pos(bout, new6) >= 0, "base: every egress kind");
	CHECK(bout && has_line(bout, "oifname \"veth-eg\" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept"),
	      "base: ND out");
	CHECK(bin && has_line(bin, rep), "base: replies in");
	CHECK(bin && has_line(bin, "iifname \"veth-eg\" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept"),
	      "base: ND in");
	CHECK(!strstr(base, "eg0"), "base: nothing of the tunnel");

	/* Full: after the dns-restrict jump, before the tunnel's accept. */
	fout = block_of(full, "chain", "output");
	fin = block_of(full, "chain", "input");
	{
		ssize_t jump = fout ? line_pos(fout, "meta l4proto { tcp, udp } th dport { 53, 853 } ct direction original jump dns-restrict") : -1;
		ssize_t tun = fout ? line_pos(fout, "oifname \"eg0\" ct state new meta nfproto ipv4 ct mark set 0x1 accept") : -1;
		CHECK(jump >= 0 && tun >= 0 && jump < line_pos(fout, est) && line_pos(fout, new6) < tun,
		      "full: egress after DNS, before the tunnel");
	}
	CHECK(fout && !strstr(fout, dns_drop), "full: DNS goes through dns-restrict, not a drop of its own");
	CHECK(fin && has_line(fin, rep), "full: replies in");

	/* Host: DNS dropped before the accepts, from NamespaceAddress only;
	 * established in both directions; masquerade. */
	hfwd = block_of(host, "chain", "forward");
	hin = block_of(host, "chain", "input");
	hpost = block_of(host, "chain", "postrouting");
	{
		const char *hdns = "iifname \"eg-br\" ct state new meta l4proto { tcp, udp } th dport { 53, 853 } counter name \"guard_forward_drop\" drop";
		const char *hnew = "iifname \"eg-br\" ct state new ip saddr 192.168.15.1 ip daddr @egress4 accept";
		const char *hdrop = "iifname \"eg-br\" counter name \"guard_forward_drop\" drop";
		CHECK(hfwd && line_pos(hfwd, hdns) >= 0 && line_pos(hfwd, hdns) < line_pos(hfwd, hnew) &&
			      line_pos(hfwd, hnew) < line_pos(hfwd, hdrop),
		      "host forward: DNS drop, egress accepts, then the guard's drop");
	}
	CHECK(hfwd && has_line(hfwd, "iifname \"eg-br\" ct state new ip6 saddr fd93:9701:1d00::2 ip6 daddr . meta l4proto . th dport @egress_ports6 accept"),
	      "host forward: IPv6 ports");
	CHECK(hfwd && has_line(hfwd, "iifname \"eg-br\" ct direction original ct state established,related ct original ip saddr 192.168.15.1 accept"),
	      "host forward: the rest of the namespace's flows");
	CHECK(hfwd && has_line(hfwd, "oifname \"eg-br\" ct direction reply ct state established,related ct original ip saddr 192.168.15.1 accept"),
	      "host forward: their replies into the bridge");
	CHECK(hin && has_line(hin, "iifname \"eg-br\" ct state new meta l4proto { tcp, udp } th dport { 53, 853 } counter name \"guard_input_drop\" drop"),
	      "host input: DNS drop");
	CHECK(hin && has_line(hin, "iifname \"eg-br\" ct state new ip saddr 192.168.15.1 ip daddr . meta l4proto . th dport @egress_ports4 accept"),
	      "host input: the host's own addresses when listed");
	CHECK(hpost && has_line(hpost, "oifname != \"eg-br\" ip saddr 192.168.15.1 masquerade") &&
		      has_line(hpost, "oifname != \"eg-br\" ip6 saddr fd93:9701:1d00::2 masquerade"),
	      "host: masquerade");

	/* Errors: a config of another name, IPv6 without the pair, a port
	 * without a protocol. */
	{
		_cleanup_free_ char *s = NULL;
		struct egress_rule bad = { .port = 80, .proto = 0 };

		CHECK(ruleset_ns_base_text("other", &t->ns, RULESET_REPLACE, &s) == -EINVAL, "base: config of another name");
		other = t->ns;
		other.has_ipv6 = false;
		CHECK(ruleset_ns_base_text("eg", &other, RULESET_REPLACE, &s) == -EINVAL, "IPv6 egress without the pair");
		CHECK(ruleset_host_text(&other, RULESET_REPLACE, &s) == -EINVAL, "IPv6 egress without the pair (host)");
		net("10.0.0.1/32", &bad.net);
		other = t->ns;
		other.egress = &bad;
		other.n_egress = 1;
		CHECK(ruleset_ns_full_text(&other, &t->wg, RULESET_REPLACE, &s) == -EINVAL, "a port without a protocol");
		CHECK(s == NULL, "nothing returned");
	}
}

static void test_errors(struct tcase *cases) {
	struct tcase t;
	_cleanup_free_ char *s = NULL;

	t = cases[CASE_MAPS];
	snprintf(t.ns.name, sizeof(t.ns.name), "Bad");
	CHECK(ruleset_ns_base_text(t.ns.name, NULL, RULESET_REPLACE, &s) == -EINVAL, "invalid name rejected");
	snprintf(t.ns.name, sizeof(t.ns.name), "a\"b");
	CHECK(ruleset_host_text(&t.ns, RULESET_REPLACE, &s) == -EINVAL, "quote in name rejected");
	snprintf(t.ns.name, sizeof(t.ns.name), "%s", "");
	CHECK(ruleset_ns_full_text(&t.ns, &t.wg, RULESET_REPLACE, &s) == -EINVAL, "empty name rejected");

	struct port_mapping bad_maps[2] = { { .from = 80, .to = 8080, .proto = PROTO_TCP },
					    { .from = 80, .to = 8081, .proto = PROTO_BOTH } };
	t = cases[CASE_MAPS];
	t.ns.port_mappings = bad_maps;
	t.ns.n_port_mappings = 2;
	CHECK(ruleset_host_text(&t.ns, RULESET_REPLACE, &s) == -EINVAL, "one host port to two ports rejected");
	bad_maps[1].from = 81;
	CHECK(ruleset_host_text(&t.ns, RULESET_REPLACE, &s) == 0, "distinct host ports fine");
	free(TAKE_PTR(s));
	bad_maps[1].to = 0;
	CHECK(ruleset_host_text(&t.ns, RULESET_REPLACE, &s) == -EINVAL, "port 0 rejected");
	CHECK(ruleset_ns_full_text(&t.ns, &t.wg, RULESET_REPLACE, &s) == -EINVAL, "port 0 rejected (ns)");
	bad_maps[1].to = 1;
	bad_maps[1].proto = 0;
	CHECK(ruleset_ns_full_text(&t.ns, &t.wg, RULESET_REPLACE, &s) == -EINVAL, "no protocol rejected");

	t = cases[CASE_MIN4];
	t.wg.n_addresses = 0;
	CHECK(ruleset_ns_full_text(&t.ns, &t.wg, RULESET_REPLACE, &s) == -EINVAL, "tunnel without address rejected");
	CHECK(s == NULL, "nothing returned on error");

	t = cases[CASE_MIN4];
	t.ns.has_ipv6 = true; /* flag without addresses */
	CHECK(ruleset_host_text(&t.ns, RULESET_REPLACE, &s) == -EINVAL, "IPv6 flag without IPv6 addresses rejected");

	/* A full stream is reported, not silently truncated. */
	char small[64];
	FILE *f = fmemopen(small, sizeof(small), "w");
	if (f) {
		setvbuf(f, NULL, _IONBF, 0);
		CHECK(ruleset_render_ns_base(cases[CASE_MIN4].ns.name, NULL, RULESET_REPLACE, f) == -EIO, "write error reported");
		fclose(f);
	}
}

static void test_delete(void) {
	_cleanup_free_ char *s = NULL, *h = NULL;
	CHECK(ruleset_ns_delete_text(&s) == 0, "ns delete");
	CHECK_STREQ(s, "table inet vpn-confinement {\n}\ndelete table inet vpn-confinement\n", "ns delete text");
	CHECK(ruleset_host_delete_text("tr", &h) == 0, "host delete");
	CHECK_STREQ(h, "table inet vpn-confinement-tr {\n}\ndelete table inet vpn-confinement-tr\n", "host delete text");
	free(TAKE_PTR(h));
	CHECK(ruleset_host_delete_text("x y", &h) == -EINVAL, "bad name");
}

int main(void) {
	struct tcase cases[N_CASES];

	build_cases(cases);
	test_base(cases);
	test_full_min4(cases);
	test_full_dual(cases);
	test_v6bridge_v4tunnel(cases);
	test_host(cases);
	test_egress(cases);
	test_errors(cases);
	test_delete();
	test_properties(cases);
	return test_done();
}
