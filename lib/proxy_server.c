/* SPDX-License-Identifier: MIT */
/* listen --proxy-server: SOCKS5 and HTTP CONNECT on epoll, splice relay with half-close. */
#include "proxy_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"

#define PIPE_SIZE ((size_t)256 * 1024)

enum pstate { P_GREET, P_AUTH, P_REQUEST, P_CONNECTING, P_RELAY };

struct pclient;
struct tag {
	struct pclient *c; /* NULL: a listener */
	int fd;
};

/* One direction of the relay: from @src through the pipe to @dst. */
struct dir {
	int pipe[2];
	size_t queued; /* bytes in the pipe */
	int eof;       /* @src said EOF */
	int shut;      /* @dst was shut down for writing */
	uint64_t bytes;
};

struct pclient {
	struct tag ct, tt; /* client socket, target socket (-1 until connecting) */
	enum pstate st;
	uint8_t buf[PROXY_REPLY_MAX];
	size_t n;
	struct dir up, down; /* client -> target, target -> client */
	uint64_t id;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	int64_t start, last;
	char target[PROXY_FIELD_MAX + 1];
	uint16_t port;
	int http_version;
	int dead; /* finished: freed after the current batch of events */
	struct pclient *next;
};

struct psrv {
	const struct proxy_server_opts *o;
	int ep;
	struct tag *ltags;
	int nl;
	struct pclient *clients, *dead;
	size_t nclients;
	uint64_t next_id;
	int done, first_ok; /* without keep_open: the first client is gone, and how */
	char first_why[200];
};

int proxy_creds_load(const char *path, struct proxy_cred **creds, size_t *n, struct err *e)
{
	FILE *f = fopen(path, "re");
	char line[2 * PROXY_FIELD_MAX + 8];
	struct proxy_cred *c = NULL, *nc;
	size_t cnt = 0, lineno = 0;

	if (!f)
		return err_sys(e, EXIT_USAGE, errno, "--proxy-auth %.200s", path);
	while (fgets(line, sizeof(line), f)) {
		char *colon, *end;

		lineno++;
		end = line + strcspn(line, "\r\n");
		if (!*end && !feof(f)) {
			free(c);
			fclose(f);
			return err_set(e, EXIT_USAGE, "--proxy-auth %.200s line %zu: too long", path,
				       lineno);
		}
		*end = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		colon = strchr(line, ':');
		if (!colon || colon == line || (size_t)(colon - line) > PROXY_FIELD_MAX ||
		    strlen(colon + 1) > PROXY_FIELD_MAX) {
			free(c);
			fclose(f);
			return err_set(e, EXIT_USAGE, "--proxy-auth %.200s line %zu: give USER:PASSWORD "
				       "(1-255 bytes each)", path, lineno);
		}
		nc = realloc(c, (cnt + 1) * sizeof(*c));
		if (!nc) {
			free(c);
			fclose(f);
			return err_set(e, EXIT_FAIL, "out of memory");
		}
		c = nc;
		memcpy(c[cnt].user, line, (size_t)(colon - line));
		c[cnt].user[colon - line] = '\0';
		memcpy(c[cnt].pass, colon + 1, strlen(colon + 1) + 1);
		cnt++;
	}
	fclose(f);
	if (!cnt) {
		free(c);
		return err_set(e, EXIT_USAGE, "--proxy-auth %.200s: no USER:PASSWORD line", path);
	}
	*creds = c;
	*n = cnt;
	return 0;
}

/* ---- events, closing ---- */

