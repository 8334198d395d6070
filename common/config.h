/* SPDX-License-Identifier: MIT */
/* The namespace model: one /etc/vpn-confinement/N.ini file per namespace N,
 * parsed into typed values and validated. Both binaries render only from
 * these typed values, never from input text. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "cmdline.h"
#include "diag.h"

#define NS_NAME_MAX 7 /* "N-br" and "veth-N-br" must fit IFNAMSIZ (16 with NUL) */
#define INI_FILE_MAX (64 * 1024)
#define UNIT_NAME_MAX 256 /* systemd's limit, including the NUL */

enum proto {
	PROTO_TCP = 1 << 0,
	PROTO_UDP = 1 << 1,
	PROTO_BOTH = PROTO_TCP | PROTO_UDP,
};

enum wg_impl {
	WG_IMPL_AUTO,
	WG_IMPL_KERNEL,
	WG_IMPL_USERSPACE,
};

struct port_mapping {
	uint16_t from; /* port on the host */
	uint16_t to;   /* port inside the namespace */
	enum proto proto;
	unsigned line; /* where it was given, for messages */
};

struct open_port {
	uint16_t port;
	enum proto proto;
	unsigned line;
};

/* A value and the line it was given on (0: a default, or not from a line),
 * for messages that point at the line. */
struct config_path {
	char *path;
	unsigned line;
};

struct ns_range {
	struct ipnet net;
	unsigned line;
};

/* AllowedEgress=: a destination the namespace may open connections to
 * through the bridge, outside the tunnel (vpn-confinement.ini(5)). */
struct egress_rule {
	struct ipnet net; /* the destination: a network (host bits zero) */
	uint16_t port;    /* 0: every port and protocol (DNS excepted) */
	enum proto proto; /* with a port: PROTO_TCP, PROTO_UDP or PROTO_BOTH */
	unsigned line;
};
/* Longest text form of an egress rule: "[addr/128]:65535:both" and NUL. */
#define EGRESS_STRLEN (IPNET_STRLEN + 2 + 11)
/* Provider port forwarding (PortForwarding=, PortForwardingGateway=,
 * PortForwardingHook=): vpn-confinement port-forward N asks the gateway
 * for a mapping over NAT-PMP, opens the port on N0 and tells the client. */
struct port_forwarding {
	bool enabled; /* PortForwarding=natpmp */
	unsigned line;
	/* The NAT-PMP gateway; family 0: the tunnel's (its first IPv4 DNS
	 * server, ProtonVPN's 10.2.0.1). */
	struct ipaddr gateway;
	unsigned gateway_line;
	struct cmdline hook; /* argc 0: none */
	unsigned hook_line;
};

/* A unit confined to the namespace: a validated .service or .socket name. */
struct confined_unit {
	char *name;
	/* NULL for a unit the file names; else the named unit it goes with
	 * (its socket, or the service a named socket starts: unit_companions()) */
	char *via;
	unsigned line; /* where it was given (or, in a file with errors, found) */
};

/* The tunnel's health checks ([Namespace], vpn-confinement.ini(5), section
 * HEALTH): when its supervisor (wg-up --foreground) recovers a tunnel that
 * shows no sign of life, and when it moves to another WireGuardConfigFile=
 * and back. Each line 0 when the default is in effect. */
#define HEALTH_TIMEOUT_DEFAULT_SEC 60
#define HEALTH_TIMEOUT_MIN_SEC 10
#define HEALTH_FAILOVER_AFTER_DEFAULT 2
#define HEALTH_FAILOVER_AFTER_MAX 100
#define HEALTH_FAILBACK_DEFAULT_SEC 300
#define HEALTH_FAILBACK_MIN_SEC 10
struct ns_health {
	/* HealthCheckTimeout=: how long without a sign of life from the peer
	 * (with something sent that should have been answered) before a
	 * recovery, in microseconds, at least 10 s; TIMESPAN_INFINITY: never
	 * recover (the state is still watched and shown). */
	uint64_t timeout_usec;
	unsigned timeout_line;
	/* FailoverAfter=: failed recoveries on a config before the next one. */
	unsigned failover_after;
	unsigned failover_line;
	/* FailbackAfter=: time on a later config before trying the first
	 * again, at least 10 s; TIMESPAN_INFINITY: never. */
	uint64_t failback_usec;
	unsigned failback_line;
	/* HealthCheckAddress=: what the supervisor pings through the tunnel
	 * when it needs a sign of life (else the active config's first DNS
	 * server, queried). */
	bool has_address;
	struct ipaddr address;
	unsigned address_line;
};

