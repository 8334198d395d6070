/* SPDX-License-Identifier: MIT */
/* The nftables renderer. Everything written here comes from typed values:
 * interface and table names from names.c (which validates the namespace
 * name), addresses through ipaddr_str/ipnet_str, ports as numbers. No input
 * text is ever copied into a ruleset. The rules and their reasons are
 * explained where they are written; see ruleset.h for the stable names. */
#include "ruleset.h"

#include <sys/socket.h>

#include "names.h"
#include "text.h"
#include "util.h"

struct ifnames {
	char wg[NS_IFNAME_SIZE];     /* N0, inside */
	char veth[NS_IFNAME_SIZE];   /* veth-N, inside */
	char bridge[NS_IFNAME_SIZE]; /* N-br, host */
	char host_table[NS_PATH_SIZE];
};

static int ifnames_init(const char *ns_name, struct ifnames *n) {
	if (ns_wg_ifname(ns_name, n->wg) < 0 || ns_veth_ns_ifname(ns_name, n->veth) < 0 ||
	    ns_bridge_ifname(ns_name, n->bridge) < 0 || ns_host_table_name(ns_name, n->host_table) < 0)
		return -EINVAL;
	return 0;
}

/* A set of ports, one bit each: deduplicates and sorts for free. */
struct port_bits {
	uint8_t bits[65536 / 8];
	size_t count;
};

static void port_bits_add(struct port_bits *b, uint16_t port) {
	if (!(b->bits[port / 8] & (1u << (port % 8)))) {
		b->bits[port / 8] |= (uint8_t)(1u << (port % 8));
		b->count++;
	}
}

static bool port_bits_has(const struct port_bits *b, unsigned port) {
	return b->bits[port / 8] & (1u << (port % 8));
}

/* The "to" ports of the mappings (tcp_or_udp: PROTO_TCP or PROTO_UDP). */
static int mapped_to_ports(const struct ns_config *ns, enum proto which, struct port_bits *out) {
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < ns->n_port_mappings; i++) {
		const struct port_mapping *m = &ns->port_mappings[i];
		if (m->from == 0 || m->to == 0 || (m->proto & ~PROTO_BOTH) || !(m->proto & PROTO_BOTH))
			return -EINVAL;
		if (m->proto & which)
			port_bits_add(out, m->to);
	}
	return 0;
}

static int open_ports(const struct ns_config *ns, enum proto which, struct port_bits *out) {
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < ns->n_open_ports; i++) {
		const struct open_port *p = &ns->open_ports[i];
		if (p->port == 0 || (p->proto & ~PROTO_BOTH) || !(p->proto & PROTO_BOTH))
			return -EINVAL;
		if (p->proto & which)
			port_bits_add(out, p->port);
	}
	return 0;
}

/* "elements = { 1, 2 }" or nothing for an empty set. */
static void write_port_elements(FILE *f, const struct port_bits *b) {
	const char *sep = "";

	if (b->count == 0)
		return;
	fputs("\t\telements = { ", f);
	for (unsigned p = 1; p < 65536; p++)
		if (port_bits_has(b, p)) {
			fprintf(f, "%s%u", sep, p);
			sep = ", ";
		}
	fputs(" }\n", f);
}

static void write_port_set(FILE *f, const char *name, const struct port_bits *b) {
	fprintf(f, "\tset %s {\n\t\ttype inet_service\n", name);
	write_port_elements(f, b);
	fputs("\t}\n\n", f);
}

/* Host port -> namespace port for one protocol, sorted by host port. Two
 * mappings of one host port to different ports cannot both hold (the config
 * loader rejects them; this is the renderer's own guard). */
static int write_dnat_map(FILE *f, const struct ns_config *ns, enum proto which, const char *name) {
	_cleanup_free_ uint16_t *to_of = calloc(65536, sizeof(uint16_t));
	const char *sep = "";

	if (!to_of)
		return -ENOMEM;
	for (size_t i = 0; i < ns->n_port_mappings; i++) {
		const struct port_mapping *m = &ns->port_mappings[i];
		if (!(m->proto & which))
			continue;
		if (to_of[m->from] && to_of[m->from] != m->to)
			return -EINVAL;
		to_of[m->from] = m->to;
	}
	fprintf(f, "\tmap %s {\n\t\ttype inet_service : inet_service\n", name);
	for (unsigned p = 1; p < 65536; p++)
		if (to_of[p]) {
			if (!*sep)
				fputs("\t\telements = { ", f);
			fprintf(f, "%s%u : %u", sep, p, to_of[p]);
			sep = ", ";
		}
	if (*sep)
		fputs(" }\n", f);
	fputs("\t}\n\n", f);
	return 0;
}

/* An interval set of prefixes of one family: the network of each given
 * prefix, so an address with host bits (the bridge's) yields its subnet.
 * auto-merge lets overlapping entries (a LAN range that contains the bridge
 * subnet) coexist. */
static void write_net_set(FILE *f, const char *name, int family, const struct ipnet *extra,
			  const struct ns_range *nets, size_t n_nets) {
	char buf[IPNET_STRLEN];
	const char *sep = "";

	fprintf(f, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n\t\tauto-merge\n", name,
		family == AF_INET ? "ipv4_addr" : "ipv6_addr");
	for (size_t i = 0; i <= n_nets; i++) {
		const struct ipnet *src = i == 0 ? extra : &nets[i - 1].net;
		struct ipnet net;
		if (!src || src->addr.family != family)
			continue;
		net = ipnet_network(src);
		fprintf(f, "%s%s", *sep ? sep : "\t\telements = { ", ipnet_str(&net, buf));
		sep = ", ";
	}
	if (*sep)
		fputs(" }\n", f);
	fputs("\t}\n\n", f);
}

