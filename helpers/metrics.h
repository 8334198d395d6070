/* SPDX-License-Identifier: MIT */
/* The metrics: the facts of the namespaces (status.h) and the findings of
 * the checks (checks.h), rendered in the Prometheus text exposition format
 * (version 0.0.4) for `vpn-confinement status --format=prometheus`, which
 * node exporter's textfile collector reads from a file.
 *
 * One table of metric definitions (metrics.c): a row is a metric name, its
 * type and help, and the function that gives its samples from the facts
 * of one namespace (the label namespace="N" is added) or from the host's.
 * Rows of one name follow each other and make one family, written once
 * with its HELP and TYPE lines, its samples for every namespace together.
 * Label values are bounded (namespace names, fixed words, a peer's index
 * in the wg config) and never key material; they are escaped as the
 * format says all the same. vpn-confinement(8), METRICS, lists every
 * metric. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ns_facts;
struct findings;
struct host_facts;

/* One namespace as `status` gathered and judged it. */
struct metrics_ns {
	const struct ns_facts *f;
	const struct findings *fi;
};

/* Every metric with at least one sample, to f. 0 or -EIO. */
int metrics_render(FILE *f, const struct host_facts *h, const struct metrics_ns *ns, size_t n_ns);

/* A label value as the format quotes it: backslash, double quote and line
 * feed escaped (\\, \", \n), everything else as it is. */
void metrics_write_label_value(FILE *f, const char *s);

/* The table, for the unit tests' checks of its names and types. */
struct metrics_row_info {
	const char *name;
	const char *type; /* "gauge" or "counter" */
	const char *help;
	bool per_namespace;
};
size_t metrics_rows(void);
struct metrics_row_info metrics_row(size_t i);
