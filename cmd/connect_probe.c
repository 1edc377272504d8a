/* SPDX-License-Identifier: MIT */
/* sockctl connect --count: TCP ping, its lines, its summary and its OpenMetrics file. */
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "addr.h"
#include "clock.h"
#include "cmd.h"
#include "cmd_sandbox.h"
#include "connect_probe.h"
#include "err.h"
#include "openmetrics.h"
#include "out.h"
#include "targets.h"
#include "tcpping.h"

#define NAME "connect"

struct host {
	const char *name;
	char port[256]; /* as typed, then the number */
	struct rtt_stats tls; /* --tls: the TLS handshakes */
};

struct pctx {
	const struct connect_probe_opts *o;
	struct tcpping eng;
	struct host *hosts;
	size_t nhosts;
	struct err out_err;
	int out_failed;
	struct tls_ctx *tls; /* --tls */
	struct tcpping_layer layer;
};

static volatile sig_atomic_t got_stop;

static void on_signal(int sig)
{
	(void)sig;
	got_stop = 1;
}

static const char *name_of(const struct tcpping_target *t)
{
	return ((const struct host *)t->user)->name;
}

static void line_done(struct pctx *c)
{
	if (c->out_failed || !cmd_stdout_flush(&c->out_err))
		return;
	c->out_failed = 1;
	got_stop = 1;
}

static void probe_json(const struct tcpping_probe *p)
{
	struct jsonw w;
	const struct tcpping_target *t = p->t;

	json_begin(&w, stdout);
	json_str(&w, "event", "probe");
	json_str(&w, "host", name_of(t));
	json_str(&w, "address", t->addr_str);
	json_uint(&w, "port", t->port);
	json_uint(&w, "seq", p->seq);
	json_str(&w, "state", tcpping_state_name(p->state));
	if (p->state == TCPPING_OPEN || p->state == TCPPING_CLOSED)
		json_num(&w, "rtt_ms", (double)p->rtt_ns / 1e6, 3);
	else
		json_null(&w, "rtt_ms");
	if (p->tcpi_rtt_us >= 0) {
		json_num(&w, "tcpi_rtt_ms", (double)p->tcpi_rtt_us / 1e3, 3);
		json_num(&w, "tcpi_rttvar_ms", (double)p->tcpi_rttvar_us / 1e3, 3);
	}
	if (p->layer_ns >= 0)
		json_num(&w, "tls_ms", (double)p->layer_ns / 1e6, 3);
	if (p->state == TCPPING_ERROR)
		json_str(&w, "error", p->why ? p->why : err_errno_name(p->err));
	json_end(&w);
}

static void on_probe(void *ctx, const struct tcpping_probe *p)
{
	struct pctx *c = ctx;
	const struct tcpping_target *t = p->t;
	char where[ADDR_STRLEN + 8], why[ERR_DESC_LEN];

	if (p->layer_ns >= 0)
		rtt_add(&((struct host *)t->user)->tls, p->layer_ns);
	if (c->o->json) {
		probe_json(p);
		line_done(c);
		return;
	}
	addr_format((const struct sockaddr *)&t->addr, t->addrlen, where, sizeof(where));
	switch (p->state) {
	case TCPPING_OPEN:
		printf("reply from %s: tcp_seq=%llu open time=%.3f ms", where,
		       (unsigned long long)p->seq, (double)p->rtt_ns / 1e6);
		if (p->layer_ns >= 0)
			printf(" tls=%.3f ms", (double)p->layer_ns / 1e6);
		if (p->tcpi_rtt_us >= 0)
			printf(" tcpi_rtt=%.3f ms", (double)p->tcpi_rtt_us / 1e3);
		putchar('\n');
		break;
	case TCPPING_CLOSED:
		printf("reply from %s: tcp_seq=%llu closed port time=%.3f ms\n", where,
		       (unsigned long long)p->seq, (double)p->rtt_ns / 1e6);
		break;
	case TCPPING_TIMEOUT:
		printf("no reply from %s: tcp_seq=%llu timeout after %.0f ms\n", where,
		       (unsigned long long)p->seq, (double)p->rtt_ns / 1e6);
		break;
	case TCPPING_ERROR:
		printf("no reply from %s: tcp_seq=%llu %s\n", where, (unsigned long long)p->seq,
		       p->why ? p->why : err_errno_desc(p->err, why, sizeof(why)));
		break;
	}
	line_done(c);
}

/* ---- the summary ---- */

