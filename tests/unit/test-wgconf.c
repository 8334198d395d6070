/* SPDX-License-Identifier: MIT */
/* The wg-quick parser: valid and invalid tables (each invalid case asserts
 * its exact messages), key codec, setconf rendering, loading from files, and
 * that no message ever carries key material. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "test.h"
#include "util.h"
#include "wgconf.h"

/* Test keys made with wg genkey / wg pubkey / wg genpsk. */
#define PRIV "cJZMW5RWUret/0wfM826g6Kd+zFYEq0F9WJyihiul1s="
#define PUB1 "t7Q886XpKkWIykSaQQq4IoDalnKq62mTYQRVA/cPIQo="
#define PUB2 "Ohjw5MzCMDKDSx5QCHzYsPB8KEuDZ9rk0cHoL7/Inw8="
#define PSK "SaG9IrmS6yoAsAxqTb/+I4UNEf6tMTreJrfu4U1rMeg="

#define IFACE "[Interface]\nPrivateKey = " PRIV "\nAddress = 10.0.0.2/32\nDNS = 10.0.0.1\n"
#define PEER "[Peer]\nPublicKey = " PUB1 "\nAllowedIPs = 0.0.0.0/0\n"

static char *messages(const struct diag *d) {
	char *all = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&all, &size);

	for (size_t i = 0; f && i < d->n; i++) {
		_cleanup_free_ char *s = diag_format(&d->entries[i]);
		fprintf(f, "%s\n", s ? s : "?");
	}
	if (f)
		fclose(f);
	return all;
}

static struct wg_config *parse_ok(const char *text, size_t len, const char *what) {
	struct diag d = { 0 };
	struct wg_config *c = NULL;
	int r = wgconf_parse("t.conf", text, len, &c, &d);
	_cleanup_free_ char *m = messages(&d);

	CHECK(r == 0 && c, "%s: parse failed (%d): %s", what, r, m ? m : "");
	CHECK(d.n_errors == 0, "%s: errors recorded", what);
	diag_clear(&d);
	return r == 0 ? c : NULL;
}

