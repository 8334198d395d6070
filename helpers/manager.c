/* SPDX-License-Identifier: MIT */
#include "manager.h"

#include <systemd/sd-bus.h>
#include <systemd/sd-login.h>
#include <unistd.h>

#include "util.h"

#define MANAGER "org.freedesktop.systemd1"

static int manager_connect(sd_bus **out) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	int r;

	if (geteuid() == 0 && access("/run/systemd/private", F_OK) == 0) {
		r = sd_bus_new(&bus);
		if (r >= 0)
			r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
		if (r >= 0)
			r = sd_bus_start(bus);
		if (r >= 0) {
			*out = TAKE_PTR(bus);
			return 0;
		}
		sd_bus_flush_close_unref(TAKE_PTR(bus));
	}
	r = sd_bus_open_system(&bus);
	if (r < 0)
		return -ENOTCONN;
	*out = TAKE_PTR(bus);
	return 0;
}

bool manager_reachable(void) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;

	return manager_connect(&bus) == 0;
}

void manager_unit_clear(struct manager_unit *u) {
	strv_free(u->triggered_by, u->n_triggered_by);
	*u = (struct manager_unit){ 0 };
}

static int get_string(sd_bus *bus, const char *path, const char *iface, const char *prop, char *buf, size_t size) {
	sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *v = NULL;
	int r = sd_bus_get_property_string(bus, MANAGER, path, iface, prop, &error, &v);

	sd_bus_error_free(&error);
	if (r < 0)
		return r;
	snprintf(buf, size, "%s", v);
	return 0;
}

static int get_u64(sd_bus *bus, const char *path, const char *iface, const char *prop, uint64_t *v) {
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r = sd_bus_get_property_trivial(bus, MANAGER, path, iface, prop, &error, 't', v);

	sd_bus_error_free(&error);
	return r;
}

int manager_unit_get(const char *unit, struct manager_unit *out) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	char load_state[32] = "", **triggers = NULL;
	const char *dot = strrchr(unit, '.');
	_cleanup_free_ char *path = NULL;
	const char *p;
	int r;

	*out = (struct manager_unit){ 0 };
	r = manager_connect(&bus);
	if (r < 0)
		return r;
	/* LoadUnit: also a unit that is not running (and so not loaded). */
	r = sd_bus_call_method(bus, MANAGER, "/org/freedesktop/systemd1", MANAGER ".Manager", "LoadUnit", &error,
			       &reply, "s", unit);
	sd_bus_error_free(&error);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &p);
	if (r >= 0 && !(path = strdup(p)))
		r = -ENOMEM;
	if (r >= 0)
		r = get_string(bus, path, MANAGER ".Unit", "LoadState", load_state, sizeof(load_state));
	if (r >= 0)
		r = get_string(bus, path, MANAGER ".Unit", "ActiveState", out->active_state, sizeof(out->active_state));
	if (r < 0)
		return r;
	out->loaded = streq(load_state, "loaded");
	out->is_service = dot && streq(dot, ".service");
	if (!out->loaded || !out->is_service)
		return 0;
	if ((r = get_u64(bus, path, MANAGER ".Service", "CapabilityBoundingSet", &out->bounding_set)) < 0 ||
	    (r = get_u64(bus, path, MANAGER ".Service", "RestrictNamespaces", &out->restrict_namespaces)) < 0)
		return r;
	r = sd_bus_get_property_strv(bus, MANAGER, path, MANAGER ".Unit", "TriggeredBy", &error, &triggers);
	sd_bus_error_free(&error);
	if (r < 0)
		return r;
	for (char **t = triggers; t && *t; t++)
		out->n_triggered_by++;
	out->triggered_by = triggers;
	return 0;
}

int manager_unit_start(const char *unit) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = manager_connect(&bus);
	if (r < 0)
		return r;
	/* Queued, not waited for ("replace", as systemctl start --no-block). */
	r = sd_bus_call_method(bus, MANAGER, "/org/freedesktop/systemd1", MANAGER ".Manager", "StartUnit", &error,
			       &reply, "ss", unit, "replace");
	sd_bus_error_free(&error);
	return r < 0 ? r : 0;
}

int manager_own_unit(char **unit) {
	return sd_pid_get_unit(0, unit);
}