/* The address part of a wg config's DNS list for one family. */
static void write_dns_set(FILE *f, const char *name, int family, const struct wg_config *wg) {
	char buf[IPNET_STRLEN];
	const char *sep = "";

	fprintf(f, "\tset %s {\n\t\ttype %s\n", name, family == AF_INET ? "ipv4_addr" : "ipv6_addr");
	for (size_t i = 0; i < wg->n_dns; i++) {
		bool dup = false;
		if (wg->dns[i].family != family)
			continue;
		for (size_t j = 0; j < i; j++)
			dup = dup || ipaddr_equal(&wg->dns[i], &wg->dns[j]);
		if (dup)
			continue;
		fprintf(f, "%s%s", *sep ? sep : "\t\telements = { ", ipaddr_str(&wg->dns[i], buf));
		sep = ", ";
	}
	if (*sep)
		fputs(" }\n", f);
	fputs("\t}\n\n", f);
}

/* REPLACE: "table X { }" creates the table if missing (and is a no-op
 * otherwise), so the delete that follows always succeeds; all in one
 * transaction. CREATE leaves both out: a transaction that deletes a table
 * makes the kernel finish destroying it when the netlink socket closes
 * (about 10 ms), which a table known to be absent need not wait for. */
static void write_header(FILE *f, const char *table, enum ruleset_mode mode) {
	if (mode == RULESET_REPLACE)
		fprintf(f, "table inet %s {\n}\ndelete table inet %s\n", table, table);
}

static int finish(FILE *f) {
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}

static bool wg_has_family(const struct wg_config *wg, int family) {
	for (size_t i = 0; i < wg->n_addresses; i++)
		if (wg->addresses[i].addr.family == family)
			return true;
	return false;
}

static bool ns_valid_for_render(const struct ns_config *ns) {
	return ns->ns_addr.addr.family == AF_INET && ns->bridge_addr.addr.family == AF_INET &&
	       (!ns->has_ipv6 ||
		(ns->ns_addr6.addr.family == AF_INET6 && ns->bridge_addr6.addr.family == AF_INET6));
}

/* ---- AllowedEgress= ------------------------------------------------------- */

/* Whether the rulesets carry AllowedEgress= rules: only with entries, so a
 * namespace without them has the rulesets it always had. */
static bool has_egress(const struct ns_config *ns) { return ns && ns->n_egress > 0; }

/* The egress sets of one family: egressF (destinations, every port) and
 * egress_portsF (destination . protocol . port), "both" as two elements.
 * Their entries never overlap within a set (the config loader refuses
 * that), so no auto-merge is needed, and none is possible for a
 * concatenation. */
static void write_egress_sets(FILE *f, const struct ns_config *ns, int family) {
	const char *fam = family == AF_INET ? "4" : "6", *type = family == AF_INET ? "ipv4_addr" : "ipv6_addr";
	char buf[IPNET_STRLEN];
	const char *sep = "";
	/* A host as its address, as nft lists it. */
#define EGRESS_NET(e)                                                                                     \
	((e)->net.prefix == ipaddr_max_prefix(family) ? ipaddr_str(&(e)->net.addr, buf) : ipnet_str(&(e)->net, buf))

	fprintf(f, "\tset egress%s {\n\t\ttype %s\n\t\tflags interval\n", fam, type);
	for (size_t i = 0; i < ns->n_egress; i++) {
		const struct egress_rule *e = &ns->egress[i];
		if (e->net.addr.family != family || e->port != 0)
			continue;
		fprintf(f, "%s%s", *sep ? sep : "\t\telements = { ", EGRESS_NET(e));
		sep = ", ";
	}
	if (*sep)
		fputs(" }\n", f);
	fputs("\t}\n\n", f);
	sep = "";
	fprintf(f, "\tset egress_ports%s {\n\t\ttype %s . inet_proto . inet_service\n\t\tflags interval\n", fam, type);
	for (size_t i = 0; i < ns->n_egress; i++) {
		const struct egress_rule *e = &ns->egress[i];
		if (e->net.addr.family != family || e->port == 0)
			continue;
		for (int p = 0; p < 2; p++) {
			if (!(e->proto & (p ? PROTO_UDP : PROTO_TCP)))
				continue;
			fprintf(f, "%s%s . %s . %u", *sep ? sep : "\t\telements = { ", EGRESS_NET(e),
				p ? "udp" : "tcp", e->port);
			sep = ", ";
		}
	}
	if (*sep)
		fputs(" }\n", f);
	fputs("\t}\n\n", f);
#undef EGRESS_NET
}

/* Every egress set of the namespace's families (IPv6 with the IPv6 pair). */
static int write_egress_set_pairs(FILE *f, const struct ns_config *ns) {
	for (size_t i = 0; i < ns->n_egress; i++) {
		const struct egress_rule *e = &ns->egress[i];
		if ((e->net.addr.family != AF_INET && e->net.addr.family != AF_INET6) ||
		    (e->net.addr.family == AF_INET6 && !ns->has_ipv6) ||
		    (e->port != 0 && (!(e->proto & PROTO_BOTH) || (e->proto & ~PROTO_BOTH))))
			return -EINVAL;
	}
	fputs("\t# AllowedEgress=: destinations reached through the bridge, outside the\n"
	      "\t# tunnel: every port (egressF), or one port and protocol (egress_portsF).\n",
	      f);
	write_egress_sets(f, ns, AF_INET);
	if (ns->has_ipv6)
		write_egress_sets(f, ns, AF_INET6);
	return 0;
}

/* The namespace's rules for AllowedEgress=, input side: replies of its
 * flows (ct mark 0x4) on the veth. With base, also neighbour discovery
 * with the bridge (the full form has it already). */
