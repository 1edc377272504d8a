/* SPDX-License-Identifier: MIT */
/* --trace output for connect, udp-send and raw-icmp: traceroute's lines, mtr's report, or JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cmd.h"
#include "err.h"
#include "openmetrics.h"
#include "out.h"
#include "trace_cmd.h"

static const char *proto_name(const struct trace_ctx *c)
{
	return c->t.cfg.proto == TRACE_TCP ? "tcp" : c->t.cfg.proto == TRACE_UDP ? "udp" : "icmp";
}

static void line_done(struct trace_ctx *c)
{
	if (c->out_failed || !cmd_stdout_flush(&c->out_err))
		return;
	c->out_failed = 1;
	*c->stop = 1;
}

static const char *ntop(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6) {
		snprintf(buf, n, "?");
		return buf;
	}
	return addr_ntop((const struct sockaddr *)ss, ss->ss_family == AF_INET6 ?
			 sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), buf, n);
}

void trace_show_header(struct trace_ctx *c)
{
	const struct trace_config *cfg = &c->t.cfg;

	if (c->o->json)
		return;
	printf("trace to %s (%s), %d hops max, ", c->host, c->addr, cfg->max_ttl);
	if (cfg->proto == TRACE_ICMP)
		printf("icmp echo (%s socket)", c->raw ? "raw" : "datagram");
	else if (cfg->proto == TRACE_UDP && !cfg->port_fixed)
		printf("udp port %u upward", (unsigned)cfg->port);
	else
		printf("%s port %u", proto_name(c), (unsigned)cfg->port);
	if (cfg->cycles > 1)
		printf(", %lld cycles", cfg->cycles);
	putchar('\n');
	line_done(c);
}

/* ---- names (--resolve) ---- */

struct names {
	struct sockaddr_storage *addrs;
	char **names;
	size_t n;
};

/* Every address the shown hops answered from, looked up at once. */
static void names_lookup(const struct trace_ctx *c, struct names *nm)
{
	int shown = trace_shown_hops(&c->t), i;
	size_t cap = (size_t)shown * (TRACE_HOP_ADDRS + (size_t)c->t.cfg.queries), k, j;

	memset(nm, 0, sizeof(*nm));
	if (!c->o->resolve || !cap)
		return;
	nm->addrs = calloc(cap, sizeof(*nm->addrs));
	nm->names = calloc(cap, sizeof(*nm->names));
	if (!nm->addrs || !nm->names)
		return;
	for (i = 0; i < shown; i++) {
		const struct trace_hop *h = &c->t.hops[i];

		for (k = 0; k < h->naddrs; k++) {
			for (j = 0; j < nm->n && !trace_same_addr(&nm->addrs[j], &h->addrs[k]); j++)
				;
			if (j == nm->n && nm->n < cap)
				nm->addrs[nm->n++] = h->addrs[k];
		}
	}
	trace_names(nm->addrs, nm->n, nm->names);
}

static const char *name_of(const struct names *nm, const struct sockaddr_storage *ss)
{
	size_t j;

	for (j = 0; j < nm->n; j++)
		if (trace_same_addr(&nm->addrs[j], ss))
			return nm->names[j];
	return NULL;
}

static void names_free(struct names *nm)
{
	size_t j;

	for (j = 0; nm->names && j < nm->n; j++)
		free(nm->names[j]);
	free(nm->names);
	free(nm->addrs);
}

/* ---- one hop ---- */