struct ns_config {
	char name[NS_NAME_MAX + 1];
	char *source_path; /* the .ini it came from */

	/* WireGuardConfigFile=, absolute paths, in order of preference: the
	 * first is the tunnel's, the others are where it fails over to. At
	 * least one in a valid config. */
	struct config_path *wg_configs;
	size_t n_wg_configs;
	/* IPv4 pair, always set in a valid config (defaults 192.168.15.1 /
	 * 192.168.15.5, /24). In an invalid one whose addresses did not parse
	 * both are zero (family 0): never render from an invalid config. */
	struct ipnet ns_addr;
	struct ipnet bridge_addr;
	/* IPv6 pair, optional (has_ipv6 tells), /64 unless a prefix is given. */
	bool has_ipv6;
	struct ipnet ns_addr6;
	struct ipnet bridge_addr6;
	/* Lines of NamespaceAddress= / NamespaceAddressIPv6= (0: default or
	 * not given), for cross-file messages. */
	unsigned ns_addr_line, ns_addr6_line;

	struct ns_range *accessible_from;
	size_t n_accessible_from;
	struct port_mapping *port_mappings;
	size_t n_port_mappings;
	struct open_port *open_ports;
	size_t n_open_ports;
	/* AllowedEgress=, in file order; none overlaps another of its kind
	 * (all ports, or the same port and protocol), IPv6 only with the
	 * IPv6 pair, none contains NamespaceAddress(IPv6). */
	struct egress_rule *egress;
	size_t n_egress;
	enum wg_impl wg_impl;
	struct ns_health health;

	/* In file order, each named unit followed by the units that go with
	 * it; in a file with errors, also every unit-like name found anywhere
	 * in its text (see ns_config_parse()). */
	struct confined_unit *units;
	size_t n_units;
	bool hardening; /* default true */

	struct port_forwarding pf;

	/* False when the file had any error. Units that could be read are still
	 * listed, so the generator can confine (and so fail-close) them; a unit
	 * that an earlier namespace (by name) already confines is dropped from
	 * a later one's list by the checks across files. */
	bool valid;
};

/* One *.ini file of the configuration directory, as it was read. */
enum config_state {
	CONFIG_VALID,      /* config parsed, no error */
	CONFIG_INVALID,    /* config holds what could be read; errors say why */
	CONFIG_UNREADABLE, /* config is NULL: its units cannot be known */
};
struct config_file {
	char *path;
	/* The namespace name its file name gives, "" when it gives none
	 * ("Tr.ini"): then it is no namespace, whatever it holds, and the
	 * units it lists are only to be kept from starting. */
	char name[NS_NAME_MAX + 1];
	enum config_state state;
	int read_error; /* CONFIG_UNREADABLE: why (a negative errno) */
	struct ns_config *config;
	char **errors; /* "file:line: message", this file's, in order */
	size_t n_errors;
};

struct ns_config_set {
	struct config_file *files; /* sorted by file name */
	size_t n_files;
	char **errors; /* about no one file: the directory could not be read */
	size_t n_errors;
};

/* Whether name is a valid namespace name: 1..7 of [a-z0-9], first a letter. */
bool ns_name_valid(const char *name);

/* Whether s is a unit name systemd accepts (unit_name_is_valid() rules:
 * length, allowed characters, a known suffix, template/instance form).
 * Unit= is stricter still: only .service and .socket, no leading '-', and a
 * backslash only in a "\xhh" escape; see config.c. */