static void write_ns_egress_input(FILE *f, const struct ns_config *ns, const char *veth, bool base) {
	fputs("\t\t# AllowedEgress=: replies of the flows it opened through the veth.\n", f);
	fprintf(f, "\t\tiifname \"%s\" ct mark 0x%x ct direction reply ct state established,related accept\n", veth,
		RULESET_CT_MARK_EGRESS);
	if (base && ns->has_ipv6)
		fprintf(f,
			"\t\tiifname \"%s\" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept\n",
			veth);
}

/* The namespace's rules for AllowedEgress=, output side: new connections
 * to exactly those destinations (ports) through the veth, marked 0x4, and
 * the rest of those flows. DNS never: in the full form every DNS packet
 * has been through dns-restrict before; the base form drops it here. */
static void write_ns_egress_output(FILE *f, const struct ns_config *ns, const char *veth, bool base) {
	if (base) {
		fputs("\t\t# No DNS while the tunnel is down, not even to an AllowedEgress=\n"
		      "\t\t# destination.\n"
		      "\t\tmeta l4proto { tcp, udp } th dport { 53, 853 } counter name \"output_drop\" drop\n",
		      f);
		if (ns->has_ipv6)
			fprintf(f,
				"\t\toifname \"%s\" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept\n",
				veth);
	}
	fputs("\t\t# AllowedEgress=: new connections to exactly those destinations through\n"
	      "\t\t# the veth (routed there), outside the tunnel.\n",
	      f);
	fprintf(f, "\t\toifname \"%s\" ct mark 0x%x ct direction original ct state established,related accept\n", veth,
		RULESET_CT_MARK_EGRESS);
	for (int fam = 0; fam < (ns->has_ipv6 ? 2 : 1); fam++) {
		const char *l3 = fam ? "ip6" : "ip", *n = fam ? "6" : "4";
		fprintf(f, "\t\toifname \"%s\" ct state new %s daddr @egress%s ct mark set 0x%x accept\n", veth, l3, n,
			RULESET_CT_MARK_EGRESS);
		fprintf(f,
			"\t\toifname \"%s\" ct state new %s daddr . meta l4proto . th dport @egress_ports%s ct mark set 0x%x accept\n",
			veth, l3, n, RULESET_CT_MARK_EGRESS);
	}
}

int ruleset_render_ns_base(const char *ns_name, const struct ns_config *ns, enum ruleset_mode mode, FILE *f) {
	struct ifnames n;
	int r;

	if (ifnames_init(ns_name, &n) < 0 || (ns && !streq(ns->name, ns_name)))
		return -EINVAL;
	fprintf(f, "# vpn-confinement: namespace %s, base form (kill switch before any interface).\n",
		ns_name);
	write_header(f, NS_TABLE_NAME, mode);
	fprintf(f,
		"table inet %s {\n"
		"\tcounter input_drop {\n\t}\n\n"
		"\tcounter output_drop {\n\t}\n\n"
		"\tcounter forward_drop {\n\t}\n\n",
		NS_TABLE_NAME);
	if (has_egress(ns) && (r = write_egress_set_pairs(f, ns)) < 0)
		return r;
	fputs("\tchain input {\n"
	      "\t\ttype filter hook input priority filter; policy drop;\n"
	      "\t\tiifname \"lo\" accept\n",
	      f);
	if (has_egress(ns))
		write_ns_egress_input(f, ns, n.veth, true);
	fputs("\t\tcounter name \"input_drop\" drop\n"
	      "\t}\n\n"
	      "\tchain output {\n"
	      "\t\ttype filter hook output priority filter; policy drop;\n"
	      "\t\toifname \"lo\" accept\n",
	      f);
	if (has_egress(ns))
		write_ns_egress_output(f, ns, n.veth, true);
	fputs("\t\tcounter name \"output_drop\" drop\n"
	      "\t}\n\n"
	      "\tchain forward {\n"
	      "\t\ttype filter hook forward priority filter; policy drop;\n"
	      "\t\tcounter name \"forward_drop\" drop\n"
	      "\t}\n"
	      "}\n",
	      f);
	return finish(f);
}

/* PortForwarding=natpmp: the sets of the port the provider forwards, empty
 * here; `vpn-confinement port-forward` fills them (ruleset_forwarded_text)
 * while a mapping lives. */
static void write_forwarded_sets(FILE *f, const struct ns_config *ns) {
	static const struct port_bits none;

	if (!ns->pf.enabled)
		return;
	fputs("\t# PortForwarding=natpmp: the port the provider forwards, filled in by\n"
	      "\t# vpn-confinement port-forward while its mapping lives.\n",
	      f);
	write_port_set(f, RULESET_FORWARDED_TCP, &none);
	write_port_set(f, RULESET_FORWARDED_UDP, &none);
}

/* NAT-PMP maps the provider's IPv4 address only: the forwarded port opens
 * on N0 for IPv4, whatever families the tunnel has. */
static void write_forwarded_rules(FILE *f, const struct ns_config *ns, const struct ifnames *n) {
	if (!ns->pf.enabled)
		return;
	fprintf(f,
		"\t\t# The forwarded port (PortForwarding=natpmp), from the tunnel only, IPv4.\n"
		"\t\tiifname \"%s\" ct state new meta nfproto ipv4 tcp dport @%s ct mark set 0x%x accept\n"
		"\t\tiifname \"%s\" ct state new meta nfproto ipv4 udp dport @%s ct mark set 0x%x accept\n",
		n->wg, RULESET_FORWARDED_TCP, RULESET_CT_MARK_TUNNEL, n->wg, RULESET_FORWARDED_UDP,
		RULESET_CT_MARK_TUNNEL);
}