static void hop_json(struct trace_ctx *c, const struct trace_hop *h, const struct names *nm)
{
	size_t q, nq = (size_t)c->t.cfg.queries, k;
	double rtts[10], mn, av, mx, md;
	const char *addrs[TRACE_HOP_ADDRS];
	char abuf[TRACE_HOP_ADDRS][ADDR_STRLEN], mark[16];
	struct jsonw w;
	int have = !rtt_ms(&h->rtt, &mn, &av, &mx, &md);

	for (q = 0; q < nq && q < 10; q++)
		rtts[q] = h->answers[q].result == TRACE_NONE || h->answers[q].result == TRACE_LOCAL
				  ? NAN : (double)h->answers[q].rtt_ns / 1e6;
	for (k = 0; k < h->naddrs; k++)
		addrs[k] = ntop(&h->addrs[k], abuf[k], sizeof(abuf[k]));
	json_begin(&w, stdout);
	json_str(&w, "event", "hop");
	json_int(&w, "ttl", h->ttl);
	json_str(&w, "address", h->naddrs ? addrs[0] : NULL);
	if (c->o->resolve)
		json_str(&w, "name", h->naddrs ? name_of(nm, &h->addrs[0]) : NULL);
	json_strs(&w, "addresses", addrs, h->naddrs);
	json_str(&w, "result", trace_result_name(h->result));
	json_str(&w, "mark", h->decisive && *trace_mark(&c->t, h->decisive, mark, sizeof(mark))
				     ? mark : NULL);
	if (h->decisive && h->decisive->type) {
		json_uint(&w, "icmp_type", h->decisive->type);
		json_uint(&w, "icmp_code", h->decisive->code);
	}
	if (c->t.cfg.proto == TRACE_TCP && h->result == TRACE_REACHED && h->decisive)
		json_str(&w, "tcp", h->decisive->errnum ? "closed" : "open");
	json_uint(&w, "sent", h->sent);
	json_uint(&w, "received", h->received);
	json_num(&w, "loss_pct", h->sent ? 100.0 * (double)(h->sent - h->received) /
				 (double)h->sent : 0, 1);
	json_nums(&w, "rtt_ms", rtts, nq < 10 ? nq : 10, 3);
	json_num(&w, "last_ms", h->last_ns >= 0 ? (double)h->last_ns / 1e6 : NAN, 3);
	json_num(&w, "avg_ms", have ? av : NAN, 3);
	json_num(&w, "best_ms", have ? mn : NAN, 3);
	json_num(&w, "worst_ms", have ? mx : NAN, 3);
	json_num(&w, "stdev_ms", have ? md : NAN, 3);
	json_end(&w);
	line_done(c);
}

/* traceroute's line: " 3  198.18.3.1  0.123 ms  0.101 ms !X  *" */
static void hop_text(struct trace_ctx *c, const struct trace_hop *h, const struct names *nm)
{
	const struct sockaddr_storage *prev = NULL;
	size_t q;
	char ab[ADDR_STRLEN], mark[16], eb[96];

	printf("%2d ", h->ttl);
	for (q = 0; q < (size_t)c->t.cfg.queries; q++) {
		const struct trace_answer *a = &h->answers[q];

		if (a->result == TRACE_NONE) {
			printf(" *");
			continue;
		}
		if (a->result == TRACE_LOCAL) {
			printf(" !(%s)", err_strerror(a->errnum, eb, sizeof(eb)));
			continue;
		}
		if (!prev || !trace_same_addr(prev, &a->from)) {
			const char *name = name_of(nm, &a->from);

			ntop(&a->from, ab, sizeof(ab));
			if (name)
				printf(" %s (%s)", name, ab);
			else
				printf(" %s", ab);
			prev = &a->from;
		}
		printf("  %.3f ms", (double)a->rtt_ns / 1e6);
		if (*trace_mark(&c->t, a, mark, sizeof(mark)))
			printf(" %s", mark);
	}
	putchar('\n');
	line_done(c);
}

static void show_hop(struct trace_ctx *c, const struct trace_hop *h, const struct names *nm)
{
	if (c->o->json)
		hop_json(c, h, nm);
	else
		hop_text(c, h, nm);
}

/* The shown hops of the last round, at once: after the names came (--resolve). */
static void show_round(struct trace_ctx *c)
{
	struct names nm;
	int i, shown = trace_shown_hops(&c->t);

	names_lookup(c, &nm);
	for (i = 0; i < shown && !c->out_failed; i++)
		show_hop(c, &c->t.hops[i], &nm);
	names_free(&nm);
}

void trace_show_event(void *ctx, const struct trace_event *ev)
{
	struct trace_ctx *c = ctx;
	static const struct names none;

	if (c->out_failed || c->t.cfg.cycles > 1)
		return; /* mtr mode: the report at the end */
	if (ev->type == TRACE_EV_HOP && !c->o->resolve)
		show_hop(c, ev->hop, &none);
	else if (ev->type == TRACE_EV_ROUND && c->o->resolve)
		show_round(c);
}

/* ---- the end ---- */