static void test_valid(void) {
	struct wg_config *c;
	char buf[IPNET_STRLEN];

	c = parse_ok(IFACE PEER, strlen(IFACE PEER), "minimal");
	if (c) {
		CHECK(c->n_addresses == 1 && c->n_dns == 1 && c->n_peers == 1, "counts");
		CHECK_STREQ(ipnet_str(&c->addresses[0], buf), "10.0.0.2/32", "address");
		CHECK_STREQ(ipaddr_str(&c->dns[0], buf), "10.0.0.1", "dns");
		CHECK(c->table_mode == WG_TABLE_AUTO && !c->has_mtu && !c->has_fwmark &&
			      !c->has_listen_port, "defaults");
		CHECK(!c->peers[0].has_endpoint && !c->peers[0].has_keepalive &&
			      !c->peers[0].has_preshared_key, "peer defaults");
		CHECK(c->peers[0].line == 5, "peer line %u", c->peers[0].line);
		CHECK(wg_config_has_family(c, AF_INET) && !wg_config_has_family(c, AF_INET6), "family");
		wg_config_free(c);
	}

	static const char full[] =
		"\xef\xbb\xbf# header comment\r\n"
		"[interface] # comment\r\n"
		"privatekey = " PRIV "\r\n"
		"Address = 10.64.1.2/32,fc00:bbbb::1:c22/128\r\n"
		"Address = 10.64.1.3\r\n"
		"DNS = 10.64.0.1, fc00:bbbb::1 corp.example,lab.example.org\r\n"
		"MTU = 1420\r\n"
		"ListenPort = 5 1 8 2 0\r\n" /* wg(8) drops every blank */
		"FwMark = 0xCa6c\r\n"
		"Table = 1234\r\n"
		"SaveConfig = False\r\n"
		"\r\n"
		"[ Peer ]\r\n"
		"PublicKey = " PUB1 "\r\n"
		"PresharedKey = " PSK "\r\n"
		"AllowedIPs = 0.0.0.0/0, ::/0\r\n"
		"AllowedIPs = 10.1.2.3/8\r\n" /* host bits: a warning */
		"Endpoint = [2001:DB8::1]:51820\r\n"
		"PersistentKeepalive = off\r\n"
		"[Peer]\r\n"
		"PublicKey = " PUB2 "\r\n"
		"Endpoint = de-fra-wg-001.relays.mullvad.net:443\r\n"
		"PersistentKeepalive = 25";
	struct diag d = { 0 };
	CHECK(wgconf_parse("t.conf", full, strlen(full), &c, &d) == 0, "full parses");
	CHECK(d.n == 1 && d.n_errors == 0, "one warning, got %zu", d.n);
	if (d.n == 1) {
		_cleanup_free_ char *m = diag_format(&d.entries[0]);
		CHECK_STREQ(m, "t.conf:17: warning: AllowedIPs 10.1.2.3/8 has host bits set; "
			       "WireGuard uses 10.0.0.0/8", "host bits warning");
	}
	diag_clear(&d);
	if (c) {
		CHECK(c->n_addresses == 3, "addresses %zu", c->n_addresses);
		CHECK_STREQ(ipnet_str(&c->addresses[2], buf), "10.64.1.3/32", "bare address");
		CHECK(c->n_dns == 2 && c->n_dns_search == 2, "dns %zu/%zu", c->n_dns, c->n_dns_search);
		CHECK_STREQ(ipaddr_str(&c->dns[1], buf), "fc00:bbbb::1", "dns v6");
		CHECK_STREQ(c->dns_search[0], "corp.example", "search 0");
		CHECK_STREQ(c->dns_search[1], "lab.example.org", "search 1");
		CHECK(c->has_mtu && c->mtu == 1420, "mtu");
		CHECK(c->has_listen_port && c->listen_port == 51820, "listen port %u", c->listen_port);
		CHECK(c->has_fwmark && c->fwmark == 0xca6c, "fwmark %x", c->fwmark);
		CHECK(c->table_mode == WG_TABLE_ID && c->table_id == 1234, "table");
		CHECK(c->n_peers == 2, "peers");
		CHECK(wg_config_has_family(c, AF_INET6), "has v6");
		if (c->n_peers == 2) {
			struct wg_peer *p = &c->peers[0];
			CHECK(p->has_preshared_key, "psk");
			CHECK(p->n_allowed_ips == 3, "allowed ips %zu", p->n_allowed_ips);
			CHECK(p->has_endpoint && p->endpoint_is_ip && p->endpoint_port == 51820, "ep");
			CHECK_STREQ(p->endpoint_host, "2001:db8::1", "ep host canonical");
			CHECK(p->has_keepalive && p->persistent_keepalive == 0, "keepalive off");
			p = &c->peers[1];
			CHECK(p->line == 20, "peer 2 line %u", p->line);
			CHECK(p->n_allowed_ips == 0, "no allowed ips");
			CHECK_STREQ(p->endpoint_host, "de-fra-wg-001.relays.mullvad.net", "ep name");
			CHECK(!p->endpoint_is_ip && p->endpoint_port == 443, "ep name port");
			CHECK(p->has_keepalive && p->persistent_keepalive == 25, "keepalive 25");
		}

		static const char want[] =
			"[Interface]\nPrivateKey = " PRIV "\nListenPort = 51820\nFwMark = 51820\n"
			"\n[Peer]\nPublicKey = " PUB1 "\nPresharedKey = " PSK "\n"
			"AllowedIPs = 0.0.0.0/0, ::/0, 10.1.2.3/8\n"
			"Endpoint = [2001:db8::1]:51820\nPersistentKeepalive = 0\n"
			"\n[Peer]\nPublicKey = " PUB2 "\n"
			"Endpoint = de-fra-wg-001.relays.mullvad.net:443\nPersistentKeepalive = 25\n";
		char *out = NULL;
		size_t size = 0;
		FILE *f = open_memstream(&out, &size);
		CHECK(f && wgconf_write_setconf(c, f) == 0, "write_setconf");
		if (f)
			fclose(f);
		CHECK_STREQ(out, want, "setconf text");
		free(out);
		wg_config_free(c);
	}

	/* Every value form wg allows for its numbers. */
	static const struct {
		const char *line;
		uint32_t fwmark;
	} marks[] = { { "FwMark = off", 0 }, { "FwMark = OFF", 0 }, { "FwMark = 0", 0 },
		      { "FwMark = 0x0", 0 }, { "FwMark = 4294967295", UINT32_MAX },
		      { "FwMark = 0xffffffff", UINT32_MAX }, { "FwMark = 0x00000001", 1 } };
	for (size_t i = 0; i < ELEMENTSOF(marks); i++) {
		_cleanup_free_ char *text = NULL;
		CHECK(asprintf(&text, IFACE "%s\n" PEER, marks[i].line) > 0, "asprintf");
		c = parse_ok(text, strlen(text), marks[i].line);
		if (c) {
			CHECK(c->has_fwmark && c->fwmark == marks[i].fwmark, "%s", marks[i].line);
			wg_config_free(c);
		}
	}
	static const char *const ok_lines[] = {
		"Table = off", "Table = auto", "Table = 4294967295", "MTU = 576", "MTU = 65535",
		"ListenPort = 0", "ListenPort = 65535", "DNS = 10.0.0.1 10.0.0.2",
		"Address = fd00::2/64 10.0.0.3/24", "DNS = a.b-c.d1",
	};
	for (size_t i = 0; i < ELEMENTSOF(ok_lines); i++) {
		_cleanup_free_ char *text = NULL;
		CHECK(asprintf(&text, IFACE "%s\n" PEER, ok_lines[i]) > 0, "asprintf");
		c = parse_ok(text, strlen(text), ok_lines[i]);
		wg_config_free(c);
	}
	static const char *const ok_peer_lines[] = {
		"Endpoint = 1.2.3.4:1", "Endpoint = [::ffff:1.2.3.4]:65535", "Endpoint = vpn:51820",
		"Endpoint = xn--bcher-kva.example:51820", "PersistentKeepalive = 65535",
		"PersistentKeepalive = Off", "AllowedIPs = 10.0.0.0/8,fd00::/8,1.2.3.4",
		"PresharedKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	};
	for (size_t i = 0; i < ELEMENTSOF(ok_peer_lines); i++) {
		_cleanup_free_ char *text = NULL;
		CHECK(asprintf(&text, IFACE PEER "%s\n", ok_peer_lines[i]) > 0, "asprintf");
		c = parse_ok(text, strlen(text), ok_peer_lines[i]);
		wg_config_free(c);
	}
}

static void test_write_error(void) {
	_cleanup_(wg_config_freep) struct wg_config *c = parse_ok(IFACE PEER, strlen(IFACE PEER), "w");
	FILE *f = fopen("/dev/full", "w");

	if (!c || !f) {
		CHECK(false, "setup");
		if (f)
			fclose(f);
		return;
	}
	CHECK(wgconf_write_setconf(c, f) == -EIO, "a full device is an error");
	fclose(f);
}

static void test_crlf_bom_same(void) {
	static const char lf[] = IFACE PEER "Endpoint = 192.0.2.1:51820\n";
	static const char crlf[] = "\xef\xbb\xbf[Interface]\r\nPrivateKey = " PRIV
				   "\r\nAddress = 10.0.0.2/32\r\nDNS = 10.0.0.1\r\n"
				   "[Peer]\r\nPublicKey = " PUB1 "\r\nAllowedIPs = 0.0.0.0/0\r\n"
				   "Endpoint = 192.0.2.1:51820\r\n";
	_cleanup_(wg_config_freep) struct wg_config *a = parse_ok(lf, strlen(lf), "lf");
	_cleanup_(wg_config_freep) struct wg_config *b = parse_ok(crlf, strlen(crlf), "crlf+bom");
	char *ta = NULL, *tb = NULL;
	size_t sa, sb;
	FILE *f;

	if (!a || !b)
		return;
	f = open_memstream(&ta, &sa);
	wgconf_write_setconf(a, f);
	fclose(f);
	f = open_memstream(&tb, &sb);
	wgconf_write_setconf(b, f);
	fclose(f);
	CHECK_STREQ(ta, tb, "CRLF and BOM change nothing");
	free(ta);
	free(tb);
}

/* One bad line in an otherwise valid config, and the exact messages. */
static void test_invalid(void) {
	static const struct {
		const char *text;
		const char *want; /* every message, one per line */
	} cases[] = {
		{ IFACE "PostUp = iptables -A OUTPUT -j DROP\n" PEER,
		  "t.conf:5: PostUp runs shell code and is refused; run such commands from a systemd unit instead\n" },
		{ IFACE "preup = x\n" PEER,
		  "t.conf:5: PreUp runs shell code and is refused; run such commands from a systemd unit instead\n" },
		{ IFACE "PreDown = x\n" PEER,
		  "t.conf:5: PreDown runs shell code and is refused; run such commands from a systemd unit instead\n" },
		{ IFACE PEER "POSTDOWN = x\n",
		  "t.conf:8: PostDown runs shell code and is refused; run such commands from a systemd unit instead\n" },
		{ IFACE "SaveConfig = true\n" PEER,
		  "t.conf:5: SaveConfig = true makes wg-quick run shell code to rewrite this file and is refused\n" },
		{ IFACE "SaveConfig = 1\n" PEER, "t.conf:5: SaveConfig must be true or false\n" },
		{ IFACE "Foo = 1\n" PEER, "t.conf:5: unknown key 'Foo' in [Interface]\n" },
		{ IFACE "Foo-Bar = 1\n" PEER, "t.conf:5: unknown key in [Interface]\n" },
		{ IFACE PEER "Address = 10.0.0.3/32\n", "t.conf:8: Address belongs in [Interface], not in [Peer]\n" },
		{ IFACE "PublicKey = " PUB2 "\n" PEER, "t.conf:5: PublicKey belongs in [Peer], not in [Interface]\n" },
		{ IFACE PEER "[Foo]\nBar = 1\n", "t.conf:8: unknown section [Foo] (expected [Interface] or [Peer])\n" },
		{ IFACE PEER "[Peer\n", "t.conf:8: unknown section header (expected [Interface] or [Peer])\n" },
		{ "ListenPort = 1\n" IFACE PEER,
		  "t.conf:1: key outside of any section (expected [Interface] or [Peer] first)\n" },
		{ IFACE "ListenPort = 65536\n" PEER, "t.conf:5: ListenPort must be a number from 0 to 65535\n" },
		{ IFACE "ListenPort = 1x\n" PEER, "t.conf:5: ListenPort must be a number from 0 to 65535\n" },
		{ IFACE "ListenPort = +1\n" PEER, "t.conf:5: ListenPort must be a number from 0 to 65535\n" },
		{ IFACE "ListenPort =\n" PEER, "t.conf:5: ListenPort must be a number from 0 to 65535\n" },
		{ IFACE "MTU = 575\n" PEER, "t.conf:5: MTU must be a number from 576 to 65535\n" },
		{ IFACE "MTU = 1420 1\n" PEER, "t.conf:5: MTU must be a number from 576 to 65535\n" },
		{ IFACE "FwMark = 0x\n" PEER, "t.conf:5: FwMark must be off or a number from 0 to 0xffffffff\n" },
		{ IFACE "FwMark = 0x100000000\n" PEER, "t.conf:5: FwMark must be off or a number from 0 to 0xffffffff\n" },
		{ IFACE "FwMark = 4294967296\n" PEER, "t.conf:5: FwMark must be off or a number from 0 to 0xffffffff\n" },
		{ IFACE "FwMark = 0x1g\n" PEER, "t.conf:5: FwMark must be off or a number from 0 to 0xffffffff\n" },
		{ IFACE "Table = Off\n" PEER,
		  "t.conf:5: Table must be off, auto or a routing table number from 1 to 4294967295\n" },
		{ IFACE "Table = 4294967296\n" PEER,
		  "t.conf:5: Table must be off, auto or a routing table number from 1 to 4294967295\n" },
		{ IFACE "Address = 10.0.0.3/33\n" PEER,
		  "t.conf:5: Address '10.0.0.3/33' is not an IPv4 or IPv6 address with an optional /prefix\n" },
		{ IFACE "Address = 10.0.0.3/\n" PEER,
		  "t.conf:5: Address '10.0.0.3/' is not an IPv4 or IPv6 address with an optional /prefix\n" },
		{ IFACE "Address = 10.0.0.3,\n" PEER, "t.conf:5: Address has an empty entry\n" },
		{ IFACE "Address =\n" PEER, "t.conf:5: Address is empty\n" },
		{ IFACE "DNS = 1.2.3\n" PEER, "t.conf:5: DNS '1.2.3' is not a valid IP address\n" },
		{ IFACE "DNS = fe80::1%eth0\n" PEER, "t.conf:5: DNS 'fe80::1%eth0' is not a valid IP address\n" },
		{ IFACE "DNS = -x.example\n" PEER,
		  "t.conf:5: DNS '-x.example' is neither an IP address nor a valid search domain\n" },
		{ IFACE PEER "AllowedIPs = 10.0.0.0/8,\n", "t.conf:8: AllowedIPs has an empty entry\n" },
		{ IFACE PEER "AllowedIPs =\n", "t.conf:8: AllowedIPs is empty\n" },
		{ IFACE PEER "AllowedIPs = -10.0.0.0/8\n",
		  "t.conf:8: AllowedIPs entries may not start with '+' or '-' (incremental changes have no meaning in a config file)\n" },
		{ IFACE PEER "AllowedIPs = 10.0.0.0/08x\n",
		  "t.conf:8: AllowedIPs '10.0.0.0/08x' is not an IPv4 or IPv6 prefix\n" },
		{ IFACE PEER "Endpoint = 1.2.3.4\n", "t.conf:8: Endpoint has no port (expected host:port)\n" },
		{ IFACE PEER "Endpoint = 1.2.3.4:\n", "t.conf:8: Endpoint port must be a number from 1 to 65535\n" },
		{ IFACE PEER "Endpoint = 1.2.3.4:https\n", "t.conf:8: Endpoint port must be a number from 1 to 65535\n" },
		{ IFACE PEER "Endpoint = ::1:51820\n",
		  "t.conf:8: Endpoint: an IPv6 address needs brackets, e.g. [2001:db8::1]:51820\n" },
		{ IFACE PEER "Endpoint = [::1]51820\n",
		  "t.conf:8: Endpoint must be [IPv6 address]:port, e.g. [2001:db8::1]:51820\n" },
		{ IFACE PEER "Endpoint = [1.2.3.4]:51820\n",
		  "t.conf:8: Endpoint '1.2.3.4' in brackets is not an IPv6 address\n" },
		{ IFACE PEER "Endpoint = vpn.example.:51820\n",
		  "t.conf:8: Endpoint 'vpn.example.' is neither an IPv4 address nor a valid host name\n" },
		{ IFACE PEER "Endpoint = vpn-.example:51820\n",
		  "t.conf:8: Endpoint 'vpn-.example' is neither an IPv4 address nor a valid host name\n" },
		{ IFACE PEER "Endpoint = 010.0.0.1:51820\n",
		  "t.conf:8: Endpoint '010.0.0.1' is neither an IPv4 address nor a valid host name\n" },
		{ IFACE PEER "Endpoint = a.1b:51820\n",
		  "t.conf:8: Endpoint 'a.1b' is neither an IPv4 address nor a valid host name\n" },
		{ IFACE PEER "PersistentKeepalive = -1\n",
		  "t.conf:8: PersistentKeepalive must be off or a number from 0 to 65535\n" },
		{ IFACE PEER "PersistentKeepalive = 0x10\n",
		  "t.conf:8: PersistentKeepalive must be off or a number from 0 to 65535\n" },
		{ IFACE "PrivateKey = " PRIV "\n" PEER, "t.conf:5: PrivateKey given twice (first on line 2)\n" },
		{ IFACE "MTU = 1420\nmtu = 1420\n" PEER, "t.conf:6: MTU given twice (first on line 5)\n" },
		{ IFACE "Table = off\nTable = off\n" PEER, "t.conf:6: Table given twice (first on line 5)\n" },
		{ IFACE PEER "PublicKey = " PUB2 "\n", "t.conf:8: PublicKey given twice (first on line 6)\n" },
		{ IFACE PEER "PresharedKey = " PSK "\nPresharedKey = " PSK "\n",
		  "t.conf:9: PresharedKey given twice (first on line 8)\n" },
		{ IFACE PEER "PersistentKeepalive = 1\nPersistentKeepalive = 1\n",
		  "t.conf:9: PersistentKeepalive given twice (first on line 8)\n" },
		{ IFACE "[Interface]\n" PEER, "t.conf:5: [Interface] given twice (first on line 1)\n" },
		{ "[ Interface]\nPrivateKey = " PRIV "\n" PEER,
		  "t.conf:1: write the header as [Interface], without blanks inside (wg-quick does not recognise it otherwise)\n"
		  "t.conf: [Interface] has no Address\n"
		  "t.conf: [Interface] has no DNS (required: name lookups go only to the VPN's DNS servers)\n" },
		{ IFACE PEER PEER, "t.conf:8: [Peer] has the same PublicKey as the [Peer] on line 5\n" },
		{ IFACE PEER "[Peer]\nAllowedIPs = 10.0.0.0/8\n[Peer]\nPublicKey = " PUB2 "\n",
		  "t.conf:8: [Peer] has no PublicKey\n" },
		{ IFACE, "t.conf: no [Peer] section\n" },
		{ PEER, "t.conf: no [Interface] section\n" },
		{ "", "t.conf: no [Interface] section\nt.conf: no [Peer] section\n" },
		{ "[Interface]\nAddress = 10.0.0.2/32\nDNS = 10.0.0.1\n" PEER,
		  "t.conf: [Interface] has no PrivateKey\n" },
		{ "[Interface]\nPrivateKey = " PRIV "\nDNS = 10.0.0.1\n" PEER,
		  "t.conf: [Interface] has no Address\n" },
		{ "[Interface]\nPrivateKey = " PRIV "\nAddress = 10.0.0.2/32\n" PEER,
		  "t.conf: [Interface] has no DNS (required: name lookups go only to the VPN's DNS servers)\n" },
		{ "[Interface]\nPrivateKey = " PRIV "\nAddress = 10.0.0.2/32\nDNS = vpn.example\n" PEER,
		  "t.conf:4: DNS names only search domains, no server address\n" },
		{ IFACE "; comment\n" PEER, "t.conf:5: line is neither a [Section] header nor Key = Value\n" },
		{ IFACE "= 1\n" PEER, "t.conf:5: line has no key name before '='\n" },
		{ IFACE "Listen Port = 1\n" PEER, "t.conf:5: key name contains blanks (expected Key = Value)\n" },
		{ IFACE "MTU = 1420\x01\n" PEER, "t.conf:5: line contains a control character\n" },
		{ IFACE "MTU = 1420\x7f\n" PEER, "t.conf:5: line contains a control character\n" },
		{ IFACE PEER "\xef\xbb\xbf[Peer]\n",
		  "t.conf:8: line is neither a [Section] header nor Key = Value\n" },
	};
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct diag d = { 0 };
		struct wg_config *c = (struct wg_config *)1;
		int r = wgconf_parse("t.conf", cases[i].text, strlen(cases[i].text), &c, &d);
		_cleanup_free_ char *m = messages(&d);

		CHECK(r == -EINVAL && c == NULL, "case %zu: r=%d", i, r);
		CHECK_STREQ(m ? m : "", cases[i].want, "case %zu", i);
		diag_clear(&d);
	}
}

