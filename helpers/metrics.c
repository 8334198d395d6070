/* SPDX-License-Identifier: MIT */
#include "metrics.h"

#include <inttypes.h>

#include "checks.h"
#include "config.h"
#include "health.h"
#include "status.h"
#include "util.h"
#include "version.h"
#include "wgconf.h"

enum metric_type { GAUGE, COUNTER };

/* One sample of a row: its own labels (after namespace="N" and the row's
 * fixed label) and its value. */
#define SAMPLE_LABELS 2
struct sample {
	const char *label[SAMPLE_LABELS];
	char value[SAMPLE_LABELS][32];
	size_t n_labels;
	uint64_t v;
};

/* What a row's function says about its i-th sample. */
enum { SAMPLE_END = -1, SAMPLE_SKIP = 0, SAMPLE_OK = 1 };

/* The named counter a row reads (ruleset.h names them). */
enum counter_table {
	NO_TABLE,
	NS_TABLE,    /* inet vpn-confinement, inside N */
	HOST_TABLE,  /* inet vpn-confinement-N */
	GUARD_TABLE, /* inet vpn-confinement-forwarding, shared */
};

/* What a row of a peer gives. */
enum peer_value { PEER_HANDSHAKE, PEER_HANDSHAKE_AGE, PEER_RX, PEER_TX };

/* What a row of the supervisor's health record gives; the times last. */
enum health_value {
	HEALTH_ACTIVE_CONFIG,
	HEALTH_RECOVERIES,
	HEALTH_FAILOVERS,
	HEALTH_FAILBACKS,
	HEALTH_LAST_SIGN,
	HEALTH_LAST_RECOVERY,
};

struct row {
	const char *name;
	enum metric_type type;
	const char *help;
	/* Exactly one: the i-th sample of a namespace, or of the host. */
	int (*ns)(const struct row *r, const struct metrics_ns *m, size_t i, struct sample *s);
	int (*host)(const struct row *r, const struct host_facts *h, size_t i, struct sample *s);
	/* A fixed label of this row's samples, or NULL. */
	const char *label, *label_value;
	/* Rows of counters: which, and whether its bytes or packets. */
	enum counter_table table;
	const char *counter;
	bool bytes;
	/* Rows of a peer's values: which. */
	enum peer_value peer;
	/* Rows of the health record: which. */
	enum health_value health;
};

/* A row with one sample at most: v when present. */
static int one(struct sample *s, size_t i, bool present, uint64_t v) {
	if (i > 0)
		return SAMPLE_END;
	if (!present)
		return SAMPLE_SKIP;
	s->v = v;
	return SAMPLE_OK;
}

static int add_label(struct sample *s, const char *name, const char *value) {
	if (s->n_labels >= SAMPLE_LABELS)
		return SAMPLE_SKIP;
	s->label[s->n_labels] = name;
	snprintf(s->value[s->n_labels], sizeof(s->value[0]), "%s", value);
	s->n_labels++;
	return SAMPLE_OK;
}

/* ---- host-wide ---------------------------------------------------------- */

static int s_build_info(const struct row *r, const struct host_facts *h, size_t i, struct sample *s) {
	if (i > 0)
		return SAMPLE_END;
	s->v = 1;
	return add_label(s, "version", VERSION);
}

static int s_systemd_reachable(const struct row *r, const struct host_facts *h, size_t i, struct sample *s) {
	return one(s, i, true, h->manager_reachable);
}

static int s_host_counter(const struct row *r, const struct host_facts *h, size_t i, struct sample *s) {
	const struct nft_counter *c = nft_counter_find(h->guard_counters, h->n_guard_counters, r->counter);

	return one(s, i, c, c ? (r->bytes ? c->bytes : c->packets) : 0);
}

/* ---- per namespace ------------------------------------------------------ */

static int s_config_valid(const struct row *r, const struct metrics_ns *m, size_t i, struct sample *s) {
	return one(s, i, true, m->f->cfg != NULL);
}

