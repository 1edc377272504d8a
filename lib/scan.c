/* SPDX-License-Identifier: MIT */
#include "scan.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"

struct slot {
	int fd;     /* -1: free */
	size_t seq; /* index of the port in the list */
	int64_t start;
};

struct scan {
	const struct scan_opts *o;
	struct sockaddr_storage addr;
	socklen_t len;
	struct scan_result *res;
	unsigned char *done;
	size_t count, next_emit, next_seq;
	struct slot *slots;
	int *freelist, nfree, nslots, inflight, limit;
	int ep;
	long open;
	scan_cb cb;
	void *ctx;
};

const char *scan_state_name(enum scan_state s)
{
	switch (s) {
	case SCAN_OPEN: return "open";
	case SCAN_CLOSED: return "closed";
	case SCAN_FILTERED: return "filtered";
	case SCAN_OPEN_FILTERED: return "open|filtered";
	}
	return "?";
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static void emit(struct scan *s)
{
	while (s->next_emit < s->count && s->done[s->next_emit]) {
		s->cb(s->ctx, &s->res[s->next_emit]);
		s->next_emit++;
	}
}

static void record(struct scan *s, size_t seq, enum scan_state st, int err, int64_t ns)
{
	s->res[seq].state = st;
	s->res[seq].err = err;
	s->res[seq].ns = ns;
	s->done[seq] = 1;
	if (st == SCAN_OPEN)
		s->open++;
}

static void finish(struct scan *s, int i, enum scan_state st, int err)
{
	struct slot *sl = &s->slots[i];

	close(sl->fd);
	record(s, sl->seq, st, err, clock_mono_ns() - sl->start);
	sl->fd = -1;
	s->freelist[s->nfree++] = i;
	s->inflight--;
}

static enum scan_state tcp_state(int err)
{
	if (!err)
		return SCAN_OPEN;
	if (err == ECONNREFUSED)
		return SCAN_CLOSED;
	return SCAN_FILTERED;
}

static int refused_already(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	return !getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) && err == ECONNREFUSED;
}

/* Start one check; 1 started or settled, 0 out of descriptors for now, -1 fatal. */
static int launch(struct scan *s, size_t seq, struct err *e)
{
	int type = s->o->udp ? SOCK_DGRAM : SOCK_STREAM;
	/* sock_open names a kernel without MPTCP (--mptcp) */
	int fd = sock_open(s->addr.ss_family, type | SOCK_NONBLOCK, 0, s->o->so, e);
	int64_t t0 = clock_mono_ns();
	struct epoll_event ev;
	int i, rc;

	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			return s->inflight ? 0 : -1;
		return -1;
	}
	if ((s->o->so && sock_apply_opts(fd, s->addr.ss_family, type, s->o->so, e)) ||
	    (s->o->src && bind(fd, s->o->src, s->o->srclen) &&
	     err_sys(e, EXIT_FAIL, errno, "bind source address"))) {
		close(fd);
		return -1;
	}
	set_port(&s->addr, s->res[seq].port);
	rc = connect(fd, (struct sockaddr *)&s->addr, s->len);
	if (!rc && s->o->udp)
		rc = send(fd, "", 0, MSG_NOSIGNAL);
	if (rc && errno == EADDRNOTAVAIL && s->inflight) {
		close(fd); /* no ephemeral port free right now: wait for one */
		return 0;
	}
	if (rc && errno != EINPROGRESS) {
		close(fd);
		record(s, seq, s->o->udp && errno != ECONNREFUSED ? SCAN_OPEN_FILTERED
								   : tcp_state(errno),
		       errno, clock_mono_ns() - t0);
		return 1;
	}
	if (!rc && !s->o->udp) {
		close(fd);
		record(s, seq, SCAN_OPEN, 0, clock_mono_ns() - t0);
		return 1;
	}
	if (rc && !s->o->udp && refused_already(fd)) {
		/* loopback answers inside connect(): skip the epoll round trip */
		close(fd);
		record(s, seq, SCAN_CLOSED, ECONNREFUSED, clock_mono_ns() - t0);
		return 1;
	}
	i = s->freelist[--s->nfree];
	s->slots[i].fd = fd;
	s->slots[i].seq = seq;
	s->slots[i].start = t0;
	memset(&ev, 0, sizeof(ev));
	ev.events = s->o->udp ? EPOLLIN | EPOLLERR : EPOLLOUT | EPOLLERR | EPOLLHUP;
	ev.data.u32 = (uint32_t)i;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev)) {
		s->slots[i].fd = -1;
		s->freelist[s->nfree++] = i;
		close(fd);
		return err_sys(e, EXIT_FAIL, errno, "epoll_ctl");
	}
	s->inflight++;
	return 1;
}

