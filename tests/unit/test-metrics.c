/* SPDX-License-Identifier: MIT */
/* The metrics renderer (helpers/metrics.c): its table keeps Prometheus'
 * naming rules, label values are escaped as the text format says, and
 * facts built here render to the samples they should, each family once
 * with its HELP and TYPE; JSON reading (common/json.c) that the counters
 * go through. The rendering of real facts is checked by promtool in
 * tests/runtime/check-metrics.sh and in the lab
 * (tests/integration/test-metrics.sh). */
#include <ctype.h>

#include "checks.h"
#include "config.h"
#include "json.h"
#include "metrics.h"
#include "status.h"
#include "test.h"
#include "text.h"
#include "util.h"
#include "version.h"
#include "wgconf.h"

static bool ends_with(const char *s, const char *suffix) {
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && streq(s + a - b, suffix);
}

static void test_table(void) {
	size_t n = metrics_rows();

	CHECK(n > 20, "%zu rows", n);
	for (size_t i = 0; i < n; i++) {
		struct metrics_row_info r = metrics_row(i);
		bool name_ok = strncmp(r.name, "vpn_confinement_", 16) == 0;

		for (const char *p = r.name; *p; p++)
			name_ok = name_ok && (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_');
		CHECK(name_ok, "%s: vpn_confinement_ and [a-z0-9_] only", r.name);
		CHECK(streq(r.type, "counter") == ends_with(r.name, "_total"), "%s: _total if and only if a counter",
		      r.name);
		CHECK(!strstr(r.name, "bytes") || ends_with(r.name, "_bytes") || ends_with(r.name, "_bytes_total"),
		      "%s: bytes as the unit suffix", r.name);
		CHECK(!strstr(r.name, "seconds") || ends_with(r.name, "_seconds"), "%s: seconds as the unit suffix",
		      r.name);
		CHECK(!ends_with(r.name, "_info") || streq(r.type, "gauge"), "%s: an info metric is a gauge", r.name);
		CHECK(r.help && strlen(r.help) > 10 && !strchr(r.help, '\n'), "%s: a one-line help", r.name);
		for (size_t k = 0; k < i; k++) {
			struct metrics_row_info q = metrics_row(k);
			if (!streq(q.name, r.name))
				continue;
			/* The rows of one family follow each other, alike. */
			CHECK(k == i - 1 || streq(metrics_row(i - 1).name, r.name), "%s: rows together", r.name);
			CHECK(streq(q.type, r.type) && streq(q.help, r.help) && q.per_namespace == r.per_namespace,
			      "%s: the rows of one family have one type, help and scope", r.name);
		}
	}
}

static char *label_value(const char *s) {
	_cleanup_(text_release) struct text t = { 0 };

	if (text_open(&t, false) < 0)
		return NULL;
	metrics_write_label_value(t.f, s);
	return text_finish(&t) == 0 ? text_steal(&t) : NULL;
}

static void test_escaping(void) {
	_cleanup_free_ char *a = label_value("plain"), *b = label_value("a\"b\\c\nd"), *c = label_value("");

	CHECK_STREQ(a, "\"plain\"", "nothing to escape");
	CHECK_STREQ(b, "\"a\\\"b\\\\c\\nd\"", "quote, backslash, line feed escaped");
	CHECK_STREQ(c, "\"\"", "empty");
}

/* The rendered text of these facts. */
static char *render(const struct host_facts *h, const struct metrics_ns *ms, size_t n) {
	_cleanup_(text_release) struct text t = { 0 };

	if (text_open(&t, false) < 0 || metrics_render(t.f, h, ms, n) < 0 || text_finish(&t) < 0)
		return NULL;
	return text_steal(&t);
}

static bool has_line(const char *text, const char *line) {
	size_t len = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, line, len) == 0 && (p[len] == '\n' || p[len] == '\0'))
			return true;
	return false;
}

/* Each family's TYPE once, before its samples, which follow each other. */
static bool families_grouped(const char *text) {
	char seen[64][96];
	size_t n_seen = 0;
	char current[96] = "";

	for (const char *p = text; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char name[96];

		if (strncmp(p, "# TYPE ", 7) == 0) {
			snprintf(name, sizeof(name), "%.*s", (int)strcspn(p + 7, " \n"), p + 7);
			for (size_t i = 0; i < n_seen; i++)
				if (streq(seen[i], name))
					return false;
			if (n_seen < 64)
				snprintf(seen[n_seen++], sizeof(seen[0]), "%s", name);
			snprintf(current, sizeof(current), "%s", name);
		} else if (p[0] != '#') {
			snprintf(name, sizeof(name), "%.*s", (int)strcspn(p, "{ \n"), p);
			if (!streq(name, current))
				return false;
		}
		p += len + (eol ? 1 : 0);
	}
	return n_seen > 0;
}

