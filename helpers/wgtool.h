/* SPDX-License-Identifier: MIT */
/* The wg(8) tool, run as an argv array (proc.h): configuring a WireGuard
 * device with `wg setconf NAME /dev/stdin` (the key through a pipe, never on
 * a command line) and reading its state with `wg show NAME dump`, of which
 * only public fields are kept; every buffer that held the private key is
 * wiped. A kernel device answers in the network namespace it is in, a
 * wireguard-go one on its control socket from anywhere. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wg_config;

struct wg_dump_peer {
	char public_key[48];
	char endpoint[64];     /* "" when none */
	char *allowed_ips;     /* "a/n,b/m" ("" when none) */
	uint64_t latest_handshake; /* unix time, 0 = never */
	uint64_t rx, tx;
	uint64_t keepalive;    /* 0 = off */
};

struct wg_dump {
	char public_key[48];
	unsigned listen_port;
	struct wg_dump_peer *peers;
	size_t n_peers;
};
void wg_dump_clear(struct wg_dump *d);

/* wg setconf DEV /dev/stdin, in the current namespace, fed the config's
 * wg(8) part. Reports a failure (the tool's own message first). */
int wgtool_setconf(const char *dev, const struct wg_config *wg);

/* wg show DEV dump, run in netns_fd (-1: here). -ENODEV when wg could not
 * read the device. */
int wgtool_dump(const char *dev, int netns_fd, struct wg_dump *out);

/* The parser of that output, exposed for the unit tests. */
int wg_dump_parse(const char *text, struct wg_dump *out);
