/* SPDX-License-Identifier: MIT */
/*
 * sockctl raw-icmp over many targets (several HOSTs, --targets, CIDR
 * prefixes), as fping does: one socket per family, a line per reply
 * prefixed by the host, a summary table per host, -a/-u lists; and ping's
 * -p, -O, -A for every run.
 */
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "icmp.h"
#include "openmetrics.h"
#include "opt.h"
#include "out.h"
#include "raw_icmp.h"
#include "targets.h"

#define ADAPTIVE_USER_MIN (200 * NS_PER_MS) /* ping -A's floor for users */
#define MULTI_SLOTS 1024                    /* sequence slots per target */

const char *const raw_icmp_ts_names[] = { "unix", "iso", "ctime", NULL };

/* ---- ping's options, for one target or many ---- */

int raw_icmp_opt_pattern(const struct opt *o, const char *arg, struct err *e)
{
	struct icmp_opts *io = o->value;
	size_t n = strlen(arg), i;

	if (!n || n > 32)
		return err_set(e, EXIT_USAGE, "-p/--pattern %.40s: give 1 to 16 bytes in hex "
			       "(e.g. ff00)", arg);
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)arg[i]))
			return err_set(e, EXIT_USAGE, "-p/--pattern %.40s: not hex", arg);
	/* as ping: an odd digit count reads the last digit as a byte of its own */
	memset(io->pattern, 0, sizeof(io->pattern));
	for (i = 0; i < n; i += 2) {
		char byte[3] = { arg[i], i + 1 < n ? arg[i + 1] : '\0', '\0' };

		io->pattern[i / 2] = (uint8_t)strtoul(byte, NULL, 16);
	}
	io->pattern_len = (n + 1) / 2;
	return 0;
}

void raw_icmp_more_config(const struct icmp_opts *o, int root, struct ping_config *cfg)
{
	cfg->report_timeouts = o->report_outstanding;
	cfg->rate_gap = o->rate > 0 ? NS_PER_SEC / o->rate : 0;
	memcpy(cfg->pattern, o->pattern, sizeof(cfg->pattern));
	cfg->pattern_len = o->pattern_len;
	if (o->adaptive) {
		cfg->adaptive = 1;
		cfg->adaptive_min = o->interval >= 0 ? o->interval : root ? 0 : ADAPTIVE_USER_MIN;
	}
}

int raw_icmp_is_multi(const struct icmp_opts *o, int argc, char **argv)
{
	return argc != 1 || o->targets || o->alive || o->unreachable || strchr(argv[0], '/');
}

/* ---- the target table ---- */

struct mhost {
	char name[256];
	struct sockaddr_storage ss;
	socklen_t len;
	struct ping_target *t;
};

struct mctx {
	struct ctx *c;
	struct mhost *h;
	size_t n, cap;
	int namew;    /* the widest name, for the columns */
	int unknown;  /* names that did not resolve */
	int families; /* 1: IPv4, 2: IPv6 */
	unsigned long errors_said;
};

static struct mhost *host_new(struct mctx *m, struct err *e)
{
	if (m->n >= TARGETS_MAX)
		return err_set(e, EXIT_USAGE, "more than %d targets", TARGETS_MAX), NULL;
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct mhost *h = realloc(m->h, cap * sizeof(*h));

		if (!h)
			return err_set(e, EXIT_FAIL, "out of memory"), NULL;
		m->h = h;
		m->cap = cap;
	}
	memset(&m->h[m->n], 0, sizeof(m->h[0]));
	return &m->h[m->n++];
}

