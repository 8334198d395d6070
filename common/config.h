/* SPDX-License-Identifier: MIT */
/* The namespace model: one /etc/vpn-confinement/N.ini file per namespace N,
 * parsed into typed values and validated. Both binaries render only from
 * these typed values, never from input text. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "diag.h"

#define NS_NAME_MAX 7 /* "N-br" and "veth-N-br" must fit IFNAMSIZ (16 with NUL) */
#define INI_FILE_MAX (64 * 1024)

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

struct ns_config {
	char name[NS_NAME_MAX + 1];
	char *source_path; /* the .ini it came from */

	char *wg_config_file; /* absolute path */
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

	struct ipnet *accessible_from;
	size_t n_accessible_from;
	struct port_mapping *port_mappings;
	size_t n_port_mappings;
	struct open_port *open_ports;
	size_t n_open_ports;
	enum wg_impl wg_impl;

	/* The units confined to the namespace: validated .service and .socket
	 * names, in file order, each followed by the units that go with it
	 * (unit_companions()). unit_via[i] is NULL for a unit the file lists,
	 * else the listed unit it goes with. In a file with errors, also every
	 * unit-like name found anywhere in its text (see ns_config_parse()). */
	char **units;
	unsigned *unit_lines; /* the line each unit was given (or found) on */
	char **unit_via;
	size_t n_units;
	bool hardening; /* default true */

	/* False when the file had any error. Units that could be read are still
	 * listed, so the generator can confine (and so fail-close) them; a unit
	 * that an earlier namespace (by name) already confines is dropped from
	 * a later one's list by the checks across files. */
	bool valid;
};

struct ns_config_set {
	struct ns_config **items; /* sorted by name */
	size_t n;
	/* Files named *.ini whose name is no namespace name (e.g. "Tr.ini"):
	 * read as far as possible (name "", valid false, the units that could
	 * be read), so the generator can keep those units from starting. Not
	 * namespaces: not in items, not in the checks across files. Sorted by
	 * file name. */
	struct ns_config **unnamed;
	size_t n_unnamed;
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
 * check across files (overlapping subnets, host ports mapped twice). Files
 * whose name is no namespace name go to out->unnamed (and their errors to
 * d). A missing dir is an empty set, not an error. Returns 0 when every file was
 * valid, -EINVAL when any had errors (the set still holds what was read), or
 * another negative errno when the directory could not be read. */
int ns_config_load_dir(const char *dir, struct ns_config_set *out, struct diag *d);

/* Load the one namespace named name from dir (dir/name.ini), with the same
 * cross-file checks as ns_config_load_dir. */
int ns_config_load_one(const char *dir, const char *name, struct ns_config **out, struct diag *d);

/* Drop unit i from c's list (with its line number). */
void ns_config_remove_unit(struct ns_config *c, size_t i);

void ns_config_free(struct ns_config *c);
void ns_config_set_clear(struct ns_config_set *s);
DEFINE_PTR_CLEANUP(struct ns_config, ns_config_free)

const char *proto_str(enum proto p);         /* "tcp", "udp", "both" */
const char *wg_impl_str(enum wg_impl impl);  /* "auto", "kernel", "userspace" */
