/* SPDX-License-Identifier: MIT */
/* vpn-confinement status [N] [--json | --format=...] and check N: the facts
 * (status.h), judged by the checks (checks.h), shown as text, JSON or
 * Prometheus metrics (metrics.h); check prints only the findings and exits
 * 1 when there is a problem. No key material is printed. */
#include <stdio.h>
#include <net/if.h>
#include <sys/socket.h>

#include "checks.h"
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "rundir.h"
#include "status.h"
#include "text.h"
#include "util.h"
#include "wgconf.h"

static void json_str(FILE *f, const char *s) {
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void json_strv(FILE *f, char *const *v, size_t n) {
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		json_str(f, v[i]);
	}
	fputc(']', f);
}

static const char *route_dst(const struct status_route *r, char buf[static IPNET_STRLEN]) {
	if (r->route.dst.prefix == 0)
		return r->route.dst.addr.family == AF_INET ? "default" : "default (IPv6)";
	return ipnet_str(&r->route.dst, buf);
}

static const char *bool_str(bool b) { return b ? "true" : "false"; }

/* A time as "T" and its age, or null. */
static void json_time(FILE *f, const char *key, uint64_t t, uint64_t now) {
	fprintf(f, ",\"%s\":", key);
	if (!t)
		fputs("null", f);
	else
		fprintf(f, "{\"time\":%llu,\"age\":%llu}", (unsigned long long)t,
			(unsigned long long)(now > t ? now - t : 0));
}

/* "health": what the tunnel's supervisor keeps in $RUNDIR/N/health. */
static void print_health_json(FILE *f, const struct ns_facts *s) {
	const struct health_record *h = &s->health;

	fputs(",\"health\":", f);
	if (!s->health_recorded || s->health_error < 0) {
		fputs("null", f);
		return;
	}
	fputs("{\"state\":", f);
	json_str(f, health_state_str(h->state));
	json_time(f, "since", h->since, s->now);
	fprintf(f, ",\"active_config\":{\"index\":%u,\"number\":%u,\"of\":%u,\"path\":", h->config, h->config + 1,
		h->n_configs);
	json_str(f, h->config_path);
	fprintf(f, ",\"in_ini\":%s}", bool_str(!s->active_config_unknown));
	fprintf(f, ",\"timeout\":%llu", (unsigned long long)h->timeout);
	json_time(f, "started", h->started, s->now);
	json_time(f, "first_handshake", h->first_handshake, s->now);
	json_time(f, "last_handshake", h->last_handshake, s->now);
	json_time(f, "last_sign_of_life", h->last_sign, s->now);
	fprintf(f, ",\"recoveries\":%llu,\"failovers\":%llu,\"failbacks\":%llu,\"failed_in_a_row\":%u",
		(unsigned long long)h->recoveries, (unsigned long long)h->failovers, (unsigned long long)h->failbacks,
		h->failed);
	fputs(",\"last_recovery\":", f);
	if (!h->last_recovery)
		fputs("null", f);
	else {
		fprintf(f, "{\"time\":%llu,\"age\":%llu,\"action\":", (unsigned long long)h->last_recovery,
			(unsigned long long)(s->now > h->last_recovery ? s->now - h->last_recovery : 0));
		json_str(f, health_action_str(h->last_action));
		fputs(",\"reason\":", f);
		json_str(f, health_reason_str(h->last_reason));
		fputc('}', f);
	}
	fputs(",\"last_switch\":", f);
	if (!h->last_switch)
		fputs("null", f);
	else
		fprintf(f, "{\"time\":%llu,\"age\":%llu,\"from_index\":%u,\"to_index\":%u}",
			(unsigned long long)h->last_switch,
			(unsigned long long)(s->now > h->last_switch ? s->now - h->last_switch : 0), h->switch_from, h->config);
	fputs(",\"last_failback_trial\":", f);
	if (!h->last_trial)
		fputs("null", f);
	else
		fprintf(f, "{\"time\":%llu,\"answered\":%s}", (unsigned long long)h->last_trial,
			bool_str(h->trial_answered));
	fputc('}', f);
}

