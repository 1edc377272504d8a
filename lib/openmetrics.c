/* SPDX-License-Identifier: MIT */
/* OpenMetrics text files, written to a temporary name and renamed into place. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "openmetrics.h"

int om_open(struct om *w, const char *path, struct err *e)
{
	int fd;

	memset(w, 0, sizeof(*w));
	if (snprintf(w->path, sizeof(w->path), "%s", path) >= (int)sizeof(w->path))
		return err_set(e, EXIT_USAGE, "--openmetrics: the path is too long");
	/* not *.prom: the textfile collector must not read it half-written */
	snprintf(w->tmp, sizeof(w->tmp), "%s.tmp.%ld", path, (long)getpid());
	fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return err_sys(e, EXIT_FAIL, errno, "--openmetrics %.200s: cannot create %.200s",
			       path, w->tmp);
	w->f = fdopen(fd, "w");
	if (!w->f) {
		close(fd);
		unlink(w->tmp);
		return err_set(e, EXIT_FAIL, "out of memory");
	}
	return 0;
}

void om_family(struct om *w, const char *name, const char *type, const char *unit,
	       const char *help)
{
	fprintf(w->f, "# TYPE %s %s\n", name, type);
	if (unit)
		fprintf(w->f, "# UNIT %s %s\n", name, unit);
	if (help)
		fprintf(w->f, "# HELP %s %s\n", name, help);
}

static void label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

void om_sample(struct om *w, const char *name, const struct om_label *l, size_t n, double v)
{
	const char *sep = "{";
	size_t i;

	fputs(name, w->f);
	for (i = 0; i < n; i++) {
		if (!l[i].value)
			continue;
		fprintf(w->f, "%s%s=\"", sep, l[i].name);
		label_value(w->f, l[i].value);
		fputc('"', w->f);
		sep = ",";
	}
	if (*sep == ',')
		fputc('}', w->f);
	if (isnan(v))
		fputs(" NaN\n", w->f);
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(w->f, " %.0f\n", v);
	else
		fprintf(w->f, " %.9g\n", v);
}

void om_abort(struct om *w)
{
	if (w->f)
		fclose(w->f);
	w->f = NULL;
	unlink(w->tmp);
}

int om_commit(struct om *w, struct err *e)
{
	int bad;

	fputs("# EOF\n", w->f);
	bad = fflush(w->f) || ferror(w->f) || fsync(fileno(w->f));
	if (bad) {
		int saved = errno;

		om_abort(w);
		return err_sys(e, EXIT_FAIL, saved, "--openmetrics %.200s: write failed", w->path);
	}
	if (fclose(w->f)) {
		w->f = NULL;
		unlink(w->tmp);
		return err_sys(e, EXIT_FAIL, errno, "--openmetrics %.200s: write failed", w->path);
	}
	w->f = NULL;
	if (rename(w->tmp, w->path)) {
		int saved = errno;

		unlink(w->tmp);
		return err_sys(e, EXIT_FAIL, saved, "--openmetrics %.200s: rename failed", w->path);
	}
	return 0;
}

/* ---- probing runs ---- */

enum { L_HOST, L_PORT, L_FAMILY, L_PROTO, L_HOP, L_ADDRESS, L_EXTRA, NLABELS };

static size_t labels_of(const struct om_probe_row *r, struct om_label *l, const char *extra,
			const char *extra_val)
{
	l[L_HOST] = (struct om_label){ "host", r->host };
	l[L_PORT] = (struct om_label){ "port", r->port };
	l[L_FAMILY] = (struct om_label){ "family", r->family };
	l[L_PROTO] = (struct om_label){ "proto", r->proto };
	l[L_HOP] = (struct om_label){ "hop", r->hop };
	l[L_ADDRESS] = (struct om_label){ "address", r->address };
	l[L_EXTRA] = (struct om_label){ extra, extra_val };
	return NLABELS;
}

static const struct rtt_stats *stats_of(const struct om_probe_row *r)
{
	return r->rtt ? &r->rtt->s : r->stats;
}

enum val { V_SENT, V_RECV, V_CLOSED, V_LOSS, V_MIN, V_AVG, V_MAX, V_MDEV, V_JITTER };

