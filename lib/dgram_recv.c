/* SPDX-License-Identifier: MIT */
#include "dgram_recv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"

void dgram_rx_opts_init(struct dgram_rx_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->size = DGRAM_BUFSIZE;
	o->gro = 1;
	o->echo_rate = DGRAM_ECHO_RATE_DEFAULT;
}

/*
 * UDP_GRO on every socket, or on none: a refusal (an old kernel) means plain
 * recvmmsg.  Off is set explicitly too: an inherited socket may have it on.
 * Datagrams queued before the change come as they were queued; every read
 * is handled by its own control message, so that is harmless.
 */
static void setup_gro(struct dgram_rx *rx)
{
	struct err ge = { 0 }, ignored = { 0 };
	int i;

	rx->gro = 0;
	if (rx->o.gro) {
		for (i = 0; i < rx->nfds; i++)
			if (dgram_gro_set(rx->fds[i], 1, &ge))
				break;
		if (i == rx->nfds) {
			rx->gro = 1;
			return;
		}
		snprintf(rx->gro_off, sizeof(rx->gro_off), "%s", ge.msg);
	}
	for (i = 0; i < rx->nfds; i++)
		(void)dgram_gro_set(rx->fds[i], 0, &ignored);
}

int dgram_rx_init(struct dgram_rx *rx, const int *fds, int n, const struct dgram_rx_opts *o,
		  struct err *e)
{
	size_t slot;
	int i;

	memset(rx, 0, sizeof(*rx));
	rx->o = *o;
	if (n > DGRAM_RX_MAXFDS)
		return err_set(e, EXIT_USAGE, "too many datagram sockets (%d)", n);
	if (o->size < 1 || o->size > DGRAM_BUFSIZE)
		return err_set(e, EXIT_USAGE, "a datagram buffer of %zu bytes", o->size);
	rx->nfds = n;
	for (i = 0; i < n; i++) {
		socklen_t len = sizeof(rx->local[i]);
		struct err ignored = { 0 };

		rx->fds[i] = fds[i];
		if (getsockname(fds[i], (struct sockaddr *)&rx->local[i], &len))
			return err_sys(e, EXIT_FAIL, errno, "getsockname");
		/* the statistics measure arrivals as the kernel saw them */
		if (dgram_timestamps_on(fds[i], e))
			return -1;
		if (o->echo && dgram_pktinfo_on(fds[i], rx->local[i].ss_family, e))
			return -1;
		/* every kernel since 2.6.33 has it; without it, SO_MEMINFO still counts */
		(void)sock_rxq_ovfl_on(fds[i], &ignored);
		sock_rxq_drops_start(&rx->drops[i], fds[i]);
	}
	dgram_echo_rate_init(&rx->rate, o->echo_rate);
	setup_gro(rx);
	/* a coalesced read must fit whole: GRO reads take 64k, size still caps each datagram */
	slot = rx->gro && o->size < DGRAM_BUFSIZE ? DGRAM_BUFSIZE : o->size;
	if (dgram_batch_init(&rx->b, DGRAM_RX_BATCH, slot, e) || dgram_batch_ctrl(&rx->b, e))
		return -1;
	return 0;
}

uint64_t dgram_rx_sock_drops(const struct dgram_rx *rx)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < rx->nfds; i++)
		n += sock_rxq_drops_total(&rx->drops[i], rx->fds[i]);
	return n;
}

void dgram_rx_free(struct dgram_rx *rx)
{
	dgram_batch_free(&rx->b);
}

/* A warning about one datagram, unless the limiter leaves it out. */
static void warn(struct dgram_rx *rx, struct dgram_rx_event *ev)
{
	uint64_t skipped = 0;

	if (!rx->o.on_event || !dgram_warn_ok(&rx->warn, clock_mono_ns(), &skipped))
		return;
	ev->suppressed = skipped;
	rx->o.on_event(rx->o.ctx, ev);
}

static void echo_flush(struct dgram_rx *rx, int fd)
{
	unsigned done = 0, i;

	while (done < rx->nech) {
		int r = sendmmsg(fd, rx->echo + done, rx->nech - done, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			/* one unreachable sender must not stop an echo server */
			const struct msghdr *h = &rx->echo[done].msg_hdr;
			struct dgram_rx_event ev;

			memset(&ev, 0, sizeof(ev));
			ev.type = DGRAM_RX_ECHO_FAILED;
			ev.fd = fd;
			ev.from = h->msg_name;
			ev.fromlen = h->msg_namelen;
			ev.errnum = errno;
			warn(rx, &ev);
			done++;
			continue;
		}
		for (i = done; i < done + (unsigned)r; i++)
			rx->echo_bytes += rx->echo[i].msg_len;
		rx->echoed += (unsigned)r;
		done += (unsigned)r;
	}
	rx->nech = 0;
}

/* Queue an echo of @ev's datagram; sends the queue when it is full. */
static void echo_queue(struct dgram_rx *rx, const struct dgram_rx_event *ev)
{
	struct mmsghdr *m = &rx->echo[rx->nech];

	rx->echo_iov[rx->nech].iov_base = (void *)ev->data;
	rx->echo_iov[rx->nech].iov_len = ev->cap;
	memset(m, 0, sizeof(*m));
	m->msg_hdr.msg_name = (void *)ev->from;
	m->msg_hdr.msg_namelen = ev->fromlen;
	m->msg_hdr.msg_iov = &rx->echo_iov[rx->nech];
	m->msg_hdr.msg_iovlen = 1;
	if (++rx->nech == DGRAM_RX_ECHO)
		echo_flush(rx, ev->fd);
}