/* "port_forwarding": {...}, PortForwarding=natpmp only. */
static void print_pf_json(FILE *f, const struct ns_facts *s) {
	char buf[IPNET_STRLEN], why[256];
	const struct portfwd_record *p = &s->pf;

	if (!s->cfg || !s->cfg->pf.enabled) {
		fputs(",\"port_forwarding\":{\"enabled\":false}", f);
		return;
	}
	fprintf(f, ",\"port_forwarding\":{\"enabled\":true,\"running\":%s", bool_str(s->pf_running));
	if (!s->pf_running) {
		fputc('}', f);
		return;
	}
	if (p->gateway.family) {
		fputs(",\"gateway\":", f);
		json_str(f, ipaddr_str(&p->gateway, buf));
	}
	fprintf(f, ",\"gateway_kind\":\"%s\"", portmap_kind_str(p->kind));
	if (p->port) {
		fprintf(f, ",\"forwarded_port\":%u,\"tcp_port\":%u,\"udp_port\":%u", p->port, p->tcp, p->udp);
		if (s->now >= p->since)
			fprintf(f, ",\"age\":%llu", (unsigned long long)(s->now - p->since));
		if (s->now >= p->renewed)
			fprintf(f, ",\"renewed_ago\":%llu", (unsigned long long)(s->now - p->renewed));
		fprintf(f, ",\"lifetime\":%u", p->lifetime);
	} else
		fputs(",\"forwarded_port\":null", f);
	if (p->error) {
		fputs(",\"error\":", f);
		json_str(f, portmap_error_str(p->error, why, sizeof(why)));
		if (s->now >= p->error_since)
			fprintf(f, ",\"failing_for\":%llu", (unsigned long long)(s->now - p->error_since));
	}
	fprintf(f, ",\"hook\":{\"state\":\"%s\"", hook_state_str(p->hook));
	if (p->hook_port)
		fprintf(f, ",\"port\":%u,\"exit_status\":%d", p->hook_port, p->hook_status);
	fputs("}}", f);
}

static void print_pf_text(FILE *f, const struct ns_facts *s) {
	char buf[IPNET_STRLEN] = "?", why[256];
	const struct portfwd_record *p = &s->pf;

	if (!s->cfg || !s->cfg->pf.enabled)
		return;
	if (!s->pf_running) {
		fprintf(f, "  forwarded:  none (port-forward is not running)\n");
		return;
	}
	if (p->gateway.family)
		ipaddr_str(&p->gateway, buf);
	if (p->port) {
		fprintf(f, "  forwarded:  port %u", p->port);
		if (p->tcp != p->udp)
			fprintf(f, " (%u/tcp, %u/udp)", p->tcp, p->udp);
		fprintf(f, " by %s, for %llu s, renewed %llu s ago (lifetime %u s)\n", buf,
			(unsigned long long)(s->now >= p->since ? s->now - p->since : 0),
			(unsigned long long)(s->now >= p->renewed ? s->now - p->renewed : 0), p->lifetime);
	} else
		fprintf(f, "  forwarded:  none yet, asking %s\n", buf);
	if (p->error)
		fprintf(f, "              %s\n", portmap_error_str(p->error, why, sizeof(why)));
	if (p->hook != HOOK_NONE) {
		fprintf(f, "  hook:       %s", hook_state_str(p->hook));
		if (p->hook_port)
			fprintf(f, " (last run: port %u, exit status %d)", p->hook_port, p->hook_status);
		fputc('\n', f);
	}
}

