/* SPDX-License-Identifier: MIT */
/* A strict parser for wg-quick(8) configuration files: allowlisted keys, typed
 * values, precise "file:line: reason" errors that never quote key material.
 * Keys that run shell code (PreUp, PostUp, PreDown, PostDown, SaveConfig=true)
 * are rejected. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "addr.h"
#include "diag.h"

#define WG_KEY_LEN 32
#define WG_KEY_B64_LEN 44 /* base64 text of a key, without the NUL */
#define WGCONF_FILE_MAX (1024 * 1024)
#define WGCONF_LINE_MAX 4096

struct wg_peer {
	uint8_t public_key[WG_KEY_LEN];
	bool has_preshared_key;
	uint8_t preshared_key[WG_KEY_LEN];
	struct ipnet *allowed_ips;
	size_t n_allowed_ips;
	bool has_endpoint;
	char *endpoint_host; /* literal IP (no brackets) or a DNS name */
	uint16_t endpoint_port;
	bool endpoint_is_ip; /* then endpoint_ip holds it, typed */
	struct ipaddr endpoint_ip;
	bool has_keepalive;
	uint16_t persistent_keepalive; /* seconds, 0 = off */
	unsigned line;                 /* line of its [Peer] header */
};

enum wg_table_mode {
	WG_TABLE_AUTO, /* absent or "auto" */
	WG_TABLE_OFF,
	WG_TABLE_ID,
};

struct wg_config {
	char *path;
	uint8_t private_key[WG_KEY_LEN];
	bool has_listen_port;
	uint16_t listen_port;
	bool has_fwmark;
	uint32_t fwmark; /* 0 = off */
	bool has_mtu;
	uint32_t mtu;
	enum wg_table_mode table_mode;
	uint32_t table_id;

	struct ipnet *addresses;
	size_t n_addresses;
	struct ipaddr *dns;
	size_t n_dns;
	char **dns_search; /* DNS= entries that are not IP addresses */
	size_t n_dns_search;
	struct wg_peer *peers;
	size_t n_peers;
};

/* Parse a wg-quick config from memory. path names it in messages. Returns 0,
 * or -EINVAL with every problem found appended to d (*out stays NULL), or
 * another negative errno. */
int wgconf_parse(const char *path, const char *text, size_t len, struct wg_config **out,
		 struct diag *d);

/* Read and parse a file (size-capped). Adds a warning to d when the file is
 * readable by group or others. */
int wgconf_load(const char *path, struct wg_config **out, struct diag *d);

/* What wg-up checks before it uses a config: the file (after following
 * links) and every directory above it are owned by owner (root) and
 * writable by no one else (a sticky directory such as /tmp is fine).
 * Returns 0 or -EINVAL with the problem and its fix in d. */
int wgconf_check_owner(const char *path, uid_t owner, struct diag *d);

/* Free, wiping all key material first. */
void wg_config_free(struct wg_config *c);
DEFINE_PTR_CLEANUP(struct wg_config, wg_config_free)

/* Whether any address of the config has this family. */
bool wg_config_has_family(const struct wg_config *c, int family);

/* Strict base64 (44 characters, '=' last, zero padding bits) to a 32-byte
 * key, and back (out gets WG_KEY_B64_LEN characters and a NUL). Neither
 * branches nor indexes a table on the key's characters. The decoder returns
 * 0 or -EINVAL. */
int wg_key_from_base64(uint8_t key[WG_KEY_LEN], const char *s);
void wg_key_to_base64(char out[WG_KEY_B64_LEN + 1], const uint8_t key[WG_KEY_LEN]);

/* Write the wg(8)-native part ("wg setconf" input, as "wg-quick strip"
 * prints) to f, and flush it. Returns 0 or -EIO. Contains the private key:
 * f must be a pipe or a private fd. Host-name endpoints are written as
 * names: wg(8) resolves them, in the network namespace it runs in. */
int wgconf_write_setconf(const struct wg_config *c, FILE *f);
