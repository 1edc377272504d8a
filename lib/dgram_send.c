/* SPDX-License-Identifier: MIT */
#include "dgram_send.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "sock.h"

/* End markers go out three times, these many ms apart, so one loss does not hide the count. */
static const int end_gaps_ms[] = { 0, 20, 100 };

static int stopped(const struct dgram_tx *tx)
{
	return tx->o.stop && *tx->o.stop;
}

static void note(struct dgram_tx *tx, enum dgram_tx_ev_type type, const char *text, int errnum)
{
	struct dgram_tx_event ev;

	if (!tx->o.on_event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.text = text;
	ev.errnum = errnum;
	ev.after_marker = tx->markers > 0;
	tx->o.on_event(tx->o.ctx, &ev);
}

/*
 * UDP GSO for unpaced unicast only.  Paced sends keep one datagram per
 * message: the timing and what a packet filter or qdisc on the way (veth,
 * lo) sees stay exactly per datagram; a GSO train crosses those as one
 * packet.  Broadcast and multicast (unconnected) keep to sendmmsg.  A kernel
 * without UDP_SEGMENT means plain sendmmsg.
 */
static int setup_gso(struct dgram_tx *tx, struct err *e)
{
	struct err ge = { 0 };
	const char *why = NULL;

	if (tx->o.no_gso)
		why = "--no-gso";
	else if (tx->o.interval > 0)
		why = "paced (-i/--rate)";
	else if (!tx->connected)
		why = "broadcast/multicast destination";
	else if (dgram_gso_enable(tx->fd, &ge))
		why = ge.msg;
	if (why) {
		snprintf(tx->gso_off, sizeof(tx->gso_off), "%s", why);
		return 0;
	}
	if (dgram_batch_init(&tx->gso_out, DGRAM_TX_BATCH, 1, e) ||
	    dgram_batch_ctrl(&tx->gso_out, e))
		return -1;
	tx->gso = 1;
	return 0;
}

int dgram_tx_init(struct dgram_tx *tx, int fd, const struct sockaddr *dst, socklen_t dstlen,
		  int connected, const char *dstname, const struct dgram_tx_opts *o,
		  struct err *e)
{
	memset(tx, 0, sizeof(*tx));
	tx->o = *o;
	tx->fd = fd;
	tx->dst = dst;
	tx->dstlen = dstlen;
	tx->connected = connected;
	tx->dstname = dstname;
	if (dgram_batch_init(&tx->out, DGRAM_TX_BATCH, o->slot ? o->slot : 1, e))
		return -1;
	if (o->replies && dgram_batch_init(&tx->in, DGRAM_TX_REPLIES, DGRAM_BUFSIZE, e))
		return -1;
	return setup_gso(tx, e);
}

void dgram_tx_free(struct dgram_tx *tx)
{
	dgram_batch_free(&tx->out);
	dgram_batch_free(&tx->in);
	dgram_batch_free(&tx->gso_out);
}

static int send_error(struct dgram_tx *tx, int errnum, struct err *e)
{
	tx->err_errno = errnum;
	if (errnum == ECONNREFUSED)
		return err_set(e, EXIT_FAIL, "%s: connection refused (ICMP port unreachable: "
					     "nothing listens there)", tx->dstname);
	if (errnum == EMSGSIZE) {
		int mtu = sock_path_mtu(tx->fd, tx->dst, tx->dstlen);

		if (mtu > 0)
			return err_set(e, EXIT_FAIL, "%s: send: EMSGSIZE: a datagram does not fit "
						     "the path MTU of %d bytes",
				       tx->dstname, mtu);
	}
	if (errnum == EACCES && !tx->o.broadcast)
		return err_sys(e, EXIT_FAIL, errnum, "%s: send (a broadcast needs --broadcast)",
			       tx->dstname);
	if (errnum == EAGAIN || errnum == EWOULDBLOCK)
		return err_set(e, EXIT_FAIL, "%s: send: EAGAIN: the send buffer is full "
					     "(--nonblock) after %llu datagrams",
			       tx->dstname, (unsigned long long)tx->sent);
	return err_sys(e, EXIT_FAIL, errnum, "%s: send", tx->dstname);
}

/* An error the kernel queued from an ICMP message (on a connected socket). */
static int icmp_errno(int errnum)
{
	return errnum == ECONNREFUSED || errnum == EHOSTUNREACH || errnum == ENETUNREACH ||
	       errnum == EHOSTDOWN || errnum == EPROTO;
}

/*
 * An ICMP error that cannot be about the test: it came once every datagram
 * had its reply, or after an end marker went out.
 */
static int icmp_after_test(const struct dgram_tx *tx, int errnum)
{
	if (!icmp_errno(errnum))
		return 0;
	return tx->markers > 0 || (tx->o.replies && tx->sent && tx->replies >= tx->sent);
}

static void peer_left(struct dgram_tx *tx, int errnum)
{
	struct err n = { 0 };

	tx->peer_left = 1;
	send_error(tx, errnum, &n);
	note(tx, DGRAM_TX_PEER_LEFT, n.msg, errnum);
}

/* A GSO send the kernel refused: the errors that mean "not here", not "failed". */
static int gso_refused(int errnum)
{
	return errnum == EINVAL || errnum == EIO || errnum == EOPNOTSUPP ||
	       errnum == ENOPROTOOPT || errnum == EMSGSIZE;
}

/*
 * Slots [@from, @n) as messages: equal-size runs as one message with
 * UDP_SEGMENT, others alone.  The number of messages built.
 */
static unsigned gso_build(struct dgram_tx *tx, unsigned from, unsigned n)
{
	unsigned m = 0, i = from;

	while (i < n) {
		unsigned segs = dgram_gso_run(tx->out.iov + i, n - i);
		struct msghdr *h = &tx->gso_out.msgs[m].msg_hdr;

		memset(h, 0, sizeof(*h));
		h->msg_name = tx->connected ? NULL : (void *)tx->dst;
		h->msg_namelen = tx->connected ? 0 : tx->dstlen;
		h->msg_iov = tx->out.iov + i;
		h->msg_iovlen = segs;
		if (segs > 1)
			dgram_gso_cmsg(h, tx->gso_out.ctrl + (size_t)m * DGRAM_CTRL_SIZE,
				       tx->out.iov[i].iov_len);
		m++;
		i += segs;
	}
	return m;
}

/*
 * Send slots [0, @n) with UDP_SEGMENT.  The slots that went out are counted;
 * if the kernel refuses GSO (a note says why), GSO is off from then on and
 * the caller sends the rest.  Returns the first slot not sent, or -1.
 */
static long send_gso(struct dgram_tx *tx, unsigned n, struct err *e)
{
	unsigned done = 0;

	while (done < n) {
		unsigned m = gso_build(tx, done, n), k;
		int r = sendmmsg(tx->fd, tx->gso_out.msgs, m, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && tx->gso_out.msgs[0].msg_hdr.msg_iovlen > 1 && gso_refused(errno)) {
			char text[ERR_DESC_LEN + 80], why[ERR_DESC_LEN];

			snprintf(text, sizeof(text), "UDP_SEGMENT send refused (%s): sendmmsg, one "
						     "datagram per message, from now on",
				 err_errno_desc(errno, why, sizeof(why)));
			note(tx, DGRAM_TX_NOTE, text, errno);
			tx->gso = 0;
			return done;
		}
		if (r < 0)
			return send_error(tx, errno, e);
		for (k = 0; k < (unsigned)r; k++) {
			const struct msghdr *h = &tx->gso_out.msgs[k].msg_hdr;
			size_t j;

			if (h->msg_iovlen > 1) {
				tx->gso_sends++;
				tx->gso_datagrams += h->msg_iovlen;
			}
			for (j = 0; j < h->msg_iovlen; j++)
				tx->bytes += h->msg_iov[j].iov_len;
			tx->sent += h->msg_iovlen;
			done += (unsigned)h->msg_iovlen;
		}
	}
	return done;
}

int dgram_tx_send(struct dgram_tx *tx, unsigned n, struct err *e)
{
	unsigned done = 0, i;

	for (i = 0; i < n; i++) {
		tx->out.msgs[i].msg_hdr.msg_name = tx->connected ? NULL : (void *)tx->dst;
		tx->out.msgs[i].msg_hdr.msg_namelen = tx->connected ? 0 : tx->dstlen;
	}
	/* before the call: a fast echo can answer before sendmmsg returns */
	tx->last_send = clock_mono_ns();
	if (tx->gso && n > 1) {
		long r = send_gso(tx, n, e);

		if (r < 0)
			return -1;
		done = (unsigned)r;
	}
	while (done < n) {
		int r = sendmmsg(tx->fd, tx->out.msgs + done, n - done, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return send_error(tx, errno, e);
		for (i = done; i < done + (unsigned)r; i++)
			tx->bytes += tx->out.iov[i].iov_len;
		done += (unsigned)r;
		tx->sent += (unsigned)r;
	}
	return 0;
}

static void reply(struct dgram_tx *tx, unsigned i, int64_t real, int64_t mono)
{
	const struct msghdr *h = &tx->in.msgs[i].msg_hdr;
	size_t len = tx->in.msgs[i].msg_len;
	struct dgram_tx_event ev;
	struct dgram_probe p;

	memset(&ev, 0, sizeof(ev));
	ev.type = DGRAM_TX_REPLY;
	ev.from = h->msg_name;
	ev.fromlen = h->msg_namelen;
	ev.data = dgram_slot(&tx->in, i);
	ev.len = len;
	ev.cap = len < tx->in.size ? len : tx->in.size;
	ev.real_ns = real;
	/* a probe carries its send time; other replies answer the latest datagram */
	if (dgram_probe_decode(ev.data, ev.cap, &p)) {
		ev.rtt_ns = dgram_probe_age(p.ts_ns, real);
		/* not a stamp of ours: no round trip (the reply is still shown) */
		if (ev.rtt_ns < 0 || !dgram_probe_age_sane(ev.rtt_ns)) {
			ev.rtt_ns = -1;
			tx->bad_stamps++;
		}
	} else {
		ev.rtt_ns = mono - tx->last_send;
	}
	if (ev.rtt_ns >= 0)
		rtt_add(&tx->rtt, ev.rtt_ns);
	tx->replies++;
	if (tx->o.on_event)
		tx->o.on_event(tx->o.ctx, &ev);
}

int dgram_tx_drain(struct dgram_tx *tx, struct err *e)
{
	for (;;) {
		struct dgram_tx_event ev;
		unsigned i;
		int64_t real, mono;
		int r;

		for (i = 0; i < tx->in.n; i++)
			dgram_batch_reset(&tx->in, i);
		r = recvmmsg(tx->fd, tx->in.msgs, tx->in.n, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0 && icmp_after_test(tx, errno)) {
			peer_left(tx, errno);
			break;
		}
		if (r < 0)
			return send_error(tx, errno, e);
		real = clock_real_ns();
		mono = clock_mono_ns();
		for (i = 0; i < (unsigned)r; i++) {
			struct dgram_probe p;
			size_t len = tx->in.msgs[i].msg_len;

			if (dgram_probe_decode(dgram_slot(&tx->in, i), len, &p) &&
			    (p.flags & DGRAM_PROBE_END))
				continue;
			reply(tx, i, real, mono);
		}
		memset(&ev, 0, sizeof(ev));
		ev.type = DGRAM_TX_BATCH_END;
		if (tx->o.on_event && tx->o.on_event(tx->o.ctx, &ev))
			return -1;
	}
	return 0;
}

int dgram_tx_pause_until(struct dgram_tx *tx, int64_t deadline, int all_back, struct err *e)
{
	struct pollfd p = { .fd = tx->fd, .events = POLLIN };

	while (!stopped(tx)) {
		int ms = clock_ms_until(deadline), r;

		if (all_back && tx->replies >= tx->sent)
			return 0;
		if (ms == 0 && clock_mono_ns() >= deadline)
			return tx->o.replies ? dgram_tx_drain(tx, e) : 0;
		r = poll(&p, tx->o.replies ? 1 : 0, ms);
		if (r < 0 && errno != EINTR)
			return err_sys(e, EXIT_FAIL, errno, "poll");
		if (r > 0 && dgram_tx_drain(tx, e))
			return -1;
	}
	return 0;
}

/* How many datagrams may go now; 0 means wait until *next. */
static uint64_t due_now(const struct dgram_tx *tx, int64_t *next)
{
	int64_t now = clock_mono_ns();
	uint64_t due;

	if (tx->o.interval <= 0)
		return DGRAM_TX_BATCH;
	due = (uint64_t)((now - tx->t0) / tx->o.interval) + 1;
	*next = tx->t0 + (int64_t)(tx->sent + 1) * tx->o.interval;
	if (tx->sent == 0) /* the first one goes at once */
		return 1;
	return due > tx->sent ? due - tx->sent : 0;
}

size_t dgram_tx_probe(struct dgram_tx *tx, unsigned slot, uint64_t k, int64_t real_ns,
		      size_t size)
{
	struct dgram_probe p = { .seq = k, .ts_ns = (uint64_t)real_ns, .total = tx->o.limit };

	tx->out.iov[slot].iov_base = dgram_slot(&tx->out, slot);
	dgram_probe_encode(tx->out.iov[slot].iov_base, size, &p);
	return size;
}

int dgram_tx_generate(struct dgram_tx *tx, dgram_tx_fill_fn fill, void *ctx, struct err *e)
{
	uint64_t limit = tx->o.limit;

	tx->t0 = clock_mono_ns();
	while (!stopped(tx) && (!limit || tx->sent < limit)) {
		int64_t next = 0, real = clock_real_ns();
		uint64_t n = due_now(tx, &next), k;
		unsigned i;

		if (!n) {
			if (dgram_tx_pause_until(tx, next, 0, e))
				return -1;
			continue;
		}
		if (n > DGRAM_TX_BATCH)
			n = DGRAM_TX_BATCH;
		if (limit && n > limit - tx->sent)
			n = limit - tx->sent;
		for (i = 0, k = tx->sent; i < n; i++, k++)
			tx->out.iov[i].iov_len = fill(ctx, tx, i, k, real);
		if (dgram_tx_send(tx, (unsigned)n, e))
			return -1;
		if (tx->o.replies && dgram_tx_drain(tx, e))
			return -1;
	}
	return 0;
}

/*
 * Queue @len bytes as the next datagram in slot *@n; the batch goes when it
 * is full, or at once when paced.
 */
static int queue(struct dgram_tx *tx, unsigned *n, const char *data, size_t len, size_t maxlen,
		 struct err *e)
{
	if (len > maxlen)
		return err_set(e, EXIT_FAIL, "stdin datagram %llu is %zu bytes: more than UDP "
					     "carries over %s (%zu); nothing of it was sent",
			       (unsigned long long)(tx->sent + *n + 1), len,
			       tx->dst->sa_family == AF_INET6 ? "IPv6" : "IPv4", maxlen);
	if (!tx->t0)
		tx->t0 = clock_mono_ns();
	memcpy(dgram_slot(&tx->out, *n), data, len);
	tx->out.iov[*n].iov_base = dgram_slot(&tx->out, *n);
	tx->out.iov[*n].iov_len = len;
	++*n;
	if (*n == tx->out.n || tx->o.interval > 0) {
		if (tx->o.interval > 0 && tx->sent &&
		    dgram_tx_pause_until(tx, tx->t0 + (int64_t)tx->sent * tx->o.interval, 0, e))
			return -1;
		if (dgram_tx_send(tx, *n, e))
			return -1;
		*n = 0;
	}
	return 0;
}

int dgram_tx_end(struct dgram_tx *tx, struct err *e)
{
	struct dgram_probe p = { .seq = tx->sent, .total = tx->sent, .flags = DGRAM_PROBE_END };
	uint64_t sent = tx->sent, bytes = tx->bytes;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(end_gaps_ms) / sizeof(end_gaps_ms[0]) && !tx->peer_left; i++) {
		if (dgram_tx_pause_until(tx, clock_mono_ns() + end_gaps_ms[i] * NS_PER_MS, 0, e))
			return -1;
		if (tx->peer_left)
			break;
		p.ts_ns = (uint64_t)clock_real_ns();
		tx->out.iov[0].iov_base = dgram_slot(&tx->out, 0);
		tx->out.iov[0].iov_len = DGRAM_PROBE_HDR;
		dgram_probe_encode(tx->out.iov[0].iov_base, DGRAM_PROBE_HDR, &p);
		tx->err_errno = 0;
		rc = dgram_tx_send(tx, 1, e);
		/* markers are not datagrams of the test */
		tx->sent = sent;
		tx->bytes = bytes;
		if (rc && icmp_after_test(tx, tx->err_errno)) {
			peer_left(tx, tx->err_errno);
			return 0;
		}
		if (rc)
			return -1;
		tx->markers++;
	}
	return 0;
}

/* Room for @n more datagrams under opts.limit? */
static int below_limit(const struct dgram_tx *tx, unsigned n)
{
	return !tx->o.limit || tx->sent + n < tx->o.limit;
}

int dgram_tx_split(struct dgram_tx *tx, char *buf, size_t *have, int eof, size_t chunk,
		   size_t maxlen, struct err *e)
{
	size_t start = 0, i;
	unsigned n = 0;

	if (chunk) {
		while (start < *have && below_limit(tx, n)) {
			size_t len = *have - start < chunk ? *have - start : chunk;

			if (len < chunk && !eof)
				break;
			if (queue(tx, &n, buf + start, len, maxlen, e))
				return -1;
			start += len;
		}
	} else {
		for (i = 0; i < *have && below_limit(tx, n); i++) {
			if (buf[i] != '\n')
				continue;
			if (queue(tx, &n, buf + start, i - start, maxlen, e))
				return -1;
			start = i + 1;
		}
		if (eof && start < *have && below_limit(tx, n)) {
			if (queue(tx, &n, buf + start, *have - start, maxlen, e))
				return -1;
			start = *have;
		}
		/* a line longer than any datagram: the error, before more is read */
		if (!eof && start == 0 && *have > maxlen)
			return queue(tx, &n, buf, *have, maxlen, e);
	}
	if (n && dgram_tx_send(tx, n, e))
		return -1;
	memmove(buf, buf + start, *have - start);
	*have -= start;
	return 0;
}