static void print_json(FILE *f, const struct ns_facts *s, const struct findings *fi) {
	char buf[IPNET_STRLEN];

	fputs("{\"name\":", f);
	json_str(f, s->n.ns);
	fputs(",\"config\":{\"file\":", f);
	json_str(f, s->config_path);
	fprintf(f, ",\"present\":%s,\"valid\":%s,\"units\":", bool_str(s->config_present), bool_str(s->cfg));
	fputc('[', f);
	for (size_t i = 0; s->cfg && i < s->cfg->n_units; i++) {
		if (i)
			fputc(',', f);
		json_str(f, s->cfg->units[i].name);
	}
	fputc(']', f);
	fputs(",\"wireguard_configs\":[", f);
	for (size_t i = 0; s->cfg && i < s->cfg->n_wg_configs; i++) {
		if (i)
			fputc(',', f);
		json_str(f, s->cfg->wg_configs[i].path);
	}
	fputs("],\"allowed_egress\":[", f);
	for (size_t i = 0; s->cfg && i < s->cfg->n_egress; i++) {
		char e[EGRESS_STRLEN];

		if (i)
			fputc(',', f);
		json_str(f, egress_rule_str(&s->cfg->egress[i], e));
	}
	fputc(']', f);
	fputs("},\"netns\":{\"path\":", f);
	json_str(f, s->n.netns_path);
	fprintf(f, ",\"exists\":%s,\"managed\":%s},\"links\":[", bool_str(s->netns_exists), bool_str(s->managed));
	for (size_t i = 0; i < s->n_links; i++) {
		const struct status_link *l = &s->links[i];
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		json_str(f, l->link.name);
		fputs(",\"where\":", f);
		json_str(f, l->where);
		fputs(",\"kind\":", f);
		json_str(f, l->link.kind);
		fprintf(f, ",\"up\":%s,\"mtu\":%u,\"addresses\":[", bool_str(l->link.flags & IFF_UP), l->link.mtu);
		for (size_t a = 0; a < l->n_addrs; a++) {
			if (a)
				fputc(',', f);
			json_str(f, ipnet_str(&l->addrs[a], buf));
		}
		fputs("]}", f);
	}
	fputs("],\"host_sysctls\":[", f);
	for (size_t i = 0; i < s->n_claims; i++) {
		char key[128];
		if (hostfwd_claim_key(&s->claims[i], key, sizeof(key)) < 0)
			continue;
		fputs(i ? ",{\"key\":" : "{\"key\":", f);
		json_str(f, key);
		fprintf(f, ",\"original\":\"%d\"}", s->claims[i].original);
	}
	fputs("],\"routes\":[", f);
	for (size_t i = 0; i < s->n_routes; i++) {
		const struct status_route *r = &s->routes[i];
		fputs(i ? ",{\"dst\":" : "{\"dst\":", f);
		json_str(f, route_dst(r, buf));
		if (r->route.has_gateway) {
			fputs(",\"via\":", f);
			json_str(f, ipaddr_str(&r->route.gateway, buf));
		}
		fputs(",\"dev\":", f);
		json_str(f, r->dev);
		fputc('}', f);
	}
	fprintf(f, "],\"rulesets\":{\"namespace\":{\"expected\":\"%s\",\"state\":\"%s\"},\"host\":{\"state\":\"%s\"}}",
		s->ns_rs_expected ? s->ns_rs_expected : "base", rs_state_str(s->ns_rs), rs_state_str(s->host_rs));
	fprintf(f, ",\"tunnel\":{\"up\":%s", bool_str(s->tunnel_recorded));
	if (s->tunnel_recorded) {
		fputs(",\"interface\":", f);
		json_str(f, s->n.wg);
		fprintf(f, ",\"present\":%s", bool_str(s->tunnel_link));
		if (s->rec.implementation) {
			fputs(",\"implementation\":", f);
			json_str(f, s->rec.implementation);
		}
		if (s->rec.has_socket) {
			fputs(",\"socket\":", f);
			json_str(f, s->rec.tmpname);
			fprintf(f, ",\"pid\":%d,\"running\":%s", (int)s->rec.pid, bool_str(s->wgo_running));
		}
		if (s->dump_ok) {
			fputs(",\"public_key\":", f);
			json_str(f, s->dump.public_key);
			fprintf(f, ",\"listen_port\":%u", s->dump.listen_port);
		}
		fputs(",\"peers\":[", f);
		for (size_t i = 0; i < s->dump.n_peers; i++) {
			const struct wg_dump_peer *p = &s->dump.peers[i];
			fputs(i ? ",{\"public_key\":" : "{\"public_key\":", f);
			json_str(f, p->public_key);
			fputs(",\"endpoint\":", f);
			json_str(f, p->endpoint);
			fputs(",\"allowed_ips\":", f);
			json_str(f, p->allowed_ips);
			fprintf(f, ",\"latest_handshake\":%llu", (unsigned long long)p->latest_handshake);
			if (p->latest_handshake && s->now >= p->latest_handshake)
				fprintf(f, ",\"handshake_age\":%llu", (unsigned long long)(s->now - p->latest_handshake));
			fprintf(f, ",\"rx_bytes\":%llu,\"tx_bytes\":%llu,\"persistent_keepalive\":%llu}",
				(unsigned long long)p->rx, (unsigned long long)p->tx, (unsigned long long)p->keepalive);
		}
		fputc(']', f);
	}
	fputs("},\"dns\":{\"servers\":[", f);
	for (size_t i = 0; s->tunnel_recorded && s->wg && i < s->wg->n_dns; i++) {
		if (i)
			fputc(',', f);
		json_str(f, ipaddr_str(&s->wg->dns[i], buf));
	}
	fprintf(f, "],\"resolv_conf_ok\":%s}", bool_str(s->resolv_ok));
	print_health_json(f, s);
	print_pf_json(f, s);
	fputs(",\"problems\":", f);
	json_strv(f, fi->problems, fi->n_problems);
	fputs(",\"warnings\":", f);
	json_strv(f, fi->warnings, fi->n_warnings);
	fputc('}', f);
}

