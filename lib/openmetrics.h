/* SPDX-License-Identifier: MIT */
/*
 * OpenMetrics text exposition (which node_exporter's textfile collector and
 * Prometheus's text parser also read): a file written to a temporary name
 * in the same directory and renamed into place, so a collector never sees
 * half a file.  Families are written whole, one after the other, as the
 * format requires; gauges and summaries only, whose syntax the two formats
 * share (a run's summary is a snapshot, not a counter that grows).
 *
 *	struct om w;
 *	if (om_open(&w, path, e)) return -1;
 *	om_family(&w, "sockctl_probes_sent", "gauge", NULL, "probes sent");
 *	om_sample(&w, "sockctl_probes_sent", labels, 3, 5);
 *	return om_commit(&w, e);
 */
#ifndef SOCKCTL_OPENMETRICS_H
#define SOCKCTL_OPENMETRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "rtt.h"

struct om {
	FILE *f;
	char path[4096], tmp[4096 + 32];
};

struct om_label {
	const char *name, *value; /* value NULL: the label is left out */
};

/* Create the temporary file next to @path (mode 0644); status 1 if it cannot be. */
int om_open(struct om *w, const char *path, struct err *e);
/* "# TYPE", "# UNIT" (when @unit), "# HELP" lines of family @name. */
void om_family(struct om *w, const char *name, const char *type, const char *unit,
	       const char *help);
/* One sample "NAME{labels} VALUE"; label values are escaped (\\ \" \n). */
void om_sample(struct om *w, const char *name, const struct om_label *l, size_t n, double v);
/* "# EOF", flush, fsync and rename into place; on any failure the temporary goes. */
int om_commit(struct om *w, struct err *e);
/* Give up: remove the temporary file. */
void om_abort(struct om *w);

/* ---- the summary of a probing run, one row per target ---- */
struct om_probe_row {
	const char *host, *port, *family, *proto; /* port NULL: no port label (ICMP) */
	const char *hop, *address; /* a trace's hop (TTL) and who answered; NULL: no label */
	uint64_t sent, received;
	long long closed;              /* TCP: replies that were resets; -1: not counted */
	struct rtt_series *rtt;        /* NULL: rtt_stats below (no percentiles, no jitter) */
	const struct rtt_stats *stats; /* when .rtt is NULL */
};
/* The rows as sockctl_probe_* families, written to @path as above. */
int om_write_probes(const char *path, struct om_probe_row *rows, size_t n, struct err *e);

#endif
