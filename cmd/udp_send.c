/* SPDX-License-Identifier: MIT */
/*
 * sockctl udp-send: datagrams from arguments, stdin or generated probes;
 * sendmmsg batches, and UDP GSO where the kernel has it: a run of equal-size
 * datagrams goes to the kernel as one message with UDP_SEGMENT and leaves as
 * separate datagrams, exactly as if sent one by one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "cmd.h"
#include "dgram.h"
#include "err.h"
#include "opt.h"
#include "out.h"
#include "parse.h"
#include "sock.h"

#define SEND_BATCH 64
#define RAW_DEFAULT 1472 /* an Ethernet frame's UDP payload over IPv4: no fragments */
/* End markers go out three times, these many ms apart, so one loss does not hide the count. */
static const int end_gaps_ms[] = { 0, 20, 100 };

enum send_mode { MODE_ARGS, MODE_PROBES, MODE_LINES, MODE_RAW };

struct send_opts {
	int family, verbose, json, nonblock, quiet, raw, no_gso, numeric;
	long long count, rate, mcast_ttl;
	int mcast_loop;
	int64_t interval, wait;
	unsigned long long size;
	const char *mcast_if;
	struct sockopts so;
};

struct send_ctx {
	const struct send_opts *o;
	enum send_mode mode;
	int fd, connected;
	struct sockaddr_storage dst;
	socklen_t dstlen;
	char dstname[ADDR_STRLEN];
	size_t maxlen;          /* the largest datagram the family carries */
	struct dgram_batch out; /* datagrams to send */
	struct dgram_batch in;  /* replies */
	int gso;                /* UDP_SEGMENT: equal-size runs as one message */
	struct dgram_batch gso_out; /* the messages of one GSO batch (iov: unused) */
	uint64_t gso_sends, gso_datagrams;
	uint64_t sent, bytes, replies, limit;
	int64_t t0, interval, last_send;
	struct dgram_rtt rtt;
	int out_failed; /* stdout failed: nothing more goes there */
};

static volatile sig_atomic_t send_signal;

static void on_signal(int sig)
{
	send_signal = sig;
}

static const char *const onoff[] = { "off", "on", NULL };

const struct opt_cmd cmd_udp_send_desc = {
	.name = "udp-send",
	.args = "HOST PORT [MESSAGE...]",
	.summary = "send datagrams (args, stdin, probes); wait for replies",
	.details = "Each MESSAGE is one datagram.  Without messages, each stdin line is one\n"
		   "datagram (--raw: stdin bytes in datagrams of at most --size bytes), or with\n"
		   "--size, -c probes carry a sequence number and a send timestamp, followed by\n"
		   "an end marker with the exact count, for 'udp-recv --stats'.\n"
		   "HOST '<broadcast>' is 255.255.255.255 (implies --broadcast).",
	.min_args = 1,
	.max_args = -1,
};

static int check_opts(const struct send_opts *o, int nmsg, struct err *e)
{
	if (o->raw && nmsg)
		return err_set(e, EXIT_USAGE, "--raw reads stdin: it cannot be used with MESSAGE "
					      "arguments");
	if (o->size && nmsg)
		return err_set(e, EXIT_USAGE, "--size makes probes or --raw chunks: it cannot be "
					      "used with MESSAGE arguments");
	if (o->size && !o->raw && o->size < DGRAM_PROBE_HDR)
		return err_set(e, EXIT_USAGE, "--size: a probe needs at least %d bytes",
			       DGRAM_PROBE_HDR);
	if (o->interval >= 0 && o->rate >= 0)
		return err_set(e, EXIT_USAGE, "-i/--interval conflicts with --rate: use one");
	return 0;
}

/* HOST:PORT, [V6]:PORT and unix:PATH are one argument; HOST PORT are two. */
static int endpoint_args(int argc, char **argv)
{
	const char *a = argv[0], *colon = strchr(a, ':');

	if (argc < 2)
		return argc;
	if (a[0] == '[')
		return strstr(a, "]:") ? 1 : 2;
	return colon && colon == strrchr(a, ':') ? 1 : 2;
}