/* "N s ago", or "never". */
static const char *ago(uint64_t t, uint64_t now, char buf[static 32]) {
	if (!t)
		return "never";
	snprintf(buf, 32, "%llu s ago", (unsigned long long)(now > t ? now - t : 0));
	return buf;
}

static void print_health_text(FILE *f, const struct ns_facts *s) {
	const struct health_record *h = &s->health;
	char a[32], b[32];

	if (!s->health_recorded)
		return;
	if (s->health_error < 0) {
		fprintf(f, "  health:     (record unreadable: %s)\n", strerror(-s->health_error));
		return;
	}
	fprintf(f, "  health:     %s for %llu s, config %u of %u (%s)%s\n", health_state_str(h->state),
		(unsigned long long)(s->now > h->since ? s->now - h->since : 0), h->config + 1, h->n_configs,
		h->config_path, s->active_config_unknown ? " NOT IN THE INI" : "");
	fprintf(f, "              last sign of life %s, last handshake %s, HealthCheckTimeout %llus\n",
		ago(h->last_sign, s->now, a), ago(h->last_handshake, s->now, b), (unsigned long long)h->timeout);
	fprintf(f, "  recoveries: %llu (failovers %llu, failbacks %llu, failed in a row %u)", (unsigned long long)h->recoveries,
		(unsigned long long)h->failovers, (unsigned long long)h->failbacks, h->failed);
	if (h->last_recovery)
		fprintf(f, "; last: %s, %s (%s)", health_action_str(h->last_action), ago(h->last_recovery, s->now, a),
			health_reason_str(h->last_reason));
	fputc('\n', f);
	if (h->last_switch)
		fprintf(f, "  switched:   from config %u to config %u, %s\n", h->switch_from + 1, h->config + 1,
			ago(h->last_switch, s->now, a));
	if (h->last_trial)
		fprintf(f, "  failback:   trial of config 1 %s: %s\n", ago(h->last_trial, s->now, a),
			h->trial_answered ? "answered" : "no answer");
}

