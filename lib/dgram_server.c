/* SPDX-License-Identifier: MIT */
#include "dgram_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "dgram_recv.h"
#include "outbuf.h"
#include "parse.h"

struct dsrv {
	const struct server_opts *o;
	struct server_stats *st;
	struct err *e;
	struct dgram_rx rx;
	int fds[DGRAM_RX_MAXFDS];
	int nfds;
	/* the peer: the last sender */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	int peer_fd;     /* the socket it came in on, -1 before the first */
	int locked;      /* without keep_open: the socket is connected to the first sender */
	uint64_t id, next_id, in, out;
	int64_t start, last;
	int in_open;     /* in_fd not at EOF */
	int in_pollable; /* poll(2) works on in_fd (not a regular file) */
	int64_t accept_deadline;
	struct dgram_warn_limit refusals;
	int failed;      /* writing out_fd failed: e says why */
	struct outbuf outq; /* the payloads of one batch read, for out_fd */
	int live;        /* each payload to out_fd as it comes */
	char buf[DGRAM_MAX_V4];
};

static void emit(struct dsrv *d, enum server_ev_type type, const struct sockaddr_storage *peer,
		 socklen_t len, const char *reason, uint64_t suppressed)
{
	struct server_event ev;

	if (!d->o->on_event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.reason = reason;
	ev.suppressed = suppressed;
	ev.peer = (const struct sockaddr *)peer;
	ev.peerlen = len;
	if (type != SERVER_EV_REFUSED) {
		ev.id = d->id;
		ev.bytes_in = d->in;
		ev.bytes_out = d->out;
	}
	if (type == SERVER_EV_CLOSED)
		ev.duration_ns = clock_mono_ns() - d->start;
	d->o->on_event(d->o->ctx, &ev);
}

/* A datagram refused (--allow/--deny, the echo guards): a rate-limited event. */
static int refuse(struct dsrv *d, const struct dgram_rx_event *ev, const char *why)
{
	struct sockaddr_storage from;
	uint64_t skipped = 0;

	d->st->refused++;
	if (dgram_warn_ok(&d->refusals, clock_mono_ns(), &skipped)) {
		memset(&from, 0, sizeof(from));
		memcpy(&from, ev->from, ev->fromlen < sizeof(from) ? ev->fromlen : sizeof(from));
		emit(d, SERVER_EV_REFUSED, &from, ev->fromlen, why, skipped);
	}
	return DGRAM_RX_IGNORE;
}

static int same_peer(const struct dsrv *d, int fd, const struct sockaddr *sa, socklen_t len)
{
	return d->peer_fd >= 0 && fd == d->peer_fd && len == d->peerlen &&
	       !memcmp(&d->peer, sa, len);
}

/* A datagram from @sa on @fd: is it from a peer we serve?  Tell about new ones. */
static int sender(struct dsrv *d, int fd, const struct sockaddr *sa, socklen_t len)
{
	if (same_peer(d, fd, sa, len))
		return 1;
	if (d->locked || len > sizeof(d->peer))
		return 0;
	memset(&d->peer, 0, sizeof(d->peer));
	memcpy(&d->peer, sa, len);
	d->peerlen = len;
	d->id = ++d->next_id;
	d->in = d->out = 0;
	d->start = clock_mono_ns();
	d->peer_fd = fd;
	d->accept_deadline = -1;
	d->st->clients++;
	emit(d, SERVER_EV_CONNECTION, &d->peer, d->peerlen, NULL, 0);
	/* the first sender becomes the only one, as with nc -lu */
	if (!d->o->keep_open && len && connect(fd, sa, len) == 0)
		d->locked = 1;
	return 1;
}

/* The payloads gathered so far to out_fd, in one write: 0, or -1 (failed, e says why). */
static int write_out(struct dsrv *d)
{
	int rc = 0;

	if (outbuf_failed(&d->outq))
		rc = err_set(d->e, EXIT_FAIL, "out of memory for the output");
	else if (d->outq.len)
		rc = server_write_all(d->o->out_fd, d->outq.p, d->outq.len, d->e);
	outbuf_reset(&d->outq);
	if (rc)
		d->failed = 1;
	return rc;
}

static int on_datagram(struct dsrv *d, const struct dgram_rx_event *ev)
{
	const char *why = NULL;

	/* a refused sender never becomes the peer, so stdin never goes to it */
	if (!server_allowed(d->o, ev->from, &why))
		return refuse(d, ev, why);
	if (d->o->echo && ev->echo_refusal)
		return refuse(d, ev, ev->over_rate ? "echo-rate" : "echo-loop");
	if (!sender(d, ev->fd, ev->from, ev->fromlen))
		return DGRAM_RX_IGNORE;
	d->in += ev->len;
	d->st->bytes_in += ev->len;
	d->last = clock_mono_ns();
	if (!d->o->echo && d->o->out_fd >= 0) {
		outbuf_put(&d->outq, ev->data, ev->cap);
		if (d->live && write_out(d))
			return DGRAM_RX_STOP;
	}
	return DGRAM_RX_COUNT;
}

static int on_rx(void *ctx, const struct dgram_rx_event *ev)
{
	struct dsrv *d = ctx;

	if (ev->type == DGRAM_RX_DATAGRAM)
		return on_datagram(d, ev);
	if (ev->type == DGRAM_RX_BATCH_END)
		return d->outq.len && write_out(d) ? DGRAM_RX_STOP : DGRAM_RX_COUNT;
	/* truncation cannot happen (64k buffers); a failed echo is not the server's failure */
	return DGRAM_RX_COUNT;
}

/* One read of stdin is one datagram to the last sender. */
static void input(struct dsrv *d)
{
	ssize_t n = read(d->o->in_fd, d->buf, sizeof(d->buf)), w;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		d->in_open = 0;
		return;
	}
	if (d->locked)
		w = send(d->peer_fd, d->buf, (size_t)n, MSG_NOSIGNAL);
	else
		w = sendto(d->peer_fd, d->buf, (size_t)n, MSG_NOSIGNAL,
			   (const struct sockaddr *)&d->peer, d->peerlen);
	if (w > 0) {
		d->out += (size_t)w;
		d->st->bytes_out += (size_t)w;
		d->last = clock_mono_ns();
	}
}

