/* SPDX-License-Identifier: MIT */
/*
 * listen --forward with TLS on a leg (--tls: the clients' leg, --forward-tls:
 * the target's).  splice(2) cannot carry records, so each direction moves
 * through a buffer, with SSL_read_ex/SSL_write_ex on a TLS leg and
 * recv/send on a plain one, non-blocking, in the server's epoll loop.
 *
 * Both handshakes run first, side by side, within the handshake timeout;
 * no byte moves before both are done.  End-of-file rules, as everywhere: a
 * TLS peer's close_notify is its EOF, which becomes a shutdown(SHUT_WR) of
 * the other leg (close_notify first when that leg is TLS too); a plain
 * leg's EOF becomes close_notify (then SHUT_WR).  A TCP EOF without
 * close_notify on a TLS leg is a truncation: what came before it (whole,
 * authenticated records) is delivered, then both legs are reset and the
 * event says "truncated" (--tls-allow-truncation: the clients' leg's bare
 * EOF is an EOF).  The byte counts are what the other leg took.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "forward.h"
#include "tls_int.h"

/* One direction's buffer (made at its first byte, freed at its end). */
#define BUF_SIZE ((size_t)128 * 1024)
/* Compact the buffer when less than this is left at its end. */
#define BUF_LOW ((size_t)16 * 1024)
/* OpenSSL's read buffer per TLS leg: several records per read(2) */
#define TLS_RBUF ((size_t)64 * 1024)
/* reads and writes of one direction per wake-up: the other clients get their turn */
#define MOVES_PER_WAKE 16

enum { S_CLIENT, S_TARGET };
static const char *const side_names[] = { "client", "target" };

struct pair;

struct side {
	struct server_watch w; /* first: the loop hands it back */
	struct pair *p;
	int which;             /* S_CLIENT, S_TARGET */
	struct tls_conn *t;    /* NULL: a plain leg */
	int done;              /* handshake done (a plain leg: from the start) */
	uint32_t hs_want;      /* what the handshake waits for (EPOLLIN, EPOLLOUT) */
	uint32_t have;         /* registered events (0: not registered) */
	int rd_wants_out;      /* SSL_read waits until the socket is writable */
	int wr_wants_in;       /* SSL_write or SSL_shutdown waits until it is readable */
	struct forward_tls_leg leg;
};

struct dir {
	struct side *from, *to;
	char *buf;
	size_t off, len;
	int eof;   /* @from ended */
	int trunc; /* ... without close_notify */
	int shut;  /* @to's writing is shut: this direction is done */
	int again; /* stopped by MOVES_PER_WAKE, not by a leg that would block */
	uint64_t bytes;
};

struct pair {
	struct side s[2];
	struct dir up, down;    /* client -> target, target -> client */
	struct server_watch tw; /* the handshake timer */
	int tw_on;
	struct server_loop *loop;
	struct forward_server *f;
	int dead;
	uint64_t id;
	int64_t start;
	socklen_t clientlen, targetlen;
	struct sockaddr_storage client, target;
};

/* Why a pair ends. */
struct why {
	const char *reason;
	int side;
	int errnum;
	char msg[sizeof(((struct err *)0)->msg)];
};

static int why_set(struct why *x, const char *reason, int side, int errnum)
{
	x->reason = reason;
	x->side = side;
	x->errnum = errnum;
	return -1;
}

static int why_errno(struct why *x, int side, int errnum)
{
	return why_set(x, errnum == ECONNRESET || errnum == EPIPE ? "reset" : "error", side,
		       errnum);
}

/* ---- the end ---- */

static void side_watch(struct pair *p, struct side *s, uint32_t ev)
{
	if (ev == s->have)
		return;
	if (!ev)
		server_watch_del(p->loop, &s->w);
	else if (!s->have)
		server_watch_add(p->loop, &s->w, s->w.fd, ev);
	else
		server_watch_mod(p->loop, &s->w, ev);
	s->have = ev;
}

static void timer_off(struct pair *p)
{
	if (!p->tw_on)
		return;
	server_watch_del(p->loop, &p->tw);
	close(p->tw.fd);
	p->tw_on = 0;
}