static int index_of(const struct dgram_rx *rx, int fd)
{
	int i;

	for (i = 0; i < rx->nfds; i++)
		if (rx->fds[i] == fd)
			return i;
	return -1;
}

static const struct sockaddr *local_of(const struct dgram_rx *rx, int fd)
{
	int i = index_of(rx, fd);

	return i >= 0 ? (const struct sockaddr *)&rx->local[i] : NULL;
}

/* One datagram: the guards, the hook's verdict, the count, the echo. */
static void handle_one(struct dgram_rx *rx, const struct msghdr *h, struct dgram_rx_event *ev)
{
	int verdict = DGRAM_RX_COUNT;

	if (ev->cap < ev->len) {
		struct dgram_rx_event w = *ev;

		w.type = DGRAM_RX_TRUNCATED;
		warn(rx, &w);
	}
	ev->type = DGRAM_RX_DATAGRAM;
	ev->echo_refusal = NULL;
	ev->over_rate = 0;
	if (rx->o.echo) {
		ev->echo_refusal = dgram_loop_reason(h, local_of(rx, ev->fd));
		if (!ev->echo_refusal &&
		    !dgram_echo_rate_ok(&rx->rate, ev->from, clock_mono_ns())) {
			ev->echo_refusal = "over --echo-rate";
			ev->over_rate = 1;
		}
	}
	if (rx->o.on_event)
		verdict = rx->o.on_event(rx->o.ctx, ev);
	if (verdict == DGRAM_RX_STOP)
		rx->done = 1;
	if (verdict != DGRAM_RX_COUNT)
		return;
	rx->counted++;
	if (rx->o.count && rx->counted >= rx->o.count)
		rx->done = 1;
	if (!rx->o.echo)
		return;
	if (!ev->echo_refusal) {
		echo_queue(rx, ev);
		return;
	}
	rx->not_echoed++;
	{
		struct dgram_rx_event w = *ev;

		w.type = DGRAM_RX_NOT_ECHOED;
		warn(rx, &w);
	}
}

/*
 * Slot @i: one datagram, or with GRO a train of segments that all came from
 * the same source, each a datagram of its own.  Once the count is reached,
 * the rest of a train is counted as discarded (not handed to the hook, not
 * echoed): it was read from the socket and cannot go back.
 */
static void handle_slot(struct dgram_rx *rx, int fd, unsigned i, int64_t real)
{
	const struct msghdr *h = &rx->b.msgs[i].msg_hdr;
	int64_t ts = dgram_rx_time(h);
	/* even without rx->gro: a train queued before UDP_GRO was turned off */
	size_t len = rx->b.msgs[i].msg_len, seg = dgram_gro_size(h);
	size_t got = len < rx->b.size ? len : rx->b.size; /* bytes in the buffer */
	size_t nseg = dgram_gro_count(len, seg), k;
	struct dgram_rx_event ev;

	rx->read_datagrams += nseg;
	if (nseg == 1) {
		seg = len;
	} else {
		rx->gro_reads++;
		rx->gro_datagrams += nseg;
	}
	memset(&ev, 0, sizeof(ev));
	ev.fd = fd;
	ev.from = h->msg_name;
	ev.fromlen = h->msg_namelen;
	ev.ts_ns = ts >= 0 ? ts : real;
	ev.real_ns = real;
	for (k = 0; k < nseg; k++) {
		size_t off = k * seg, avail = off < got ? got - off : 0;

		if (rx->done) {
			rx->discarded += nseg - k;
			return;
		}
		ev.data = dgram_slot(&rx->b, i) + off;
		ev.len = len - off < seg ? len - off : seg;
		ev.cap = ev.len < avail ? ev.len : avail;
		if (ev.cap > rx->o.size)
			ev.cap = rx->o.size;
		handle_one(rx, h, &ev);
	}
}

/* Errors the kernel queues from ICMP on a connected socket: an echo's peer left. */
static int icmp_errno(int errnum)
{
	return errnum == ECONNREFUSED || errnum == EHOSTUNREACH || errnum == ENETUNREACH ||
	       errnum == EHOSTDOWN || errnum == EPROTO;
}

int dgram_rx_drain(struct dgram_rx *rx, int fd, struct err *e)
{
	int any = 0, k = index_of(rx, fd);

	while (!rx->done) {
		unsigned vlen = DGRAM_RX_BATCH, i;
		int64_t real;
		int r;

		/* leave what the count does not ask for in the queue (GRO: see handle_slot) */
		if (rx->o.count && rx->o.count - rx->counted < vlen)
			vlen = (unsigned)(rx->o.count - rx->counted);
		for (i = 0; i < vlen; i++)
			dgram_batch_reset(&rx->b, i);
		r = recvmmsg(fd, rx->b.msgs, vlen, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (r < 0) {
			if (errno == EINTR || icmp_errno(errno))
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return any;
			return err_sys(e, EXIT_FAIL, errno, "recvmmsg");
		}
		any = 1;
		real = clock_real_ns();
		if (k >= 0 && r > 0) /* the last read carries the latest count */
			sock_rxq_drops_note(&rx->drops[k], &rx->b.msgs[r - 1].msg_hdr);
		for (i = 0; i < (unsigned)r; i++)
			handle_slot(rx, fd, i, real);
		if (rx->o.on_event) {
			struct dgram_rx_event ev;

			memset(&ev, 0, sizeof(ev));
			ev.type = DGRAM_RX_BATCH_END;
			ev.fd = fd;
			if (rx->o.on_event(rx->o.ctx, &ev) == DGRAM_RX_STOP)
				rx->done = 1;
		}
		if (rx->nech)
			echo_flush(rx, fd);
	}
	return any;
}
