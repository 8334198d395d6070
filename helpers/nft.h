/* SPDX-License-Identifier: MIT */
/* Apply and list nftables rulesets in-process through libnftables: no nft
 * process, one transaction per call. Everything acts in the network
 * namespace of the calling thread at the time of the call (a fresh
 * libnftables context, and so a fresh netlink socket, is made per call), so a
 * caller setns()es first. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Apply ruleset_text (nft -f syntax) as one atomic transaction. Returns 0, or
 * a negative errno (-EPERM without CAP_NET_ADMIN, -EINVAL when nft rejected
 * the text, -EIO otherwise) and, when err_out is not NULL, libnftables'
 * error text in *err_out (the caller frees; may be NULL if there was none). */
int nft_apply(const char *ruleset_text, char **err_out);

/* nft_apply(), reporting a failure as "WHAT: nft: MESSAGE" (libnftables'
 * own text). */
int nft_apply_step(const char *what, const char *ruleset_text);

/* Like nft_apply, but only check: the kernel validates the transaction and
 * rolls it back (nft -c). */
int nft_check(const char *ruleset_text, char **err_out);

/* "list table FAMILY_TABLE" (e.g. "inet vpn-confinement"), stateless (no
 * counter values), into a new string *out. Returns -ENOENT when the table
 * does not exist, -EINVAL for a malformed family_table, other errors as
 * nft_apply (the error text is dropped). */
int nft_list_table(const char *family_table, char **out);

/* A named counter object of a table, as "list counters table ..." reads
 * it (nft -j: libnftables' JSON output). */
struct nft_counter {
	char name[32];
	uint64_t packets, bytes;
};

/* The named counters of table FAMILY_TABLE (as nft_list_table) with their
 * values, into a new array *out of *n (the caller frees). -ENOENT when the
 * table does not exist, -EINVAL for a malformed family_table, -EBADMSG
 * when the JSON is not what libnftables writes (or it has no JSON
 * support), other errors as nft_apply. Counters whose names do not fit
 * are left out. */
int nft_list_counters(const char *family_table, struct nft_counter **out, size_t *n);
/* The counter called name in counters[], or NULL. */
const struct nft_counter *nft_counter_find(const struct nft_counter *counters, size_t n, const char *name);

/* Whether table "inet TABLE" exists in the current namespace (true when
 * that cannot be told: a caller then takes the path that is right either
 * way). */
bool nft_table_exists(const char *table);

/* nftables changes of the current namespace (tables, chains, rules added
 * or deleted by anyone): a socket subscribed to them, for nl_monitor_read()
 * (netlink.h), which returns 1 when anything happened. */
int nft_monitor_open(void);
