/* SPDX-License-Identifier: MIT */
#include "sock_connect.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "parse.h"

#define HE_MAX 64                  /* addresses tried at most */

void sock_connect_opts_init(struct sock_connect_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->type = SOCK_STREAM;
	o->timeout = -1;
	o->attempt_delay = -1;
}

/*
 * Tell the caller about an attempt that started at @t0 (CLOCK_MONOTONIC)
 * and has run @ns.  The callback may print, and printing may change errno:
 * every caller passes an errno saved right after its syscall, never errno.
 */
static void trace(const struct sock_connect_opts *o, int64_t begin, enum sock_event ev,
		  const struct addrinfo *ai, int err, int64_t t0, int64_t ns, int timed_out)
{
	struct sock_attempt a = { ev, ai->ai_addr, ai->ai_addrlen, err, ns, t0 - begin,
				  timed_out };

	if (o->trace)
		o->trace(o->ctx, &a);
}

/* RFC 8305 section 4: alternate the families, starting with the first answer's. */
static size_t interleave(struct addrinfo *res, const struct addrinfo **out, size_t max)
{
	const struct addrinfo *ai, *first[HE_MAX], *second[HE_MAX];
	size_t n1 = 0, n2 = 0, i = 0, j = 0, n = 0;
	int fam = res ? res->ai_family : 0;

	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == fam && n1 < HE_MAX)
			first[n1++] = ai;
		else if (ai->ai_family != fam && n2 < HE_MAX)
			second[n2++] = ai;
	}
	while ((i < n1 || j < n2) && n < max) {
		if (i < n1)
			out[n++] = first[i++];
		if (j < n2 && n < max)
			out[n++] = second[j++];
	}
	return n;
}

struct inflight {
	int fd;
	int64_t start;
	const struct addrinfo *ai;
};

struct race {
	const struct sock_connect_opts *o;
	int64_t begin;          /* when sock_connect began */
	struct inflight fl[HE_MAX];
	int nfl;
	int last_err;           /* errno of the latest failure */
	const struct addrinfo *last_ai;
	int setup_failed;       /* e holds a local error (socket/bind/setsockopt) */
};

static void drop(struct race *r, int i)
{
	close(r->fl[i].fd);
	r->fl[i] = r->fl[--r->nfl];
}

/* Start one attempt: 1 connected at once (fd in *fd), 0 in flight or failed, -1 fatal. */
static int start(struct race *r, const struct addrinfo *ai, int *fd, struct err *e)
{
	int s = sock_open(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK, ai->ai_protocol,
			  r->o->so, e);
	int64_t t0 = clock_mono_ns();
	struct sockaddr_storage dst; /* ai's address, with --flowlabel's label */
	int err;

	if (s < 0 && r->o->so && r->o->so->mptcp > 0) {
		r->setup_failed = 1; /* no MPTCP: no other address has it either */
		return -1;
	}
	if (s < 0) {
		r->last_err = errno;
		r->last_ai = ai;
		return 0; /* e.g. no IPv6 in this kernel: the next address may do */
	}
	memcpy(&dst, ai->ai_addr, ai->ai_addrlen);
	if ((r->o->so && sock_apply_opts(s, ai->ai_family, ai->ai_socktype, r->o->so, e)) ||
	    sock_bind_source(s, ai->ai_family, ai->ai_socktype, r->o->so, e) ||
	    sock_flowlabel(s, r->o->so, (struct sockaddr *)&dst, e)) {
		close(s);
		r->setup_failed = 1;
		return -1;
	}
	err = connect(s, (struct sockaddr *)&dst, ai->ai_addrlen) ? errno : 0;
	if (!err) {
		trace(r->o, r->begin, SOCK_EV_START, ai, 0, t0, clock_mono_ns() - t0, 0);
		trace(r->o, r->begin, SOCK_EV_RESULT, ai, 0, t0, clock_mono_ns() - t0, 0);
		*fd = s;
		return 1;
	}
	trace(r->o, r->begin, SOCK_EV_START, ai, err, t0, clock_mono_ns() - t0, 0);
	if (err == EINPROGRESS && r->nfl < HE_MAX) {
		r->fl[r->nfl].fd = s;
		r->fl[r->nfl].start = t0;
		r->fl[r->nfl++].ai = ai;
		return 0;
	}
	r->last_err = err;
	r->last_ai = ai;
	trace(r->o, r->begin, SOCK_EV_RESULT, ai, err, t0, clock_mono_ns() - t0, 0);
	close(s);
	return 0;
}

