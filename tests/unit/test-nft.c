/* SPDX-License-Identifier: MIT */
/* nft_apply / nft_check / nft_list_table. Error paths always; the real
 * transactions only inside a private network namespace this process makes
 * for itself (unshare, as root or in a user namespace), never in the
 * machine's own. */
#include <sched.h>
#include <sys/socket.h>

#include "config.h"
#include "nft.h"
#include "ruleset.h"
#include "test.h"
#include "text.h"
#include "util.h"

static void test_arguments(void) {
	_cleanup_free_ char *out = NULL, *err = NULL;

	CHECK(nft_apply(NULL, &err) == -EINVAL, "NULL text");
	CHECK(nft_list_table("inet", &out) == -EINVAL, "no table name");
	CHECK(nft_list_table("inet x; flush ruleset", &out) == -EINVAL, "command injection refused");
	CHECK(nft_list_table("inet X", &out) == -EINVAL, "upper case refused");
	CHECK(nft_list_table(" x", &out) == -EINVAL, "no family");
	CHECK(out == NULL, "no output on error");
	/* A syntax error is found by the parser, before the kernel is asked. */
	CHECK(nft_check("table inet x { chain c { type filter hook input priority filter; policy; } }\n", &err) == -EINVAL,
	      "syntax error");
	CHECK(err && strstr(err, "Error:"), "error text returned: %s", err ? err : "(null)");
}

static bool private_netns(void) {
	if (unshare(CLONE_NEWNET) == 0)
		return true;
	/* Not root: a user namespace gives CAP_NET_ADMIN over a new netns. */
	return unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0;
}

static void test_live(void) {
	struct ns_config ns = { .name = "tnft" };
	struct wg_config wg = { 0 };
	struct ipnet wg_addr;
	struct ipaddr dns;
	_cleanup_free_ char *base = NULL, *full = NULL, *host = NULL, *del = NULL;
	_cleanup_free_ char *err = NULL, *list = NULL, *list2 = NULL;

	CHECK(ipnet_parse("192.168.15.1/24", false, &ns.ns_addr) == 0, "parse");
	CHECK(ipnet_parse("192.168.15.5/24", false, &ns.bridge_addr) == 0, "parse");
	CHECK(ipnet_parse("10.2.0.2/32", false, &wg_addr) == 0, "parse");
	CHECK(ipaddr_parse("10.2.0.1", &dns) == 0, "parse");
	wg.addresses = &wg_addr, wg.n_addresses = 1, wg.dns = &dns, wg.n_dns = 1;
	CHECK(ruleset_ns_base_text(ns.name, NULL, RULESET_REPLACE, &base) == 0, "base");
	CHECK(ruleset_ns_full_text(&ns, &wg, RULESET_REPLACE, &full) == 0, "full");
	CHECK(ruleset_host_text(&ns, RULESET_REPLACE, &host) == 0, "host");
	CHECK(ruleset_ns_delete_text(&del) == 0, "delete");
	if (!base || !full || !host || !del)
		return;

	CHECK(nft_list_table("inet " NS_TABLE_NAME, &list) == -ENOENT, "no table yet");
	CHECK(nft_apply(del, &err) == 0, "deleting a missing table succeeds: %s", err ? err : "");
	CHECK(nft_check(base, &err) == 0, "base checks: %s", err ? err : "");
	CHECK(nft_list_table("inet " NS_TABLE_NAME, &list) == -ENOENT, "a check changes nothing");
	CHECK(nft_apply(base, &err) == 0, "base applies: %s", err ? err : "");
	CHECK(nft_list_table("inet " NS_TABLE_NAME, &list) == 0 && list && strstr(list, "policy drop"),
	      "base listed");
	free(TAKE_PTR(list));
	CHECK(nft_apply(full, &err) == 0, "full replaces base: %s", err ? err : "");
	CHECK(nft_apply(full, &err) == 0, "and again (idempotent): %s", err ? err : "");
	CHECK(nft_list_table("inet " NS_TABLE_NAME, &list) == 0 && list && strstr(list, "chain dns-restrict") &&
		      strstr(list, "10.2.0.1") && !strstr(list, "packets"),
	      "full listed, stateless");

	/* A failing transaction leaves the old table untouched (atomicity). */
	const char *bad = "table inet " NS_TABLE_NAME " {\n}\ndelete table inet " NS_TABLE_NAME "\n"
			  "table inet " NS_TABLE_NAME " {\n\tchain c {\n\t\tjump nowhere\n\t}\n}\n";
	free(TAKE_PTR(err));
	CHECK(nft_apply(bad, &err) < 0, "a bad transaction fails");
	CHECK(err && *err, "with a message");
	CHECK(nft_list_table("inet " NS_TABLE_NAME, &list2) == 0 && list && list2 && streq(list, list2),
	      "and the table is unchanged");
	free(TAKE_PTR(err));
	CHECK(nft_apply(host, &err) == 0, "host table applies: %s", err ? err : "");
	free(TAKE_PTR(list));
	CHECK(nft_list_table("inet vpn-confinement-tnft", &list) == 0 && list && strstr(list, "tnft-br"),
	      "host table listed");
	CHECK(nft_apply(del, &err) == 0, "delete: %s", err ? err : "");
	free(TAKE_PTR(list));
	CHECK(nft_list_table("inet " NS_TABLE_NAME, &list) == -ENOENT, "gone");
}

