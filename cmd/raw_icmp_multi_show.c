/* SPDX-License-Identifier: MIT */
/* raw-icmp over many targets: a line per reply prefixed by the host, a table per host. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "icmp.h"
#include "openmetrics.h"
#include "out.h"
#include "raw_icmp.h"
#include "raw_icmp_multi.h"

static int listing(const struct icmp_opts *o)
{
	return o->alive || o->unreachable;
}

static void line_done(struct ctx *c)
{
	if (c->out_failed || !cmd_stdout_flush(&c->out_err))
		return;
	c->out_failed = 1;
	*c->stop = 1;
}

static void json_head(struct jsonw *w, const char *event, const struct mhost *h)
{
	json_begin(w, stdout);
	json_str(w, "event", event);
	json_str(w, "host", h->name);
	json_str(w, "address", h->t->addr_str);
}

static void show_reply(struct mctx *m, const struct mhost *h, const struct ping_event *ev)
{
	const struct icmp_opts *o = m->c->o;
	const struct icmp_pkt *p = ev->pkt;
	char ms[32];

	if (o->json) {
		struct jsonw w;

		json_head(&w, "reply", h);
		json_uint(&w, "seq", ev->seq);
		json_str(&w, "from", ev->from);
		json_uint(&w, "bytes", p->icmp_len);
		if (p->ttl >= 0)
			json_int(&w, "ttl", p->ttl);
		else
			json_null(&w, "ttl");
		json_num(&w, "time_ms", (double)ev->rtt_ns / 1e6, 3);
		json_bool(&w, "dup", ev->dup);
		json_bool(&w, "late", ev->late);
		if (o->stamps)
			json_num(&w, "timestamp", (double)clock_real_ns() / 1e9, 6);
		json_end(&w);
	} else {
		raw_icmp_stamp(o);
		printf("%-*s : %zu bytes from %s: icmp_seq=%u", m->namew, h->name, p->icmp_len,
		       ev->from, ev->seq);
		if (p->ttl >= 0)
			printf(" ttl=%d", p->ttl);
		printf(" time=%s ms%s\n", icmp_format_ms(ev->rtt_ns, ms, sizeof(ms)),
		       ev->dup ? " (DUP!)" : ev->late ? " (late)" : "");
	}
	line_done(m->c);
}

static void show_error(struct mctx *m, const struct mhost *h, const struct ping_event *ev)
{
	const struct icmp_opts *o = m->c->o;
	const struct icmp_family *f = h->t->f;
	const char *cls = f->error_class(ev->pkt->type);
	char desc[128];

	f->describe(ev->pkt, desc, sizeof(desc));
	if (o->json) {
		struct jsonw w;

		json_head(&w, "error", h);
		json_uint(&w, "seq", ev->seq);
		json_str(&w, "from", ev->from);
		json_uint(&w, "icmp_type", ev->pkt->type);
		json_uint(&w, "icmp_code", ev->pkt->code);
		json_str(&w, "error", cls ? cls : "ICMP error");
		json_str(&w, "message", desc);
		json_end(&w);
	} else {
		raw_icmp_stamp(o);
		printf("%-*s : %s from %s: icmp_seq=%u %s\n", m->namew, h->name,
		       cls ? cls : "ICMP error", ev->from, ev->seq, desc);
	}
	line_done(m->c);
}

static void show_timeout(struct mctx *m, const struct mhost *h, uint16_t seq)
{
	const struct icmp_opts *o = m->c->o;

	if (o->json) {
		struct jsonw w;

		json_head(&w, "timeout", h);
		json_uint(&w, "seq", seq);
		json_end(&w);
	} else {
		raw_icmp_stamp(o);
		printf("%-*s : no answer yet for icmp_seq=%u\n", m->namew, h->name, seq);
	}
	line_done(m->c);
}

void multi_on_event(void *ctx, const struct ping_event *ev)
{
	struct mctx *m = ctx;
	const struct icmp_opts *o = m->c->o;
	const struct mhost *h = ev->target ? ev->target->user : NULL;
	char eb[96];
	int quiet = o->quiet || o->flood || listing(o);

	if (!h && ev->type != PING_EV_STATUS && ev->type != PING_EV_IDLE)
		return; /* about no target of ours */

	switch (ev->type) {
	case PING_EV_REPLY:
		if (!quiet)
			show_reply(m, h, ev);
		break;
	case PING_EV_ERROR:
		if (!quiet)
			show_error(m, h, ev);
		break;
	case PING_EV_IDLE:
		/* the burst is over: its lines go out together, as raw-icmp's */
		fflush(stdout);
		break;
	case PING_EV_TIMEOUT:
		if (!quiet)
			show_timeout(m, h, ev->seq);
		break;
	case PING_EV_SEND_ERROR:
	case PING_EV_LOCAL_ERROR:
		/* once per run (a prefix without a route would say it for every host) */
		if (o->verbose || !m->errors_said++)
			err_msg(NAME, "%s: icmp_seq=%u: %s%s", h->name, ev->seq,
				err_strerror(ev->errnum, eb, sizeof(eb)),
				o->verbose ? "" : " (further errors: -v)");
		break;
	case PING_EV_STATUS: {
		size_t i, alive = 0;

		for (i = 0; i < m->n; i++)
			alive += m->h[i].t->nrx > 0;
		err_msg(NAME, "%zu of %zu hosts answered so far", alive, m->n);
		break;
	}
	case PING_EV_IGNORED:
	case PING_EV_BAD_CSUM:
	case PING_EV_UNSENT:
		break;
	}
}