static enum send_mode pick_mode(const struct send_opts *o, int nmsg)
{
	if (nmsg)
		return MODE_ARGS;
	if (o->raw)
		return MODE_RAW;
	return o->size ? MODE_PROBES : MODE_LINES;
}

static int resolve_dst(struct send_ctx *c, const struct endpoint *ep, struct err *e)
{
	const char *host = strcmp(ep->host, "<broadcast>") ? ep->host : "255.255.255.255";
	struct addrinfo hints, *res;
	int family = c->o->family;

	if (!family && c->o->so.source)
		family = addr_numeric_family(c->o->so.source);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	if (sock_getaddrinfo(*host ? host : NULL, ep->service, &hints, &res, e))
		return -1;
	memcpy(&c->dst, res->ai_addr, res->ai_addrlen);
	c->dstlen = res->ai_addrlen;
	freeaddrinfo(res);
	addr_format((struct sockaddr *)&c->dst, c->dstlen, c->dstname, sizeof(c->dstname));
	c->maxlen = c->dst.ss_family == AF_INET6 ? DGRAM_MAX_V6 : DGRAM_MAX_V4;
	return 0;
}

static int dst_is_group_or_bcast(const struct send_ctx *c)
{
	if (c->dst.ss_family == AF_INET) {
		uint32_t a = ntohl(((struct sockaddr_in *)&c->dst)->sin_addr.s_addr);

		return IN_MULTICAST(a) || a == INADDR_BROADCAST || c->o->so.broadcast > 0;
	}
	return IN6_IS_ADDR_MULTICAST(&((struct sockaddr_in6 *)&c->dst)->sin6_addr);
}

/*
 * UDP GSO for unpaced unicast only.  Paced sends (-i, --rate N) keep one
 * datagram per message: the timing and what a packet filter or qdisc on the
 * way (veth, lo) sees stay exactly per datagram; a GSO train crosses those as
 * one packet.  Broadcast and multicast (unconnected) keep to sendmmsg.  A
 * kernel without UDP_SEGMENT means plain sendmmsg, silently unless -v.
 */
static int setup_gso(struct send_ctx *c, struct err *e)
{
	struct err ge = { 0 };
	const char *why = NULL;

	if (c->o->no_gso)
		why = "--no-gso";
	else if (c->interval > 0)
		why = "paced (-i/--rate)";
	else if (!c->connected)
		why = "broadcast/multicast destination";
	else if (dgram_gso_enable(c->fd, &ge))
		why = ge.msg;
	if (why) {
		if (c->o->verbose)
			err_msg("udp-send", "%s: sendmmsg, one datagram per message", why);
		return 0;
	}
	if (dgram_batch_init(&c->gso_out, SEND_BATCH, 1, e) || dgram_batch_ctrl(&c->gso_out, e))
		return -1;
	c->gso = 1;
	if (c->o->verbose)
		err_msg("udp-send", "UDP_SEGMENT (GSO): runs of up to %d equal-size datagrams "
				    "per message, sendmmsg",
			DGRAM_GSO_MAX_SEGS);
	return 0;
}

static int open_sock(struct send_ctx *c, struct err *e)
{
	const struct send_opts *o = c->o;
	int fam = c->dst.ss_family;

	c->fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC | (o->nonblock ? SOCK_NONBLOCK : 0), 0);
	if (c->fd < 0)
		return err_sys(e, EXIT_FAIL, errno, "socket(%s, dgram)", addr_family_name(fam));
	if (sock_apply_opts(c->fd, fam, SOCK_DGRAM, &o->so, e))
		return -1;
	if (o->mcast_if && dgram_mcast_if(c->fd, fam, o->mcast_if, e))
		return -1;
	if (o->mcast_ttl >= 0 && dgram_mcast_ttl(c->fd, fam, (int)o->mcast_ttl, e))
		return -1;
	if (o->mcast_loop >= 0 && dgram_mcast_loop(c->fd, fam, o->mcast_loop, e))
		return -1;
	if (sock_bind_source(c->fd, fam, SOCK_DGRAM, &o->so, e))
		return -1;
	/*
	 * A connected socket is faster (no route lookup per datagram) and hears
	 * ICMP port unreachable; replies to broadcast and multicast come from
	 * other addresses, so those stay unconnected.
	 */
	if (sock_flowlabel(c->fd, &o->so, (struct sockaddr *)&c->dst, e))
		return -1;
	if (!dst_is_group_or_bcast(c)) {
		if (connect(c->fd, (struct sockaddr *)&c->dst, c->dstlen))
			return err_sys(e, EXIT_FAIL, errno, "%s: connect%s", c->dstname,
				       errno == EACCES ? " (a broadcast address needs --broadcast)"
						       : "");
		c->connected = 1;
	}
	if (setup_gso(c, e))
		return -1;
	if (o->verbose) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char where[ADDR_STRLEN];

		getsockname(c->fd, (struct sockaddr *)&ss, &len);
		err_msg("udp-send", "%s %s from %s", c->connected ? "connected to" : "sending to",
			c->dstname, addr_format((struct sockaddr *)&ss, len, where, sizeof(where)));
	}
	return 0;
}

