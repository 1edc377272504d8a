/* SPDX-License-Identifier: MIT */
/* listen -u --forward: one connected outbound UDP socket per client address. */
#include "forward.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"

#define MAX_LISTENERS 16
#define MAX_EVENTS 128
#define DGRAM_MAX 65536
/* datagrams read from one socket per wake-up: the others get their turn */
#define READS_PER_WAKE 64

struct sess {
	int kind; /* 1; a listener's slot has 0 */
	int fd;
	int lfd;  /* the listening socket the client talks to */
	struct sess *prev, *next; /* least recently active first */
	struct sess *grave;       /* ended: freed after the batch of events */
	uint64_t id, up, down;
	int64_t start, last;
	socklen_t peerlen;
	struct sockaddr_storage peer;
};

struct lslot {
	int kind; /* 0 */
	int fd;
};

struct fu {
	const struct server_opts *o;
	struct forward_server *f;
	int ep;
	int64_t idle;
	struct sess *head, *tail;
	struct sess *grave;       /* ended sessions, freed by bury() */
	size_t nsess;
	uint64_t next_id;
	int done;
	char buf[DGRAM_MAX];
};

static void unlink_sess(struct fu *u, struct sess *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		u->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		u->tail = s->prev;
	s->prev = s->next = NULL;
}

static void append_sess(struct fu *u, struct sess *s)
{
	s->prev = u->tail;
	s->next = NULL;
	if (u->tail)
		u->tail->next = s;
	else
		u->head = s;
	u->tail = s;
}

static void touch(struct fu *u, struct sess *s)
{
	s->last = clock_mono_ns();
	if (u->tail != s) {
		unlink_sess(u, s);
		append_sess(u, s);
	}
}

static void server_ev(const struct fu *u, enum server_ev_type type, const struct sess *s,
		      const struct sockaddr_storage *peer, socklen_t len, const char *why)
{
	struct server_event ev;

	if (!u->o->on_event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.id = s ? s->id : 0;
	ev.peer = (const struct sockaddr *)peer;
	ev.peerlen = len;
	ev.reason = why;
	u->o->on_event(u->o->ctx, &ev);
}

static void sess_end(struct fu *u, struct sess *s, const char *reason, int errnum)
{
	struct forward_event ev;
	struct sockaddr_storage t;
	socklen_t tl = sizeof(t);

	memset(&ev, 0, sizeof(ev));
	ev.id = s->id;
	ev.client = (const struct sockaddr *)&s->peer;
	ev.clientlen = s->peerlen;
	if (!getpeername(s->fd, (struct sockaddr *)&t, &tl)) {
		ev.target = (const struct sockaddr *)&t;
		ev.targetlen = tl;
	}
	ev.bytes_up = s->up;
	ev.bytes_down = s->down;
	ev.duration_ns = clock_mono_ns() - s->start;
	ev.reason = reason;
	ev.side = errnum ? "target" : NULL;
	ev.errnum = errnum;
	if (u->f->on_event)
		u->f->on_event(u->f->ctx, &ev);
	epoll_ctl(u->ep, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	unlink_sess(u, s);
	u->nsess--;
	/* a later event of this batch may point at it: it is marked, then freed */
	s->kind = -1;
	s->fd = -1;
	s->grave = u->grave;
	u->grave = s;
	if (!u->o->keep_open)
		u->done = 1;
}

static struct sess *find(const struct fu *u, const struct sockaddr_storage *peer, socklen_t len)
{
	struct sess *s;

	for (s = u->tail; s; s = s->prev)
		if (s->peerlen == len && !memcmp(&s->peer, peer, len))
			return s;
	return NULL;
}

static struct sess *sess_new(struct fu *u, int lfd, const struct sockaddr_storage *peer,
			     socklen_t len)
{
	const char *why = NULL;
	struct forward_event fev;
	struct err e = { 0 };
	struct epoll_event ev;
	struct sess *s;
	int fd = -1;

	if (!server_allowed(u->o, (const struct sockaddr *)peer, &why)) {
		server_ev(u, SERVER_EV_REFUSED, NULL, peer, len, why);
		return NULL;
	}
	if ((u->o->max_conns > 0 && u->nsess >= (size_t)u->o->max_conns) ||
	    (!u->o->keep_open && u->next_id)) {
		server_ev(u, SERVER_EV_REFUSED, NULL, peer, len, "max-conns");
		return NULL;
	}
	if (!(s = calloc(1, sizeof(*s))))
		return NULL;
	s->kind = 1;
	s->lfd = lfd;
	s->peer = *peer;
	s->peerlen = len;
	s->id = ++u->next_id;
	s->start = s->last = clock_mono_ns();
	server_ev(u, SERVER_EV_CONNECTION, s, peer, len, NULL);
	if (u->f->open_target ? u->f->open_target(u->f, &fd, &e) : forward_open_default(u->f, &fd, &e)) {
		memset(&fev, 0, sizeof(fev));
		fev.id = s->id;
		fev.client = (const struct sockaddr *)peer;
		fev.clientlen = len;
		fev.reason = "connect-failed";
		fev.side = "target";
		fev.error = e.msg;
		if (u->f->on_event)
			u->f->on_event(u->f->ctx, &fev);
		free(s);
		if (!u->o->keep_open)
			u->done = 1;
		return NULL;
	}
	s->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	ev.events = EPOLLIN;
	ev.data.ptr = s;
	if (epoll_ctl(u->ep, EPOLL_CTL_ADD, fd, &ev)) {
		close(fd);
		free(s);
		return NULL;
	}
	append_sess(u, s);
	u->nsess++;
	return s;
}

/* Client datagrams on listener @fd to their sessions. */
static int from_clients(struct fu *u, int fd, struct err *e)
{
	int i;

	for (i = 0; i < READS_PER_WAKE && !u->done; i++) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		ssize_t n = recvfrom(fd, u->buf, sizeof(u->buf), MSG_DONTWAIT,
				     (struct sockaddr *)&peer, &len);
		struct sess *s;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n < 0 && (errno == ECONNREFUSED || errno == EHOSTUNREACH ||
			      errno == ENETUNREACH))
			continue; /* an ICMP error about an earlier reply: not ours to end */
		if (n < 0)
			return err_sys(e, EXIT_FAIL, errno, "recvfrom");
		if (len > sizeof(peer))
			len = sizeof(peer);
		s = find(u, &peer, len);
		if (!s && !(s = sess_new(u, fd, &peer, len)))
			continue;
		/* a full send buffer drops the datagram, as the network would */
		if (send(s->fd, u->buf, (size_t)n, MSG_DONTWAIT) >= 0)
			s->up += (uint64_t)n;
		touch(u, s);
	}
	return 0;
}

