/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: arbitrary bytes as a namespace ini file.
 *
 * Beyond "no crash, no leak, no UB", it checks the promises the renderers
 * rely on: a file reported valid has no errors, and every string that can
 * reach a unit file or ruleset (WireGuardConfigFile=, Unit=) holds only
 * characters that need no escaping there; and the fail-closed one: a
 * simple name on a line that starts "Unit=" (any case, with or without
 * ".service") is among the units, whatever else the file holds. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool path_safe(const char *p) {
	if (p[0] != '/')
		return false;
	for (; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("%'\"`\\", *p))
			return false;
	return true;
}

static bool unit_safe(const char *u) {
	if (!unit_name_valid(u) || u[0] == '-')
		return false;
	for (const char *p = u; *p; p++)
		if (*p == '\\' && p[1] != 'x')
			return false;
	return unit_is_service(u) || unit_is_socket(u);
}

static bool has_unit(const struct ns_config *c, const char *u) {
	for (size_t i = 0; i < c->n_units; i++)
		if (streq(c->units[i].name, u))
			return true;
	return false;
}

/* Line [l, end): when it is "Unit=NAME" with NAME [a-z]{1,20} and maybe
 * ".service" (blanks around the key and '=' allowed, the name ending at a
 * blank, a control character or the end), that name as a service must be
 * listed. */
static bool unit_line_kept(const struct ns_config *c, const char *l, const char *end) {
	char name[32];
	size_t n = 0;

	while (l < end && (*l == ' ' || *l == '\t'))
		l++;
	if (end - l < 4 || strncasecmp(l, "unit", 4) != 0)
		return true;
	l += 4;
	while (l < end && (*l == ' ' || *l == '\t'))
		l++;
	if (l == end || *l++ != '=')
		return true;
	while (l < end && (*l == ' ' || *l == '\t'))
		l++;
	while (l < end && (unsigned char)*l > ' ' && *l != 0x7f) {
		if (n >= 20 + strlen(".service"))
			return true;
		name[n++] = *l++;
	}
	name[n] = '\0';
	if (n > 8 && streq(name + n - 8, ".service"))
		n -= 8;
	if (n == 0 || n > 20 || strspn(name, "abcdefghijklmnopqrstuvwxyz") != n)
		return true;
	memcpy(name + n, ".service", sizeof(".service"));
	return has_unit(c, name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	struct diag d = { 0 };
	struct ns_config *c = NULL;
	int r;

	r = ns_config_parse("/etc/vpn-confinement/fz.ini", (const char *)data, size, &c, &d);
	if (r != 0 && r != -EINVAL)
		__builtin_trap(); /* only -ENOMEM is possible, and not here */
	if (!c)
		__builtin_trap(); /* the name is valid: a struct always comes back */
	if ((r == 0) != c->valid || (r == 0) != (d.n_errors == 0))
		__builtin_trap();
	for (size_t i = 0; i < c->n_wg_configs; i++)
		if (!path_safe(c->wg_configs[i].path))
			__builtin_trap();
	if (c->valid && c->n_wg_configs == 0)
		__builtin_trap();
	for (size_t i = 0; i < c->n_units; i++)
		if (!unit_safe(c->units[i].name))
			__builtin_trap();
	for (const char *l = (const char *)data, *end = l + size; l < end;) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		if (!unit_line_kept(c, l, nl ? nl : end))
			__builtin_trap();
		l = nl ? nl + 1 : end;
	}
	for (size_t i = 0; i < c->n_port_mappings; i++)
		if (!c->port_mappings[i].from || !c->port_mappings[i].to)
			__builtin_trap();
	for (size_t i = 0; i < d.n; i++) {
		char *m = diag_format(&d.entries[i]);
		if (!m || !strstr(m, "fz.ini"))
			__builtin_trap();
		free(m);
	}
	ns_config_free(c);
	diag_clear(&d);
	return 0;
}