static int send_error(const struct send_ctx *c, int errnum, struct err *e)
{
	if (errnum == ECONNREFUSED)
		return err_set(e, EXIT_FAIL, "%s: connection refused (ICMP port unreachable: "
					     "nothing listens there)", c->dstname);
	if (errnum == EMSGSIZE) {
		int mtu = sock_path_mtu(c->fd, (struct sockaddr *)&c->dst, c->dstlen);

		if (mtu > 0)
			return err_set(e, EXIT_FAIL, "%s: send: EMSGSIZE: a datagram does not fit "
						     "the path MTU of %d bytes",
				       c->dstname, mtu);
	}
	if (errnum == EACCES && c->o->so.broadcast <= 0)
		return err_sys(e, EXIT_FAIL, errnum, "%s: send (a broadcast needs --broadcast)",
			       c->dstname);
	if (errnum == EAGAIN || errnum == EWOULDBLOCK)
		return err_set(e, EXIT_FAIL, "%s: send: EAGAIN: the send buffer is full "
					     "(--nonblock) after %llu datagrams",
			       c->dstname, (unsigned long long)c->sent);
	return err_sys(e, EXIT_FAIL, errnum, "%s: send", c->dstname);
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
static unsigned gso_build(struct send_ctx *c, unsigned from, unsigned n)
{
	unsigned m = 0, i = from;

	while (i < n) {
		unsigned segs = dgram_gso_run(c->out.iov + i, n - i);
		struct msghdr *h = &c->gso_out.msgs[m].msg_hdr;

		memset(h, 0, sizeof(*h));
		h->msg_name = c->connected ? NULL : &c->dst;
		h->msg_namelen = c->connected ? 0 : c->dstlen;
		h->msg_iov = c->out.iov + i;
		h->msg_iovlen = segs;
		if (segs > 1)
			dgram_gso_cmsg(h, c->gso_out.ctrl + (size_t)m * DGRAM_CTRL_SIZE,
				       c->out.iov[i].iov_len);
		m++;
		i += segs;
	}
	return m;
}

/*
 * Send slots [0, @n) with UDP_SEGMENT.  The slots that went out are counted;
 * if the kernel refuses GSO (-v says why), GSO is off from then on and the
 * caller sends the rest.  Returns the first slot not sent, or -1 on error.
 */
static long send_gso(struct send_ctx *c, unsigned n, struct err *e)
{
	unsigned done = 0;

	while (done < n) {
		unsigned m = gso_build(c, done, n), k;
		int r = sendmmsg(c->fd, c->gso_out.msgs, m, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && c->gso_out.msgs[0].msg_hdr.msg_iovlen > 1 && gso_refused(errno)) {
			if (c->o->verbose) {
				char why[ERR_DESC_LEN];

				err_msg("udp-send", "UDP_SEGMENT send refused (%s): sendmmsg, one "
						    "datagram per message, from now on",
					err_errno_desc(errno, why, sizeof(why)));
			}
			c->gso = 0;
			return done;
		}
		if (r < 0)
			return send_error(c, errno, e);
		for (k = 0; k < (unsigned)r; k++) {
			const struct msghdr *h = &c->gso_out.msgs[k].msg_hdr;
			size_t j;

			if (h->msg_iovlen > 1) {
				c->gso_sends++;
				c->gso_datagrams += h->msg_iovlen;
			}
			for (j = 0; j < h->msg_iovlen; j++)
				c->bytes += h->msg_iov[j].iov_len;
			c->sent += h->msg_iovlen;
			done += (unsigned)h->msg_iovlen;
		}
	}
	return done;
}

/* Send the first @n slots of the out batch (lengths already in iov_len). */
static int send_slots(struct send_ctx *c, unsigned n, struct err *e)
{
	unsigned done = 0, i;

	for (i = 0; i < n; i++) {
		c->out.msgs[i].msg_hdr.msg_name = c->connected ? NULL : &c->dst;
		c->out.msgs[i].msg_hdr.msg_namelen = c->connected ? 0 : c->dstlen;
	}
	/* before the call: a fast echo can answer before sendmmsg returns */
	c->last_send = clock_mono_ns();
	if (c->gso && n > 1) {
		long r = send_gso(c, n, e);

		if (r < 0)
			return -1;
		done = (unsigned)r;
	}
	while (done < n) {
		int r = sendmmsg(c->fd, c->out.msgs + done, n - done, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return send_error(c, errno, e);
		for (i = done; i < done + (unsigned)r; i++)
			c->bytes += c->out.iov[i].iov_len;
		done += (unsigned)r;
		c->sent += (unsigned)r;
	}
	return 0;
}

static void show_reply(struct send_ctx *c, unsigned i, int64_t real, int64_t mono)
{
	const struct msghdr *h = &c->in.msgs[i].msg_hdr;
	size_t len = c->in.msgs[i].msg_len;
	struct dgram_shown d;
	struct dgram_probe p;

	d.from = h->msg_name;
	d.fromlen = h->msg_namelen;
	d.data = dgram_slot(&c->in, i);
	d.len = len;
	d.caplen = len < c->in.size ? len : c->in.size;
	d.real_ns = real;
	/* a probe carries its send time; other replies answer the latest datagram */
	if (dgram_probe_decode(d.data, d.caplen, &p))
		d.rtt_ns = real - (int64_t)p.ts_ns;
	else
		d.rtt_ns = mono - c->last_send;
	dgram_rtt_add(&c->rtt, d.rtt_ns);
	c->replies++;
	dgram_show(stdout, c->o->json ? DGRAM_JSON : DGRAM_TEXT, &d);
}

/* Read every queued reply; -1 on error (ICMP errors included). */
static int drain_replies(struct send_ctx *c, struct err *e)
{
	for (;;) {
		unsigned i;
		int64_t real, mono;
		int r;

		for (i = 0; i < c->in.n; i++)
			dgram_batch_reset(&c->in, i);
		r = recvmmsg(c->fd, c->in.msgs, c->in.n, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0)
			return send_error(c, errno, e);
		real = clock_real_ns();
		mono = clock_mono_ns();
		for (i = 0; i < (unsigned)r; i++) {
			struct dgram_probe p;
			size_t len = c->in.msgs[i].msg_len;

			if (dgram_probe_decode(dgram_slot(&c->in, i), len, &p) &&
			    (p.flags & DGRAM_PROBE_END))
				continue;
			show_reply(c, i, real, mono);
		}
		if (cmd_stdout_flush(e)) {
			c->out_failed = 1;
			return -1;
		}
	}
	return 0;
}

/*
 * Until @deadline (monotonic), read replies when waiting for them, else just
 * sleep.  With @all_back, stop early once every datagram has its reply.
 */
static int pause_until(struct send_ctx *c, int64_t deadline, int all_back, struct err *e)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	int waiting = c->o->wait >= 0;

	while (!send_signal) {
		int ms = clock_ms_until(deadline), r;

		if (all_back && c->replies >= c->sent)
			return 0;
		if (ms == 0 && clock_mono_ns() >= deadline)
			return waiting ? drain_replies(c, e) : 0;
		r = poll(&p, waiting ? 1 : 0, ms);
		if (r < 0 && errno != EINTR)
			return err_sys(e, EXIT_FAIL, errno, "poll");
		if (r > 0 && drain_replies(c, e))
			return -1;
	}
	return 0;
}

/* How many datagrams may go now; 0 means wait until *next. */
static uint64_t due_now(const struct send_ctx *c, int64_t *next)
{
	int64_t now = clock_mono_ns();
	uint64_t due;

	if (c->interval <= 0)
		return SEND_BATCH;
	due = (uint64_t)((now - c->t0) / c->interval) + 1;
	*next = c->t0 + (int64_t)(c->sent + 1) * c->interval;
	if (c->sent == 0) /* the first one goes at once */
		return 1;
	return due > c->sent ? due - c->sent : 0;
}

/* Fill slot @i with datagram number @k (args or probes); its length. */
static size_t fill(struct send_ctx *c, unsigned i, uint64_t k, char **msgs, int nmsg,
		   int64_t real)
{
	struct dgram_probe p;
	size_t len;

	if (c->mode == MODE_ARGS) {
		if (nmsg <= 0) /* MODE_ARGS always has messages; keep the modulo safe */
			return 0;
		len = strlen(msgs[k % (uint64_t)nmsg]);
		c->out.iov[i].iov_base = msgs[k % (uint64_t)nmsg];
		return len;
	}
	p.seq = k;
	p.ts_ns = (uint64_t)real;
	p.total = c->limit;
	p.flags = 0;
	c->out.iov[i].iov_base = dgram_slot(&c->out, i);
	dgram_probe_encode(c->out.iov[i].iov_base, (size_t)c->o->size, &p);
	return (size_t)c->o->size;
}

/* Messages and probes: paced or as fast as sendmmsg goes. */
static int send_generated(struct send_ctx *c, char **msgs, int nmsg, struct err *e)
{
	int waiting = c->o->wait >= 0;

	c->t0 = clock_mono_ns();
	while (!send_signal && (!c->limit || c->sent < c->limit)) {
		int64_t next = 0, real = clock_real_ns();
		uint64_t n = due_now(c, &next), k;
		unsigned i;

		if (!n) {
			if (pause_until(c, next, 0, e))
				return -1;
			continue;
		}
		if (n > SEND_BATCH)
			n = SEND_BATCH;
		if (c->limit && n > c->limit - c->sent)
			n = c->limit - c->sent;
		for (i = 0, k = c->sent; i < n; i++, k++)
			c->out.iov[i].iov_len = fill(c, i, k, msgs, nmsg, real);
		if (send_slots(c, (unsigned)n, e))
			return -1;
		if (waiting && drain_replies(c, e))
			return -1;
	}
	return 0;
}

/* The end marker with the exact count, three times (see end_gaps_ms). */
static int send_end(struct send_ctx *c, struct err *e)
{
	struct dgram_probe p = { .seq = c->sent, .total = c->sent, .flags = DGRAM_PROBE_END };
	uint64_t sent = c->sent, bytes = c->bytes;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(end_gaps_ms) / sizeof(end_gaps_ms[0]); i++) {
		if (pause_until(c, clock_mono_ns() + end_gaps_ms[i] * NS_PER_MS, 0, e))
			return -1;
		p.ts_ns = (uint64_t)clock_real_ns();
		c->out.iov[0].iov_base = dgram_slot(&c->out, 0);
		c->out.iov[0].iov_len = DGRAM_PROBE_HDR;
		dgram_probe_encode(c->out.iov[0].iov_base, DGRAM_PROBE_HDR, &p);
		rc = send_slots(c, 1, e);
		/* markers are not datagrams of the test */
		c->sent = sent;
		c->bytes = bytes;
		/* a receiver that left after the first marker (--until-end) is no failure */
		if (rc && (i == 0 || !strstr(e->msg, "connection refused")))
			return -1;
		if (rc)
			return 0;
	}
	return 0;
}

