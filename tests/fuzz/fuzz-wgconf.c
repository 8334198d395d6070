/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the wg-quick parser. Arbitrary bytes go to
 * wgconf_parse. When they parse, the setconf rendering is checked too: put
 * back together with the wg-quick-only settings it must parse again to the
 * same config (so the renderer only writes what the parser reads, and the
 * parser loses nothing). No diagnostic may quote key material, whether the
 * input parsed or not. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>

#include "util.h"
#include "wgconf.h"

static bool peers_equal(const struct wg_peer *a, const struct wg_peer *b) {
	if (memcmp(a->public_key, b->public_key, WG_KEY_LEN) != 0 ||
	    a->has_preshared_key != b->has_preshared_key ||
	    memcmp(a->preshared_key, b->preshared_key, WG_KEY_LEN) != 0 ||
	    a->n_allowed_ips != b->n_allowed_ips || a->has_endpoint != b->has_endpoint ||
	    a->has_keepalive != b->has_keepalive || a->persistent_keepalive != b->persistent_keepalive)
		return false;
	for (size_t i = 0; i < a->n_allowed_ips; i++)
		if (a->allowed_ips[i].prefix != b->allowed_ips[i].prefix ||
		    !ipaddr_equal(&a->allowed_ips[i].addr, &b->allowed_ips[i].addr))
			return false;
	if (a->has_endpoint &&
	    (a->endpoint_port != b->endpoint_port || a->endpoint_is_ip != b->endpoint_is_ip ||
	     !streq(a->endpoint_host, b->endpoint_host) ||
	     (a->endpoint_is_ip && !ipaddr_equal(&a->endpoint_ip, &b->endpoint_ip))))
		return false;
	return true;
}

static bool configs_equal(const struct wg_config *a, const struct wg_config *b) {
	if (memcmp(a->private_key, b->private_key, WG_KEY_LEN) != 0 ||
	    a->has_listen_port != b->has_listen_port || a->listen_port != b->listen_port ||
	    a->has_fwmark != b->has_fwmark || a->fwmark != b->fwmark || a->has_mtu != b->has_mtu ||
	    a->mtu != b->mtu || a->table_mode != b->table_mode || a->table_id != b->table_id ||
	    a->n_addresses != b->n_addresses || a->n_dns != b->n_dns ||
	    a->n_dns_search != b->n_dns_search || a->n_peers != b->n_peers)
		return false;
	for (size_t i = 0; i < a->n_addresses; i++)
		if (a->addresses[i].prefix != b->addresses[i].prefix ||
		    !ipaddr_equal(&a->addresses[i].addr, &b->addresses[i].addr))
			return false;
	for (size_t i = 0; i < a->n_dns; i++)
		if (!ipaddr_equal(&a->dns[i], &b->dns[i]))
			return false;
	for (size_t i = 0; i < a->n_dns_search; i++)
		if (!streq(a->dns_search[i], b->dns_search[i]))
			return false;
	for (size_t i = 0; i < a->n_peers; i++)
		if (!peers_equal(&a->peers[i], &b->peers[i]))
			return false;
	return true;
}

/* The config as a whole wg-quick file: the setconf text with the wg-quick
 * settings added to its [Interface] section. */
static char *render_quick(const struct wg_config *c, size_t *len) {
	char *setconf = NULL, *out = NULL, buf[IPNET_STRLEN];
	size_t setconf_len = 0;
	FILE *f;

	f = open_memstream(&setconf, &setconf_len);
	if (!f)
		abort();
	if (wgconf_write_setconf(c, f) < 0)
		abort();
	fclose(f);
	if (strncmp(setconf, "[Interface]\n", 12) != 0)
		abort();

	f = open_memstream(&out, len);
	if (!f)
		abort();
	fputs("[Interface]\n", f);
	for (size_t i = 0; i < c->n_addresses; i++)
		fprintf(f, "Address = %s\n", ipnet_str(&c->addresses[i], buf));
	for (size_t i = 0; i < c->n_dns; i++)
		fprintf(f, "DNS = %s\n", ipaddr_str(&c->dns[i], buf));
	for (size_t i = 0; i < c->n_dns_search; i++)
		fprintf(f, "DNS = %s\n", c->dns_search[i]);
	if (c->has_mtu)
		fprintf(f, "MTU = %u\n", c->mtu);
	if (c->table_mode == WG_TABLE_OFF)
		fputs("Table = off\n", f);
	else if (c->table_mode == WG_TABLE_ID)
		fprintf(f, "Table = %u\n", c->table_id);
	fputs(setconf + 12, f);
	fclose(f);
	explicit_wipe(setconf, setconf_len);
	free(setconf);
	return out;
}

