/* SPDX-License-Identifier: MIT */
/* Render nftables rulesets (nft -f syntax) from typed values only.
 *
 * Namespace table "inet vpn-confinement" (inside netns N):
 *   base form: policy drop on input, output, forward; lo only. Loaded before
 *              any interface other than lo exists.
 *   full form: output only via N0 (plus lo), DNS (udp/53, tcp/53, tcp/853)
 *              only to the wg config's DNS servers via N0, established/related
 *              only on the interface it belongs to, mapped ports in from the
 *              veth, open VPN ports in on N0.
 * Host table "inet vpn-confinement-N": DNAT for port mappings and a guard that
 * forwards and accepts nothing new from the bridge.
 *
 * Each render function returns a complete transaction that replaces the table
 * atomically ("add table; delete table; table ... { }"), so it can be applied
 * in one libnftables run whether or not the table already exists. */
#pragma once

#include <stdio.h>

#include "config.h"
#include "wgconf.h"

#define NS_TABLE_NAME "vpn-confinement"
#define HOST_TABLE_PREFIX "vpn-confinement-"

int ruleset_render_ns_base(const struct ns_config *ns, FILE *f);
int ruleset_render_ns_full(const struct ns_config *ns, const struct wg_config *wg, FILE *f);
int ruleset_render_host(const struct ns_config *ns, FILE *f);