/* Queue @len bytes at @data as the next stdin datagram; flush the batch when full. */
static int queue_datagram(struct send_ctx *c, unsigned *n, const char *data, size_t len,
			  struct err *e)
{
	if (len > c->maxlen)
		return err_set(e, EXIT_FAIL, "stdin datagram %llu is %zu bytes: more than UDP "
					     "carries over %s (%zu); nothing of it was sent",
			       (unsigned long long)(c->sent + *n + 1), len,
			       c->dst.ss_family == AF_INET6 ? "IPv6" : "IPv4", c->maxlen);
	memcpy(dgram_slot(&c->out, *n), data, len);
	c->out.iov[*n].iov_base = dgram_slot(&c->out, *n);
	c->out.iov[*n].iov_len = len;
	++*n;
	if (*n == c->out.n || c->interval > 0) {
		if (c->interval > 0 && c->sent &&
		    pause_until(c, c->t0 + (int64_t)c->sent * c->interval, 0, e))
			return -1;
		if (send_slots(c, *n, e))
			return -1;
		*n = 0;
	}
	return 0;
}

/* Split what stdin gave into datagrams; keeps an unfinished line in @buf. */
static int split_stdin(struct send_ctx *c, char *buf, size_t *have, int eof, struct err *e)
{
	size_t start = 0, i;
	unsigned n = 0;

	if (c->mode == MODE_RAW) {
		while (start < *have && (!c->limit || c->sent + n < c->limit)) {
			size_t len = *have - start < c->o->size ? *have - start : c->o->size;

			if (len < c->o->size && !eof)
				break;
			if (queue_datagram(c, &n, buf + start, len, e))
				return -1;
			start += len;
		}
	} else {
		for (i = 0; i < *have && (!c->limit || c->sent + n < c->limit); i++) {
			if (buf[i] != '\n')
				continue;
			if (queue_datagram(c, &n, buf + start, i - start, e))
				return -1;
			start = i + 1;
		}
		if (eof && start < *have && (!c->limit || c->sent + n < c->limit)) {
			if (queue_datagram(c, &n, buf + start, *have - start, e))
				return -1;
			start = *have;
		}
		if (!eof && start == 0 && *have > c->maxlen)
			return queue_datagram(c, &n, buf, *have, e);
	}
	if (n && send_slots(c, n, e))
		return -1;
	memmove(buf, buf + start, *have - start);
	*have -= start;
	return 0;
}