/* template with its one "%s" replaced by value (a format string that is
 * not a literal would defeat -Wformat). */
static char *substitute(const char *template, const char *value) {
	const char *at = strstr(template, "%s");
	char *out = NULL;

	if (!at || asprintf(&out, "%.*s%s%s", (int)(at - template), template, value, at + 2) < 0)
		return NULL;
	return out;
}

/* Malformed keys in every field, and texts that must not reach messages. */
static void test_no_key_material(void) {
	static const char *const bad_keys[] = {
		PRIV,
		"cJZMW5RWUret/0wfM826g6Kd+zFYEq0F9WJyihiul1t=", /* padding bits */
		"cJZMW5RWUret/0wfM826g6Kd+zFYEq0F9WJyihiul1",   /* short */
		"cJZMW5RWUret/0wfM826g6Kd+zFYEq0F9WJyihiul1s==",
		"cJZMW5RWUret/0wfM826g6Kd+zFYEq0F9WJyihiul1s",
		"cJZMW5RWUret_0wfM826g6Kd-zFYEq0F9WJyihiul1s=", /* url-safe alphabet */
		"7a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
	};
	static const char *const templates[] = {
		"[Interface]\nPrivateKey = %s\nAddress = 10.0.0.2/32\nDNS = 10.0.0.1\n" PEER,
		IFACE "[Peer]\nPublicKey = %s\n",
		IFACE PEER "PresharedKey = %s\n",
		IFACE "ListenPort = %s\n" PEER,
		IFACE "FwMark = %s\n" PEER,
		IFACE "MTU = %s\n" PEER,
		IFACE "Table = %s\n" PEER,
		IFACE "Address = %s\n" PEER,
		IFACE "DNS = %s\n" PEER,
		IFACE "DNS = 10.0.0.1, %s\n" PEER,
		IFACE "SaveConfig = %s\n" PEER,
		IFACE PEER "AllowedIPs = %s\n",
		IFACE PEER "AllowedIPs = %s/32\n",
		IFACE PEER "Endpoint = %s\n",
		IFACE PEER "Endpoint = %s:51820\n",
		IFACE PEER "Endpoint = [%s]:51820\n",
		IFACE PEER "PersistentKeepalive = %s\n",
		IFACE "%s\n" PEER,
		IFACE "[%s]\n" PEER,
		IFACE "PrivateKey %s\n" PEER,
		IFACE "PrivateKey: %s\n" PEER,
		IFACE "%s = 1\n" PEER,
		IFACE "PostUp = echo %s\n" PEER,
		"%s\n" IFACE PEER,
	};
	unsigned leaks = 0, runs = 0;

	for (size_t k = 0; k < ELEMENTSOF(bad_keys); k++)
		for (size_t t = 0; t < ELEMENTSOF(templates); t++) {
			_cleanup_free_ char *text = NULL, *m = NULL;
			struct diag d = { 0 };
			struct wg_config *c = NULL;
			size_t klen = strlen(bad_keys[k]);
			int r;

			text = substitute(templates[t], bad_keys[k]);
			if (!text)
				continue;
			r = wgconf_parse("t.conf", text, strlen(text), &c, &d);
			wg_config_free(c);
			m = messages(&d);
			diag_clear(&d);
			/* Valid keys in their own fields parse; the rest must fail. */
			if (r == 0)
				continue;
			runs++;
			for (size_t i = 0; m && i + 8 <= klen; i++)
				if (memmem(m, strlen(m), bad_keys[k] + i, 8)) {
					printf("leak: key %zu template %zu: %s", k, t, m);
					leaks++;
					break;
				}
		}
	CHECK(runs > 100, "%u failing parses checked", runs);
	CHECK(leaks == 0, "%u messages hold key material", leaks);
}

