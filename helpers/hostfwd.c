/* SPDX-License-Identifier: MIT */
#include "hostfwd.h"

#include <sys/socket.h>

#include "config.h"
#include "log.h"
#include "nft.h"
#include "rundir.h"
#include "ruleset.h"
#include "sysctl.h"
#include "util.h"

bool hostfwd_ifname_ok(const char *ifname) {
	size_t n = strlen(ifname);

	if (n == 0 || n >= NS_IFNAME_SIZE || streq(ifname, "all") || streq(ifname, "default") ||
	    streq(ifname, "lo") || streq(ifname, ".") || streq(ifname, ".."))
		return false;
	for (const char *p = ifname; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '.' || *p == '-'))
			return false;
	return true;
}

int hostfwd_claim_key(const struct host_claim *c, char *buf, size_t size) {
	int k;

	if (!hostfwd_ifname_ok(c->ifname) || (c->family != AF_INET && c->family != AF_INET6))
		return -EINVAL;
	k = c->family == AF_INET ? snprintf(buf, size, "net/ipv4/conf/%s/forwarding", c->ifname)
				 : snprintf(buf, size, "net/ipv6/conf/%s/force_forwarding", c->ifname);
	return k < 0 || (size_t)k >= size ? -ENAMETOOLONG : 0;
}

/* One "KEY<TAB>ORIGINAL" line, exactly as claim_write() writes it. */
static int claim_parse(const char *line, size_t len, struct host_claim *out) {
	static const struct {
		int family;
		const char *prefix, *suffix;
	} forms[] = {
		{ AF_INET, "net/ipv4/conf/", "/forwarding\t" },
		{ AF_INET6, "net/ipv6/conf/", "/force_forwarding\t" },
	};

	for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
		size_t pl = strlen(forms[i].prefix), sl = strlen(forms[i].suffix), il;
		const char *suffix;

		if (len < pl + sl + 2 || strncmp(line, forms[i].prefix, pl) != 0)
			continue;
		/* The value is the last byte: "0" or "1". */
		suffix = line + len - 1 - sl;
		if (memcmp(suffix, forms[i].suffix, sl) != 0 || (line[len - 1] != '0' && line[len - 1] != '1'))
			return -EBADMSG;
		il = (size_t)(suffix - line) - pl;
		if (il == 0 || il >= NS_IFNAME_SIZE)
			return -EBADMSG;
		*out = (struct host_claim){ .family = forms[i].family, .original = line[len - 1] == '1' };
		memcpy(out->ifname, line + pl, il);
		out->ifname[il] = '\0';
		return hostfwd_ifname_ok(out->ifname) ? 0 : -EBADMSG;
	}
	return -EBADMSG;
}

static int claims_parse(const char *text, struct host_claim **out, size_t *n, size_t *n_bad) {
	_cleanup_free_ struct host_claim *claims = NULL;
	size_t count = 0, bad = 0;

	for (const char *p = text; *p;) {
		const char *eol = strchrnul(p, '\n');
		struct host_claim c;

		if (eol > p) {
			if (claim_parse(p, (size_t)(eol - p), &c) == 0) {
				if (ARRAY_APPEND(claims, count, c) < 0)
					return -ENOMEM;
			} else
				bad++;
		}
		p = *eol ? eol + 1 : eol;
	}
	*out = TAKE_PTR(claims);
	*n = count;
	*n_bad = bad;
	return 0;
}

int hostfwd_claims_load(const char *ns, struct host_claim **out, size_t *n, size_t *n_bad) {
	_cleanup_free_ char *text = NULL;
	int r;

	*out = NULL;
	*n = *n_bad = 0;
	r = rundir_read(ns, RUN_HOST_SYSCTL, &text);
	if (r < 0)
		return r;
	return claims_parse(text, out, n, n_bad);
}

/* Claims of ns, reporting refused lines (a record of ours that someone
 * changed). -ENOENT: none. */
static int claims_load_reporting(const char *ns, struct host_claim **out, size_t *n) {
	size_t bad;
	int r = hostfwd_claims_load(ns, out, n, &bad);

	if (r == 0 && bad > 0)
		log_msg("%s: ignoring %zu line(s) of %s in the run directory that vpn-confinement did not write", ns, bad,
			RUN_HOST_SYSCTL);
	return r;
}

static bool claim_same(const struct host_claim *a, const struct host_claim *b) {
	return a->family == b->family && streq(a->ifname, b->ifname);
}

/* The original value of c as claimed by another namespace. */
static bool claims_of_others(const char *ns, const struct host_claim *c, bool *original) {
	char **names = NULL;
	size_t n_names = 0;
	bool found = false;

	if (rundir_list(&names, &n_names) < 0)
		return false;
	for (size_t i = 0; i < n_names; i++) {
		_cleanup_free_ struct host_claim *claims = NULL;
		size_t n = 0;

		if (!found && !streq(names[i], ns) && claims_load_reporting(names[i], &claims, &n) == 0)
			for (size_t k = 0; k < n && !found; k++)
				if (claim_same(&claims[k], c)) {
					*original = claims[k].original;
					found = true;
				}
	}
	strv_free(names, n_names);
	return found;
}

