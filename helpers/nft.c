/* SPDX-License-Identifier: MIT */
#include "nft.h"

#include <ctype.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>

#include "json.h"
#include "log.h"
#include "netlink.h"
#include "util.h"

DEFINE_PTR_CLEANUP(struct nft_ctx, nft_ctx_free)

/* libnftables reports failure as a message only; map the common kernel
 * errors it quotes back to an errno so callers can tell them apart. */
static int errno_from_message(const char *msg) {
	if (!msg)
		return -EIO;
	if (strstr(msg, "Operation not permitted"))
		return -EPERM;
	if (strstr(msg, "No such file or directory"))
		return -ENOENT;
	if (strstr(msg, "Error:"))
		return -EINVAL;
	return -EIO;
}

enum run_flags {
	RUN_DRY = 1 << 0,
	RUN_STATELESS = 1 << 1, /* listings without counter values */
	RUN_JSON = 1 << 2,      /* listings as JSON */
};

static int run(const char *text, enum run_flags flags, char **out, char **err_out) {
	_cleanup_(nft_ctx_freep) struct nft_ctx *ctx = NULL;
	const char *msg;
	int r;

	if (err_out)
		*err_out = NULL;
	if (!text)
		return -EINVAL;
	ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return -ENOMEM;
	/* Buffer both streams: nothing of libnftables' reaches our stdout or
	 * stderr; the caller decides what to print. */
	if (nft_ctx_buffer_output(ctx) < 0 || nft_ctx_buffer_error(ctx) < 0)
		return -ENOMEM;
	nft_ctx_set_dry_run(ctx, flags & RUN_DRY);
	if (flags & RUN_STATELESS)
		nft_ctx_output_set_flags(ctx, nft_ctx_output_get_flags(ctx) | NFT_CTX_OUTPUT_STATELESS);
	if (flags & RUN_JSON)
		nft_ctx_output_set_flags(ctx, nft_ctx_output_get_flags(ctx) | NFT_CTX_OUTPUT_JSON);

	r = nft_run_cmd_from_buffer(ctx, text);
	if (r != 0) {
		msg = nft_ctx_get_error_buffer(ctx);
		r = errno_from_message(msg);
		if (err_out && msg && *msg && !(*err_out = strdup(msg)))
			return -ENOMEM;
		return r;
	}
	if (out) {
		const char *o = nft_ctx_get_output_buffer(ctx);
		if (!(*out = strdup(o ? o : "")))
			return -ENOMEM;
	}
	return 0;
}

int nft_apply(const char *ruleset_text, char **err_out) {
	return run(ruleset_text, 0, NULL, err_out);
}

int nft_apply_step(const char *what, const char *ruleset_text) {
	_cleanup_free_ char *err = NULL;
	int r = nft_apply(ruleset_text, &err);

	if (r < 0 && err && *err)
		log_msg("%s: nft: %s", what, strip_ws(err));
	else if (r < 0)
		log_errno(r, "%s: nft", what);
	return r;
}

int nft_check(const char *ruleset_text, char **err_out) {
	return run(ruleset_text, RUN_DRY, NULL, err_out);
}

/* "VERB FAMILY NAME", when family_table is "FAMILY NAME" of [a-z0-9_-]:
 * nothing else may reach the command. */
static int table_command(const char *verb, const char *family_table, char **cmd) {
	const char *sp;

	if (!family_table || !(sp = strchr(family_table, ' ')) || sp == family_table || !sp[1])
		return -EINVAL;
	for (const char *p = family_table; *p; p++)
		if (p != sp && !(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' || *p == '_'))
			return -EINVAL;
	return asprintf(cmd, "%s %s", verb, family_table) < 0 ? -ENOMEM : 0;
}

int nft_list_table(const char *family_table, char **out) {
	_cleanup_free_ char *cmd = NULL;
	_cleanup_free_ char *err = NULL;
	int r = table_command("list table", family_table, &cmd);

	return r < 0 ? r : run(cmd, RUN_STATELESS, out, &err);
}

DEFINE_PTR_CLEANUP(struct json, json_free)

/* {"nftables": [{"metainfo": {...}}, {"counter": {"family": "inet",
 * "name": "N", "table": "T", "handle": 1, "packets": 0, "bytes": 0}}, ...]}
 * (libnftables-json(5)); the counters of table (its name) only. */
static int counters_from_json(const char *text, const char *table, struct nft_counter **out, size_t *n) {
	_cleanup_(json_freep) struct json *j = NULL;
	const struct json *list;
	int r = json_parse(text, strlen(text), &j, NULL);

	if (r < 0)
		return r == -ENOMEM ? r : -EBADMSG;
	list = json_get(j, "nftables");
	if (!list || list->type != JSON_ARRAY)
		return -EBADMSG;
	for (size_t i = 0; i < list->n; i++) {
		const struct json *c = json_get(&list->items[i], "counter");
		const char *name = json_str(json_get(c, "name")), *tbl = json_str(json_get(c, "table"));
		struct nft_counter nc = { 0 };

		if (!c)
			continue; /* metainfo */
		if (!name || !tbl || json_u64(json_get(c, "packets"), &nc.packets) < 0 ||
		    json_u64(json_get(c, "bytes"), &nc.bytes) < 0)
			return -EBADMSG;
		if (!streq(tbl, table) || strlen(name) >= sizeof(nc.name))
			continue;
		snprintf(nc.name, sizeof(nc.name), "%s", name);
		if (ARRAY_APPEND(*out, *n, nc) < 0)
			return -ENOMEM;
	}
	return 0;
}

int nft_list_counters(const char *family_table, struct nft_counter **out, size_t *n) {
	_cleanup_free_ char *cmd = NULL, *err = NULL, *text = NULL;
	int r = table_command("list counters table", family_table, &cmd);

	*out = NULL;
	*n = 0;
	if (r < 0)
		return r;
	r = run(cmd, RUN_JSON, &text, &err);
	if (r < 0)
		return r;
	r = counters_from_json(text, strchr(family_table, ' ') + 1, out, n);
	if (r < 0) {
		free(TAKE_PTR(*out));
		*n = 0;
	}
	return r;
}

const struct nft_counter *nft_counter_find(const struct nft_counter *counters, size_t n, const char *name) {
	for (size_t i = 0; i < n; i++)
		if (streq(counters[i].name, name))
			return &counters[i];
	return NULL;
}

bool nft_table_exists(const char *table) {
	_cleanup_free_ char *family_table = NULL, *listing = NULL;

	if (asprintf(&family_table, "inet %s", table) < 0)
		return true;
	return nft_list_table(family_table, &listing) != -ENOENT;
}

int nft_monitor_open(void) { return nl_monitor_open(NETLINK_NETFILTER, 1u << (NFNLGRP_NFTABLES - 1)); }
