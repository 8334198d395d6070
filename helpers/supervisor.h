/* SPDX-License-Identifier: MIT */
/* wg-up --foreground: after bringing the tunnel up, stay and watch it, for a
 * Type=notify unit with Restart=on-failure. It says READY=1 (sd_notify);
 * SIGTERM or SIGINT takes the tunnel down (a requested stop); the tunnel's
 * death (wireguard-go exited, N0 deleted) takes it down too and puts the
 * base ruleset back, so that systemd brings it up again; while it runs it
 * keeps the host side in place (namespace_host_side_ensure), when nftables
 * changes in the host namespace and every few seconds; and it watches the
 * tunnel's health and heals it as health.h decides: probes, reconnects in
 * place, rebuilds, failover and failback, each saying why in the journal
 * and in $RUNDIR/N/health; at the first handshake, under systemd, it
 * starts vpn-online@N.service. */
#pragma once

#include "names.h"

struct ns_config;
struct tunnel_record;
struct wg_config;

/* sigfd: a signalfd for SIGTERM, SIGINT and SIGCHLD, blocked since before
 * the tunnel came up; rec and wg: the tunnel wg-up brought up with the
 * first config (wg is taken, and freed with its key once read). Returns 0
 * after a requested stop whose tear-down worked, -ECONNABORTED after the
 * tunnel died (it is down), another negative errno when watching or the
 * tear-down failed. */
int supervise(const struct ns_names *n, const struct ns_config *ns, const struct tunnel_record *rec,
	      struct wg_config *wg, int sigfd);