static int send_stdin(struct send_ctx *c, struct err *e)
{
	size_t cap = (size_t)DGRAM_MAX_V6 * 2 + 2, have = 0;
	char *buf = malloc(cap);
	struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = c->fd, .events = POLLIN } };
	int eof = 0, rc = 0;

	if (!buf)
		return err_set(e, EXIT_FAIL, "out of memory");
	c->t0 = clock_mono_ns();
	while (!eof && !send_signal && (!c->limit || c->sent < c->limit)) {
		ssize_t r;

		if (poll(p, c->o->wait >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = err_sys(e, EXIT_FAIL, errno, "poll");
			break;
		}
		if ((p[1].revents & (POLLIN | POLLERR)) && (rc = drain_replies(c, e)))
			break;
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = read(0, buf + have, cap - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = err_sys(e, EXIT_FAIL, errno, "read stdin");
			break;
		}
		eof = r == 0;
		have += (size_t)r;
		if ((rc = split_stdin(c, buf, &have, eof, e)))
			break;
	}
	free(buf);
	return rc;
}

static void summary(const struct send_ctx *c)
{
	const struct send_opts *o = c->o;
	char host[ADDR_STRLEN];

	if (o->json) {
		struct jsonw w;

		json_begin(&w, stdout);
		json_str(&w, "type", "summary");
		json_str(&w, "to", addr_ntop((struct sockaddr *)&c->dst, c->dstlen, host,
					     sizeof(host)));
		json_uint(&w, "port", addr_port((struct sockaddr *)&c->dst));
		json_uint(&w, "sent", c->sent);
		json_uint(&w, "bytes", c->bytes);
		if (o->wait >= 0)
			json_uint(&w, "replies", c->replies);
		if (c->rtt.n) {
			json_num(&w, "rtt_min_ms", (double)c->rtt.min / 1e6, 3);
			json_num(&w, "rtt_avg_ms", c->rtt.sum / (double)c->rtt.n / 1e6, 3);
			json_num(&w, "rtt_max_ms", (double)c->rtt.max / 1e6, 3);
		}
		json_end(&w);
		return;
	}
	if (o->quiet)
		return;
	fflush(stdout);
	fprintf(stderr, "sockctl udp-send: %llu datagram%s, %llu bytes sent to %s",
		(unsigned long long)c->sent, c->sent == 1 ? "" : "s", (unsigned long long)c->bytes,
		c->dstname);
	if (o->wait >= 0)
		fprintf(stderr, "; %llu repl%s", (unsigned long long)c->replies,
			c->replies == 1 ? "y" : "ies");
	if (c->rtt.n)
		fprintf(stderr, ", rtt min/avg/max %.3f/%.3f/%.3f ms", (double)c->rtt.min / 1e6,
			c->rtt.sum / (double)c->rtt.n / 1e6, (double)c->rtt.max / 1e6);
	fputc('\n', stderr);
}