int ruleset_render_ns_full(const struct ns_config *ns, const struct wg_config *wg, enum ruleset_mode mode,
			   FILE *f) {
	_cleanup_free_ struct port_bits *ports = calloc(4, sizeof(struct port_bits));
	struct port_bits *mapped_tcp, *mapped_udp, *open_tcp, *open_udp;
	char ns4[IPNET_STRLEN], ns6[IPNET_STRLEN];
	struct ifnames n;
	bool tun4, tun6;
	const char *tun_family; /* restricts what enters/leaves N0 when the tunnel is single-stack */
	int r;

	if (!ports)
		return -ENOMEM;
	if (ifnames_init(ns->name, &n) < 0 || !ns_valid_for_render(ns))
		return -EINVAL;
	tun4 = wg_has_family(wg, AF_INET);
	tun6 = wg_has_family(wg, AF_INET6);
	if (!tun4 && !tun6)
		return -EINVAL;
	tun_family = tun4 && tun6 ? "" : tun4 ? "meta nfproto ipv4 " : "meta nfproto ipv6 ";

	mapped_tcp = &ports[0], mapped_udp = &ports[1], open_tcp = &ports[2], open_udp = &ports[3];
	if ((r = mapped_to_ports(ns, PROTO_TCP, mapped_tcp)) < 0 ||
	    (r = mapped_to_ports(ns, PROTO_UDP, mapped_udp)) < 0 ||
	    (r = open_ports(ns, PROTO_TCP, open_tcp)) < 0 || (r = open_ports(ns, PROTO_UDP, open_udp)) < 0)
		return r;
	ipaddr_str(&ns->ns_addr.addr, ns4);
	if (ns->has_ipv6)
		ipaddr_str(&ns->ns_addr6.addr, ns6);

	fprintf(f, "# vpn-confinement: namespace %s, full form.\n", ns->name);
	write_header(f, NS_TABLE_NAME, mode);
	fprintf(f, "table inet %s {\n", NS_TABLE_NAME);
	fputs("\t# Packets dropped by the final rules, by dns-restrict and as router\n"
	      "\t# advertisements or redirects (nft list counters).\n"
	      "\tcounter input_drop {\n\t}\n\n"
	      "\tcounter output_drop {\n\t}\n\n"
	      "\tcounter forward_drop {\n\t}\n\n"
	      "\tcounter dns_drop {\n\t}\n\n"
	      "\tcounter ra_drop {\n\t}\n\n",
	      f);

	/* Named sets: a later change of DNS servers, ranges or ports is an
	 * element update, not a reload of the chains. */
	fputs("\t# The VPN's DNS servers (wg config DNS=), per tunnel family.\n", f);
	if (tun4)
		write_dns_set(f, "dns4", AF_INET, wg);
	if (tun6)
		write_dns_set(f, "dns6", AF_INET6, wg);
	fputs("\t# Who may reach the mapped ports through the veth: the bridge subnet\n"
	      "\t# (the host itself) and AccessibleFrom.\n",
	      f);
	write_net_set(f, "accessible4", AF_INET, &ns->bridge_addr, ns->accessible_from,
		      ns->n_accessible_from);
	if (ns->has_ipv6)
		write_net_set(f, "accessible6", AF_INET6, &ns->bridge_addr6, ns->accessible_from,
			      ns->n_accessible_from);
	fputs("\t# Ports served inside the namespace for port mappings (their \"to\").\n", f);
	write_port_set(f, "mapped_tcp", mapped_tcp);
	write_port_set(f, "mapped_udp", mapped_udp);
	fputs("\t# OpenVPNPort=: reachable through the tunnel.\n", f);
	write_port_set(f, "open_tcp", open_tcp);
	write_port_set(f, "open_udp", open_udp);
	if (has_egress(ns) && (r = write_egress_set_pairs(f, ns)) < 0)
		return r;
	write_forwarded_sets(f, ns);

	/* input */
	fputs("\tchain input {\n"
	      "\t\ttype filter hook input priority filter; policy drop;\n"
	      "\t\t# Router advertisements and redirects would change addresses or\n"
	      "\t\t# routes: never accepted, on any interface.\n"
	      "\t\ticmpv6 type { nd-router-advert, nd-redirect } counter name \"ra_drop\" drop\n"
	      "\t\ticmp type redirect counter name \"ra_drop\" drop\n"
	      "\t\tiifname \"lo\" accept\n"
	      "\t\tct state invalid drop\n"
	      "\t\t# Established/related only on the interface the flow belongs to: its\n"
	      "\t\t# ct mark was set when its first packet was accepted (0x1 tunnel,\n"
	      "\t\t# 0x2 veth). Related covers ICMP errors such as PMTU (fragmentation\n"
	      "\t\t# needed, packet too big) for those flows.\n",
	      f);
	fprintf(f, "\t\tiifname \"%s\" ct mark 0x%x ct state established,related accept\n", n.wg,
		RULESET_CT_MARK_TUNNEL);
	fprintf(f,
		"\t\tiifname \"%s\" ct mark 0x%x ct direction original ct state established,related accept\n",
		n.veth, RULESET_CT_MARK_VETH);
	if (has_egress(ns))
		write_ns_egress_input(f, ns, n.veth, false);
	if (ns->has_ipv6)
		fprintf(f,
			"\t\t# Neighbour discovery with the bridge (IPv6 bridge addresses);\n"
			"\t\t# hop limit 255 proves it is from the link itself.\n"
			"\t\tiifname \"%s\" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept\n",
			n.veth);
	fprintf(f, "\t\t# Mapped ports, from the veth, to NamespaceAddress, from accessible sources.\n");
	fprintf(f,
		"\t\tiifname \"%s\" ct state new ip saddr @accessible4 ip daddr %s tcp dport @mapped_tcp ct mark set 0x%x accept\n"
		"\t\tiifname \"%s\" ct state new ip saddr @accessible4 ip daddr %s udp dport @mapped_udp ct mark set 0x%x accept\n",
		n.veth, ns4, RULESET_CT_MARK_VETH, n.veth, ns4, RULESET_CT_MARK_VETH);
	if (ns->has_ipv6)
		fprintf(f,
			"\t\tiifname \"%s\" ct state new ip6 saddr @accessible6 ip6 daddr %s tcp dport @mapped_tcp ct mark set 0x%x accept\n"
			"\t\tiifname \"%s\" ct state new ip6 saddr @accessible6 ip6 daddr %s udp dport @mapped_udp ct mark set 0x%x accept\n",
			n.veth, ns6, RULESET_CT_MARK_VETH, n.veth, ns6, RULESET_CT_MARK_VETH);
	fprintf(f,
		"\t\t# Open VPN ports, from the tunnel only.\n"
		"\t\tiifname \"%s\" ct state new %stcp dport @open_tcp ct mark set 0x%x accept\n"
		"\t\tiifname \"%s\" ct state new %sudp dport @open_udp ct mark set 0x%x accept\n",
		n.wg, tun_family, RULESET_CT_MARK_TUNNEL, n.wg, tun_family, RULESET_CT_MARK_TUNNEL);
	write_forwarded_rules(f, ns, &n);
	fputs("\t\tcounter name \"input_drop\" drop\n\t}\n\n", f);

	/* output */
	fprintf(f,
		"\tchain output {\n"
		"\t\ttype filter hook output priority filter; policy drop;\n"
		"\t\toifname \"lo\" accept\n"
		"\t\tct state invalid drop\n"
		"\t\t# Every DNS packet we originate (udp/tcp 53, DoT tcp/853, DoQ\n"
		"\t\t# udp/853), new or established, is checked; replies we send as a\n"
		"\t\t# server (reply direction) are not DNS queries.\n"
		"\t\tmeta l4proto { tcp, udp } th dport { 53, 853 } ct direction original jump dns-restrict\n"
		"\t\toifname \"%s\" ct mark 0x%x ct state established,related accept\n"
		"\t\toifname \"%s\" ct mark 0x%x ct direction reply ct state established,related accept\n",
		n.wg, RULESET_CT_MARK_TUNNEL, n.veth, RULESET_CT_MARK_VETH);
	if (ns->has_ipv6)
		fprintf(f,
			"\t\toifname \"%s\" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept\n",
			n.veth);
	if (has_egress(ns))
		write_ns_egress_output(f, ns, n.veth, false);
	fprintf(f,
		"\t\t# New connections only through the tunnel, and only in the families\n"
		"\t\t# it has addresses of (no IPv6 without an IPv6 Address=).\n"
		"\t\toifname \"%s\" ct state new %sct mark set 0x%x accept\n"
		"\t\tcounter name \"output_drop\" drop\n"
		"\t}\n\n",
		n.wg, tun_family, RULESET_CT_MARK_TUNNEL);

	/* dns-restrict */
	fputs("\t# DNS only to the VPN's servers and only via the tunnel, even when a\n"
	      "\t# server address lies in an AccessibleFrom range routed to the veth.\n"
	      "\tchain dns-restrict {\n",
	      f);
	if (tun4)
		fprintf(f, "\t\toifname \"%s\" ip daddr @dns4 ct mark set 0x%x accept\n", n.wg,
			RULESET_CT_MARK_TUNNEL);
	if (tun6)
		fprintf(f, "\t\toifname \"%s\" ip6 daddr @dns6 ct mark set 0x%x accept\n", n.wg,
			RULESET_CT_MARK_TUNNEL);
	fputs("\t\tcounter name \"dns_drop\" drop\n\t}\n\n", f);

	/* forward */
	fputs("\tchain forward {\n"
	      "\t\ttype filter hook forward priority filter; policy drop;\n"
	      "\t\tcounter name \"forward_drop\" drop\n"
	      "\t}\n"
	      "}\n",
	      f);
	return finish(f);
}