static void test_render(void) {
	struct ns_config cfg = { .name = "tr" };
	struct wg_peer cfg_peers[2] = { 0 };
	struct wg_config wg = { .peers = cfg_peers, .n_peers = 2 };
	struct wg_dump_peer dump_peers[2] = { 0 };
	struct nft_counter ns_counters[] = {
		{ "input_drop", 3, 180 }, { "output_drop", 12, 720 }, { "forward_drop", 0, 0 },
		{ "dns_drop", 2, 130 },   { "ra_drop", 1, 64 },
	};
	struct nft_counter host_counters[] = { { "guard_forward_drop", 5, 300 }, { "guard_input_drop", 7, 420 } };
	struct nft_counter guard_counters[] = { { "guard_drop", 9, 540 } };
	struct status_unit units[] = {
		{ .unit = "a.service", .m = { .loaded = true, .active_state = "active" } },
		{ .unit = "a.socket", .via = "a.service", .m = { .loaded = false, .active_state = "inactive" } },
		{ .unit = "b.service", .m = { .loaded = true, .active_state = "failed" } },
		{ .unit = "c.service", .m = { .loaded = true, .active_state = "reloading" } },
		{ .unit = "c.socket", .via = "c.service", .m = { .loaded = true, .active_state = "inactive" } },
	};
	char *problems[] = { "one", "two" };
	struct findings fi_up = { .problems = NULL }, fi_down = { .problems = problems, .n_problems = 2 };
	struct ns_facts up = { 0 }, down = { 0 }, odd = { 0 };
	struct host_facts h = { .manager_reachable = true, .guard_counters = guard_counters, .n_guard_counters = 1 };
	struct metrics_ns ms[3] = { { &up, &fi_up }, { &down, &fi_down }, { &odd, &fi_up } };
	_cleanup_free_ char *text = NULL, *text2 = NULL, *none = NULL;

	memset(cfg_peers[0].public_key, 0x11, WG_KEY_LEN);
	memset(cfg_peers[1].public_key, 0x22, WG_KEY_LEN);
	/* The device lists the config's second peer, and one it does not have. */
	wg_key_to_base64(dump_peers[0].public_key, cfg_peers[1].public_key);
	dump_peers[0].latest_handshake = 1700000000, dump_peers[0].rx = 1234, dump_peers[0].tx = 5678;
	{
		uint8_t other[WG_KEY_LEN];
		memset(other, 0x33, WG_KEY_LEN);
		wg_key_to_base64(dump_peers[1].public_key, other);
	}
	dump_peers[1].rx = 99;

	CHECK(ns_names_init(&up.n, "tr") == 0 && ns_names_init(&down.n, "ab") == 0, "names");
	up.now = 1700000042;
	up.cfg = &cfg, up.wg = &wg, up.netns_exists = up.managed = true;
	up.tunnel_recorded = up.tunnel_link = up.dump_ok = true;
	up.rec = (struct tunnel_record){ .implementation = "userspace", .has_socket = true, .started = 1699999000 };
	up.wgo_running = true;
	up.dump.peers = dump_peers, up.dump.n_peers = 2;
	up.ns_rs = RS_MATCHES, up.host_rs = RS_DIFFERS;
	up.ns_counters = ns_counters, up.n_ns_counters = ELEMENTSOF(ns_counters);
	up.host_counters = host_counters, up.n_host_counters = ELEMENTSOF(host_counters);
	up.units = units, up.n_units = ELEMENTSOF(units), up.units_known = true, up.manager_reachable = true;
	/* A forwarded port, port-forward running. */
	cfg.pf.enabled = true;
	up.pf_running = true;
	up.pf.port = up.pf.tcp = up.pf.udp = 51820, up.pf.since = 1699999500;
	/* A supervisor on the second config after a failover. */
	up.health_recorded = true;
	up.health = (struct health_record){ .state = HEALTH_RECOVERING, .config = 1, .n_configs = 2, .recoveries = 3,
					    .failovers = 1, .last_sign = 1700000030, .last_recovery = 1700000010 };
	/* down: an invalid config, no namespace, systemd not asked. */
	down.ns_rs = down.host_rs = RS_UNKNOWN;
	/* odd: a name no namespace can have, for the escaping. */
	odd.n = down.n;
	snprintf(odd.n.ns, sizeof(odd.n.ns), "q\"\\\nz");
	odd.ns_rs = odd.host_rs = RS_UNKNOWN;

	text = render(&h, ms, 3);
	CHECK(text != NULL, "renders");
	if (!text)
		return;
	CHECK(families_grouped(text), "each family once, its samples together:\n%s", text);
	const char *want[] = {
		"# HELP vpn_confinement_build_info Always 1; the label version is the version of vpn-confinement.",
		"# TYPE vpn_confinement_build_info gauge",
		"vpn_confinement_build_info{version=\"" VERSION "\"} 1",
		"vpn_confinement_systemd_reachable 1",
		"# TYPE vpn_confinement_forwarding_guard_dropped_packets_total counter",
		"vpn_confinement_forwarding_guard_dropped_packets_total 9",
		"vpn_confinement_forwarding_guard_dropped_bytes_total 540",
		"vpn_confinement_config_valid{namespace=\"tr\"} 1",
		"vpn_confinement_config_valid{namespace=\"ab\"} 0",
		"vpn_confinement_config_valid{namespace=\"q\\\"\\\\\\nz\"} 0",
		"vpn_confinement_namespace_up{namespace=\"tr\"} 1",
		"vpn_confinement_namespace_up{namespace=\"ab\"} 0",
		"vpn_confinement_ruleset_matches{namespace=\"tr\",table=\"namespace\"} 1",
		"vpn_confinement_ruleset_matches{namespace=\"tr\",table=\"host\"} 0",
		"vpn_confinement_tunnel_up{namespace=\"tr\"} 1",
		"vpn_confinement_tunnel_up{namespace=\"ab\"} 0",
		"vpn_confinement_tunnel_info{namespace=\"tr\",implementation=\"userspace\"} 1",
		"vpn_confinement_tunnel_started_timestamp_seconds{namespace=\"tr\"} 1699999000",
		"vpn_confinement_peer_latest_handshake_timestamp_seconds{namespace=\"tr\",peer=\"1\"} 1700000000",
		"vpn_confinement_peer_handshake_age_seconds{namespace=\"tr\",peer=\"1\"} 42",
		"vpn_confinement_peer_receive_bytes_total{namespace=\"tr\",peer=\"1\"} 1234",
		"vpn_confinement_peer_transmit_bytes_total{namespace=\"tr\",peer=\"1\"} 5678",
		"# TYPE vpn_confinement_killswitch_dropped_packets_total counter",
		"vpn_confinement_killswitch_dropped_packets_total{namespace=\"tr\",chain=\"input\"} 3",
		"vpn_confinement_killswitch_dropped_packets_total{namespace=\"tr\",chain=\"output\"} 12",
		"vpn_confinement_killswitch_dropped_packets_total{namespace=\"tr\",chain=\"forward\"} 0",
		"vpn_confinement_killswitch_dropped_bytes_total{namespace=\"tr\",chain=\"output\"} 720",
		"vpn_confinement_dns_dropped_packets_total{namespace=\"tr\"} 2",
		"vpn_confinement_dns_dropped_bytes_total{namespace=\"tr\"} 130",
		"vpn_confinement_ra_dropped_packets_total{namespace=\"tr\"} 1",
		"vpn_confinement_guard_dropped_packets_total{namespace=\"tr\",chain=\"forward\"} 5",
		"vpn_confinement_guard_dropped_packets_total{namespace=\"tr\",chain=\"input\"} 7",
		"vpn_confinement_guard_dropped_bytes_total{namespace=\"tr\",chain=\"input\"} 420",
		/* a.service, b.service, c.service, c.socket; not a.socket (no such unit) */
		"vpn_confinement_confined_units{namespace=\"tr\"} 4",
		/* a (active), c (reloading) */
		"vpn_confinement_confined_units_active{namespace=\"tr\"} 2",
		"vpn_confinement_forwarded_port{namespace=\"tr\"} 51820",
		"vpn_confinement_forwarded_port_since_timestamp_seconds{namespace=\"tr\"} 1699999500",
		"# TYPE vpn_confinement_health_state gauge",
		"vpn_confinement_health_state{namespace=\"tr\",state=\"online\"} 0",
		"vpn_confinement_health_state{namespace=\"tr\",state=\"recovering\"} 1",
		"vpn_confinement_health_state{namespace=\"tr\",state=\"no-uplink\"} 0",
		"vpn_confinement_active_config_index{namespace=\"tr\"} 1",
		"# TYPE vpn_confinement_recoveries_total counter",
		"vpn_confinement_recoveries_total{namespace=\"tr\"} 3",
		"vpn_confinement_failovers_total{namespace=\"tr\"} 1",
		"vpn_confinement_failbacks_total{namespace=\"tr\"} 0",
		"vpn_confinement_last_sign_of_life_timestamp_seconds{namespace=\"tr\"} 1700000030",
		"vpn_confinement_last_recovery_timestamp_seconds{namespace=\"tr\"} 1700000010",
		"vpn_confinement_problems{namespace=\"tr\"} 0",
		"vpn_confinement_problems{namespace=\"ab\"} 2",
	};
	for (size_t i = 0; i < ELEMENTSOF(want); i++)
		CHECK(has_line(text, want[i]), "line %s in:\n%s", want[i], text);
	/* Left out: what is not known or not there. */
	CHECK(!strstr(text, "peer=\"0\""), "the config's first peer is not on the device");
	CHECK(!strstr(text, " 99\n"), "a peer the config does not have is left out");
	CHECK(!strstr(text, "namespace=\"ab\",table="), "no ruleset state without a namespace");
	CHECK(!strstr(text, "vpn_confinement_confined_units{namespace=\"ab\"}"), "no unit counts when not asked");
	CHECK(!strstr(text, "tunnel_info{namespace=\"ab\""), "no tunnel info while down");
	CHECK(!strstr(text, "killswitch_dropped_packets_total{namespace=\"ab\""), "no counters without a table");
	CHECK(!strstr(text, "forwarded_port{namespace=\"ab\""), "no forwarded port without port-forward");
	CHECK(!strstr(text, "health_state{namespace=\"ab\"") && !strstr(text, "recoveries_total{namespace=\"ab\""),
	      "no health without a supervisor");
	{
		size_t states = 0;
		for (const char *q = text; (q = strstr(q, "\nvpn_confinement_health_state{namespace=\"tr\"")); q++)
			states++;
		CHECK(states == _HEALTH_STATE_MAX, "one sample per state (%zu)", states);
	}
	CHECK(!strstr(text, "PrivateKey") && !strstr(text, dump_peers[0].public_key),
	      "no key material, no public key either");

	/* A peer without a handshake: a timestamp of 0, no age. And a
	 * port-forward that stopped (its record left): no forwarded port. */
	dump_peers[0].latest_handshake = 0;
	up.pf_running = false;
	/* A supervisor's record refused: no health metrics; a first start:
	 * no times of "never". */
	up.health = (struct health_record){ .state = HEALTH_CONNECTING, .n_configs = 1 };
	text2 = render(&h, ms, 1);
	CHECK(text2 && has_line(text2, "vpn_confinement_active_config_index{namespace=\"tr\"} 0") &&
		      has_line(text2, "vpn_confinement_health_state{namespace=\"tr\",state=\"connecting\"} 1") &&
		      !strstr(text2, "last_recovery_timestamp") && !strstr(text2, "last_sign_of_life"),
	      "a new supervisor: its config and state, no times yet");
	free(text2);
	up.health_error = -EBADMSG;
	text2 = render(&h, ms, 1);
	CHECK(text2 && !strstr(text2, "health_state") && !strstr(text2, "active_config_index"),
	      "a refused health record gives no health metrics");
	free(text2);
	up.health_error = 0, up.health_recorded = false;
	text2 = render(&h, ms, 1);
	CHECK(text2 && !strstr(text2, "forwarded_port"), "no forwarded port once port-forward stopped");
	CHECK(text2 && has_line(text2, "vpn_confinement_peer_latest_handshake_timestamp_seconds{namespace=\"tr\",peer=\"1\"} 0"),
	      "timestamp 0 before the first handshake");
	CHECK(text2 && !strstr(text2, "vpn_confinement_peer_handshake_age_seconds"), "no age (and no family) without one");

	/* No namespace at all: the host's metrics only. */
	h = (struct host_facts){ 0 };
	none = render(&h, NULL, 0);
	CHECK(none && has_line(none, "vpn_confinement_systemd_reachable 0") && !strstr(none, "namespace="),
	      "host metrics only:\n%s", none ? none : "");
	CHECK(none && !strstr(none, "forwarding_guard"), "no forwarding guard counters without its table");
}

