/* SPDX-License-Identifier: MIT */
/* Render nftables rulesets (nft -f syntax) from typed values only.
 *
 * Namespace table "inet vpn-confinement" (inside netns N):
 *   base form: policy drop on input, output, forward; lo only (and, with
 *              AllowedEgress=, those destinations through the veth). Loaded
 *              before any interface other than lo exists.
 *   full form: output only via N0 (plus lo), DNS (udp/53, tcp/53, udp/853,
 *              tcp/853) only to the wg config's DNS servers via N0,
 *              established/related only on the interface the flow belongs to,
 *              mapped ports in from the veth, open VPN ports in on N0;
 *              new connections to AllowedEgress= through the veth.
 * Host table "inet vpn-confinement-N": DNAT for port mappings and a guard that
 * forwards and accepts nothing new from the bridge, and of the rest only
 * replies of flows opened toward the namespace; with AllowedEgress=, it
 * forwards (and, to the host's own addresses, accepts) exactly those
 * destinations from NamespaceAddress, masqueraded, and their replies.
 *
 * Each render function returns a complete transaction for its table alone:
 * in REPLACE mode it replaces the table atomically ("add table; delete
 * table; table ... { }"), whether or not it exists; in CREATE mode it only
 * creates it. It never touches any other table.
 *
 * Stable names that tests and the runtime may rely on (documented in
 * vpn-confinement(8)):
 *   namespace table: sets dns4, dns6 (only when the tunnel has that family),
 *     accessible4, accessible6 (only with IPv6 bridge addresses), mapped_tcp,
 *     mapped_udp ("to" ports), open_tcp, open_udp, forwarded_tcp and
 *     forwarded_udp (PortForwarding=natpmp only); chains input, output,
 *     forward, dns-restrict; named counters input_drop, output_drop,
 *     forward_drop, dns_drop, ra_drop (packets dropped by the final rules /
 *     DNS / router advertisements; the base form has the first three).
 *     `status --format=prometheus` reads them by these names. With
 *     AllowedEgress= (base and full forms), sets egress4, egress_ports4
 *     and, with IPv6 bridge addresses, egress6, egress_ports6 (addresses and
 *     prefixes; address . protocol . port).
 *   host table: sets accessible4, accessible6 (IPv6 bridge only), mapped_tcp,
 *     mapped_udp; maps dnat_tcp, dnat_udp (from port : to port); chains
 *     prerouting, output, postrouting (nat), forward, input (filter); named
 *     counters guard_forward_drop, guard_input_drop (read by the metrics);
 *     with AllowedEgress=, the sets egress4, egress_ports4, egress6,
 *     egress_ports6 as above. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "names.h"
#include "wgconf.h"

#define NS_TABLE_NAME "vpn-confinement"
#define HOST_TABLE_PREFIX "vpn-confinement-"

/* Conntrack marks the namespace ruleset sets on a flow when it accepts the
 * flow's first packet; established/related packets are accepted only on the
 * interface matching their mark. Conntrack is per network namespace, so these
 * never meet the host's own marks. */
#define RULESET_CT_MARK_TUNNEL 0x1 /* flows via N0 (out, or in on an open port) */
#define RULESET_CT_MARK_VETH 0x2   /* flows that came in on veth-N (mapped ports) */
#define RULESET_CT_MARK_EGRESS 0x4 /* flows out through veth-N to AllowedEgress= */

/* Whether the table may exist now (REPLACE: the transaction replaces it
 * whole, whatever is there) or is known to be absent (CREATE: faster, and
 * it fails if the table is there after all). `ruleset` prints REPLACE. */
enum ruleset_mode { RULESET_REPLACE, RULESET_CREATE };

/* Each returns 0, -EINVAL when the model is inconsistent (invalid name, port
 * 0, one host port mapped to two different ports, a wg config without any
 * address), or -EIO when writing to f failed. The base form depends on the
 * namespace's name and its AllowedEgress= only: ns may be NULL (no
 * AllowedEgress=: wg-down when the ini cannot be used), else it is the
 * config of namespace ns_name. */
int ruleset_render_ns_base(const char *ns_name, const struct ns_config *ns, enum ruleset_mode mode, FILE *f);
int ruleset_render_ns_full(const struct ns_config *ns, const struct wg_config *wg, enum ruleset_mode mode,
			   FILE *f);
int ruleset_render_host(const struct ns_config *ns, enum ruleset_mode mode, FILE *f);

/* The same into a new NUL-terminated string (for nft_apply()); the caller
 * frees *out. */
int ruleset_ns_base_text(const char *ns_name, const struct ns_config *ns, enum ruleset_mode mode, char **out);
int ruleset_ns_full_text(const struct ns_config *ns, const struct wg_config *wg, enum ruleset_mode mode,
			 char **out);
int ruleset_host_text(const struct ns_config *ns, enum ruleset_mode mode, char **out);

/* The forwarding guard, table "inet vpn-confinement-forwarding" on the
 * host (hostfwd.h): forwarded packets that arrive on an interface where a
 * namespace turned forwarding on may only leave on a namespace's bridge.
 * Its inputs, deduplicated; names are checked (hostfwd_ifname_ok). */
#define FORWARD_GUARD_TABLE "vpn-confinement-forwarding"
struct forward_guard {
	char (*in4)[NS_IFNAME_SIZE];
	size_t n_in4;
	char (*in6)[NS_IFNAME_SIZE];
	size_t n_in6;
	char (*bridges)[NS_IFNAME_SIZE];
	size_t n_bridges;
};
int forward_guard_add_in(struct forward_guard *g, int family, const char *ifname);
int forward_guard_add_bridge(struct forward_guard *g, const char *ns_name);
bool forward_guard_empty(const struct forward_guard *g);
void forward_guard_clear(struct forward_guard *g);
/* The table; when g is empty, only its deletion (REPLACE) or nothing. */
int ruleset_forward_guard_text(const struct forward_guard *g, enum ruleset_mode mode, char **out);

/* The forwarded port's sets (PortForwarding=natpmp): in the full form,
 * empty; port-forward puts the port the gateway mapped into them. */
#define RULESET_FORWARDED_TCP "forwarded_tcp"
#define RULESET_FORWARDED_UDP "forwarded_udp"
/* One transaction, run inside the namespace, that makes the sets hold
 * exactly tcp and udp (0: nothing): the old port closes as the new one
 * opens, and nothing else of the ruleset changes. Fails when the sets do
 * not exist (the base form, the tunnel down). */
int ruleset_forwarded_text(uint16_t tcp, uint16_t udp, char **out);

/* A transaction that deletes the host table of namespace ns_name if it exists
 * and succeeds if it does not ("add table; delete table"). */
int ruleset_host_delete_text(const char *ns_name, char **out);
/* Same for the namespace table (run inside the namespace). */
int ruleset_ns_delete_text(char **out);
