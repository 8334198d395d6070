/* SPDX-License-Identifier: MIT */
/* AllowedEgress= against the WireGuard config (egress.h): a destination
 * that contains a DNS server or a peer's endpoint is refused with the
 * ini's file:line and the wg config's name; narrowed, it is fine. */
#include "config.h"
#include "egress.h"
#include "test.h"
#include "util.h"
#include "wgconf.h"

#define WG_TEXT(dns, endpoint)                                                 \
	"[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n" \
	"Address = 10.2.0.2/32\nDNS = " dns "\n\n"                              \
	"[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"   \
	"AllowedIPs = 0.0.0.0/0\nEndpoint = " endpoint "\n"

static const struct {
	const char *ini_extra; /* AllowedEgress= lines, from line 3 */
	const char *wg;
	const char *msgs[3];
} cases[] = {
	/* Nothing to judge. */
	{ "", WG_TEXT("10.2.0.1", "203.0.113.7:51820"), { NULL } },
	/* ProtonVPN's DNS inside a LAN range: refused; narrowed: fine. */
	{ "AllowedEgress=10.0.0.0/8\n", WG_TEXT("10.2.0.1", "203.0.113.7:51820"),
	  { "tr.ini:3: AllowedEgress: 10.0.0.0/8 contains DNS server 10.2.0.1 of /wg.conf: DNS only ever goes to it through the tunnel; narrow the destination to leave it out" } },
	{ "AllowedEgress=10.0.0.0/15\nAllowedEgress=10.3.0.0/16\nAllowedEgress=10.2.1.0/24:8096\n",
	  WG_TEXT("10.2.0.1", "203.0.113.7:51820"), { NULL } },
	/* A port does not narrow it: the address is what counts. */
	{ "AllowedEgress=10.2.0.0/16:8096:tcp\n", WG_TEXT("10.2.0.1", "203.0.113.7:51820"),
	  { "tr.ini:3: AllowedEgress: 10.2.0.0/16:8096:tcp contains DNS server 10.2.0.1 of /wg.conf: DNS only ever goes to it through the tunnel; narrow the destination to leave it out" } },
	/* IPv6 DNS; the endpoint; both on one line, and two lines. */
	{ "AllowedEgress=203.0.113.0/24\nAllowedEgress=fd00::/16\n", WG_TEXT("10.2.0.1, fd00:53::1", "203.0.113.7:51820"),
	  { "tr.ini:3: AllowedEgress: 203.0.113.0/24 contains the endpoint 203.0.113.7 of the peer at /wg.conf:6: the VPN server is reached only by the tunnel; narrow the destination to leave it out",
	    "tr.ini:4: AllowedEgress: fd00::/16 contains DNS server fd00:53::1 of /wg.conf: DNS only ever goes to it through the tunnel; narrow the destination to leave it out" } },
	{ "AllowedEgress=[2001:db8::7]:443\n", WG_TEXT("10.2.0.1", "[2001:db8::7]:51820"),
	  { "tr.ini:3: AllowedEgress: [2001:db8::7]:443:tcp contains the endpoint 2001:db8::7 of the peer at /wg.conf:6: the VPN server is reached only by the tunnel; narrow the destination to leave it out" } },
	/* An endpoint by name is judged once resolved (wg-up), not here. */
	{ "AllowedEgress=203.0.113.0/24\n", WG_TEXT("10.2.0.1", "vpn.example.net:51820"), { NULL } },
};

int main(void) {
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_(ns_config_freep) struct ns_config *ns = NULL;
		_cleanup_(wg_config_freep) struct wg_config *wg = NULL;
		_cleanup_free_ char *ini = NULL;
		struct diag d = { 0 };
		size_t want = 0;
		int r;

		while (want < ELEMENTSOF(cases[i].msgs) && cases[i].msgs[want])
			want++;
		if (asprintf(&ini, "[Namespace]\nWireGuardConfigFile=/wg.conf\n%s"
				   "NamespaceAddressIPv6=fd93::2\nBridgeAddressIPv6=fd93::1\n",
			     cases[i].ini_extra) < 0)
			return 1;
		r = ns_config_parse("tr.ini", ini, strlen(ini), &ns, &d);
		CHECK(r == 0 && d.n == 0, "case %zu: the ini is valid", i);
		diag_clear(&d);
		r = wgconf_parse("/wg.conf", cases[i].wg, strlen(cases[i].wg), &wg, &d);
		CHECK(r == 0 && d.n_errors == 0, "case %zu: the wg config is valid", i);
		diag_clear(&d);
		if (!ns || !wg)
			continue;
		r = egress_check_wg(ns, wg, &d);
		CHECK(r == (want ? -EINVAL : 0), "case %zu: returned %d", i, r);
		CHECK(d.n == want, "case %zu: %zu messages, want %zu", i, d.n, want);
		for (size_t k = 0; k < d.n && k < want; k++) {
			_cleanup_free_ char *m = diag_format(&d.entries[k]);
			CHECK_STREQ(m, cases[i].msgs[k], "case %zu message %zu", i, k);
		}
		diag_clear(&d);
	}
	return test_done();
}