static void pair_end(struct pair *p, const struct why *x)
{
	struct forward_event ev;
	int rst = strcmp(x->reason, "eof") != 0, i;

	for (i = 0; i < 2; i++) {
		struct side *s = &p->s[i];

		side_watch(p, s, 0);
		tls_conn_close(s->t, 0); /* close_notify went out on the orderly path */
		s->t = NULL;
		if (s->w.fd < 0)
			continue;
		if (rst) /* the other leg must not take it for an orderly end */
			server_reset_close(s->w.fd);
		else
			close(s->w.fd);
	}
	timer_off(p);
	free(p->up.buf);
	free(p->down.buf);
	if (p->f->on_event) {
		memset(&ev, 0, sizeof(ev));
		ev.id = p->id;
		ev.client = (const struct sockaddr *)&p->client;
		ev.clientlen = p->clientlen;
		ev.target = p->targetlen ? (const struct sockaddr *)&p->target : NULL;
		ev.targetlen = p->targetlen;
		ev.bytes_up = p->up.bytes;
		ev.bytes_down = p->down.bytes;
		ev.duration_ns = clock_mono_ns() - p->start;
		ev.reason = x->reason;
		ev.side = rst ? side_names[x->side] : NULL;
		ev.errnum = x->errnum;
		ev.error = x->msg[0] ? x->msg : NULL;
		if (p->s[S_CLIENT].leg.version[0])
			ev.tls_client = &p->s[S_CLIENT].leg;
		if (p->s[S_TARGET].leg.version[0])
			ev.tls_target = &p->s[S_TARGET].leg;
		p->f->on_event(p->f->ctx, &ev);
	}
	p->dead = 1;
	server_release(p->loop);
	server_defer_free(p->loop, p);
}

/* ---- one leg: read, write, shut, shake hands ---- */

enum { RD_AGAIN = 0, RD_EOF = -1, RD_TRUNC = -2, RD_ERR = -3 };

/* Bytes read, or RD_* (RD_ERR: *@err). */
static ssize_t side_read(struct side *s, char *buf, size_t n, int *err)
{
	size_t got = 0;
	ssize_t r;
	int se;

	if (!s->t) {
		r = recv(s->w.fd, buf, n, MSG_DONTWAIT);
		if (r > 0)
			return r;
		if (r == 0)
			return RD_EOF;
		if (errno == EAGAIN || errno == EINTR)
			return RD_AGAIN;
		*err = errno;
		return RD_ERR;
	}
	ERR_clear_error();
	errno = 0;
	s->rd_wants_out = 0;
	if (SSL_read_ex(s->t->ssl, buf, n, &got) == 1)
		return (ssize_t)got;
	se = SSL_get_error(s->t->ssl, 0);
	s->rd_wants_out = se == SSL_ERROR_WANT_WRITE;
	if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE)
		return RD_AGAIN;
	if (se == SSL_ERROR_ZERO_RETURN)
		return RD_EOF; /* close_notify */
	if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING ||
	    (se == SSL_ERROR_SYSCALL && !errno)) {
		ERR_clear_error();
		return s->t->c->allow_truncation ? RD_EOF : RD_TRUNC;
	}
	*err = se == SSL_ERROR_SYSCALL && errno ? errno : EPROTO;
	ERR_clear_error();
	return RD_ERR;
}

/* Bytes written, 0 if it would block, -1 with *@err. */
static ssize_t side_write(struct side *s, const char *buf, size_t n, int *err)
{
	size_t put = 0;
	ssize_t r;
	int se;

	if (!s->t) {
		r = send(s->w.fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r >= 0)
			return r;
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		*err = errno;
		return -1;
	}
	ERR_clear_error();
	errno = 0;
	s->wr_wants_in = 0;
	if (SSL_write_ex(s->t->ssl, buf, n, &put) == 1)
		return (ssize_t)put;
	se = SSL_get_error(s->t->ssl, 0);
	s->wr_wants_in = se == SSL_ERROR_WANT_READ;
	if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE)
		return 0;
	*err = se == SSL_ERROR_SYSCALL && errno ? errno : EPROTO;
	ERR_clear_error();
	return -1;
}