/* Everything about the input that can be checked before a socket opens. */
static int check_sizes(struct send_ctx *c, char **msgs, int nmsg, struct err *e)
{
	int i;

	for (i = 0; i < nmsg; i++)
		if (strlen(msgs[i]) > c->maxlen)
			return err_set(e, EXIT_USAGE,
				       "MESSAGE %d is %zu bytes: UDP over %s carries at most %zu",
				       i + 1, strlen(msgs[i]),
				       c->dst.ss_family == AF_INET6 ? "IPv6" : "IPv4", c->maxlen);
	if (c->o->size > c->maxlen)
		return err_set(e, EXIT_USAGE, "--size: %llu bytes: UDP over %s carries at most %zu",
			       c->o->size, c->dst.ss_family == AF_INET6 ? "IPv6" : "IPv4",
			       c->maxlen);
	return 0;
}

static int run(struct send_ctx *c, const struct endpoint *ep, char **msgs, int nmsg,
	       struct err *e)
{
	const struct send_opts *o = c->o;
	size_t slot;

	if (resolve_dst(c, ep, e) || check_sizes(c, msgs, nmsg, e))
		return -1;
	slot = c->mode == MODE_PROBES || c->mode == MODE_RAW ? (size_t)o->size
	       : c->mode == MODE_LINES			      ? c->maxlen
							      : 1;
	if (dgram_batch_init(&c->out, SEND_BATCH, slot, e))
		return -1;
	if (o->wait >= 0 && dgram_batch_init(&c->in, 16, DGRAM_BUFSIZE, e))
		return -1;
	if (open_sock(c, e))
		return -1;
	if (c->mode == MODE_ARGS || c->mode == MODE_PROBES) {
		if (send_generated(c, msgs, nmsg, e))
			return -1;
	} else if (send_stdin(c, e)) {
		return -1;
	}
	if (c->mode == MODE_PROBES && !send_signal && send_end(c, e))
		return -1;
	if (o->wait >= 0 && !send_signal &&
	    pause_until(c, clock_mono_ns() + o->wait, 1, e))
		return -1;
	return 0;
}