static void summary_json(const struct mhost *h)
{
	const struct ping_target *t = h->t;
	struct jsonw w;

	json_head(&w, "summary", h);
	json_uint(&w, "transmitted", t->ntx);
	json_uint(&w, "received", t->nrx);
	json_uint(&w, "duplicates", t->ndup);
	json_uint(&w, "errors", t->nerr);
	json_num(&w, "loss_pct", ping_loss_pct(t), 3);
	json_rtt(&w, &t->rtt);
	json_end(&w);
}

/* As fping -c: a row per host, columns aligned. */
static int summary_table(const struct mctx *m, struct err *e)
{
	struct table tb;
	size_t i;
	int rc;
	static const char *const head[] = { "HOST", "SENT", "RECV", "LOSS", "MIN", "AVG",
					    "MAX" };

	table_init(&tb, 7);
	table_add(&tb, head);
	for (i = 0; i < m->n; i++) {
		const struct ping_target *t = m->h[i].t;
		char sent[24], recv[24], loss[24], mn[24] = "-", av[24] = "-", mx[24] = "-";
		const char *row[7] = { m->h[i].name, sent, recv, loss, mn, av, mx };
		double a, b, c, d;

		snprintf(sent, sizeof(sent), "%llu", (unsigned long long)t->ntx);
		snprintf(recv, sizeof(recv), "%llu", (unsigned long long)t->nrx);
		snprintf(loss, sizeof(loss), "%.0f%%", ping_loss_pct(t));
		if (!rtt_ms(&t->rtt, &a, &b, &c, &d)) {
			snprintf(mn, sizeof(mn), "%.3f", a);
			snprintf(av, sizeof(av), "%.3f", b);
			snprintf(mx, sizeof(mx), "%.3f", c);
		}
		table_add(&tb, row);
	}
	putchar('\n');
	rc = table_print(&tb, stdout);
	table_free(&tb);
	return rc ? err_set(e, EXIT_FAIL, "out of memory") : 0;
}

static int report_hosts(const struct mctx *m, struct err *e)
{
	const struct icmp_opts *o = m->c->o;
	size_t i;

	for (i = 0; i < m->n; i++) {
		const struct mhost *h = &m->h[i];
		int alive = h->t->nrx > 0;

		if (listing(o) && !(o->alive && alive) && !(o->unreachable && !alive))
			continue;
		if (o->json)
			summary_json(h);
		else if (listing(o))
			printf("%s\n", h->name);
	}
	if (!o->json && !listing(o))
		return summary_table(m, e);
	return 0;
}

static int metrics(const char *path, const struct ping_target *const *t, const char *const *names,
		   size_t n, struct err *e)
{
	struct om_probe_row *rows = calloc(n, sizeof(*rows));
	size_t i;
	int rc;

	if (!rows)
		return err_set(e, EXIT_FAIL, "out of memory");
	for (i = 0; i < n; i++)
		rows[i] = (struct om_probe_row){
			.host = names[i], .family = addr_family_name(t[i]->f->family),
			.proto = t[i]->f->name, .sent = t[i]->ntx, .received = t[i]->nrx,
			.closed = -1, .stats = &t[i]->rtt,
		};
	rc = om_write_probes(path, rows, n, e);
	free(rows);
	return rc;
}

int raw_icmp_metrics_one(const struct ctx *c, struct err *e)
{
	const struct ping_target *t = c->t;
	const char *name = c->host;

	return metrics(c->o->openmetrics, &t, &name, 1, e);
}

static int metrics_many(const struct mctx *m, struct err *e)
{
	const struct ping_target **t = calloc(m->n, sizeof(const struct ping_target *));
	const char **names = calloc(m->n, sizeof(*names));
	size_t i;
	int rc = -1;

	if (t && names) {
		for (i = 0; i < m->n; i++) {
			t[i] = m->h[i].t;
			names[i] = m->h[i].name;
		}
		rc = metrics(m->c->o->openmetrics, t, names, m->n, e);
	} else {
		err_set(e, EXIT_FAIL, "out of memory");
	}
	free(t);
	free(names);
	return rc;
}


int multi_report(const struct mctx *m, struct err *e)
{
	return report_hosts(m, e) || (m->c->o->openmetrics && metrics_many(m, e)) ? -1 : 0;
}