/* Read stdin only once someone can take it. */
static int input_wanted(const struct dsrv *d)
{
	return d->in_open && d->peer_fd >= 0;
}

static int64_t idle_deadline(const struct dsrv *d)
{
	if (d->o->idle_timeout < 0 || d->peer_fd < 0 || d->o->keep_open)
		return -1;
	return d->last + d->o->idle_timeout;
}

/* The poll set: the sockets still served, and stdin when wanted; its size. */
static nfds_t poll_set(const struct dsrv *d, struct pollfd *p)
{
	nfds_t n = 0;
	int i;

	for (i = 0; i < d->nfds; i++) {
		/* locked to the first sender: the other sockets are not read any more */
		if (d->locked && d->fds[i] != d->peer_fd)
			continue;
		p[n].fd = d->fds[i];
		p[n].events = POLLIN;
		p[n++].revents = 0;
	}
	if (input_wanted(d) && d->in_pollable) {
		p[n].fd = d->o->in_fd;
		p[n].events = POLLIN;
		p[n++].revents = 0;
	}
	return n;
}

static int setup(struct dsrv *d, const int *fds, int n)
{
	struct dgram_rx_opts ro;
	struct stat sb;
	int i;

	d->nfds = n;
	d->peer_fd = -1;
	for (i = 0; i < n; i++) {
		int fl = fcntl(fds[i], F_GETFL);

		d->fds[i] = fds[i];
		/* an echo to a full send buffer is dropped, not waited for */
		if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK))
			return err_sys(d->e, EXIT_FAIL, errno, "fcntl O_NONBLOCK");
	}
	d->in_open = d->o->in_fd >= 0;
	d->in_pollable = d->in_open && !(fstat(d->o->in_fd, &sb) == 0 &&
					 (S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode)));
	d->accept_deadline = clock_deadline(d->o->accept_timeout);
	d->live = d->o->line_buffered || (d->o->out_fd >= 0 && isatty(d->o->out_fd));
	dgram_rx_opts_init(&ro);
	ro.echo = d->o->echo;
	ro.echo_rate = d->o->echo_rate;
	ro.on_event = on_rx;
	ro.ctx = d;
	return dgram_rx_init(&d->rx, fds, n, &ro, d->e);
}

/* Handle what poll found; -1 on failure. */
static int serve(struct dsrv *d, const struct pollfd *p, nfds_t n)
{
	nfds_t i;

	for (i = 0; i < n; i++) {
		if (!(p[i].revents & (POLLIN | POLLERR | POLLHUP)))
			continue;
		if (p[i].fd == d->o->in_fd) {
			if (input_wanted(d))
				input(d);
			continue;
		}
		if (dgram_rx_drain(&d->rx, p[i].fd, d->e) < 0 || d->failed)
			return -1;
	}
	return 0;
}

int server_run_dgram(const int *fds, int n, const struct server_opts *o,
		     struct server_stats *st, struct err *e)
{
	struct pollfd p[DGRAM_RX_MAXFDS + 1];
	struct dsrv *d = calloc(1, sizeof(*d));
	char dur[32];
	int rc;

	if (!d)
		return err_set(e, EXIT_FAIL, "out of memory");
	memset(st, 0, sizeof(*st));
	d->o = o;
	d->st = st;
	d->e = e;
	rc = setup(d, fds, n);
	while (!rc) {
		int64_t dl = clock_earliest(d->accept_deadline, idle_deadline(d));
		nfds_t np;
		int k;

		if (input_wanted(d) && !d->in_pollable)
			input(d);
		np = poll_set(d, p);
		k = poll(p, np, input_wanted(d) && !d->in_pollable ? 0 : clock_ms_until(dl));
		if (k < 0 && errno != EINTR) {
			rc = err_sys(e, EXIT_FAIL, errno, "poll");
			break;
		}
		if (k > 0 && serve(d, p, np)) {
			rc = -1;
			break;
		}
		if (d->accept_deadline >= 0 && clock_mono_ns() >= d->accept_deadline) {
			rc = err_set(e, EXIT_FAIL, "no datagram within %s",
				     parse_format_duration(o->accept_timeout, dur, sizeof(dur)));
			break;
		}
		if (idle_deadline(d) >= 0 && clock_mono_ns() >= idle_deadline(d)) {
			emit(d, SERVER_EV_CLOSED, &d->peer, d->peerlen, "idle-timeout", 0);
			break;
		}
	}
	st->bytes_out += d->rx.echo_bytes;
	st->sock_drops = dgram_rx_sock_drops(&d->rx);
	dgram_rx_free(&d->rx);
	outbuf_free(&d->outq);
	free(d);
	return rc;
}