/* Replace every "counter NAME {\n\t}" of text with one holding packets
 * and bytes: a table whose counters have counted. */
static char *with_counts(const char *text, uint64_t packets) {
	_cleanup_(text_release) struct text t = { 0 };
	const char *p = text, *q;

	if (text_open(&t, false) < 0)
		return NULL;
	while ((q = strstr(p, "_drop {\n\t}"))) {
		fprintf(t.f, "%.*s_drop {\n\t\tpackets %llu bytes %llu\n\t}", (int)(q - p), p,
			(unsigned long long)packets, (unsigned long long)packets * 100);
		p = q + strlen("_drop {\n\t}");
	}
	fputs(p, t.f);
	return text_finish(&t) == 0 ? text_steal(&t) : NULL;
}

/* nft_list_counters reads the named counters' values (JSON); counter
 * values never show in nft_list_table's listing, so the rulesets' live
 * and rendered listings (status, check) compare equal however much the
 * kill switch dropped. */
static void test_counters(void) {
	struct ns_config ns = { .name = "tnft" };
	struct wg_config wg = { 0 };
	struct ipnet wg_addr;
	struct ipaddr dns;
	_cleanup_free_ char *full = NULL, *counted = NULL, *host = NULL, *host_counted = NULL, *err = NULL;
	_cleanup_free_ char *list = NULL, *list2 = NULL, *hlist = NULL, *hlist2 = NULL;
	_cleanup_free_ struct nft_counter *c = NULL;
	size_t n = 0;
	const struct nft_counter *x;

	CHECK(ipnet_parse("192.168.15.1/24", false, &ns.ns_addr) == 0, "parse");
	CHECK(ipnet_parse("192.168.15.5/24", false, &ns.bridge_addr) == 0, "parse");
	CHECK(ipnet_parse("10.2.0.2/32", false, &wg_addr) == 0, "parse");
	CHECK(ipaddr_parse("10.2.0.1", &dns) == 0, "parse");
	wg.addresses = &wg_addr, wg.n_addresses = 1, wg.dns = &dns, wg.n_dns = 1;
	CHECK(ruleset_ns_full_text(&ns, &wg, RULESET_REPLACE, &full) == 0, "full");
	CHECK(ruleset_host_text(&ns, RULESET_REPLACE, &host) == 0, "host");
	if (!full || !host)
		return;
	counted = with_counts(full, 7);
	host_counted = with_counts(host, 5);
	CHECK(counted && host_counted && !streq(counted, full), "counted variants");
	if (!counted || !host_counted)
		return;

	CHECK(nft_list_counters("inet " NS_TABLE_NAME, &c, &n) == -ENOENT && !c && n == 0, "no table: -ENOENT");
	CHECK(nft_list_counters("inet x; flush ruleset", &c, &n) == -EINVAL, "command injection refused");
	CHECK(nft_apply(full, &err) == 0, "full: %s", err ? err : "");
	CHECK(nft_list_counters("inet " NS_TABLE_NAME, &c, &n) == 0 && n == 5, "five counters (%zu)", n);
	x = nft_counter_find(c, n, "forward_drop");
	CHECK(x && x->packets == 0 && x->bytes == 0, "forward_drop at 0");
	CHECK(nft_counter_find(c, n, "nothing") == NULL, "find: no such counter");
	free(TAKE_PTR(c));
	CHECK(nft_list_table("inet " NS_TABLE_NAME, &list) == 0, "listed");

	CHECK(nft_apply(counted, &err) == 0, "full with counted counters: %s", err ? err : "");
	CHECK(nft_list_counters("inet " NS_TABLE_NAME, &c, &n) == 0 && n == 5, "five counters");
	x = nft_counter_find(c, n, "output_drop");
	CHECK(x && x->packets == 7 && x->bytes == 700, "output_drop 7 packets, 700 bytes");
	x = nft_counter_find(c, n, "dns_drop");
	CHECK(x && x->packets == 7 && x->bytes == 700, "dns_drop read too");
	CHECK(nft_list_table("inet " NS_TABLE_NAME, &list2) == 0 && list && list2 && streq(list, list2),
	      "the stateless listing is the same with counts: the comparison sees no difference");

	CHECK(nft_apply(host, &err) == 0 && nft_list_table("inet vpn-confinement-tnft", &hlist) == 0, "host");
	CHECK(nft_apply(host_counted, &err) == 0 && nft_list_table("inet vpn-confinement-tnft", &hlist2) == 0,
	      "host counted");
	CHECK(hlist && hlist2 && streq(hlist, hlist2), "the host table's listing too");
	free(TAKE_PTR(c));
	CHECK(nft_list_counters("inet vpn-confinement-tnft", &c, &n) == 0 && n == 2, "the guard's two counters");
	x = nft_counter_find(c, n, "guard_input_drop");
	CHECK(x && x->packets == 5 && x->bytes == 500, "guard_input_drop 5 packets");
	free(TAKE_PTR(c));
	/* Only the table asked for, though another has counters of the same name. */
	CHECK(nft_list_counters("inet " NS_TABLE_NAME, &c, &n) == 0 && !nft_counter_find(c, n, "guard_input_drop"),
	      "one table's counters only");
}

int main(void) {
	test_arguments();
	if (private_netns()) {
		test_live();
		test_counters();
	}
	else
		printf("# skipped the live part: cannot create a private network namespace (%s)\n", strerror(errno));
	return test_done();
}