struct figures {
	int have, have_pct, have_jitter;
	double mn, av, mx, md, p50, p90, p99, jitter;
};

static struct figures figures_of(struct tcpping_target *t)
{
	struct figures f = { 0 };

	f.have = !rtt_ms(&t->rtt.s, &f.mn, &f.av, &f.mx, &f.md);
	f.have_pct = !rtt_series_pct(&t->rtt, 50, &f.p50) &&
		     !rtt_series_pct(&t->rtt, 90, &f.p90) && !rtt_series_pct(&t->rtt, 99, &f.p99);
	f.have_jitter = !rtt_series_jitter(&t->rtt, &f.jitter);
	return f;
}

static double loss_pct(const struct tcpping_target *t)
{
	return t->sent ? (double)(t->sent - tcpping_answered(t)) * 100.0 / (double)t->sent : 0;
}

static void num_or_null(struct jsonw *w, const char *key, int have, double v)
{
	if (have)
		json_num(w, key, v, 3);
	else
		json_null(w, key);
}

static void summary_json(const struct pctx *c, struct tcpping_target *t)
{
	struct figures f = figures_of(t);
	struct jsonw w;

	json_begin(&w, stdout);
	json_str(&w, "event", "summary");
	json_str(&w, "host", name_of(t));
	json_str(&w, "address", t->addr_str);
	json_uint(&w, "port", t->port);
	json_str(&w, "family", addr_family_name(t->addr.ss_family));
	json_uint(&w, "sent", t->sent);
	json_uint(&w, "open", t->open);
	json_uint(&w, "closed", t->closed);
	json_uint(&w, "lost", t->sent - tcpping_answered(t));
	json_num(&w, "loss_pct", loss_pct(t), 3);
	json_num(&w, "time_ms", (double)(c->eng.end - c->eng.start) / 1e6, 3);
	num_or_null(&w, "rtt_min_ms", f.have, f.mn);
	num_or_null(&w, "rtt_avg_ms", f.have, f.av);
	num_or_null(&w, "rtt_max_ms", f.have, f.mx);
	num_or_null(&w, "rtt_mdev_ms", f.have, f.md);
	num_or_null(&w, "rtt_p50_ms", f.have_pct, f.p50);
	num_or_null(&w, "rtt_p90_ms", f.have_pct, f.p90);
	num_or_null(&w, "rtt_p99_ms", f.have_pct, f.p99);
	num_or_null(&w, "jitter_ms", f.have_jitter, f.jitter);
	if (c->o->tls && c->o->tls->tls) {
		double mn, av, mx, md;
		int have = !rtt_ms(&((const struct host *)t->user)->tls, &mn, &av, &mx, &md);

		num_or_null(&w, "tls_min_ms", have, mn);
		num_or_null(&w, "tls_avg_ms", have, av);
		num_or_null(&w, "tls_max_ms", have, mx);
	}
	json_end(&w);
}

static void summary_text(const struct pctx *c, struct tcpping_target *t)
{
	struct figures f = figures_of(t);
	const struct host *h = t->user;

	printf("\n--- %s port %s tcp ping statistics ---\n", h->name, h->port);
	printf("%llu probes sent, %llu open, %llu closed, %llu lost, %g%% loss, time %lldms\n",
	       (unsigned long long)t->sent, (unsigned long long)t->open,
	       (unsigned long long)t->closed, (unsigned long long)(t->sent - tcpping_answered(t)),
	       loss_pct(t), (long long)((c->eng.end - c->eng.start) / NS_PER_MS));
	if (f.have)
		printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", f.mn, f.av, f.mx, f.md);
	if (f.have_pct)
		printf("rtt p50/p90/p99 = %.3f/%.3f/%.3f ms", f.p50, f.p90, f.p99);
	if (f.have_pct && f.have_jitter)
		printf(", jitter %.3f ms", f.jitter);
	if (f.have_pct)
		putchar('\n');
	if (!rtt_ms(&h->tls, &f.mn, &f.av, &f.mx, &f.md))
		printf("tls handshake min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", f.mn, f.av, f.mx,
		       f.md);
}

