/* SPDX-License-Identifier: MIT */
/* Sysctls by their /proc/sys path ("net/ipv4/conf/eth0/forwarding"), in the
 * network namespace of the calling thread (net/ keys are per namespace). */
#pragma once

#include <stddef.h>

/* Read strips surrounding whitespace. -EINVAL for a key that could leave
 * /proc/sys ("..", a leading '/'). */
int sysctl_read(const char *key, char *buf, size_t size);
int sysctl_write(const char *key, const char *value);