/* One family's DNAT rules and guard accepts for the host table. */
struct host_family {
	const char *l3;     /* "ip" or "ip6" */
	const char *nfproto; /* "ipv4" or "ipv6" */
	const char *set;    /* accessible4 / accessible6 */
	char ns_addr[IPNET_STRLEN];
	char ns_addr_nat[IPNET_STRLEN + 2]; /* "[addr]" for IPv6 in dnat */
	char bridge_addr[IPNET_STRLEN];
	const char *loopback; /* excluded from the output DNAT, see below */
};

static void host_family_init(struct host_family *h, const struct ipnet *ns_addr,
			     const struct ipnet *bridge_addr) {
	bool v4 = ns_addr->addr.family == AF_INET;

	h->l3 = v4 ? "ip" : "ip6";
	h->nfproto = v4 ? "ipv4" : "ipv6";
	h->set = v4 ? "accessible4" : "accessible6";
	ipaddr_str(&ns_addr->addr, h->ns_addr);
	snprintf(h->ns_addr_nat, sizeof(h->ns_addr_nat), v4 ? "%s" : "[%s]", h->ns_addr);
	ipaddr_str(&bridge_addr->addr, h->bridge_addr);
	h->loopback = v4 ? NULL : "::1";
}

/* Replies from the bridge, accepted only for flows whose reply source is
 * the namespace's address: flows opened toward it (DNATed or not). */
