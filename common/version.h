/* SPDX-License-Identifier: MIT */
/* The version both binaries report (`vpn-confinement --version`, the
 * metrics' build info); a build may pass -DVERSION=... */
#pragma once

#ifndef VERSION
#define VERSION "0.1"
#endif