/* The other leg's EOF: close_notify (TLS), then SHUT_WR.  1 done, 0 later, -1 *@err. */
static int side_shut(struct side *s, int *err)
{
	int rc, se;

	if (s->t) {
		ERR_clear_error();
		errno = 0;
		s->wr_wants_in = 0;
		rc = SSL_shutdown(s->t->ssl);
		if (rc < 0) {
			se = SSL_get_error(s->t->ssl, rc);
			s->wr_wants_in = se == SSL_ERROR_WANT_READ;
			if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE)
				return 0;
			*err = se == SSL_ERROR_SYSCALL && errno ? errno : EPROTO;
			ERR_clear_error();
			return -1;
		}
	}
	shutdown(s->w.fd, SHUT_WR);
	return 1;
}

static void leg_fill(struct side *s, const struct tls_report *r)
{
	snprintf(s->leg.version, sizeof(s->leg.version), "%s", r->version);
	snprintf(s->leg.cipher, sizeof(s->leg.cipher), "%s", r->cipher);
	s->leg.verify_done = r->verify_done;
	snprintf(s->leg.verify, sizeof(s->leg.verify), "%s", r->verify_reason);
}

/* One step of @s's handshake: 1 done, 0 waiting, -1 failed (@x). */
static int side_handshake(struct pair *p, struct side *s, struct why *x)
{
	struct tls_report r;
	struct err e = { 0 };
	uint32_t want = 0;
	int rc;

	if (s->done)
		return 1;
	rc = s->which == S_CLIENT ? tls_server_step(s->t, &want, &e)
				  : tls_client_step(s->t, &want, &e);
	if (rc == 0) {
		s->hs_want = want == TLS_WANT_WRITE ? EPOLLOUT : EPOLLIN;
		return 0;
	}
	if (rc < 0) {
		snprintf(x->msg, sizeof(x->msg), "%s", e.msg);
		return why_set(x, "tls-failed", s->which, 0);
	}
	s->done = 1;
	memset(&r, 0, sizeof(r));
	r.server = s->which == S_CLIENT;
	r.tcp_ns = -1;
	r.handshake_ns = tls_conn_handshake_ns(s->t);
	tls_fill_report(s->t, &r);
	leg_fill(s, &r);
	if (s->which == S_CLIENT && p->f->on_tls_client)
		p->f->on_tls_client(p->f->tls_hook_ctx, p->id, (const struct sockaddr *)&p->client,
				    p->clientlen, &r);
	return 1;
}

/* ---- moving ---- */

static int dir_read(struct dir *d, struct why *x)
{
	size_t room;
	ssize_t n;
	int err = 0;

	if (!d->buf) {
		d->buf = malloc(BUF_SIZE);
		if (!d->buf)
			return why_errno(x, d->from->which, ENOMEM);
	}
	if (!d->len)
		d->off = 0;
	else if (d->off && BUF_SIZE - d->off - d->len < BUF_LOW) {
		/* SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER: a write owed may move */
		memmove(d->buf, d->buf + d->off, d->len);
		d->off = 0;
	}
	room = BUF_SIZE - d->off - d->len;
	if (!room)
		return 0;
	n = side_read(d->from, d->buf + d->off + d->len, room, &err);
	if (n > 0) {
		d->len += (size_t)n;
		return 1;
	}
	if (n == RD_EOF || n == RD_TRUNC) {
		d->eof = 1;
		d->trunc = n == RD_TRUNC;
	} else if (n == RD_ERR) {
		return why_errno(x, d->from->which, err);
	}
	return 0;
}