static void write_guard_replies(FILE *f, const struct ifnames *n, const struct host_family *fam,
				size_t n_fam) {
	for (size_t i = 0; i < n_fam; i++)
		fprintf(f,
			"\t\tiifname \"%s\" ct direction reply ct state established,related ct reply %s saddr %s accept\n",
			n->bridge, fam[i].l3, fam[i].ns_addr);
}

/* The host's side of AllowedEgress=, from the bridge (forward or input
 * chain, counter the chain's drop counter): new flows from
 * NamespaceAddress to exactly those destinations, never DNS; and the rest
 * of the flows the namespace opened (original source NamespaceAddress:
 * only flows accepted here have it, since a dropped first packet leaves
 * no conntrack entry). */
static void write_host_egress_from_bridge(FILE *f, const struct ifnames *n, const struct host_family *fam,
					  size_t n_fam, const char *counter) {
	fprintf(f,
		"\t\t# AllowedEgress=: new flows from the namespace's address to exactly\n"
		"\t\t# those destinations (never DNS), and the rest of those flows.\n"
		"\t\tiifname \"%s\" ct state new meta l4proto { tcp, udp } th dport { 53, 853 } counter name \"%s\" drop\n",
		n->bridge, counter);
	for (size_t i = 0; i < n_fam; i++) {
		const char *v = streq(fam[i].l3, "ip6") ? "6" : "4";
		fprintf(f, "\t\tiifname \"%s\" ct state new %s saddr %s %s daddr @egress%s accept\n", n->bridge, fam[i].l3,
			fam[i].ns_addr, fam[i].l3, v);
		fprintf(f,
			"\t\tiifname \"%s\" ct state new %s saddr %s %s daddr . meta l4proto . th dport @egress_ports%s accept\n",
			n->bridge, fam[i].l3, fam[i].ns_addr, fam[i].l3, v);
		fprintf(f,
			"\t\tiifname \"%s\" ct direction original ct state established,related ct original %s saddr %s accept\n",
			n->bridge, fam[i].l3, fam[i].ns_addr);
	}
}

/* Replies of the namespace's AllowedEgress= flows, into the bridge. */
static void write_host_egress_replies(FILE *f, const struct ifnames *n, const struct host_family *fam, size_t n_fam) {
	for (size_t i = 0; i < n_fam; i++)
		fprintf(f,
			"\t\toifname \"%s\" ct direction reply ct state established,related ct original %s saddr %s accept\n",
			n->bridge, fam[i].l3, fam[i].ns_addr);
}

/* AllowedEgress= flows leave with the host's address: hosts on the LAN do
 * not know the namespace's subnet (only forwarded flows from the
 * namespace have its source address here: the guard let nothing else
 * through). */
static void write_host_egress_masquerade(FILE *f, const struct ifnames *n, const struct host_family *fam,
					 size_t n_fam) {
	fputs("\t\t# AllowedEgress=: the namespace's flows leave with the host's address\n"
	      "\t\t# (the LAN has no route to the namespace's subnet).\n",
	      f);
	for (size_t i = 0; i < n_fam; i++)
		fprintf(f, "\t\toifname != \"%s\" %s saddr %s masquerade\n", n->bridge, fam[i].l3, fam[i].ns_addr);
}