static void print_text(FILE *f, const struct ns_facts *s, const struct findings *fi) {
	char buf[IPNET_STRLEN];

	fprintf(f, "%s: %s\n", s->n.ns,
		!s->netns_exists ? "down" : fi->n_problems ? "up, with problems" : "up, as it should be");
	fprintf(f, "  config:     %s (%s)\n", s->config_path,
		!s->config_present ? "missing" : s->cfg ? "valid" : "INVALID");
	fprintf(f, "  namespace:  %s (%s%s)\n", s->n.netns_path, s->netns_exists ? "exists" : "missing",
		s->netns_exists && !s->managed ? ", not managed" : "");
	for (size_t i = 0; s->cfg && i < s->cfg->n_egress; i++) {
		char e[EGRESS_STRLEN];

		fprintf(f, "  egress:     %s (AllowedEgress=, via %s, not the tunnel)\n",
			egress_rule_str(&s->cfg->egress[i], e), s->n.veth_ns);
	}
	for (size_t i = 0; i < s->n_links; i++) {
		const struct status_link *l = &s->links[i];
		fprintf(f, "  link:       %-10s %-9s %-4s mtu %u%s%s", l->link.name, l->where,
			l->link.flags & IFF_UP ? "up" : "DOWN", l->link.mtu, l->link.kind[0] ? " " : "", l->link.kind);
		for (size_t a = 0; a < l->n_addrs; a++)
			fprintf(f, " %s", ipnet_str(&l->addrs[a], buf));
		fputc('\n', f);
	}
	for (size_t i = 0; i < s->n_routes; i++) {
		const struct status_route *r = &s->routes[i];
		char via[IPNET_STRLEN] = "";

		if (r->route.has_gateway)
			ipaddr_str(&r->route.gateway, via);
		fprintf(f, "  route:      %s%s%s dev %s\n", route_dst(r, buf), via[0] ? " via " : "", via, r->dev);
	}
	if (s->netns_exists) {
		for (size_t i = 0; i < s->n_claims; i++) {
			char key[128];
			if (hostfwd_claim_key(&s->claims[i], key, sizeof(key)) == 0)
				fprintf(f, "  host:       %s changed (was %d; restored by netns-down)\n", key,
					s->claims[i].original);
		}
		fprintf(f, "  ruleset:    namespace %s (%s form expected), host %s\n", rs_state_str(s->ns_rs),
			s->ns_rs_expected, rs_state_str(s->host_rs));
	}
	if (s->tunnel_recorded) {
		size_t n_dns = s->wg ? s->wg->n_dns : 0;

		fprintf(f, "  tunnel:     %s %s, %s", s->n.wg, s->tunnel_link ? "present" : "MISSING",
			s->rec.implementation ? s->rec.implementation : "?");
		if (s->rec.has_socket)
			fprintf(f, " (wireguard-go pid %d %s, socket " WG_SOCKET_DIR "/%s.sock)", (int)s->rec.pid,
				s->wgo_running ? "running" : "NOT RUNNING", s->rec.tmpname);
		fputc('\n', f);
		if (s->dump_ok)
			fprintf(f, "  public key: %s, listening port %u\n", s->dump.public_key, s->dump.listen_port);
		for (size_t i = 0; i < s->dump.n_peers; i++) {
			const struct wg_dump_peer *p = &s->dump.peers[i];
			fprintf(f, "  peer:       %s endpoint %s allowed %s\n", p->public_key,
				p->endpoint[0] ? p->endpoint : "(none)", p->allowed_ips);
			if (p->latest_handshake && s->now >= p->latest_handshake)
				fprintf(f, "              handshake %llu s ago",
					(unsigned long long)(s->now - p->latest_handshake));
			else
				fprintf(f, "              no handshake yet");
			fprintf(f, ", received %llu B, sent %llu B\n", (unsigned long long)p->rx, (unsigned long long)p->tx);
		}
		fprintf(f, "  dns:       ");
		for (size_t i = 0; i < n_dns; i++)
			fprintf(f, " %s", ipaddr_str(&s->wg->dns[i], buf));
		fprintf(f, "%s (resolv.conf %s)\n", n_dns ? "" : " (none)", s->resolv_ok ? "ok" : "WRONG");
	} else
		fprintf(f, "  tunnel:     down\n");
	print_health_text(f, s);
	print_pf_text(f, s);
	if (s->cfg && s->cfg->n_units) {
		fprintf(f, "  units:     ");
		for (size_t i = 0; i < s->cfg->n_units; i++)
			fprintf(f, " %s", s->cfg->units[i].name);
		fputc('\n', f);
	}
	for (size_t i = 0; i < fi->n_problems; i++)
		fprintf(f, "  problem:    %s\n", fi->problems[i]);
	for (size_t i = 0; i < fi->n_warnings; i++)
		fprintf(f, "  warning:    %s\n", fi->warnings[i]);
}

/* Gather and judge one namespace. */
static int assess(const struct ns_names *n, const struct check_options *o, struct ns_facts *f,
		  struct findings *fi) {
	int r = status_gather(f, n);

	if (r < 0)
		return log_errno(r, "%s: gathering its state", n->ns);
	r = checks_run(f, o, fi);
	return r < 0 ? log_errno(r, "%s: checking it", n->ns) : 0;
}

