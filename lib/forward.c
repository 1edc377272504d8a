/* SPDX-License-Identifier: MIT */
#include "forward.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"

/* Bytes a direction's pipe may hold (asked for; the kernel may give less). */
#define PIPE_WANT (1024 * 1024)
/* splice calls of one direction per wake-up: the other clients get their turn */
#define MOVES_PER_WAKE 16

/* One direction: @from's bytes into a pipe, from the pipe into @to. */
struct dir {
	int from, to;
	int pipe[2];  /* made at the first byte: an idle pair holds no pipe */
	size_t inpipe, cap;
	int eof;      /* @from said EOF */
	int shut;     /* @to was shut down for writing: this direction is done */
	int rd, wr;   /* @from may have bytes, @to may take some (from epoll; a short
		       * splice or EAGAIN clears them: no call that is sure to fail) */
	int pipe_full; /* EAGAIN into a pipe holding bytes: read again once some left */
	uint64_t bytes;
};

struct job {
	struct server_watch wc, wt; /* client socket, target socket */
	struct server_loop *loop;
	struct forward_server *f;
	struct dir up, down;        /* client -> target, target -> client */
	uint32_t ec, et;            /* registered events (0: not registered) */
	int dead;                   /* ended: events left in this batch are ignored */
	struct conn *conn;          /* while connecting */
	struct sock_race *conn_race;
	uint64_t id;
	int64_t start;
	socklen_t clientlen, targetlen;
	struct sockaddr_storage client, target;
};

/* wc is the job's first member */
static struct job *job_of(struct server_watch *w)
{
	return (struct job *)(void *)w;
}

static void dir_init(struct dir *d, int from, int to)
{
	memset(d, 0, sizeof(*d));
	d->from = from;
	d->to = to;
	d->pipe[0] = d->pipe[1] = -1;
	d->rd = d->wr = 1;
}

static void dir_free(struct dir *d)
{
	if (d->pipe[0] >= 0) {
		close(d->pipe[0]);
		close(d->pipe[1]);
	}
	d->pipe[0] = d->pipe[1] = -1;
}

static int dir_pipe(struct dir *d)
{
	int sz;

	if (pipe2(d->pipe, O_CLOEXEC | O_NONBLOCK))
		return -1;
	fcntl(d->pipe[1], F_SETPIPE_SZ, PIPE_WANT);
	sz = fcntl(d->pipe[1], F_GETPIPE_SZ);
	d->cap = sz > 0 ? (size_t)sz : 65536;
	return 0;
}

/*
 * Move what can move now.  0, or the errno that ends the pair, with *@who
 * 0 if @from failed (reading), 1 if @to failed (writing).
 */
static int dir_move(struct dir *d, int *who)
{
	int i;

	for (i = 0; i < MOVES_PER_WAKE; i++) {
		int moved = 0;
		ssize_t n;

		if (d->rd && !d->eof && !d->pipe_full && (d->pipe[0] < 0 || d->inpipe < d->cap)) {
			size_t room;

			if (d->pipe[0] < 0 && dir_pipe(d)) {
				*who = 0;
				return errno;
			}
			room = d->cap - d->inpipe;
			n = splice(d->from, NULL, d->pipe[1], NULL, room,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->inpipe += (size_t)n;
				moved = 1;
				if ((size_t)n < room)
					d->rd = 0; /* drained, most likely: epoll says when not */
			} else if (n == 0) {
				d->eof = 1;
			} else if (errno == EAGAIN) {
				d->rd = 0;
				d->pipe_full = d->inpipe > 0; /* or out of pipe slots */
			} else if (errno != EINTR) {
				*who = 0;
				return errno;
			}
		}
		if (d->wr && d->inpipe) {
			size_t len = d->inpipe;

			n = splice(d->pipe[0], NULL, d->to, NULL, len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				d->inpipe -= (size_t)n;
				d->bytes += (uint64_t)n;
				if (d->pipe_full) {
					/* what could not come in for want of room may now */
					d->pipe_full = 0;
					d->rd = 1;
				}
				moved = 1;
				if ((size_t)n < len)
					d->wr = 0;
			} else if (n < 0 && errno == EAGAIN) {
				d->wr = 0;
			} else if (n < 0 && errno != EINTR) {
				*who = 1;
				return errno;
			}
		}
		if (d->eof && !d->inpipe && !d->shut) {
			/* the EOF goes on once everything before it has */
			shutdown(d->to, SHUT_WR);
			d->shut = 1;
			dir_free(d);
		}
		if (!moved)
			break;
	}
	return 0;
}