int ruleset_render_host(const struct ns_config *ns, enum ruleset_mode mode, FILE *f) {
	_cleanup_free_ struct port_bits *ports = calloc(2, sizeof(struct port_bits));
	struct host_family fam[2];
	size_t n_fam = 1;
	struct ifnames n;
	int r;

	if (!ports)
		return -ENOMEM;
	if (ifnames_init(ns->name, &n) < 0 || !ns_valid_for_render(ns))
		return -EINVAL;
	if ((r = mapped_to_ports(ns, PROTO_TCP, &ports[0])) < 0 ||
	    (r = mapped_to_ports(ns, PROTO_UDP, &ports[1])) < 0)
		return r;
	host_family_init(&fam[0], &ns->ns_addr, &ns->bridge_addr);
	if (ns->has_ipv6)
		host_family_init(&fam[n_fam++], &ns->ns_addr6, &ns->bridge_addr6);

	fprintf(f, "# vpn-confinement: host table of namespace %s (port mappings, guard).\n",
		ns->name);
	write_header(f, n.host_table, mode);
	fprintf(f, "table inet %s {\n", n.host_table);
	fputs("\tcounter guard_forward_drop {\n\t}\n\n"
	      "\tcounter guard_input_drop {\n\t}\n\n",
	      f);
	fputs("\t# AccessibleFrom: who may use the port mappings.\n", f);
	write_net_set(f, "accessible4", AF_INET, NULL, ns->accessible_from, ns->n_accessible_from);
	if (ns->has_ipv6)
		write_net_set(f, "accessible6", AF_INET6, NULL, ns->accessible_from,
			      ns->n_accessible_from);
	fputs("\t# Port mappings: host port : namespace port.\n", f);
	if ((r = write_dnat_map(f, ns, PROTO_TCP, "dnat_tcp")) < 0 ||
	    (r = write_dnat_map(f, ns, PROTO_UDP, "dnat_udp")) < 0)
		return r;
	fputs("\t# The namespace ports the mappings lead to.\n", f);
	write_port_set(f, "mapped_tcp", &ports[0]);
	write_port_set(f, "mapped_udp", &ports[1]);
	if (has_egress(ns) && (r = write_egress_set_pairs(f, ns)) < 0)
		return r;

	/* prerouting: traffic from outside to one of the host's own addresses. */
	fprintf(f, "\tchain prerouting {\n"
		   "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		   "\t\t# From AccessibleFrom to any of the host's addresses (not traffic\n"
		   "\t\t# the host routes elsewhere, not the namespace itself).\n");
	for (size_t i = 0; i < n_fam; i++)
		for (int p = 0; p < 2; p++)
			fprintf(f,
				"\t\tiifname != \"%s\" fib daddr type local %s saddr @%s meta l4proto %s dnat %s to %s : %s dport map @dnat_%s\n",
				n.bridge, fam[i].l3, fam[i].set, p ? "udp" : "tcp", fam[i].l3,
				fam[i].ns_addr_nat, p ? "udp" : "tcp", p ? "udp" : "tcp");
	fputs("\t}\n\n", f);

	/* output: the host's own connections to its own addresses. */
	fputs("\tchain output {\n"
	      "\t\ttype nat hook output priority -100; policy accept;\n"
	      "\t\t# The host's own connections to its own addresses. IPv4 loopback\n"
	      "\t\t# works only where route_localnet is set on the bridge; ::1 can\n"
	      "\t\t# never be routed, so it is left alone.\n",
	      f);
	for (size_t i = 0; i < n_fam; i++)
		for (int p = 0; p < 2; p++) {
			char excl[64] = "";
			if (fam[i].loopback)
				snprintf(excl, sizeof(excl), "%s daddr != %s ", fam[i].l3, fam[i].loopback);
			fprintf(f,
				"\t\tmeta nfproto %s fib daddr type local %smeta l4proto %s dnat %s to %s : %s dport map @dnat_%s\n",
				fam[i].nfproto, excl, p ? "udp" : "tcp", fam[i].l3, fam[i].ns_addr_nat,
				p ? "udp" : "tcp", p ? "udp" : "tcp");
		}
	fputs("\t}\n\n", f);

	/* postrouting: source of the host's own DNATed connections. */
	fputs("\tchain postrouting {\n"
	      "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	      "\t\t# The host's own connections that the output chain DNATed keep a\n"
	      "\t\t# source address chosen for the original destination; give them\n"
	      "\t\t# the bridge address, which the namespace accepts and answers on\n"
	      "\t\t# the link. Clients from AccessibleFrom keep their address.\n",
	      f);
	for (size_t i = 0; i < n_fam; i++)
		fprintf(f,
			"\t\toifname \"%s\" %s daddr %s ct status dnat fib saddr type local snat %s to %s\n",
			n.bridge, fam[i].l3, fam[i].ns_addr, fam[i].l3, fam[i].bridge_addr);
	if (has_egress(ns))
		write_host_egress_masquerade(f, &n, fam, n_fam);
	fputs("\t}\n\n", f);

	/* forward guard */
	fprintf(f,
		"\t# The guard holds even when the namespace ruleset is gone. Policy\n"
		"\t# accept: this is the host's table space; only our bridge is acted on.\n"
		"\tchain forward {\n"
		"\t\ttype filter hook forward priority filter; policy accept;\n"
		"\t\t# From the bridge: only replies of flows opened toward the namespace\n"
		"\t\t# (their reply comes from NamespaceAddress). Conntrack matches a\n"
		"\t\t# packet by its addresses and ports alone, so a process in the\n"
		"\t\t# namespace could otherwise forge the \"reply\" of any flow of the\n"
		"\t\t# host's (a blind answer to a DNS query it forwards).\n");
	write_guard_replies(f, &n, fam, n_fam);
	if (has_egress(ns))
		write_host_egress_from_bridge(f, &n, fam, n_fam, "guard_forward_drop");
	fprintf(f,
		"\t\tiifname \"%s\" counter name \"guard_forward_drop\" drop\n"
		"\t\t# Into the bridge: flows to the mapped ports of NamespaceAddress from\n"
		"\t\t# AccessibleFrom (DNATed or routed directly), and nothing else.\n"
		"\t\toifname \"%s\" ct direction original ct state established,related accept\n",
		n.bridge, n.bridge);
	if (has_egress(ns))
		write_host_egress_replies(f, &n, fam, n_fam);
	for (size_t i = 0; i < n_fam; i++)
		for (int p = 0; p < 2; p++)
			fprintf(f,
				"\t\toifname \"%s\" ct state new %s saddr @%s %s daddr %s %s dport @mapped_%s accept\n",
				n.bridge, fam[i].l3, fam[i].set, fam[i].l3, fam[i].ns_addr,
				p ? "udp" : "tcp", p ? "udp" : "tcp");
	fprintf(f,
		"\t\toifname \"%s\" counter name \"guard_forward_drop\" drop\n"
		"\t}\n\n",
		n.bridge);

	/* input guard */
	fprintf(f,
		"\tchain input {\n"
		"\t\ttype filter hook input priority filter; policy accept;\n"
		"\t\t# Nothing new from the namespace to the host (its resolvers, its\n"
		"\t\t# services); replies to the host's own connections to the\n"
		"\t\t# namespace pass, forged replies to its other flows do not.\n");
	write_guard_replies(f, &n, fam, n_fam);
	if (ns->has_ipv6)
		fprintf(f,
			"\t\tiifname \"%s\" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept\n",
			n.bridge);
	if (has_egress(ns))
		write_host_egress_from_bridge(f, &n, fam, n_fam, "guard_input_drop");
	fprintf(f,
		"\t\tiifname \"%s\" counter name \"guard_input_drop\" drop\n"
		"\t}\n"
		"}\n",
		n.bridge);
	return finish(f);
}

/* Render into a new string through fn. */
#define RENDER_TEXT(out, call)                                                 \
	({                                                                     \
		_cleanup_(text_release) struct text _t = { 0 };                \
		FILE *f;                                                       \
		int _r = text_open(&_t, false);                                \
		if (_r == 0) {                                                 \
			f = _t.f;                                              \
			_r = (call);                                           \
			if (text_finish(&_t) < 0 && _r == 0)                   \
				_r = -EIO;                                     \
		}                                                              \
		if (_r == 0)                                                   \
			*(out) = text_steal(&_t);                              \
		_r;                                                            \
	})