static int add_cidr(struct mctx *m, const char *arg, struct err *e)
{
	struct cidr cd;
	uint64_t n, i;

	if (addr_parse_cidr(arg, &cd, e) || targets_cidr_count(&cd, arg, &n, e))
		return -1;
	if (m->c->o->family && cd.family != m->c->o->family)
		return err_set(e, EXIT_USAGE, "%.64s: not an %s prefix", arg,
			       m->c->o->family == AF_INET ? "IPv4" : "IPv6");
	if (m->n + n > TARGETS_MAX)
		return err_set(e, EXIT_USAGE, "%.64s: more than %d targets in all", arg, TARGETS_MAX);
	for (i = 0; i < n; i++) {
		struct mhost *h = host_new(m, e);

		if (!h)
			return -1;
		targets_cidr_nth(&cd, i, &h->ss, &h->len);
		addr_ntop((struct sockaddr *)&h->ss, h->len, h->name, sizeof(h->name));
	}
	return 0;
}

/* Bad input (status 2) before anything is sent: every numeric form, every CIDR. */
static int check_arg(const struct icmp_opts *o, const char *arg, struct err *e)
{
	if (strchr(arg, '/'))
		return 0; /* add_cidr checks it */
	if (addr_check_host_family(arg, o->family, e) ||
	    (o->numeric_host && addr_check_numeric(arg, e)))
		return -1;
	return 0;
}

static int add_arg(struct mctx *m, const char *arg, struct err *e)
{
	const struct icmp_family *f;
	struct mhost *h;
	struct err re = { 0 };

	if (strchr(arg, '/'))
		return add_cidr(m, arg, e);
	h = host_new(m, e);
	if (!h)
		return -1;
	snprintf(h->name, sizeof(h->name), "%s", arg);
	if (ping_resolve(arg, m->c->o->family, &h->ss, &h->len, &f, &re)) {
		/* as fping: said, counted against the exit status, and the others go on */
		err_report(NAME, &re);
		m->unknown++;
		m->n--;
	}
	return 0;
}

/* The address bytes of @h, for ordering: family first. */
static const unsigned char *addr_key(const struct mhost *h, size_t *n)
{
	if (h->ss.ss_family == AF_INET) {
		*n = 4;
		return (const unsigned char *)&((const struct sockaddr_in *)&h->ss)->sin_addr;
	}
	*n = 16;
	return (const unsigned char *)&((const struct sockaddr_in6 *)&h->ss)->sin6_addr;
}

static int by_addr(const void *a, const void *b, void *base)
{
	const struct mhost *h = base;
	const struct mhost *x = &h[*(const size_t *)a], *y = &h[*(const size_t *)b];
	size_t nx, ny;
	const unsigned char *kx = addr_key(x, &nx), *ky = addr_key(y, &ny);
	int c = nx != ny ? (nx < ny ? -1 : 1) : memcmp(kx, ky, nx);

	/* equal addresses: the one given first sorts first */
	return c ? c : (*(const size_t *)a > *(const size_t *)b) - (*(const size_t *)a < *(const size_t *)b);
}

/*
 * One target per address: replies are matched by their source, so a second
 * name for the same address would never see one.  Said, then left out.
 */
static int dedupe(struct mctx *m, struct err *e)
{
	size_t *ix, i, k;
	char *drop;

	if (m->n < 2)
		return 0;
	ix = malloc(m->n * sizeof(*ix));
	drop = calloc(m->n, 1);
	if (!ix || !drop) {
		free(ix);
		free(drop);
		return err_set(e, EXIT_FAIL, "out of memory");
	}
	for (i = 0; i < m->n; i++)
		ix[i] = i;
	qsort_r(ix, m->n, sizeof(*ix), by_addr, m->h);
	for (i = 1; i < m->n; i++) {
		size_t na, nb;
		const unsigned char *a = addr_key(&m->h[ix[i - 1]], &na),
				    *b = addr_key(&m->h[ix[i]], &nb);

		if (na != nb || memcmp(a, b, na) != 0)
			continue;
		drop[ix[i]] = 1;
		err_warn(NAME, "%.64s: the same address as %.64s, probed once", m->h[ix[i]].name,
			 m->h[ix[i - 1]].name);
		ix[i] = ix[i - 1]; /* a third one names the first too */
	}
	for (i = k = 0; i < m->n; i++)
		if (!drop[i])
			m->h[k++] = m->h[i];
	m->n = k;
	free(ix);
	free(drop);
	return 0;
}