/* Move what can move now: 0, or -1 with @x when the pair must end. */
static int dir_move(struct dir *d, struct why *x)
{
	int i, err = 0, rc;

	d->again = 0;
	for (i = 0; i < MOVES_PER_WAKE; i++) {
		int moved = 0;
		ssize_t n;

		/* as many records (or reads) as the buffer takes: then one big write */
		while (!d->eof && d->len < BUF_SIZE && (rc = dir_read(d, x)) != 0) {
			if (rc < 0)
				return -1;
			moved = 1;
		}
		if (d->len) {
			n = side_write(d->to, d->buf + d->off, d->len, &err);
			if (n < 0)
				return why_errno(x, d->to->which, err);
			if (n > 0) {
				d->off += (size_t)n;
				d->len -= (size_t)n;
				d->bytes += (uint64_t)n;
				moved = 1;
			}
		}
		if (d->eof && !d->len && !d->shut) {
			if (d->trunc) {
				snprintf(x->msg, sizeof(x->msg),
					 "the %s's TLS ended without close_notify (truncation)",
					 side_names[d->from->which]);
				return why_set(x, "truncated", d->from->which, 0);
			}
			rc = side_shut(d->to, &err);
			if (rc < 0)
				return why_errno(x, d->to->which, err);
			if (rc > 0) {
				d->shut = 1;
				free(d->buf);
				d->buf = NULL;
			}
		}
		if (!moved)
			break;
	}
	d->again = i == MOVES_PER_WAKE;
	return 0;
}

/* What @s must wait for, with both handshakes done. */
static uint32_t side_want(const struct dir *in, const struct dir *out, const struct side *s)
{
	uint32_t ev = 0;

	/* what the last SSL call said it waits for, not what it would spin on */
	if (!in->eof && in->len < BUF_SIZE) /* room, once compacted */
		ev |= s->rd_wants_out ? EPOLLOUT : EPOLLIN;
	if (out->len || (out->eof && !out->shut && !out->trunc))
		ev |= s->wr_wants_in ? EPOLLIN : EPOLLOUT;
	return ev;
}

/*
 * A direction stopped by its budget may have whole records in OpenSSL's
 * buffer, which raise no epoll event: a wake through the other leg's
 * EPOLLOUT (it was writable a moment ago).  Not SSL_has_pending(): a partial
 * record counts there, and waking for it would spin.
 */
static int held(const struct dir *d)
{
	return d->again && d->from->t && !d->eof && d->len < BUF_SIZE;
}

static void pair_rewatch(struct pair *p)
{
	struct side *c = &p->s[S_CLIENT], *t = &p->s[S_TARGET];
	uint32_t wc, wt;

	if (!c->done || !t->done) {
		wc = c->done ? 0 : c->hs_want;
		wt = t->done ? 0 : t->hs_want;
	} else {
		wc = side_want(&p->up, &p->down, c) | (held(&p->down) ? EPOLLOUT : 0);
		wt = side_want(&p->down, &p->up, t) | (held(&p->up) ? EPOLLOUT : 0);
	}
	side_watch(p, c, wc);
	side_watch(p, t, wt);
}

static void pair_step(struct pair *p)
{
	struct why x;
	int i;

	memset(&x, 0, sizeof(x));
	if (!p->s[S_CLIENT].done || !p->s[S_TARGET].done) {
		for (i = 0; i < 2; i++)
			if (side_handshake(p, &p->s[i], &x) < 0) {
				pair_end(p, &x);
				return;
			}
		if (!p->s[S_CLIENT].done || !p->s[S_TARGET].done) {
			pair_rewatch(p);
			return;
		}
		timer_off(p);
	}
	if (dir_move(&p->up, &x) || dir_move(&p->down, &x)) {
		pair_end(p, &x);
		return;
	}
	if (p->up.shut && p->down.shut) {
		why_set(&x, "eof", S_CLIENT, 0);
		pair_end(p, &x);
		return;
	}
	pair_rewatch(p);
}

static void side_ready(struct server_watch *w, uint32_t events)
{
	struct side *s = (struct side *)(void *)w;
	struct pair *p = s->p;
	struct why x;
	int err;

	if (p->dead)
		return;
	if ((events & EPOLLERR) && (err = sock_pending_error(w->fd))) {
		memset(&x, 0, sizeof(x));
		why_errno(&x, s->which, err);
		pair_end(p, &x);
		return;
	}
	pair_step(p);
}

