/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: arbitrary bytes as a namespace ini file.
 *
 * Beyond "no crash, no leak, no UB", it checks the promises the renderers
 * rely on: a file reported valid has no errors, and every string that can
 * reach a unit file or ruleset (WireGuardConfigFile=, Unit=) holds only
 * characters that need no escaping there. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
	return strlen(u) > 8 && streq(u + strlen(u) - 8, ".service");
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
	if (c->wg_config_file && !path_safe(c->wg_config_file))
		__builtin_trap();
	if (c->valid && !c->wg_config_file)
		__builtin_trap();
	for (size_t i = 0; i < c->n_units; i++)
		if (!unit_safe(c->units[i]))
			__builtin_trap();
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
