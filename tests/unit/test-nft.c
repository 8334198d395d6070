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

int main(void) {
	test_arguments();
	if (private_netns())
		test_live();
	else
		printf("# skipped the live part: cannot create a private network namespace (%s)\n", strerror(errno));
	return test_done();
}