static int s_namespace_up(const struct row *r, const struct metrics_ns *m, size_t i, struct sample *s) {
	return one(s, i, true, m->f->netns_exists && m->f->managed);
}

/* Up: wg-up brought it up (its record), N0 is there and its device
 * answers, and wireguard-go, when that is the implementation, runs. */
static int s_tunnel_up(const struct row *r, const struct metrics_ns *m, size_t i, struct sample *s) {
	const struct ns_facts *f = m->f;

	return one(s, i, true,
		   f->tunnel_recorded && f->tunnel_link && f->dump_ok && (!f->rec.has_socket || f->wgo_running));
}

static int s_tunnel_info(const struct row *r, const struct metrics_ns *m, size_t i, struct sample *s) {
	const struct ns_facts *f = m->f;
	int k = one(s, i, f->tunnel_recorded && f->rec.implementation, 1);

	return k == SAMPLE_OK ? add_label(s, "implementation", f->rec.implementation) : k;
}

static int s_tunnel_started(const struct row *r, const struct metrics_ns *m, size_t i, struct sample *s) {
	const struct ns_facts *f = m->f;

	return one(s, i, f->tunnel_recorded && f->rec.started, f->rec.started);
}

/* The i-th peer of the live device, labelled peer="K" with K its index in
 * the wg config (its [Peer] sections from 0), matched by public key; a
 * peer the config does not have (the file changed since wg-up) is left
 * out. */
static int peer(const struct metrics_ns *m, size_t i, struct sample *s, const struct wg_dump_peer **out) {
	const struct ns_facts *f = m->f;
	uint8_t key[WG_KEY_LEN];
	char index[24];

	if (!f->dump_ok || i >= f->dump.n_peers)
		return SAMPLE_END;
	if (!f->wg || wg_key_from_base64(key, f->dump.peers[i].public_key) < 0)
		return SAMPLE_SKIP;
	for (size_t k = 0; k < f->wg->n_peers; k++)
		if (memcmp(key, f->wg->peers[k].public_key, WG_KEY_LEN) == 0) {
			snprintf(index, sizeof(index), "%zu", k);
			*out = &f->dump.peers[i];
			return add_label(s, "peer", index);
		}
	return SAMPLE_SKIP;
}

/* A peer's value, as the row's peer field says. */
static int s_peer(const struct row *r, const struct metrics_ns *m, size_t i, struct sample *s) {
	const struct wg_dump_peer *p = NULL;
	int k = peer(m, i, s, &p);

	if (k != SAMPLE_OK)
		return k;
	switch (r->peer) {
	case PEER_HANDSHAKE:
		s->v = p->latest_handshake;
		break;
	case PEER_HANDSHAKE_AGE:
		if (!p->latest_handshake || m->f->now < p->latest_handshake)
			return SAMPLE_SKIP; /* none yet */
		s->v = m->f->now - p->latest_handshake;
		break;
	case PEER_RX:
		s->v = p->rx;
		break;
	case PEER_TX:
		s->v = p->tx;
		break;
	}
	return SAMPLE_OK;
}

static int s_counter(const struct row *r, const struct metrics_ns *m, size_t i, struct sample *s) {
	const struct ns_facts *f = m->f;
	const struct nft_counter *c = r->table == NS_TABLE
					      ? nft_counter_find(f->ns_counters, f->n_ns_counters, r->counter)
					      : nft_counter_find(f->host_counters, f->n_host_counters, r->counter);

	return one(s, i, c, c ? (r->bytes ? c->bytes : c->packets) : 0);
}

static int s_ruleset_matches(const struct row *r, const struct metrics_ns *m, size_t i, struct sample *s) {
	enum rs_state st = r->table == NS_TABLE ? m->f->ns_rs : m->f->host_rs;

	return one(s, i, m->f->netns_exists && st != RS_UNKNOWN, st == RS_MATCHES);
}

