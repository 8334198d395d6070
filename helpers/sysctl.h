/* SPDX-License-Identifier: MIT */
/* Sysctls by their /proc/sys path ("net/ipv4/conf/eth0/forwarding"), in the
 * network namespace of the calling thread (net/ keys are per namespace). */
#pragma once

#include <stddef.h>

/* Read strips surrounding whitespace. -EINVAL for a key that could leave
 * /proc/sys ("..", a leading '/'). */
int sysctl_read(const char *key, char *buf, size_t size);
int sysctl_write(const char *key, const char *value);

/* Write value to the key that fmt formats (an interface's setting, say),
 * reporting a failure as "setting KEY: ERROR". */
int sysctl_setf(const char *value, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