static int build(struct mctx *m, int argc, char **argv, struct err *e)
{
	const struct icmp_opts *o = m->c->o;
	char **lines = NULL;
	size_t nl = 0, i;
	int rc = 0;

	if (!argc && !o->targets)
		return err_set(e, EXIT_USAGE, "missing arguments (usage: sockctl raw-icmp [OPTIONS] "
			       "HOST... or --targets FILE)");
	if (o->so.flowlabel >= 0)
		return err_set(e, EXIT_USAGE, "--flowlabel needs a single target");
	if (o->targets && targets_read(o->targets, &lines, &nl, e))
		return -1;
	for (i = 0; !rc && i < (size_t)argc; i++)
		rc = check_arg(o, argv[i], e);
	for (i = 0; !rc && i < nl; i++)
		rc = check_arg(o, lines[i], e);
	/* CIDRs first checked whole (status 2) before any name is looked up */
	for (i = 0; !rc && i < (size_t)argc; i++)
		if (strchr(argv[i], '/'))
			rc = add_cidr(m, argv[i], e);
	for (i = 0; !rc && i < nl; i++)
		if (strchr(lines[i], '/'))
			rc = add_cidr(m, lines[i], e);
	for (i = 0; !rc && i < (size_t)argc; i++)
		if (!strchr(argv[i], '/'))
			rc = add_arg(m, argv[i], e);
	for (i = 0; !rc && i < nl; i++)
		if (!strchr(lines[i], '/'))
			rc = add_arg(m, lines[i], e);
	targets_free(lines);
	if (rc || dedupe(m, e))
		return -1;
	for (i = 0; i < m->n; i++) {
		int w = (int)strlen(m->h[i].name);

		m->families |= m->h[i].ss.ss_family == AF_INET6 ? 2 : 1;
		if (w > m->namew)
			m->namew = w;
	}
	if (!m->n)
		return err_set(e, EXIT_FAIL, "no target could be resolved");
	return 0;
}

/* ---- sockets and the engine ---- */

static int open_family(struct mctx *m, struct ping_socks *s, int family, struct err *e)
{
	struct ctx *c = m->c;
	const struct icmp_opts *o = c->o;
	const struct icmp_family *f = icmp_family_of(family);
	struct ping_request r = {
		.type = o->type, .code = o->code, .preload = o->preload, .interval = o->interval,
		.flood = o->flood, .mode = o->mode,
		.size = o->size != SIZE_UNSET ? (size_t)o->size : ICMP_DEFAULT_PAYLOAD,
		.size_given = o->size != SIZE_UNSET, .root = c->root,
	};
	const char *why;
	uint8_t type;
	int raw, fd, sfd;

	if (ping_request_type(&r, f, &type, e))
		return -1;
	c->qtype = type;
	fd = ping_socks_take_one(s, f, o->mode, o->mode != PING_MODE_RAW && type == f->echo_request,
				 &raw, &why, e);
	if (fd < 0)
		return -1;
	c->raw = raw;
	c->f = f;
	if (ping_add_socket(&c->eng, fd, raw, f, -1, -1, e))
		return -1;
	sfd = ping_socket(&c->eng, family)->fd;
	return sock_apply_opts(sfd, family, raw ? SOCK_RAW : SOCK_DGRAM, &o->so, e) ||
			       sock_bind_source(sfd, family, SOCK_DGRAM, &o->so, e)
		       ? -1
		       : 0;
}

/* ---- output ---- */

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