/* Namespace names known from the config dir and the run dir, sorted, unique. */
static int known_names(char ***out, size_t *n) {
	_cleanup_closedir_ DIR *d = opendir(confdir());
	char **names = NULL;
	size_t count = 0;
	struct dirent *de;
	int r;

	r = rundir_list(&names, &count);
	if (r < 0)
		return r;
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char name[NS_NAME_MAX + 1];
		bool dup = false;
		char *copy;

		if (len < 5 || len - 4 > NS_NAME_MAX || !streq(de->d_name + len - 4, ".ini"))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - 4), de->d_name);
		if (!ns_name_valid(name))
			continue;
		for (size_t i = 0; i < count; i++)
			dup |= streq(names[i], name);
		if (dup)
			continue;
		copy = strdup(name);
		if (!copy || ARRAY_APPEND(names, count, copy) < 0) {
			free(copy);
			strv_free(names, count);
			return -ENOMEM;
		}
	}
	for (size_t i = 1; i < count; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	*out = names;
	*n = count;
	return 0;
}

/* status --format=prometheus: every namespace gathered and judged, then
 * the metrics of all, to standard output or (output) into a file replaced
 * atomically, written only when every namespace could be gathered: a file
 * that stops changing is what node exporter's node_textfile_mtime_seconds
 * shows, a file with a namespace missing would not be seen. */
static int status_prometheus(char **names, size_t n_names, const struct check_options *o, const char *output) {
	_cleanup_(text_release) struct text t = { 0 };
	_cleanup_free_ struct ns_facts *facts = calloc(n_names ? n_names : 1, sizeof(*facts));
	_cleanup_free_ struct findings *fis = calloc(n_names ? n_names : 1, sizeof(*fis));
	_cleanup_free_ struct metrics_ns *ms = calloc(n_names ? n_names : 1, sizeof(*ms));
	_cleanup_(status_host_clear) struct host_facts h = { 0 };
	int rc = EXIT_OK, r;

	if (!facts || !fis || !ms || text_open(&t, false) < 0) {
		log_errno(-ENOMEM, "metrics");
		return EXIT_FAIL;
	}
	if ((r = status_gather_host(&h)) < 0) {
		log_errno(r, "gathering the host's state");
		rc = EXIT_FAIL;
	}
	for (size_t i = 0; i < n_names; i++) {
		struct ns_names n;

		ms[i] = (struct metrics_ns){ &facts[i], &fis[i] };
		if (ns_names_init(&n, names[i]) < 0 || assess(&n, o, &facts[i], &fis[i]) < 0)
			rc = EXIT_FAIL;
	}
	if (rc == EXIT_OK && (metrics_render(t.f, &h, ms, n_names) < 0 || text_finish(&t) < 0)) {
		log_errno(-ENOMEM, "metrics");
		rc = EXIT_FAIL;
	}
	for (size_t i = 0; i < n_names; i++) {
		findings_clear(&fis[i]);
		status_clear(&facts[i]);
	}
	if (rc != EXIT_OK) {
		if (output)
			log_msg("%s: not written", output);
		return rc;
	}
	if (output) {
		r = write_file_atomic(output, t.buf, t.len, 0644);
		if (r < 0) {
			log_errno(r, "writing %s", output);
			return EXIT_FAIL;
		}
		return EXIT_OK;
	}
	if (fwrite(t.buf, 1, t.len, stdout) != t.len || fflush(stdout) != 0)
		return EXIT_FAIL;
	return EXIT_OK;
}