static bool is_b64(unsigned char c) {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=';
}

/* Whether 8 characters look like key text and could not come from the
 * parser's own words or rendered values: an upper-case letter, a lower-case
 * letter and a digit, '+' or '/' (its words are letters, its numbers digits,
 * its addresses lower-case hex, and quoted input never has 8 base64
 * characters in a row). */
static bool key_like(const char *w) {
	bool upper = false, lower = false, other = false;

	for (size_t i = 0; i < 8; i++) {
		upper |= w[i] >= 'A' && w[i] <= 'Z';
		lower |= w[i] >= 'a' && w[i] <= 'z';
		other |= (w[i] >= '0' && w[i] <= '9') || w[i] == '+' || w[i] == '/';
	}
	return upper && lower && other;
}

/* Whether a message quotes 8 key-like characters of text. */
static bool messages_quote(const struct diag *d, const char *text, size_t len) {
	for (size_t e = 0; e < d->n; e++) {
		const char *m = d->entries[e].message;
		size_t mlen = strlen(m);
		for (size_t i = 0; i + 8 <= len; i++)
			if (key_like(text + i) && memmem(m, mlen, text + i, 8))
				return true;
	}
	return false;
}

/* Whether a message quotes key material: any 8 key-like characters of a
 * run of 16 or more base64 characters in the input (keys, or most of one). */
static bool messages_quote_input_keys(const struct diag *d, const uint8_t *data, size_t size) {
	size_t i = 0;

	while (i < size) {
		size_t run = 0;
		while (i + run < size && is_b64(data[i + run]))
			run++;
		if (run >= 16 && messages_quote(d, (const char *)data + i, run))
			return true;
		i += run ? run : 1;
	}
	return false;
}

/* The same for the keys of a parsed config, in their canonical text. */
static bool messages_quote_config_keys(const struct diag *d, const struct wg_config *c) {
	char key[WG_KEY_B64_LEN + 1];
	bool found;

	wg_key_to_base64(key, c->private_key);
	found = messages_quote(d, key, WG_KEY_B64_LEN);
	for (size_t i = 0; !found && i < c->n_peers; i++) {
		wg_key_to_base64(key, c->peers[i].public_key);
		found = messages_quote(d, key, WG_KEY_B64_LEN);
		if (!found && c->peers[i].has_preshared_key) {
			wg_key_to_base64(key, c->peers[i].preshared_key);
			found = messages_quote(d, key, WG_KEY_B64_LEN);
		}
	}
	explicit_wipe(key, sizeof(key));
	return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	struct diag d = { 0 }, d2 = { 0 };
	struct wg_config *c = NULL, *again = NULL;
	char *text;
	size_t len = 0;
	int r;

	r = wgconf_parse("fuzz.conf", (const char *)data, size, &c, &d);
	if (messages_quote_input_keys(&d, data, size))
		abort();
	if (r != 0) {
		if (c || d.n_errors == 0)
			abort(); /* a failure must say why, and leave nothing */
		diag_clear(&d);
		return 0;
	}
	if (d.n_errors != 0 || c->n_peers == 0 || c->n_addresses == 0 || c->n_dns == 0)
		abort();
	if (messages_quote_config_keys(&d, c))
		abort();

	text = render_quick(c, &len);
	if (len <= WGCONF_FILE_MAX) {
		r = wgconf_parse("again.conf", text, len, &again, &d2);
		if (r != 0 || !configs_equal(c, again))
			abort();
	}
	explicit_wipe(text, len);
	free(text);
	wg_config_free(again);
	wg_config_free(c);
	diag_clear(&d);
	diag_clear(&d2);
	return 0;
}