static int s_units(const struct row *r, const struct metrics_ns *m, size_t i, struct sample *s) {
	const struct ns_facts *f = m->f;
	uint64_t n = 0;

	for (size_t k = 0; k < f->n_units; k++)
		n += status_unit_counts(&f->units[k]);
	return one(s, i, f->units_known, n);
}

static int s_units_active(const struct row *r, const struct metrics_ns *m, size_t i, struct sample *s) {
	const struct ns_facts *f = m->f;
	uint64_t n = 0;

	for (size_t k = 0; k < f->n_units; k++)
		n += status_unit_counts(&f->units[k]) && status_unit_active(&f->units[k]);
	return one(s, i, f->units_known, n);
}

/* The port the VPN provider forwards, while port-forward runs and holds
 * a mapping (PortForwarding=natpmp). */
static bool forwarding(const struct ns_facts *f) {
	return f->cfg && f->cfg->pf.enabled && f->pf_running && f->pf.port != 0;
}

static int s_forwarded_port(const struct row *r, const struct metrics_ns *m, size_t i, struct sample *s) {
	return one(s, i, forwarding(m->f), m->f->pf.port);
}

static int s_forwarded_port_since(const struct row *r, const struct metrics_ns *m, size_t i, struct sample *s) {
	return one(s, i, forwarding(m->f) && m->f->pf.since, m->f->pf.since);
}

/* The supervisor's record, when there is one it wrote (wg-up --foreground). */
static const struct health_record *health(const struct ns_facts *f) {
	return f->health_recorded && f->health_error == 0 ? &f->health : NULL;
}

/* One sample per state, 1 for the current one (a Prometheus state set). */
static int s_health_state(const struct row *r, const struct metrics_ns *m, size_t i, struct sample *s) {
	const struct health_record *h = health(m->f);

	if (i >= _HEALTH_STATE_MAX || !h)
		return SAMPLE_END;
	s->v = h->state == (enum health_state)i;
	return add_label(s, "state", health_state_str((enum health_state)i));
}

static int s_health_value(const struct row *r, const struct metrics_ns *m, size_t i, struct sample *s) {
	const struct health_record *h = health(m->f);
	uint64_t v = 0;

	if (h)
		switch (r->health) {
		case HEALTH_ACTIVE_CONFIG:
			v = h->config;
			break;
		case HEALTH_RECOVERIES:
			v = h->recoveries;
			break;
		case HEALTH_FAILOVERS:
			v = h->failovers;
			break;
		case HEALTH_FAILBACKS:
			v = h->failbacks;
			break;
		case HEALTH_LAST_SIGN:
			v = h->last_sign;
			break;
		case HEALTH_LAST_RECOVERY:
			v = h->last_recovery;
			break;
		}
	/* Times of "never" are left out rather than given as 1970. */
	return one(s, i, h && (v || r->health < HEALTH_LAST_SIGN), v);
}

static int s_problems(const struct row *r, const struct metrics_ns *m, size_t i, struct sample *s) {
	return one(s, i, true, m->fi->n_problems);
}

/* ---- the table ------------------------------------------------------------ */

/* A new metric is a row (its name with the prefix, gauge or counter, a
 * one-line help) and, unless an existing function gives its value, a
 * function over the facts that returns one() of them, as s_forwarded_port
 * does: one(s, i, whether there is a value, the value).
 * Rows of one name go together (a label per row, or per sample); the unit
 * tests hold the names to Prometheus' rules, and vpn-confinement(8),
 * METRICS, lists them. */

