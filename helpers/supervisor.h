/* SPDX-License-Identifier: MIT */
/* wg-up --foreground: after bringing the tunnel up, stay and watch it, for a
 * Type=notify unit with Restart=on-failure. It says READY=1 (sd_notify);
 * SIGTERM or SIGINT takes the tunnel down (a requested stop); the tunnel's
 * death (wireguard-go exited, N0 deleted) takes it down too and puts the
 * base ruleset back, so that systemd brings it up again; and while it runs
 * it keeps the host side in place (namespace_host_side_ensure), when
 * nftables changes in the host namespace and every few seconds. */
#pragma once

#include "names.h"

struct ns_config;
struct tunnel_record;

/* sigfd: a signalfd for SIGTERM, SIGINT and SIGCHLD, blocked since before
 * the tunnel came up. Returns 0 after a requested stop whose tear-down
 * worked, -ECONNABORTED after the tunnel died (it is down), another
 * negative errno when watching or the tear-down failed. */
int supervise(const struct ns_names *n, const struct ns_config *ns, const struct tunnel_record *rec, int sigfd);