static void on_event(struct scan *s, int i)
{
	int fd = s->slots[i].fd, err = 0;
	socklen_t len = sizeof(err);
	char byte;

	if (fd < 0)
		return;
	if (!s->o->udp) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
			err = errno;
		finish(s, i, tcp_state(err), err);
		return;
	}
	if (recv(fd, &byte, 1, MSG_DONTWAIT) >= 0)
		finish(s, i, SCAN_OPEN, 0);
	else if (errno == ECONNREFUSED)
		finish(s, i, SCAN_CLOSED, errno);
	else if (errno != EAGAIN)
		finish(s, i, SCAN_OPEN_FILTERED, errno);
}

/* Time the oldest check out; returns ms until the next one is due. */
static int expire(struct scan *s)
{
	int64_t now = clock_mono_ns(), next = -1, due;
	int i;

	for (i = 0; i < s->nslots; i++) {
		if (s->slots[i].fd < 0)
			continue;
		due = s->slots[i].start + s->o->timeout;
		if (due <= now)
			finish(s, i, s->o->udp ? SCAN_OPEN_FILTERED : SCAN_FILTERED,
			       s->o->udp ? 0 : ETIMEDOUT);
		else if (next < 0 || due < next)
			next = due;
	}
	return clock_ms_until(next);
}

static int scan_loop(struct scan *s, struct err *e)
{
	struct epoll_event evs[256];
	int n, i, rc, wait;

	while (s->next_emit < s->count) {
		while (s->next_seq < s->count && s->inflight < s->limit) {
			rc = launch(s, s->next_seq, e);
			if (rc < 0)
				return -1;
			if (rc == 0)
				break;
			s->next_seq++;
		}
		emit(s);
		if (!s->inflight)
			continue;
		wait = expire(s);
		if (!s->inflight)
			continue; /* all timed out: an endless wait on nothing otherwise */
		n = epoll_wait(s->ep, evs, 256, wait);
		if (n < 0 && errno != EINTR)
			return err_sys(e, EXIT_FAIL, errno, "epoll_wait");
		for (i = 0; i < n; i++)
			on_event(s, (int)evs[i].data.u32);
		expire(s);
		emit(s);
	}
	return 0;
}

static int scan_init(struct scan *s, const struct port_list *pl, struct err *e)
{
	size_t r, k = 0;
	unsigned p;
	int i;

	s->count = pl->count;
	if ((size_t)s->limit > s->count)
		s->limit = s->count ? (int)s->count : 1; /* no slots that can never be used */
	s->res = calloc(s->count ? s->count : 1, sizeof(*s->res));
	s->done = calloc(s->count ? s->count : 1, 1);
	s->nslots = s->limit;
	s->slots = calloc((size_t)s->nslots, sizeof(*s->slots));
	s->freelist = calloc((size_t)s->nslots, sizeof(*s->freelist));
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!s->res || !s->done || !s->slots || !s->freelist)
		return err_set(e, EXIT_FAIL, "out of memory");
	if (s->ep < 0)
		return err_sys(e, EXIT_FAIL, errno, "epoll_create1");
	for (r = 0; r < pl->n; r++)
		for (p = pl->r[r].lo; p <= pl->r[r].hi && k < s->count; p++)
			s->res[k++].port = (uint16_t)p;
	for (i = 0; i < s->nslots; i++) {
		s->slots[i].fd = -1;
		s->freelist[s->nfree++] = s->nslots - 1 - i;
	}
	return 0;
}

long scan_run(const struct sockaddr *addr, socklen_t len, const struct port_list *pl,
	      const struct scan_opts *o, scan_cb cb, void *ctx, struct err *e)
{
	struct scan s;
	int rc, i;

	memset(&s, 0, sizeof(s));
	s.o = o;
	memcpy(&s.addr, addr, len);
	s.len = len;
	s.cb = cb;
	s.ctx = ctx;
	s.ep = -1;
	s.limit = o->parallel > 0 ? o->parallel : 1;
	rc = scan_init(&s, pl, e);
	if (!rc)
		rc = scan_loop(&s, e);
	for (i = 0; i < s.nslots && s.slots; i++)
		if (s.slots[i].fd >= 0)
			close(s.slots[i].fd);
	if (s.ep >= 0)
		close(s.ep);
	free(s.res);
	free(s.done);
	free(s.slots);
	free(s.freelist);
	return rc ? -1 : s.open;
}