#define P "vpn_confinement_"
#define KS_PACKETS "Packets the kill switch (table inet vpn-confinement in the namespace) dropped, by chain; from 0 whenever the table is replaced (wg-up, wg-down)."
#define KS_BYTES "Bytes of the packets the kill switch dropped, by chain; from 0 whenever the table is replaced."
#define DNS_PACKETS "DNS packets (udp/tcp 53, 853) to other servers than the VPN's or not through the tunnel, dropped; only while the tunnel is up."
#define DNS_BYTES "Bytes of the DNS packets dropped (see vpn_confinement_dns_dropped_packets_total)."
#define RA_PACKETS "Router advertisements and redirects dropped in the namespace; only while the tunnel is up."
#define RA_BYTES "Bytes of the router advertisements and redirects dropped."
#define GUARD_PACKETS "Packets from or to the namespace's bridge that the host guard (table inet vpn-confinement-N) dropped, by chain."
#define GUARD_BYTES "Bytes of the packets the host guard dropped, by chain."
#define FG_PACKETS "Packets the forwarding guard (table inet vpn-confinement-forwarding, all namespaces) kept from being forwarded elsewhere than to a namespace; while it exists."
#define RULESET_MATCHES "1 when the live table is what vpn-confinement ruleset renders (counter values aside), 0 when it differs or is missing; by table (namespace, host)."
#define FG_BYTES "Bytes of the packets the forwarding guard dropped."

/* A row of one named counter's packets or bytes: its name, help, fixed
 * label (or NULL, NULL), table, counter, and bytes or not. */
#define NS_COUNTER(metric, text, lname, lvalue, tbl, cname, isbytes)                                         \
	{ .name = P metric, .type = COUNTER, .help = text, .ns = s_counter, .label = lname, .label_value = lvalue, \
	  .table = tbl, .counter = cname, .bytes = isbytes }