/* Collect finished attempts: 1 one connected (*fd), 0 none yet. */
static int reap(struct race *r, struct pollfd *p, int n, int *fd)
{
	int i, err;
	socklen_t len;

	for (i = n - 1; i >= 0; i--) {
		if (!p[i].revents)
			continue;
		err = 0;
		len = sizeof(err);
		if (getsockopt(r->fl[i].fd, SOL_SOCKET, SO_ERROR, &err, &len))
			err = errno;
		trace(r->o, r->begin, SOCK_EV_RESULT, r->fl[i].ai, err, r->fl[i].start,
		      clock_mono_ns() - r->fl[i].start, 0);
		if (!err) {
			*fd = r->fl[i].fd;
			r->fl[i] = r->fl[--r->nfl];
			return 1;
		}
		r->last_err = err;
		r->last_ai = r->fl[i].ai;
		drop(r, i);
	}
	return 0;
}

static int fail(struct race *r, size_t tried, int timed_out, struct err *e)
{
	char where[ADDR_STRLEN], dur[32], extra[48] = "";
	const struct addrinfo *ai = r->last_ai;

	if (!ai)
		return err_set(e, EXIT_FAIL, "no address to connect to");
	if (tried > 1)
		snprintf(extra, sizeof(extra), " (tried %zu addresses)", tried);
	addr_format(ai->ai_addr, ai->ai_addrlen, where, sizeof(where));
	if (timed_out)
		return err_set(e, EXIT_FAIL, "%s: connection timed out after %s%s", where,
			       parse_format_duration(r->o->timeout, dur, sizeof(dur)), extra);
	err_sys(e, EXIT_FAIL, r->last_err, "%s", where);
	strncat(e->msg, extra, sizeof(e->msg) - strlen(e->msg) - 1);
	return -1;
}

/* The state of one sock_connect, between steps (struct sock_race in the header). */
struct sock_race {
	struct race r;
	struct addrinfo *res;
	const struct addrinfo *list[HE_MAX];
	size_t n, next;
	int64_t deadline, next_at, delay;
};

/*
 * Move the race on without waiting: collect the attempts @p says are done,
 * time out, start the next address when due.  1 connected (*fd), 0 still
 * going, -1 failed (@e).
 */
static int race_step(struct sock_race *sr, struct pollfd *p, int np, int *fd, struct err *e)
{
	struct race *r = &sr->r;
	int64_t now;
	int i, rc;

	if (np > 0 && reap(r, p, np, fd))
		return 1;
	for (;;) {
		now = clock_mono_ns();
		if (sr->deadline >= 0 && now >= sr->deadline) {
			for (i = r->nfl - 1; i >= 0; i--) {
				trace(r->o, r->begin, SOCK_EV_RESULT, r->fl[i].ai, ETIMEDOUT,
				      r->fl[i].start, now - r->fl[i].start, 1);
				r->last_ai = r->fl[i].ai;
				drop(r, i);
			}
			return fail(r, sr->next, 1, e);
		}
		if (sr->next < sr->n && (r->nfl == 0 || now >= sr->next_at)) {
			rc = start(r, sr->list[sr->next++], fd, e);
			if (rc)
				return rc > 0 ? 1 : -1;
			sr->next_at = clock_mono_ns() + sr->delay;
			continue;
		}
		if (r->nfl == 0)
			return fail(r, sr->next, 0, e);
		return 0;
	}
}

int sock_race_begin(const char *host, const char *service, const struct sock_connect_opts *o,
		    struct sock_race **sr_out, int *fd, struct err *e)
{
	struct addrinfo hints;
	struct sock_race *sr = calloc(1, sizeof(*sr));
	int rc;

	*sr_out = NULL;
	if (!sr)
		return err_set(e, EXIT_FAIL, "out of memory");
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = o->family;
	hints.ai_socktype = o->type;
	if (sock_getaddrinfo(host && *host ? host : NULL, service, &hints, &sr->res, e)) {
		free(sr);
		return -1;
	}
	sr->r.o = o;
	sr->r.begin = clock_mono_ns();
	sr->n = interleave(sr->res, sr->list, HE_MAX);
	sr->deadline = clock_deadline(o->timeout);
	sr->delay = o->attempt_delay >= 0 ? o->attempt_delay : SOCK_ATTEMPT_DELAY;
	rc = race_step(sr, NULL, 0, fd, e);
	if (rc) {
		sock_race_end(sr);
		return rc > 0 ? 1 : -1;
	}
	*sr_out = sr;
	return 0;
}