static int claims_write(const char *ns, const struct host_claim *claims, size_t n) {
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	char key[128];
	int r = 0;

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < n && r == 0; i++) {
		r = hostfwd_claim_key(&claims[i], key, sizeof(key));
		if (r == 0)
			fprintf(f, "%s\t%c\n", key, claims[i].original ? '1' : '0');
	}
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	return r < 0 ? r : rundir_write(ns, RUN_HOST_SYSCTL, text);
}

static int guard_update_locked(bool only_if_missing) {
	_cleanup_free_ char *text = NULL;
	struct forward_guard g = { 0 };
	char **names = NULL;
	size_t n_names = 0;
	bool exists;
	int r;

	exists = nft_table_exists(FORWARD_GUARD_TABLE);
	if (only_if_missing && exists)
		return 0;
	r = rundir_list(&names, &n_names);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_names && r >= 0; i++) {
		_cleanup_free_ struct host_claim *claims = NULL;
		size_t n = 0;

		if (claims_load_reporting(names[i], &claims, &n) < 0 || n == 0)
			continue;
		for (size_t k = 0; k < n && r >= 0; k++)
			r = forward_guard_add_in(&g, claims[k].family, claims[k].ifname);
		if (r >= 0)
			r = forward_guard_add_bridge(&g, names[i]);
	}
	strv_free(names, n_names);
	if (r >= 0 && (exists || !forward_guard_empty(&g)))
		r = ruleset_forward_guard_text(&g, exists ? RULESET_REPLACE : RULESET_CREATE, &text);
	forward_guard_clear(&g);
	if (r < 0 || !text)
		return r < 0 ? r : 0;
	r = nft_apply_step("forwarding guard (table inet " FORWARD_GUARD_TABLE ")", text);
	if (r < 0)
		return r;
	return only_if_missing ? 1 : 0;
}

int hostfwd_guard_update(bool only_if_missing) {
	_cleanup_close_ int lock = rundir_lock();

	if (lock < 0)
		return lock;
	return guard_update_locked(only_if_missing);
}

int hostfwd_claim(const char *ns, const struct host_claim *wanted, size_t n) {
	_cleanup_close_ int lock = -1;
	_cleanup_free_ struct host_claim *mine = NULL;
	_cleanup_free_ bool *write = NULL;
	size_t n_mine = 0, n_before;
	char key[128], current[16];
	int r;

	if (n == 0)
		return 0;
	write = calloc(n, sizeof(bool));
	if (!write)
		return -ENOMEM;
	lock = rundir_lock();
	if (lock < 0)
		return lock;
	r = claims_load_reporting(ns, &mine, &n_mine);
	if (r < 0 && r != -ENOENT)
		return r;
	n_before = n_mine;
	for (size_t i = 0; i < n; i++) {
		struct host_claim c = wanted[i];
		bool held = false;

		r = hostfwd_claim_key(&c, key, sizeof(key));
		if (r == 0)
			r = sysctl_read(key, current, sizeof(current));
		if (r < 0)
			return log_errno(r, "%s", key);
		for (size_t k = 0; k < n_mine; k++)
			held |= claim_same(&mine[k], &c);
		if (!held) {
			if (!claims_of_others(ns, &c, &c.original)) {
				if (streq(current, "1"))
					continue; /* already so, and nobody of ours changed it */
				c.original = streq(current, "1");
			}
			if (ARRAY_APPEND(mine, n_mine, c) < 0)
				return -ENOMEM;
		}
		write[i] = !streq(current, "1");
	}
	/* Recorded before anything changes, so a crash in between still
	 * restores. */
	if (n_mine != n_before && (r = claims_write(ns, mine, n_mine)) < 0)
		return r;
	/* The guard first: forwarding goes on only where it already holds. */
	r = guard_update_locked(false);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (!write[i])
			continue;
		hostfwd_claim_key(&wanted[i], key, sizeof(key));
		if ((r = sysctl_setf("1", "%s", key)) < 0)
			return r;
	}
	return 0;
}

int hostfwd_release(const char *ns) {
	_cleanup_close_ int lock = -1;
	_cleanup_free_ struct host_claim *mine = NULL;
	size_t n_mine = 0;
	int r, first = 0;

	lock = rundir_lock();
	if (lock < 0)
		return lock;
	r = claims_load_reporting(ns, &mine, &n_mine);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_mine; i++) {
		char key[128];
		bool other;

		if (claims_of_others(ns, &mine[i], &other))
			continue; /* still needed by another namespace, which restores it later */
		hostfwd_claim_key(&mine[i], key, sizeof(key));
		r = sysctl_write(key, mine[i].original ? "1" : "0");
		/* A link of the host that went away meanwhile has nothing to restore. */
		if (r < 0 && r != -ENOENT)
			RET_GATHER(first, log_errno(r, "restoring %s to %d", key, mine[i].original));
	}
	if (first)
		return first;
	r = rundir_remove(ns, RUN_HOST_SYSCTL);
	if (r < 0)
		return r;
	/* After the restore: forwarding is off before the guard loosens. */
	return guard_update_locked(false);
}
