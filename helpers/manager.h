/* SPDX-License-Identifier: MIT */
/* Asking the systemd manager about units (sd-bus): what `check` needs to
 * see whether a confined unit kept what the confinement takes away. As
 * root it talks to the manager's private socket, as systemctl does, so it
 * works without a D-Bus daemon; otherwise over the system bus. */
#pragma once

#include <stdint.h>

/* The effective CapabilityBoundingSet of a service unit (a bit mask of
 * CAP_* numbers), as systemd merged it from the unit and its drop-ins.
 * -ENOTCONN when no manager can be reached (not booted with systemd), other
 * negative errnos when the unit cannot be asked about. */
int manager_unit_bounding_set(const char *unit, uint64_t *caps);