static void test_key_codec(void) {
	static const char *const keys[] = { PRIV, PUB1, PUB2, PSK,
					    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
					    "//////////////////////////////////////////8=",
					    "+MuAhA6cMHqsgC9PYTHKEAys7dGMYiagWk3D+Y1ofU0=" };
	uint8_t key[WG_KEY_LEN], again[WG_KEY_LEN];
	char text[WG_KEY_B64_LEN + 1];

	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		CHECK(wg_key_from_base64(key, keys[i]) == 0, "decode %s", keys[i]);
		wg_key_to_base64(text, key);
		CHECK_STREQ(text, keys[i], "round trip");
	}
	/* Every byte value in every position survives a round trip. */
	for (unsigned v = 0; v < 256; v++) {
		for (size_t i = 0; i < WG_KEY_LEN; i++)
			key[i] = (uint8_t)(v + i * 37);
		wg_key_to_base64(text, key);
		CHECK(strlen(text) == WG_KEY_B64_LEN && text[43] == '=', "length");
		CHECK(wg_key_from_base64(again, text) == 0 && memcmp(key, again, WG_KEY_LEN) == 0,
		      "byte round trip %u", v);
	}
	CHECK(wg_key_from_base64(key, "//////////////////////////////////////////9=") == -EINVAL,
	      "padding bits");
	CHECK(wg_key_from_base64(key, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==") == -EINVAL, "==");
	CHECK(wg_key_from_base64(key, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") == -EINVAL, "no =");
	CHECK(wg_key_from_base64(key, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.=") == -EINVAL, "bad char");
	CHECK(wg_key_from_base64(key, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=") == -EINVAL, "long");
	CHECK(wg_key_from_base64(key, "") == -EINVAL, "empty");
}

static void test_limits(void) {
	struct diag d = { 0 };
	struct wg_config *c = NULL;
	_cleanup_free_ char *text = NULL, *m = NULL;
	size_t len = strlen(IFACE PEER);

	/* A comment line of exactly WGCONF_LINE_MAX bytes is fine, one more not. */
	text = malloc(len + WGCONF_LINE_MAX + 3);
	if (!text)
		return;
	memcpy(text, IFACE, strlen(IFACE));
	memset(text + strlen(IFACE), '#', WGCONF_LINE_MAX);
	text[strlen(IFACE) + WGCONF_LINE_MAX] = '\n';
	memcpy(text + strlen(IFACE) + WGCONF_LINE_MAX + 1, PEER, strlen(PEER));
	CHECK(wgconf_parse("t.conf", text, len + WGCONF_LINE_MAX + 1, &c, &d) == 0, "max line");
	wg_config_free(c);
	diag_clear(&d);
	memmove(text + strlen(IFACE) + 1, text + strlen(IFACE), WGCONF_LINE_MAX + 1 + strlen(PEER));
	CHECK(wgconf_parse("t.conf", text, len + WGCONF_LINE_MAX + 2, &c, &d) == -EINVAL, "long line");
	m = messages(&d);
	CHECK_STREQ(m, "t.conf:5: line is longer than 4096 bytes\n", "long line message");
	diag_clear(&d);

	/* Errors stop after 50. */
	{
		_cleanup_free_ char *junk = malloc(2 * 100 + 1), *all = NULL;
		for (size_t i = 0; junk && i < 100; i++)
			memcpy(junk + 2 * i, "x\n", 2);
		if (junk)
			junk[200] = '\0';
		CHECK(junk && wgconf_parse("t.conf", junk, 200, &c, &d) == -EINVAL, "junk");
		CHECK(d.n_errors == 51, "errors %zu", d.n_errors);
		all = messages(&d);
		CHECK(all && strstr(all, "t.conf:50: too many errors, not reading further\n"), "cap message");
		diag_clear(&d);
	}

	/* NUL in a comment is still refused. */
	static const char nul[] = IFACE "# a\0b\n" PEER;
	free(m);
	CHECK(wgconf_parse("t.conf", nul, sizeof(nul) - 1, &c, &d) == -EINVAL, "nul");
	m = messages(&d);
	CHECK_STREQ(m, "t.conf:5: line contains a NUL byte\n", "nul message");
	diag_clear(&d);

	free(m);
	CHECK(wgconf_parse("t.conf", IFACE PEER, WGCONF_FILE_MAX + 1, &c, &d) == -EINVAL, "size cap");
	m = messages(&d);
	CHECK_STREQ(m, "t.conf: file is larger than 1048576 bytes\n", "size message");
	diag_clear(&d);
}

static void test_load(void) {
	char dir[] = "/tmp/test-wgconf-XXXXXX", path[64], big[64];
	struct diag d = { 0 };
	struct wg_config *c = NULL;
	_cleanup_free_ char *m = NULL;
	FILE *f;

	if (!mkdtemp(dir)) {
		CHECK(false, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/wg0.conf", dir);
	snprintf(big, sizeof(big), "%s/big.conf", dir);
	f = fopen(path, "w");
	fputs(IFACE PEER, f);
	fclose(f);

	chmod(path, 0600);
	CHECK(wgconf_load(path, &c, &d) == 0 && c, "load 0600");
	CHECK(d.n == 0, "no warning at 0600");
	CHECK(c && streq(c->path, path), "path kept");
	wg_config_free(c);
	diag_clear(&d);

	chmod(path, 0640);
	CHECK(wgconf_load(path, &c, &d) == 0 && c, "load 0640");
	m = messages(&d);
	{
		_cleanup_free_ char *want = NULL;
		CHECK(asprintf(&want, "%s: warning: is accessible by group or others (mode 0640) but "
				      "holds a private key; chmod 600 it\n", path) > 0, "asprintf");
		CHECK_STREQ(m, want, "group-readable warning");
	}
	wg_config_free(c);
	diag_clear(&d);

	CHECK(wgconf_load(dir, &c, &d) < 0 && !c, "directory refused");
	diag_clear(&d);
	unlink(path);
	CHECK(wgconf_load(path, &c, &d) == -ENOENT && !c, "missing file");
	free(m);
	m = messages(&d);
	CHECK(m && strstr(m, "wg0.conf: cannot read: No such file or directory"), "missing message");
	diag_clear(&d);

	f = fopen(big, "w");
	fputs(IFACE PEER, f);
	for (size_t i = 0; i < WGCONF_FILE_MAX / 8; i++)
		fputs("#######\n", f);
	fclose(f);
	chmod(big, 0600);
	CHECK(wgconf_load(big, &c, &d) == -EINVAL && !c, "big file");
	free(m);
	m = messages(&d);
	CHECK(m && strstr(m, "big.conf: file is larger than 1048576 bytes"), "big message");
	diag_clear(&d);
	unlink(big);
	rmdir(dir);
}

int main(void) {
	test_valid();
	test_crlf_bom_same();
	test_write_error();
	test_invalid();
	test_no_key_material();
	test_key_codec();
	test_limits();
	test_load();
	return test_done();
}
