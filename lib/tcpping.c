/* SPDX-License-Identifier: MIT */
/* TCP ping: timed non-blocking connects, closed by a reset; events, never prints. */
#include <errno.h>
#include <limits.h>
#include <linux/tcp.h> /* glibc's struct tcp_info lacks the newer fields */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "tcpping.h"

#define MAX_EVENTS 64

const char *tcpping_state_name(enum tcpping_state s)
{
	static const char *const names[] = { "open", "closed", "timeout", "error" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

int tcpping_init(struct tcpping *p, const struct tcpping_config *cfg, tcpping_fn fn, void *ctx,
		 struct err *e)
{
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	p->fn = fn;
	p->fn_ctx = ctx;
	p->ep = epoll_create1(EPOLL_CLOEXEC);
	if (p->ep < 0)
		return err_sys(e, EXIT_FAIL, errno, "epoll_create1");
	return 0;
}

struct tcpping_target *tcpping_add(struct tcpping *p, const struct sockaddr *sa, socklen_t len,
				   struct err *e)
{
	struct tcpping_target *t, **tt;

	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) || len > sizeof(t->addr))
		return err_set(e, EXIT_USAGE, "not an IPv4 or IPv6 address"), NULL;
	tt = realloc(p->targets, (p->ntargets + 1) * sizeof(struct tcpping_target *));
	if (!tt)
		return err_set(e, EXIT_FAIL, "out of memory"), NULL;
	p->targets = tt;
	t = calloc(1, sizeof(*t));
	if (!t)
		return err_set(e, EXIT_FAIL, "out of memory"), NULL;
	memcpy(&t->addr, sa, len);
	t->addrlen = len;
	t->fd = -1;
	t->port = (uint16_t)addr_port(sa);
	addr_ntop(sa, len, t->addr_str, sizeof(t->addr_str));
	rtt_series_init(&t->rtt);
	if (sock_source_addr(p->cfg.so, sa->sa_family, SOCK_STREAM, &t->src, &t->srclen, e)) {
		free(t);
		return NULL;
	}
	p->targets[p->ntargets++] = t;
	return t;
}

uint64_t tcpping_answered(const struct tcpping_target *t)
{
	return t->open + t->closed;
}

/* TCP_INFO's RTT sample into @t, right after TCP's handshake. */
static void read_tcp_info(struct tcpping_target *t)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(t->fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return;
	t->tcpi_rtt_us = ti.tcpi_rtt;
	t->tcpi_rttvar_us = ti.tcpi_rttvar;
}

/*
 * The probe of @t ended at @now with @err (0: connected, and with a layer
 * its handshake done; ETIMEDOUT: ours); @why: the layer's failure.
 */
static int finish(struct tcpping *p, struct tcpping_target *t, int err, const char *why,
		  int64_t now, struct err *e)
{
	int64_t tcp_end = t->connected ? t->connected : now;
	struct tcpping_probe pr = { .t = t, .seq = t->seq, .err = err, .rtt_ns = tcp_end - t->started,
				    .tcpi_rtt_us = t->tcpi_rtt_us, .tcpi_rttvar_us = t->tcpi_rttvar_us,
				    .layer_ns = -1, .why = why };
	struct linger lg = { 1, 0 };
	int rc = 0;

	if (t->conn && p->cfg.layer) {
		p->cfg.layer->close(t->conn);
		t->conn = NULL;
	}
	if (!err) {
		pr.state = TCPPING_OPEN;
		t->open++;
		if (t->connected)
			pr.layer_ns = now - t->connected;
		/* a reset, not a FIN: no TIME_WAIT left on either side */
		setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	} else if (why) {
		pr.state = TCPPING_ERROR;
		t->errors++;
		setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	} else if (err == ECONNREFUSED) {
		pr.state = TCPPING_CLOSED;
		t->closed++;
	} else if (err == ETIMEDOUT && now >= t->deadline) {
		pr.state = TCPPING_TIMEOUT;
		pr.err = 0;
		pr.rtt_ns = p->cfg.timeout;
		t->timeouts++;
	} else {
		pr.state = TCPPING_ERROR;
		t->errors++;
	}
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if ((pr.state == TCPPING_OPEN || pr.state == TCPPING_CLOSED) &&
	    rtt_series_add(&t->rtt, pr.rtt_ns))
		rc = err_set(e, EXIT_FAIL, "out of memory");
	/* the next probe: one interval after this one started, not before now */
	t->next = t->started + p->cfg.interval > now ? t->started + p->cfg.interval : now;
	if (p->fn)
		p->fn(p->fn_ctx, &pr);
	return rc;
}