int cmd_udp_send(int argc, char **argv)
{
	struct send_opts o = { .count = -1, .rate = -1, .mcast_ttl = -1, .mcast_loop = -1,
			       .interval = -1, .wait = -1 };
	struct opt opts[] = {
		OPT_IPV4(&o.family),
		OPT_IPV6(&o.family),
		OPT_NUMERIC_HOST('n', &o.numeric),
		OPT_INT('c', "count", &o.count, "N", 0, INT64_MAX,
			"send N datagrams (MESSAGEs: N rounds; 0: until interrupted)"),
		OPT_INTERVAL(&o.interval),
		OPT_INT(0, "rate", &o.rate, "PPS", 0, 1000000000,
			"datagrams per second (0: as fast as possible, the default)"),
		OPT_SIZE(0, "size", &o.size, DGRAM_MAX_V6,
			 "send probes of BYTES (>= 32); with --raw: stdin chunk size "
			 "(default 1472)"),
		OPT_FLAG(0, "raw", &o.raw, "stdin bytes, not lines, in datagrams of --size"),
		OPT_DURATION('W', "wait", &o.wait,
			     "after sending, wait up to DUR for replies (status 1 if none)"),
		OPT_INT(0, "mcast-ttl", &o.mcast_ttl, "N", 0, 255,
			"IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS"),
		OPT_STRING(0, "mcast-if", &o.mcast_if, "IFACE",
			   "send multicast out of IFACE (name, or IPv4 address)"),
		OPT_CHOICE(0, "mcast-loop", &o.mcast_loop, "on|off", onoff,
			   "IP_MULTICAST_LOOP: hear our own multicast"),
		OPT_FLAG(0, "no-gso", &o.no_gso,
			 "no UDP GSO (UDP_SEGMENT): one datagram per message to the kernel"),
		OPT_SOCKOPTS(&o.so, SOCKOPT_UDP | SOCKOPT_CLIENT),
		OPT_GROUP("Output"),
		OPT_FLAG('q', "quiet", &o.quiet, "no summary on stderr"),
		OPT_NONBLOCK(&o.nonblock),
		OPT_JSON(&o.json),
		OPT_VERBOSE(&o.verbose),
		OPT_END,
	};
	struct opt_args pos;
	int status;
	struct endpoint ep;
	struct err e = { 0 };
	struct send_ctx c;
	struct sigaction sa;
	int nargs, nmsg, rc;

	sock_opts_init(&o.so);
	if (opt_run(&cmd_udp_send_desc, opts, argc, argv, &pos, &status))
		return status;
	if (o.so.flowlabel >= 0 && !o.family)
		o.family = AF_INET6; /* a flow label is IPv6's */
	nargs = endpoint_args(pos.argc, pos.argv);
	nmsg = pos.argc - nargs;
	if (check_opts(&o, nmsg, &e) ||
	    addr_parse_endpoint(nargs, pos.argv, 0, "udp", &ep, &e))
		return err_report("udp-send", &e);
	if (ep.kind != EP_INET) {
		err_set(&e, EXIT_USAGE, "%s: unix sockets are not supported (use connect -U)",
			ep.path);
		return err_report("udp-send", &e);
	}
	if (strcmp(ep.host, "<broadcast>") != 0 &&
	    (addr_check_host(ep.host, &e) ||
	     (o.numeric && addr_check_numeric(ep.host, &e))))
		return err_report("udp-send", &e);
	if (o.numeric && o.so.source && addr_check_numeric(o.so.source, &e))
		return err_report("udp-send", &e);
	if (!strcmp(ep.host, "<broadcast>"))
		o.so.broadcast = 1;
	if (sock_check_opts(&o.so, o.family, SOCK_DGRAM, &e))
		return err_report("udp-send", &e);
	memset(&c, 0, sizeof(c));
	c.o = &o;
	c.fd = -1;
	c.mode = pick_mode(&o, nmsg);
	if (c.mode == MODE_RAW && !o.size)
		o.size = RAW_DEFAULT;
	c.limit = o.count >= 0 ? (uint64_t)o.count
		  : c.mode == MODE_ARGS || c.mode == MODE_PROBES ? 1 : 0;
	if (c.mode == MODE_ARGS)
		c.limit *= (uint64_t)nmsg;
	c.interval = o.interval >= 0 ? o.interval : o.rate > 0 ? NS_PER_SEC / o.rate : 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = run(&c, &ep, pos.argv + nargs, nmsg, &e);
	if ((!rc || c.sent) && !(o.json && c.out_failed))
		summary(&c);
	if (c.fd >= 0)
		close(c.fd);
	if (o.verbose && c.gso_sends)
		err_msg("udp-send", "UDP_SEGMENT: %llu datagrams in %llu GSO messages, %llu one "
				    "by one",
			(unsigned long long)c.gso_datagrams, (unsigned long long)c.gso_sends,
			(unsigned long long)(c.sent - c.gso_datagrams));
	dgram_batch_free(&c.out);
	dgram_batch_free(&c.in);
	dgram_batch_free(&c.gso_out);
	if (rc)
		return err_report("udp-send", &e);
	if (o.wait >= 0 && !c.replies) {
		char d[32];

		err_set(&e, EXIT_FAIL, "%s: no reply within %s", c.dstname,
			parse_format_duration(o.wait, d, sizeof(d)));
		return err_report("udp-send", &e);
	}
	return EXIT_OK;
}
