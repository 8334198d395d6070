/* SPDX-License-Identifier: MIT */
#include "manager.h"

#include <systemd/sd-bus.h>
#include <unistd.h>

#include "util.h"


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

int manager_unit_bounding_set(const char *unit, uint64_t *caps) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	const char *path;
	int r;

	r = manager_connect(&bus);
	if (r < 0)
		return r;
	/* LoadUnit: also a unit that is not running (and so not loaded). */
	r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
			       "org.freedesktop.systemd1.Manager", "LoadUnit", &error, &reply, "s", unit);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &path);
	if (r >= 0)
		r = sd_bus_get_property_trivial(bus, "org.freedesktop.systemd1", path,
						"org.freedesktop.systemd1.Service", "CapabilityBoundingSet", &error,
						't', caps);
	sd_bus_error_free(&error);
	return r < 0 ? r : 0;
}
