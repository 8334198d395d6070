/* SPDX-License-Identifier: MIT */
/* Time spans as systemd writes them (systemd.time(7)): "10", "10s",
 * "1min 30s", "1.5h", "2 weeks", "infinity". A span is a sum of
 * components, each a number with an optional decimal fraction and an
 * optional unit (seconds without one), separated by optional whitespace:
 *   usec us  msec ms  seconds second sec s  minutes minute min m
 *   hours hour hr h  days day d  weeks week w  months month M  years year y
 * (a month is 30.44 days, a year 365.25 days, as in systemd). No sign, no
 * exponent, nothing else. Parsed into microseconds, typed, for the ini keys
 * that take a span (HealthCheckTimeout=, FailbackAfter=). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define TIMESPAN_INFINITY UINT64_MAX
#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)

/* 0 and *usec; -EINVAL for anything that is no span; -ERANGE when it does
 * not fit (only "infinity" is TIMESPAN_INFINITY). */
int timespan_parse(const char *s, uint64_t *usec);

/* A span the way systemd shows one, to the millisecond: "1h 30min",
 * "10s", "1s 500ms", "0", "infinity"; timespan_parse() reads it back to
 * the same value. Returns buf. */
#define TIMESPAN_STRLEN 64
const char *timespan_format(uint64_t usec, char buf[static TIMESPAN_STRLEN]);