/* What @fd must wait for: reading (its direction has room) and writing (bytes wait). */
static uint32_t want(const struct dir *reads, const struct dir *writes)
{
	uint32_t ev = 0;

	if (!reads->eof && !reads->pipe_full &&
	    (reads->pipe[0] < 0 || reads->inpipe < reads->cap))
		ev |= EPOLLIN;
	if (writes->inpipe)
		ev |= EPOLLOUT;
	return ev;
}

/* (Re)register, or drop a descriptor with nothing to wait for (a HUP would spin). */
static void watch(struct job *j, struct server_watch *w, uint32_t *have, uint32_t ev)
{
	if (ev == *have)
		return;
	if (!ev)
		server_watch_del(j->loop, w);
	else if (!*have)
		server_watch_add(j->loop, w, w->fd, ev);
	else
		server_watch_mod(j->loop, w, ev);
	*have = ev;
}

static void job_end(struct job *j, const char *reason, const char *side, int errnum)
{
	struct forward_event ev;
	int rst = errnum != 0;

	watch(j, &j->wc, &j->ec, 0);
	watch(j, &j->wt, &j->et, 0);
	if (rst) {
		/* one side failed: the other must not take it for an orderly end */
		server_reset_close(j->wc.fd);
		server_reset_close(j->wt.fd);
	} else {
		close(j->wc.fd);
		close(j->wt.fd);
	}
	dir_free(&j->up);
	dir_free(&j->down);
	if (j->f->on_event) {
		memset(&ev, 0, sizeof(ev));
		ev.id = j->id;
		ev.client = (const struct sockaddr *)&j->client;
		ev.clientlen = j->clientlen;
		ev.target = j->targetlen ? (const struct sockaddr *)&j->target : NULL;
		ev.targetlen = j->targetlen;
		ev.bytes_up = j->up.bytes;
		ev.bytes_down = j->down.bytes;
		ev.duration_ns = clock_mono_ns() - j->start;
		ev.reason = reason;
		ev.side = side;
		ev.errnum = errnum;
		j->f->on_event(j->f->ctx, &ev);
	}
	j->dead = 1;
	server_release(j->loop);
	server_defer_free(j->loop, j);
}

static void job_step(struct job *j)
{
	int who = 0, err = dir_move(&j->up, &who);

	if (err) {
		/* up reads the client (who 0) and writes the target (who 1) */
		job_end(j, err == ECONNRESET || err == EPIPE ? "reset" : "error",
			who ? "target" : "client", err);
		return;
	}
	err = dir_move(&j->down, &who);
	if (err) {
		job_end(j, err == ECONNRESET || err == EPIPE ? "reset" : "error",
			who ? "client" : "target", err);
		return;
	}
	if (j->up.shut && j->down.shut) {
		job_end(j, "eof", NULL, 0);
		return;
	}
	watch(j, &j->wc, &j->ec, want(&j->up, &j->down));
	watch(j, &j->wt, &j->et, want(&j->down, &j->up));
}

