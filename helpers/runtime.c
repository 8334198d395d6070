/* SPDX-License-Identifier: MIT */
#include "runtime.h"

#include <stdio.h>

#include "commands.h"
#include "nft.h"
#include "util.h"

int ns_names_init(struct ns_names *n, const char *ns) {
	*n = (struct ns_names){ 0 };
	if (!ns_name_valid(ns) || ns_netns_path(ns, n->netns_path) < 0 ||
	    ns_bridge_ifname(ns, n->bridge) < 0 || ns_veth_host_ifname(ns, n->veth_host) < 0 ||
	    ns_veth_ns_ifname(ns, n->veth_ns) < 0 || ns_wg_ifname(ns, n->wg) < 0 ||
	    ns_host_table_name(ns, n->host_table) < 0) {
		fprintf(stderr,
			"vpn-confinement: invalid namespace name '%s': 1 to %d characters a-z and 0-9, starting with a letter\n",
			ns, NS_NAME_MAX);
		return -EINVAL;
	}
	snprintf(n->ns, sizeof(n->ns), "%s", ns);
	return 0;
}

int runtime_load_config(const char *ns, struct ns_config **out) {
	struct diag d = { 0 };
	int r;

	r = ns_config_load_one(confdir(), ns, out, &d);
	diag_print(&d, stderr, "vpn-confinement");
	diag_clear(&d);
	if (r == 0 && *out && (*out)->valid)
		return 0;
	if (r < 0 && r != -EINVAL)
		fprintf(stderr, "vpn-confinement: %s/%s.ini: cannot read: %s\n", confdir(), ns, strerror(-r));
	ns_config_free(*out);
	*out = NULL;
	return EXIT_CONFIG;
}

int runtime_load_wg(const struct ns_config *ns, struct wg_config **out) {
	struct diag d = { 0 };
	bool reported;
	int r;

	/* Whoever can write it chooses where the tunnel goes. */
	r = wgconf_check_owner(ns->wg_config_file, 0, &d);
	if (r == 0)
		r = wgconf_load(ns->wg_config_file, out, &d);
	diag_print(&d, stderr, "vpn-confinement");
	reported = d.n_errors > 0;
	diag_clear(&d);
	if (r == 0)
		return 0;
	/* wgconf_load names every failure it can; say something when it could not. */
	if (!reported)
		fprintf(stderr, "vpn-confinement: %s: %s\n", ns->wg_config_file, strerror(-r));
	wg_config_free(*out);
	*out = NULL;
	return EXIT_CONFIG;
}

int runtime_nft_apply(const char *step, const char *text) {
	_cleanup_free_ char *err = NULL;
	int r = nft_apply(text, &err);

	if (r < 0)
		fprintf(stderr, "vpn-confinement: %s: nft: %s\n", step,
			err && *err ? strip_ws(err) : strerror(-r));
	return r;
}

int runtime_nft_create(const char *step, const char *text, const char *table) {
	_cleanup_free_ char *header = NULL, *stripped = NULL;
	const char *at;

	/* A transaction that deletes a table makes the kernel finish
	 * destroying it when the netlink socket closes, about 10 ms: for a
	 * table known to be absent, leave out the replace header (that
	 * ruleset.c writes first). Without it, the text is applied as is. */
	if (asprintf(&header, "table inet %s {\n}\ndelete table inet %s\n", table, table) < 0)
		return -ENOMEM;
	at = strstr(text, header);
	if (!at || strstr(at + 1, header))
		return runtime_nft_apply(step, text);
	if (asprintf(&stripped, "%.*s%s", (int)(at - text), text, at + strlen(header)) < 0)
		return -ENOMEM;
	return runtime_nft_apply(step, stripped);
}

bool runtime_nft_table_exists(const char *table) {
	_cleanup_free_ char *family_table = NULL, *listing = NULL;

	if (asprintf(&family_table, "inet %s", table) < 0)
		return true;
	/* Any answer but "no such table" counts as existing: the caller then
	 * uses the replacing form, which is right either way. */
	return nft_list_table(family_table, &listing) != -ENOENT;
}

const char *netns_etcdir(void) {
	const char *v = getenv("VPN_CONFINEMENT_NETNS_ETCDIR");
	return v && *v ? v : "/etc/netns";
}

int parse_ns_arg(int argc, char **argv, const char *usage, const char **ns) {
	if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
		printf("Usage: vpn-confinement %s\nSee vpn-confinement(8).\n", usage);
		return EXIT_OK;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "vpn-confinement: usage: vpn-confinement %s\n", usage);
		return EXIT_USAGE;
	}
	*ns = argv[1];
	return -1;
}