static void on_event(void *ctx, const struct ping_event *ev)
{
	struct mctx *m = ctx;
	const struct icmp_opts *o = m->c->o;
	const struct mhost *h = ev->target ? ev->target->user : NULL;
	char eb[96];
	int quiet = o->quiet || o->flood || listing(o);

	if (!h && ev->type != PING_EV_STATUS)
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
	double mn, av, mx, md;
	int have = !rtt_ms(&t->rtt, &mn, &av, &mx, &md);
	struct jsonw w;

	json_head(&w, "summary", h);
	json_uint(&w, "transmitted", t->ntx);
	json_uint(&w, "received", t->nrx);
	json_uint(&w, "duplicates", t->ndup);
	json_uint(&w, "errors", t->nerr);
	json_num(&w, "loss_pct", ping_loss_pct(t), 3);
	if (have) {
		json_num(&w, "rtt_min_ms", mn, 3);
		json_num(&w, "rtt_avg_ms", av, 3);
		json_num(&w, "rtt_max_ms", mx, 3);
		json_num(&w, "rtt_mdev_ms", md, 3);
	} else {
		json_null(&w, "rtt_min_ms");
		json_null(&w, "rtt_avg_ms");
		json_null(&w, "rtt_max_ms");
		json_null(&w, "rtt_mdev_ms");
	}
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

static int report(const struct mctx *m, struct err *e)
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

/* ---- the recipe ---- */

static int engine(struct mctx *m, struct ping_socks *s, struct err *e)
{
	struct ctx *c = m->c;
	const struct icmp_opts *o = c->o;
	struct ping_config cfg = {
		.code = o->code >= 0 ? (uint8_t)o->code : 0,
		.size = o->size != SIZE_UNSET ? (size_t)o->size : ICMP_DEFAULT_PAYLOAD,
		.count = o->count, .preload = o->preload, .interval = o->interval,
		.timeout = o->timeout, .deadline = o->deadline, .flood = o->flood,
		.check_payload = o->verbose > 0, .max_slots = MULTI_SLOTS,
	};
	size_t i;

	raw_icmp_more_config(o, c->root, &cfg);
	/* the type is the first family's: ping_request_type checks each below */
	cfg.type = icmp_family_of(m->families & 1 ? AF_INET : AF_INET6)->echo_request;
	if (o->type) {
		struct ping_request r = { .type = o->type, .root = c->root, .size = cfg.size };

		if (ping_request_type(&r, icmp_family_of(m->families & 1 ? AF_INET : AF_INET6),
				      &cfg.type, e))
			return -1;
		if (m->families == 3)
			return err_set(e, EXIT_USAGE, "--type needs targets of one family");
	}
	if (ping_init(&c->eng, &cfg, on_event, m, e))
		return -1;
	c->eng_ready = 1;
	if (((m->families & 1) && open_family(m, s, AF_INET, e)) ||
	    ((m->families & 2) && open_family(m, s, AF_INET6, e)))
		return -1;
	ping_socks_close(s, 0);
	for (i = 0; i < m->n; i++) {
		m->h[i].t = ping_add_target(&c->eng, (struct sockaddr *)&m->h[i].ss, m->h[i].len, e);
		if (!m->h[i].t)
			return -1;
		m->h[i].t->user = &m->h[i];
	}
	return 0;
}

int raw_icmp_multi(struct ctx *c, struct ping_socks *s, struct priv *pv, int argc, char **argv,
		   struct err *e)
{
	struct mctx m = { .c = c };
	sigset_t old;
	size_t i, alive = 0;
	int rc = -1;

	if (build(&m, argc, argv, e) || engine(&m, s, e) || (c->root && priv_drop(pv, e)))
		goto out;
	raw_icmp_catch_signals(&old);
	ping_run(&c->eng, c->stop, c->status, c->signals, &old);
	if (c->out_failed) {
		*e = c->out_err;
		goto out;
	}
	if (report(&m, e) || (c->o->openmetrics && metrics_many(&m, e)))
		goto out;
	for (i = 0; i < m.n; i++)
		alive += m.h[i].t->nrx > 0;
	rc = alive == m.n && !m.unknown ? EXIT_OK : EXIT_FAIL;
out:
	if (c->eng_ready)
		ping_free(&c->eng);
	c->eng_ready = 0;
	free(m.h);
	return rc;
}