/* --NAME=VALUE or --NAME VALUE (the next argument) at argv[*i]. */
static const char *option_value(int argc, char **argv, int *i, const char *name) {
	size_t len = strlen(name);

	if (strncmp(argv[*i], name, len) != 0)
		return NULL;
	if (argv[*i][len] == '=')
		return argv[*i] + len + 1;
	if (argv[*i][len] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

#define STATUS_USAGE "status [N] [--json | --format=text|json|prometheus] [--output=FILE]"

int cmd_status(int argc, char **argv) {
	const struct check_options o = { .max_handshake_age = DEFAULT_MAX_HANDSHAKE_AGE };
	char **names = NULL;
	size_t n_names = 0;
	const char *only = NULL, *format = NULL, *output = NULL, *v;
	bool json = false, prometheus = false;
	int rc = EXIT_OK;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--json"))
			json = true;
		else if ((v = option_value(argc, argv, &i, "--format"))) {
			if (format || !(streq(v, "text") || streq(v, "json") || streq(v, "prometheus"))) {
				log_msg("--format: text, json or prometheus, once, not '%s'", v);
				return EXIT_USAGE;
			}
			format = v;
		} else if ((v = option_value(argc, argv, &i, "--output"))) {
			if (output || !*v) {
				log_msg("--output: one file name");
				return EXIT_USAGE;
			}
			output = v;
		} else if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
			printf("Usage: vpn-confinement " STATUS_USAGE "\nSee vpn-confinement(8).\n");
			return EXIT_OK;
		} else if (argv[i][0] != '-' && !only)
			only = argv[i];
		else {
			cli_usage_error(STATUS_USAGE);
			return EXIT_USAGE;
		}
	}
	if (format && json && !streq(format, "json")) {
		log_msg("--json and --format=%s: one format", format);
		return EXIT_USAGE;
	}
	json |= format && streq(format, "json");
	prometheus = format && streq(format, "prometheus");
	if (output && !prometheus) {
		log_msg("--output: only with --format=prometheus");
		return EXIT_USAGE;
	}
	if (only) {
		struct ns_names tmp;
		if (cli_ns_name(only, &tmp) < 0)
			return EXIT_USAGE;
		names = calloc(1, sizeof(char *));
		if (!names || !(names[0] = strdup(only))) {
			free(names);
			return EXIT_FAIL;
		}
		n_names = 1;
	} else if (known_names(&names, &n_names) < 0)
		return EXIT_FAIL;
	if (prometheus) {
		rc = status_prometheus(names, n_names, &o, output);
		strv_free(names, n_names);
		return rc;
	}

	if (json)
		fputs("{\"namespaces\":[", stdout);
	for (size_t i = 0; i < n_names; i++) {
		struct ns_facts f = { 0 };
		struct findings fi = { 0 };
		struct ns_names n;

		if (ns_names_init(&n, names[i]) < 0 || assess(&n, &o, &f, &fi) < 0)
			rc = EXIT_FAIL;
		else if (json) {
			if (i)
				fputc(',', stdout);
			print_json(stdout, &f, &fi);
		} else {
			if (i)
				fputc('\n', stdout);
			print_text(stdout, &f, &fi);
		}
		findings_clear(&fi);
		status_clear(&f);
	}
	strv_free(names, n_names);
	if (json)
		fputs("]}\n", stdout);
	if (!json && n_names == 0)
		printf("no namespaces configured in %s and none running in %s\n", confdir(), rundir());
	if (fflush(stdout) != 0)
		rc = EXIT_FAIL;
	return rc;
}

#define CHECK_USAGE "check N [--max-handshake-age SECONDS]"

int cmd_check(int argc, char **argv) {
	struct check_options o = { .max_handshake_age = DEFAULT_MAX_HANDSHAKE_AGE };
	_cleanup_(status_clear) struct ns_facts f = { 0 };
	_cleanup_(findings_clear) struct findings fi = { 0 };
	struct ns_names n;
	const char *name = NULL;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--max-handshake-age") && i + 1 < argc) {
			if (parse_uint(argv[++i], 0, UINT32_MAX, &o.max_handshake_age) < 0) {
				log_msg("--max-handshake-age: not a number of seconds: %s", argv[i]);
				return EXIT_USAGE;
			}
		} else if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
			printf("Usage: vpn-confinement " CHECK_USAGE "\nSee vpn-confinement(8).\n");
			return EXIT_OK;
		} else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			cli_usage_error(CHECK_USAGE);
			return EXIT_USAGE;
		}
	}
	if (!name) {
		cli_usage_error(CHECK_USAGE);
		return EXIT_USAGE;
	}
	if (cli_ns_name(name, &n) < 0)
		return EXIT_USAGE;
	if (assess(&n, &o, &f, &fi) < 0)
		return EXIT_FAIL;
	for (size_t i = 0; i < fi.n_problems; i++)
		printf("%s: %s\n", n.ns, fi.problems[i]);
	for (size_t i = 0; i < fi.n_warnings; i++)
		printf("%s: warning: %s\n", n.ns, fi.warnings[i]);
	if (fi.n_problems == 0)
		printf("%s: ok\n", n.ns);
	return fi.n_problems ? EXIT_FAIL : EXIT_OK;
}
