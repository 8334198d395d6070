/* SPDX-License-Identifier: MIT */
/* What the commands (cmd-*.c) share at their boundary: the namespace
 * argument, and loading the configuration with its messages printed. As
 * systemd's parse_argv(): > 0 go on, 0 done (help printed), < 0 a usage
 * error (printed). Exit codes are the commands' own (commands.h). */
#pragma once

#include <stddef.h>

#include "names.h"

struct ns_config;
struct wg_config;

/* A namespace name from the command line into n; -EINVAL (printed) when
 * it is not one. */
int cli_ns_name(const char *arg, struct ns_names *n);
/* argv is exactly "CMD N" (or "CMD --help"); fills n. */
int cli_parse_ns(int argc, char **argv, const char *usage, struct ns_names *n);
/* "vpn-confinement: usage: vpn-confinement USAGE"; returns -EINVAL. */
int cli_usage_error(const char *usage);

/* N's ini (with the checks across files), its messages printed. 0, or a
 * negative errno (-EINVAL: the file has errors). */
int cli_load_config(const char *ns, struct ns_config **out);
/* The ini's i-th wg config (WireGuardConfigFile=), after checking who can
 * write it (wg-up uses it), and that no AllowedEgress= destination
 * contains its DNS servers or endpoints (egress.h), its messages (warnings
 * too) printed. 0 or a negative errno (-EINVAL: invalid). */
int cli_load_wg(const struct ns_config *ns, size_t i, struct wg_config **out);
