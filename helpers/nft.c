/* SPDX-License-Identifier: MIT */
#include "nft.h"

#include <ctype.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>

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

static int run(const char *text, bool dry_run, bool stateless, char **out, char **err_out) {
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
	nft_ctx_set_dry_run(ctx, dry_run);
	if (stateless)
		nft_ctx_output_set_flags(ctx, nft_ctx_output_get_flags(ctx) | NFT_CTX_OUTPUT_STATELESS);

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
	return run(ruleset_text, false, false, NULL, err_out);
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
	return run(ruleset_text, true, false, NULL, err_out);
}

int nft_list_table(const char *family_table, char **out) {
	_cleanup_free_ char *cmd = NULL;
	_cleanup_free_ char *err = NULL;
	const char *sp;

	/* Only "FAMILY NAME" of [a-z0-9_-]: nothing else may reach the command. */
	if (!family_table || !(sp = strchr(family_table, ' ')) || sp == family_table || !sp[1])
		return -EINVAL;
	for (const char *p = family_table; *p; p++)
		if (p != sp && !(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' || *p == '_'))
			return -EINVAL;
	if (asprintf(&cmd, "list table %s", family_table) < 0)
		return -ENOMEM;
	return run(cmd, false, true, out, &err);
}

bool nft_table_exists(const char *table) {
	_cleanup_free_ char *family_table = NULL, *listing = NULL;

	if (asprintf(&family_table, "inet %s", table) < 0)
		return true;
	return nft_list_table(family_table, &listing) != -ENOENT;
}

int nft_monitor_open(void) { return nl_monitor_open(NETLINK_NETFILTER, 1u << (NFNLGRP_NFTABLES - 1)); }