static int parse(const char *s, struct json **j) { return json_parse(s, strlen(s), j, NULL); }

static void test_json(void) {
	struct json *j = NULL;
	uint64_t v = 0;
	size_t at = 0;
	const char *bad[] = {
		"", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{1:2}", "01", "1.", "-", "+1", ".5", "1e", "tru",
		"nul", "\"abc", "\"a\\x\"", "\"\\u12\"", "\"\\u0000\"", "\"\\udc00\"", "\"\\ud800x\"", "\"a\tb\"",
		"1 2", "[1] x", "{\"a\":}", "[", "]", "\"\\",
	};

	CHECK(parse("{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\"}}, {\"counter\": {\"family\": \"inet\", "
		    "\"name\": \"output_drop\", \"table\": \"vpn-confinement\", \"handle\": 2, \"packets\": "
		    "18446744073709551615, \"bytes\": 0}}]}",
		    &j) == 0,
	      "libnftables' counters parse");
	if (j) {
		const struct json *list = json_get(j, "nftables");
		const struct json *c = list && list->n == 2 ? json_get(&list->items[1], "counter") : NULL;

		CHECK(list && list->type == JSON_ARRAY && list->n == 2, "the list");
		CHECK_STREQ(json_str(json_get(c, "name")), "output_drop", "name");
		CHECK(json_u64(json_get(c, "packets"), &v) == 0 && v == UINT64_MAX, "a 64-bit counter exactly: %llu",
		      (unsigned long long)v);
		CHECK(json_u64(json_get(c, "bytes"), &v) == 0 && v == 0, "0");
		CHECK(json_u64(json_get(c, "name"), &v) == -EINVAL, "a string is no number");
		CHECK(json_get(c, "nothing") == NULL && json_get(list, "x") == NULL, "missing members, not an object");
		json_free(j);
	}
	CHECK(parse("[18446744073709551616, -1, 1.5, 1e3, true, false, null, \"\\u00e9\\ud83d\\ude00\\/\\n\", {}, []]",
		    &j) == 0,
	      "every kind of value");
	if (j) {
		CHECK(j->n == 10, "10 items");
		CHECK(json_u64(&j->items[0], &v) == -ERANGE, "past UINT64_MAX");
		CHECK(json_u64(&j->items[1], &v) == -EINVAL && json_u64(&j->items[2], &v) == -EINVAL &&
			      json_u64(&j->items[3], &v) == -EINVAL,
		      "negative, fraction, exponent: no u64");
		CHECK(j->items[4].type == JSON_TRUE && j->items[5].type == JSON_FALSE && j->items[6].type == JSON_NULL,
		      "literals");
		CHECK_STREQ(json_str(&j->items[7]), "\xc3\xa9\xf0\x9f\x98\x80/\n", "escapes and surrogate pairs");
		CHECK(j->items[8].type == JSON_OBJECT && j->items[8].n == 0 && j->items[9].type == JSON_ARRAY &&
			      j->items[9].n == 0,
		      "empty containers");
		json_free(j);
	}
	CHECK(parse("{\"\": \"\", \"k\": {\"k\": [\"v\"]}}", &j) == 0 && j && j->n == 2, "empty key and value, nesting");
	if (j) {
		CHECK_STREQ(json_str(json_get(j, "")), "", "empty string");
		json_free(j);
	}
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		j = (struct json *)1;
		CHECK(json_parse(bad[i], strlen(bad[i]), &j, &at) == -EINVAL && j == NULL, "refused: '%s'", bad[i]);
	}
	CHECK(json_parse("[1, x]", 6, &j, &at) == -EINVAL && at == 4, "error offset %zu", at);
	CHECK(json_parse("\"a\0b\"", 5, &j, NULL) == -EINVAL, "a NUL byte in a string");
	{
		char deep[2 * JSON_MAX_DEPTH + 3];
		size_t k = 0;

		for (int i = 0; i < JSON_MAX_DEPTH; i++)
			deep[k++] = '[';
		for (int i = 0; i < JSON_MAX_DEPTH; i++)
			deep[k++] = ']';
		CHECK(json_parse(deep, k, &j, NULL) == 0, "%d levels", JSON_MAX_DEPTH);
		json_free(j);
		memmove(deep + 1, deep, k);
		deep[0] = '[', deep[++k] = ']', k++;
		CHECK(json_parse(deep, k, &j, NULL) == -EINVAL, "one level more is refused");
	}
}

int main(void) {
	test_table();
	test_escaping();
	test_render();
	test_json();
	return test_done();
}