/* The target's replies for @s back to its client. */
static void from_target(struct fu *u, struct sess *s)
{
	int i;

	for (i = 0; i < READS_PER_WAKE; i++) {
		ssize_t n = recv(s->fd, u->buf, sizeof(u->buf), MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			sess_end(u, s, "error", errno); /* ECONNREFUSED: nothing there */
			return;
		}
		if (sendto(s->lfd, u->buf, (size_t)n, MSG_DONTWAIT,
			   (struct sockaddr *)&s->peer, s->peerlen) >= 0)
			s->down += (uint64_t)n;
		touch(u, s);
	}
}

static void bury(struct fu *u)
{
	while (u->grave) {
		struct sess *s = u->grave;

		u->grave = s->grave;
		free(s);
	}
}

static void expire(struct fu *u)
{
	int64_t now = clock_mono_ns();

	while (u->head && now >= u->head->last + u->idle && !u->done)
		sess_end(u, u->head, "idle-timeout", 0);
}

int forward_udp_run(const int *fds, int n, struct forward_server *f,
		    const struct server_opts *o, struct err *e)
{
	struct lslot ls[MAX_LISTENERS];
	struct epoll_event evs[MAX_EVENTS];
	struct fu *u = calloc(1, sizeof(*u));
	int i, rc = 0;

	if (!u)
		return err_set(e, EXIT_FAIL, "out of memory");
	if (n > MAX_LISTENERS)
		n = MAX_LISTENERS;
	u->o = o;
	u->f = f;
	u->idle = o->idle_timeout >= 0 ? o->idle_timeout : FORWARD_UDP_IDLE;
	f->co.type = SOCK_DGRAM;
	u->ep = epoll_create1(EPOLL_CLOEXEC);
	if (u->ep < 0) {
		free(u);
		return err_sys(e, EXIT_FAIL, errno, "epoll_create1");
	}
	for (i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &ls[i] };

		ls[i].kind = 0;
		ls[i].fd = fds[i];
		epoll_ctl(u->ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
	while (!u->done && !rc) {
		int64_t d = u->head ? u->head->last + u->idle : -1;
		int k, got = epoll_wait(u->ep, evs, MAX_EVENTS, clock_ms_until(d));

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = err_sys(e, EXIT_FAIL, errno, "epoll_wait");
			break;
		}
		for (k = 0; k < got && !rc && !u->done; k++) {
			int kind = *(const int *)evs[k].data.ptr;

			if (kind == 0) {
				rc = from_clients(u, ((struct lslot *)evs[k].data.ptr)->fd, e);
			} else if (kind == 1) {
				from_target(u, evs[k].data.ptr);
			}
		}
		bury(u);
		expire(u);
		bury(u);
	}
	while (u->head)
		sess_end(u, u->head, "shutdown", 0);
	bury(u);
	close(u->ep);
	free(u);
	return rc;
}