/* mtr --report: one line per hop, its other addresses under it. */
static void report_text(struct trace_ctx *c, const struct names *nm)
{
	int i, shown = trace_shown_hops(&c->t);
	char ab[ADDR_STRLEN], host[ADDR_STRLEN + 280];

	printf("%-32s %6s %5s %6s %6s %6s %6s %6s\n", "HOST", "Loss%", "Snt", "Last", "Avg",
	       "Best", "Wrst", "StDev");
	for (i = 0; i < shown; i++) {
		const struct trace_hop *h = &c->t.hops[i];
		double mn = 0, av = 0, mx = 0, md = 0;
		size_t k;

		rtt_ms(&h->rtt, &mn, &av, &mx, &md);
		for (k = 0; k < (h->naddrs ? h->naddrs : 1); k++) {
			const char *name = h->naddrs ? name_of(nm, &h->addrs[k]) : NULL;

			if (!h->naddrs)
				snprintf(host, sizeof(host), "???");
			else if (name)
				snprintf(host, sizeof(host), "%s (%s)", name,
					 ntop(&h->addrs[k], ab, sizeof(ab)));
			else
				snprintf(host, sizeof(host), "%s", ntop(&h->addrs[k], ab, sizeof(ab)));
			if (k) {
				printf("    |  `|-- %s\n", host);
				continue;
			}
			printf("%3d.|-- %-24s %5.1f%% %5llu %6.1f %6.1f %6.1f %6.1f %6.1f\n", h->ttl,
			       host, h->sent ? 100.0 * (double)(h->sent - h->received) /
			       (double)h->sent : 0, (unsigned long long)h->sent,
			       h->last_ns >= 0 ? (double)h->last_ns / 1e6 : 0, av, mn, mx, md);
		}
	}
	line_done(c);
}

void trace_show_end(struct trace_ctx *c)
{
	const struct trace *t = &c->t;
	struct jsonw w;

	if (t->cfg.cycles > 1) {
		struct names nm;
		int i, shown = trace_shown_hops(t);

		names_lookup(c, &nm);
		if (c->o->json)
			for (i = 0; i < shown && !c->out_failed; i++)
				hop_json(c, &t->hops[i], &nm);
		else
			report_text(c, &nm);
		names_free(&nm);
	}
	if (!c->o->json || c->out_failed)
		return;
	json_begin(&w, stdout);
	json_str(&w, "event", "trace");
	json_str(&w, "host", c->host);
	json_str(&w, "address", c->addr);
	json_str(&w, "protocol", proto_name(c));
	if (t->cfg.proto == TRACE_ICMP)
		json_str(&w, "socket", c->raw ? "raw" : "dgram");
	else
		json_uint(&w, "port", t->cfg.port);
	json_int(&w, "first_ttl", t->cfg.first_ttl);
	json_int(&w, "max_ttl", t->cfg.max_ttl);
	json_int(&w, "queries", t->cfg.queries);
	json_int(&w, "cycles", t->rounds);
	json_bool(&w, "reached", t->reached);
	json_int(&w, "hops", trace_shown_hops(t));
	if (t->end_ttl)
		json_int(&w, "end_ttl", t->end_ttl);
	else
		json_null(&w, "end_ttl");
	json_num(&w, "time_ms", (double)(t->end_ns - t->start_ns) / 1e6, 3);
	json_end(&w);
	line_done(c);
}

/* --openmetrics: one row a hop shown, labelled with its TTL and who answered. */
int trace_write_openmetrics(const struct trace_ctx *c, struct err *e)
{
	const struct trace *t = &c->t;
	int i, n = trace_shown_hops(t), rc;
	struct om_probe_row *rows = calloc(n > 0 ? (size_t)n : 1, sizeof(*rows));
	char (*ttl)[8] = calloc(n > 0 ? (size_t)n : 1, sizeof(*ttl));
	char (*who)[ADDR_STRLEN] = calloc(n > 0 ? (size_t)n : 1, sizeof(*who));
	char port[8];

	if (!rows || !ttl || !who) {
		free(rows);
		free(ttl);
		free(who);
		return err_set(e, EXIT_FAIL, "out of memory");
	}
	snprintf(port, sizeof(port), "%u", t->cfg.port);
	for (i = 0; i < n; i++) {
		const struct trace_hop *h = &t->hops[i];
		const struct sockaddr_storage *a = h->decisive ? &h->decisive->from
				       : h->naddrs ? &h->addrs[0] : NULL;

		snprintf(ttl[i], sizeof(ttl[i]), "%d", h->ttl);
		if (a && a->ss_family != AF_UNSPEC)
			ntop(a, who[i], sizeof(who[i]));
		rows[i] = (struct om_probe_row){
			.host = c->host, .port = t->cfg.proto == TRACE_ICMP ? NULL : port,
			.family = addr_family_name(t->dst.ss_family), .proto = proto_name(c),
			.hop = ttl[i], .address = who[i][0] ? who[i] : NULL,
			.sent = h->sent, .received = h->received, .closed = -1, .stats = &h->rtt,
		};
	}
	rc = om_write_probes(c->o->openmetrics, rows, (size_t)(n > 0 ? n : 0), e);
	free(rows);
	free(ttl);
	free(who);
	return rc;
}