/* The layer's next step; the probe ends when it is done or fails. */
static int layer_step(struct tcpping *p, struct tcpping_target *t, struct err *e)
{
	struct epoll_event ev = { .data.ptr = t };
	struct err le = { 0 };
	uint32_t want = 0;
	int rc = p->cfg.layer->step(t->conn, &want, &le);

	if (rc > 0)
		return finish(p, t, 0, NULL, clock_mono_ns(), e);
	if (rc < 0)
		return finish(p, t, EPROTO, le.msg, clock_mono_ns(), e);
	ev.events = want ? want : EPOLLIN;
	if (epoll_ctl(p->ep, EPOLL_CTL_MOD, t->fd, &ev))
		return err_sys(e, EXIT_FAIL, errno, "epoll_ctl");
	return 0;
}

/* TCP's handshake of @t's probe is done at @now: the probe ends, or its layer begins. */
static int connected(struct tcpping *p, struct tcpping_target *t, int64_t now, struct err *e)
{
	struct err le = { 0 };

	if (p->cfg.tcp_info)
		read_tcp_info(t);
	if (!p->cfg.layer)
		return finish(p, t, 0, NULL, now, e);
	t->connected = now;
	t->conn = p->cfg.layer->open(p->cfg.layer->ctx, t->fd, t, &le);
	if (!t->conn)
		return finish(p, t, EPROTO, le.msg, clock_mono_ns(), e);
	return layer_step(p, t, e);
}

/* A local failure that must stop the run (no descriptor left, a bad -s). */
static int local_failure(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ||
	       err == EADDRINUSE || err == EADDRNOTAVAIL;
}

static int start(struct tcpping *p, struct tcpping_target *t, struct err *e)
{
	int fam = t->addr.ss_family;
	const struct sockopts *so = p->cfg.so;
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = t };
	int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			so ? sock_protocol(so, fam, SOCK_STREAM, 0) : 0);
	int rc;

	if (fd < 0)
		return err_sys(e, EXIT_FAIL, errno, "socket");
	if (so && sock_apply_opts(fd, fam, SOCK_STREAM, so, e)) {
		close(fd);
		return -1;
	}
	if (t->srclen && bind(fd, (struct sockaddr *)&t->src, t->srclen)) {
		int saved = errno;

		close(fd);
		return err_sys(e, EXIT_FAIL, saved, "bind to the source address");
	}
	t->fd = fd;
	t->seq++;
	t->sent++;
	t->connected = 0;
	t->tcpi_rtt_us = t->tcpi_rttvar_us = -1;
	t->started = clock_mono_ns();
	t->deadline = t->started + p->cfg.timeout;
	rc = connect(fd, (struct sockaddr *)&t->addr, t->addrlen);
	if (!rc)
		return connected(p, t, clock_mono_ns(), e);
	if (errno != EINPROGRESS) {
		int saved = errno;

		if (local_failure(saved)) {
			close(fd);
			t->fd = -1;
			t->sent--;
			t->seq--;
			return err_sys(e, EXIT_FAIL, saved, "connect to %s", t->addr_str);
		}
		return finish(p, t, saved, NULL, clock_mono_ns(), e);
	}
	if (epoll_ctl(p->ep, EPOLL_CTL_ADD, fd, &ev))
		return err_sys(e, EXIT_FAIL, errno, "epoll_ctl");
	return 0;
}

static int more(const struct tcpping *p, const struct tcpping_target *t)
{
	return !p->cfg.count || t->sent < (uint64_t)p->cfg.count;
}