static int write_metrics(struct pctx *c, struct err *e)
{
	struct om_probe_row *rows;
	size_t i;
	int rc;

	if (!c->eng.ntargets)
		return 0;
	rows = calloc(c->eng.ntargets, sizeof(*rows));
	if (!rows)
		return err_set(e, EXIT_FAIL, "out of memory");
	for (i = 0; i < c->eng.ntargets; i++) {
		struct tcpping_target *t = c->eng.targets[i];

		rows[i] = (struct om_probe_row){
			.host = name_of(t), .port = ((struct host *)t->user)->port,
			.family = addr_family_name(t->addr.ss_family), .proto = "tcp",
			.sent = t->sent, .received = tcpping_answered(t),
			.closed = (long long)t->closed, .rtt = &t->rtt,
		};
	}
	rc = om_write_probes(c->o->openmetrics, rows, c->eng.ntargets, e);
	free(rows);
	return rc;
}

/* ---- the recipe ---- */

/* One target: @n (1 or 2) arguments, HOST:PORT or HOST PORT. */
static int parse_one(const struct connect_probe_opts *o, char *const *args, int n,
		     struct host *h, struct err *e)
{
	struct endpoint ep;

	if (addr_parse_endpoint(n, args, 0, "tcp", &ep, e) ||
	    (o->numeric && addr_check_numeric(ep.host, e)) ||
	    addr_check_host_family(ep.host, o->family, e))
		return -1;
	h->name = strdup(ep.host);
	if (!h->name)
		return err_set(e, EXIT_FAIL, "out of memory");
	snprintf(h->port, sizeof(h->port), "%s", ep.service);
	rtt_init(&h->tls);
	return 0;
}

/*
 * HOST PORT (two arguments, the second no HOST:PORT), or HOST:PORT..., and
 * with --targets each line of FILE.
 */
static int parse_targets(const struct connect_probe_opts *o, int argc, char **argv,
			 struct pctx *c, struct err *e)
{
	int pair = argc == 2 && !strchr(argv[1], ':') && !strchr(argv[1], '[');
	size_t n = pair ? 1 : (size_t)argc, nl = 0, i;
	char **lines = NULL;
	int rc = 0;

	if (!argc && !o->targets)
		return err_set(e, EXIT_USAGE, "--count needs a target: HOST PORT, HOST:PORT... "
			       "or --targets FILE");
	if (o->targets && targets_read(o->targets, &lines, &nl, e))
		return -1;
	if (n + nl > TARGETS_MAX) {
		targets_free(lines);
		return err_set(e, EXIT_USAGE, "more than %d targets", TARGETS_MAX);
	}
	c->hosts = calloc(n + nl, sizeof(*c->hosts));
	if (!c->hosts) {
		targets_free(lines);
		return err_set(e, EXIT_FAIL, "out of memory");
	}
	c->nhosts = n + nl;
	for (i = 0; !rc && i < n; i++)
		rc = parse_one(o, argv + i, pair ? 2 : 1, &c->hosts[i], e);
	for (i = 0; !rc && i < nl; i++)
		rc = parse_one(o, lines + i, 1, &c->hosts[n + i], e);
	targets_free(lines);
	return rc;
}

static int add_targets(struct pctx *c, struct err *e)
{
	size_t i;

	for (i = 0; i < c->nhosts; i++) {
		struct addrinfo hints = { .ai_family = c->o->family, .ai_socktype = SOCK_STREAM };
		struct sockaddr_storage ss;
		socklen_t len;
		struct tcpping_target *t;

		if (c->o->numeric)
			hints.ai_flags = AI_NUMERICHOST;
		if (sock_resolve_first(c->hosts[i].name, c->hosts[i].port, &hints, &ss, &len, e))
			return -1;
		t = tcpping_add(&c->eng, (struct sockaddr *)&ss, len, e);
		if (!t)
			return -1;
		t->user = &c->hosts[i];
		/* the port as a number, for the summary and the labels */
		snprintf(c->hosts[i].port, sizeof(c->hosts[i].port), "%u", t->port);
	}
	return 0;
}

static void header(const struct pctx *c)
{
	size_t i;
	char where[ADDR_STRLEN + 8];

	if (c->o->json)
		return;
	for (i = 0; i < c->eng.ntargets; i++) {
		const struct tcpping_target *t = c->eng.targets[i];

		printf("TCP PING %s port %u (%s)\n", name_of(t), t->port,
		       addr_format((const struct sockaddr *)&t->addr, t->addrlen, where,
				   sizeof(where)));
	}
	fflush(stdout);
}

