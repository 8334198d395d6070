/* SPDX-License-Identifier: MIT */
#include "names.h"

#include <errno.h>
#include <stdio.h>

#include "config.h"
#include "util.h"

static int build(char *buf, size_t size, const char *ns, const char *prefix, const char *suffix) {
	int n;

	buf[0] = '\0';
	if (!ns_name_valid(ns))
		return -EINVAL;
	n = snprintf(buf, size, "%s%s%s", prefix, ns, suffix);
	if (n < 0 || (size_t)n >= size) {
		buf[0] = '\0';
		return -EINVAL;
	}
	return 0;
}

int ns_wg_ifname(const char *ns, char buf[static NS_IFNAME_SIZE]) {
	return build(buf, NS_IFNAME_SIZE, ns, "", "0");
}
int ns_bridge_ifname(const char *ns, char buf[static NS_IFNAME_SIZE]) {
	return build(buf, NS_IFNAME_SIZE, ns, "", "-br");
}
int ns_veth_host_ifname(const char *ns, char buf[static NS_IFNAME_SIZE]) {
	return build(buf, NS_IFNAME_SIZE, ns, "veth-", "-br");
}
int ns_veth_ns_ifname(const char *ns, char buf[static NS_IFNAME_SIZE]) {
	return build(buf, NS_IFNAME_SIZE, ns, "veth-", "");
}
int ns_netns_path(const char *ns, char buf[static NS_PATH_SIZE]) {
	return build(buf, NS_PATH_SIZE, ns, NETNS_RUN_DIR "/", "");
}
int ns_host_table_name(const char *ns, char buf[static NS_PATH_SIZE]) {
	return build(buf, NS_PATH_SIZE, ns, "vpn-confinement-", "");
}
int ns_unit_name(const char *template_name, const char *ns, char buf[static NS_UNIT_NAME_SIZE]) {
	buf[0] = '\0';
	if (!template_name ||
	    !(streq(template_name, "netns") || streq(template_name, "wg-up") || streq(template_name, "vpn-ns") ||
	      streq(template_name, "vpn-online") || streq(template_name, "vpn-portfwd")))
		return -EINVAL;
	char prefix[16];
	snprintf(prefix, sizeof(prefix), "%s@", template_name);
	return build(buf, NS_UNIT_NAME_SIZE, ns, prefix, ".service");
}

int ns_names_init(struct ns_names *n, const char *ns) {
	*n = (struct ns_names){ 0 };
	if (ns_netns_path(ns, n->netns_path) < 0 || ns_bridge_ifname(ns, n->bridge) < 0 ||
	    ns_veth_host_ifname(ns, n->veth_host) < 0 || ns_veth_ns_ifname(ns, n->veth_ns) < 0 ||
	    ns_wg_ifname(ns, n->wg) < 0 || ns_host_table_name(ns, n->host_table) < 0) {
		*n = (struct ns_names){ 0 };
		return -EINVAL;
	}
	snprintf(n->ns, sizeof(n->ns), "%s", ns);
	return 0;
}