bool unit_name_valid(const char *s);

/* Whether s (a valid unit name) ends in ".socket" (else it is taken for a
 * service: Unit= lists only these two types). */
bool unit_is_socket(const char *s);

/* Whether s ends in ".service". */
bool unit_is_service(const char *s);

/* Whether s is one of vpn-confinement's own units (netns@, wg-up@, vpn-ns@
 * and the generator's vpn-confinement-errors, any type), which cannot be
 * confined. */
bool unit_is_own(const char *s);

/* The units that go with u (a valid .service or .socket name) and are
 * confined with it: the sockets that start a service, and the services a
 * socket starts. foo.service: foo.socket; foo@.service: foo.socket (with
 * Accept=yes, it starts foo@.service instances) and foo@.socket;
 * foo@bar.service: foo@bar.socket; and the other way round, foo.socket:
 * foo.service and foo@.service; foo@.socket: foo@.service; foo@bar.socket:
 * foo@bar.service. Names that would be too long or ours are left out.
 * Sets out[0..*n) (the caller frees each); 0 or -ENOMEM. */
int unit_companions(const char *u, char *out[static 2], size_t *n);

/* Parse one ini file. The namespace name comes from the file name (N.ini).
 * On parse or validation errors, appends them to d, returns -EINVAL and still
 * sets *out (with valid = false) when the name could be derived, so the
 * generator can fail-close the units it lists. Other errors: negative errno
 * (the file could not be read), *out NULL. */
int ns_config_load_file(const char *path, struct ns_config **out, struct diag *d);

/* Parse from memory; path names the source in messages and gives the name.
 * When the text has any error, every unit-like name in it is added to the
 * units (fail-closed): in any section or none, in a rejected section, on a
 * line with a control character, after an over-long line; a token that is a
 * .service or .socket name anywhere outside comments, and every name on a
 * line whose key is "Unit" in any case (a name without a known suffix as
 * NAME.service). */
int ns_config_parse(const char *path, const char *text, size_t len, struct ns_config **out,
		    struct diag *d);

/* Load every *.ini in dir, sorted by name, keep going past bad files, then
 * check across the files named like namespaces (overlapping subnets, host
 * ports mapped twice, a unit confined twice). Each file's errors go to its
 * record and to d. A missing dir is an empty set, not an error. Returns 0
 * when every file was valid, -EINVAL when any was not (the set still holds
 * what was read), -ENOMEM. */
int ns_config_load_dir(const char *dir, struct ns_config_set *out, struct diag *d);

/* Load the one namespace named name from dir (dir/name.ini), with the same
 * checks across files as ns_config_load_dir (the same view as the
 * generator's), its messages in d. -ENOENT (or the errno why it cannot be
 * read) when there is no such readable file, -EINVAL when it is invalid
 * (*out then holds what could be read), 0. */
int ns_config_load_one(const char *dir, const char *name, struct ns_config **out, struct diag *d);

/* Whether the drop-in of dropin_unit applies to unit u too: the same unit,
 * or dropin_unit is the template ("foo@.service") of the instance u. */
bool unit_dropin_applies(const char *dropin_unit, const char *u);
/* Whether confining a and b in two namespaces would conflict: either's
 * drop-in applies to the other. */
bool units_conflict(const char *a, const char *b);

/* Drop unit i from c's list. */
void ns_config_remove_unit(struct ns_config *c, size_t i);

void ns_config_free(struct ns_config *c);
void ns_config_set_clear(struct ns_config_set *s);
DEFINE_PTR_CLEANUP(struct ns_config, ns_config_free)

const char *proto_str(enum proto p);         /* "tcp", "udp", "both" */
/* The ini form of an egress rule ("192.168.1.10:8096:tcp", "10.0.0.0/8",
 * "[fd00::10]:8096:tcp"); buf has EGRESS_STRLEN bytes. Returns buf. */
const char *egress_rule_str(const struct egress_rule *e, char *buf);

const char *wg_impl_str(enum wg_impl impl);  /* "auto", "kernel", "userspace" */
