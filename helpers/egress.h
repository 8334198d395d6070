/* SPDX-License-Identifier: MIT */
/* AllowedEgress= (config.h) against the tunnel's WireGuard config, which
 * the ini parser cannot see (it is a secret, read by wg-up): DNS never
 * takes the bridge, and neither does the tunnel's own peer. */
#pragma once

struct ns_config;
struct wg_config;
struct diag;

/* No AllowedEgress= destination of ns may contain a DNS server of wg
 * (DNS= : DNS goes only to them, only through the tunnel) or a peer's
 * endpoint address (a confined process must not reach the VPN server
 * around the tunnel). Each conflict is an error in d at the ini's
 * file:line, naming the wg config and what to narrow. An endpoint given
 * by name is checked only once resolved (endpoint_is_ip): wg-up checks
 * again after resolving. 0, -EINVAL, or -ENOMEM. */
int egress_check_wg(const struct ns_config *ns, const struct wg_config *wg, struct diag *d);
