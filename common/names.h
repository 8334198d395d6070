/* SPDX-License-Identifier: MIT */
/* The names derived from a namespace name N (DESIGN.md), in one place so the
 * generator, the helper and the tests agree on them:
 *
 *   ns_wg_ifname          "N0"               WireGuard interface, inside N
 *   ns_bridge_ifname      "N-br"             bridge, on the host
 *   ns_veth_host_ifname   "veth-N-br"        veth end on the host (bridge port)
 *   ns_veth_ns_ifname     "veth-N"           veth end inside N
 *   ns_netns_path         "/run/netns/N"
 *   ns_host_table_name    "vpn-confinement-N"  nft table "inet ..." on the host
 *   NS_TABLE_NAME (ruleset.h) "vpn-confinement" nft table inside N
 *   ns_unit_name          "TEMPLATE@N.service", e.g. "vpn-ns@N.service"
 *
 * Each returns 0, or -EINVAL when ns is not a valid namespace name (so a
 * caller can never build a name from unchecked text), leaving buf "". */
#pragma once

#include <stddef.h>

#define NS_IFNAME_SIZE 16  /* IFNAMSIZ: 15 characters and the NUL */
#define NS_PATH_SIZE 64    /* "/run/netns/N" and the table name fit */
#define NS_UNIT_NAME_SIZE 64

#define NETNS_RUN_DIR "/run/netns"

int ns_wg_ifname(const char *ns, char buf[static NS_IFNAME_SIZE]);
int ns_bridge_ifname(const char *ns, char buf[static NS_IFNAME_SIZE]);
int ns_veth_host_ifname(const char *ns, char buf[static NS_IFNAME_SIZE]);
int ns_veth_ns_ifname(const char *ns, char buf[static NS_IFNAME_SIZE]);
int ns_netns_path(const char *ns, char buf[static NS_PATH_SIZE]);
int ns_host_table_name(const char *ns, char buf[static NS_PATH_SIZE]);
/* template is one of the shipped templates' names: "netns", "wg-up",
 * "vpn-ns", "vpn-online" (-EINVAL for anything else). */
int ns_unit_name(const char *template_name, const char *ns, char buf[static NS_UNIT_NAME_SIZE]);

/* All of them at once, for code that works on one namespace. */
struct ns_names {
	char ns[8];
	char netns_path[NS_PATH_SIZE];
	char bridge[NS_IFNAME_SIZE];
	char veth_host[NS_IFNAME_SIZE];
	char veth_ns[NS_IFNAME_SIZE];
	char wg[NS_IFNAME_SIZE];
	char host_table[NS_PATH_SIZE];
};
/* -EINVAL (nothing printed) when ns is not a valid namespace name. */
int ns_names_init(struct ns_names *n, const char *ns);