static const struct row rows[] = {
	{ P "build_info", GAUGE, "Always 1; the label version is the version of vpn-confinement.", .host = s_build_info },
	{ P "systemd_reachable", GAUGE,
	  "1 when the systemd manager could be asked about the confined units; when 0, the units metrics are left out.",
	  .host = s_systemd_reachable },
	{ P "forwarding_guard_dropped_packets_total", COUNTER, FG_PACKETS, .host = s_host_counter,
	  .table = GUARD_TABLE, .counter = "guard_drop" },
	{ P "forwarding_guard_dropped_bytes_total", COUNTER, FG_BYTES, .host = s_host_counter, .table = GUARD_TABLE,
	  .counter = "guard_drop", .bytes = true },

	{ P "config_valid", GAUGE, "1 when the namespace's ini file (and so its configuration) is valid.",
	  .ns = s_config_valid },
	{ P "namespace_up", GAUGE, "1 when the network namespace exists and netns-up made it (its kill switch is loaded).",
	  .ns = s_namespace_up },
	{ P "ruleset_matches", GAUGE, RULESET_MATCHES,
	  .ns = s_ruleset_matches, .label = "table", .label_value = "namespace", .table = NS_TABLE },
	{ P "ruleset_matches", GAUGE, RULESET_MATCHES,
	  .ns = s_ruleset_matches, .label = "table", .label_value = "host", .table = HOST_TABLE },
	{ P "tunnel_up", GAUGE,
	  "1 when wg-up brought the tunnel up, its interface N0 exists and answers, and wireguard-go (if used) runs.",
	  .ns = s_tunnel_up },
	{ P "tunnel_info", GAUGE, "Always 1 while the tunnel is up; the label implementation is kernel or userspace (wireguard-go).",
	  .ns = s_tunnel_info },
	{ P "tunnel_started_timestamp_seconds", GAUGE, "Unix time at which wg-up brought the tunnel up.",
	  .ns = s_tunnel_started },
	{ P "peer_latest_handshake_timestamp_seconds", GAUGE,
	  "Unix time of the latest handshake with the peer (0: none yet); peer is its index in the wg config.",
	  .ns = s_peer, .peer = PEER_HANDSHAKE },
	{ P "peer_handshake_age_seconds", GAUGE,
	  "Seconds since the latest handshake with the peer when the metrics were gathered; none before the first.",
	  .ns = s_peer, .peer = PEER_HANDSHAKE_AGE },
	{ P "peer_receive_bytes_total", COUNTER, "Bytes received from the peer through the tunnel (wg transfer).",
	  .ns = s_peer, .peer = PEER_RX },
	{ P "peer_transmit_bytes_total", COUNTER, "Bytes sent to the peer through the tunnel (wg transfer).",
	  .ns = s_peer, .peer = PEER_TX },
	NS_COUNTER("killswitch_dropped_packets_total", KS_PACKETS, "chain", "input", NS_TABLE, "input_drop", false),
	NS_COUNTER("killswitch_dropped_packets_total", KS_PACKETS, "chain", "output", NS_TABLE, "output_drop", false),
	NS_COUNTER("killswitch_dropped_packets_total", KS_PACKETS, "chain", "forward", NS_TABLE, "forward_drop", false),
	NS_COUNTER("killswitch_dropped_bytes_total", KS_BYTES, "chain", "input", NS_TABLE, "input_drop", true),
	NS_COUNTER("killswitch_dropped_bytes_total", KS_BYTES, "chain", "output", NS_TABLE, "output_drop", true),
	NS_COUNTER("killswitch_dropped_bytes_total", KS_BYTES, "chain", "forward", NS_TABLE, "forward_drop", true),
	NS_COUNTER("dns_dropped_packets_total", DNS_PACKETS, NULL, NULL, NS_TABLE, "dns_drop", false),
	NS_COUNTER("dns_dropped_bytes_total", DNS_BYTES, NULL, NULL, NS_TABLE, "dns_drop", true),
	NS_COUNTER("ra_dropped_packets_total", RA_PACKETS, NULL, NULL, NS_TABLE, "ra_drop", false),
	NS_COUNTER("ra_dropped_bytes_total", RA_BYTES, NULL, NULL, NS_TABLE, "ra_drop", true),
	NS_COUNTER("guard_dropped_packets_total", GUARD_PACKETS, "chain", "forward", HOST_TABLE, "guard_forward_drop", false),
	NS_COUNTER("guard_dropped_packets_total", GUARD_PACKETS, "chain", "input", HOST_TABLE, "guard_input_drop", false),
	NS_COUNTER("guard_dropped_bytes_total", GUARD_BYTES, "chain", "forward", HOST_TABLE, "guard_forward_drop", true),
	NS_COUNTER("guard_dropped_bytes_total", GUARD_BYTES, "chain", "input", HOST_TABLE, "guard_input_drop", true),
	{ P "confined_units", GAUGE,
	  "Units the ini file confines (but templates), with the companions that exist (foo.socket of foo.service); left out while systemd cannot be asked.",
	  .ns = s_units },
	{ P "confined_units_active", GAUGE, "Of vpn_confinement_confined_units, those active (or reloading).",
	  .ns = s_units_active },
	{ P "forwarded_port", GAUGE,
	  "The port the VPN provider forwards to the namespace (PortForwarding=natpmp), while port-forward holds a mapping.",
	  .ns = s_forwarded_port },
	{ P "forwarded_port_since_timestamp_seconds", GAUGE, "Unix time at which the forwarded port was first mapped.",
	  .ns = s_forwarded_port_since },
	{ P "health_state", GAUGE,
	  "1 for the state of the tunnel as its supervisor (wg-up --foreground) judges it, 0 for the others; none without a supervisor.",
	  .ns = s_health_state },
	{ P "active_config_index", GAUGE,
	  "The WireGuardConfigFile= the tunnel uses, from 0 (the first); another after a failover.",
	  .ns = s_health_value, .health = HEALTH_ACTIVE_CONFIG },
	{ P "recoveries_total", COUNTER,
	  "Recoveries of the tunnel (reconnects in place, rebuilds, failovers) since its supervisor started.",
	  .ns = s_health_value, .health = HEALTH_RECOVERIES },
	{ P "failovers_total", COUNTER, "Moves to the next WireGuardConfigFile= since the supervisor started.",
	  .ns = s_health_value, .health = HEALTH_FAILOVERS },
	{ P "failbacks_total", COUNTER, "Moves back to the first WireGuardConfigFile= since the supervisor started.",
	  .ns = s_health_value, .health = HEALTH_FAILBACKS },
	{ P "last_sign_of_life_timestamp_seconds", GAUGE,
	  "Unix time of the tunnel's last sign of life (a handshake or bytes received from the peer), as the supervisor saw it.",
	  .ns = s_health_value, .health = HEALTH_LAST_SIGN },
	{ P "last_recovery_timestamp_seconds", GAUGE, "Unix time of the supervisor's last recovery step.",
	  .ns = s_health_value, .health = HEALTH_LAST_RECOVERY },
	{ P "problems", GAUGE, "Problems vpn-confinement check would report (0: the namespace is as it should be).",
	  .ns = s_problems },
};