int sock_race_fds(const struct sock_race *sr, int *fds, int max)
{
	int i;

	for (i = 0; i < sr->r.nfl && i < max; i++)
		fds[i] = sr->r.fl[i].fd;
	return i;
}

int64_t sock_race_wake(const struct sock_race *sr)
{
	return sr->next < sr->n ? clock_earliest(sr->deadline, sr->next_at) : sr->deadline;
}

int sock_race_step(struct sock_race *sr, const int *ready, int nready, int *fd, struct err *e)
{
	struct pollfd p[HE_MAX];
	int i, j;

	/* the in-flight attempts that are done: those @ready names */
	for (i = 0; i < sr->r.nfl; i++) {
		p[i].fd = sr->r.fl[i].fd;
		p[i].events = POLLOUT;
		p[i].revents = 0;
		for (j = 0; j < nready; j++)
			if (ready[j] == p[i].fd)
				p[i].revents = POLLOUT;
	}
	return race_step(sr, p, sr->r.nfl, fd, e);
}

void sock_race_end(struct sock_race *sr)
{
	int i;

	if (!sr)
		return;
	for (i = sr->r.nfl - 1; i >= 0; i--)
		drop(&sr->r, i); /* the losers of the race */
	freeaddrinfo(sr->res);
	free(sr);
}

int sock_connect(const char *host, const char *service, const struct sock_connect_opts *o,
		 int *fd, struct err *e)
{
	struct sock_race *sr;
	struct pollfd p[HE_MAX];
	int rc = sock_race_begin(host, service, o, &sr, fd, e), i, n;

	while (rc == 0) {
		n = sr->r.nfl;
		for (i = 0; i < n; i++) {
			p[i].fd = sr->r.fl[i].fd;
			p[i].events = POLLOUT;
			p[i].revents = 0;
		}
		rc = poll(p, (nfds_t)n, clock_ms_until(sock_race_wake(sr)));
		if (rc < 0 && errno != EINTR) {
			rc = err_sys(e, EXIT_FAIL, errno, "poll");
			break;
		}
		rc = race_step(sr, p, rc > 0 ? n : 0, fd, e);
	}
	sock_race_end(sr);
	return rc < 0 ? -1 : 0;
}

int sock_connect_unix(const char *path, const struct sock_connect_opts *o, int *fd,
		      struct err *e)
{
	struct sockaddr_storage ss;
	struct addrinfo ai;
	socklen_t len;
	int s, err;
	int64_t t0;

	if (sock_unix_addr(path, &ss, &len, e))
		return -1;
	memset(&ai, 0, sizeof(ai));
	ai.ai_family = AF_UNIX;
	ai.ai_socktype = o->type;
	ai.ai_addr = (struct sockaddr *)&ss;
	ai.ai_addrlen = len;
	s = socket(AF_UNIX, o->type | SOCK_CLOEXEC, 0);
	if (s < 0)
		return err_sys(e, EXIT_FAIL, errno, "socket(unix, %s)",
			       addr_socktype_name(o->type));
	if (o->so && sock_apply_opts(s, AF_UNIX, o->type, o->so, e)) {
		close(s);
		return -1;
	}
	if (o->type == SOCK_DGRAM) {
		/* autobind to an abstract name, or the server could not answer us */
		sa_family_t fam = AF_UNIX;

		if (bind(s, (struct sockaddr *)&fam, sizeof(fam))) {
			err = errno;
			close(s);
			return err_sys(e, EXIT_FAIL, err, "bind (autobind) unix socket");
		}
	}
	t0 = clock_mono_ns();
	err = connect(s, (struct sockaddr *)&ss, len) ? errno : 0;
	trace(o, t0, SOCK_EV_START, &ai, err, t0, clock_mono_ns() - t0, 0);
	trace(o, t0, SOCK_EV_RESULT, &ai, err, t0, clock_mono_ns() - t0, 0);
	if (err) {
		close(s);
		return err_sys(e, EXIT_FAIL, err, "unix:%s", path);
	}
	*fd = s;
	return 0;
}