int ruleset_ns_base_text(const char *ns_name, const struct ns_config *ns, enum ruleset_mode mode, char **out) {
	return RENDER_TEXT(out, ruleset_render_ns_base(ns_name, ns, mode, f));
}
int ruleset_ns_full_text(const struct ns_config *ns, const struct wg_config *wg, enum ruleset_mode mode,
			 char **out) {
	return RENDER_TEXT(out, ruleset_render_ns_full(ns, wg, mode, f));
}
int ruleset_host_text(const struct ns_config *ns, enum ruleset_mode mode, char **out) {
	return RENDER_TEXT(out, ruleset_render_host(ns, mode, f));
}

/* ---- the forwarding guard ---------------------------------------------- */

static int ifname_set_add(char (**set)[NS_IFNAME_SIZE], size_t *n, const char *ifname) {
	char name[NS_IFNAME_SIZE];

	if (strlen(ifname) >= NS_IFNAME_SIZE)
		return -EINVAL;
	for (size_t i = 0; i < *n; i++)
		if (streq((*set)[i], ifname))
			return 0;
	snprintf(name, sizeof(name), "%s", ifname);
	return array_append((void **)set, n, sizeof(name), name);
}

static bool guard_ifname_ok(const char *ifname) {
	if (!*ifname)
		return false;
	for (const char *p = ifname; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '.' || *p == '-'))
			return false;
	return true;
}

int forward_guard_add_in(struct forward_guard *g, int family, const char *ifname) {
	/* Quoted in the ruleset: only characters that need no escaping. */
	if (!guard_ifname_ok(ifname))
		return -EINVAL;
	if (family == AF_INET)
		return ifname_set_add(&g->in4, &g->n_in4, ifname);
	if (family == AF_INET6)
		return ifname_set_add(&g->in6, &g->n_in6, ifname);
	return -EINVAL;
}

int forward_guard_add_bridge(struct forward_guard *g, const char *ns_name) {
	char bridge[NS_IFNAME_SIZE];

	if (ns_bridge_ifname(ns_name, bridge) < 0)
		return -EINVAL;
	return ifname_set_add(&g->bridges, &g->n_bridges, bridge);
}

bool forward_guard_empty(const struct forward_guard *g) { return g->n_in4 == 0 && g->n_in6 == 0; }

void forward_guard_clear(struct forward_guard *g) {
	free(g->in4);
	free(g->in6);
	free(g->bridges);
	*g = (struct forward_guard){ 0 };
}

static void write_ifname_list(FILE *f, char (*names)[NS_IFNAME_SIZE], size_t n) {
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : "", names[i]);
}

static int render_forward_guard(const struct forward_guard *g, enum ruleset_mode mode, FILE *f) {
	fprintf(f, "# vpn-confinement: forwarding guard (all namespaces' port mappings).\n");
	write_header(f, FORWARD_GUARD_TABLE, mode);
	if (forward_guard_empty(g))
		return finish(f);
	if (g->n_bridges == 0)
		return -EINVAL;
	fprintf(f,
		"table inet %s {\n"
		"\tcounter guard_drop {\n\t}\n\n"
		"\t# Forwarding is on for the port mappings on these interfaces: what\n"
		"\t# arrives there may only be forwarded to a namespace's bridge.\n"
		"\tchain forward {\n"
		"\t\ttype filter hook forward priority filter; policy accept;\n",
		FORWARD_GUARD_TABLE);
	for (int fam = 0; fam < 2; fam++) {
		size_t n = fam ? g->n_in6 : g->n_in4;
		if (n == 0)
			continue;
		fprintf(f, "\t\tmeta nfproto %s iifname { ", fam ? "ipv6" : "ipv4");
		write_ifname_list(f, fam ? g->in6 : g->in4, n);
		fputs(" } oifname != { ", f);
		write_ifname_list(f, g->bridges, g->n_bridges);
		fputs(" } counter name \"guard_drop\" drop\n", f);
	}
	fputs("\t}\n}\n", f);
	return finish(f);
}

int ruleset_forward_guard_text(const struct forward_guard *g, enum ruleset_mode mode, char **out) {
	return RENDER_TEXT(out, render_forward_guard(g, mode, f));
}

/* ---- the forwarded port ------------------------------------------------ */

static int render_forwarded(uint16_t tcp, uint16_t udp, FILE *f) {
	const struct {
		const char *set;
		uint16_t port;
	} sets[] = { { RULESET_FORWARDED_TCP, tcp }, { RULESET_FORWARDED_UDP, udp } };

	for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
		fprintf(f, "flush set inet %s %s\n", NS_TABLE_NAME, sets[i].set);
		if (sets[i].port)
			fprintf(f, "add element inet %s %s { %u }\n", NS_TABLE_NAME, sets[i].set, sets[i].port);
	}
	return finish(f);
}

int ruleset_forwarded_text(uint16_t tcp, uint16_t udp, char **out) {
	return RENDER_TEXT(out, render_forwarded(tcp, udp, f));
}

static int delete_text(const char *table, char **out) {
	char *s;

	if (asprintf(&s, "table inet %s {\n}\ndelete table inet %s\n", table, table) < 0)
		return -ENOMEM;
	*out = s;
	return 0;
}

int ruleset_host_delete_text(const char *ns_name, char **out) {
	char table[NS_PATH_SIZE];

	if (ns_host_table_name(ns_name, table) < 0)
		return -EINVAL;
	return delete_text(table, out);
}

int ruleset_ns_delete_text(char **out) { return delete_text(NS_TABLE_NAME, out); }