/* Start what is due, time out what is late; the next moment to look again, -1: done. */
static int64_t step(struct tcpping *p, int *failed, struct err *e)
{
	int64_t wake = -1, now = clock_mono_ns();
	size_t i;

	for (i = 0; i < p->ntargets && !*failed; i++) {
		struct tcpping_target *t = p->targets[i];

		if (t->fd >= 0 && now >= t->deadline && finish(p, t, ETIMEDOUT, NULL, now, e))
			*failed = 1;
		if (t->fd < 0 && more(p, t) && now >= t->next && start(p, t, e))
			*failed = 1;
		if (t->fd >= 0)
			wake = clock_earliest(wake, t->deadline);
		else if (more(p, t))
			wake = clock_earliest(wake, t->next);
	}
	return wake;
}

static void on_events(struct tcpping *p, const struct epoll_event *ev, int n, int *failed,
		      struct err *e)
{
	int64_t now = clock_mono_ns();
	int i;

	for (i = 0; i < n; i++) {
		struct tcpping_target *t = ev[i].data.ptr;
		int err = 0;
		socklen_t len = sizeof(err);

		if (t->fd < 0)
			continue;
		if (t->conn) {
			if (layer_step(p, t, e))
				*failed = 1;
			continue;
		}
		if ((ev[i].events & (EPOLLERR | EPOLLHUP)) &&
		    getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len))
			err = errno;
		else if ((ev[i].events & (EPOLLERR | EPOLLHUP)) && !err)
			err = ECONNRESET;
		if (err ? finish(p, t, err, NULL, now, e) : connected(p, t, now, e))
			*failed = 1;
	}
}

/*
 * epoll_pwait2 (Linux 5.11) waits to the nanosecond; where it is missing
 * (older kernels, valgrind) epoll_pwait waits whole milliseconds, rounded up.
 */
static int wait_events(struct tcpping *p, struct epoll_event *ev, const struct timespec *ts,
		       const sigset_t *mask)
{
	int64_t ms;
	int n;

	if (!p->no_pwait2) {
		n = epoll_pwait2(p->ep, ev, MAX_EVENTS, ts, mask);
		if (n >= 0 || errno != ENOSYS)
			return n;
		p->no_pwait2 = 1;
	}
	ms = (int64_t)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
	return epoll_pwait(p->ep, ev, MAX_EVENTS, ms > INT_MAX ? INT_MAX : (int)ms, mask);
}

int tcpping_run(struct tcpping *p, const volatile sig_atomic_t *stop, const sigset_t *block,
		const sigset_t *mask, struct err *e)
{
	struct epoll_event ev[MAX_EVENTS];
	sigset_t saved;
	int failed = 0;
	size_t i;

	/* signals are let in only inside the wait, so none is slept through */
	sigprocmask(SIG_BLOCK, block, &saved);
	p->start = clock_mono_ns();
	for (i = 0; i < p->ntargets; i++)
		p->targets[i]->next = p->start;
	while (!*stop && !failed) {
		int64_t wake = step(p, &failed, e), left;
		struct timespec ts;
		int n;

		if (wake < 0 || failed)
			break;
		left = wake - clock_mono_ns();
		if (left < 0)
			left = 0;
		ts.tv_sec = left / NS_PER_SEC;
		ts.tv_nsec = left % NS_PER_SEC;
		n = wait_events(p, ev, &ts, mask);
		if (n > 0)
			on_events(p, ev, n, &failed, e);
	}
	p->end = clock_mono_ns();
	for (i = 0; i < p->ntargets; i++) {
		if (p->targets[i]->conn && p->cfg.layer) {
			p->cfg.layer->close(p->targets[i]->conn);
			p->targets[i]->conn = NULL;
		}
		if (p->targets[i]->fd >= 0) {
			close(p->targets[i]->fd);
			p->targets[i]->fd = -1;
		}
	}
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return failed ? -1 : 0;
}

void tcpping_free(struct tcpping *p)
{
	size_t i;

	for (i = 0; i < p->ntargets; i++) {
		if (p->targets[i]->fd >= 0)
			close(p->targets[i]->fd);
		rtt_series_free(&p->targets[i]->rtt);
		free(p->targets[i]);
	}
	free(p->targets);
	if (p->ep >= 0)
		close(p->ep);
	memset(p, 0, sizeof(*p));
	p->ep = -1;
}