/* The value of @what for @r; NaN when there is none (no reply yet). */
static double value_of(const struct om_probe_row *r, enum val what)
{
	double mn, av, mx, md, j;
	const struct rtt_stats *s = stats_of(r);
	int have = s && !rtt_ms(s, &mn, &av, &mx, &md);

	switch (what) {
	case V_SENT:
		return (double)r->sent;
	case V_RECV:
		return (double)r->received;
	case V_CLOSED:
		return (double)r->closed;
	case V_LOSS:
		return r->sent ? (double)(r->sent - r->received) / (double)r->sent : NAN;
	case V_MIN:
		return have ? mn / 1e3 : NAN;
	case V_AVG:
		return have ? av / 1e3 : NAN;
	case V_MAX:
		return have ? mx / 1e3 : NAN;
	case V_MDEV:
		return have ? md / 1e3 : NAN;
	case V_JITTER:
		return r->rtt && !rtt_series_jitter(r->rtt, &j) ? j / 1e3 : NAN;
	}
	return NAN;
}

static const struct {
	const char *name, *unit, *help;
	enum val v;
} gauges[] = {
	{ "sockctl_probes_sent", NULL, "Probes sent in the run.", V_SENT },
	{ "sockctl_probes_received", NULL, "Probes answered (for TCP: open or closed).", V_RECV },
	{ "sockctl_probes_closed", NULL, "TCP probes answered by a reset (closed port).",
	  V_CLOSED },
	{ "sockctl_probe_loss_ratio", "ratio", "Probes without an answer, 0 to 1.", V_LOSS },
	{ "sockctl_probe_rtt_min_seconds", "seconds", "Shortest round trip.", V_MIN },
	{ "sockctl_probe_rtt_avg_seconds", "seconds", "Mean round trip.", V_AVG },
	{ "sockctl_probe_rtt_max_seconds", "seconds", "Longest round trip.", V_MAX },
	{ "sockctl_probe_rtt_mdev_seconds", "seconds",
	  "Standard deviation of the round trips (ping's mdev).", V_MDEV },
	{ "sockctl_probe_jitter_seconds", "seconds",
	  "Mean absolute difference of consecutive round trips.", V_JITTER },
};

static int wanted(const struct om_probe_row *rows, size_t n, enum val v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((v != V_CLOSED || rows[i].closed >= 0) && (v != V_JITTER || rows[i].rtt))
			return 1;
	return 0;
}

static void write_summary(struct om *w, struct om_probe_row *rows, size_t n)
{
	static const double pcts[] = { 50, 90, 99 };
	static const char *const qs[] = { "0.5", "0.9", "0.99" };
	struct om_label l[NLABELS];
	const char *name = "sockctl_probe_rtt_seconds";
	char sum[64], count[64];
	size_t i, k;

	snprintf(sum, sizeof(sum), "%s_sum", name);
	snprintf(count, sizeof(count), "%s_count", name);
	om_family(w, name, "summary", "seconds", "Round trips of the answered probes.");
	for (i = 0; i < n; i++) {
		const struct rtt_stats *s = stats_of(&rows[i]);
		double ms;

		for (k = 0; rows[i].rtt && k < 3; k++)
			if (!rtt_series_pct(rows[i].rtt, pcts[k], &ms))
				om_sample(w, name, l, labels_of(&rows[i], l, "quantile", qs[k]),
					  ms / 1e3);
		om_sample(w, sum, l, labels_of(&rows[i], l, NULL, NULL), s ? s->sum / 1e9 : 0);
		om_sample(w, count, l, labels_of(&rows[i], l, NULL, NULL), s ? (double)s->n : 0);
	}
}

int om_write_probes(const char *path, struct om_probe_row *rows, size_t n, struct err *e)
{
	struct om w;
	struct om_label l[NLABELS];
	size_t g, i;

	if (om_open(&w, path, e))
		return -1;
	for (g = 0; g < sizeof(gauges) / sizeof(gauges[0]); g++) {
		if (!wanted(rows, n, gauges[g].v))
			continue;
		om_family(&w, gauges[g].name, "gauge", gauges[g].unit, gauges[g].help);
		for (i = 0; i < n; i++) {
			double v = value_of(&rows[i], gauges[g].v);

			if (gauges[g].v == V_CLOSED && rows[i].closed < 0)
				continue;
			if (!isnan(v))
				om_sample(&w, gauges[g].name, l, labels_of(&rows[i], l, NULL, NULL), v);
		}
	}
	write_summary(&w, rows, n);
	return om_commit(&w, e);
}