static void timer_ready(struct server_watch *w, uint32_t events)
{
	struct pair *p = (struct pair *)(void *)((char *)w - offsetof(struct pair, tw));
	struct why x;

	(void)events;
	if (p->dead || !p->tw_on)
		return;
	memset(&x, 0, sizeof(x));
	why_set(&x, "handshake-timeout", p->s[S_CLIENT].done ? S_TARGET : S_CLIENT, 0);
	snprintf(x.msg, sizeof(x.msg), "the %s's TLS handshake took too long",
		 side_names[x.side]);
	pair_end(p, &x);
}

/* The handshakes' deadline: the shorter timeout of the TLS legs. */
static void timer_on(struct pair *p)
{
	struct itimerspec its;
	int64_t limit = -1;
	int fd, i;

	for (i = 0; i < 2; i++) {
		const struct tls_conn *t = p->s[i].t;

		if (t && (limit < 0 || t->c->handshake_timeout < limit))
			limit = t->c->handshake_timeout;
	}
	if (limit <= 0)
		return;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return; /* no deadline, but the pair goes on */
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = limit / NS_PER_SEC;
	its.it_value.tv_nsec = limit % NS_PER_SEC;
	p->tw.ready = timer_ready;
	if (timerfd_settime(fd, 0, &its, NULL) || server_watch_add(p->loop, &p->tw, fd, EPOLLIN)) {
		close(fd);
		return;
	}
	p->tw_on = 1;
}

static struct tls_conn *leg_open(struct pair *p, struct side *s, struct why *x)
{
	struct err e = { 0 };
	struct tls_conn *t;

	if (s->which == S_CLIENT)
		t = tls_server_open(p->f->tls_client, s->w.fd, &e);
	else
		t = tls_client_open(p->f->tls_target, s->w.fd, p->f->tls_host, NULL, &e);
	if (!t) {
		snprintf(x->msg, sizeof(x->msg), "%s", e.msg);
		why_set(x, "tls-failed", s->which, 0);
		return NULL;
	}
	SSL_set_default_read_buffer_len(t->ssl, TLS_RBUF);
	return t;
}

void forward_tls_start(struct server_loop *l, struct forward_server *f, int cfd, int tfd,
		       uint64_t id, int64_t start, const struct sockaddr *client,
		       socklen_t clientlen, const struct sockaddr *target, socklen_t targetlen)
{
	struct pair *p = calloc(1, sizeof(*p));
	struct why x;
	int i;

	if (!p) {
		server_reset_close(cfd);
		server_reset_close(tfd);
		server_release(l);
		return;
	}
	memset(&x, 0, sizeof(x));
	p->loop = l;
	p->f = f;
	p->id = id;
	p->start = start;
	p->clientlen = clientlen > sizeof(p->client) ? sizeof(p->client) : clientlen;
	memcpy(&p->client, client, p->clientlen);
	p->targetlen = targetlen > sizeof(p->target) ? sizeof(p->target) : targetlen;
	if (p->targetlen)
		memcpy(&p->target, target, p->targetlen);
	for (i = 0; i < 2; i++) {
		p->s[i].p = p;
		p->s[i].which = i;
		p->s[i].done = 1;
		p->s[i].w.ready = side_ready;
	}
	p->s[S_CLIENT].w.fd = cfd;
	p->s[S_TARGET].w.fd = tfd;
	p->up.from = p->down.to = &p->s[S_CLIENT];
	p->up.to = p->down.from = &p->s[S_TARGET];
	for (i = 0; i < 2; i++) {
		struct side *s = &p->s[i];

		if (!(i == S_CLIENT ? f->tls_client : f->tls_target))
			continue;
		s->t = leg_open(p, s, &x);
		if (!s->t) {
			pair_end(p, &x);
			return;
		}
		s->done = 0;
	}
	timer_on(p);
	pair_step(p);
}

int forward_tls_target_ctx(const struct tls_opts *o, struct tls_ctx **out, struct err *e)
{
	struct tls_opts to = *o;
	const char *file;

	if (tls_load(e))
		return -1;
	if (!to.ca) {
		/* what SSL_CTX_set_default_verify_paths() would read first */
		file = getenv("SSL_CERT_FILE");
		if (!file || !*file)
			file = X509_get_default_cert_file();
		if (file && !access(file, R_OK))
			to.ca = file;
	}
	return tls_client_ctx(&to, out, e);
}
