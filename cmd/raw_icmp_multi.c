/* SPDX-License-Identifier: MIT */
/*
 * sockctl raw-icmp over many targets (several HOSTs, --targets, CIDR
 * prefixes), as fping does: one socket per family, the target table, the
 * recipe; the output is in cmd/raw_icmp_multi_show.c.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "icmp.h"
#include "raw_icmp.h"
#include "raw_icmp_multi.h"
#include "targets.h"

#define MULTI_SLOTS 1024 /* sequence slots per target */

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
	if (ping_init(&c->eng, &cfg, multi_on_event, m, e))
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

	if (build(&m, argc, argv, e) || engine(&m, s, e) || (c->root && priv_drop(pv, e)) ||
	    raw_icmp_sandbox(c->o, e))
		goto out;
	raw_icmp_catch_signals(&old);
	ping_run(&c->eng, c->stop, c->status, c->signals, &old);
	if (c->out_failed) {
		*e = c->out_err;
		goto out;
	}
	if (multi_report(&m, e))
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