static void catch_signals(sigset_t *block, sigset_t *old)
{
	struct sigaction sa = { 0 };

	sa.sa_handler = on_signal; /* no SA_RESTART: the wait must return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(block);
	sigaddset(block, SIGINT);
	sigaddset(block, SIGTERM);
	sigprocmask(SIG_BLOCK, NULL, old);
}

/* ---- --tls: lib/tls's client handshake as lib/tcpping's layer ---- */

static void *tls_open(void *ctx, int fd, const struct tcpping_target *t, struct err *e)
{
	return tls_client_open(ctx, fd, name_of(t), NULL, e);
}

static int tls_step(void *conn, uint32_t *want, struct err *e)
{
	uint32_t w = 0;
	int rc = tls_client_step(conn, &w, e);

	*want = w == TLS_WANT_WRITE ? EPOLLOUT : EPOLLIN;
	return rc;
}

static void tls_close(void *conn)
{
	tls_conn_close(conn, 0); /* the probe ends with a reset anyway */
}

/*
 * Targets resolved, the TLS context loaded: the probes open and connect
 * sockets (and with --tls run handshakes, reading a hashed CA directory);
 * --openmetrics writes its file at the end.
 */
static int probe_sandbox(const struct connect_probe_opts *o, struct err *e)
{
	struct cmd_sandbox sb = { .cmd = "connect", .off = o->no_sandbox, .verbose = o->verbose };
	int tls = o->tls && o->tls->tls;

	if ((tls && cmd_sandbox_read_paths(&sb, 1, o->tls->ca, 0, e)) ||
	    (o->openmetrics && cmd_sandbox_dir_of(&sb, o->openmetrics,
						  SB_FS_WRITE | SB_FS_CREATE | SB_FS_REMOVE, e)))
		return -1;
	return cmd_sandbox_enter(&sb, tls || o->openmetrics ? &sb_connect_count_files
							    : &sb_connect_count, e);
}

static int run(struct pctx *c, int argc, char **argv, struct err *e)
{
	const struct connect_probe_opts *o = c->o;
	struct tcpping_config cfg = {
		.count = o->count,
		.interval = o->interval >= 0 ? o->interval : TCPPING_DEFAULT_INTERVAL,
		.timeout = o->timeout > 0 ? o->timeout : TCPPING_DEFAULT_TIMEOUT,
		.tcp_info = o->tcp_info,
		.so = o->so,
	};
	sigset_t block, old;
	size_t i;
	int rc;

	if (o->conflict)
		return err_set(e, EXIT_USAGE, "--count (TCP ping) cannot be used with -u, -U, "
			       "--fd, --type, --nonblock, --parallel, -e, -c, --proxy, -C, "
			       "--delay, -o, --hex-dump or the relay options");
	if (sock_check_opts(o->so, o->family, SOCK_STREAM, e) ||
	    (o->tls && tls_opts_check(o->tls, 0, e)) || parse_targets(o, argc, argv, c, e))
		return -1;
	if (o->tls && o->tls->tls) {
		if (o->tls->starttls != TLS_STARTTLS_NONE || o->tls->session)
			return err_set(e, EXIT_USAGE, "--count --tls: no --starttls or --session");
		if (tls_client_ctx(o->tls, &c->tls, e))
			return -1;
		c->layer = (struct tcpping_layer){ .ctx = c->tls, .open = tls_open,
						   .step = tls_step, .close = tls_close };
		cfg.layer = &c->layer;
	}
	if (tcpping_init(&c->eng, &cfg, on_probe, c, e) || add_targets(c, e))
		return -1;
	if (probe_sandbox(o, e))
		return -1;
	catch_signals(&block, &old);
	header(c);
	rc = tcpping_run(&c->eng, &got_stop, &block, &old, e);
	if (c->out_failed) {
		*e = c->out_err;
		return -1;
	}
	for (i = 0; i < c->eng.ntargets; i++) {
		if (o->json)
			summary_json(c, c->eng.targets[i]);
		else
			summary_text(c, c->eng.targets[i]);
	}
	if (rc || (o->openmetrics && write_metrics(c, e)))
		return -1;
	return 0;
}

int connect_probe(const struct connect_probe_opts *o, int argc, char **argv)
{
	struct pctx c = { .o = o };
	struct err e = { 0 };
	int status = EXIT_OK;
	size_t i;

	c.eng.ep = -1;
	if (run(&c, argc, argv, &e))
		status = err_report(NAME, &e);
	else
		for (i = 0; i < c.eng.ntargets; i++)
			if (!tcpping_answered(c.eng.targets[i]))
				status = EXIT_FAIL;
	tcpping_free(&c.eng);
	if (c.tls)
		tls_ctx_free(c.tls);
	for (i = 0; c.hosts && i < c.nhosts; i++)
		free((void *)c.hosts[i].name);
	free(c.hosts);
	return status;
}