static void emit(struct psrv *s, enum proxy_sev_type type, const struct pclient *c,
		 const char *reason, const char *detail, int ok)
{
	struct proxy_server_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.id = c->id;
	ev.peer = (const struct sockaddr *)&c->peer;
	ev.peerlen = c->peerlen;
	ev.target = c->target;
	ev.port = c->port;
	ev.up = c->up.bytes;
	ev.down = c->down.bytes;
	ev.duration_ns = clock_mono_ns() - c->start;
	ev.reason = reason;
	ev.detail = detail;
	ev.ok = ok;
	if (s->o->on_event)
		s->o->on_event(s->o->ctx, &ev);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void dir_free(struct dir *d)
{
	close_fd(&d->pipe[0]);
	close_fd(&d->pipe[1]);
}

/*
 * The client is gone: one END event, everything closed, the client moved to
 * the dead list (an event of the same batch may still point at it).
 */
static void finish(struct psrv *s, struct pclient *c, const char *reason, const char *detail,
		   int ok)
{
	struct pclient **pp;

	emit(s, PROXY_SEV_END, c, reason, detail, ok);
	if (!s->o->so->keep_open) {
		s->done = 1;
		s->first_ok = ok;
		snprintf(s->first_why, sizeof(s->first_why), "%s%s%s", reason, detail ? ": " : "",
			 detail ? detail : "");
	}
	close_fd(&c->ct.fd);
	close_fd(&c->tt.fd);
	dir_free(&c->up);
	dir_free(&c->down);
	for (pp = &s->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	s->nclients--;
	c->dead = 1;
	c->next = s->dead;
	s->dead = c;
}

static void bury(struct psrv *s)
{
	while (s->dead) {
		struct pclient *c = s->dead;

		s->dead = c->next;
		free(c);
	}
}

/* Small replies go to a socket whose buffer is empty: they never block. */
static int reply(struct pclient *c, const void *buf, size_t n)
{
	return send(c->ct.fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)n ? 0 : -1;
}

static void s5_fail(struct psrv *s, struct pclient *c, int rep, const char *reason,
		    const char *detail)
{
	uint8_t r[10] = { 5, (uint8_t)rep, 0, 1, 0, 0, 0, 0, 0, 0 };

	reply(c, r, sizeof(r));
	finish(s, c, reason, detail, 0);
}

static void http_fail(struct psrv *s, struct pclient *c, const char *status, const char *reason,
		      const char *detail)
{
	char r[256];
	int n = snprintf(r, sizeof(r), "HTTP/1.%d %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n",
			 c->http_version, status,
			 !strncmp(status, "407", 3) ? "Proxy-Authenticate: Basic realm=\"sockctl\"\r\n"
						    : "");

	reply(c, r, (size_t)n);
	finish(s, c, reason, detail, 0);
}

static void fail_target(struct psrv *s, struct pclient *c, const char *reason, int rep,
			const char *http_status, const char *detail)
{
	if (s->o->kind == PROXY_HTTP)
		http_fail(s, c, http_status, reason, detail);
	else
		s5_fail(s, c, rep, reason, detail);
}

/* ---- epoll interest ---- */

static void watch(struct psrv *s, struct tag *t, uint32_t ev, int add)
{
	struct epoll_event e = { .events = ev, .data.ptr = t };

	if (t->fd >= 0)
		epoll_ctl(s->ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, t->fd, &e);
}

static void update(struct psrv *s, struct pclient *c)
{
	uint32_t ce = 0, te = 0;

	if (c->st == P_RELAY) {
		if (!c->up.eof && c->up.queued < PIPE_SIZE)
			ce |= EPOLLIN;
		if (c->down.queued)
			ce |= EPOLLOUT;
		if (!c->down.eof && c->down.queued < PIPE_SIZE)
			te |= EPOLLIN;
		if (c->up.queued)
			te |= EPOLLOUT;
		watch(s, &c->tt, te, 0);
	} else if (c->st == P_CONNECTING) {
		watch(s, &c->tt, EPOLLOUT, 0);
	} else {
		ce = EPOLLIN;
	}
	watch(s, &c->ct, ce, 0);
}

/* ---- the relay ---- */

/* Move what can move in @d from @src to @dst; -1 on a reset or error (errno). */
static int pump(struct dir *d, int src, int dst)
{
	ssize_t k;

	if (!d->eof && d->queued < PIPE_SIZE) {
		k = splice(src, NULL, d->pipe[1], NULL, PIPE_SIZE - d->queued,
			   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (k == 0)
			d->eof = 1;
		else if (k > 0)
			d->queued += (size_t)k;
		else if (errno != EAGAIN && errno != EINTR)
			return -1;
	}
	while (d->queued) {
		k = splice(d->pipe[0], NULL, dst, NULL, d->queued, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (k > 0) {
			d->queued -= (size_t)k;
			d->bytes += (uint64_t)k;
			continue;
		}
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		return -1;
	}
	if (d->eof && !d->queued && !d->shut) {
		shutdown(dst, SHUT_WR);
		d->shut = 1;
	}
	return 0;
}

static void relay(struct psrv *s, struct pclient *c, uint32_t ev)
{
	char why[ERR_DESC_LEN];
	int err = 0;
	socklen_t el = sizeof(err);

	c->last = clock_mono_ns();
	if (ev & EPOLLERR) {
		getsockopt(c->ct.fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (!err)
			getsockopt(c->tt.fd, SOL_SOCKET, SO_ERROR, &err, &el);
		finish(s, c, "reset", err_strerror(err ? err : ECONNRESET, why, sizeof(why)), 0);
		return;
	}
	if (pump(&c->up, c->ct.fd, c->tt.fd) || pump(&c->down, c->tt.fd, c->ct.fd)) {
		finish(s, c, errno == ECONNRESET || errno == EPIPE ? "reset" : "error",
		       err_strerror(errno, why, sizeof(why)), 0);
		return;
	}
	if (c->up.shut && c->down.shut) {
		finish(s, c, "eof", NULL, 1);
		return;
	}
	update(s, c);
}

static int open_pipe(struct dir *d)
{
	if (pipe2(d->pipe, O_CLOEXEC | O_NONBLOCK))
		return -1;
	fcntl(d->pipe[1], F_SETPIPE_SZ, (int)PIPE_SIZE);
	return 0;
}

/* The target answered (or not): reply, and start the relay. */
static void connected(struct psrv *s, struct pclient *c)
{
	int err = 0;
	socklen_t el = sizeof(err);
	struct sockaddr_storage b = { 0 };
	socklen_t bl = sizeof(b);
	uint8_t r[22] = { 5, 0, 0, 1 };
	char why[ERR_DESC_LEN];
	size_t rl = 10;

	getsockopt(c->tt.fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err) {
		err_strerror(err, why, sizeof(why));
		if (err == ECONNREFUSED)
			fail_target(s, c, "refused", 5, "502 Bad Gateway", why);
		else if (err == ENETUNREACH)
			fail_target(s, c, "unreachable", 3, "502 Bad Gateway", why);
		else
			fail_target(s, c, "unreachable", 4, "502 Bad Gateway", why);
		return;
	}
	if (open_pipe(&c->up) || open_pipe(&c->down)) {
		fail_target(s, c, "error", 1, "500 Internal Server Error", "pipe2 failed");
		return;
	}
	if (s->o->kind == PROXY_HTTP) {
		char h[64];
		int n = snprintf(h, sizeof(h), "HTTP/1.%d 200 Connection established\r\n\r\n",
				 c->http_version);

		err = reply(c, h, (size_t)n);
	} else {
		getsockname(c->tt.fd, (struct sockaddr *)&b, &bl);
		if (b.ss_family == AF_INET6) {
			r[3] = 4;
			memcpy(r + 4, &((struct sockaddr_in6 *)&b)->sin6_addr, 16);
			memcpy(r + 20, &((struct sockaddr_in6 *)&b)->sin6_port, 2);
			rl = 22;
		} else {
			memcpy(r + 4, &((struct sockaddr_in *)&b)->sin_addr, 4);
			memcpy(r + 8, &((struct sockaddr_in *)&b)->sin_port, 2);
		}
		err = reply(c, r, rl);
	}
	/* bytes the client sent after its request, before our answer */
	if (!err && c->n) {
		err = send(c->tt.fd, c->buf, c->n, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)c->n;
		c->up.bytes += c->n;
		c->n = 0;
	}
	if (err) {
		finish(s, c, "reset", "the client left before the tunnel opened", 0);
		return;
	}
	c->st = P_RELAY;
	emit(s, PROXY_SEV_TUNNEL, c, NULL, NULL, 0);
	watch(s, &c->tt, 0, 0);
	relay(s, c, 0);
}

static void start_connect(struct psrv *s, struct pclient *c, const char *host, uint16_t port)
{
	struct addrinfo hints, *res = NULL;
	char svc[8], why[ERR_DESC_LEN];
	int rc, fd;

	snprintf(c->target, sizeof(c->target), "%s", host);
	c->port = port;
	snprintf(svc, sizeof(svc), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = s->o->family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, svc, &hints, &res);
	if (rc) {
		fail_target(s, c, "not-found", 4, "502 Bad Gateway",
			    err_gai_strerror(rc, why, sizeof(why)));
		return;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || (connect(fd, res->ai_addr, res->ai_addrlen) && errno != EINPROGRESS)) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		fail_target(s, c, err == ECONNREFUSED ? "refused" : "unreachable",
			    err == ECONNREFUSED ? 5 : err == ENETUNREACH ? 3 : 4, "502 Bad Gateway",
			    err_strerror(err, why, sizeof(why)));
		return;
	}
	freeaddrinfo(res);
	c->tt.fd = fd;
	c->st = P_CONNECTING;
	watch(s, &c->tt, EPOLLOUT, 1);
	watch(s, &c->ct, 0, 0);
}

static int cred_ok(const struct psrv *s, const char *user, const char *pass)
{
	size_t i;

	for (i = 0; i < s->o->ncreds; i++)
		if (!strcmp(s->o->creds[i].user, user) && !strcmp(s->o->creds[i].pass, pass))
			return 1;
	return 0;
}

/* One complete message at the head of c->buf: act on it. 1: go on parsing, 0: stop. */
static int handle(struct psrv *s, struct pclient *c, const struct proxy_request *q)
{
	memmove(c->buf, c->buf + q->len, c->n - q->len);
	c->n -= q->len;
	if (s->o->kind == PROXY_HTTP) {
		c->http_version = q->http_version;
		snprintf(c->target, sizeof(c->target), "%s", q->host);
		c->port = q->port;
		if (s->o->ncreds && (!q->has_auth || !cred_ok(s, q->user, q->pass))) {
			http_fail(s, c, "407 Proxy Authentication Required", "auth-failed",
				  q->has_auth ? "wrong user name or password" : "no credentials");
			return 0;
		}
		start_connect(s, c, q->host, q->port);
		return 0;
	}
	switch (c->st) {
	case P_GREET:
		if (s->o->ncreds ? !q->userpass : !q->no_auth) {
			reply(c, "\x05\xff", 2);
			finish(s, c, "no-method",
			       s->o->ncreds ? "user/password not offered" : "no-auth not offered", 0);
			return 0;
		}
		c->st = s->o->ncreds ? P_AUTH : P_REQUEST;
		return reply(c, s->o->ncreds ? "\x05\x02" : "\x05\x00", 2) ? 0 : 1;
	case P_AUTH:
		if (!cred_ok(s, q->user, q->pass)) {
			reply(c, "\x01\x01", 2);
			finish(s, c, "auth-failed", "wrong user name or password", 0);
			return 0;
		}
		c->st = P_REQUEST;
		return reply(c, "\x01\x00", 2) ? 0 : 1;
	default:
		snprintf(c->target, sizeof(c->target), "%s", q->host);
		c->port = q->port;
		if (q->cmd != 1) {
			s5_fail(s, c, 7, "bad-request", "only CONNECT is supported");
			return 0;
		}
		start_connect(s, c, q->host, q->port);
		return 0;
	}
}

static void handshake(struct psrv *s, struct pclient *c)
{
	static const enum proxy_sreq_step steps[] = { PROXY_SREQ_GREETING, PROXY_SREQ_AUTH,
						      PROXY_SREQ_REQUEST };
	struct proxy_request q;
	enum proxy_verdict v;
	ssize_t k;
	char why[ERR_DESC_LEN];

	k = recv(c->ct.fd, c->buf + c->n, sizeof(c->buf) - c->n, 0);
	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (k <= 0) {
		finish(s, c, k ? "reset" : "eof",
		       k ? err_strerror(errno, why, sizeof(why)) : "the client left in the handshake",
		       0);
		return;
	}
	c->n += (size_t)k;
	c->last = clock_mono_ns();
	for (;;) {
		v = proxy_request_parse(s->o->kind, steps[c->st], c->buf, c->n, &q);
		if (v == PROXY_MORE) {
			if (c->n >= sizeof(c->buf))
				finish(s, c, "bad-request", "request too long", 0);
			return;
		}
		if (v == PROXY_BAD) {
			if (s->o->kind == PROXY_HTTP)
				http_fail(s, c, "400 Bad Request", "bad-request", q.text);
			else if (c->st == P_REQUEST)
				s5_fail(s, c, 1, "bad-request", q.text);
			else
				finish(s, c, "bad-request", q.text, 0);
			return;
		}
		if (!handle(s, c, &q))
			return;
	}
}

/* ---- accepting, the loop ---- */

static void accept_one(struct psrv *s, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct pclient *c, tmp;
	const char *why;
	int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	memset(&tmp, 0, sizeof(tmp));
	tmp.id = ++s->next_id;
	tmp.peer = ss;
	tmp.peerlen = len;
	tmp.start = clock_mono_ns();
	if (!server_allowed(s->o->so, (struct sockaddr *)&ss, &why) ||
	    (s->o->so->max_conns > 0 && s->nclients >= (size_t)s->o->so->max_conns) ||
	    !(c = calloc(1, sizeof(*c)))) {
		if (s->o->so->max_conns > 0 && s->nclients >= (size_t)s->o->so->max_conns)
			why = "max-conns";
		emit(s, PROXY_SEV_REFUSED, &tmp, why, NULL, 0);
		server_reset_close(fd);
		return;
	}
	*c = tmp;
	c->ct.c = c->tt.c = c;
	c->ct.fd = fd;
	c->tt.fd = -1;
	c->up.pipe[0] = c->up.pipe[1] = c->down.pipe[0] = c->down.pipe[1] = -1;
	c->last = c->start;
	c->http_version = 1;
	c->st = P_GREET;
	c->next = s->clients;
	s->clients = c;
	s->nclients++;
	watch(s, &c->ct, EPOLLIN, 1);
	if (!s->o->so->keep_open) {
		int i;

		for (i = 0; i < s->nl; i++)
			epoll_ctl(s->ep, EPOLL_CTL_DEL, s->ltags[i].fd, NULL);
	}
}

static void on_event(struct psrv *s, struct tag *t, uint32_t ev)
{
	struct pclient *c = t->c;

	if (!c) {
		accept_one(s, t->fd);
		return;
	}
	if (c->st == P_RELAY)
		relay(s, c, ev);
	else if (c->st == P_CONNECTING && t == &c->tt)
		connected(s, c);
	else if (c->st != P_CONNECTING)
		handshake(s, c);
	else if (ev & (EPOLLHUP | EPOLLERR))
		finish(s, c, "eof", "the client left while the target was being connected", 0);
}

/* Clients past their handshake or idle deadline; the ms until the next one. */
static int timeouts(struct psrv *s, int64_t accept_deadline)
{
	int64_t now = clock_mono_ns(), next = accept_deadline;
	struct pclient *c = s->clients, *nx;

	for (; c; c = nx) {
		int64_t dl = -1;

		nx = c->next;
		if (c->st != P_RELAY && s->o->handshake_timeout >= 0)
			dl = c->start + s->o->handshake_timeout;
		else if (c->st == P_RELAY && s->o->so->idle_timeout >= 0)
			dl = c->last + s->o->so->idle_timeout;
		if (dl >= 0 && dl <= now) {
			if (c->st == P_RELAY)
				finish(s, c, "idle", NULL, 0);
			else if (c->st == P_CONNECTING)
				fail_target(s, c, "timeout", 4, "504 Gateway Timeout",
					    "the target did not answer in time");
			else
				finish(s, c, "handshake-timeout", NULL, 0);
			continue;
		}
		next = clock_earliest(next, dl);
	}
	return clock_ms_until(next);
}

int proxy_server_run(const int *lfds, int nl, const struct proxy_server_opts *o, struct err *e)
{
	struct psrv s;
	struct epoll_event evs[64];
	int64_t accept_deadline = clock_deadline(o->so->accept_timeout);
	int i, n, rc = 0;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.nl = nl;
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	s.ltags = calloc((size_t)nl, sizeof(*s.ltags));
	if (s.ep < 0 || !s.ltags) {
		free(s.ltags);
		if (s.ep >= 0)
			close(s.ep);
		return err_sys(e, EXIT_FAIL, errno, "epoll");
	}
	for (i = 0; i < nl; i++) {
		s.ltags[i].fd = lfds[i];
		fcntl(lfds[i], F_SETFL, fcntl(lfds[i], F_GETFL) | O_NONBLOCK);
		watch(&s, &s.ltags[i], EPOLLIN, 1);
	}
	while (!s.done) {
		int ms = timeouts(&s, s.next_id ? -1 : accept_deadline);

		if (s.done)
			break;
		if (!s.next_id && accept_deadline >= 0 && ms == 0) {
			rc = err_set(e, EXIT_FAIL, "no client within the timeout");
			break;
		}
		n = epoll_wait(s.ep, evs, 64, ms);
		if (n < 0 && errno != EINTR) {
			rc = err_sys(e, EXIT_FAIL, errno, "epoll_wait");
			break;
		}
		/* one event at a time: a finished client is freed before the next is looked at */
		for (i = 0; i < n && !s.done; i++) {
			struct tag *t = evs[i].data.ptr;

			if (!t->c || !t->c->dead)
				on_event(&s, t, evs[i].events);
		}
		bury(&s);
	}
	while (s.clients)
		finish(&s, s.clients, "stopped", NULL, 0);
	bury(&s);
	if (!rc && !s.first_ok)
		rc = err_set(e, EXIT_FAIL, "proxy client: %s", s.first_why);
	close(s.ep);
	free(s.ltags);
	return rc;
}