static void client_ready(struct server_watch *w, uint32_t events)
{
	struct job *j = job_of(w);
	int err;

	if (j->dead)
		return;
	if ((events & EPOLLERR) && (err = sock_pending_error(w->fd))) {
		job_end(j, err == ECONNRESET || err == EPIPE ? "reset" : "error", "client", err);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		j->up.rd = 1;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		j->down.wr = 1;
	job_step(j);
}

static void target_ready(struct server_watch *w, uint32_t events)
{
	struct job *j = (struct job *)(void *)((char *)w - offsetof(struct job, wt));
	int err;

	if (j->dead)
		return;
	if ((events & EPOLLERR) && (err = sock_pending_error(w->fd))) {
		job_end(j, err == ECONNRESET || err == EPIPE ? "reset" : "error", "target", err);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		j->down.rd = 1;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		j->up.wr = 1;
	job_step(j);
}

int forward_open_default(const struct forward_server *f, int *fd, struct err *e)
{
	if (f->target.kind == EP_UNIX)
		return sock_connect_unix(f->target.path, &f->co, fd, e);
	return sock_connect(f->target.host, f->target.service, &f->co, fd, e);
}

static void connect_failed(const struct job *j, const struct err *e)
{
	struct forward_event ev;

	if (!j->f->on_event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.id = j->id;
	ev.client = (const struct sockaddr *)&j->client;
	ev.clientlen = j->clientlen;
	ev.duration_ns = clock_mono_ns() - j->start;
	ev.reason = "connect-failed";
	ev.side = "target";
	ev.error = e->msg;
	j->f->on_event(j->f->ctx, &ev);
}

/* The target is connected (@tfd): both sides may talk now. */
static void job_connected(struct job *j, int tfd)
{
	int fl = fcntl(tfd, F_GETFL);

	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(tfd, F_SETFL, fl | O_NONBLOCK);
	j->targetlen = sizeof(j->target);
	if (getpeername(tfd, (struct sockaddr *)&j->target, &j->targetlen))
		j->targetlen = 0;
	if (j->f->tls_client || j->f->tls_target) {
		/* TLS cannot be spliced: lib/forward_tls moves this pair */
		forward_tls_start(j->loop, j->f, j->wc.fd, tfd, j->id, j->start,
				  (const struct sockaddr *)&j->client, j->clientlen,
				  (const struct sockaddr *)&j->target, j->targetlen);
		j->dead = 1;
		server_defer_free(j->loop, j);
		return;
	}
	j->wc.ready = client_ready;
	j->wt.ready = target_ready;
	j->wt.fd = tfd;
	dir_init(&j->up, j->wc.fd, tfd);
	dir_init(&j->down, tfd, j->wc.fd);
	job_step(j);
}

/* The target could not be reached: the client is reset, its place freed. */
static void job_unreachable(struct job *j, const struct err *e)
{
	connect_failed(j, e);
	server_reset_close(j->wc.fd); /* refused or unreachable: the client learns by an RST */
	j->dead = 1;
	server_release(j->loop);
	server_defer_free(j->loop, j);
}

/* ---- connecting without stopping the loop: lib/sock_connect's race, in steps ---- */

struct cwatch {
	struct server_watch w; /* first: the loop hands it back */
	struct conn *c;
	int active;
};

struct conn {
	struct cwatch a[SOCK_RACE_MAX]; /* the attempts in flight */
	int n;
	struct cwatch tw;               /* a timerfd: the race's next wake */
	struct job *j;
	struct sock_race *race;
};

static void race_ready(struct server_watch *w, uint32_t events);

static void conn_disarm(struct conn *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (c->a[i].active) {
			server_watch_del(c->j->loop, &c->a[i].w);
			c->a[i].active = 0;
		}
	c->n = 0;
}

/* Watch what the race has in flight, and its next wake. */
static void conn_arm(struct conn *c)
{
	struct itimerspec its;
	int fds[SOCK_RACE_MAX], i, n = sock_race_fds(c->race, fds, SOCK_RACE_MAX);
	int64_t wake = sock_race_wake(c->race);

	for (i = 0; i < n; i++) {
		c->a[i].w.ready = race_ready;
		c->a[i].c = c;
		c->a[i].active = !server_watch_add(c->j->loop, &c->a[i].w, fds[i], EPOLLOUT);
	}
	c->n = n;
	memset(&its, 0, sizeof(its));
	if (wake >= 0) {
		/* all zero would disarm it: a deadline already past fires at once */
		its.it_value.tv_sec = wake / NS_PER_SEC;
		its.it_value.tv_nsec = (wake % NS_PER_SEC) ? (wake % NS_PER_SEC) : 1;
	}
	timerfd_settime(c->tw.w.fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* One step of the race, @ready the attempts now writable (none: the timer). */
static void conn_step(struct conn *c, const int *ready, int nready)
{
	struct job *j = c->j;
	struct err e = { 0 };
	int tfd = -1, rc;

	conn_disarm(c); /* a step may close attempts: their numbers may come back */
	rc = sock_race_step(c->race, ready, nready, &tfd, &e);
	if (rc == 0) {
		conn_arm(c);
		return;
	}
	server_watch_del(j->loop, &c->tw.w);
	close(c->tw.w.fd);
	c->tw.active = 0;
	sock_race_end(c->race);
	c->race = NULL;
	j->conn = NULL;
	server_defer_free(j->loop, c); /* events of this batch may still name it */
	if (rc < 0)
		job_unreachable(j, &e);
	else
		job_connected(j, tfd);
}

static void race_ready(struct server_watch *w, uint32_t events)
{
	struct cwatch *cw = (struct cwatch *)(void *)w;
	struct pollfd p = { .fd = w->fd, .events = POLLOUT };
	int fd = w->fd;

	(void)events;
	/* an event left from before a re-arm may name a slot that now holds
	 * another attempt: only one that is really done counts */
	if (!cw->active || !cw->c->race || poll(&p, 1, 0) != 1)
		return;
	conn_step(cw->c, &fd, 1);
}

static void race_timer(struct server_watch *w, uint32_t events)
{
	struct cwatch *cw = (struct cwatch *)(void *)w;
	uint64_t n;

	(void)events;
	if (!cw->active || !cw->c->race)
		return;
	if (read(w->fd, &n, sizeof(n)) < 0 && errno == EAGAIN)
		return;
	conn_step(cw->c, NULL, 0);
}

/* Start connecting to the target; the job goes on in race_ready and race_timer. */
static void conn_begin(struct job *j)
{
	const struct forward_server *f = j->f;
	struct err e = { 0 };
	struct conn *c;
	int tfd = -1, rc, timer;

	rc = sock_race_begin(f->target.host, f->target.service, &f->co, &j->conn_race, &tfd, &e);
	if (rc > 0) {
		job_connected(j, tfd);
		return;
	}
	if (rc < 0) {
		job_unreachable(j, &e);
		return;
	}
	timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	c = calloc(1, sizeof(*c));
	if (!c || timer < 0) {
		free(c);
		if (timer >= 0)
			close(timer);
		sock_race_end(j->conn_race);
		err_sys(&e, EXIT_FAIL, ENOMEM, "connecting");
		job_unreachable(j, &e);
		return;
	}
	c->j = j;
	c->race = j->conn_race;
	j->conn_race = NULL;
	j->conn = c;
	c->tw.w.ready = race_timer;
	c->tw.c = c;
	c->tw.active = !server_watch_add(j->loop, &c->tw.w, timer, EPOLLIN);
	if (!c->tw.active)
		c->tw.w.fd = timer; /* closed with it all the same */
	conn_arm(c);
}

static int job_start(void *ctx, struct server_loop *l, int fd, uint64_t id,
		     const struct sockaddr *peer, socklen_t peerlen)
{
	struct forward_server *f = ctx;
	struct job *j = calloc(1, sizeof(*j));
	struct err e = { 0 };
	int tfd = -1;

	if (!j) {
		server_reset_close(fd);
		return -1;
	}
	j->loop = l;
	j->f = f;
	j->id = id;
	j->start = clock_mono_ns();
	j->clientlen = peerlen > sizeof(j->client) ? sizeof(j->client) : peerlen;
	memcpy(&j->client, peer, j->clientlen);
	j->wc.fd = fd;
	/* nothing is read from the client before the target is there */
	if (!f->open_target && f->target.kind == EP_INET) {
		conn_begin(j);
		return 0;
	}
	/* a Unix target answers at once; a replacement hook is its own affair */
	if ((f->open_target ? f->open_target : forward_open_default)(f, &tfd, &e)) {
		connect_failed(j, &e);
		server_reset_close(fd);
		free(j);
		return -1;
	}
	job_connected(j, tfd);
	return 0;
}

void forward_server_init(struct forward_server *f, const struct endpoint *target,
			 forward_event_fn fn, void *ctx)
{
	memset(f, 0, sizeof(*f));
	f->target = *target;
	sock_connect_opts_init(&f->co);
	f->co.type = SOCK_STREAM;
	f->on_event = fn;
	f->ctx = ctx;
	f->handoff.start = job_start;
	f->handoff.ctx = f;
}