/* ---- rendering ------------------------------------------------------------ */

void metrics_write_label_value(FILE *f, const char *s) {
	fputc('"', f);
	for (; *s; s++)
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	fputc('"', f);
}

/* HELP text: backslash and line feed escaped. */
static void write_help(FILE *f, const char *s) {
	for (; *s; s++)
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
}

static void write_label(FILE *f, bool *first, const char *name, const char *value) {
	fputc(*first ? '{' : ',', f);
	*first = false;
	fputs(name, f);
	fputc('=', f);
	metrics_write_label_value(f, value);
}

static void write_sample(FILE *f, const struct row *r, const char *ns, const struct sample *s) {
	bool first = true;

	fputs(r->name, f);
	if (ns)
		write_label(f, &first, "namespace", ns);
	if (r->label)
		write_label(f, &first, r->label, r->label_value);
	for (size_t k = 0; k < s->n_labels; k++)
		write_label(f, &first, s->label[k], s->value[k]);
	if (!first)
		fputc('}', f);
	fprintf(f, " %" PRIu64 "\n", s->v);
}

/* The samples of rows[from..to) (one family); written to f unless f is
 * NULL; returns how many. */
static size_t family(FILE *f, size_t from, size_t to, const struct host_facts *h, const struct metrics_ns *ns,
		     size_t n_ns) {
	size_t count = 0;
	bool per_ns = rows[from].ns != NULL;

	for (size_t k = 0; k < (per_ns ? n_ns : 1); k++)
		for (size_t ri = from; ri < to; ri++) {
			const struct row *r = &rows[ri];

			for (size_t i = 0;; i++) {
				struct sample s = { 0 };
				int st = per_ns ? r->ns(r, &ns[k], i, &s) : r->host(r, h, i, &s);

				if (st == SAMPLE_END)
					break;
				if (st == SAMPLE_SKIP)
					continue;
				count++;
				if (f)
					write_sample(f, r, per_ns ? ns[k].f->n.ns : NULL, &s);
			}
		}
	return count;
}

int metrics_render(FILE *f, const struct host_facts *h, const struct metrics_ns *ns, size_t n_ns) {
	for (size_t from = 0, to; from < ELEMENTSOF(rows); from = to) {
		for (to = from + 1; to < ELEMENTSOF(rows) && streq(rows[to].name, rows[from].name); to++)
			;
		/* A family without samples is not written at all: node
		 * exporter takes a HELP line alone for a metric. */
		if (family(NULL, from, to, h, ns, n_ns) == 0)
			continue;
		fprintf(f, "# HELP %s ", rows[from].name);
		write_help(f, rows[from].help);
		fprintf(f, "\n# TYPE %s %s\n", rows[from].name, rows[from].type == COUNTER ? "counter" : "gauge");
		family(f, from, to, h, ns, n_ns);
	}
	return fflush(f) != 0 || ferror(f) ? -EIO : 0;
}

size_t metrics_rows(void) { return ELEMENTSOF(rows); }

struct metrics_row_info metrics_row(size_t i) {
	return (struct metrics_row_info){
		.name = rows[i].name,
		.type = rows[i].type == COUNTER ? "counter" : "gauge",
		.help = rows[i].help,
		.per_namespace = rows[i].ns != NULL,
	};
}
