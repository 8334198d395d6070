/* SPDX-License-Identifier: MIT */
#include "fwdguard.h"

#include <dirent.h>
#include <stdio.h>

#include "config.h"
#include "names.h"
#include "netns.h"
#include "nft.h"
#include "util.h"

bool forward_guard_ifname_ok(const char *ifname) {
	if (!*ifname || strlen(ifname) >= NS_IFNAME_SIZE)
		return false;
	for (const char *p = ifname; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '.' || *p == '-'))
			return false;
	return true;
}

static inline void closedirp(DIR **d) {
	if (*d)
		closedir(*d);
}

/* Append `"name", ` to a set being written, once. */
static void set_add(FILE *f, char **seen, const char *name) {
	char *quoted;

	if (asprintf(&quoted, "\"%s\"", name) < 0)
		return;
	if (*seen && strstr(*seen, quoted)) {
		free(quoted);
		return;
	}
	fprintf(f, "%s%s", *seen && **seen ? ", " : "", quoted);
	{
		char *grown;
		if (asprintf(&grown, "%s%s,", *seen ? *seen : "", quoted) >= 0) {
			free(*seen);
			*seen = grown;
		}
	}
	free(quoted);
}

/* The interface of a claim key, if it is a forwarding key of family fam. */
static bool claim_ifname(const char *key, int fam, char ifname[NS_IFNAME_SIZE]) {
	const char *prefix = fam == 4 ? "net/ipv4/conf/" : "net/ipv6/conf/";
	const char *suffix = fam == 4 ? "/forwarding" : "/force_forwarding";
	size_t pl = strlen(prefix), sl = strlen(suffix), kl = strlen(key);

	if (kl <= pl + sl || strncmp(key, prefix, pl) != 0 || !streq(key + kl - sl, suffix) ||
	    kl - pl - sl >= NS_IFNAME_SIZE)
		return false;
	snprintf(ifname, NS_IFNAME_SIZE, "%.*s", (int)(kl - pl - sl), key + pl);
	return forward_guard_ifname_ok(ifname);
}

int forward_guard_update(void) {
	_cleanup_(closedirp) DIR *d = opendir(rundir());
	_cleanup_free_ char *text = NULL, *seen4 = NULL, *seen6 = NULL, *seenb = NULL, *err = NULL;
	char *in4 = NULL, *in6 = NULL, *br = NULL;
	size_t l4 = 0, l6 = 0, lb = 0, len = 0;
	FILE *f4 = open_memstream(&in4, &l4), *f6 = open_memstream(&in6, &l6), *fb = open_memstream(&br, &lb);
	FILE *f = NULL;
	struct dirent *de;
	int r;

	if (!f4 || !f6 || !fb) {
		r = -ENOMEM;
		goto out;
	}
	while (d && (de = readdir(d))) {
		_cleanup_free_ char *claims = NULL;
		char bridge[NS_IFNAME_SIZE];
		bool any = false;

		if (!ns_name_valid(de->d_name) || state_read(de->d_name, "host-sysctl", &claims) < 0)
			continue;
		for (char *line = claims, *next; line && *line; line = next) {
			char ifname[NS_IFNAME_SIZE], *tab;

			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			tab = strchr(line, '\t');
			if (tab)
				*tab = '\0';
			if (claim_ifname(line, 4, ifname)) {
				set_add(f4, &seen4, ifname);
				any = true;
			} else if (claim_ifname(line, 6, ifname)) {
				set_add(f6, &seen6, ifname);
				any = true;
			}
		}
		if (any && ns_bridge_ifname(de->d_name, bridge) == 0)
			set_add(fb, &seenb, bridge);
	}
	if (fclose(f4) | fclose(f6) | fclose(fb)) {
		f4 = f6 = fb = NULL;
		r = -ENOMEM;
		goto out;
	}
	f4 = f6 = fb = NULL;

	f = open_memstream(&text, &len);
	if (!f) {
		r = -ENOMEM;
		goto out;
	}
	/* Replace (or delete) the table whole, like the other tables; when it
	 * does not exist, without the delete, which would cost a wait for the
	 * kernel's clean-up (see runtime_nft_create()). */
	{
		_cleanup_free_ char *listing = NULL;
		bool exists = nft_list_table("inet " FORWARD_GUARD_TABLE, &listing) != -ENOENT;

		if (!exists && !l4 && !l6) {
			fclose(f);
			f = NULL;
			r = 0;
			goto out;
		}
		if (exists)
			fprintf(f, "table inet %s {\n}\ndelete table inet %s\n", FORWARD_GUARD_TABLE,
				FORWARD_GUARD_TABLE);
	}
	if (l4 || l6) {
		fprintf(f,
			"table inet %s {\n"
			"\tcounter guard_drop {\n\t}\n\n"
			"\tchain forward {\n"
			"\t\ttype filter hook forward priority filter; policy accept;\n",
			FORWARD_GUARD_TABLE);
		if (l4)
			fprintf(f, "\t\tmeta nfproto ipv4 iifname { %s } oifname != { %s } counter name \"guard_drop\" drop\n",
				in4, br);
		if (l6)
			fprintf(f, "\t\tmeta nfproto ipv6 iifname { %s } oifname != { %s } counter name \"guard_drop\" drop\n",
				in6, br);
		fprintf(f, "\t}\n}\n");
	}
	if (fclose(f) != 0) {
		f = NULL;
		r = -ENOMEM;
		goto out;
	}
	f = NULL;
	r = nft_apply(text, &err);
	if (r < 0)
		fprintf(stderr, "vpn-confinement: forwarding guard (table inet %s): nft: %s\n", FORWARD_GUARD_TABLE,
			err && *err ? strip_ws(err) : strerror(-r));
out:
	if (f4)
		fclose(f4);
	if (f6)
		fclose(f6);
	if (fb)
		fclose(fb);
	free(in4);
	free(in6);
	free(br);
	return r;
}
